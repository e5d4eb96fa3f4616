"""What of a case a membership may read in clear (seed 000 §九; PIPL).

Personal data is masked by default everywhere; a reveal is an explicit, logged action, and some
people may never take it. Leader instructions are read only by the roles the profile names.
UI pages, API serializers and exports all ask here.

Confidentiality belongs to the petitioner, not to the case (issue 8): a person who asked that
their identity be kept from the units handling their petition stays masked for those units in
every case they appear in — one merged into an ordinary case, a review, a later petition linked
to them. The one question is ``may_reveal_petitioner(case, petitioner, by)``.
"""

from __future__ import annotations

import enum

from django.db.models import Exists, OuterRef, Q, QuerySet

from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.rules.store import profile_of
from xinfang.security.masking import mask_address, mask_id_number, mask_name, mask_phone

from .models import Assignment, Case, CasePetitioner, Petitioner

OFFICE = {Role.CLERK, Role.APPROVER, Role.CHIEF}
HANDLING = {Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD, Role.DISCIPLINE}


class Reach(enum.Enum):
    """Whom of a case's petitioners a membership may reveal."""

    NONE = "none"
    ORDINARY = "ordinary"  # every petitioner but the confidential ones
    ALL = "all"


def reveal_reach(case: Case, by: Membership | None, *, bulk: bool = False) -> Reach:
    """The case's own petition office reveals everyone; a unit handling the case reveals the
    petitioners who did not ask for confidentiality; inspectors and the offices above read masked.
    ``bulk`` (an export: a ledger leaves the system) reveals for the office only."""
    from .services.base import active_assignment, is_office_of

    if by is None or not by.is_active:
        return Reach.NONE
    if by.role in OFFICE:
        return Reach.ALL if is_office_of(by.unit, case) else Reach.NONE
    if by.role in HANDLING and not bulk:
        return Reach.ORDINARY if active_assignment(case, by.unit) is not None else Reach.NONE
    return Reach.NONE


def is_confidential(petitioner: Petitioner, link: CasePetitioner | None = None) -> bool:
    """The person asked for confidentiality — in this case or any other."""
    return bool(petitioner.confidential or (link is not None and link.confidential))


def may_reveal_petitioner(
    case: Case,
    petitioner: Petitioner,
    by: Membership | None,
    *,
    link: CasePetitioner | None = None,
    bulk: bool = False,
    reach: Reach | None = None,
) -> bool:
    """Whether ``by`` may see ``petitioner`` of ``case`` in clear (a page reveal, always logged,
    or with ``bulk`` an export). Pass ``link`` (the petitioner's ``CasePetitioner`` in ``case``)
    and ``reach`` (``reveal_reach`` of the case) when at hand to save queries."""
    reach = reach if reach is not None else reveal_reach(case, by, bulk=bulk)
    if reach is Reach.NONE:
        return False
    if link is None or link.case_id != case.pk or link.petitioner_id != petitioner.pk:
        link = CasePetitioner.objects.filter(case=case, petitioner=petitioner).first()
        if link is None:
            return False  # not a petitioner of this case
    if reach is Reach.ALL:
        return True
    return not is_confidential(petitioner, link)


def revealable_links(by: Membership | None) -> QuerySet[CasePetitioner]:
    """Every petitioner-in-a-case ``by`` may reveal, as one query — ``may_reveal_petitioner`` for
    search: looking a person up by name must not tell a unit that a confidential person is in
    one of its cases."""
    links = CasePetitioner.objects.all()
    if by is None or not by.is_active:
        return links.none()
    if by.role in OFFICE:
        return links.filter(case__jurisdiction_id__in=_revealing_offices(by))
    if by.role in HANDLING:
        from .choices import AssignmentStatus

        handling = Assignment.objects.filter(
            case=OuterRef("case"), unit=by.unit, status=AssignmentStatus.ACTIVE
        )
        return links.filter(Exists(handling)).exclude(
            Q(confidential=True) | Q(petitioner__confidential=True)
        )
    return links.none()


def revealable_link_filter(by: Membership | None, link: str = "") -> dict:
    """``revealable_links(by)`` as filter() keywords on the link reached by the path ``link``
    (``"petitioner_links"`` from a case, say, for the same filter() call that names that link;
    ``""``: a query of the links themselves).

    For a petition office the rule is a test of the link's own case (its jurisdiction), joined
    by key; as ``link IN (revealable_links(by))`` SQLite built the ids of every link of the
    county first (90–150 ms a statement at 1M cases). Other memberships keep that subquery."""
    if by is not None and by.is_active and by.role in OFFICE:
        case = f"{link}__case" if link else "case"
        return {f"{case}__jurisdiction_id__in": _revealing_offices(by)}
    return {f"{link}__in" if link else "pk__in": revealable_links(by)}


def _revealing_offices(by: Membership) -> list[int]:
    """The jurisdictions whose cases a petition office reveals everyone of: its own unit's and
    the jurisdiction it is the office of."""
    from .services.base import is_office_of

    unit = by.unit
    offices = [unit.pk]
    home = unit.jurisdiction()
    if home is not None and is_office_of(unit, Case(jurisdiction=home)):
        offices.append(home.pk)
    return offices


def may_read_leader_instruction(case: Case, by: Membership | None) -> bool:
    if by is None or not case.leader_instruction:
        return False
    return by.role in profile_of(case.profile).disclosure.leader_instruction


def leader_instruction_for(case: Case, by: Membership | None) -> str:
    if not case.leader_instruction:
        return ""
    if may_read_leader_instruction(case, by):
        return case.leader_instruction
    return "（领导批示内容不公开）"


def petitioner_fields(petitioner: Petitioner, *, revealed: bool) -> dict[str, str]:
    """The petitioner as shown: masked unless the viewer has revealed it (and may)."""
    if revealed:
        return {"name": petitioner.name, "id_number": petitioner.id_number,
                "phone": petitioner.phone, "address": petitioner.address}
    return {"name": mask_name(petitioner.name), "id_number": mask_id_number(petitioner.id_number),
            "phone": mask_phone(petitioner.phone), "address": mask_address(petitioner.address)}


def register_reach(jurisdiction, by: Membership | None) -> Reach:
    """Whom of a register line that has no case (a screening finding, an imported backlog line)
    ``by`` may reveal in bulk: the petition office of the line's jurisdiction (clerk, approver,
    chief) reveals; every other unit, the unit that keeps the line included, reads it masked in
    an export, as it does for a case (``reveal_reach`` with ``bulk``)."""
    from .services.base import is_office_of

    if by is None or not by.is_active or by.role not in OFFICE or jurisdiction is None:
        return Reach.NONE
    return Reach.ALL if is_office_of(by.unit, Case(jurisdiction=jurisdiction)) else Reach.NONE


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

consumes("disclosure.leader_instruction",
         by="xinfang.cases.disclosure.may_read_leader_instruction")
