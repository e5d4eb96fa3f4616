"""What the supervision page (督查督办) shows, all read through ``cases_for``: late and warned
cases, warning notices and their follow-up, leader-owned and backlog cases, the profile's targets
and where the cases come from (by category, by township)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext as _

from xinfang.cases import choices as c
from xinfang.cases.duesort import DueKey, past_due
from xinfang.cases.models import Case, Demand, WarningNotice
from xinfang.cases.paging import capped_count, capped_text
from xinfang.cases.probes import among
from xinfang.cases.rates import NO_UNIT, SPLITS, TargetResult, results_of
from xinfang.cases.selectors import door_for
from xinfang.figures.models import DIMS
from xinfang.figures.services import Figures, figures_through, without_kept_out
from xinfang.org.models import Unit, names_told_apart
from xinfang.registers.models import BacklogCase
from xinfang.rules.profile import Profile
from xinfang.rules.store import current_version, profile_of

from .charts import Chart, count_chart, target_chart
from .present import ClockView, clock_view, clock_words
from .queues import ordered

LIST_SIZE = 20
# The page's list counts stop here ("1000+"): a county with more late cases than this needs the
# ledger's filters, not an exact figure read row by row on every reload.
COUNT_CAP = 1000


def unanswered_warnings():
    """The cases with a warning notice not yet answered (one subquery, read once)."""
    return WarningNotice.objects.filter(answered_at=None).values("case_id")


def overdue_or_warned(scope: QuerySet[Case], now: datetime) -> QuerySet[Case]:
    """Open cases with a running deadline past due (the case's ``open_due_at``: its
    ``next_due_at`` while it is open), or with a warning notice not yet answered."""
    # Each side of the OR is answerable from an index on its own ((jurisdiction, open_due_at),
    # and the notices' case ids), so the database unions two index reads instead of scanning the
    # cases.
    return scope.filter(
        Q(open_due_at__lt=now) | Q(state__in=c.OPEN_STATES, pk__in=unanswered_warnings())
    )


def late_sides(scope: QuerySet[Case], now: datetime) -> tuple[QuerySet[Case], QuerySet[Case]]:
    """``overdue_or_warned`` as its two sides, each in the due order: past due; and warned but
    not past due. Every past-due case sorts before every other, so the list is the first side
    followed by the second — and each side is one index range in the due order
    (``xinfang.cases.duesort``), where the OR made the database collect and sort every late case
    of the county for a page of twenty."""
    open_ = scope.filter(state__in=c.OPEN_STATES)
    due = DueKey(F("next_due_at"))
    late = ordered(past_due(scope, now))
    not_late = Q(GreaterThanOrEqual(due, now)) | Q(next_due_at=None)
    warned = ordered(open_.filter(not_late, pk__in=unanswered_warnings()))
    return late, warned


def late_list(scope: QuerySet[Case], now: datetime) -> tuple[list[Case], str]:
    """The first ``LIST_SIZE`` late or warned cases in the due order, and their capped count."""
    late, warned = late_sides(scope, now)
    rows = list(late[:LIST_SIZE])
    if len(rows) < LIST_SIZE:
        rows += list(warned[: LIST_SIZE - len(rows)])
    n = capped_count(late, COUNT_CAP)
    if n <= COUNT_CAP:
        n += capped_count(warned, COUNT_CAP)
    return rows, f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


@dataclass
class NoticeRow:
    notice: WarningNotice
    reasons: str
    follow_up: ClockView | None

    @property
    def answered(self) -> bool:
        return self.notice.answered_at is not None


def warning_rows(scope: QuerySet[Case], now: datetime, figures: PageFigures | None = None
                 ) -> tuple[list[NoticeRow], str]:
    """Warning notices on cases in scope: unanswered first (soonest follow-up due first), then
    the most recently answered. For an office reader they are read by their own jurisdiction
    (``in_door``)."""
    qs = in_door(WarningNotice.objects.all(), scope, figures).select_related(
        "case", "follow_up"
    )
    total = capped_text(qs, COUNT_CAP)
    unanswered = list(
        qs.filter(answered_at=None).order_by("follow_up__due_at", "-issued_at")[:LIST_SIZE]
    )
    answered = list(
        qs.exclude(answered_at=None).order_by("-answered_at")[: max(0, LIST_SIZE - len(unanswered))]
    )
    rows, words = [], clock_words()  # the request's language once, not per row
    for n in unanswered + answered:
        reasons = "；".join(str(r) for r in (n.reasons or []))
        follow = clock_view(n.follow_up, now, words) if n.follow_up else None
        rows.append(NoticeRow(notice=n, reasons=reasons, follow_up=follow))
    return rows, total


def leader_owned(scope: QuerySet[Case]) -> QuerySet[Case]:
    """Open cases a leader owns (领导包案): off ``case_leader_owned_open`` on PostgreSQL,
    ``case_leader_owned_state`` on SQLite (migrations 0019, 0021), or for a door that tests
    each case's path (a province's), ``case_leader_owned_by_state`` (0035)."""
    return (
        scope.filter(state__in=c.OPEN_STATES, leader_owner__isnull=False)
        .select_related("leader_owner")
        .order_by("received_at")
    )


def first_owned(owned: QuerySet[Case]) -> list[Case]:
    """The first ``LIST_SIZE`` of ``leader_owned``: their ids off the county's own open
    leader-owned cases (index ``case_leader_owned_open``), then those rows with their leader —
    the join made PostgreSQL walk every leader-owned case of the province in the leader's order,
    or hash every user."""
    ids = list(owned.select_related(None).order_by("received_at", "pk")
               .values_list("pk", flat=True)[:LIST_SIZE])
    return list(Case.objects.filter(pk__in=ids).select_related("leader_owner")
                .order_by("received_at", "pk"))


def in_door(lines: QuerySet, scope: QuerySet[Case], figures: PageFigures | None = None
            ) -> QuerySet:
    """The ``lines`` (rows keeping their case and the case's jurisdiction: backlog lines,
    warning notices) whose case is in ``scope``.

    For an office reader (``figures`` read through its door: ``figures.units``) they are read by
    their own jurisdiction — a case never changes jurisdiction — and those of the cases the door
    keeps from the reader (``figures.kept_out``, a superset) are tested through the door by id.
    Asking the database for the lines whose case is in the door's scope made it read every case
    of the county: 20,029 of 200,000 rows for 919 backlog lines (110–200 ms a statement, twice
    on PostgreSQL); on SQLite a probe of the notices per case of the county (22 ms a statement
    with no notice at all)."""
    if figures is None or figures.units is None:
        return lines.filter(case__in=scope.values("pk"))
    lines = lines.filter(among("jurisdiction_id", tuple(figures.units)), case__isnull=False)
    return without_kept_out(lines, scope, figures.kept_out or set())


def backlog_in(scope: QuerySet[Case], figures: PageFigures | None = None
               ) -> QuerySet[BacklogCase]:
    """Backlog cases (积案) not yet resolved, among the cases in scope (``in_door``; a line takes
    its case's jurisdiction, ``registers.services.case_columns``, and an imported line is linked
    only to a case of its own jurisdiction), soonest deadline first (lines without one last;
    ties in the order entered: the lines the sweep enters have no deadline, and a parallel plan
    returned them in a different order on each reload)."""
    lines = in_door(BacklogCase.objects.filter(resolved_at=None), scope, figures)
    return lines.select_related("case", "owner_leader").order_by(
        F("plan_deadline").asc(nulls_last=True), "pk")


def by_category(scope: QuerySet[Case]) -> list[tuple[str, int]]:
    """Cases per demand category (a case with demands in two categories counts in both)."""
    rows = (
        Demand.objects.filter(case__in=scope.values("pk"))
        .values("category")
        .annotate(n=Count("case", distinct=True))
    )
    return [(r["category"] or "—", r["n"]) for r in rows]


def by_township(scope: QuerySet[Case]) -> list[tuple[str, int]]:
    rows = scope.values("township").annotate(n=Count("pk", distinct=True))
    names = dict(
        Unit.objects.filter(pk__in=[r["township"] for r in rows if r["township"]]).values_list(
            "pk", "name"
        )
    )
    return [(names.get(r["township"], _("未填属地")), r["n"]) for r in rows]


@dataclass
class Targets:
    profile: Profile | None
    results: list[TargetResult]
    chart: Chart | None


@dataclass
class UnitRates:
    """One unit's line of the split table: its name and each target's result."""

    unit: str
    results: list[TargetResult]


@dataclass
class PageFigures:
    """Every figure of the page, from the kept sums (``xinfang.figures``): over the period's
    cases (``period``) and over all the cases in scope (``all``: the charts, the open count)."""

    period: Figures
    all: Figures
    # An office reader's jurisdictions (``Door.jurisdictions``, by which the lines
    # are read off their jurisdiction's index; ``within``, the same as the filter the kept sums
    # are read with) and the cases among them its door keeps from it (a superset); None: not an
    # office (see ``Door.kept_out``).
    units: list[int] | None = None
    within: Q | None = None
    kept_out: set[int] | None = None


# What the page shows of the figures over every case: the charts per category and per
# township, and the totals (open, owed).
CHARTED = ("category", "township")


def page_figures(m, scope: QuerySet[Case], *, start: datetime | None = None,
                 end: datetime | None = None, split: str | None = None) -> PageFigures:
    """The figures of the cases ``m`` may read: the kept sums of its jurisdictions, corrected by
    the cases that changed since and those the door keeps from it (``figures_over``).
    ``split``: the one split the page's rates show (``unit_rates``): then only what the page
    shows is read per key (the period's ``split``, every case's ``CHARTED``); None: all."""
    door = door_for(m)
    out = door.kept_out
    # Not an office (its scope is not its jurisdictions' cases): counted straight.
    units, within = ((door.jurisdictions, door.by_jurisdiction()) if out is not None
                     else (None, None))
    if split is None:
        every_keys = period_keys = DIMS
    else:
        every_keys, period_keys = CHARTED, (split,)
    if start is None and end is None:
        keys = tuple(d for d in DIMS if d in every_keys or d in period_keys)
        everything = figures_through(door, scope, keys=keys)
        return PageFigures(everything, everything, units, within, out)
    everything = figures_through(door, scope, keys=every_keys)
    return PageFigures(figures_through(door, scope, start=start, end=end, keys=period_keys),
                       everything, units, within, out)


def _counted(found: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The split's keys with a case in them (a kept bucket may have been emptied)."""
    return {k: n for k, n in found.items() if n["received"]}


