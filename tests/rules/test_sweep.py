"""督 — ``xinfang sweep``: due-soon and overdue alerts to the roles each clock's rule names,
warning notices with their follow-up clocks, the 60-day cause analysis; run twice, it raises
nothing twice. And 转: routing proposals at sign-off, constraints refusing by the rule's name."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import id_number, register_in, sh
from tests.rules.walking import Walk, stopped
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Alert
from xinfang.cases.services import DemandInput, PetitionerInput
from xinfang.cases.services.routing import check_assignable, propose_units
from xinfang.cases.services.supervision import sweep
from xinfang.rules.store import profile_of

pytestmark = pytest.mark.django_db


def _roles(case, clock, kind) -> set[str]:
    return set(case.alerts.filter(clock=clock, kind=kind).values_list("role", flat=True))


def _in_progress(j, *, registered, signed_for, **overrides):
    walk = Walk(register_in(j, at=registered, received_at=registered, **overrides))
    clerk, approver = j.member("clerk"), j.member("approver")
    walk("propose", clerk, registered.replace(minute=10), proposal="交将官池镇办理")
    walk("sign_off", approver, registered.replace(minute=20))
    if walk.case.state == c.State.AWAITING_COUNTERSIGN:  # lihai 2211: the chief signs too
        walk("countersign", j.member("chief"), registered.replace(minute=30))
    walk("assign", clerk, registered.replace(minute=40), lead=j.townships["将官池镇"],
         receiver_name="陈晓东")
    walk("sign_for", j.member("township"), signed_for)
    return walk


# --- overdue and due soon -----------------------------------------------------------------------


def test_due_soon_then_overdue_alerts_go_to_the_roles_the_rule_names_once(jurisdiction):
    j = jurisdiction("lihai")
    walk = _in_progress(j, registered=sh(2026, 9, 15, 9), signed_for=sh(2026, 9, 15, 10))
    # lihai's call within 1 working day of registration: due 09-16 24时, "due soon" 4 hours
    # before, to the handling unit's handler and its line head (seed 004 §一(二)).
    call = walk.clock("phone_contact")
    assert call.due_at == sh(2026, 9, 17) and call.due_soon_hours == 4

    assert sweep(at=sh(2026, 9, 16, 19)).due_soon == 0, "five hours left is not yet due soon"
    assert sweep(at=sh(2026, 9, 16, 21)).due_soon == 2
    assert _roles(walk.case, call, Alert.Kind.DUE_SOON) == {"unit_handler", "line_head"}
    # The handling unit's people are told at the handling unit.
    for alert in walk.case.alerts.filter(clock=call):
        assert alert.unit == j.townships["将官池镇"] and "即将到期" in alert.message
    count = Alert.objects.count()
    again = sweep(at=sh(2026, 9, 16, 22))
    assert (again.due_soon, again.overdue, again.warnings, again.analyses) == (0, 0, 0, 0)
    assert Alert.objects.count() == count

    result = sweep(at=sh(2026, 9, 17, 0, 30))
    assert result.overdue == 2
    assert _roles(walk.case, call, Alert.Kind.OVERDUE) == {"unit_handler", "line_head"}
    assert walk.case.alerts.get(clock=call, kind="overdue", role="line_head").created_at == sh(
        2026, 9, 17, 0, 30)
    count = Alert.objects.count()
    assert sweep(at=sh(2026, 9, 17, 8)).as_dict() == {"overdue": 0, "due_soon": 0, "warnings": 0,
                                                       "analyses": 0, "backlog": 0}
    assert Alert.objects.count() == count

    # The late call stops the clock, not met; nothing more is raised for it.
    event = walk("log_contact", j.member("township"), sh(2026, 9, 17, 9), kind="phone")
    assert stopped(event) == {"phone_contact": False}
    sweep(at=sh(2026, 9, 18, 9))
    assert walk.case.alerts.filter(clock=call).count() == 4


def test_due_soon_honours_a_span_longer_than_three_days(jurisdiction):
    j = jurisdiction("national")
    walk = _in_progress(j, registered=sh(2026, 9, 14, 9), signed_for=sh(2026, 9, 15, 9))
    handling = walk.clock("handling")  # 60 days → Saturday 11-14, rolled to Monday 11-16
    assert handling.due_at == sh(2026, 11, 17) and handling.due_soon_hours == 72
    handling.due_soon_hours = 120  # as a profile may set it
    handling.save(update_fields=["due_soon_hours"])
    sweep(at=sh(2026, 11, 12, 1))  # 4 days before
    assert _roles(walk.case, handling, Alert.Kind.DUE_SOON) == {"unit_handler", "clerk",
                                                                "approver"}


def test_office_deadlines_alert_the_office(jurisdiction):
    j = jurisdiction("national")
    case = register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9, 30))
    routing = Walk(case).clock("routing")
    assert routing.due_at == sh(2026, 9, 30)
    sweep(at=sh(2026, 9, 30, 0, 1))
    alerts = case.alerts.filter(clock=routing, kind="overdue")
    assert {(a.role, a.unit) for a in alerts} == {("clerk", j.county), ("approver", j.county)}


def test_sweep_command_run_twice_raises_nothing_the_second_time(jurisdiction):
    j = jurisdiction("lihai")
    _in_progress(j, registered=sh(2026, 9, 14, 9), signed_for=sh(2026, 9, 15, 9))

    def run(at):
        out = StringIO()
        call_command("sweep", "--at", at, stdout=out)
        return json.loads(out.getvalue())

    first = run("2026-10-20T09:00+08:00")
    assert first["overdue"] > 0
    second = run("2026-10-20T09:00+08:00")
    assert {k: second[k] for k in ("overdue", "due_soon", "warnings", "analyses")} == {
        "overdue": 0, "due_soon": 0, "warnings": 0, "analyses": 0}


def test_a_declined_or_merged_case_owes_nothing_and_is_never_alerted(jurisdiction):
    # jianan's first-petition clocks do not list "declined": leaving the workflow stops them.
    j = jurisdiction("jianan")
    clerk = j.member("clerk")
    declined = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    assert {"first_contact", "first_visit_notice"} <= declined.names()
    event = declined("decline", clerk, sh(2026, 9, 14, 11), reason="不属于涉贫信访范围",
                     guidance="已引导至镇农经站")
    assert stopped(event) == {"routing": True, "first_contact": True,
                              "first_visit_notice": True}
    duplicate = Walk(register_in(j, at=sh(2026, 9, 14, 12), received_at=sh(2026, 9, 14, 9)))
    first = register_in(j, at=sh(2026, 9, 14, 13), received_at=sh(2026, 9, 14, 9),
                        petitioners=[PetitionerInput(name="王五", id_number=id_number(
                            "41102319800202123"))])
    event = duplicate("merge", clerk, sh(2026, 9, 14, 14), into=first, note="同一事项")
    assert set(stopped(event)) == {"routing", "repeat_contact", "repeat_lead_named",
                                   "repeat_meeting", "repeat_initial_report",
                                   "repeat_handling_report"}

    sweep(at=sh(2026, 10, 30))
    assert not declined.case.alerts.exclude(kind="warning").exists()
    assert not duplicate.case.alerts.exclude(kind="warning").exists()
    assert first.alerts.filter(kind="overdue").exists()


# --- a deadline that moves ---------------------------------------------------------------------


def _national_handling(j):
    """A national case signed for on Wednesday 2026-09-16: 60 days to its decision letter,
    24:00 of Monday 11-16 (due soon 72 hours before), one extension of 30 days allowed."""
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10)))
    clerk, approver = j.member("clerk"), j.member("approver")
    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交区民政局办理")
    walk("sign_off", approver, sh(2026, 9, 15, 9))
    walk("assign", clerk, sh(2026, 9, 15, 10), lead=j.bureaus["区民政局"], receiver_name="周明")
    walk("sign_for", j.member("bureau"), sh(2026, 9, 16, 9))
    assert walk.clock("handling").due_at == sh(2026, 11, 17)
    return walk


def _alerted(clock, kind) -> set[tuple]:
    return {(a.role, a.due_at, a.message.split(" ", 1)[1])
            for a in Alert.objects.filter(clock=clock, kind=kind)}


HANDLING_ROLES = ("unit_handler", "clerk", "approver")


def test_an_extension_approved_after_the_deadline_is_alerted_again_when_it_runs_out(
    jurisdiction,
):
    from xinfang.notify.models import Notice

    # given: the handling clock ran out on 11-16 24时 and the sweep said so
    j = jurisdiction("national")
    walk = _national_handling(j)
    sweep(at=sh(2026, 11, 17, 8))
    handling = walk.clock("handling")
    first = {(role, sh(2026, 11, 17), f"{handling.label}已超期（期限2026-11-16 24时）")
             for role in HANDLING_ROLES}
    assert _alerted(handling, "overdue") == first

    # when: the extension asked the next day is approved: 30 days from 11-16 24时
    walk("request_extension", j.member("bureau"), sh(2026, 11, 17, 10), reason="需调取历年档案",
         progress_report="已调取2024年档案", expected_completion=date(2026, 12, 16))
    walk("approve_extension", j.member("approver"), sh(2026, 11, 18, 9), note="同意延期")
    handling = walk.clock("handling")
    assert handling.due_at == sh(2026, 12, 17)

    # then: the new deadline is alerted due soon, then overdue, each once, beside the first
    assert sweep(at=sh(2026, 12, 14, 8)).due_soon == 3
    assert {a[1:] for a in _alerted(handling, "due_soon")} >= {
        (sh(2026, 12, 17), f"{handling.label}即将到期（期限2026-12-16 24时）")}
    assert sweep(at=sh(2026, 12, 17, 8)).overdue == 3
    assert _alerted(handling, "overdue") == first | {
        (role, sh(2026, 12, 17), f"{handling.label}已超期（期限2026-12-16 24时）")
        for role in HANDLING_ROLES}
    assert sweep(at=sh(2026, 12, 17, 9)).overdue == 0
    # and the inbox holds a notice for each of the six overdue alerts
    assert Notice.objects.filter(clock=handling, kind="overdue").count() == 6


def test_a_deadline_extended_while_a_sweep_alerts_it_is_owed_its_alert_again(
    jurisdiction, monkeypatch,
):
    from xinfang.cases.models import Clock
    from xinfang.cases.services import supervision
    from xinfang.rules.engine import move_due

    j = jurisdiction("national")
    walk = _national_handling(j)
    handling = walk.clock("handling")
    raise_them = supervision._insert_alerts

    def extended_meanwhile(clocks, **kwargs):
        # given: an extension commits after the sweep read the clock, before it marks it
        raised = raise_them(clocks, **kwargs)
        clock = Clock.objects.get(pk=handling.pk)
        clock.save(update_fields=move_due(clock, sh(2026, 12, 17)))
        return raised

    monkeypatch.setattr(supervision, "_insert_alerts", extended_meanwhile)
    sweep(at=sh(2026, 11, 17, 8))
    monkeypatch.undo()

    # then: the clock is not marked alerted for a deadline it no longer has …
    handling.refresh_from_db()
    assert (handling.due_at, handling.overdue_alerted) == (sh(2026, 12, 17), False)
    # … so the new deadline is alerted when it runs out
    assert sweep(at=sh(2026, 12, 17, 8)).overdue == 3
    assert {a.due_at for a in handling.alerts.filter(kind="overdue")} == {
        sh(2026, 11, 17), sh(2026, 12, 17)}


def test_a_batch_of_clocks_each_due_at_its_own_second_is_marked_in_one_statement(jurisdiction):
    # given a thousand and more clocks past due, no two at the same instant (a batch's marking
    # once tested each deadline in its own OR: SQLite refused a tree over 1,000 deep)
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases.models import Clock
    from xinfang.cases.services.supervision import BATCH

    j = jurisdiction("national")
    case = register_in(j, at=sh(2026, 9, 14, 10))
    start = sh(2026, 9, 20, 8)
    Clock.objects.bulk_create(
        Clock(case=case, name=f"drill{n}", label="演练时限", amount=1, unit="natural_days",
              started_at=start, due_at=start + timedelta(seconds=n), alert_roles=["clerk"],
              due_soon_alerted=True)
        for n in range(BATCH + 100))
    # when the sweep alerts them
    with CaptureQueriesContext(connection) as run:
        sweep(at=sh(2026, 9, 21, 8))
    # then every one is marked alerted, each batch's clocks by one UPDATE
    assert not Clock.objects.filter(case=case, name__startswith="drill",
                                    overdue_alerted=False).exists()
    marks = [q["sql"] for q in run.captured_queries
             if q["sql"].startswith('UPDATE "cases_clock" SET "overdue_alerted"')]
    assert len(marks) == 2


def test_clocks_alerted_before_their_deadline_moved_are_owed_the_alert_again_by_the_migration(
    jurisdiction,
):
    import importlib

    from django.apps import apps

    from xinfang.cases.models import Clock

    repair = importlib.import_module("xinfang.cases.migrations.0050_alert_per_deadline")
    # given: clocks as the sweep left them before alerts were kept per deadline: the handling
    # clock alerted due soon and overdue for 11-16 24时 then extended to 12-16 24时 (its marks
    # kept), and the first contact clock of another case overdue for the deadline it still has
    j = jurisdiction("national")
    walk = _national_handling(j)
    sweep(at=sh(2026, 11, 14, 8))
    sweep(at=sh(2026, 11, 17, 8))
    Alert.objects.update(due_at=None)
    handling = walk.clock("handling")
    Clock.objects.filter(pk=handling.pk).update(due_at=sh(2026, 12, 17))
    overdue_kept = set(Clock.objects.filter(status="running", kind="deadline",
                                            overdue_alerted=True)
                       .exclude(pk=handling.pk).values_list("pk", flat=True))

    # when: the migration's repair runs on 11-20
    repair.owe_the_moved_deadlines_again(apps, None, now=sh(2026, 11, 20))

    # then: the handling clock owes both alerts again; the others keep their marks
    handling.refresh_from_db()
    assert (handling.due_soon_alerted, handling.overdue_alerted) == (False, False)
    assert set(Clock.objects.filter(overdue_alerted=True).values_list("pk", flat=True)) == (
        overdue_kept)


# --- warning notices ----------------------------------------------------------------------------


def test_third_repeat_petition_raises_warning_notice_answered_within_seven_working_days(
        jurisdiction):
    j = jurisdiction("lihai")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    register_in(j, at=sh(2026, 8, 20, 10), received_at=sh(2026, 8, 20, 9))
    walk = _in_progress(j, registered=sh(2026, 9, 21, 9), signed_for=sh(2026, 9, 22, 9))

    # Issued once, at registration; the sweep issues nothing more.
    notice = walk.case.warning_notices.get()
    follow_up = notice.follow_up
    assert follow_up.due_at == sh(2026, 10, 9) and follow_up.unit == "working_days"
    assert _roles(walk.case, follow_up, Alert.Kind.WARNING) == {"line_head", "approver", "chief"}
    owner = walk.case.alerts.get(clock=None, kind="warning")
    assert owner.role == "approver" and "领导包案" in owner.message
    assert sweep(at=sh(2026, 9, 23)).warnings == 0
    assert walk.case.warning_notices.count() == 1
    assert walk.case.events.filter(type="warning_issued").count() == 1

    # Not answered by 10-08 24时: the line head, the approver and the chief are told.
    sweep(at=sh(2026, 10, 9, 1))
    assert _roles(walk.case, follow_up, Alert.Kind.OVERDUE) == {"line_head", "approver", "chief"}
    count = Alert.objects.count()
    sweep(at=sh(2026, 10, 9, 2))
    assert Alert.objects.count() == count

    event = walk("answer_warning", j.member("approver"), sh(2026, 10, 9, 10), rule="warning_notice",
                 cause="村级公示不及时", measures="重新公示，片长包案")
    assert event.payload["met"] is False
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.stopped_at, follow_up.met) == (
        "stopped", sh(2026, 10, 9, 10), False)
    with pytest.raises(Refused, match="没有待回复的预警提醒单"):
        walk("answer_warning", j.member("approver"), sh(2026, 10, 9, 11), rule="warning_notice",
             cause="-", measures="-")
    sweep(at=sh(2026, 10, 12))
    assert walk.case.alerts.filter(clock=follow_up).count() == 6


def test_second_repeat_raises_no_warning_notice_in_lihai(jurisdiction):
    j = jurisdiction("lihai")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    second = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    assert second.repeat_count == 1
    assert sweep(at=sh(2026, 9, 22)).warnings == 0
    assert not second.warning_notices.exists() and not second.alerts.filter(kind="warning")


def test_leader_ownership_without_a_notice_goes_to_the_owner_the_rule_names(jurisdiction):
    # datonghu §十一(四): a repeat key case is owned by the district secretary or head (chief).
    j = jurisdiction("datonghu")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9), key_case=True)
    raised = case.events.get(type="warning_raised")
    assert raised.payload["rule"] == "key_hard_case_ownership"
    assert set(case.alerts.filter(kind="warning").values_list("role", flat=True)) == {"chief"}
    assert not case.warning_notices.exists(), "seed 000 has no written warning notice"
    assert sweep(at=sh(2026, 9, 22)).warnings == 0
    assert case.events.filter(type="warning_raised").count() == 1


# --- the 60-day cause analysis ------------------------------------------------------------------


def test_kaijiang_unsettled_sixty_days_is_flagged_once_and_only_where_the_profile_says(
        jurisdiction):
    kaijiang = _in_progress(jurisdiction("kaijiang"), registered=sh(2026, 9, 17, 9),
                            signed_for=sh(2026, 9, 21, 10))
    national = _in_progress(jurisdiction("national"), registered=sh(2026, 9, 17, 9),
                            signed_for=sh(2026, 9, 21, 10))
    # 60 days after Monday 09-21 end at Friday 11-20 24时: the analysis clock's overdue alert.
    analysis = kaijiang.clock("analysis")
    sweep(at=sh(2026, 11, 20, 23))
    assert not kaijiang.case.alerts.filter(clock=analysis, kind=Alert.Kind.OVERDUE).exists()
    sweep(at=sh(2026, 11, 21, 1))
    (alert,) = kaijiang.case.alerts.filter(clock=analysis, kind=Alert.Kind.OVERDUE)
    assert alert.role == "approver" and "原因" in alert.message
    assert national.clock("analysis") is None
    sweep(at=sh(2026, 11, 25))
    assert kaijiang.case.alerts.filter(clock=analysis, kind=Alert.Kind.OVERDUE).count() == 1


# --- routing: proposals and constraints ---------------------------------------------------------


def _proposals(case):
    return propose_units(case=case, profile=profile_of(case.profile))


@pytest.mark.parametrize("code", ["lihai", "datonghu"])
def test_misconduct_is_proposed_to_the_discipline_unit(jurisdiction, code):
    j = jurisdiction(code)
    case = register_in(j, concerns_misconduct=True, matter="反映村干部截留危房改造补助")
    first = _proposals(case)[0]
    assert first["rule"] in {"cadre_conduct_to_discipline", "misconduct_to_discipline"}
    assert first["lead"] == [j.discipline]


def test_datonghu_proposes_the_district_and_never_a_village(jurisdiction):
    j = jurisdiction("datonghu")
    case = register_in(j)
    proposals = _proposals(case)
    assert [p["rule"] for p in proposals] == ["work_complaint"]
    assert proposals[0]["lead"] == [j.office]
    profile = profile_of(case.profile)
    for village in j.villages.values():
        with pytest.raises(Refused, match="never_a_village"):
            check_assignable(case=case, unit=village, profile=profile)
    check_assignable(case=case, unit=j.townships["将官池镇"], profile=profile)  # rarely, allowed


def test_jianan_first_petition_proposes_the_poverty_office_with_the_home_township(jurisdiction):
    j = jurisdiction("jianan")
    case = register_in(j)
    first = _proposals(case)[0]
    assert first["rule"] == "first_petition_visit" and first["lead"] == [j.office]
    assert first["assist"][0] == j.townships["将官池镇"]
    # then the line bureau of the category alone (issue 15; 001 二(一): 危房改造 → 住建局)
    assert first["assist"][1:] == [j.bureaus["区住建局"]]
    by_locality = _proposals(case)[-1]
    assert by_locality["rule"] == "by_locality"
    assert by_locality["lead"][0] == j.townships["将官池镇"]


def test_henan_refuses_a_township_for_a_provincial_key_case_only(jurisdiction):
    j = jurisdiction("henan")
    demand = [DemandInput(text="要求落实补助", category="D级危房改造")]
    key = register_in(j, demands=demand, source_level=c.SourceLevel.CENTRAL, key_case=True)
    plain = register_in(j, demands=demand, source_level=c.SourceLevel.PROVINCE,
                        petitioners=[PetitionerInput(name="王五", id_number=id_number(
                            "41102319800202123"))])
    profile = profile_of(key.profile)
    with pytest.raises(Refused, match="provincial_key_case_not_to_township") as refused:
        check_assignable(case=key, unit=j.townships["将官池镇"], profile=profile)
    assert "不得转交乡镇" in refused.value.message
    check_assignable(case=key, unit=j.bureaus["区民政局"], profile=profile)
    check_assignable(case=plain, unit=j.townships["将官池镇"], profile=profile)
    key_proposals = _proposals(key)
    assert all(u.level != "township" for p in key_proposals for u in [*p["lead"], *p["assist"]])


@pytest.mark.parametrize("every", ["nan", "inf", "-5"])
def test_an_interval_no_clock_can_keep_is_refused_naming_it(every):
    # nan passed the "<= 0" check and swept in a tight loop; inf reached time.sleep
    with pytest.raises(CommandError, match="--every"):
        call_command("sweep", "--every", every, "--times", "1")
