"""The supervision page's figures from kept sums (issue 9): equal, for every reader and period,
to the straightforward counts over the cases through the door — before a refresh, after one,
and after cases changed since; reads in a fixed number of queries, off indexes."""


import importlib
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.world import walk
from tests.conftest import sh
from tests.reports.test_pages import kaijiang_cases
from tests.web.conftest import signed_in
from xinfang.cases import choices as c
from xinfang.cases.models import Case, CaseEvent, Respondent
from xinfang.cases.rates import COUNT_LABELS, counts, counts_by_unit, in_period
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import perform
from xinfang.figures.models import (
    EVERY_YEAR,
    FIGURES,
    CaseFigure,
    FigureMark,
    FigureSum,
    FigureTotal,
)
from xinfang.figures.services import (
    LAG,
    _move_sums,
    changed_since,
    figures_refresh,
    settled_upto,
    sums_read,
)
from xinfang.oversight.selectors import review_figures, verifications_owed
from xinfang.security.models import Recusal
from xinfang.web.supervision import by_category, by_township, page_figures

pytestmark = pytest.mark.django_db

SEPT = (sh(2026, 9, 1, 0, 0), sh(2026, 10, 1, 0, 0))
CUT = (sh(2026, 8, 20, 12, 0), sh(2026, 9, 14, 9, 45))  # cuts both months


def straight(m, start=None, end=None) -> dict:
    """The figures as the page counted them before the sums: over the cases through the door."""
    scope = cases_for(m)
    cases = in_period(scope, start, end)
    reviews = review_figures(cases)
    return {
        "total": {**counts(cases), "first_time": reviews["first_time"],
                  "failed_rounds": reviews["failed_rounds"],
                  "open": scope.filter(state__in=c.OPEN_STATES).count(),
                  "owed": verifications_owed(m).count()},
        "unit": {str(k or ""): n for k, n in counts_by_unit(cases).items()},
        "township": {str(k or ""): n for k, n in counts_by_unit(cases, "township").items()},
        "category": sorted((k, n) for k, n in by_category(scope)),
        "towns": sorted(by_township(scope)),
    }


def kept(m, start=None, end=None, got=None) -> dict:
    """``got``: the page's read of every split for this period, when the caller holds it."""
    from xinfang.org.models import Unit

    got = got or page_figures(m, cases_for(m), start=start, end=end)
    names = dict(Unit.objects.values_list("pk", "name"))
    names_of = {str(k): v for k, v in names.items()}
    seen = {dim: {k: n for k, n in found.items() if n["received"]}
            for dim, found in got.period.by.items()}
    alls = {dim: {k: n for k, n in found.items() if n["received"]}
            for dim, found in got.all.by.items()}
    return {
        "total": {k: got.period.total[k] for k in [*COUNT_LABELS, "first_time",
                                                  "failed_rounds"]}
        | {"open": got.all.total["open"], "owed": got.all.total["owed"]},
        "unit": {k: {n: v[n] for n in COUNT_LABELS} for k, v in seen["unit"].items()},
        "township": {k: {n: v[n] for n in COUNT_LABELS} for k, v in seen["township"].items()},
        "category": sorted((k or "—", v["received"]) for k, v in alls["category"].items()),
        "towns": sorted((names_of.get(k, "未填属地") if k else "未填属地", v["received"])
                        for k, v in alls["township"].items()),
    }


YEAR = (sh(2026, 1, 1, 0, 0), sh(2027, 1, 1, 0, 0))
ACROSS = (sh(2024, 12, 1, 0, 0), sh(2026, 10, 1, 0, 0))  # a month, a year, nine months


def same(m) -> None:
    for period in ((None, None), SEPT, CUT, (SEPT[0], None), (None, CUT[1]), YEAR, ACROSS):
        full = page_figures(m, cases_for(m), start=period[0], end=period[1])
        want, got = straight(m, *period), kept(m, *period, got=full)
        assert got == want, period
        shown_alone(m, *period, full=full)


