"""工作移交 of a unit holding more open cases than the page moves while one waits
(``XINFANG_HANDOVER_WAIT``): the page starts the background job, a second post joins it, and
the job moves each case through ``reassign`` as the page does, its file listing each case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.cases.test_handover import against_the_receiver, township_work
from tests.web.conftest import signed_in
from xinfang.cases import choices as c
from xinfang.cases.models import Assignment
from xinfang.jobs.models import Job
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(XINFANG_HANDOVER_WAIT=2)
def test_a_unit_with_more_open_cases_than_the_wait_is_moved_in_the_background(jianan):
    first, second, third, drafted = township_work(jianan)
    against = against_the_receiver(jianan)
    town, wunv = jianan.townships["将官池镇"], jianan.townships["五女店镇"]
    clerk = signed_in(jianan.member("clerk"))
    form = {"old": town.pk, "new": wunv.pk, "reason": "乡镇撤并", "receiver_name": "马俊"}
    # when the clerk sends the hand-over of five open cases (over the wait of two)
    r = clerk.post(reverse("web:handover"), form)
    job = Job.objects.get(kind="handover")
    assert r.status_code == 302 and r["Location"] == reverse("jobs:detail", args=[job.pk])
    assert not Assignment.objects.filter(status=c.AssignmentStatus.TRANSFERRED).exists()
    # a second post (a double click) joins the job queued, it does not start another
    r = clerk.post(reverse("web:handover"), form)
    assert r["Location"] == reverse("jobs:detail", args=[job.pk])
    assert Job.objects.filter(kind="handover").count() == 1
    # then the worker moves each case through reassign, and names the one it cannot move
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.message == "已改派4件，未能改派1件。"
    assert (job.done, job.total) == (5, 5)
    listing = bytes(job.content).decode()
    for case in (first, second, third, drafted):
        assert f"已改派 {case.number}" in listing
        assert case.events.filter(type="reassign").count() == 1
    assert f"未改派 {against.number}：" in listing
    # and the job's file comes to the clerk who started it
    assert clerk.get(reverse("jobs:file", args=[job.pk])).status_code == 200
    # once past its keeping, the download says the hand-over itself stands
    from xinfang.jobs.files import job_files_expire

    job_files_expire(now=job.finished_at + timedelta(days=30))
    r = clerk.get(reverse("jobs:file", args=[job.pk]))
    assert r.status_code == 410 and "移交本身已完成" in r.content.decode()


@override_settings(XINFANG_HANDOVER_WAIT=2)
def test_the_job_runs_nothing_for_a_member_who_may_not_hand_over(jianan):
    township_work(jianan)
    town, wunv = jianan.townships["将官池镇"], jianan.townships["五女店镇"]
    from xinfang.jobs.services import job_start

    # a handling unit's member starting the kind by hand (the API lets one name a kind)
    job = job_start(kind="handover", by=jianan.member("township"), params={
        "old": town.pk, "new": wunv.pk, "reason": "x", "receiver_name": "x"})
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "受理机关的经办人或分管领导" in job.error
    assert not Assignment.objects.filter(status=c.AssignmentStatus.TRANSFERRED).exists()
