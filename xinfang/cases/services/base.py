"""What every write shares: the acting membership, the clock, history entries, and the door that
checks who may take which transition on which case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from xinfang.audit import history
from xinfang.db.fixed import FixedRead
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit
from xinfang.rules.profile import Profile
from xinfang.rules.store import profile_of

from ..bulk import insert_returning
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
    # What perform read about the actor and the case once, under the lock (see Access).
    access: Access | None = None
    changed: dict = field(default_factory=dict)
    extend_to: date | None = None  # an approved extension: the day it was asked for

    def set(self, **fields) -> None:
        """Change fields of the case; ``perform`` writes them with its version update, in the
        same statement."""
        for name, value in fields.items():
            setattr(self.case, name, value)
        self.changed.update(fields)

    def changed_fields(self) -> dict:
        return dict(self.changed)


LAST_SEQ_HINT = "_xf_last_seq"
# Set on a case while ``perform`` moves its clocks: the next due instant is written by its own
# version UPDATE, not by a statement of its own (``due.case_refresh_due``).
DEFER_DUE = "_xf_defer_due"


def now() -> datetime:
    return timezone.now()


def profile_for(case: Case) -> Profile:
    return profile_of(case.profile)


# The last (seq, mac) of one case's history: asked by every transition, compiled once
# (``db.fixed``).
_HISTORY_HEAD = FixedRead(lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("-seq")
                          .values_list("seq", "mac")[:1])


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
    # The history is a chain: the previous event's seq and MAC. The clock engine reads the case's
    # history under the case's lock when it must, and leaves the last (seq, mac) it saw; it is
    # good for one append only.
    hint = case.__dict__.pop(LAST_SEQ_HINT, None)
    if hint is None:
        last = _HISTORY_HEAD.of(case)
        hint = last[0] if last else (0, "")
    event = chained_event(
        case, {case.pk: hint}, at=at, type=type, payload=payload or {}, by=by,
        actor_role=actor_role if actor_role is not None else (by.role if by else "petitioner"),
        from_state=from_state, to_state=to_state,
    )
    insert_returning([event])  # appended, never saved again (``CaseEvent.save`` refuses)
    return event


def history_heads(case_ids) -> dict[int, tuple[int, str]]:
    """The last (seq, mac) of each case's history, in one statement: what a batch's entries chain
    on (``chained_event``). Read under the cases' locks, as ``append_event`` reads one.

    On PostgreSQL one backward step of the (case, seq) index per case (1.4 ms for 500 cases at a
    million); the portable form tests every entry of the cases against its case's last (26 ms).
    """
    case_ids = list(case_ids)
    if not case_ids:
        return {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(CaseEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id, e.seq, e.mac FROM unnest(%s::bigint[]) AS c(id) CROSS JOIN "
                f"LATERAL (SELECT seq, mac FROM {table} WHERE case_id = c.id ORDER BY seq DESC "
                f"LIMIT 1) AS e", [case_ids])
            return {case_id: (seq, mac) for case_id, seq, mac in cursor.fetchall()}
    newest = CaseEvent.objects.filter(case_id=OuterRef("case_id")).order_by("-seq")
    return {
        case_id: (seq, mac) for case_id, seq, mac in CaseEvent.objects.filter(
            case_id__in=case_ids, seq=Subquery(newest.values("seq")[:1]),
        ).order_by().values_list("case_id", "seq", "mac")
    }


# A history entry's columns as ``chained_row`` gives them (``bulk.insert_rows``).
EVENT_ROW = ("case_id", "seq", "at", "type", "actor_id", "actor_role", "actor_unit_id",
             "from_state", "to_state", "payload", "profile_code", "profile_version",
             "mac_key_id", "mac")


def chained_row(case_id: int, profile: tuple[str, int], heads: dict[int, tuple[int, str]], *,
                at: datetime, type: str, payload: dict, actor_role: str = "system",
                from_state: str = "", to_state: str = "", by: Membership | None = None) -> tuple:
    """A history entry not yet inserted, as a plain row (``EVENT_ROW``), sealed on the head
    ``heads`` holds for the case, which it then becomes. ``profile``: the case's (code,
    version). A sweep inserts thousands in one statement, with no model instance each."""
    last, prev_mac = heads.get(case_id, (0, ""))
    code, version = profile
    actor_id, actor_unit_id = (by.user_id, by.unit_id) if by else (None, None)
    key_id, mac = history.sealed(
        prev_mac=prev_mac, case_id=case_id, seq=last + 1, at=at, type=type, actor_id=actor_id,
        actor_role=actor_role, actor_unit_id=actor_unit_id, from_state=from_state,
        to_state=to_state, payload=payload, profile_code=code, profile_version=version)
    heads[case_id] = (last + 1, mac)
    return (case_id, last + 1, at, type, actor_id, actor_role, actor_unit_id, from_state,
            to_state, payload, code, version, key_id, mac)


def chained_event(case: Case, heads: dict[int, tuple[int, str]], **fields) -> CaseEvent:
    """``chained_row`` as a model instance (``append_event`` inserts one)."""
    event = CaseEvent(**dict(zip(EVENT_ROW, chained_row(
        case.pk, (case.profile.code, case.profile.version), heads, **fields), strict=True)))
    event.case = case
    return event


OFFICE_KINDS = {"government", "petition_office", "poverty_office"}


def unit_jurisdiction(unit: Unit) -> Unit | None:
    """``unit.jurisdiction()``, read once per unit object: a request holds its membership's unit
    for its whole length, so the unit tree is walked once per request, not once per check."""
    if "_xf_jurisdiction" not in unit.__dict__:
        unit.__dict__["_xf_jurisdiction"] = unit.jurisdiction()
    return unit.__dict__["_xf_jurisdiction"]


def is_office_of(unit: Unit, case: Case) -> bool:
    """The case's petition office: the jurisdiction itself or its petition / poverty office at the
    same level — not every bureau or township underneath it."""
    return unit.pk == case.jurisdiction_id or _office_beside(unit, case.jurisdiction)


def is_office_at(unit: Unit, jurisdiction: Unit) -> bool:
    """``is_office_of`` for any case of ``jurisdiction``: the door asks it of a membership on
    every request, with no case at hand (building one to ask was 3 % of a page's frame)."""
    return unit.pk == jurisdiction.pk or _office_beside(unit, jurisdiction)


def _office_beside(unit: Unit, jurisdiction: Unit) -> bool:
    """``unit`` (not ``jurisdiction`` itself) is ``jurisdiction``'s petition or poverty
    office at the same level."""
    if unit.kind not in OFFICE_KINDS or unit.level != jurisdiction.level:
        return False
    if not unit.profile_code and unit.parent_id == jurisdiction.pk and jurisdiction.profile_code:
        return True  # the office sits right under its jurisdiction: no need to walk the tree
    home = unit_jurisdiction(unit)
    return home is not None and home.pk == jurisdiction.pk


@memoised
def active_assignment(case: Case, unit: Unit):
    return case.assignments.filter(unit=unit, status=AssignmentStatus.ACTIVE).first()


def is_upper_office_of(unit: Unit, case: Case) -> bool:
    here = case.jurisdiction
    if "_xf_upper" not in here.__dict__:
        parent = here.parent
        here.__dict__["_xf_upper"] = unit_jurisdiction(parent) if parent else None
    upper = here.__dict__["_xf_upper"]
    mine = unit_jurisdiction(unit)
    return upper is not None and mine is not None and mine.pk == upper.pk


def respondent_filter(unit: Unit, user_id: int | None = None) -> Q:
    """Respondent rows naming the unit, a unit it sits inside, or the user."""
    q = Q(unit_id__in=unit.path_ids)
    return q | Q(user_id=user_id) if user_id is not None else q


@memoised
def is_respondent_side(case: Case, *, unit: Unit, user=None) -> bool:
    """True when the unit is, or sits inside, a unit complained about — or the user is."""
    return case.respondents.filter(respondent_filter(unit, user.pk if user else None)).exists()


class Access:
    """What the action door knows about one membership and one case: read once per call (one
    ``perform``, or one ``available`` over the whole table), never once per check. ``perform``
    passes what its locking query already read (respondent side, whether the user has declared
    any recusal)."""

    def __init__(
        self, case: Case, by: Membership, *, respondent: bool | None = None,
        recused: bool | None = None,
    ):
        self.case, self.by = case, by
        self._respondent, self._recused = respondent, recused

    @cached_property
    def office(self) -> bool:
        return is_office_of(self.by.unit, self.case)

    @cached_property
    def assignment(self):
        return active_assignment(self.case, self.by.unit)

    @cached_property
    def upper(self) -> bool:
        return is_upper_office_of(self.by.unit, self.case)

    @cached_property
    def respondent_side(self) -> bool:
        if self._respondent is not None:
            return self._respondent
        if self.case.__dict__.get("_xf_read_for") == self.by.pk:
            return False  # read through this membership's door, which leaves out those cases
        # read with a transition's locked read (``transitions._locking``)
        found = getattr(self.case, "xf_respondent", None)
        if found is not None:
            return found
        return is_respondent_side(self.case, unit=self.by.unit, user=self.by.user)

    @cached_property
    def recusal(self) -> str | None:
        from xinfang.cases.selectors import DOOR_ATTR
        from xinfang.security.models import Recusal
        from xinfang.security.recusal import recusal_reason

        recused = self._recused
        if recused is None:  # the case was read with whether the user declared any recusal
            recused = getattr(self.case, "xf_recused", None)
        door = getattr(self.by, DOOR_ATTR, None)  # this request's door read the recusals already
        if recused is None and door is not None and door.kind is not None and door.recusals_known:
            recused = door.any_recusal
        if recused is None:
            recused = Recusal.objects.filter(user_id=self.by.user_id, is_active=True).exists()
        return recusal_reason(user=self.by.user, case=self.case) if recused else None


def check_actor(t: Transition, case: Case, by: Membership, access: Access | None = None) -> None:
    """The action door: role first, then the unit's relation to the case."""
    if not by.is_active:
        raise Refused("该任职已停用，不能办理。")
    if by.role not in t.roles:
        allowed = "、".join(str(Role(r).label) for r in sorted(t.roles))
        raise Refused(f"“{t.label}”须由{allowed}办理，您当前的角色是{Role(by.role).label}。")
    a = access or Access(case, by)
    if t.scope == "office":
        ok = a.office
    elif t.scope == "assigned":
        ok = a.assignment is not None
    elif t.scope == "either":
        ok = a.office or a.assignment is not None
    else:  # "upper"
        ok = a.office or a.upper
    if not ok:
        where = {
            "office": "受理机关",
            "assigned": "承办单位",
            "either": "受理机关或承办单位",
            "upper": "受理机关或其上一级机关",
        }[t.scope]
        raise Refused(f"“{t.label}”只能由本件的{where}办理，{by.unit}不在其列。")
    if a.respondent_side:
        raise Refused("您或您所在单位是本件的被反映对象，不能接触本件。")
    reason = a.recusal
    if reason:
        raise Refused(f"您已申报回避：{reason}")