def shown_alone(m, start=None, end=None, full=None) -> None:
    """The page's read of only what it shows (its rates' one split, the charts' two) holds the
    same figures as the read of every split (``full``, when the caller holds it), and no other
    split."""
    full = full or page_figures(m, cases_for(m), start=start, end=end)
    for split in ("unit", "township"):
        got = page_figures(m, cases_for(m), start=start, end=end, split=split)
        assert got.period.total == full.period.total, (split, start, end)
        assert got.all.total == full.all.total, (split, start, end)
        assert got.period.by[split] == full.period.by[split], (split, start, end)
        for dim in ("category", "township"):
            assert got.all.by[dim] == full.all.by[dim], (dim, start, end)
        assert set(got.period.by) == {split} or (start, end) == (None, None), got.period.by.keys()
        assert "unit" not in got.all.by or (split == "unit" and (start, end) == (None, None))


def totals_of_sums() -> dict:
    """The kept sums added up over each year's months and over every month, as the totals must
    hold them (no empty row)."""
    summed: dict[tuple, list[int]] = {}
    for r in FigureSum.objects.values("jurisdiction_id", "month", "dim", "key", *FIGURES):
        for year in (EVERY_YEAR, r["month"].year):
            got = summed.setdefault((r["jurisdiction_id"], year, r["dim"], r["key"]),
                                    [0] * len(FIGURES))
            for i, n in enumerate(FIGURES):
                got[i] += r[n]
    return {k: v for k, v in summed.items() if any(v)}


def totals() -> dict:
    bucket = ("jurisdiction_id", "year", "dim", "key")
    return {tuple(r[f] for f in bucket): [r[n] for n in FIGURES]
            for r in FigureTotal.objects.values(*bucket, *FIGURES)}


@pytest.fixture
def county(jurisdiction):
    j = jurisdiction("kaijiang")
    kaijiang_cases(j)
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=(),
         received_at=sh(2026, 8, 25, 9, 0))
    walk(j, "delivered", received_at=sh(2026, 9, 2, 9, 0))  # not yet rated
    return j


def rate_one(j) -> Case:
    case = Case.objects.filter(state=c.State.DELIVERED, rating="").first()
    perform("record_rating", case=case, by=j.member("clerk"), rating="unsatisfied")
    return case


def test_the_kept_figures_equal_the_straight_counts_before_and_after_changes(county):
    j = county
    readers = [j.member("chief"), j.member("approver"), j.member("inspector")]
    # a recusal and a respondent unit: the door keeps those cases from these readers
    first, second = Case.objects.order_by("pk")[:2]
    Recusal.objects.create(user=j.member("approver").user, case=first, reason="本人亲属")
    Respondent.objects.create(case=second, unit=j.member("inspector").unit, name="被反映单位")
    for m in readers:
        same(m)  # never refreshed: counted straight
    assert figures_refresh() == Case.objects.count()
    assert CaseFigure.objects.count() == Case.objects.count() and FigureSum.objects.exists()
    for m in readers:
        same(m)
    # cases change and arrive after the refresh: read at once, exactly
    rate_one(j)
    walk(j, "delivered", received_at=sh(2026, 9, 13, 9, 0))
    for m in readers:
        same(m)
    # a refresh counts again only the cases changed since the settled mark
    assert figures_refresh() < Case.objects.count()
    for m in readers:
        same(m)
    # the totals over every month moved with the sums: a case rated, one received since
    assert totals() == totals_of_sums() and totals()


def test_the_totals_over_every_month_are_filled_from_the_sums_and_move_with_them(county):
    """Migration 0004 fills the totals from the sums an office already keeps; every refresh
    after moves both by the same differences, leaving no empty total behind."""
    j = county
    figures_refresh(now=timezone.now() - 2 * LAG)
    want = totals()
    assert want == totals_of_sums() and len(want) > 3
    FigureTotal.objects.all().delete()
    migration = importlib.import_module("xinfang.figures.migrations.0004_sup9_totals")
    with connection.cursor() as cursor:
        migration.fill(None, SimpleNamespace(connection=connection, execute=cursor.execute,
                                             quote_name=connection.ops.quote_name))
    assert totals() == want
    rate_one(j)
    walk(j, "delivered", received_at=sh(2026, 9, 13, 9, 0))
    figures_refresh(now=timezone.now() - LAG)
    figures_refresh()
    assert totals() == totals_of_sums() != want
    # a bucket emptied in every month (its cases moved elsewhere) leaves no total at zero
    one = FigureSum.objects.filter(dim="township").order_by("pk").first()
    months = FigureSum.objects.filter(jurisdiction_id=one.jurisdiction_id, dim="township",
                                      key=one.key)
    _move_sums({(one.jurisdiction_id, s.month, "township", one.key):
                [-getattr(s, n) for n in FIGURES] for s in months})
    assert not [k for k in totals() if k[0] == one.jurisdiction_id and k[2:] == ("township",
                                                                            one.key)]
    assert totals() == totals_of_sums()


