"""What the pages, the API, the supervision page and the scorecard read of the practices: the
return visits owed, the meetings missed, who was on duty, the counts per unit. Each list is a
fixed number of queries whatever its length."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.selectors import cases_for
from xinfang.org.models import Membership, Unit
from xinfang.reports.periods import Period, containing
from xinfang.rules.profile.schema import MeetingRule
from xinfang.rules.store import current_version, profile_of

from .holders import holders
from .models import DutySlot, Meeting, PracticeFlag, ReturnVisit, WatchEntry
from .rules import meeting_rules, practices_of, return_visit_due
from .services.return_visits import VISITABLE

SATISFIED = (c.Rating.SATISFIED, c.Rating.BASICALLY)


def owed_return_visits(scope: QuerySet[Case]) -> QuerySet[Case]:
    """Cases whose reply was delivered and that have no return visit yet, oldest first.

    Read it inside ``db.plans.planned_each_time``: its good plan walks the replies' index
    (``case_reply_delivered``) and stops at a page, as many steps as the reader's share of the
    province takes; a prepared statement's generic plan cannot know that share and read the
    county's 84,000 closed cases to sort them (280 ms at 1M cases, from the sixth call on).

    Only what its readers show is read (the number; the jurisdiction's profile, for the due
    instant): SQLite sorts the rows it returns whole, and the busy county's 16,446 owed cases
    sorted with all of a case's and a unit's columns took 93 of the list's 126 ms at 200k cases;
    sorted as the few columns here, 32 (lead50)."""
    return (
        scope.filter(state__in=VISITABLE, return_visit__isnull=True)
        # when the reply reached the petitioner, kept on the case (``reply_delivered_at``)
        .annotate(xf_delivered_at=F("reply_delivered_at"))
        .select_related("jurisdiction")
        .only("number", "jurisdiction__profile_code")
        .order_by("xf_delivered_at", "pk")
    )


@dataclass
class Owed:
    case: Case
    delivered_at: datetime | None
    due: datetime | None

    @property
    def late(self) -> bool:
        return self.due is not None and self.due < timezone.now()


def owed_rows(cases: list[Case]) -> list[Owed]:
    """Each owed case with its due instant (the profile's ``within`` after delivery)."""
    practices: dict[int, object] = {}
    rows = []
    for case in cases:
        if case.jurisdiction_id not in practices:
            practices[case.jurisdiction_id] = practices_of(case.jurisdiction)
        rows.append(
            Owed(
                case,
                case.xf_delivered_at,
                return_visit_due(practices[case.jurisdiction_id], case.xf_delivered_at),
            )
        )
    return rows


# --- meetings ------------------------------------------------------------------------------------


@dataclass
class RuleStatus:
    rule: MeetingRule
    period: Period  # the last completed period: the one a holder may have missed
    current: Period
    missed: list[Unit] = field(default_factory=list)
    held_now: int = 0
    holders: int = 0


def meeting_status(home: Unit, today: date | None = None) -> list[RuleStatus]:
    """For each meeting rule of the profile: the holders that did not meet in the last completed
    period, and how many have met in the current one (two queries a rule)."""
    today = today or timezone.localdate()
    out = []
    for rule in meeting_rules(practices_of(home)):
        current = containing(rule.period, today)
        last = current.previous()
        units = list(holders(rule, home))
        by_period = defaultdict(set)
        for unit_id, start in Meeting.objects.filter(
            jurisdiction=home, rule=rule.name, period_start__in=[last.start, current.start]
        ).values_list("unit_id", "period_start"):
            by_period[start].add(unit_id)
        out.append(
            RuleStatus(
                rule,
                last,
                current,
                [u for u in units if u.pk not in by_period[last.start]],
                len(by_period[current.start]),
                len(units),
            )
        )
    return out


# --- duty ----------------------------------------------------------------------------------------


@dataclass
class Reception:
    case: Case
    on_duty: Membership | None
    in_person: str  # the leader who received a 5-person (or extreme) visit in person


def on_duty(slots: list[DutySlot], day: date) -> Membership | None:
    for s in slots:
        if (
            s.weekday == day.weekday()
            and s.starts_on <= day
            and (s.ends_on is None or day <= s.ends_on)
        ):
            return s.leader
    return None


def duty_receptions(
    by: Membership, home: Unit, start: datetime, end: datetime, limit: int = 200
) -> list[Reception]:
    """Visits received in ``[start, end)``, each with the leader on duty that day (the roster)
    and, for a visit the profile's reception rule covers (seed 004 §一(三) 5人以上), the leader
    who received it in person — the face-to-face contact an earlier session made a condition of
    proposing (``cases.services.preconditions._reception_missing``)."""
    cases = list(
        cases_for(by)
        .filter(channel=c.Channel.VISIT, received_at__gte=start, received_at__lt=end)
        .order_by("received_at", "pk")[:limit]
    )
    slots = list(DutySlot.objects.filter(jurisdiction=home).select_related("leader__user"))
    roles = (
        {r for rule in profile_of(current_version(home.profile_code)).receptions for r in rule.by}
        if home.profile_code
        else set()
    )
    met: dict[int, str] = {}
    if roles and cases:
        for case_id, name in (
            CaseEvent.objects.filter(
                case_id__in=[x.pk for x in cases],
                type="log_contact",
                payload__kind=c.ContactKind.MEETING,
                actor_role__in=roles,
            )
            .order_by("seq")
            .values_list("case_id", "actor__full_name")
        ):
            met.setdefault(case_id, name)
    return [
        Reception(x, on_duty(slots, timezone.localdate(x.received_at)), met.get(x.pk, ""))
        for x in cases
    ]


# --- counts (supervision page, scorecard) --------------------------------------------------------


def return_visit_counts(
    home: Unit, start: datetime | None = None, end: datetime | None = None
) -> dict[int | None, dict[str, int]]:
    """Per lead unit: return visits made in ``[start, end)`` and how many were (basically)
    satisfied. One grouped query."""
    qs = ReturnVisit.objects.filter(jurisdiction=home)
    if start:
        qs = qs.filter(visited_at__gte=start)
    if end:
        qs = qs.filter(visited_at__lt=end)
    rows = qs.values("lead_unit").annotate(
        visits=Count("pk"), satisfied=Count("pk", filter=Q(satisfaction__in=SATISFIED))
    )
    return {r["lead_unit"]: {"visits": r["visits"], "satisfied": r["satisfied"]} for r in rows}


def flag_counts(
    home: Unit, start: datetime | None = None, end: datetime | None = None
) -> dict[int, dict[str, int]]:
    """Per unit: the items the sweep flagged in ``[start, end)`` by kind (``return_visit``,
    ``meeting``, ``watch``, ``persuade``, ``campaign``) — the evidence of a missed practice."""
    qs = PracticeFlag.objects.filter(jurisdiction=home)
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lt=end)
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for r in qs.values("unit", "kind").annotate(n=Count("pk")):
        out[r["unit"]][r["kind"]] = r["n"]
    return dict(out)


