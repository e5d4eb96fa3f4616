"""Writes to the three registers: screening findings, backlog cases and the staff roster."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from xinfang.audit.services import REGISTER_CHANGE, audit_record
from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput, Registration, case_register
from xinfang.cases.services.base import Invalid, append_event, is_office_of
from xinfang.org.choices import UnitKind
from xinfang.org.models import Membership, Unit, switched_off_text, units_switched_off
from xinfang.rules.consumers import consumes
from xinfang.rules.store import current_version, profile_of

from .models import BacklogCase, BacklogProgress, ScreeningFinding, StaffRosterEntry
from .selectors import backlog_for, findings_for, is_locality, register_access

# The columns the keeper of a line may change (L1 / L2), each a plain model field.
FINDING_FIELDS = ("screened_on", "person_name", "contact", "exited_or_monitored", "locality_text",
                  "problem", "category", "is_new", "responsible_unit", "responsible_unit_text",
                  "solved", "guided", "assisted", "dealt_by_law", "stable", "note")
BACKLOG_FIELDS = ("first_petition_on", "exited_or_monitored", "locality_text", "problem",
                  "category", "reason", "owner_leader_text", "responsible_unit_text", "solved",
                  "guided", "assisted", "dealt_by_law", "stable", "note", "plan",
                  "plan_deadline")
# Never written to the audit trail in clear.
PERSONAL = {"person_name", "contact"}


def _audit(by: Membership, what: str, pk, detail: dict) -> None:
    audit_record(action=REGISTER_CHANGE, actor=by.user, object_type=what, object_id=pk,
                 detail={"membership": by.pk, "role": by.role, "unit": by.unit.name, **detail})


def _changed_names(changes: dict) -> dict:
    return {k: ("***" if k in PERSONAL else str(v)) for k, v in changes.items()}


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


def _finding_home(by: Membership, township: Unit) -> Unit:
    """The jurisdiction a new finding is recorded in: the office's own, or — for a township or
    village keeping its own findings — the jurisdiction above that unit, when the finding is
    located in it."""
    access = register_access(by)
    if access is None or not access.keeps:
        raise Refused("您不能登记排查台账。")
    if access.office:
        return access.home
    if not is_locality(access.unit):
        # A bureau screens its own line across the jurisdiction it belongs to; it keeps the
        # findings it is responsible for (``screening_record`` names it so).
        home = access.unit.jurisdiction()
        if home is None or not township.is_within(home):
            raise Invalid({"township": f"只能登记{home or access.unit}辖区内的排查情况"})
    elif not (township.is_within(access.unit) or access.unit.is_within(township)):
        raise Invalid({"township": f"只能登记本单位（{access.unit}）的排查情况"})
    home = township.jurisdiction()
    if home is None:
        raise Invalid({"township": f"{township}不在任何信访受理机关的辖区内"})
    rule = screening_rule(home)
    if rule is not None and rule.by and access.unit.kind not in rule.by:
        keepers = "、".join(str(UnitKind(k).label) for k in rule.by if k in UnitKind.values)
        raise Invalid({"township": f"本地规则（{rule.label}）规定由{keepers}排查登记，"
                                   f"{access.unit}不在其列"})
    return home


@consumes("registers.name", "registers.by", by="xinfang.registers.services.screening_rule")
def screening_rule(home: Unit):
    """The profile's screening register (its keepers by unit kind), or None."""
    if not home.profile_code:
        return None
    profile = profile_of(current_version(home.profile_code))
    return next((r for r in profile.registers if r.name == "screening"), None)


