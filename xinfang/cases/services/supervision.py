"""督 — warnings, alerts and the sweep.

The sweep is idempotent by construction: every alert and warning notice has a uniqueness
constraint on what it is about, and is inserted so that a conflict is skipped, so running it
twice (or two workers at once) raises nothing twice.

It is also cheap when nothing changes: each clock is marked once its alert of a kind is raised,
and partial indexes hold only the clocks still owed one, so a steady pass reads the clocks whose
state changes and not the others; a case's warning rules are applied again only after a
transition changed it (``Case.swept_version``). The 60-day cause analysis (seed 002 §五(二)) is
a clock like any other, raised by the overdue pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q

from xinfang.notify.services import notify_alerts
from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import compute_due
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import Profile
from xinfang.rules.store import profile_of, working_calendar

from .. import choices as c
from ..facts import case_facts
from ..models import Alert, Assignment, Case, Clock, WarningNotice
from .due import case_refresh_due

OFFICE_ROLES = {"clerk", "approver", "chief", "inspector"}
BATCH = 1000  # rows per transaction in the sweep


def _alert_unit(case: Case, role: str):
    if role in OFFICE_ROLES:
        return case.jurisdiction
    lead = case.assignments.filter(role=c.AssignmentRole.LEAD,
                                   status=c.AssignmentStatus.ACTIVE).first()
    return lead.unit if lead else case.jurisdiction


def raise_alerts(*, case: Case, clock: Clock | None, kind: str, roles, message: str,
                 at: datetime) -> int:
    """Raise one alert per role (each at most once ever); returns how many were new. Two
    statements whatever the number of roles; a sweep inserting the same alert at the same moment
    is skipped by the unique constraint."""
    roles = list(dict.fromkeys(roles))
    have = set(Alert.objects.filter(case=case, clock=clock, kind=kind, role__in=roles)
               .values_list("role", flat=True))
    units: dict[bool, object] = {}
    new = []
    for role in roles:
        if role in have:
            continue
        office = role in OFFICE_ROLES
        if office not in units:
            units[office] = _alert_unit(case, role)
        new.append(Alert(case=case, clock=clock, kind=kind, role=role, unit=units[office],
                         message=message[:300], created_at=at))
    Alert.objects.bulk_create(new, ignore_conflicts=True)
    if new:  # their inbox notices (flagged for the outbox), in this transaction
        notify_alerts(new)
    return len(new)


def raise_alert(*, case: Case, clock: Clock | None, kind: str, role: str, message: str,
                at: datetime) -> bool:
    """True when a new alert was created."""
    return raise_alerts(case=case, clock=clock, kind=kind, roles=[role], message=message,
                        at=at) == 1


@consumes("warnings.when", "warnings.to", "warnings.cc", "warnings.follow_up", "warnings.notice",
          "warnings.leader_ownership", "warnings.owner", "warnings.ownership_items",
          by="xinfang.cases.services.supervision.evaluate_warnings")
def evaluate_warnings(*, case: Case, profile: Profile, at: datetime,
                      raised_at: datetime | None = None) -> list[str]:
    """Apply the profile's warning rules to the case, each once; returns the rules newly applied.
    A rule with ``notice: false`` (leader ownership only: seeds 000, 001, 003) raises its alerts
    and a ``warning_raised`` history entry but issues no written notice to be answered.

    ``raised_at``: the instant the warning arose, when earlier than ``at`` — a backdated
    registration raises its warnings at the received instant, so a notice's follow-up counts
    from there, not from the moment of typing. History entries are still written at ``at``."""
    from .base import append_event

    at, written_at = raised_at or at, at

    facts = case_facts(case)
    issued = []
    for rule in profile.warnings:
        if not rule.when.matches(facts):
            continue
        if not rule.notice:
            if _raise_warning(case, rule, at, written_at):
                issued.append(rule.name)
            continue
        if case.warning_notices.filter(rule=rule.name).exists():
            continue
        try:
            with transaction.atomic():  # a concurrent sweep may issue the same notice first
                notice = _issue_warning(case, rule, at)
        except IntegrityError:
            continue
        _warning_alerts(case, rule, notice.follow_up, at)
        clock = notice.follow_up
        append_event(case=case, type="warning_issued", by=None, at=written_at,
                     actor_role="system",
                     payload={"rule": rule.name, "reasons": notice.reasons,
                              "issued_at": at.isoformat(),
                              "due": clock.due_at.isoformat() if clock else None,
                              "to": list(rule.to), "cc": list(rule.cc),
                              "ownership_items": list(rule.ownership_items)})
        issued.append(rule.name)
    return issued


def _warning_alerts(case: Case, rule, clock: Clock | None, at: datetime) -> None:
    raise_alerts(case=case, clock=clock, kind=Alert.Kind.WARNING, roles=[*rule.to, *rule.cc],
                 message=f"{case.number} {rule.label}", at=at)
    if rule.leader_ownership and case.leader_owner_id is None:
        # The leader the rule names owns the case (datonghu: the chief for a key case).
        raise_alert(case=case, clock=None, kind=Alert.Kind.WARNING,
                    role=rule.owner or (rule.to[0] if rule.to else "approver"),
                    message=f"{case.number} 须落实领导包案"
                    + (f"（{'、'.join(rule.ownership_items)}）" if rule.ownership_items else ""),
                    at=at)


def _raise_warning(case: Case, rule, at: datetime, written_at: datetime) -> bool:
    """A warning without a written notice: its history entry is the record that it was raised."""
    from .base import append_event

    raised = case.events.filter(type="warning_raised")
    if any(e.get("rule") == rule.name for e in raised.values_list("payload", flat=True)):
        return False
    _warning_alerts(case, rule, None, at)
    append_event(case=case, type="warning_raised", by=None, at=written_at, actor_role="system",
                 payload={"rule": rule.name, "reasons": warning_reasons(case),
                          "to": list(rule.to), "cc": list(rule.cc),
                          "leader_ownership": rule.leader_ownership,
                          "ownership_items": list(rule.ownership_items)})
    return True


def _issue_warning(case: Case, rule, at: datetime) -> WarningNotice:
    clock = None
    if rule.follow_up:
        due = compute_due(at, rule.follow_up.amount, rule.follow_up.unit,
                          calendar=working_calendar())
        clock = Clock.objects.create(
            case=case, name=f"warning:{rule.name}",
            label=f"{rule.label}：调查核实、原因分析和化解方案",
            amount=rule.follow_up.amount, unit=rule.follow_up.unit, started_at=at,
            due_at=due.due, provisional=due.provisional, explanation=due.steps,
            alert_roles=list(rule.to) + list(rule.cc), seed=rule.seed,
        )
    notice = WarningNotice.objects.create(
        case=case, rule=rule.name, reasons=warning_reasons(case), to_roles=list(rule.to),
        cc_roles=list(rule.cc), issued_at=at, follow_up=clock,
    )
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


def sweep(*, at: datetime) -> SweepResult:
    result = SweepResult()
    # Windows (the 30 days to ask for a review) close without being late; only deadlines alert.
    result.overdue = _clock_alerts(
        Clock.objects.filter(status=Clock.Status.RUNNING, kind="deadline",
                             overdue_alerted=False, due_at__lt=at),
        kind=Alert.Kind.OVERDUE, flag="overdue_alerted", at=at, what="已超期",
    )
    # Each clock has its own span (a profile may give more than three days); the longest among
    # the clocks still owed the alert bounds the query (read off a partial index).
    owed = Clock.objects.filter(status=Clock.Status.RUNNING, kind="deadline",
                                due_soon_alerted=False)
    longest = owed.aggregate(hours=Max("due_soon_hours"))["hours"] or 0
    soon = owed.filter(due_at__gte=at, due_at__lte=at + timedelta(hours=longest))
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

    # The warning rules read the case's facts, which only a transition changes.
    changed = (Case.objects.filter(state__in=c.OPEN_STATES)
               .exclude(swept_version=F("version")).select_related("jurisdiction"))
    last = 0
    while True:
        with transaction.atomic():
            # Under the cases' locks, as a transition would be: two sweeps at once apply a
            # warning rule once.
            batch = list(changed.select_for_update(of=("self",)).filter(pk__gt=last)
                         .order_by("pk")[:BATCH // 2])
            if not batch:
                break
            for case in batch:
                p = profile(case)
                result.warnings += len(evaluate_warnings(case=case, profile=p, at=at))
                result.analyses += _analysis(case, p, at)
            Case.objects.filter(pk__in=[case.pk for case in batch]).update(
                swept_version=F("version"))
        last = batch[-1].pk
    from xinfang.registers.backlog import backlog_sweep

    result.backlog = backlog_sweep(at=at)
    return result


def _clock_alerts(owed, *, kind: str, flag: str, at: datetime, what: str,
                  within=None) -> int:
    """Raise ``kind`` alerts for the clocks in ``owed`` (a query over the clocks still owed one)
    to the roles each clock names, and mark them. One transaction and a handful of statements
    per batch of plain rows; the recipients' units come from one query for the batch."""
    raised = 0
    cursor = None
    owed = owed.order_by("due_at", "pk").values_list(
        "pk", "case_id", "label", "alert_roles", "due_at", "due_soon_hours", "case__number",
        "case__jurisdiction_id", named=True,
    )
    while True:
        page = owed
        if cursor is not None:
            due, pk = cursor
            page = page.filter(Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk))
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
            Clock.objects.filter(pk__in=[clock.pk for clock in clocks]).update(**{flag: True})


