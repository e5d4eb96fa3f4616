"""督 — warnings, alerts and the sweep.

The sweep is idempotent by construction: every alert and warning notice has a uniqueness
constraint on what it is about, and is created with get_or_create, so running it twice (or two
workers at once) raises nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max

from xinfang.rules.deadlines import compute_due
from xinfang.rules.profile import Profile
from xinfang.rules.store import profile_of, working_calendar

from .. import choices as c
from ..facts import case_facts
from ..models import Alert, Case, Clock, WarningNotice
from .due import case_refresh_due

OFFICE_ROLES = {"clerk", "approver", "chief", "inspector"}


def _alert_unit(case: Case, role: str):
    if role in OFFICE_ROLES:
        return case.jurisdiction
    lead = case.assignments.filter(role=c.AssignmentRole.LEAD,
                                   status=c.AssignmentStatus.ACTIVE).first()
    return lead.unit if lead else case.jurisdiction


def raise_alert(*, case: Case, clock: Clock | None, kind: str, role: str, message: str,
                at: datetime) -> bool:
    """True when a new alert was created."""
    try:
        with transaction.atomic():
            _, created = Alert.objects.get_or_create(
                case=case, clock=clock, kind=kind, role=role,
                defaults={"unit": _alert_unit(case, role), "message": message[:300],
                          "created_at": at},
            )
    except IntegrityError:
        return False
    return created


def evaluate_warnings(*, case: Case, profile: Profile, at: datetime) -> list[str]:
    """Apply the profile's warning rules to the case, each once; returns the rules newly applied.
    A rule with ``notice: false`` (leader ownership only: seeds 000, 001, 003) raises its alerts
    and a ``warning_raised`` history entry but issues no written notice to be answered."""
    from .base import append_event

    facts = case_facts(case)
    issued = []
    for rule in profile.warnings:
        if not rule.when.matches(facts):
            continue
        if not rule.notice:
            if _raise_warning(case, rule, at):
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
        append_event(case=case, type="warning_issued", by=None, at=at, actor_role="system",
                     payload={"rule": rule.name, "reasons": notice.reasons,
                              "due": clock.due_at.isoformat() if clock else None,
                              "to": list(rule.to), "cc": list(rule.cc)})
        issued.append(rule.name)
    return issued


def _warning_alerts(case: Case, rule, clock: Clock | None, at: datetime) -> None:
    for role in [*rule.to, *rule.cc]:
        raise_alert(case=case, clock=clock, kind=Alert.Kind.WARNING, role=role,
                    message=f"{case.number} {rule.label}", at=at)
    if rule.leader_ownership and case.leader_owner_id is None:
        # The leader the rule names owns the case (datonghu: the chief for a key case).
        raise_alert(case=case, clock=None, kind=Alert.Kind.WARNING,
                    role=rule.owner or (rule.to[0] if rule.to else "approver"),
                    message=f"{case.number} 须落实领导包案", at=at)


def _raise_warning(case: Case, rule, at: datetime) -> bool:
    """A warning without a written notice: its history entry is the record that it was raised."""
    from .base import append_event

    raised = case.events.filter(type="warning_raised")
    if any(e.get("rule") == rule.name for e in raised.values_list("payload", flat=True)):
        return False
    _warning_alerts(case, rule, None, at)
    append_event(case=case, type="warning_raised", by=None, at=at, actor_role="system",
                 payload={"rule": rule.name, "reasons": warning_reasons(case),
                          "to": list(rule.to), "cc": list(rule.cc),
                          "leader_ownership": rule.leader_ownership})
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

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def sweep(*, at: datetime) -> SweepResult:
    result = SweepResult()
    # Windows (the 30 days to ask for a review) close without being late; only deadlines alert.
    running = Clock.objects.filter(status=Clock.Status.RUNNING, kind="deadline").select_related(
        "case")
    for clock in running.filter(due_at__lt=at):
        for role in clock.alert_roles or ["clerk"]:
            result.overdue += raise_alert(
                case=clock.case, clock=clock, kind=Alert.Kind.OVERDUE, role=role, at=at,
                message=f"{clock.case.number} {clock.label}已超期",
            )
    # Each clock has its own span (a profile may give more than three days); the longest
    # bounds the query.
    longest = running.aggregate(hours=Max("due_soon_hours"))["hours"] or 0
    for clock in running.filter(due_at__gte=at, due_at__lte=at + timedelta(hours=longest)):
        if clock.due_at - at <= timedelta(hours=clock.due_soon_hours):
            for role in clock.alert_roles or ["clerk"]:
                result.due_soon += raise_alert(
                    case=clock.case, clock=clock, kind=Alert.Kind.DUE_SOON, role=role, at=at,
                    message=f"{clock.case.number} {clock.label}即将到期",
                )
    open_cases = Case.objects.filter(state__in=c.OPEN_STATES).select_related("profile")
    for case in open_cases:
        profile = profile_of(case.profile)
        with transaction.atomic():
            # Under the case's lock, as a transition would be: two sweeps at once apply a
            # warning rule once.
            Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").first()
            result.warnings += len(evaluate_warnings(case=case, profile=profile, at=at))
        result.analyses += _analysis(case, profile, at)
    return result


def _analysis(case: Case, profile: Profile, at: datetime) -> bool:
    """Seed 002 §五(二): a case not settled 60 days after acceptance, or relapsed, needs a cause
    analysis. "60 days after acceptance" is counted as every N-day limit is (SPEC "Clock
    conventions"): acceptance day not counted, until 24:00 of the 60th day (rolled to a working
    day), so the case is flagged when its 60-day handling limit runs out, not hours before."""
    analysis = profile.analysis
    if not analysis or case.accepted_at is None:
        return False
    if analysis.on_relapse and case.events.filter(type="reopen").exists():
        message = f"{case.number} 已销号后反弹，须分析原因、制定下一步措施"
    elif at >= compute_due(case.accepted_at, analysis.unsettled_days, "days",
                           calendar=working_calendar()).due:
        message = f"{case.number} 受理满{analysis.unsettled_days}日仍未息访，须分析原因、制定措施"
    else:
        return False
    return raise_alert(case=case, clock=None, kind=Alert.Kind.ANALYSIS, role="approver", at=at,
                       message=message)