def test_a_door_too_big_to_list_its_units_reads_the_same_figures(county, jurisdiction,
                                                                  monkeypatch):
    """A province's or a big city's door (more units than ``MAX_LISTED_UNITS``) reads the kept
    sums, the kept rows of its unsure cases, the warning notices and the backlog lines by
    the offices under its path (``Door.jurisdictions``, ``Door.by_jurisdiction``): the same
    figures as the straight counts, without another county's and without what the door keeps
    from the reader."""
    from tests.conftest import register_in
    from xinfang.cases import selectors
    from xinfang.org.models import Membership

    j = county
    other = jurisdiction("jianan")
    for day in (3, 4):
        register_in(other, received_at=sh(2026, 9, day, 9, 0))
    first, second = Case.objects.filter(jurisdiction=j.county).order_by("pk")[:2]
    Recusal.objects.create(user=j.member("approver").user, case=first, reason="本人亲属")
    Respondent.objects.create(case=second, unit=j.member("inspector").unit, name="被反映单位")
    figures_refresh(now=timezone.now() - 2 * LAG)
    rate_one(j)  # unsure since the refresh
    monkeypatch.setattr(selectors, "MAX_LISTED_UNITS", 3)
    for role in ("chief", "approver", "inspector"):
        m = Membership.objects.select_related("user", "unit").get(pk=j.member(role).pk)
        got = page_figures(m, cases_for(m))
        door = selectors.door_for(m)
        assert not isinstance(door.units, list)
        assert got.units == door.jurisdictions == [j.county.pk]  # its subtree's one office
        assert "xf_du.path" not in str(FigureTotal.objects.filter(got.within).query)
        same(m)


@pytest.mark.parametrize("listed", [True, False])
def test_a_reports_period_counts_are_the_kept_figures_and_the_straight_counts(
        county, jurisdiction, monkeypatch, listed):
    """The quarterly report's and the scorecard's counts (``reports.selectors.period_figures``)
    read the kept figures: the same as ``counts``, ``counts_by_unit``, ``by_category`` and
    ``by_area`` by township over the period's cases through the door — after a change since
    the refresh, a recusal, a respondent unit, another county's cases, and for a door too big
    to list its units."""
    from datetime import date

    from tests.conftest import register_in
    from xinfang.cases import selectors
    from xinfang.cases.services import DemandInput
    from xinfang.figures.services import received_by_month
    from xinfang.org.models import Membership
    from xinfang.reports import selectors as s
    from xinfang.reports.periods import parse

    j = county
    other = jurisdiction("jianan")
    register_in(other, received_at=sh(2026, 9, 3, 9, 0))
    # a case of another township in three categories, one of them left empty (an old ledger's
    # line, say)
    town = next(t for name, t in j.townships.items() if name != "将官池镇")
    three = register_in(j, received_at=sh(2026, 9, 4, 9, 0), township=town, village=None,
                        demands=[DemandInput(text="要求纳入低保", category="民政救助"),
                                 DemandInput(text="其他诉求", category="其他"),
                                 DemandInput(text="要求落实危房改造补助", category="危房改造")])
    three.demands.filter(category="其他").update(category="")
    register_in(j, received_at=sh(2026, 5, 20, 9, 0), at=sh(2026, 5, 20, 10, 0))  # in Q2
    first, second = Case.objects.filter(jurisdiction=j.county).order_by("pk")[:2]
    Recusal.objects.create(user=j.member("approver").user, case=first, reason="本人亲属")
    Respondent.objects.create(case=second, unit=j.member("inspector").unit, name="被反映单位")
    figures_refresh(now=timezone.now() - 2 * LAG)
    rate_one(j)  # unsure since the refresh
    register_in(j, received_at=sh(2026, 9, 20, 9, 0), at=sh(2026, 9, 20, 10, 0))  # and new
    if not listed:
        monkeypatch.setattr(selectors, "MAX_LISTED_UNITS", 3)
    read = {}
    for role in ("clerk", "approver", "inspector", "bureau"):
        m = Membership.objects.select_related("user", "unit").get(pk=j.member(role).pk)
        for text in ("2026-Q3", "2026-Q2"):
            period = parse("quarter", text)
            figures = s.period_figures(m, period)
            total, by_unit = read[role, text] = figures.total, s.unit_counts(figures)
            cases = s.period_cases(m, period)
            assert {k: total[k] for k in COUNT_LABELS} == counts(cases), (role, text)
            assert {k: {n: v[n] for n in COUNT_LABELS} for k, v in by_unit.items()} == (
                counts_by_unit(cases)), (role, text)
            assert s.category_counts(figures) == s.by_category(cases), (role, text)
            # the twelve months' trend: kept for an office door, None (counted straight) else
            first, last = date(2025, 10, 1), period.end
            kept = received_by_month(selectors.door_for(m), selectors.cases_for(m), first, last)
            assert (kept is None) == (role == "bureau")
            trend = s.trend_counted(m, first, period.bounds()[1])
            if kept is not None:
                assert {k: n for k, n in kept.items() if n} == trend, (role, text)
            read[role, text, "trend"] = trend
            assert s.township_counts(figures) == [
                (k, v["n"]) for k, v in s.by_area(cases, "township")], (role, text)
    assert len(read["clerk", "2026-Q3", "trend"]) == 3  # May, August, September
    assert read["clerk", "2026-Q2"][0]["received"] == 1
    total, by_unit = read["clerk", "2026-Q3"]
    assert total["received"] and total["rated"] and len(by_unit) > 1  # not an empty world
    figures = s.period_figures(j.member("clerk"), parse("quarter", "2026-Q3"))
    assert [k for k, _n in s.category_counts(figures)] == ["危房改造", "未分类", "民政救助"]
    assert len(s.township_counts(figures)) == 2


