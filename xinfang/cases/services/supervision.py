"""督 — warnings, alerts and the sweep.

The sweep is idempotent by construction: every alert and warning notice has a uniqueness
constraint on what it is about, and is inserted so that a conflict is skipped, so running it
twice (or two workers at once) raises nothing twice.

It is also cheap when nothing changes: each clock is marked once its alert of a kind is raised,
and partial indexes hold only the clocks still owed one, so a steady pass reads the clocks whose
state changes and not the others; a case's warning rules are applied again only after a
transition changed it (its version has no ``SweepMark``). The 60-day cause analysis (seed 002
§五(二)) is a clock like any other, raised by the overdue pass.

The first pass over many changed cases works a batch at a time: what the rules ask of each case
is read once for the batch (``Seen``), and its alerts and history entries go in one INSERT each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Case as DbCase
from django.db.models import DateTimeField, Exists, Max, OuterRef, Q, Value, When
from django.db.models.functions import Mod

from xinfang.notify.services import notify_alerts
from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import compute_due, deadline_text
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import Profile
from xinfang.rules.store import profile_of, working_calendar

from .. import choices as c
from ..bulk import insert_rows
from ..facts import case_facts
from ..models import Alert, Assignment, Case, CaseEvent, Clock, SweepMark, WarningNotice
from .base import EVENT_ROW, chained_row, history_heads
from .due import case_refresh_due, next_due_subquery

OFFICE_ROLES = {"clerk", "approver", "chief", "inspector"}
BATCH = 1000  # rows per transaction in the sweep


class AlertRow(NamedTuple):
    """An alert the sweep inserts, as a plain row (a first pass builds some 250,000 at a
    million cases: no model instance each). ``clock``: a clock's id, a follow-up ``Clock`` the
    batch inserts first, or None; ``due_at``: that clock's deadline the alert is raised for."""

    case_id: int
    clock: int | Clock | None
    kind: str
    role: str
    unit_id: int
    message: str
    created_at: datetime
    due_at: datetime | None = None

    @property
    def clock_id(self) -> int | None:
        return self.clock.pk if isinstance(self.clock, Clock) else self.clock


ALERT_ROW = ("case_id", "clock_id", "kind", "role", "unit_id", "message", "created_at", "due_at")


def insert_alert_rows(rows: list[AlertRow]) -> int:
    """The alerts in one statement and their inbox notices (flagged for the outbox) in one more;
    one a concurrent sweep inserted first is skipped by the unique constraints."""
    if not rows:
        return 0
    insert_rows(Alert, ALERT_ROW, [(r.case_id, r.clock_id, r.kind, r.role, r.unit_id, r.message,
                                    r.created_at, r.due_at) for r in rows], ignore_conflicts=True)
    notify_alerts(rows)
    return len(rows)


def _alert_unit(case: Case, role: str):
    if role in OFFICE_ROLES:
        return case.jurisdiction
    lead = case.assignments.filter(role=c.AssignmentRole.LEAD,
                                   status=c.AssignmentStatus.ACTIVE).first()
    return lead.unit if lead else case.jurisdiction


def raise_alerts(*, case: Case, clock: Clock | None, kind: str, roles, message: str,
                 at: datetime) -> int:
    """Raise one alert per role (each at most once ever, or once per deadline of ``clock``);
    returns how many were new. Two statements whatever the number of roles; a sweep inserting
    the same alert at the same moment is skipped by the unique constraint."""
    roles = list(dict.fromkeys(roles))
    due_at = clock.due_at if clock is not None else None
    have = set(Alert.objects.filter(case=case, clock=clock, kind=kind, role__in=roles,
                                    due_at=due_at).values_list("role", flat=True))
    units: dict[bool, object] = {}
    new = []
    for role in roles:
        if role in have:
            continue
        office = role in OFFICE_ROLES
        if office not in units:
            units[office] = _alert_unit(case, role)
        new.append(Alert(case=case, clock=clock, kind=kind, role=role, unit=units[office],
                         message=message[:300], created_at=at, due_at=due_at))
    Alert.objects.bulk_create(new, ignore_conflicts=True)
    if new:  # their inbox notices (flagged for the outbox), in this transaction
        notify_alerts(new)
    return len(new)


