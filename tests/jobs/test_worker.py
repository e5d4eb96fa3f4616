"""The worker (``xinfang worker``): jobs run once with progress, the schedule runs each period once
however many workers, the heartbeat is recorded, and only a job's starter sees it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.api.world import read_sheet
from tests.conftest import register_in
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.jobs.models import Job, PeriodicRun, WorkerBeat
from xinfang.jobs.selectors import workers_alive
from xinfang.jobs.services import Schedule, job_start
from xinfang.jobs.tasks import run_job
from xinfang.jobs.worker import Loop

# The worker closes and reopens connections between tasks as a process does: transactional tests.
pytestmark = pytest.mark.django_db(transaction=True)

JOBS = {
    "ledger_l0": ("xinfang.jobs.kinds.ledger_l0", "导出信访事项台账（L0）"),
    "archive": ("xinfang.jobs.kinds.archive", "生成案卷（一案一档）"),
    "pdf": ("xinfang.jobs.kinds.pdf", "文书转换 PDF"),
    "count": ("tests.jobs.kinds.count", "数数"),
    "boom": ("tests.jobs.kinds.boom", "出错"),
}


def drain() -> int:
    return Loop(schedule=False, interval=0).drain()


@override_settings(XINFANG_JOBS=JOBS)
def test_the_worker_runs_a_queued_job_and_its_progress_is_visible_while_it_runs(jianan):
    clerk = jianan.member("clerk")
    job = job_start(kind="count", by=clerk, params={"n": 10})
    assert job.status == Job.Status.QUEUED and job.task_id
    assert DBTaskResult.objects.filter(id=job.task_id, status="READY").exists()
    assert drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    # What the job read back mid-run: 3 of 10 was on the row before it finished.
    assert bytes(job.content) == "3/10/第一步".encode()
    assert (job.done, job.total, job.percent) == (10, 10, 100)
    assert job.user == clerk.user and job.started_at and job.finished_at
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"
    assert AuditEntry.objects.filter(action="job_start", object_id=str(job.pk)).exists()


@override_settings(XINFANG_JOBS=JOBS)
def test_a_task_delivered_twice_runs_its_job_once(jianan):
    job = job_start(kind="count", by=jianan.member("clerk"))
    run_job.enqueue(job.pk)  # a retry, a double enqueue
    assert drain() == 2
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    results = [r.return_value for r in DBTaskResult.objects.filter(task_path__endswith="run_job")]
    assert sorted(bool(r.get("skipped")) for r in results) == [False, True]


@override_settings(XINFANG_JOBS=JOBS)
def test_a_failing_job_tells_its_starter_why(jianan):
    job = job_start(kind="boom", by=jianan.member("clerk"))
    drain()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "disk on fire" in job.error


def test_the_l0_export_runs_in_the_background_through_the_door(jianan):
    clerk, township = jianan.member("clerk"), jianan.member("township")
    case = register_in(jianan)
    mine = job_start(kind="ledger_l0", by=clerk)
    theirs = job_start(kind="ledger_l0", by=township)  # the case is not assigned to them yet
    drain()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == Job.Status.DONE, mine.error
    rows = read_sheet(bytes(mine.content))  # the table under the ledger's title row
    assert rows[1][0] == case.number and rows[1][1] != "张三明"  # masked by default
    assert (mine.done, mine.total) == (1, 1)
    assert len(read_sheet(bytes(theirs.content))) == 1
    exports = AuditEntry.objects.filter(action="export")
    assert exports.count() == 2


def test_an_unmasked_export_without_a_reason_fails_with_the_field_named(jianan):
    job = job_start(kind="ledger_l0", by=jianan.member("clerk"), params={"unmasked": True})
    drain()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "理由" in job.error


def test_an_archive_of_a_case_i_may_not_see_fails_without_saying_more(jianan):
    case = register_in(jianan)
    job = job_start(kind="archive", by=jianan.member("township"), params={"case_id": case.pk})
    drain()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "无权查看" in job.error
    ok = job_start(
        kind="archive", by=jianan.member("clerk"), params={"case_id": case.pk, "pdf": False}
    )
    drain()
    ok.refresh_from_db()
    assert ok.status == Job.Status.DONE and bytes(ok.content)[:2] == b"PK"
    assert ok.filename == f"{case.number}-案卷.zip"
    assert (
        AuditEntry.objects.filter(
            action="export", object_type="case", object_id=str(case.pk)
        ).count()
        == 1
    )


@override_settings(XINFANG_JOBS=JOBS)
def test_only_the_starter_sees_a_job_on_the_pages_and_the_api(jianan):
    clerk, approver = jianan.member("clerk"), jianan.member("approver")
    job = job_start(kind="count", by=clerk)
    drain()
    mine, other = signed_in(clerk), signed_in(approver)
    for url in (
        f"/jobs/{job.pk}/",
        f"/jobs/{job.pk}/file",
        f"/api/jobs/{job.pk}/",
        f"/api/jobs/{job.pk}/file",
    ):
        assert mine.get(url).status_code == 200, url
        assert other.get(url).status_code == 404, url
        assert Client().get(url).status_code in (302, 401, 403), url
    assert "数数" in mine.get("/jobs/").content.decode()
    assert "数数" not in other.get("/jobs/").content.decode()
    assert other.get("/api/jobs/").json() == []
    body = mine.get(f"/api/jobs/{job.pk}/").json()
    assert body["status"] == "done" and body["percent"] == 100 and body["file"]
    # the HTMX poll answers the fragment only
    part = mine.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="job-status"' in part and "<html" not in part


def test_jobs_start_from_the_page_and_the_api_and_refuse_unknown_kinds(jianan):
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    response = client.post("/jobs/new/", {"kind": "ledger_l0", "filters": "state=registered"})
    job = Job.objects.get(kind="ledger_l0")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.params["filters"] == "state=registered" and job.membership == clerk
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "排队中" in page and 'hx-trigger="every 2s"' in page
    api = client.post(
        "/api/jobs/", {"kind": "ledger_l0", "params": {}}, content_type="application/json"
    )
    assert api.status_code == 202 and api.json()["status"] == "queued"
    for kind in ("pdf", "nope"):
        bad = client.post("/api/jobs/", {"kind": kind}, content_type="application/json")
        assert bad.status_code == 400 and "kind" in bad.json()["errors"]
    assert client.post("/jobs/new/", {"kind": "pdf"}).status_code == 302
    assert Job.objects.count() == 2
    # The ledger page and the case page carry the forms that start them.
    assert 'id="export-l0-job"' in client.get("/ledger/?state=registered").content.decode()
    case = register_in(jianan)
    assert 'id="archive-job"' in client.get(f"/cases/{case.pk}/").content.decode()
    assert "后台任务" in client.get("/jobs/").content.decode()


SWEEP = {"sweep": ("xinfang.jobs.periodic.sweep", 300)}


@override_settings(XINFANG_PERIODIC=SWEEP)
def test_the_scheduled_sweep_runs_once_per_period_with_two_workers(jianan):
    register_in(jianan)
    a, b = Loop(worker_id="a", interval=0), Loop(worker_id="b", interval=0)
    a.round()
    b.round()
    a.round()
    runs = list(PeriodicRun.objects.all())
    assert len(runs) == 1 and runs[0].name == "sweep"
    assert runs[0].finished_at is not None and "overdue" in runs[0].result
    # The next period: both try, one runs.
    later = timezone.now() + timedelta(seconds=300)
    claimed = Schedule("a").tick(later) + Schedule("b").tick(later) + Schedule("c").tick(later)
    assert claimed == ["sweep"]
    a.drain()
    assert PeriodicRun.objects.filter(finished_at__isnull=False).count() == 2
    assert DBTaskResult.objects.filter(task_path__endswith="run_periodic").count() == 2
    # A retry of a period's task does not sweep again.
    from xinfang.jobs.tasks import run_periodic

    first = PeriodicRun.objects.order_by("pk").first()
    run_periodic.enqueue(first.pk)
    a.drain()
    retried = DBTaskResult.objects.filter(task_path__endswith="run_periodic").order_by(
        "-enqueued_at"
    )[0]
    assert retried.return_value == {"run": first.pk, "skipped": True}


@override_settings(XINFANG_PERIODIC={"one": ("tests.jobs.periodic_target", 60)})
def test_a_schedule_entry_whose_function_is_gone_is_recorded_as_failed(transactional_db):
    Loop(worker_id="a", interval=0).drain()
    run = PeriodicRun.objects.get()
    assert run.finished_at and "periodic_target" in run.error


def test_the_heartbeat_is_recorded_and_a_stopped_worker_says_so(transactional_db):
    loop = Loop(worker_id="beat-1", interval=0)
    loop.round()
    beat = WorkerBeat.objects.get(worker_id="beat-1")
    assert beat.pid and beat.seen_at >= loop.started_at and beat.stopped_at is None
    assert [w.worker_id for w in workers_alive()] == ["beat-1"]
    loop.forever(max_rounds=1)
    assert WorkerBeat.objects.get(worker_id="beat-1").stopped_at is not None
    assert workers_alive() == []


def test_the_worker_command_runs_what_is_queued_once(jianan):
    job = job_start(kind="ledger_l0", by=jianan.member("clerk"))
    out = io.StringIO()
    call_command("worker", "--once", "--worker-id", "cmd-1", stdout=out)
    assert "已执行" in out.getvalue()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.worker_id == "cmd-1"
    assert WorkerBeat.objects.get(worker_id="cmd-1").stopped_at is not None


def test_the_health_check_reads_the_heartbeat(transactional_db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有后台任务进程的心跳"):
        call_command("worker", "--status", stdout=io.StringIO())
    Loop(worker_id="health-1", interval=0).round()
    out = io.StringIO()
    call_command("worker", "--status", stdout=out)
    assert "health-1" in out.getvalue()


@override_settings(XINFANG_JOBS=JOBS)
def test_a_persons_job_goes_before_the_systems_pdf_copies(jianan):
    system = job_start(kind="pdf", by=None, params={"renditions": []})
    mine = job_start(kind="count", by=jianan.member("clerk"))
    Loop(schedule=False, interval=0, per_round=1).round()
    mine.refresh_from_db()
    system.refresh_from_db()
    assert mine.status == Job.Status.DONE and system.status == Job.Status.QUEUED
    drain()
    system.refresh_from_db()
    assert system.status == Job.Status.DONE and system.user is None


@override_settings(XINFANG_JOBS=JOBS, XINFANG_EXPORT_WAIT_ROWS=1)
def test_the_background_export_writes_what_is_too_long_to_wait_for(jianan):
    # the limit is for a person waiting on a download; the background export has none
    for _ in range(3):
        register_in(jianan)
    job = job_start(kind="ledger_l0", by=jianan.member("clerk"))
    assert drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert len(read_sheet(bytes(job.content))) == 4


@override_settings(XINFANG_AUDIT_VERIFY_WAIT=3)
def test_the_auditor_checks_a_trail_too_long_to_wait_on_in_the_background(jianan):
    """A year's trail of a province is millions of entries, minutes of MACs: past a bound the
    auditor's page does not check while one waits but points at the background check, whose
    result the page then shows. The auditor's alone, as on the page."""
    from django.urls import reverse

    auditor = signed_in(jianan.member("auditor"))
    for _ in range(4):
        Client().post(reverse("web:login"), {"username": "clerk", "password": "wrong"})
    html = auditor.get(reverse("web:audit_log"), {"verify": "1"}).content.decode()
    assert "超过 3 条" in html and "审计链完整" not in html
    started = auditor.post(reverse("web:audit_verify_start"))
    assert started.url == reverse("web:audit_log")
    job = Job.objects.get(kind="audit_verify")
    html = auditor.get(reverse("web:audit_log")).content.decode()
    assert "进行中" in html.split('id="last-check"', 1)[1].split("</p>", 1)[0]
    # a second click while it waits starts nothing more
    assert auditor.post(reverse("web:audit_verify_start")).url == reverse("web:audit_log")
    assert Job.objects.filter(kind="audit_verify").count() == 1
    entries = AuditEntry.objects.count()
    assert drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.message.startswith("审计链完整") and f"共校验 {entries} 条" in job.message
    assert (job.done, job.total) == (entries, entries)
    assert "审计链：完整" in bytes(job.content).decode()
    html = auditor.get(reverse("web:audit_log")).content.decode()
    shown = html.split('id="last-check"', 1)[1].split("</p>", 1)[0]
    assert job.message in shown
    # and the report it kept is the auditor's to download, nobody else's
    report = reverse("web:audit_verify_report", args=[job.pk])
    assert f'href="{report}"' in shown
    got = auditor.get(report)
    assert got.status_code == 200 and "审计链：完整" in got.content.decode()
    assert "no-store" in got["Cache-Control"]
    assert auditor.get(reverse("web:audit_verify_report", args=[job.pk + 99])).status_code == 404
    assert signed_in(jianan.member("clerk")).get(report).status_code == 403
    # and nobody else runs it: the clerk's own start is refused by the job, the page's by
    # the page
    assert signed_in(jianan.member("clerk")).post(
        reverse("web:audit_verify_start")).status_code == 403
    refused = job_start(kind="audit_verify", by=jianan.member("clerk"))
    drain()
    refused.refresh_from_db()
    assert refused.status == Job.Status.FAILED and "审计管理员" in refused.error