@transaction.atomic
def screening_record(*, by: Membership, finding: Finding) -> ScreeningFinding:
    jurisdiction = _finding_home(by, finding.township)
    errors = {}
    if not is_locality(by.unit) and register_access(by).unit is not None:
        # A bureau's finding is its own line's: it is the responsible unit, whoever it names.
        if finding.responsible_unit and finding.responsible_unit != by.unit:
            errors["responsible_unit"] = f"部门登记的排查线索由本部门（{by.unit}）负责"
        finding = replace(finding, responsible_unit=by.unit)
    if not finding.township.is_within(jurisdiction):
        errors["township"] = f"{finding.township}不属于{jurisdiction}"
    if not finding.person_name.strip():
        errors["person_name"] = "请填写信访人姓名"
    if finding.village and finding.village.parent_id != finding.township.pk:
        errors["village"] = "所选村（社区）不属于所选乡镇"
    if not finding.problem.strip():
        errors["problem"] = "请填写反映问题"
    if errors:
        raise Invalid(errors)
    row = ScreeningFinding.objects.create(
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
    _audit(by, "screening", row.pk, {"change": "recorded", "township": finding.township.name})
    return row


@transaction.atomic
def screening_update(*, by: Membership, finding: ScreeningFinding, changes: dict
                     ) -> ScreeningFinding:
    """The keeper of the line (its township or village, or the office) updates its columns —
    typically 三到位一处理, 是否稳定 and 备注 as the matter is dealt with."""
    unknown = set(changes) - set(FINDING_FIELDS)
    if unknown:
        raise Invalid({k: "此项不能修改" for k in sorted(unknown)})
    access = register_access(by)
    row = findings_for(by).select_for_update(of=("self",)).filter(pk=finding.pk).first()
    if access is None or not access.keeps or row is None:
        raise Refused("这条排查线索不归您的单位维护。")
    errors = {}
    if "problem" in changes and not str(changes["problem"] or "").strip():
        errors["problem"] = "请填写反映问题"
    if "person_name" in changes and not str(changes["person_name"] or "").strip():
        errors["person_name"] = "请填写信访人姓名"
    if errors:
        raise Invalid(errors)
    for key, value in changes.items():
        setattr(row, key, value)
    if "screened_on" in changes:
        row.month = row.screened_on.replace(day=1)
    row.updated_by = by.user
    row.save()
    _audit(by, "screening", row.pk, {"change": "updated", "fields": _changed_names(changes)})
    return row


@transaction.atomic
def screening_to_case(
    *, by: Membership, finding: ScreeningFinding, at: datetime | None = None
) -> Case:
    """A screening finding becomes a case (channel 排查发现), linked both ways."""
    finding = ScreeningFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.case_id:
        raise Refused(f"该排查线索已转为信访件{finding.case.number}。")
    # A township merged or a village switched off since the finding was screened: no new case
    # is filed under it (as the registration form refuses it); the finding keeps its place.
    for off in units_switched_off([finding.township, finding.village]):
        raise Refused(f"{switched_off_text(off)}：请先修改该排查线索的问题所属地，再登记为信访件。",
                      field=off.level)
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
    return case_columns_many([case])[case.pk]


def case_columns_many(cases: list[Case]) -> dict[int, dict]:
    """``case_columns`` of each case, by case id: the first demands, the lead units, the first
    visits read once for all the cases (three statements however many). ``cases``: model
    instances or rows with their attributes' names."""
    from xinfang.cases.models import Assignment, Demand

    # the ids as one array on PostgreSQL (``probes.among``): a sweep enters thousands of lines
    among = probes.among("case_id", tuple(case.pk for case in cases))
    category: dict[int, str] = {}
    for case_id, cat in (Demand.objects.filter(among).order_by("case_id", "seq")
                         .values_list("case_id", "category")):
        category.setdefault(case_id, cat)
    lead: dict[int, int] = {}
    for case_id, unit_id in (Assignment.objects.filter(among, role=c.AssignmentRole.LEAD)
                             .exclude(status=c.AssignmentStatus.TRANSFERRED)
                             .order_by("case_id", "-assigned_at", "-pk")
                             .values_list("case_id", "unit_id")):
        lead.setdefault(case_id, unit_id)
    # 初访时间: when the matter was first petitioned — the root of the case's ``repeat_of``
    # chain (issue 14: the same matter, visit after visit), not this visit.
    roots = {case.matter_root_id for case in cases if case.matter_root_id}
    received = dict(Case.objects.filter(pk__in=roots).values_list("pk", "received_at")) \
        if roots else {}
    out = {}
    for case in cases:
        first = received.get(case.matter_root_id)
        out[case.pk] = {
            "case_id": case.pk,
            "jurisdiction_id": case.jurisdiction_id,
            "first_petition_on": timezone.localtime(
                min(first, case.received_at) if first else case.received_at).date(),
            "exited_or_monitored": bool(case.exited_household or case.monitored_household),
            "township_id": case.township_id,
            "village_id": case.village_id,
            "problem": case.matter,
            "category": category.get(case.pk, ""),
            "responsible_unit_id": lead.get(case.pk),
        }
    return out


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
    # The case's row first, as every writer of its history takes it: two designations at once
    # then read the register one after the other — with only the line locked, both found none
    # and the second's insert broke on the one-to-one link (a server error, not a refusal).
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").get()
    entered = BacklogCase.objects.select_for_update().filter(case=case).first()
    if entered is not None and (entered.plan or entered.entry == BacklogCase.Entry.DESIGNATED):
        raise Refused(f"{case.number}已认定为积案。")
    if entered is not None:
        # a line the profile sent by itself: the leader completes it with owner, cause and plan
        entered.owner_leader, entered.reason, entered.plan = owner_leader, reason, plan
        entered.plan_deadline, entered.designated_by = plan_deadline, by.user
        entered.save()
        backlog = entered
    else:
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


@consumes("registers.by", by="xinfang.registers.services.backlog_keeper_refusal")
def backlog_keeper_refusal(by: Membership, backlog: BacklogCase) -> str | None:
    """The profile names the kinds of unit that keep the backlog register (jianan: the poverty
    office and the townships, seed 001 二(三)); a responsible unit of another kind reads its line
    but does not write it. The office itself always keeps it."""
    access = register_access(by)
    if access is None or access.office:
        return None
    from .backlog import backlog_rule

    rule = backlog_rule(profile_of(current_version(backlog.jurisdiction.profile_code))) \
        if backlog.jurisdiction.profile_code else None
    if rule is None or not rule.by or by.unit.kind in rule.by:
        return None
    keepers = "、".join(str(UnitKind(k).label) for k in rule.by if k in UnitKind.values)
    return f"本地规则（{rule.label}）规定由{keepers}维护积案台账，{by.unit}只能查看。"


@transaction.atomic
def backlog_progress(
    *, by: Membership, backlog: BacklogCase, text: str, at: datetime | None = None
) -> BacklogProgress:
    access = register_access(by)
    if access is None or not access.keeps or not backlog_for(by).filter(pk=backlog.pk).exists():
        raise Refused("积案进展由受理机关或责任单位登记。")
    why = backlog_keeper_refusal(by, backlog)
    if why:
        raise Refused(why)
    if not text.strip():
        raise Invalid({"text": "请填写进展"})
    at = at or timezone.now()
    entry = BacklogProgress.objects.create(backlog=backlog, at=at, by=by.user, text=text)
    if backlog.case_id:
        append_event(case=backlog.case, type="backlog_progress", by=by, at=at,
                     payload={"text": text})
    _audit(by, "backlog", backlog.pk, {"change": "progress"})
    return entry


@transaction.atomic
def backlog_update(*, by: Membership, backlog: BacklogCase, changes: dict) -> BacklogCase:
    """The office or the responsible unit updates the line's columns (三到位一处理,
    是否稳定, 备注…)."""
    unknown = set(changes) - set(BACKLOG_FIELDS)
    if unknown:
        raise Invalid({k: "此项不能修改" for k in sorted(unknown)})
    access = register_access(by)
    row = backlog_for(by).select_for_update(of=("self",)).filter(pk=backlog.pk).first()
    if access is None or not access.keeps or row is None:
        raise Refused("这条积案不归您的单位维护。")
    why = backlog_keeper_refusal(by, row)
    if why:
        raise Refused(why)
    if "reason" in changes and not str(changes["reason"] or "").strip():
        raise Invalid({"reason": "请填写积案原因"})
    for key, value in changes.items():
        setattr(row, key, value)
    row.save()
    _audit(by, "backlog", row.pk, {"change": "updated", "fields": _changed_names(changes)})
    return row


@transaction.atomic
def backlog_resolve(*, by: Membership, backlog: BacklogCase, outcome: str,
                    stable: bool | None = True, at: datetime | None = None) -> BacklogCase:
    """积案化解: the office's leaders (approver, chief) mark the line resolved with its outcome.
    Once resolved it stays resolved; the history keeps who and when."""
    access = register_access(by)
    row = backlog_for(by).select_for_update(of=("self",)).filter(pk=backlog.pk).first()
    if access is None or not access.office or by.role not in ("approver", "chief") or row is None:
        raise Refused("积案化解须由受理机关的分管或主要领导确认。")
    if not (outcome or "").strip():
        raise Invalid({"outcome": "请填写化解结果"})
    if row.resolved_at is not None:
        raise Refused("该积案已化解。")
    at = at or timezone.now()
    row.resolved_at, row.resolved_by, row.outcome = at, by.user, outcome.strip()
    if stable is not None:
        row.stable = stable
    row.save(update_fields=["resolved_at", "resolved_by", "outcome", "stable", "updated_at"])
    if row.case_id:
        append_event(case=row.case, type="backlog_resolved", by=by, at=at,
                     payload={"outcome": row.outcome})
    _audit(by, "backlog", row.pk, {"change": "resolved", "outcome": row.outcome})
    return row


ROSTER_FIELDS = ("leader_name", "leader_position", "leader_office_phone", "leader_mobile",
                 "clerk_name", "clerk_office_phone", "clerk_mobile")


@transaction.atomic
def roster_upsert(*, by: Membership, unit: Unit, **fields) -> StaffRosterEntry:
    """The roster line of ``unit``: the office keeps every unit's, a unit its own."""
    unknown = set(fields) - set(ROSTER_FIELDS)
    if unknown:
        raise Invalid({k: "此项不能修改" for k in sorted(unknown)})
    access = register_access(by)
    if access is None or not access.keeps:
        raise Refused("您不能维护干部队伍台账。")
    if access.office and not unit.is_within(access.home):
        raise Invalid({"unit": f"{unit}不属于{access.home}"})
    if not access.office and unit.pk != access.unit.pk:
        raise Invalid({"unit": f"只能填报本单位（{access.unit}）的信访干部"})
    entry, created = StaffRosterEntry.objects.update_or_create(unit=unit, defaults=fields)
    _audit(by, "roster", entry.pk, {"change": "recorded" if created else "updated",
                                     "of": unit.name})
    return entry