def raise_alert(*, case: Case, clock: Clock | None, kind: str, role: str, message: str,
                at: datetime) -> bool:
    """True when a new alert was created."""
    return raise_alerts(case=case, clock=clock, kind=kind, roles=[role], message=message,
                        at=at) == 1


@dataclass
class Seen:
    """What a sweep batch read once for all its cases, instead of a query per case and rule:
    the warning notices issued, the rules raised without a notice (``warning_raised`` history),
    the cases reopened, the cases that have their analysis alert."""

    notices: set[tuple[int, str]]
    raised: set[tuple[int, str]]
    reopened: set[int]
    analysed: set[int]
    # The categories of each case's demands (a fact the rules may read), read for the batch.
    categories: dict[int, set[str]] = field(default_factory=dict)
    # For the warnings raised without a notice (the batch's own writes, made at its end): the
    # warning alerts about no clock already built in the batch, the cases' lead units, the last
    # (seq, mac) of each history. (An alert raised before the batch is skipped by its unique
    # constraint, and so is its notice.)
    held: bool = False
    alerted: set[tuple[int, str]] = field(default_factory=set)
    leads: dict[int, int] = field(default_factory=dict)
    last: dict[int, tuple[int, str]] = field(default_factory=dict)
    alerts: list[AlertRow] = field(default_factory=list)
    events: list = field(default_factory=list)
    # Warning notices issued in the batch, with their follow-up clocks (inserted first: the
    # notices and alerts name them), and the cases whose next due instant those clocks move.
    clocks: list[Clock] = field(default_factory=list)
    issued: list[WarningNotice] = field(default_factory=list)
    due: set[int] = field(default_factory=set)
    ownership: object = None  # xinfang.ownership.services.OwnershipBatch, for held writes

    @classmethod
    def read(cls, case_ids: list[int], *, relapse: bool, writes: bool = False) -> Seen:
        from ..models import CaseEvent, Demand

        # ``order_by()``: the rows fill sets; the history's own order would be sorted for
        # nothing.
        raised = CaseEvent.objects.filter(case_id__in=case_ids, type="warning_raised").order_by()
        reopened = set(CaseEvent.objects.filter(case_id__in=case_ids, type="reopen")
                       .order_by().values_list("case_id", flat=True)) if relapse else set()
        seen = cls(
            notices=set(WarningNotice.objects.filter(case_id__in=case_ids)
                        .values_list("case_id", "rule")),
            raised={(case_id, (payload or {}).get("rule"))
                    for case_id, payload in raised.values_list("case_id", "payload")},
            reopened=reopened,
            # only a reopened case can be owed its analysis alert (``_analysis_message``)
            analysed=set(Alert.objects.filter(case_id__in=reopened, kind=Alert.Kind.ANALYSIS,
                                              clock=None, role="approver")
                         .order_by().values_list("case_id", flat=True)) if reopened else set(),
        )
        for case_id, category in (Demand.objects.filter(case_id__in=case_ids).order_by()
                                  .values_list("case_id", "category")):
            seen.categories.setdefault(case_id, set()).add(category)
        if writes:
            from xinfang.ownership.services import OwnershipBatch

            seen.held = True
            seen.ownership = OwnershipBatch(case_ids)
            handling = (Assignment.objects.filter(
                case_id__in=case_ids, role=c.AssignmentRole.LEAD,
                status=c.AssignmentStatus.ACTIVE,
            ).order_by("assigned_at", "id").values_list("case_id", "unit_id"))
            for case_id, unit_id in handling:
                seen.leads.setdefault(case_id, unit_id)
            seen.last = history_heads(case_ids)
        return seen

    def alert(self, case: Case, *, kind: str, roles, message: str, at: datetime,
              clock: Clock | None = None) -> None:
        """``raise_alerts`` held for the batch's one INSERT: about no clock, or about a clock the
        batch itself starts (which has no alert yet)."""
        for role in dict.fromkeys(roles):
            if clock is None and (case.pk, role) in self.alerted:
                continue
            if clock is None:
                self.alerted.add((case.pk, role))
            unit = (case.jurisdiction_id if role in OFFICE_ROLES
                    else self.leads.get(case.pk, case.jurisdiction_id))
            self.alerts.append(AlertRow(case.pk, clock, kind, role, unit, message[:300], at,
                                        clock.due_at if clock is not None else None))

    def event(self, case: Case, *, at: datetime, type: str, payload: dict) -> None:
        """``append_event`` of a system entry held for the batch's one INSERT, chained on the
        last one seen (a plain row: a first pass writes some 140,000 at a million cases)."""
        self.events.append(chained_row(case.pk, (case.profile.code, case.profile.version),
                                       self.last, at=at, type=type, payload=payload))

    def write(self) -> None:
        # The cases are locked and their notices were read under the locks: an insert that
        # conflicts fails the batch rather than leave a follow-up clock without its notice.
        Clock.objects.bulk_create(self.clocks)
        WarningNotice.objects.bulk_create(self.issued)
        insert_alert_rows(self.alerts)
        insert_rows(CaseEvent, EVENT_ROW, self.events)
        if self.ownership is not None:
            self.ownership.write()
        if self.due:  # ``case_refresh_due`` of the cases given a follow-up clock, in SQL
            Case.objects.filter(pk__in=self.due).update(next_due_at=next_due_subquery())
        self.alerts, self.events, self.clocks, self.issued, self.due = [], [], [], [], set()


