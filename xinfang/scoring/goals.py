"""Goal metrics (工作目标): the seeds' own aims, each measured for a period and for the same span
of the year before, with the months of both years side by side (the trend).

- seed 001 一(二): "信访总量有序下降…群众满意度稳步提升…不出现赴省级以上越级访和重复访";
- seed 003 §三(二): "以降低信访总量、减少积案存量、提升办件质量为重点";
- seed 000 §十一: "努力减少越级上访、重复上访、集体上访".

Measures (``goals.measure``): flows counted by the month a case was received — ``received``,
``provincial_or_above`` (referred from the province or the centre: 交办层级省级及以上),
``level_skipping``, ``repeat``, ``collective``, ``satisfaction_rate`` (satisfied ÷ rated); and
one stock, ``backlog`` (积案存量): the cases registered and not yet closed at an instant, taken at
each month's end. A period still running is compared up to today with the same days last year.

Aims (``goals.aim``): ``zero`` — none in the period; ``fall`` — fewer than last year (both zero
counts as met); ``rise`` — more than last year. Two queries in all, whatever the data size: one
grouped by month for the flows, one grouped by where each case's registration and closing fall
among the month-ends for the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case as SqlCase
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.db.plans import planned_each_time
from xinfang.figures.services import month_of, next_month
from xinfang.org.models import Membership
from xinfang.reports.periods import Period
from xinfang.rules.consumers import consumes
from xinfang.rules.profile.schema import Goal, Profile

from .sources import REPEAT

MEASURE_LABELS = {
    "received": "信访总量（件）",
    "provincial_or_above": "省级及以上交办件（件）",
    "level_skipping": "越级访（件）",
    "repeat": "重复访（件）",
    "collective": "集体访（件）",
    "backlog": "积案存量（期末未办结件）",
    "satisfaction_rate": "满意率",
}
AIM_LABELS = {"zero": "为零", "fall": "同比下降", "rise": "同比上升"}
FLOWS = {
    "received": Q(),
    "provincial_or_above": Q(source_level__in=[c.SourceLevel.PROVINCE, c.SourceLevel.CENTRAL]),
    "level_skipping": Q(level_skipping=True),
    "repeat": REPEAT,
    "collective": Q(collective=True),
    "rated": ~Q(rating=""),
    "satisfied": Q(rating__in=[c.Rating.SATISFIED, c.Rating.BASICALLY]),
}
NOT_BACKLOG = [c.State.MERGED, c.State.DECLINED]
CLOSED = [c.State.CLOSED, c.State.ARCHIVED]


@dataclass(frozen=True)
class MonthPoint:
    month: int  # 1–12
    now: float | None  # None: the month has not begun
    before: float | None


@dataclass(frozen=True)
class GoalResult:
    goal: Goal
    now: float | None
    before: float | None
    met: bool | None  # None: cannot be judged (a rate with nothing rated)
    months: list[MonthPoint]

    @property
    def is_rate(self) -> bool:
        return self.goal.measure == "satisfaction_rate"

    @property
    def change(self) -> str:
        if self.now is None or self.before is None:
            return "—"
        if self.is_rate:
            delta = (self.now - self.before) * 100
            way = "上升" if delta > 0 else "下降"
            return "持平" if not delta else f"{way}{abs(delta):.1f}个百分点"
        if self.before == 0:
            return "去年同期为0" if self.now else "持平（均为0）"
        pct = (self.now - self.before) / self.before * 100
        return "持平" if not pct else f"{'上升' if pct > 0 else '下降'}{abs(pct):.1f}%"


def _aware(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.get_current_timezone())


def _year_back(d: datetime) -> datetime:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _months_from(first: date, end: date) -> list[date]:
    """The first days of the months from ``first``'s to the last one beginning before ``end``."""
    out, d = [], first.replace(day=1)
    while d < end:
        out.append(d)
        d = next_month(d)
    return out