def _insert_alerts(clocks: list, *, kind: str, at: datetime, what: str) -> int:
    case_ids = {clock.case_id for clock in clocks}
    leads: dict[int, int] = {}
    handling = (Assignment.objects.filter(case_id__in=case_ids, role=c.AssignmentRole.LEAD,
                                          status=c.AssignmentStatus.ACTIVE)
                .order_by("assigned_at", "id").values_list("case_id", "unit_id"))
    for case_id, unit_id in handling:
        leads.setdefault(case_id, unit_id)
    existing = set(Alert.objects.filter(clock_id__in=[clock.pk for clock in clocks], kind=kind)
                   .values_list("clock_id", "role"))
    new = []
    for clock in clocks:
        office = clock.case__jurisdiction_id
        for role in dict.fromkeys(clock.alert_roles or ["clerk"]):
            if (clock.pk, role) in existing:
                continue
            unit = office if role in OFFICE_ROLES else leads.get(clock.case_id, office)
            message = f"{clock.case__number} {clock.label}{what}"[:300]
            new.append(Alert(case_id=clock.case_id, clock_id=clock.pk, kind=kind, role=role,
                             unit_id=unit, message=message, created_at=at))
    # A sweep running at the same moment may have inserted some: the unique constraint skips
    # them rather than failing the batch.
    Alert.objects.bulk_create(new, ignore_conflicts=True)
    if new:  # their inbox notices (flagged for the outbox), in this transaction
        notify_alerts(new)
    return len(new)


@consumes("analysis.on_relapse", by="xinfang.cases.services.supervision._analysis")
def _analysis(case: Case, profile: Profile, at: datetime) -> bool:
    """Seed 002 §五(二) "息访后反弹的": a relapsed (reopened) case needs a cause analysis at once.
    The 60 days after acceptance are a clock on the case (``rules.engine.analysis_clock``),
    swept and shown like every other."""
    analysis = profile.analysis
    if not analysis or not analysis.on_relapse or case.accepted_at is None:
        return False
    if not case.events.filter(type="reopen").exists():
        return False
    return raise_alert(case=case, clock=None, kind=Alert.Kind.ANALYSIS, role="approver", at=at,
                       message=f"{case.number} 已销号后反弹，须分析原因、制定下一步措施")