@consumes("warnings.when", "warnings.to", "warnings.cc", "warnings.follow_up", "warnings.notice",
          "warnings.leader_ownership", "warnings.owner", "warnings.ownership_items",
          by="xinfang.cases.services.supervision.evaluate_warnings")
def evaluate_warnings(*, case: Case, profile: Profile, at: datetime,
                      raised_at: datetime | None = None, seen: Seen | None = None) -> list[str]:
    """Apply the profile's warning rules to the case, each once; returns the rules newly applied.
    A rule with ``notice: false`` (leader ownership only: seeds 000, 001, 003) raises its alerts
    and a ``warning_raised`` history entry but issues no written notice to be answered.

    ``raised_at``: the instant the warning arose, when earlier than ``at`` — a backdated
    registration raises its warnings at the received instant, so a notice's follow-up counts
    from there, not from the moment of typing. History entries are still written at ``at``.
    ``seen``: what the sweep read for its whole batch (else asked here, per rule)."""
    from .base import append_event

    at, written_at = raised_at or at, at

    facts = case_facts(case, categories=list(seen.categories.get(case.pk, ()))
                       if seen is not None else None)
    issued = []
    for rule in profile.warnings:
        if not rule.when.matches(facts):
            continue
        if not rule.notice:
            if seen is not None and seen.held:
                # a sweep batch: held for its one INSERT of alerts and one of history
                if (case.pk, rule.name) not in seen.raised:
                    seen.raised.add((case.pk, rule.name))
                    _raise_warning_held(case, rule, at, written_at, seen)
                    issued.append(rule.name)
                continue
            if seen is not None and (case.pk, rule.name) in seen.raised:
                continue
            if _raise_warning(case, rule, at, written_at, check=seen is None):
                issued.append(rule.name)
            continue
        if seen is not None:
            if (case.pk, rule.name) in seen.notices:
                continue
        elif case.warning_notices.filter(rule=rule.name).exists():
            continue
        if seen is not None and seen.held:  # a sweep batch: the notice held for its INSERTs
            seen.notices.add((case.pk, rule.name))
            notice = _issue_warning(case, rule, at, seen=seen)
            owned = _ownership(case, rule, at, seen)
            _warning_alerts_held(case, rule, notice.follow_up, at, seen, owned=bool(owned))
        else:
            try:
                with transaction.atomic():  # a concurrent sweep may issue the same notice first
                    notice = _issue_warning(case, rule, at)
            except IntegrityError:
                continue
            owned = _ownership(case, rule, at, seen)
            _warning_alerts(case, rule, notice.follow_up, at, owned=bool(owned))
        clock = notice.follow_up
        payload = {"rule": rule.name, "reasons": notice.reasons, "issued_at": at.isoformat(),
                   "due": clock.due_at.isoformat() if clock else None,
                   "to": list(rule.to), "cc": list(rule.cc),
                   "ownership_items": list(rule.ownership_items), **owned}
        if seen is not None and seen.held:  # chained after the batch's held entries
            seen.event(case, at=written_at, type="warning_issued", payload=payload)
        else:
            append_event(case=case, type="warning_issued", by=None, at=written_at,
                         actor_role="system", payload=payload)
        issued.append(rule.name)
    return issued