def _months(period: Period) -> list[date]:
    return _months_from(period.start, period.end)


def _met(aim: str, now: float | None, before: float | None) -> bool | None:
    if now is None:
        return None
    if aim == "zero":
        return now == 0
    if before is None:
        return None
    if aim == "fall":
        return now < before or now == before == 0
    return now > before


@consumes("goals.measure", "goals.aim", by="xinfang.scoring.goals.goal_results")
def goal_results(*, by: Membership, profile: Profile | None, period: Period,
                 now: datetime) -> list[GoalResult]:
    """The profile's goals for ``period`` against the same span a year before, with the months."""
    goals = profile.goals if profile else ()
    if not goals:
        return []
    start, end = period.bounds()
    stop = min(end, now)  # a running period: up to now, and last year up to the same day
    cases = cases_for(by)
    months = _months(period)
    # Planned for their own spans: once a year's statements were prepared, PostgreSQL's generic
    # plan for the flows took 122 ms against 26 (1M, lead27).
    with planned_each_time():
        flows = _flows(cases, start, stop) if any(g.measure != "backlog" for g in goals) else {}
        backlog = _backlog(cases, months, start, end, stop) if any(
            g.measure == "backlog" for g in goals) else {}
    out = []
    for g in goals:
        series = []
        for m in months:
            key_now, key_before = (m.year, m.month), (m.year - 1, m.month)
            begun = _aware(m) < stop
            if g.measure == "backlog":
                v_now = backlog.get(("now", m)) if begun else None
                v_before = backlog.get(("before", m))
            else:
                v_now = _value(g.measure, flows.get(key_now)) if begun else None
                v_before = _value(g.measure, flows.get(key_before))
            series.append(MonthPoint(m.month, v_now, v_before))
        if g.measure == "backlog":
            total_now, total_before = backlog.get(("now", "end")), backlog.get(("before", "end"))
        else:
            total_now = _value(g.measure, _sum(flows, "now", months))
            total_before = _value(g.measure, _sum(flows, "before", months))
        out.append(GoalResult(g, total_now, total_before, _met(g.aim, total_now, total_before),
                              series))
    return out


def flow_months(start: datetime, stop: datetime) -> list[date]:
    """The calendar months (their first days) from the month a year before ``start`` to the
    month of ``stop``: every month a flow can fall in."""
    return _months_from(month_of(_year_back(start)), month_of(stop) + timedelta(days=1))


def flow_rows(cases: QuerySet[Case], start: datetime, stop: datetime) -> QuerySet:
    """The flows' counts per calendar month received, this span and the same span a year
    before: one statement, read off ``case_jurisdiction_received`` (its included columns are
    what ``FLOWS`` tests). ``m`` is the month's place in ``flow_months`` counted from 1: a
    case's month is found by halving the months' first instants (``_bucket``), where
    truncating each case's time to its month was a Python function a row on SQLite."""
    span = (Q(received_at__gte=start, received_at__lt=stop)
            | Q(received_at__gte=_year_back(start), received_at__lt=_year_back(stop)))
    firsts = [_aware(d) for d in flow_months(start, stop)]
    return (cases.filter(span).exclude(state=c.State.MERGED).order_by()
            .annotate(m=_bucket("received_at", firsts, 0, len(firsts))).values("m")
            .annotate(**{k: Count("pk", filter=q) if q else Count("pk")
                         for k, q in FLOWS.items()}))


def _flows(cases: QuerySet[Case], start: datetime, stop: datetime) -> dict:
    """Counts per calendar month received, this span and the same span a year before."""
    months = flow_months(start, stop)
    out = {}
    for r in flow_rows(cases, start, stop):
        m = months[r["m"] - 1]
        out[(m.year, m.month)] = {k: r[k] or 0 for k in FLOWS}
    return out


def _sum(flows: dict, which: str, months: list[date]) -> dict:
    total = dict.fromkeys(FLOWS, 0)
    for m in months:
        key = (m.year, m.month) if which == "now" else (m.year - 1, m.month)
        for k, v in (flows.get(key) or {}).items():
            total[k] += v
    return total