def referred_in(j, until: str, *, received_at):
    """A henan case referred by the province, walked to ``until``."""
    from tests.conftest import register_in
    from tests.web.conftest import walk as walk_case
    from xinfang.cases.services import DemandInput

    return walk_case(j, register_in(j, source_level=c.SourceLevel.PROVINCE,
                                    source_office="河南省乡村振兴局", received_at=received_at,
                                    demands=[DemandInput(text="要求落实危房改造补助",
                                                         category="D级危房改造")]), until)


def report_back_in(j, *, received_at):
    """A henan case handled, rated and reported back (henan's profile asks the upper level to
    verify each report-back)."""
    case = referred_in(j, "rated", received_at=received_at)
    return perform("report_back", case=case, by=j.member("clerk"), at=sh(2026, 10, 12, 10, 0))


def test_the_report_backs_to_verify_are_kept_figures_too(jurisdiction):
    """The oversight section's "reported back, not verified" (``verifications_owed``) is a kept
    figure over all time: equal to the straight count before a refresh, after one, after a
    report-back and a verification since, and after the next refresh."""
    from xinfang.oversight.services import verification_record

    j = jurisdiction("henan")
    inspector = j.member("inspector")
    reported = [report_back_in(j, received_at=sh(2026, 8, 20 + i, 9, 0)) for i in range(3)]
    referred_in(j, "delivered", received_at=sh(2026, 9, 2, 9, 0))  # not reported back
    # the door keeps one reported case from the approver (a recusal): it is not counted for it
    Recusal.objects.create(user=j.member("approver").user, case=reported[0], reason="本人亲属")
    readers = [j.member("chief"), j.member("approver"), inspector]
    verification_record(by=inspector, case=reported[1], method="site", opinion="实地查看属实",
                        confirmed=True, at=sh(2026, 10, 14, 10))
    assert verifications_owed(j.member("chief")).count() == 2
    for m in readers:
        same(m)  # never refreshed: counted straight
    figures_refresh(now=timezone.now() - 2 * LAG)
    assert CaseFigure.objects.filter(owed=1).count() == 2
    for m in readers:
        same(m)
    # after the refresh, one more reported back and one verified: read at once, exactly
    verification_record(by=inspector, case=reported[2], method="document", opinion="书面核查属实",
                        confirmed=True, at=sh(2026, 10, 15, 10))
    report_back_in(j, received_at=sh(2026, 9, 10, 9, 0))
    for m in readers:
        same(m)
    figures_refresh(now=timezone.now() - LAG)
    figures_refresh()
    assert CaseFigure.objects.filter(owed=1).count() == 2
    for m in readers:
        same(m)


