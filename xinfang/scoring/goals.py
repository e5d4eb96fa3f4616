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
grouped by month for the flows, one with a count per month-end for the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
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


def _months(period: Period) -> list[date]:
    out, d = [], period.start.replace(day=1)
    while d < period.end:
        out.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return out


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
    flows = _flows(cases, start, stop) if any(g.measure != "backlog" for g in goals) else {}
    months = _months(period)
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


def flow_rows(cases: QuerySet[Case], start: datetime, stop: datetime) -> QuerySet:
    """The flows' counts per calendar month received, this span and the same span a year
    before: one statement, read off ``case_jurisdiction_received`` (its included columns are
    what ``FLOWS`` tests)."""
    span = (Q(received_at__gte=start, received_at__lt=stop)
            | Q(received_at__gte=_year_back(start), received_at__lt=_year_back(stop)))
    return (cases.filter(span).exclude(state=c.State.MERGED).order_by()
            .annotate(m=TruncMonth("received_at")).values("m")
            .annotate(**{k: Count("pk", filter=q) if q else Count("pk")
                         for k, q in FLOWS.items()}))


def _flows(cases: QuerySet[Case], start: datetime, stop: datetime) -> dict:
    """Counts per calendar month received, this span and the same span a year before."""
    out = {}
    for r in flow_rows(cases, start, stop):
        m = timezone.localtime(r["m"]) if isinstance(r["m"], datetime) else r["m"]
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
    year before, and at the period's end (or now): one query with a count per instant."""
    instants: dict[tuple, datetime] = {}
    for m in months:
        nxt = date(m.year + m.month // 12, m.month % 12 + 1, 1)
        instants[("now", m)] = min(_aware(nxt), stop)
        running = _aware(m) < stop < _aware(nxt)
        instants[("before", m)] = _year_back(stop if running else _aware(nxt))
    instants[("now", "end")] = stop
    instants[("before", "end")] = _year_back(stop)

    def open_at(t: datetime) -> Q:
        still_open = Q(closed_at__isnull=True) & ~Q(state__in=CLOSED)
        return Q(registered_at__lt=t) & (still_open | Q(closed_at__gte=t))

    keys = list(instants)
    scope = cases.exclude(state__in=NOT_BACKLOG).order_by()
    found = scope.aggregate(
        **{f"b{i}": Count("pk", filter=open_at(instants[k])) for i, k in enumerate(keys)})
    return {k: found[f"b{i}"] or 0 for i, k in enumerate(keys)}