def _ownership(case: Case, rule, at: datetime, seen: Seen | None = None) -> dict:
    """A rule asking for leader ownership opens the case's items and names the owner the
    profile chooses (``xinfang.ownership``); what it did goes into the warning's history. In a
    sweep batch the writes are held for the batch's own statements."""
    if not rule.leader_ownership:
        return {}
    if seen is not None and seen.ownership is not None:
        return seen.ownership.open(case=case, rule=rule, at=at)
    from xinfang.ownership.services import ownership_open

    return ownership_open(case=case, rule=rule, at=at)


def _warning_alerts(case: Case, rule, clock: Clock | None, at: datetime, *,
                    owned: bool = False) -> None:
    """``owned``: the profile has just named the owner (told with the ownership alert)."""
    raise_alerts(case=case, clock=clock, kind=Alert.Kind.WARNING, roles=[*rule.to, *rule.cc],
                 message=f"{case.number} {rule.label}", at=at)
    if rule.leader_ownership and (case.leader_owner_id is None or owned):
        # The leader the rule names owns the case (datonghu: the chief for a key case).
        raise_alert(case=case, clock=None, kind=Alert.Kind.WARNING,
                    role=rule.owner or (rule.to[0] if rule.to else "approver"),
                    message=_ownership_message(case, rule), at=at)


def _warning_alerts_held(case: Case, rule, clock: Clock | None, at: datetime, seen: Seen, *,
                         owned: bool = False) -> None:
    """``_warning_alerts`` for a sweep batch: held for its one INSERT."""
    seen.alert(case, kind=Alert.Kind.WARNING, roles=[*rule.to, *rule.cc],
               message=f"{case.number} {rule.label}", at=at, clock=clock)
    if rule.leader_ownership and (case.leader_owner_id is None or owned):
        seen.alert(case, kind=Alert.Kind.WARNING,
                   roles=[rule.owner or (rule.to[0] if rule.to else "approver")],
                   message=_ownership_message(case, rule), at=at)


def _ownership_message(case: Case, rule) -> str:
    items = f"（{'、'.join(rule.ownership_items)}）" if rule.ownership_items else ""
    owner = case.leader_owner if case.leader_owner_id else None
    named = f"，包案领导：{owner.full_name or owner.username}" if owner is not None else ""
    return f"{case.number} 须落实领导包案{items}{named}"


def _raise_warning(case: Case, rule, at: datetime, written_at: datetime, *,
                   check: bool = True) -> bool:
    """A warning without a written notice: its history entry is the record that it was raised.
    ``check=False``: the caller read the history already (a sweep batch, under the case's lock)."""
    from .base import append_event

    raised = case.events.filter(type="warning_raised")
    if check and any(e.get("rule") == rule.name
                     for e in raised.values_list("payload", flat=True)):
        return False
    owned = _ownership(case, rule, at)
    _warning_alerts(case, rule, None, at, owned=bool(owned))
    append_event(case=case, type="warning_raised", by=None, at=written_at, actor_role="system",
                 payload={"rule": rule.name, "reasons": warning_reasons(case),
                          "to": list(rule.to), "cc": list(rule.cc),
                          "leader_ownership": rule.leader_ownership,
                          "ownership_items": list(rule.ownership_items), **owned})
    return True


def _raise_warning_held(case: Case, rule, at: datetime, written_at: datetime,
                        seen: Seen) -> None:
    """``_raise_warning`` for a sweep batch (the case locked, its history and alerts read)."""
    owned = _ownership(case, rule, at, seen)
    _warning_alerts_held(case, rule, None, at, seen, owned=bool(owned))
    seen.event(case, at=written_at, type="warning_raised", payload={
        "rule": rule.name, "reasons": warning_reasons(case), "to": list(rule.to),
        "cc": list(rule.cc), "leader_ownership": rule.leader_ownership,
        "ownership_items": list(rule.ownership_items), **owned})


