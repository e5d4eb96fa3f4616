"""Special campaigns (seed 001 二 五项活动; 003 §二(四) 专项整治 "确定目标任务,明确责任主体、进度
时限和工作措施"; 002 三年攻坚行动): goals, units, tasks with deadlines and progress, the cases and
screening findings covered, a report each period the profile names."""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases.selectors import cases_for
from xinfang.org.models import Membership, Unit
from xinfang.registers.selectors import findings_for

from ..models import Campaign, CampaignReport, CampaignTask
from ..rules import campaign_period, practices_of
from ..selectors import campaigns_for, tasks_for
from .base import Invalid, Refused, audit, keeper, required


def _ids(values, field: str) -> set[int]:
    try:
        return {int(v) for v in values or ()}
    except (TypeError, ValueError):
        raise Invalid({field: "编号无效"}) from None


@transaction.atomic
def campaign_create(
    *,
    by: Membership,
    name: str,
    goals: str,
    starts_on: date | None,
    ends_on: date | None,
    unit_ids=(),
    case_ids=(),
    finding_ids=(),
    now: datetime | None = None,
) -> Campaign:
    access = keeper(by, office=True)
    now = now or timezone.now()
    required(name=name, goals=goals, starts_on=starts_on, ends_on=ends_on, units=list(unit_ids))
    if ends_on < starts_on:
        raise Invalid({"ends_on": "结束日期不能早于开始日期"})
    units = _ids(unit_ids, "units")
    found = list(
        Unit.objects.filter(pk__in=units, path__under=access.home.path).values_list(
            "pk", flat=True
        )
    )
    if len(found) != len(units):
        raise Invalid({"units": "责任单位须在本辖区内"})
    campaign = Campaign.objects.create(
        jurisdiction=access.home,
        name=name,
        goals=goals,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=by.user,
        created_at=now,
    )
    campaign.units.set(found)
    campaign_cover(by=by, campaign_id=campaign.pk, case_ids=case_ids, finding_ids=finding_ids)
    audit(by, "campaign", campaign.pk, {"name": name, "units": len(found)})
    return campaign


@transaction.atomic
def campaign_cover(*, by: Membership, campaign_id, case_ids=(), finding_ids=()) -> Campaign:
    """Add cases and screening findings to the campaign (each one the writer may see)."""
    keeper(by, office=True)
    campaign = _campaign(by, campaign_id)
    cases, findings = _ids(case_ids, "cases"), _ids(finding_ids, "findings")
    ok = list(cases_for(by).filter(pk__in=cases).values_list("pk", flat=True))
    if len(ok) != len(cases):
        raise Invalid({"cases": "所选信访件中有您无权查看的"})
    ok_f = list(findings_for(by).filter(pk__in=findings).values_list("pk", flat=True))
    if len(ok_f) != len(findings):
        raise Invalid({"findings": "所选排查问题中有您无权查看的"})
    campaign.cases.add(*ok)
    campaign.findings.add(*ok_f)
    return campaign


@transaction.atomic
def campaign_task_add(
    *, by: Membership, campaign_id, unit_id, title: str, due_on: date | None
) -> CampaignTask:
    keeper(by, office=True)
    required(unit=unit_id, title=title, due_on=due_on)
    campaign = _campaign(by, campaign_id)
    unit = campaign.units.filter(pk=unit_id).first()
    if unit is None:
        raise Invalid({"unit": "任务的责任单位须为本专项活动的责任单位"})
    if not campaign.starts_on <= due_on <= campaign.ends_on:
        raise Invalid(
            {"due_on": f"完成时限须在活动期间（{campaign.starts_on}—{campaign.ends_on}）"}
        )
    task = CampaignTask.objects.create(campaign=campaign, unit=unit, title=title, due_on=due_on)
    audit(by, "campaign_task", task.pk, {"campaign": campaign.pk, "unit": unit.name})
    return task


@transaction.atomic
def campaign_task_progress(
    *, by: Membership, task_id, progress, note: str, now: datetime | None = None
) -> CampaignTask:
    """The unit (or the office) reports how far a task is."""
    keeper(by)
    now = now or timezone.now()
    required(progress=progress, note=note)
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        raise Invalid({"progress": "进度须为0—100的整数"}) from None
    if not 0 <= progress <= 100:
        raise Invalid({"progress": "进度须为0—100的整数"})
    try:
        task = tasks_for(by).select_for_update().filter(pk=int(task_id)).first()
    except (TypeError, ValueError):
        task = None
    if task is None:
        raise Invalid({"task": "未找到该任务"})
    if progress < task.progress:
        raise Invalid({"progress": f"进度不能倒退（现为{task.progress}%）"})
    task.progress, task.progress_note, task.updated_at = progress, note, now
    task.save(update_fields=["progress", "progress_note", "updated_at"])
    audit(by, "campaign_task", task.pk, {"progress": progress})
    return task


@transaction.atomic
def campaign_report(
    *, by: Membership, campaign_id, summary: str, now: datetime | None = None
) -> CampaignReport:
    """This period's report of the campaign (one per period: a second is refused)."""
    access = keeper(by, office=True)
    now = now or timezone.now()
    required(summary=summary)
    campaign = _campaign(by, campaign_id)
    period = campaign_period(practices_of(access.home), timezone.localdate(now))
    code = period.code if period else timezone.localdate(now).isoformat()
    try:
        with transaction.atomic():
            report = CampaignReport.objects.create(
                campaign=campaign, period=code, summary=summary, by=by.user, at=now
            )
    except IntegrityError:
        raise Refused(f"本期（{code}）已报告。", field="summary") from None
    audit(by, "campaign_report", report.pk, {"campaign": campaign.pk, "period": code})
    return report


def _campaign(by: Membership, pk) -> Campaign:
    try:
        campaign = campaigns_for(by).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        campaign = None
    if campaign is None:
        raise Invalid({"campaign": "未找到该专项活动"})
    return campaign
