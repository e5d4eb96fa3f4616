"""Special campaigns (seed 001 二 五项活动; 003 §二(四) 目标任务、责任主体、进度时限; 002 三年攻坚
行动): units, tasks with deadlines and progress, cases and findings covered, a monthly report;
an overdue task reaches its unit, a missing report the office."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.conftest import sh
from tests.web.conftest import signed_in
from xinfang.notify.models import Notice
from xinfang.practices.models import Campaign, CampaignTask
from xinfang.practices.services import (
    Invalid,
    Refused,
    campaign_create,
    campaign_report,
    campaign_task_add,
    campaign_task_progress,
)
from xinfang.practices.sweep import sweep

pytestmark = pytest.mark.django_db


def campaign(j, **extra):
    args = dict(
        by=j.member("clerk"),
        name="涉贫信访舆情专项整治",
        goals="五项活动：大排查、大调处……",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 12, 31),
        unit_ids=[j.townships["将官池镇"].pk],
        now=sh(2026, 3, 1, 9),
    )
    args.update(extra)
    return campaign_create(**args)


def test_a_campaign_with_tasks_progress_and_monthly_reports(jianan, fresh):
    j = jianan
    case = fresh()
    cp = campaign(j, case_ids=[case.pk])
    assert list(cp.cases.all()) == [case]
    task = campaign_task_add(
        by=j.member("clerk"),
        campaign_id=cp.pk,
        unit_id=j.townships["将官池镇"].pk,
        title="建立积案台账",
        due_on=date(2026, 10, 31),
    )
    with pytest.raises(Invalid) as e:
        campaign_task_add(
            by=j.member("clerk"),
            campaign_id=cp.pk,
            unit_id=j.bureaus["区民政局"].pk,
            title="x",
            due_on=date(2026, 10, 31),
        )
    assert set(e.value.errors) == {"unit"}
    township = j.member("township")
    campaign_task_progress(
        by=township, task_id=task.pk, progress=60, note="已梳理", now=sh(2026, 10, 20, 9)
    )
    with pytest.raises(Invalid) as e:
        campaign_task_progress(by=township, task_id=task.pk, progress=50, note="x")
    assert set(e.value.errors) == {"progress"}
    with pytest.raises(Invalid):
        campaign_task_progress(by=j.member("bureau"), task_id=task.pk, progress=70, note="x")
    report = campaign_report(
        by=j.member("clerk"), campaign_id=cp.pk, summary="本月排查12件", now=sh(2026, 10, 30, 9)
    )
    assert report.period == "2026-10"
    with pytest.raises(Refused, match="本期"):
        campaign_report(
            by=j.member("clerk"), campaign_id=cp.pk, summary="again", now=sh(2026, 10, 31, 9)
        )
    with pytest.raises(Refused):
        campaign_report(by=township, campaign_id=cp.pk, summary="x")


def test_overdue_tasks_and_missing_reports_are_flagged(jianan):
    j = jianan
    cp = campaign(j)
    campaign_task_add(
        by=j.member("clerk"),
        campaign_id=cp.pk,
        unit_id=j.townships["将官池镇"].pk,
        title="大排查",
        due_on=date(2026, 10, 31),
    )
    campaign_report(
        by=j.member("clerk"), campaign_id=cp.pk, summary="十月进展", now=sh(2026, 10, 30, 9)
    )
    result = sweep(at=sh(2026, 11, 1, 9))
    assert result.flagged["campaign"] == 1  # the task; October was reported
    assert Notice.objects.get(kind="campaign").unit == j.townships["将官池镇"]
    result = sweep(at=sh(2026, 12, 1, 9))
    assert result.flagged["campaign"] == 1  # November not reported → the office
    assert Notice.objects.filter(kind="campaign", unit=j.county).count() == 1


def test_campaign_pages_and_api(jianan):
    j = jianan
    office = signed_in(j.member("clerk"))
    r = office.post(
        reverse("practices:campaigns"),
        {
            "name": "积案大会战",
            "goals": "积案清零",
            "starts_on": "2026-03-01",
            "ends_on": "2026-12-31",
            "units": [j.townships["将官池镇"].pk],
        },
    )
    assert r.status_code == 302
    cp = Campaign.objects.get()
    url = reverse("practices:campaign", args=[cp.pk])
    assert (
        office.post(
            url,
            {
                "action": "task",
                "t-unit": j.townships["将官池镇"].pk,
                "t-title": "一案一策",
                "t-due_on": "2026-11-30",
            },
        ).status_code
        == 302
    )
    task = CampaignTask.objects.get()
    township = signed_in(j.member("township"))
    assert (
        township.post(
            url, {"action": "progress", "g-task": task.pk, "g-progress": "40", "g-note": "推进中"}
        ).status_code
        == 302
    )
    task.refresh_from_db()
    assert task.progress == 40
    assert township.post(url, {"action": "report", "p-summary": "x"}).status_code == 403
    assert signed_in(j.member("bureau")).get(url).status_code == 404
    api = office.post(
        reverse("practices_api:campaign-reports", args=[cp.pk]),
        {"summary": "本月进展"},
        content_type="application/json",
    )
    assert api.status_code == 201
    listed = township.get(reverse("practices_api:campaigns")).json()
    assert listed["count"] == 1 and listed["results"][0]["units"] == ["将官池镇"]
    progress = township.post(
        reverse("practices_api:task-progress", args=[task.pk]),
        {"progress": 100, "note": "完成"},
        content_type="application/json",
    )
    assert progress.status_code == 201 and progress.json()["progress"] == 100
