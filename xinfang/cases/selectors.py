"""The one permission door for reading cases: every list, page, export, search and API call asks
``cases_for(membership)`` and works on what it returns. Nothing reads ``Case.objects`` directly.

Who sees what (issue 4, seed 000 §九):
- the petition office (clerk, approver, chief) and inspectors: the cases of their jurisdiction and
  of the jurisdictions under it;
- a handling unit (unit_handler, proxy_agent, line_head, discipline): the cases ever assigned to it
  or to a unit under it;
- the three administrators: no case at all;
- never a case in which the user, or the user's unit, is the respondent, nor one the user has
  recused from.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.crypto import constant_time_compare

from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, Unit
from xinfang.security.models import Recusal

from .choices import AssignmentStatus
from .models import Assignment, Case, CasePetitioner, Respondent
from .services.base import is_office_of

OFFICE_READERS = {Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR}
UNIT_READERS = {Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD, Role.DISCIPLINE}
# A subtree this small is read into a list of ids (the planner then knows exactly what it
# filters on); a bigger one (a province's villages) stays a subquery the database runs once.
MAX_LISTED_UNITS = 2000


@dataclass(frozen=True)
class Door:
    """What one membership may read, worked out once: the unit tree, the respondent units and
    the recusals are read here and nowhere per row. ``scope`` is the inclusion (``None``: no
    case at all); the rest are exclusions."""

    scope: Q | None
    inside: tuple[int, ...] = ()  # the user's unit and every unit above it
    user_id: int | None = None
    recused_cases: tuple[int, ...] = ()
    recused_petitioners: tuple[int, ...] = ()
    recused_words: tuple[str, ...] = ()

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if self.scope is None:
            return qs.none()
        qs = qs.filter(self.scope)
        # A user inside the accused unit (the unit itself or any unit under it) never sees the
        # case. NOT IN over one subquery: the database reads the respondents once, not per row.
        accused = Respondent.objects.filter(Q(unit_id__in=self.inside) | Q(user_id=self.user_id))
        qs = qs.exclude(pk__in=accused.values("case_id"))
        if self.recused_cases:
            qs = qs.exclude(pk__in=self.recused_cases)
        if self.recused_petitioners:
            links = CasePetitioner.objects.filter(petitioner_id__in=self.recused_petitioners)
            qs = qs.exclude(pk__in=links.values("case_id"))
        for words in self.recused_words:
            qs = qs.exclude(matter__contains=words)
        return qs


NO_CASE = Door(scope=None)


def _subtree(unit: Unit) -> list[int] | QuerySet:
    """The ids of ``unit`` and every unit under it — a list when short, else a subquery."""
    under = Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)
    ids = list(under[: MAX_LISTED_UNITS + 1])
    return ids if len(ids) <= MAX_LISTED_UNITS else under


def door_build(by: Membership | None) -> Door:
    if by is None or not by.is_active or by.role in ADMIN_ROLES:
        return NO_CASE
    unit = by.unit
    if by.role in OFFICE_READERS:
        home = unit if unit.profile_code else unit.jurisdiction()
        if home is None or (
            by.role != Role.INSPECTOR and not is_office_of(unit, Case(jurisdiction=home))
        ):
            return NO_CASE
        scope = Q(jurisdiction_id__in=_subtree(home))
    elif by.role in UNIT_READERS:
        # Not a case transferred away (to discipline, when the misconduct may be the unit's own):
        # the unit sees what it handles, or handled to the end.
        handled = Assignment.objects.filter(
            unit_id__in=_subtree(unit),
            status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.ENDED],
        )
        scope = Q(pk__in=handled.values("case_id"))
    else:
        return NO_CASE
    cases, people, words = [], [], []
    for case_id, petitioner_id, matter_words in Recusal.objects.filter(
        user_id=by.user_id, is_active=True
    ).values_list("case_id", "petitioner_id", "matter_words"):
        if case_id:
            cases.append(case_id)
        if petitioner_id:
            people.append(petitioner_id)
        if matter_words:
            words.append(matter_words)
    return Door(
        scope=scope,
        inside=tuple(int(p) for p in unit.path.strip("/").split("/") if p),
        user_id=by.user_id,
        recused_cases=tuple(cases),
        recused_petitioners=tuple(people),
        recused_words=tuple(words),
    )


DOOR_ATTR = "_xinfang_door"


def door_remember(by: Membership | None) -> None:
    """Work the door out once for this request: the web and API entry points call this on the
    membership they built for the request, so every list, count and check in it reuses one door.
    (Not cached otherwise — a membership object kept across a recusal must see it at once.)"""
    if by is not None:
        setattr(by, DOOR_ATTR, door_build(by))


def door_for(by: Membership | None) -> Door:
    cached = getattr(by, DOOR_ATTR, None) if by is not None else None
    return cached if cached is not None else door_build(by)


def cases_for(by: Membership | None) -> QuerySet[Case]:
    return door_for(by).apply(Case.objects.all())


def case_for(by: Membership | None, pk: int) -> Case:
    """One case through the door; raises Case.DoesNotExist (a 404) outside the user's scope."""
    return cases_for(by).select_related("jurisdiction", "profile").get(pk=pk)


def case_for_query_code(number: str, code: str) -> Case | None:
    """The petitioner's own door (no sign-in): the case number and the query code printed on the
    acceptance notice, compared in constant time. None for any mismatch."""
    from .numbering import cases_numbered

    number, code = (number or "").strip(), (code or "").strip().upper()
    if not number or not code:
        return None
    # The number as typed: any bracket spelling, with or without 号, the serial alone this year.
    found = None
    for case in cases_numbered(number, scope=Case.objects.exclude(query_code="")):
        if constant_time_compare(case.query_code.upper(), code):
            found = case
    return found
