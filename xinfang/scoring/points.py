"""Unit scores (单位考核评分) from the profile's ``scoring`` section.

Seed 004 §二(七): "采取季考评、年考核的办法实施，…明确扣分、加分项目及奖惩机制"; seed 000 §十:
"将涉贫信访工作纳入年度对脱贫攻坚工作考核…平时督查和年终考核相结合". The profile lists the points
(what is counted, how many points per case, the cap of the item) and the periods.

What is scored: the cases received in the period that the membership may see (the permission
door), merged cases left out (they are counted in the case they joined), each charged to its
current lead handling unit (主办单位, as the rates do). A unit's score is ``base`` plus, for each
point, ``points × cases`` held within ``cap`` either way. All units' counts come from one grouped
query; each point's cases (its evidence) are one filtered query, paged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.rates import in_period, lead_unit
from xinfang.cases.selectors import cases_for
from xinfang.db.plans import planned_each_time
from xinfang.org.models import Membership, names_then, names_told_apart
from xinfang.reports.periods import Period
from xinfang.rules.consumers import consumes
from xinfang.rules.profile.schema import Profile, ScorePoint, Scoring

from .sources import condition

NO_UNIT = "未交办"


@dataclass(frozen=True)
class PointResult:
    point: ScorePoint
    cases: int
    raw: float  # points × cases
    applied: float  # held within the cap
    available: bool = True  # False: the count cannot be taken here (no closed-case reviews)

    @property
    def capped(self) -> bool:
        return self.applied != self.raw


@dataclass
class UnitScore:
    unit_id: int | None
    unit: str
    cases: int
    points: list[PointResult]
    score: float
    rank: int = 0
    deductions: float = field(default=0.0)
    additions: float = field(default=0.0)


@dataclass
class Scores:
    period: Period
    scoring: Scoring | None
    units: list[UnitScore]  # ranked, best first
    unassigned: UnitScore | None  # the cases without a lead unit: counted, never ranked
    as_of: datetime
    # the names of the units renamed since the period's last day, as they were then
    then: dict[int, str] = field(default_factory=dict)

    @property
    def points(self) -> tuple[ScorePoint, ...]:
        return self.scoring.points if self.scoring else ()


def period_cases(by: Membership, period: Period) -> QuerySet[Case]:
    """The cases ``by`` may see received in ``period``, without the merged ones."""
    return in_period(cases_for(by), *period.bounds()).exclude(state=c.State.MERGED)


@consumes("scoring.base", "scoring.points", by="xinfang.scoring.points.score")
def score(scoring: Scoring, counts: dict[str, int], available: dict[str, bool]
          ) -> tuple[list[PointResult], float]:
    """Each point's result and the total, from the cases counted per point."""
    results, total = [], scoring.base
    for p in scoring.points:
        n = counts.get(p.name, 0)
        raw = p.points * n
        applied = raw if p.cap is None else max(-p.cap, min(p.cap, raw))
        results.append(PointResult(p, n, raw, applied, available.get(p.name, True)))
        total += applied
    return results, round(total, 2)


def conditions(scoring: Scoring, as_of: datetime) -> dict[str, Q | None]:
    return {p.name: condition(p, as_of) for p in scoring.points}


def unit_scores(*, by: Membership, profile: Profile | None, period: Period,
                as_of: datetime) -> Scores:
    """Every unit's score for ``period``, ranked (equal scores share a rank)."""
    scoring = profile.scoring if profile else None
    if scoring is None:
        return Scores(period, None, [], None, as_of)
    conds = conditions(scoring, as_of)
    available = {name: q is not None for name, q in conds.items()}
    aggregates = {f"p_{name}": Count("pk", filter=q) for name, q in conds.items() if q is not None}
    rows = (period_cases(by, period).order_by().annotate(score_unit=lead_unit())
            .values("score_unit").annotate(n=Count("pk"), **aggregates))
    # Planned for its own period: once a quarter's scores had prepared the statement, a year's
    # ran PostgreSQL's generic plan, 187 ms against 78 (1M, lead27).
    with planned_each_time():
        found = {r["score_unit"]: r for r in rows}
    # named as on the period's last day: a unit renamed since is scored under its name then
    then = names_then(period.end)
    names = names_told_apart(found, then=then)
    units, unassigned = [], None
    for unit_id, r in found.items():
        counts = {name: r.get(f"p_{name}") or 0 for name in conds}
        results, total = score(scoring, counts, available)
        entry = UnitScore(unit_id, names.get(unit_id, NO_UNIT) if unit_id else NO_UNIT, r["n"],
                          results, total,
                          deductions=round(sum(x.applied for x in results if x.applied < 0), 2),
                          additions=round(sum(x.applied for x in results if x.applied > 0), 2))
        if unit_id is None:
            unassigned = entry
        else:
            units.append(entry)
    # Equal scores: the unit with fewer deductions first, then by name (the rank is shared).
    units.sort(key=lambda u: (-u.score, -u.deductions, u.unit))
    for pos, u in enumerate(units):
        u.rank = units[pos - 1].rank if pos and units[pos - 1].score == u.score else pos + 1
    return Scores(period, scoring, units, unassigned, as_of, then)


def evidence(*, by: Membership, profile: Profile | None, period: Period, unit_id: int | None,
             point: str, as_of: datetime) -> QuerySet[Case]:
    """The cases behind one point of one unit (``unit_id`` None: the unassigned cases), newest
    first — what the page lists under the count. Raises ``KeyError`` for an unknown point."""
    scoring = profile.scoring if profile else None
    rule = next((p for p in scoring.points if p.name == point), None) if scoring else None
    if rule is None:
        raise KeyError(point)
    q = condition(rule, as_of)
    qs = period_cases(by, period).annotate(score_unit=lead_unit())
    qs = qs.filter(score_unit__isnull=True) if unit_id is None else qs.filter(score_unit=unit_id)
    if q is None:
        return qs.none()
    return qs.filter(q).order_by("-received_at", "-pk")