def _issue_warning(case: Case, rule, at: datetime, *, seen: Seen | None = None
                   ) -> WarningNotice:
    """The written notice and its follow-up clock; in a sweep batch (``seen`` holding writes)
    built for the batch's INSERTs instead of written."""
    clock = None
    if rule.follow_up:
        due = compute_due(at, rule.follow_up.amount, rule.follow_up.unit,
                          calendar=working_calendar())
        clock = Clock(
            case=case, name=f"warning:{rule.name}",
            label=f"{rule.label}：调查核实、原因分析和化解方案",
            amount=rule.follow_up.amount, unit=rule.follow_up.unit, started_at=at,
            due_at=due.due, provisional=due.provisional, explanation=due.steps,
            alert_roles=list(rule.to) + list(rule.cc), seed=rule.seed,
        )
    notice = WarningNotice(
        case=case, jurisdiction_id=case.jurisdiction_id, rule=rule.name,
        reasons=warning_reasons(case), to_roles=list(rule.to), cc_roles=list(rule.cc),
        issued_at=at, follow_up=clock,
    )
    if seen is not None and seen.held:
        seen.clocks += [clock] if clock is not None else []
        seen.issued.append(notice)
        if clock is not None:
            seen.due.add(case.pk)
        return notice
    if clock is not None:
        clock.save(force_insert=True)
    notice.save(force_insert=True)
    if clock is not None:
        case_refresh_due(case)
    return notice


def warning_reasons(case: Case) -> list[str]:
    reasons = []
    if case.repeat_count:
        reasons.append(f"第{case.repeat_count + 1}次信访")
    if case.level_skipping:
        reasons.append("越级访")
    if case.collective:
        reasons.append(f"集体访（{case.headcount}人）")
    if case.extreme_behaviour:
        reasons.append("极端信访行为")
    return reasons


@dataclass
class SweepResult:
    overdue: int = 0
    due_soon: int = 0
    warnings: int = 0
    analyses: int = 0
    backlog: int = 0  # cases the profile sent to the backlog register (registers.backlog)

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()

    @classmethod
    def total(cls, results) -> SweepResult:
        out = cls()
        for result in results:
            for name, value in result.as_dict().items():
                setattr(out, name, getattr(out, name) + value)
        return out


def sweep(*, at: datetime, processes: int | None = None) -> SweepResult:
    """One sweep at ``at``. A pass with many changed cases (a first pass after an import) is
    split between ``processes`` worker processes, each taking its share of the cases
    (``sweep_split``); a steady pass runs here."""
    from .sweep_split import split_sweep

    # The warning rules read the case's facts, which only a transition changes: the open cases
    # whose version has no mark, read in one statement (an anti-join of the open cases and the
    # marks), then worked a batch at a time.
    marked = SweepMark.objects.filter(case=OuterRef("pk"), version=OuterRef("version"))
    owed = list(Case.objects.filter(~Exists(marked), state__in=c.OPEN_STATES).order_by("pk")
                .values_list("pk", flat=True))
    split = split_sweep(at=at, owed=owed, processes=processes)
    result = split if split is not None else sweep_part(at=at, owed=owed)
    _analyze_filled(sum(result.as_dict().values()))
    return result


def _analyze_filled(raised: int) -> None:
    """A first pass (``raised`` past ``dbstats.ANALYZE_FROM``) fills these tables from nothing:
    until their statistics are read again the planner takes them for empty — at 1M cases
    PostgreSQL nested-looped over a county's 4,803 backlog lines it had planned as 32 (29–37 ms
    of the supervision page, 10 ms once analysed), and SQLite never gathers statistics on its
    own. A server's autovacuum would get there within minutes; an office's embedded database
    only at the next ``db optimize``."""
    from xinfang.cases.dbstats import analyze_after
    from xinfang.notify.models import Notice
    from xinfang.ownership.models import OwnershipItem
    from xinfang.registers.models import BacklogCase

    # The alerts' notices too: taken for empty, PostgreSQL planned an approver's 13,800 as 8 and
    # joined each to its case before sorting them (1M cases, after the first sweep).
    analyze_after([Alert, Notice, WarningNotice, SweepMark, BacklogCase, OwnershipItem], raised)