def practice_counts(
    home: Unit, start: datetime | None = None, end: datetime | None = None
) -> dict[int | None, dict[str, int]]:
    """What the scorecard reads (xinfang.reports): per unit, return visits and satisfied ones,
    meetings held, and each kind of missed practice. Three grouped queries."""
    out: dict[int | None, dict[str, int]] = defaultdict(dict)
    for unit, n in return_visit_counts(home, start, end).items():
        out[unit].update(n)
    meetings = Meeting.objects.filter(jurisdiction=home)
    if start:
        meetings = meetings.filter(held_on__gte=timezone.localdate(start))
    if end:
        meetings = meetings.filter(held_on__lt=timezone.localdate(end))
    for r in meetings.values("unit").annotate(n=Count("pk")):
        out[r["unit"]]["meetings"] = r["n"]
    for unit, kinds in flag_counts(home, start, end).items():
        out[unit].update({f"missed_{k}": n for k, n in kinds.items()})
    return dict(out)


def watch_overdue(home: Unit, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return WatchEntry.objects.filter(
        jurisdiction=home, released_at=None, review_due__lt=today
    ).count()


# --- the supervision page ------------------------------------------------------------------


@dataclass
class UnitSatisfaction:
    unit: str
    visits: int
    satisfied: int

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.visits if self.visits else None


@dataclass
class Summary:
    visits: int
    satisfied: int
    units: list[UnitSatisfaction]
    meetings: list[RuleStatus]
    watch_overdue: int

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.visits if self.visits else None


def supervision_summary(
    home: Unit | None, start: datetime | None = None, end: datetime | None = None
) -> Summary | None:
    """What the supervision page shows of the practices: the return visits' satisfaction
    (overall and per lead unit, visits made in the period), the holders that missed their last
    meeting, the watch-list reviews overdue. A fixed number of queries."""
    if home is None or not home.profile_code:
        return None
    counts = return_visit_counts(home, start, end)
    names = dict(Unit.objects.filter(pk__in=[k for k in counts if k]).values_list("pk", "name"))
    units = sorted(
        (
            UnitSatisfaction(names.get(k, "未交办"), n["visits"], n["satisfied"])
            for k, n in counts.items()
        ),
        key=lambda u: u.unit,
    )
    return Summary(
        sum(u.visits for u in units),
        sum(u.satisfied for u in units),
        units,
        meeting_status(home),
        watch_overdue(home),
    )
