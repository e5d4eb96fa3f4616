"""Writes to the three registers: screening findings, backlog cases and the staff roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput, Registration, case_register
from xinfang.cases.services.base import Invalid, append_event, is_office_of
from xinfang.org.models import Membership, Unit

from .models import BacklogCase, BacklogProgress, ScreeningFinding, StaffRosterEntry


@dataclass
class Finding:
    screened_on: date
    township: Unit
    person_name: str
    problem: str
    category: str
    village: Unit | None = None
    contact: str = ""
    exited_or_monitored: bool = False
    is_new: bool = True
    responsible_unit: Unit | None = None
    note: str = ""


def _office_jurisdiction(by: Membership) -> Unit:
    home = by.unit if by.unit.profile_code else by.unit.jurisdiction()
    if home is None or not is_office_of(by.unit, Case(jurisdiction=home)):
        raise Refused(f"{by.unit}不是信访受理机关，不能维护台账。")
    return home


def screening_record(*, by: Membership, finding: Finding) -> ScreeningFinding:
    jurisdiction = _office_jurisdiction(by)
    errors = {}
    if not finding.township.is_within(jurisdiction):
        errors["township"] = f"{finding.township}不属于{jurisdiction}"
    if finding.village and finding.village.parent_id != finding.township.pk:
        errors["village"] = "所选村（社区）不属于所选乡镇"
    if not finding.problem.strip():
        errors["problem"] = "请填写反映问题"
    if errors:
        raise Invalid(errors)
    return ScreeningFinding.objects.create(
        jurisdiction=jurisdiction,
        month=finding.screened_on.replace(day=1),
        screened_on=finding.screened_on,
        township=finding.township,
        village=finding.village,
        person_name=finding.person_name,
        contact=finding.contact,
        exited_or_monitored=finding.exited_or_monitored,
        problem=finding.problem,
        category=finding.category,
        is_new=finding.is_new,
        responsible_unit=finding.responsible_unit,
        note=finding.note,
        recorded_by=by.user,
    )


@transaction.atomic
def screening_to_case(
    *, by: Membership, finding: ScreeningFinding, at: datetime | None = None
) -> Case:
    """A screening finding becomes a case (channel 排查发现), linked both ways."""
    finding = ScreeningFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.case_id:
        raise Refused(f"该排查线索已转为信访件{finding.case.number}。")
    received = timezone.make_aware(datetime.combine(finding.screened_on, datetime.min.time()))
    case = case_register(
        by=by,
        at=at,
        data=Registration(
            channel=c.Channel.SCREENING,
            matter=finding.problem,
            received_at=received,
            petitioners=[
                PetitionerInput(
                    name=finding.person_name,
                    phone=finding.contact,
                    exited_household=finding.exited_or_monitored,
                )
            ],
            demands=[DemandInput(text=finding.problem, category=finding.category)],
            township=finding.township,
            village=finding.village,
        ),
    )
    finding.case = case
    finding.save(update_fields=["case"])
    return case


def case_columns(case: Case) -> dict:
    """The L2 columns a backlog row takes from its case when it enters the register (editable
    afterwards; the petitioner's name and phone stay the case's, read live)."""
    from xinfang.cases.models import Assignment, Demand

    demand = Demand.objects.filter(case=case).order_by("seq").first()
    lead = (Assignment.objects.filter(case=case, role=c.AssignmentRole.LEAD)
            .exclude(status=c.AssignmentStatus.TRANSFERRED).order_by("-assigned_at", "-pk")
            .select_related("unit").first())
    return {
        "case": case,
        "jurisdiction_id": case.jurisdiction_id,
        "first_petition_on": timezone.localtime(case.received_at).date(),
        "exited_or_monitored": bool(case.exited_household or case.monitored_household),
        "township_id": case.township_id,
        "village_id": case.village_id,
        "problem": case.matter,
        "category": demand.category if demand else "",
        "responsible_unit_id": lead.unit_id if lead else None,
    }


@transaction.atomic
def backlog_designate(
    *,
    by: Membership,
    case: Case,
    owner_leader,
    reason: str,
    plan: str,
    plan_deadline: date,
    at: datetime | None = None,
) -> BacklogCase:
    at = at or timezone.now()
    if not is_office_of(by.unit, case) or by.role not in ("approver", "chief"):
        raise Refused("积案认定须由受理机关的分管或主要领导办理。")
    missing = {k: "此项必填" for k, v in {"reason": reason, "plan": plan}.items() if not v}
    if missing:
        raise Invalid(missing)
    if hasattr(case, "backlog"):
        raise Refused(f"{case.number}已认定为积案。")
    backlog = BacklogCase.objects.create(
        **case_columns(case),
        entry=BacklogCase.Entry.DESIGNATED,
        owner_leader=owner_leader,
        reason=reason,
        plan=plan,
        plan_deadline=plan_deadline,
        designated_at=at,
        designated_by=by.user,
    )
    case.leader_owner = owner_leader
    case.save(update_fields=["leader_owner"])
    append_event(
        case=case,
        type="backlog_designated",
        by=by,
        at=at,
        payload={
            "owner": str(owner_leader),
            "reason": reason,
            "plan": plan,
            "plan_deadline": plan_deadline.isoformat(),
        },
    )
    return backlog


def backlog_progress(
    *, by: Membership, backlog: BacklogCase, text: str, at: datetime | None = None
) -> BacklogProgress:
    if not is_office_of(by.unit, backlog.case) or by.role not in ("clerk", "approver", "chief"):
        raise Refused("积案进展由受理机关登记。")
    if not text.strip():
        raise Invalid({"text": "请填写进展"})
    at = at or timezone.now()
    entry = BacklogProgress.objects.create(backlog=backlog, at=at, by=by.user, text=text)
    append_event(case=backlog.case, type="backlog_progress", by=by, at=at, payload={"text": text})
    return entry


def roster_upsert(*, by: Membership, unit: Unit, **fields) -> StaffRosterEntry:
    jurisdiction = _office_jurisdiction(by)
    if not unit.is_within(jurisdiction):
        raise Invalid({"unit": f"{unit}不属于{jurisdiction}"})
    entry, _ = StaffRosterEntry.objects.update_or_create(unit=unit, defaults=fields)
    return entry
