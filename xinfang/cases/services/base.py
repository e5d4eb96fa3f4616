"""What every write shares: the acting membership, the clock, history entries, and the door that
checks who may take which transition on which case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from xinfang.audit import history
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit
from xinfang.rules.profile import Profile
from xinfang.rules.store import profile_of

from ..choices import AssignmentStatus
from ..errors import Refused
from ..memo import memoised
from ..models import Case, CaseEvent
from ..workflow import Transition


class Invalid(Refused):
    """Input with one or more bad fields; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(
            "；".join(f"{k}：{v}" for k, v in errors.items()), field=next(iter(errors))
        )
        self.errors = errors


@dataclass
class Ctx:
    case: Case
    by: Membership | None  # None only for the petitioner's own public actions
    now: datetime
    profile: Profile
    payload: dict = field(default_factory=dict)
    target: str | None = None  # an effect may choose the resulting state
    event_key: str = ""
    event_at: datetime | None = None  # clocks start at the event's instant (e.g. receipt)
    extra_events: list[str] = field(default_factory=list)


def now() -> datetime:
    return timezone.now()


def profile_for(case: Case) -> Profile:
    return profile_of(case.profile)


def append_event(
    *,
    case: Case,
    type: str,
    by: Membership | None,
    at: datetime,
    from_state: str = "",
    to_state: str = "",
    payload: dict | None = None,
    actor_role: str | None = None,
) -> CaseEvent:
    # The previous event's MAC comes in the same query as its seq: the history is a chain.
    last, prev_mac = case.events.order_by("-seq").values_list("seq", "mac").first() or (0, "")
    event = CaseEvent(
        case=case,
        seq=last + 1,
        at=at,
        type=type,
        actor=by.user if by else None,
        actor_role=actor_role if actor_role is not None else (by.role if by else "petitioner"),
        actor_unit=by.unit if by else None,
        from_state=from_state,
        to_state=to_state,
        payload=payload or {},
        profile_code=case.profile.code,
        profile_version=case.profile.version,
    )
    history.seal(event, prev_mac=prev_mac)
    event.save(force_insert=True)
    return event


OFFICE_KINDS = {"government", "petition_office", "poverty_office"}


def is_office_of(unit: Unit, case: Case) -> bool:
    """The case's petition office: the jurisdiction itself or its petition / poverty office at the
    same level — not every bureau or township underneath it."""
    if unit.pk == case.jurisdiction_id:
        return True
    return (
        unit.kind in OFFICE_KINDS
        and unit.level == case.jurisdiction.level
        and unit.jurisdiction() == case.jurisdiction
    )


@memoised
def active_assignment(case: Case, unit: Unit):
    return case.assignments.filter(unit=unit, status=AssignmentStatus.ACTIVE).first()


def is_upper_office_of(unit: Unit, case: Case) -> bool:
    parent = case.jurisdiction.parent
    upper = parent.jurisdiction() if parent else None
    return upper is not None and unit.jurisdiction() == upper


@memoised
def is_respondent_side(case: Case, *, unit: Unit, user=None) -> bool:
    """True when the unit is, or sits inside, a unit complained about — or the user is."""
    inside = [int(p) for p in unit.path.strip("/").split("/") if p]
    q = case.respondents.filter(unit_id__in=inside)
    return q.exists() or (user is not None and case.respondents.filter(user=user).exists())


def check_actor(t: Transition, case: Case, by: Membership) -> None:
    """The action door: role first, then the unit's relation to the case."""
    if not by.is_active:
        raise Refused("该任职已停用，不能办理。")
    if by.role not in t.roles:
        allowed = "、".join(str(Role(r).label) for r in sorted(t.roles))
        raise Refused(f"“{t.label}”须由{allowed}办理，您当前的角色是{Role(by.role).label}。")
    office = is_office_of(by.unit, case)
    assigned = active_assignment(case, by.unit) is not None
    ok = {
        "office": office,
        "assigned": assigned,
        "either": office or assigned,
        "upper": office or is_upper_office_of(by.unit, case),
    }[t.scope]
    if not ok:
        where = {
            "office": "受理机关",
            "assigned": "承办单位",
            "either": "受理机关或承办单位",
            "upper": "受理机关或其上一级机关",
        }[t.scope]
        raise Refused(f"“{t.label}”只能由本件的{where}办理，{by.unit}不在其列。")
    if is_respondent_side(case, unit=by.unit, user=by.user):
        raise Refused("您或您所在单位是本件的被反映对象，不能接触本件。")
    from xinfang.security.recusal import recusal_reason

    reason = recusal_reason(user=by.user, case=case)
    if reason:
        raise Refused(f"您已申报回避：{reason}")