def targets_for(home: Unit | None, figures: PageFigures) -> Targets:
    """The targets of the jurisdiction's profile in force, measured over the period's cases."""
    if home is None or not home.profile_code:
        return Targets(None, [], None)
    profile = profile_of(current_version(home.profile_code))
    results = results_of(figures.period.total, profile)
    return Targets(profile, results, target_chart(results) if results else None)


def unit_rates(home: Unit | None, figures: PageFigures, *, split: str = "unit",
               then: Mapping[int, str] | None = None) -> list[UnitRates]:
    """The profile's targets per lead handling unit or per township, over the period's cases
    (one query for the units' names; ``then``: the period's names, ``names_then``)."""
    if home is None or not home.profile_code or split not in SPLITS:
        return []
    profile = profile_of(current_version(home.profile_code))
    if not profile.targets:
        return []
    grouped = _counted(figures.period.by[split])
    names = names_told_apart((int(k) for k in grouped if k), then=then)
    rows = [UnitRates(names.get(int(k), NO_UNIT) if k else NO_UNIT, results_of(n, profile))
            for k, n in grouped.items()]
    return sorted(rows, key=lambda r: (r.unit == NO_UNIT, r.unit))


MOST_TOWNSHIPS = 30  # bars of the township chart; a county has fewer townships


def counts_by(figures: PageFigures) -> dict[str, Chart]:
    """Cases per demand category (a case with demands in two categories counts in both) and
    per township, over all the cases in scope."""
    categories = _counted(figures.all.by["category"])
    townships = sorted(((k, n["received"]) for k, n in _counted(figures.all.by["township"])
                        .items()), key=lambda kn: (-kn[1], kn[0]))
    # A city's or the province's townships are thousands: the most visited are drawn, the
    # rest summed in one bar (2,400 bars were a quarter of a province page's 0.4 s).
    shown, left = townships[:MOST_TOWNSHIPS], townships[MOST_TOWNSHIPS:]
    names = names_told_apart(int(k) for k, _n in shown if k)
    rest = ((_("其余%(n)d个乡镇") % {"n": len(left)}, sum(n for _k, n in left))
            if left else None)
    return {
        "category": count_chart([(k or "—", n["received"]) for k, n in categories.items()]),
        "township": count_chart([(names.get(int(k), _("未填属地")) if k else _("未填属地"), n)
                                 for k, n in shown], rest=rest),
    }


def open_count(figures: PageFigures) -> int:
    return figures.all.total["open"]
