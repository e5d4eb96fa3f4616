"""What of a case a membership may read in clear (seed 000 §九; PIPL).

Personal data is masked by default everywhere; a reveal is an explicit, logged action, and some
people may never take it. Leader instructions are read only by the roles the profile names.
UI pages, API serializers and exports all ask here.
"""

from __future__ import annotations

from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.rules.store import profile_of
from xinfang.security.masking import mask_address, mask_id_number, mask_name, mask_phone

from .models import Case, Petitioner

OFFICE = {Role.CLERK, Role.APPROVER, Role.CHIEF}
HANDLING = {Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD, Role.DISCIPLINE}


def may_reveal(case: Case, by: Membership | None) -> bool:
    """Whether ``by`` may reveal the petitioners' personal data of ``case`` (always logged): the
    case's own petition office, and the units handling it — except that a petitioner who asked
    for confidentiality is never revealed to the handling units. Inspectors and the offices
    above read masked."""
    from .services.base import active_assignment, is_office_of

    if by is None or not by.is_active:
        return False
    if by.role in OFFICE:
        return is_office_of(by.unit, case)
    if by.role in HANDLING:
        return not case.confidential and active_assignment(case, by.unit) is not None
    return False


def may_reveal_in_bulk(case: Case, by: Membership | None) -> bool:
    """An export reveals only for the office itself: a ledger leaves the system."""
    return by is not None and by.role in OFFICE and may_reveal(case, by)


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