def test_a_period_is_read_as_its_whole_years_and_the_months_beside_them():
    from datetime import date

    from xinfang.figures.services import _spans

    d = date
    assert _spans(None, None) == ((None, None), [])  # every month: year 0
    assert _spans(d(2026, 1, 1), d(2027, 1, 1)) == ((2026, 2027), [])
    assert _spans(d(2026, 7, 1), d(2026, 10, 1)) == (None, [(d(2026, 7, 1), d(2026, 10, 1))])
    assert _spans(d(2024, 11, 1), d(2026, 3, 1)) == (
        (2025, 2026), [(d(2024, 11, 1), d(2025, 1, 1)), (d(2026, 1, 1), d(2026, 3, 1))])
    assert _spans(d(2025, 3, 1), d(2026, 2, 1)) == (None, [(d(2025, 3, 1), d(2026, 2, 1))])
    assert _spans(None, d(2026, 9, 1)) == ((None, 2026), [(d(2026, 1, 1), d(2026, 9, 1))])
    assert _spans(d(2026, 8, 1), None) == ((2027, None), [(d(2026, 8, 1), d(2027, 1, 1))])
    assert _spans(None, d(2026, 1, 1)) == ((None, 2026), [])


def test_a_read_of_the_sums_adds_up_as_its_rows_one_by_one():
    # a read's rows by columns (``add_read``) against ``add`` row by row: every dim, a key
    # read twice (the totals of whole years and the months beside them), zeros and negatives
    from xinfang.figures.models import FIGURES
    from xinfang.figures.services import Figures

    n = len(FIGURES)
    first = [("unit", "7", tuple(range(n))), ("unit", "", (1,) * n),
             ("township", "12", tuple(range(n, 2 * n))), ("category", "危房改造", (0,) * n)]
    second = [("unit", "7", tuple(-i for i in range(n))), ("category", "低保", (2,) * n),
              ("township", "", (5,) * n)]
    by_rows, by_reads = Figures(), Figures()
    for dim, key, sums in first + second:
        by_rows.add(dim, key, sums)
    by_reads.add_read([(dim, key, *sums) for dim, key, sums in first])  # as the database's
    by_reads.add_read([(dim, key, *sums) for dim, key, sums in second])
    by_reads.add_read([])
    assert by_reads == by_rows
    assert by_reads.total["received"] == 1 and by_reads.by["unit"]["7"]["received"] == 0


def test_only_settled_history_is_trusted():
    now = timezone.now()
    assert settled_upto([]) is None
    assert settled_upto([(now, 50)]) == 50  # the first refresh: its own mark
    assert settled_upto([(now, 90), (now - LAG / 2, 70), (now - LAG, 60), (now - 2 * LAG, 10)]
                        ) == 60


def test_the_refresh_keeps_the_marks_a_read_needs(county):
    figures_refresh(now=timezone.now() - 3 * LAG)
    figures_refresh(now=timezone.now() - LAG)
    figures_refresh(now=timezone.now())
    marks = list(FigureMark.objects.order_by("at").values_list("upto", flat=True))
    assert len(marks) == 2  # the newest and the settled one


def test_a_late_commit_is_counted_again(county):
    """A refresh that numbered past a history entry still uncommitted (its transaction open
    while the refresh read) did not count its change: reads and the next refresh count it."""
    j = county
    now = timezone.now()
    figures_refresh(now=now - 2 * LAG)
    rate_one(j)
    newest = CaseEvent.objects.order_by("-id").values_list("id", flat=True).first()
    FigureMark.objects.create(at=now - LAG / 2, upto=newest)  # a refresh that missed it
    same(j.member("chief"))
    figures_refresh(now=now)
    same(j.member("chief"))


