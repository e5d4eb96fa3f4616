"""What every practice write shares: the door check, the audit entry, the case's history."""

from __future__ import annotations

from datetime import datetime

from xinfang.audit.services import PRACTICE_CHANGE, audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.cases.services.base import Invalid, append_event
from xinfang.org.models import Membership

from ..selectors import Access, access_of

__all__ = ["Invalid", "Refused", "keeper", "audit", "case_locked", "case_event", "required"]


def keeper(by: Membership | None, *, office: bool = False) -> Access:
    """The writer's access; refused for a reader (inspectors), a stranger, or (``office``) a
    unit below the office."""
    access = access_of(by)
    if access is None or not access.keeps:
        raise Refused("您当前的角色不能记录此项工作。")
    if office and not access.office:
        raise Refused("此项工作由信访工作机构记录。")
    return access


def audit(by: Membership, what: str, pk, detail: dict) -> None:
    audit_record(
        action=PRACTICE_CHANGE,
        actor=by.user,
        object_type=what,
        object_id=pk,
        detail={"membership": by.pk, "role": by.role, "unit": by.unit.name, **detail},
    )


def case_locked(by: Membership, case_id) -> Case:
    """The case through the door, its row locked for a history entry; 'not found' outside it."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise Invalid({"case": "请选择信访件"}) from None
    visible = cases_for(by).filter(pk=pk).values("pk")
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("profile", "jurisdiction")
        .filter(pk__in=visible)
        .first()
    )
    if case is None:
        raise Invalid({"case": "未找到该信访件，或您无权查看"})
    return case


def case_event(case: Case, by: Membership, type: str, at: datetime, payload: dict) -> None:
    """A line in the case's history (append-only): the practice is part of the case's record."""
    append_event(
        case=case,
        type=type,
        by=by,
        at=at,
        from_state=case.state,
        to_state=case.state,
        payload=payload,
    )


def required(**values) -> None:
    missing = {k: "必填" for k, v in values.items() if v in (None, "", [], ())}
    if missing:
        raise Invalid(missing)
