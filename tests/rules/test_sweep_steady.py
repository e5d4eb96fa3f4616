"""The sweep at scale (issue 9): a pass over data where nothing changed reads only what is
owed, so its query count does not grow with the number of clocks or cases; it stays
idempotent; a transition makes the sweep look at that case's warning rules again."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import id_number, register_in, sh
from xinfang.cases.models import Alert, Case, Clock, SweepMark
from xinfang.cases.services import PetitionerInput, perform
from xinfang.cases.services.supervision import sweep

pytestmark = pytest.mark.django_db


def _register(j, n: int, start: int = 0) -> list[Case]:
    """``n`` first petitions from different people, so no repeat links them."""
    return [
        register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                    petitioners=[PetitionerInput(name=f"信访人{i}", id_number=id_number(
                        f"41102319800101{i:03d}"))])
        for i in range(start, start + n)
    ]


def _queries(at) -> int:
    with CaptureQueriesContext(connection) as q:
        sweep(at=at)
    return len([x for x in q.captured_queries
                if not x["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))])


def test_a_steady_pass_costs_the_same_few_queries_for_3_or_15_cases(jurisdiction):
    j = jurisdiction("jianan")
    _register(j, 3)
    late = sh(2026, 10, 30)
    first = sweep(at=late)
    assert first.overdue > 0
    small = _queries(late)
    _register(j, 12, start=100)
    sweep(at=late)  # the new cases' clocks are owed their alerts once
    large = _queries(late)
    assert large == small, "a steady pass must not read every clock or case"
    assert small <= 10


def test_clocks_are_marked_once_alerted_and_never_alerted_twice(jurisdiction):
    j = jurisdiction("jianan")
    cases = _register(j, 2)
    late = sh(2026, 10, 30)
    first = sweep(at=late)
    count = Alert.objects.count()
    assert first.overdue == Alert.objects.filter(kind="overdue").count() > 0
    owed = Clock.objects.filter(case__in=cases, status="running", kind="deadline",
                                due_at__lt=late)
    assert owed.exists() and not owed.filter(overdue_alerted=False).exists()
    again = sweep(at=late)
    assert (again.overdue, again.due_soon, again.warnings, again.analyses) == (0, 0, 0, 0)
    assert Alert.objects.count() == count


def test_an_alert_already_there_is_kept_not_duplicated_when_the_mark_is_lost(jurisdiction):
    # A clock whose mark was never set (rows from before the marks, or a sweep that died
    # between insert and mark) is swept again: its existing alerts are skipped, not doubled.
    j = jurisdiction("jianan")
    _register(j, 1)
    late = sh(2026, 10, 30)
    first = sweep(at=late)
    Clock.objects.update(overdue_alerted=False, due_soon_alerted=False)
    again = sweep(at=late)
    assert again.overdue == 0 and Alert.objects.filter(kind="overdue").count() == first.overdue
    assert not Clock.objects.filter(status="running", kind="deadline", due_at__lt=late,
                                    overdue_alerted=False).exists()


def test_the_recipients_unit_is_the_lead_unit_for_its_people_and_the_office_for_the_office(
        jurisdiction):
    j = jurisdiction("lihai")
    case = register_in(j, at=sh(2026, 9, 14, 9), received_at=sh(2026, 9, 14, 9))
    clerk, approver = j.member("clerk"), j.member("approver")
    case = perform("propose", case=case, by=clerk, at=sh(2026, 9, 14, 9, 10), proposal="交办")
    case = perform("sign_off", case=case, by=approver, at=sh(2026, 9, 14, 9, 20))
    if case.state == "awaiting_countersign":
        case = perform("countersign", case=case, by=j.member("chief"), at=sh(2026, 9, 14, 9, 30))
    case = perform("assign", case=case, by=clerk, at=sh(2026, 9, 14, 9, 40),
                   lead=j.townships["将官池镇"], receiver_name="陈晓东")
    perform("sign_for", case=case, by=j.member("township"), at=sh(2026, 9, 15, 9))
    sweep(at=sh(2026, 12, 30))
    alerts = Alert.objects.filter(case=case, kind="overdue")
    assert alerts.exists()
    for alert in alerts:
        office = alert.role in {"clerk", "approver", "chief", "inspector"}
        assert alert.unit == (case.jurisdiction if office else j.townships["将官池镇"]), alert.role


def test_a_transition_makes_the_sweep_apply_the_warning_rules_to_that_case_again(jurisdiction):
    j = jurisdiction("jianan")
    (case,) = _register(j, 1)
    def swept() -> bool:
        case.refresh_from_db()
        return SweepMark.objects.filter(case=case, version=case.version).exists()

    sweep(at=sh(2026, 9, 15))
    assert swept()
    perform("propose", case=case, by=j.member("clerk"), proposal="交办")
    assert not swept()
    sweep(at=sh(2026, 9, 15))
    assert swept()


def test_a_batch_of_warnings_raised_by_the_sweep_is_sealed_in_order_and_raised_once(jianan):
    # given cases whose facts now match jianan's backlog rule (a city-level referral) behind the
    # services' back, as a bulk load or restore leaves them: the sweep has not looked at them
    from xinfang.audit.history import history_verify
    from xinfang.cases.models import CaseEvent

    cases = _register(jianan, 4, start=200)
    ids = [case.pk for case in cases]
    Case.objects.filter(pk__in=ids).update(source_level="city")
    SweepMark.objects.filter(case_id__in=ids).delete()
    last = {pk: CaseEvent.objects.filter(case_id=pk).order_by("-seq").first().seq for pk in ids}
    # when the sweep runs, in batches, twice
    first = sweep(at=sh(2026, 9, 15, 9))
    again = sweep(at=sh(2026, 9, 15, 10))
    # then each case has the rule raised once, appended right after its last entry
    assert first.warnings == 4 and again.warnings == 0
    for pk in ids:
        raised = CaseEvent.objects.filter(case_id=pk, type="warning_raised")
        assert [e.seq for e in raised] == [last[pk] + 1]
        assert raised.get().payload["rule"] == "backlog_ownership"
        assert raised.get().actor_role == "system"
    # and the alerts of the rule (approver, plus leader ownership) once per case, at the office
    alerts = Alert.objects.filter(case_id__in=ids, kind="warning", clock=None)
    assert alerts.count() == 4
    assert set(alerts.values_list("unit_id", flat=True)) == {cases[0].jurisdiction_id}
    # and the history's chain of seals verifies
    assert history_verify().ok


def test_a_first_pass_over_changed_cases_costs_the_same_queries_for_3_or_15(jianan):
    # given cases the sweep has not looked at whose facts match a warning rule
    def changed(n, start):
        ids = [case.pk for case in _register(jianan, n, start=start)]
        Case.objects.filter(pk__in=ids).update(source_level="city")
        SweepMark.objects.filter(case_id__in=ids).delete()
        Clock.objects.filter(case_id__in=ids).update(overdue_alerted=True, due_soon_alerted=True)

    changed(3, 300)
    small = _queries(sh(2026, 9, 15, 9))
    changed(15, 400)
    large = _queries(sh(2026, 9, 15, 9))
    # then the warnings of 15 cases cost what 3 cost: read and written once per batch
    assert large == small, (small, large)


def test_warning_notices_issued_by_a_sweep_batch_are_whole_once_and_cost_flat(jurisdiction):
    # given lihai cases the sweep has not looked at whose facts now make them third repeat
    # petitions (lihai: a written warning notice, answered within seven working days)
    from xinfang.audit.history import history_verify
    from xinfang.cases.models import CaseEvent
    from xinfang.notify.models import Notice

    j = jurisdiction("lihai")

    def third_repeats(n: int, start: int) -> list[int]:
        ids = [case.pk for case in _register(j, n, start=start)]
        Case.objects.filter(pk__in=ids).update(repeat_count=2)
        SweepMark.objects.filter(case_id__in=ids).delete()
        Clock.objects.filter(case_id__in=ids).update(overdue_alerted=True, due_soon_alerted=True)
        return ids

    few = third_repeats(2, 500)
    heads = {pk: CaseEvent.objects.filter(case_id=pk).order_by("-seq")[0].seq for pk in few}
    # when the sweep issues their notices, 2 then 7 at once
    small = _queries(sh(2026, 9, 15, 9))
    many = third_repeats(7, 600)
    large = _queries(sh(2026, 9, 15, 9))
    # then the statements do not grow with the notices
    assert large == small, (small, large)
    # and each case has its notice, its follow-up clock, the alerts and inbox notices about
    # it, the owner's alert, its next due instant, one history entry chained after its last
    for pk in few + many:
        case = Case.objects.get(pk=pk)
        notice = case.warning_notices.get()
        follow_up = notice.follow_up
        assert notice.rule == "warning_notice" and notice.issued_at == sh(2026, 9, 15, 9)
        assert (follow_up.unit, follow_up.status, follow_up.kind) == (
            "working_days", "running", "deadline")
        assert set(case.alerts.filter(clock=follow_up, kind="warning")
                   .values_list("role", flat=True)) == {"line_head", "approver", "chief"}
        assert Notice.objects.filter(clock=follow_up, kind="warning").count() == 3
        owner = case.alerts.get(clock=None, kind="warning")
        assert owner.role == "approver" and "领导包案" in owner.message
        running = case.clocks.filter(status="running", kind="deadline")
        assert case.next_due_at == min(k.due_at for k in running)
        (issued,) = case.events.filter(type="warning_issued")
        assert datetime.fromisoformat(issued.payload["due"]) == follow_up.due_at
        assert issued.actor_role == "system"
        if pk in heads:
            assert issued.seq == heads[pk] + 1
    assert history_verify().ok
    # and a second sweep issues nothing again
    count = (Alert.objects.count(), Clock.objects.count(), Notice.objects.count())
    assert sweep(at=sh(2026, 9, 15, 10)).warnings == 0
    assert (Alert.objects.count(), Clock.objects.count(), Notice.objects.count()) == count


def test_a_pass_that_raises_many_things_reads_its_tables_statistics_again(jurisdiction,
                                                                          monkeypatch):
    """A first pass fills the alerts, the notices, the marks and the backlog from nothing: past
    ``dbstats.ANALYZE_FROM`` raised it reads their statistics again (the planner took them for
    empty); a pass below it, and a steady pass, read none."""
    from xinfang.cases import dbstats

    j = jurisdiction("jianan")
    _register(j, 3)
    monkeypatch.setattr(dbstats, "ANALYZE_FROM", 10**9)
    with CaptureQueriesContext(connection) as q:
        sweep(at=sh(2026, 9, 20))
    assert not [x for x in q.captured_queries if x["sql"].startswith("ANALYZE")]
    monkeypatch.setattr(dbstats, "ANALYZE_FROM", 1)
    with CaptureQueriesContext(connection) as q:
        first = sweep(at=sh(2026, 10, 30))
    assert first.overdue
    analysed = {x["sql"].split()[1].strip('"') for x in q.captured_queries
                if x["sql"].startswith("ANALYZE")}
    assert {"cases_alert", "notify_notice", "cases_warningnotice", "cases_sweepmark",
            "registers_backlogcase"} <= analysed, analysed
    with CaptureQueriesContext(connection) as q:
        steady = sweep(at=sh(2026, 10, 30))
    assert not any(steady.as_dict().values())
    assert not [x for x in q.captured_queries if x["sql"].startswith("ANALYZE")]