def sweep_part(*, at: datetime, owed: list[int], part: int = 0, parts: int = 1) -> SweepResult:
    """The sweep of the cases whose id is ``part`` modulo ``parts`` (all of them by default):
    their clocks' alerts, the warning rules of those in ``owed``, the backlog register. Parts
    run at once touch disjoint cases, so they never wait on each other's locks."""
    result = SweepResult()

    def share(clocks):
        if parts == 1:
            return clocks
        return clocks.alias(sweep_part=Mod("case_id", parts)).filter(sweep_part=part)

    if parts > 1:
        owed = [pk for pk in owed if pk % parts == part]
    # Windows (the 30 days to ask for a review) close without being late; only deadlines alert.
    result.overdue = _clock_alerts(
        share(Clock.objects.filter(status=Clock.Status.RUNNING, kind="deadline",
                                   overdue_alerted=False, due_at__lt=at)),
        kind=Alert.Kind.OVERDUE, flag="overdue_alerted", at=at, what="已超期",
    )
    # Each clock has its own span (a profile may give more than three days); the longest among
    # the clocks still owed the alert bounds the query (read off a partial index).
    due = Clock.objects.filter(status=Clock.Status.RUNNING, kind="deadline",
                               due_soon_alerted=False)
    longest = due.aggregate(hours=Max("due_soon_hours"))["hours"] or 0
    soon = share(due.filter(due_at__gte=at, due_at__lte=at + timedelta(hours=longest)))
    result.due_soon = _clock_alerts(
        soon, kind=Alert.Kind.DUE_SOON, flag="due_soon_alerted", at=at, what="即将到期",
        within=lambda clock: clock.due_at - at <= timedelta(hours=clock.due_soon_hours),
    )
    # Profile versions are few and their texts long: read each once, never joined per case.
    versions = ProfileVersion.objects.in_bulk()
    profiles: dict[int, Profile] = {}

    def profile(case: Case) -> Profile:
        case.profile = versions[case.profile_id]
        if case.profile_id not in profiles:
            profiles[case.profile_id] = profile_of(versions[case.profile_id])
        return profiles[case.profile_id]

    relapse = any(profile_of(v).analysis and profile_of(v).analysis.on_relapse
                  for v in versions.values())
    for i in range(0, len(owed), BATCH // 2):
        with transaction.atomic():
            # Under the cases' locks, as a transition would be: two sweeps at once apply a
            # warning rule once (each reads what is raised once it holds the locks).
            batch = list(Case.objects.filter(pk__in=owed[i:i + BATCH // 2],
                                             state__in=c.OPEN_STATES)
                         .select_related("jurisdiction").select_for_update(of=("self",))
                         .order_by("pk"))
            if not batch:
                continue
            # What the rules and the analysis ask of each case, read once for the batch.
            seen = Seen.read([case.pk for case in batch], relapse=relapse, writes=True)
            analyses: list[Alert] = []
            for case in batch:
                p = profile(case)
                result.warnings += len(evaluate_warnings(case=case, profile=p, at=at, seen=seen))
                analyses += _analysis_alerts(case, p, at, seen)
            seen.write()
            result.analyses += _insert_analyses(analyses)
            SweepMark.objects.bulk_create(
                [SweepMark(case_id=case.pk, version=case.version) for case in batch],
                update_conflicts=True, unique_fields=["case"], update_fields=["version"])
    from xinfang.registers.backlog import backlog_sweep

    result.backlog = backlog_sweep(at=at, part=part, parts=parts)
    return result


def _clock_alerts(owed, *, kind: str, flag: str, at: datetime, what: str,
                  within=None) -> int:
    """Raise ``kind`` alerts for the clocks in ``owed`` (a query over the clocks still owed one)
    to the roles each clock names, and mark them. One transaction and a handful of statements
    per batch of plain rows; the recipients' units come from one query for the batch."""
    raised = 0
    cursor = None
    owed = owed.order_by("due_at", "pk").values_list(
        "pk", "case_id", "label", "alert_roles", "due_at", "due_soon_hours", "provisional",
        "case__number", "case__jurisdiction_id", named=True,
    )
    while True:
        page = owed
        if cursor is not None:
            due, pk = cursor
            # ``due_at >= due`` is what the partial index can seek to; the OR alone was a
            # filter, and each page read the index from its start (63,000 clocks at 1M).
            page = page.filter(Q(due_at__gt=due) | Q(pk__gt=pk), due_at__gte=due)
        with transaction.atomic():
            clocks = list(page[:BATCH])
            if not clocks:
                return raised
            cursor = (clocks[-1].due_at, clocks[-1].pk)
            if within is not None:
                clocks = [clock for clock in clocks if within(clock)]
            if not clocks:
                continue
            raised += _insert_alerts(clocks, kind=kind, at=at, what=what)
            _mark_alerted(clocks, flag)


def _mark_alerted(clocks: list, flag: str) -> None:
    """Set ``flag`` on ``clocks`` where the deadline is still the one alerted: an extension
    committed meanwhile owes the alert again for its new deadline (``engine.move_due``). One
    statement, its test flat — ``due_at = CASE WHEN id IN (…) THEN … END``, a branch per
    deadline — where an OR per deadline nested past SQLite's 1,000 levels in a batch whose
    clocks fall due at many instants."""
    alerted: dict[datetime, list[int]] = {}
    for clock in clocks:
        alerted.setdefault(clock.due_at, []).append(clock.pk)
    read = DbCase(*(When(pk__in=pks, then=Value(due)) for due, pks in alerted.items()),
                  output_field=DateTimeField())
    Clock.objects.filter(pk__in=[clock.pk for clock in clocks], due_at=read).update(
        **{flag: True})


def _insert_alerts(clocks: list, *, kind: str, at: datetime, what: str) -> int:
    case_ids = {clock.case_id for clock in clocks}
    leads: dict[int, int] = {}
    handling = (Assignment.objects.filter(case_id__in=case_ids, role=c.AssignmentRole.LEAD,
                                          status=c.AssignmentStatus.ACTIVE)
                .order_by("assigned_at", "id").values_list("case_id", "unit_id"))
    for case_id, unit_id in handling:
        leads.setdefault(case_id, unit_id)
    existing = set(Alert.objects.filter(clock_id__in=[clock.pk for clock in clocks], kind=kind)
                   .order_by().values_list("clock_id", "role", "due_at"))
    new = []
    for clock in clocks:
        office = clock.case__jurisdiction_id
        # The deadline in the message: a clock extended after its alert is alerted again, and
        # a deadline counted on a year whose holidays are not loaded says it is provisional.
        provisional = "，暂定" if clock.provisional else ""
        message = (f"{clock.case__number} {clock.label}{what}"
                   f"（期限{deadline_text(clock.due_at)}{provisional}）")[:300]
        for role in dict.fromkeys(clock.alert_roles or ["clerk"]):
            if (clock.pk, role, clock.due_at) in existing:
                continue
            unit = office if role in OFFICE_ROLES else leads.get(clock.case_id, office)
            new.append(AlertRow(clock.case_id, clock.pk, kind, role, unit, message, at,
                                clock.due_at))
    # A sweep running at the same moment may have inserted some: the unique constraint skips
    # them rather than failing the batch.
    return insert_alert_rows(new)


def _analysis_alerts(case: Case, profile: Profile, at: datetime, seen: Seen) -> list[Alert]:
    """The relapse alert to raise for this case in a sweep batch (none or one)."""
    if case.pk in seen.analysed:
        return []
    message = _analysis_message(case, profile, reopened=case.pk in seen.reopened)
    if message is None:
        return []
    seen.analysed.add(case.pk)
    return [Alert(case_id=case.pk, clock=None, kind=Alert.Kind.ANALYSIS, role="approver",
                  unit_id=case.jurisdiction_id, message=message[:300], created_at=at)]


def _insert_analyses(alerts: list[Alert]) -> int:
    """One INSERT for a batch's analysis alerts; one raised at the same moment by a concurrent
    sweep is skipped by the unique constraint (and not counted)."""
    if not alerts:
        return 0
    before = Alert.objects.filter(case_id__in=[a.case_id for a in alerts],
                                  kind=Alert.Kind.ANALYSIS, clock=None, role="approver").count()
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    notify_alerts(alerts)
    after = Alert.objects.filter(case_id__in=[a.case_id for a in alerts],
                                 kind=Alert.Kind.ANALYSIS, clock=None, role="approver").count()
    return after - before


@consumes("analysis.on_relapse", by="xinfang.cases.services.supervision._analysis_message")
def _analysis_message(case: Case, profile: Profile, *,
                      reopened: bool | None = None) -> str | None:
    """Seed 002 §五(二) "息访后反弹的": a relapsed (reopened) case needs a cause analysis at once
    — the alert's text, else None. The 60 days after acceptance are a clock on the case
    (``rules.engine.analysis_clock``). ``reopened``: whether the case was ever reopened, when
    the caller read it already."""
    analysis = profile.analysis
    if not analysis or not analysis.on_relapse or case.accepted_at is None:
        return None
    if reopened if reopened is not None else case.events.filter(type="reopen").exists():
        return f"{case.number} 已销号后反弹，须分析原因、制定下一步措施"
    return None
