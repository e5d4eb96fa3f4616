"""Who sees which practice records — the door of this app, built on the case door.

- The petition office of a jurisdiction (clerk, approver, chief; inspectors read only) sees every
  record of its jurisdiction, and keeps them.
- A unit below it (a township, a line office, a bureau) sees and keeps its own: its meetings,
  its field visits, the watch-list entries it owns, the tasks of campaigns it takes part in.
- Every case a record names is read through ``cases_for``: a case the reader may not see is
  left out of the record as shown.

People on the watch list are shown masked unless ``watch_reach`` lets the reader see them:
the office of the jurisdiction reveals everyone; the unit owning the entry reveals a person who
did not ask for confidentiality; everyone else (inspectors, other units, the offices above) reads
masked — as ``cases.disclosure.reveal_reach`` has it for a case.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from xinfang.cases.disclosure import Reach, is_confidential, reveal_reach
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for, door_for, visible_case
from xinfang.cases.services.base import is_office_of, unit_jurisdiction
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit
from xinfang.security.masking import mask_name

from .models import (
    Campaign,
    CampaignTask,
    DutySlot,
    FieldVisit,
    Meeting,
    PersuadeReturn,
    ReturnVisit,
    WatchEntry,
)

OFFICE_READERS = frozenset({Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR})
OFFICE_KEEPERS = frozenset({Role.CLERK, Role.APPROVER, Role.CHIEF})
LEADERS = frozenset({Role.APPROVER, Role.CHIEF})
UNIT_KEEPERS = frozenset({Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD})


@dataclass(frozen=True)
class Access:
    """``home``: the jurisdiction (always set); ``unit``: None for the office, else the unit
    below that keeps its own records; ``keeps``: may write."""

    by: Membership
    home: Unit
    unit: Unit | None
    keeps: bool

    @property
    def office(self) -> bool:
        return self.unit is None


def access_of(by: Membership | None) -> Access | None:
    if by is None or not by.is_active:
        return None
    home = unit_jurisdiction(by.unit) if not by.unit.profile_code else by.unit
    if home is None:
        return None
    if by.role in OFFICE_READERS:
        if not is_office_of(by.unit, Case(jurisdiction=home)):
            return None
        return Access(by, home, None, by.role in OFFICE_KEEPERS)
    if by.role in UNIT_KEEPERS:
        return Access(by, home, by.unit, True)
    return None


def _own(qs: QuerySet, access: Access | None, unit_field: str) -> QuerySet:
    if access is None:
        return qs.none()
    qs = qs.filter(jurisdiction=access.home)
    return qs if access.office else qs.filter(**{unit_field: access.unit})


def return_visits_for(by: Membership | None) -> QuerySet[ReturnVisit]:
    access = access_of(by)
    if access is None:
        return ReturnVisit.objects.none()
    qs = ReturnVisit.objects.filter(visible_case(by))
    return qs.select_related("case", "lead_unit", "visited_by", "visitor_unit")


def meetings_for(by: Membership | None) -> QuerySet[Meeting]:
    return _own(Meeting.objects.all(), access_of(by), "unit").select_related("unit")


def duty_slots_for(by: Membership | None) -> QuerySet[DutySlot]:
    access = access_of(by)
    if access is None:
        return DutySlot.objects.none()
    return DutySlot.objects.filter(jurisdiction=access.home).select_related(
        "leader__user", "leader__unit"
    )


def field_visits_for(by: Membership | None) -> QuerySet[FieldVisit]:
    return _own(FieldVisit.objects.all(), access_of(by), "cadre__unit").select_related(
        "cadre__user", "cadre__unit", "village"
    )


def persuades_for(by: Membership | None) -> QuerySet[PersuadeReturn]:
    if access_of(by) is None:
        return PersuadeReturn.objects.none()
    return PersuadeReturn.objects.filter(visible_case(by)).select_related("case")


def watch_for(by: Membership | None) -> QuerySet[WatchEntry]:
    qs = _own(WatchEntry.objects.all(), access_of(by), "owner_unit")
    if by is not None:
        # Kept by jurisdiction and owner, not by the case door; but a person or case the reader
        # recused from (seed 000 §九), or a case against the reader's unit, is not shown them.
        kept = door_for(by).excluding(Case.objects.filter(pk=OuterRef("case_id")))
        qs = qs.filter(Exists(kept))
    return qs.select_related("petitioner", "owner__user", "owner_unit", "case")


def campaigns_for(by: Membership | None) -> QuerySet[Campaign]:
    access = access_of(by)
    if access is None:
        return Campaign.objects.none()
    qs = Campaign.objects.filter(jurisdiction=access.home)
    return qs if access.office else qs.filter(units=access.unit).distinct()


def tasks_for(by: Membership | None) -> QuerySet[CampaignTask]:
    """The campaigns' tasks ``by`` reports on: the office's all, a unit's its own."""
    access = access_of(by)
    if access is None:
        return CampaignTask.objects.none()
    qs = CampaignTask.objects.filter(campaign__jurisdiction=access.home)
    return qs if access.office else qs.filter(unit=access.unit)


def tasks_of(campaign: Campaign, by: Membership) -> QuerySet[CampaignTask]:
    access = access_of(by)
    qs = campaign.tasks.select_related("unit")
    return qs if access is not None and access.office else qs.filter(unit=by.unit)


def visible_cases_among(by: Membership, ids) -> QuerySet[Case]:
    """Of the cases a record names, those the reader may see (the rest are not listed)."""
    return cases_for(by).filter(pk__in=ids)


def with_visible_cases(qs: QuerySet, by: Membership, attr: str = "cases") -> QuerySet:
    """Prefetch a record's cases through the door: one query for the page, whatever the rows."""
    visible = cases_for(by).only("pk", "number").order_by("pk")
    return qs.prefetch_related(Prefetch(attr, queryset=visible, to_attr=f"visible_{attr}"))


# --- the people on the watch list --------------------------------------------------------------


def watch_reach(entry: WatchEntry, by: Membership | None) -> Reach:
    access = access_of(by)
    if access is None or by.role == Role.INSPECTOR:
        return Reach.NONE
    if access.office:
        # Its own list, and a case whose people it may reveal (not a county case listed by the
        # city's office, which reads that case masked: ``reveal_reach``).
        mine = entry.jurisdiction_id == access.home.pk
        return Reach.ALL if mine and reveal_reach(entry.case, by) is Reach.ALL else Reach.NONE
    return Reach.ORDINARY if entry.owner_unit_id == access.unit.pk else Reach.NONE


def watch_person(entry: WatchEntry, by: Membership | None) -> str:
    """The name as this reader may see it: in clear, or masked."""
    reach = watch_reach(entry, by)
    p = entry.petitioner
    if reach is Reach.ALL or (reach is Reach.ORDINARY and not is_confidential(p)):
        return p.name
    return mask_name(p.name)