def test_the_page_reads_the_figures_in_a_fixed_number_of_queries(county, django_assert_num_queries):
    j = county
    figures_refresh(now=timezone.now() - 2 * LAG)
    client = signed_in(j.member("chief"))
    client.get(reverse("web:supervision"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(reverse("web:supervision")).status_code == 200
        return len(seen)

    few = queries()
    for _ in range(8):
        walk(j, "registered", received_at=sh(2026, 9, 10, 9, 0))
    figures_refresh(now=timezone.now() - LAG)
    figures_refresh()
    assert queries() == few


def test_the_sums_and_the_newer_history_are_read_off_indexes(county):
    """The read's two statements that could grow: the sums of the reader's jurisdictions (their
    unique index leads with the jurisdiction and the month) and the history entries newer than
    the settled mark (the primary key)."""
    figures_refresh()
    units = list(FigureSum.objects.values_list("jurisdiction_id", flat=True).distinct())
    sums = FigureSum.objects.filter(jurisdiction_id__in=units, month__gte="2026-08-01")
    [every] = sums_read(Q(jurisdiction_id__in=units), None, None)
    newer = changed_since(10**9)
    if connection.vendor == "sqlite":
        # SQLite makes the unique constraint an index of its own name (sqlite_autoindex_…)
        plan = sums.explain()
        assert "SEARCH figures_figuresum USING INDEX" in plan and "jurisdiction_id=?" in plan, plan
        plan = every.explain()
        assert "SEARCH figures_figuretotal USING INDEX" in plan and "jurisdiction_id=?" in plan, (
            plan)
        assert "USING INTEGER PRIMARY KEY" in newer.explain(), newer.explain()
        # With statistics too (a DISTINCT here made SQLite scan the whole case_id index once
        # another test's ANALYZE had left statistics behind).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        assert "USING INTEGER PRIMARY KEY" in newer.explain(), newer.explain()
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a few rows: the planner would scan
        try:
            assert "figures_sum_one_bucket" in sums.explain(), sums.explain()
            assert "figures_total_one_bucket" in every.explain(), every.explain()
            assert "cases_caseevent_pkey" in newer.explain(), newer.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_a_county_reads_its_own_sums_among_a_province_of_them():
    """A county office's door names its whole subtree (a few hundred units, one or two of them
    jurisdictions with sums): PostgreSQL must estimate the rows of those ids, not a share of the
    province's, or it reads every sum of the province (``figures`` migrations 0003 and 0004) —
    the sums per month of a period and the totals of every month alike."""
    from datetime import date

    months = [date(2023 + i // 12, i % 12 + 1, 1) for i in range(40)]
    FigureSum.objects.bulk_create([
        FigureSum(jurisdiction_id=j, month=m, dim="unit", key=str(k), received=1)
        for j in range(1000, 1150) for m in months for k in range(5)], batch_size=5000)
    FigureTotal.objects.bulk_create([
        FigureTotal(jurisdiction_id=j, year=EVERY_YEAR, dim="unit", key=str(k), received=40)
        for j in range(1000, 1150) for k in range(200)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE figures_figuresum")
        cursor.execute("ANALYZE figures_figuretotal")
    county = [1000, *range(5000, 5229)]  # the county and its units without a sum
    spring = (months[1], months[5])  # no whole year: the sums per month alone
    # (a few months of this small table: the month index may serve them as cheaply; at a
    # million cases a county's quarter is read off the unique index, PERFORMANCE.md lead24)
    for period, table, indexes, rows in ((spring, "figures_figuresum",
                                          ("figures_sum_one_bucket", "figures_sum_month"), 4 * 5),
                                         ((None, None), "figures_figuretotal",
                                          ("figures_total_one_bucket",), 200)):
        # The estimate is what the statistics decide (the county's rows, not a sixth of the
        # province's); which scan a small test table gets for it also weighs its size on disk,
        # which the rolled-back rows of earlier tests change — so with scans off, an index
        # must serve.
        [read] = sums_read(Q(jurisdiction_id__in=county), *period)
        scan = re.search(rf"on {table}\s.*?rows=(\d+)", read.explain())
        assert scan and int(scan.group(1)) <= 10 * rows, read.explain()
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            try:
                plan = read.explain()
            finally:
                cursor.execute("SET enable_seqscan = on")
        assert any(index in plan for index in indexes), plan
    within = Q(jurisdiction_id__in=county)
    assert sums_read(within, *spring)[0].count() == 5
    assert sums_read(within, None, None)[0].count() == 200


def test_a_sweep_that_raised_warnings_leaves_the_figures_exact_and_nothing_to_recount(jianan):
    """The sweep's writes (warnings raised, alerts, ownership, backlog lines and their history
    entries) change no figure, so they do not make the cases "recent": a first sweep over a
    county's open cases left every one of them to be recounted on each read for ``LAG``."""
    from tests.conftest import register_in
    from xinfang.cases.models import Alert, SweepMark
    from xinfang.cases.services.supervision import sweep
    from xinfang.figures.services import UNCOUNTED, _marks

    j = jianan
    # given cases registered in September, settled in the kept figures
    cases = [register_in(j, received_at=sh(2026, 9, 2 + i, 9, 0)) for i in range(4)]
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=(),
         received_at=sh(2026, 9, 3, 9, 0))
    # with, set behind the services' back, facts that match jianan's warning rule (a city
    # referral) and one case unsettled past the register's quarter
    ids = [case.pk for case in cases]
    Case.objects.filter(pk__in=ids).update(source_level="city")
    Case.objects.filter(pk=ids[0]).update(accepted_at=sh(2026, 1, 5, 9, 0))
    SweepMark.objects.filter(case_id__in=ids).delete()
    figures_refresh(now=timezone.now() - 2 * LAG)
    figures_refresh()
    settled = settled_upto(_marks())
    # when the sweep raises the warnings and enters the backlog line
    done = sweep(at=sh(2026, 9, 20, 9, 0))
    assert done.warnings >= 1 and done.backlog == 1
    assert Alert.objects.filter(case_id__in=ids, kind="warning").exists()
    newer = CaseEvent.objects.filter(id__gt=settled)
    assert set(newer.values_list("type", flat=True)) == {"warning_raised", "backlog_entered"}
    # then none of the swept cases is unsure, and the page equals the straight counts
    assert not newer.exclude(type__in=UNCOUNTED).exists()
    for m in (j.member("chief"), j.member("approver")):
        same(m)
    # and the next refresh counts no case again
    assert figures_refresh() == 0
    for m in (j.member("chief"), j.member("approver")):
        same(m)


def test_a_refresh_that_counted_many_cases_reads_its_tables_statistics(jianan, monkeypatch):
    """The first refresh writes every kept row and sum; the pages must not plan on the empty
    tables' statistics until autovacuum (off on some servers) comes round. A small refresh
    leaves the statistics alone."""
    from datetime import timedelta

    from tests.conftest import register_in
    from xinfang.cases import dbstats
    from xinfang.figures import services

    for day in (14, 15, 16):
        register_in(jianan, at=sh(2026, 9, day, 10))
    monkeypatch.setattr(dbstats, "ANALYZE_FROM", 3)
    with CaptureQueriesContext(connection) as ctx:
        assert services.figures_refresh() == 3
    analyzed = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analyzed == ['ANALYZE "figures_casefigure"', 'ANALYZE "figures_figuresum"',
                        'ANALYZE "figures_figuretotal"'], analyzed
    register_in(jianan, at=sh(2026, 9, 17, 10))
    with CaptureQueriesContext(connection) as ctx:
        assert services.figures_refresh(now=timezone.now() + timedelta(hours=1)) < 3
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]


def test_a_reassigned_case_counts_for_its_new_unit_after_the_next_refresh(county):
    """A reassignment (改派) moves a case's lead unit: the kept sums follow it, as every change
    a history entry marks."""
    j = county
    case = walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    figures_refresh(now=timezone.now() - 2 * LAG)
    figures_refresh(now=timezone.now() - LAG)
    figures_refresh()
    inspector = j.member("inspector")
    bureau, town = j.bureaus["区民政局"], j.townships["将官池镇"]
    before = kept(inspector)["unit"]
    assert str(bureau.pk) in before
    perform("reassign", case=case, by=j.member("clerk"), lead=town, reason="交办有误",
            receiver_name="马俊")
    figures_refresh(now=timezone.now() - LAG)
    figures_refresh()
    same(inspector)
    after = kept(inspector)["unit"]
    assert after.get(str(bureau.pk), {}).get("received", 0) == before[str(bureau.pk)][
        "received"] - 1
    assert after[str(town.pk)]["received"] == before.get(str(town.pk), {}).get("received", 0) + 1
