"""Goal metrics against the same period last year: seed 001 一(二) "信访总量有序下降…
群众满意度稳步提升…不出现赴省级以上越级访", seed 003 §三(二) "降低信访总量、减少积案存量" —
totals and months of both years side by side, a running period compared up to the same day
last year."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import id_number, register_in, sh
from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput
from xinfang.reports.periods import parse
from xinfang.rules.store import current_version, profile_of
from xinfang.scoring.goals import goal_results

pytestmark = pytest.mark.django_db
NOW = sh(2026, 12, 1, 9, 0)


def person(i: int) -> list[PetitionerInput]:
    return [PetitionerInput(name=f"李{'一二三四五六七八九十'[i]}",
                            id_number=id_number(f"41102319850101{i:03d}"))]


def on(j, day, i, **extra):
    at = sh(*day, 10, 0)
    if j.county.profile_code == "henan":
        demand = DemandInput(text="要求落实危房改造补助", category="D级危房改造")
        extra.setdefault("demands", [demand])
    return register_in(j, at=at, received_at=sh(*day, 9, 0), petitioners=person(i), **extra)


def goals(j, code, period, by="approver", now=NOW):
    return {g.goal.name: g for g in goal_results(
        by=j.member(by), profile=profile_of(current_version(code)), period=period, now=now)}


def test_totals_and_provincial_petitions_against_last_year(jianan):
    j = jianan
    on(j, (2025, 7, 8), 1)
    on(j, (2025, 8, 12), 2)
    on(j, (2025, 8, 20), 3)
    on(j, (2026, 8, 5), 4)
    on(j, (2026, 9, 9), 5, source_level=c.SourceLevel.PROVINCE, channel=c.Channel.REFERRAL,
       source_office="河南省乡村振兴局")
    g = goals(j, "jianan", parse("quarter", "2026-Q3"))
    total = g["total_falls"]
    assert (total.now, total.before, total.met) == (2, 3, True)
    assert total.change == "下降33.3%"
    assert [(m.month, m.now, m.before) for m in total.months] == [
        (7, 0, 1), (8, 1, 2), (9, 1, 0)]
    provincial = g["no_provincial"]
    assert (provincial.now, provincial.before, provincial.met) == (1, 0, False)
    # Nothing rated in either year: the rate cannot be judged.
    assert g["satisfaction_rises"].met is None and g["satisfaction_rises"].now is None


def test_a_running_period_is_compared_up_to_the_same_day_last_year(jianan):
    j = jianan
    on(j, (2025, 11, 10), 1)
    on(j, (2025, 11, 25), 2)  # after the same day last year: not yet comparable
    on(j, (2026, 11, 12), 3)
    g = goals(j, "jianan", parse("quarter", "2026-Q4"), now=sh(2026, 11, 20, 12, 0))
    total = g["total_falls"]
    assert (total.now, total.before) == (1, 1)
    assert total.met is False and total.change == "持平"
    assert [m.now for m in total.months] == [0, 1, None]  # December has not begun


def test_backlog_is_the_open_cases_at_each_months_end(jurisdiction):
    j = jurisdiction("henan")
    old = on(j, (2025, 3, 3), 1)
    on(j, (2025, 6, 2), 2)
    Case.objects.filter(pk=old.pk).update(state=c.State.CLOSED, closed_at=sh(2025, 5, 20))
    on(j, (2026, 2, 2), 3)
    g = goals(j, "henan", parse("quarter", "2026-Q2"))
    backlog = g["backlog_falls"]
    # Last year: the March case is open at the end of April, closed in May; the June case is
    # open at the end of June. This year both the June 2025 and the February 2026 cases are.
    assert [(m.month, m.now, m.before) for m in backlog.months] == [
        (4, 2, 1), (5, 2, 0), (6, 2, 1)]
    assert (backlog.now, backlog.before, backlog.met) == (2, 1, False)
    assert backlog.change == "上升100.0%"


def test_goal_metrics_take_two_queries_whatever_the_data(jurisdiction):
    j = jurisdiction("henan")
    on(j, (2026, 4, 2), 1)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            goals(j, "henan", parse("year", "2026"))
        return len(ctx)

    few = queries()
    for i, day in enumerate([(2025, 4, 1), (2025, 9, 1), (2026, 5, 5), (2026, 10, 1)], start=2):
        on(j, day, i)
    assert queries() == few


def test_the_backlog_counted_by_buckets_is_the_open_cases_at_each_instant(jurisdiction):
    # the one-pass count (each case bucketed by the instants before its registration and its
    # closing) against the definition, case by case: on an instant exactly, closed without a
    # date, closed before it was registered, registered after every instant, never closed
    from datetime import timedelta

    from xinfang.scoring.goals import CLOSED, open_at_instants

    j = jurisdiction("henan")
    instants = [sh(2026, m, 1, 0, 0) for m in (2, 3, 4, 5, 6, 7)] + [sh(2025, 12, 31, 8, 30)]
    t = instants[1]
    shapes = [
        (t, None, c.State.IN_PROGRESS),
        (t - timedelta(seconds=1), t, c.State.CLOSED),
        (t - timedelta(days=40), t - timedelta(seconds=1), c.State.CLOSED),
        (sh(2025, 1, 1, 9, 0), None, c.State.ARCHIVED),
        (sh(2025, 1, 1, 9, 0), None, c.State.IN_PROGRESS),
        (sh(2026, 4, 10, 9, 0), sh(2026, 3, 1, 9, 0), c.State.CLOSED),
        (sh(2026, 8, 1, 9, 0), None, c.State.REGISTERED),
        (sh(2025, 12, 31, 8, 30), sh(2026, 6, 15, 9, 0), c.State.ARCHIVED),
        (sh(2026, 1, 5, 9, 0), sh(2026, 7, 1, 0, 0), c.State.CLOSED),
    ]
    pks = []
    for i, (registered, closed, state) in enumerate(shapes):
        case = on(j, (2024, 12, 1), i)
        Case.objects.filter(pk=case.pk).update(registered_at=registered, closed_at=closed,
                                               state=state)
        pks.append(case.pk)

    def opened(at):
        return sum(1 for r, k, s in shapes if r < at and ((k is None and s not in CLOSED)
                                                          or (k is not None and k >= at)))

    found = open_at_instants(Case.objects.filter(pk__in=pks), instants + [t])
    assert found == {at: opened(at) for at in instants}
    assert open_at_instants(Case.objects.none(), []) == {}


def test_a_case_counts_in_the_month_of_its_local_time_of_receipt(jianan):
    # each case's month is found by comparing with the months' first instants (Asia/Shanghai
    # midnight), not by truncating its time: the last second of July and the first of August
    j = jianan
    july = on(j, (2026, 7, 31), 1)
    august = on(j, (2026, 8, 1), 2)
    Case.objects.filter(pk=july.pk).update(received_at=sh(2026, 7, 31, 23, 59, 59))
    Case.objects.filter(pk=august.pk).update(received_at=sh(2026, 8, 1, 0, 0))
    g = goals(j, "jianan", parse("quarter", "2026-Q3"))
    assert [(m.month, m.now) for m in g["total_falls"].months] == [(7, 1), (8, 1), (9, 0)]
