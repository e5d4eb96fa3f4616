"""Who sees and who keeps which register lines — the permission door of the three registers.

- The petition office of a jurisdiction (clerk, approver, chief; inspectors read only) sees every
  line of its jurisdiction and keeps (edits) all of them.
- A unit below it keeps its own lines: a township (or village) the screening findings located in
  it, a bureau those of its line it recorded and is responsible for (L1), the responsible unit
  its backlog lines (L2), every unit its own roster line (L3). It sees nothing of another unit's
  lines.
- Everyone else sees nothing.

A backlog line tied to a case is seen only by whom ``cases_for`` lets see that case, as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from xinfang.cases.selectors import cases_for, door_for, visible_case
from xinfang.figures.services import without_kept_out
from xinfang.org.choices import Level, Role
from xinfang.org.models import Membership, Unit

from .models import BacklogCase, ScreeningFinding, StaffRosterEntry

OFFICE_READERS = frozenset({Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR})
OFFICE_KEEPERS = frozenset({Role.CLERK, Role.APPROVER, Role.CHIEF})
UNIT_KEEPERS = frozenset({Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD})


@dataclass(frozen=True)
class RegisterAccess:
    """What ``by`` may do with the registers: ``home`` is the jurisdiction of an office member
    (None for a unit below), ``unit`` the unit keeping its own lines (None for an office)."""

    by: Membership
    home: Unit | None
    unit: Unit | None
    keeps: bool

    @property
    def office(self) -> bool:
        return self.home is not None


def register_access(by: Membership | None) -> RegisterAccess | None:
    if by is None or not by.is_active:
        return None
    if by.role in OFFICE_READERS:
        home = by.unit if by.unit.profile_code else by.unit.jurisdiction()
        if home is None:
            return None
        from xinfang.cases.models import Case
        from xinfang.cases.services.base import is_office_of

        if not is_office_of(by.unit, Case(jurisdiction=home)):
            return None
        return RegisterAccess(by, home, None, by.role in OFFICE_KEEPERS)
    if by.role in UNIT_KEEPERS:
        return RegisterAccess(by, None, by.unit, True)
    return None


def is_locality(unit: Unit) -> bool:
    """A township or village keeps the findings located in it; any other unit below the office
    (a bureau, a line office) keeps those it is responsible for."""
    return unit.level in (Level.TOWNSHIP, Level.VILLAGE)


def _under(field: str, unit: Unit) -> Q:
    return Q(**{f"{field}__path__under": unit.path})


def findings_for(by: Membership | None) -> QuerySet[ScreeningFinding]:
    access = register_access(by)
    qs = ScreeningFinding.objects.all()
    if access is None:
        return qs.none()
    if access.office:
        return qs.filter(jurisdiction=access.home)
    if not is_locality(access.unit):  # a bureau: the findings of its line it is responsible for
        return qs.filter(_under("responsible_unit", access.unit))
    return qs.filter(_under("township", access.unit) | Q(village=access.unit))


def backlog_for(by: Membership | None) -> QuerySet[BacklogCase]:
    access = register_access(by)
    qs = BacklogCase.objects.all()
    if access is None:
        return qs.none()
    visible = Q(case__isnull=True) | Q(visible_case(by))
    if access.office:
        lines = qs.filter(jurisdiction=access.home)
        # A line keeps its case's jurisdiction (``services.case_columns``): of an office's
        # lines only those of the cases its door keeps from the reader are asked of the door.
        door = door_for(by)
        kept_out = door.kept_out
        if kept_out is None:
            return lines.filter(visible)
        return without_kept_out(lines, cases_for(by), kept_out)
    return qs.filter(visible, _under("responsible_unit", access.unit))


def roster_for(by: Membership | None) -> QuerySet[StaffRosterEntry]:
    access = register_access(by)
    qs = StaffRosterEntry.objects.all()
    if access is None:
        return qs.none()
    if access.office:
        return qs.filter(_under("unit", access.home))
    return qs.filter(unit=access.unit)


def may_keep_finding(by: Membership, finding: ScreeningFinding) -> bool:
    access = register_access(by)
    return bool(access and access.keeps and findings_for(by).filter(pk=finding.pk).exists())


def may_keep_backlog(by: Membership, backlog: BacklogCase) -> bool:
    access = register_access(by)
    return bool(access and access.keeps and backlog_for(by).filter(pk=backlog.pk).exists())
