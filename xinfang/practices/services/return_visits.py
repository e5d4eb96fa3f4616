"""One return visit per case once the reply is delivered (seed 004 §二(一) "信访事项每件一回访"):
who, when, how, the outcome and the petitioner's satisfaction."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.models import Contact
from xinfang.org.models import Membership, Unit

from ..models import ReturnVisit
from .base import Invalid, Refused, audit, case_event, case_locked, keeper, required

# The reply has reached the petitioner: from here the case is owed its return visit.
VISITABLE = {c.State.DELIVERED, c.State.CLOSED, c.State.ARCHIVED}


def lead_unit_id(case) -> int | None:
    return (
        case.assignments.filter(role=c.AssignmentRole.LEAD)
        .exclude(status=c.AssignmentStatus.TRANSFERRED)
        .order_by("-assigned_at", "-pk")
        .values_list("unit_id", flat=True)
        .first()
    )


@transaction.atomic
def return_visit_record(
    *,
    by: Membership,
    case_id,
    visited_at: datetime | None,
    method: str,
    outcome: str,
    satisfaction: str,
    note: str = "",
    now: datetime | None = None,
) -> ReturnVisit:
    access = keeper(by)
    now = now or timezone.now()
    required(visited_at=visited_at, method=method, outcome=outcome, satisfaction=satisfaction)
    errors = {}
    if method not in ReturnVisit.Method.values:
        errors["method"] = f"回访方式“{method}”无效"
    if outcome not in ReturnVisit.Outcome.values:
        errors["outcome"] = f"回访结果“{outcome}”无效"
    if satisfaction not in c.Rating.values:
        errors["satisfaction"] = f"满意度“{satisfaction}”无效"
    if visited_at > now:
        errors["visited_at"] = "回访时间不能晚于当前时间"
    if errors:
        raise Invalid(errors)
    case = case_locked(by, case_id)
    if case.state not in VISITABLE:
        raise Refused(
            f"{case.number} 尚未送达处理意见，不能回访（当前状态：{case.get_state_display()}）。",
            field="case",
        )
    lead = lead_unit_id(case)
    if (
        not access.office
        and not Unit.objects.filter(pk=lead, path__under=by.unit.path).exists()
    ):
        raise Refused(f"{case.number} 由主办单位或信访工作机构回访。", field="case")
    if ReturnVisit.objects.filter(case=case).exists():
        raise Refused(f"{case.number} 已有回访记录：每件信访事项回访一次。", field="case")
    try:
        with transaction.atomic():
            visit = ReturnVisit.objects.create(
                case=case,
                jurisdiction_id=case.jurisdiction_id,
                lead_unit_id=lead,
                visited_by=by.user,
                visitor_unit=by.unit,
                visited_at=visited_at,
                method=method,
                outcome=outcome,
                satisfaction=satisfaction,
                note=note,
                recorded_at=now,
            )
    except IntegrityError:
        raise Refused(f"{case.number} 已有回访记录：每件信访事项回访一次。", field="case") from None
    # The contact the closing rule counts (closing.requires: return_visit, seed 004 §二(一)).
    Contact.objects.create(
        case=case, kind=c.ContactKind.RETURN_VISIT, at=visited_at, by=by.user, note=note
    )
    label = f"{visit.get_method_display()}：{visit.get_outcome_display()}"
    case_event(
        case,
        by,
        "return_visit_recorded",
        now,
        {
            "at": visited_at.isoformat(),
            "unit": by.unit.name,
            "text": label,
            "rating": satisfaction,
            "note": note,
        },
    )
    audit(
        by,
        "return_visit",
        visit.pk,
        {"case": case.number, "outcome": outcome, "satisfaction": satisfaction},
    )
    return visit