def _value(measure: str, row: dict | None) -> float | None:
    row = row or dict.fromkeys(FLOWS, 0)
    if measure == "satisfaction_rate":
        return row["satisfied"] / row["rated"] if row["rated"] else None
    return row[measure]


def _backlog(cases: QuerySet[Case], months: list[date], start: datetime, end: datetime,
             stop: datetime) -> dict:
    """Open cases at each month's end (or at ``stop`` for the month running), this year and the
    year before, and at the period's end (or now): one query (``open_at_instants``)."""
    instants: dict[tuple, datetime] = {}
    for m in months:
        nxt = next_month(m)
        instants[("now", m)] = min(_aware(nxt), stop)
        running = _aware(m) < stop < _aware(nxt)
        instants[("before", m)] = _year_back(stop if running else _aware(nxt))
    instants[("now", "end")] = stop
    instants[("before", "end")] = _year_back(stop)
    at = open_at_instants(cases.exclude(state__in=NOT_BACKLOG), instants.values())
    return {k: at[t] for k, t in instants.items()}


def _bucket(field: str, instants: list[datetime], lo: int, hi: int) -> SqlCase | Value:
    """How many of ``instants`` (sorted) are at or before the row's ``field``, known to lie in
    ``lo``…``hi``: a CASE halving the range at each level, a few comparisons a row."""
    if lo == hi:
        return Value(lo)
    mid = (lo + hi + 1) // 2  # the count is at least mid when field >= instants[mid - 1]
    before = When(**{f"{field}__lt": instants[mid - 1]}, then=_bucket(field, instants, lo, mid - 1))
    return SqlCase(before, default=_bucket(field, instants, mid, hi), output_field=IntegerField())


def backlog_rows(cases: QuerySet[Case], ordered: list[datetime]) -> QuerySet:
    """``(rb, cb, n)``: how many of ``cases`` have ``rb`` of the instants (``ordered``, sorted)
    before their registration and ``cb`` before their closing (``cb`` is −1 for a case closed
    without a date, never open; ``len(ordered) + 1`` for a case not closed, open at every
    instant after its registration). One statement, read off ``case_jurisdiction_received``,
    which carries the three columns."""
    k = len(ordered)
    closed = SqlCase(
        When(closed_at__isnull=True,
             then=SqlCase(When(state__in=CLOSED, then=Value(-1)), default=Value(k + 1),
                          output_field=IntegerField())),
        default=_bucket("closed_at", ordered, 0, k), output_field=IntegerField())
    return (cases.order_by().annotate(rb=_bucket("registered_at", ordered, 0, k), cb=closed)
            .values("rb", "cb").annotate(n=Count("pk")).values_list("rb", "cb", "n"))


def open_at_instants(cases: QuerySet[Case], instants) -> dict[datetime, int]:
    """How many of ``cases`` are open (registered before, not closed by then) at each instant.

    A case is open at ``t`` when it was registered before ``t`` and is either still open (no
    ``closed_at`` and not in a closed state) or was closed at or after ``t``. The cases are
    counted per pair of buckets (``backlog_rows``): one pass over an office's cases with a few
    comparisons each, where a count per instant tested every case against every instant (26
    for a year and the year before: 177 → 32 ms at 1M with the index, docs/PERFORMANCE.md
    lead27)."""
    ordered = sorted(set(instants))
    k = len(ordered)
    if not k:
        return {}
    found = [0] * (k + 1)
    for rb, cb, n in backlog_rows(cases, ordered):
        # open at the i-th instant (1-based) when registered before it (rb < i) and not closed
        # before it (cb >= i); a case registered at or after the last instant has rb = k
        for i in range(rb + 1, min(cb, k) + 1):
            found[i] += n
    return {t: found[i] for i, t in enumerate(ordered, start=1)}
