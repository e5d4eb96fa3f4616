"""A worker that dies in the middle of a job (SIGKILL, a power cut, the second Ctrl-C): the job it
held is not left 进行中 for ever. Another worker — or the same service started again — marks it
failed once the dead worker has given no sign of life for ``XINFANG_JOB_STALE`` seconds (at once
when the worker said it stopped), so its starter sees what happened and can start it again; a
worker busy with a long job keeps beating and keeps its job."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.web.conftest import signed_in
from xinfang.jobs.models import Job, WorkerBeat
from xinfang.jobs.services import job_run, job_start, worker_beat
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)

JOBS = {"count": ("tests.jobs.kinds.count", "数数"), "slow": ("tests.jobs.kinds.slow", "慢")}


class Clock:
    """The reaper's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def killed_mid_job(job: Job, worker_id: str = "dead-1") -> None:
    """What the database holds after the worker running ``job`` was killed: its task claimed
    and running, the job running under that worker, its last beat left behind."""
    started = timezone.now()
    worker_beat(worker_id=worker_id, started_at=started)
    task = DBTaskResult.objects.get(id=job.task_id)
    task.claim(worker_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=started,
                                         updated_at=started, worker_id=worker_id)


def live(clock: Clock, worker_id: str = "live-1") -> Loop:
    loop = Loop(worker_id=worker_id, schedule=False, interval=0)
    loop.reaper.clock = clock
    return loop


@override_settings(XINFANG_JOBS=JOBS, XINFANG_JOB_STALE=120)
def test_a_job_whose_worker_was_killed_is_failed_for_its_starter_who_can_start_it_again(jianan):
    # given the clerk's job, its worker killed halfway through it
    clerk = jianan.member("clerk")
    job = job_start(kind="count", by=clerk)
    killed_mid_job(job)
    clock = Clock()
    loop = live(clock)
    # when another worker runs: at first the dead one may only be slow
    loop.round()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    clock.now += 119
    loop.round()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    # then, two minutes without a sign of life (and the reaper's next look), it is failed
    clock.now += 16
    loop.round()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "中断" in job.error and job.finished_at
    assert job.content is None and not job.filename
    task = DBTaskResult.objects.get(id=job.task_id)
    assert task.status == "FAILED" and task.finished_at
    page = signed_in(clerk).get(f"/jobs/{job.pk}/").content.decode()
    assert "失败" in page and "中断" in page
    assert signed_in(clerk).get(f"/api/jobs/{job.pk}/").json()["status"] == "failed"
    # and a second start runs
    again = job_start(kind="count", by=clerk)
    loop.drain()
    again.refresh_from_db()
    assert again.status == Job.Status.DONE


@override_settings(XINFANG_JOBS=JOBS, XINFANG_JOB_STALE=120)
def test_a_job_of_a_worker_that_said_it_stopped_is_failed_at_once(jianan):
    # the second Ctrl-C ends a task with SystemExit; the worker still records that it stopped
    job = job_start(kind="count", by=jianan.member("clerk"))
    killed_mid_job(job)
    WorkerBeat.objects.filter(worker_id="dead-1").update(stopped_at=timezone.now())
    live(Clock()).round()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "中断" in job.error


@override_settings(XINFANG_JOBS=JOBS, XINFANG_JOB_STALE=120)
def test_a_job_whose_worker_still_beats_or_reports_progress_is_left_running(jianan):
    job = job_start(kind="count", by=jianan.member("clerk"))
    killed_mid_job(job, worker_id="busy-1")
    clock = Clock()
    loop = live(clock)
    for _ in range(5):
        loop.round()
        clock.now += 100
        worker_beat(worker_id="busy-1", started_at=timezone.now())  # its beat thread
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    # a job that reports progress under a worker with no beat row (another runner) is alive too
    WorkerBeat.objects.filter(worker_id="busy-1").delete()
    for _ in range(5):
        loop.round()
        clock.now += 100
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now())
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


@override_settings(XINFANG_JOBS=JOBS, XINFANG_JOB_STALE=120)
def test_a_job_that_finishes_after_all_is_not_overwritten_by_a_late_reaping(jianan):
    # the reaper read the job running, then the job wrote its progress: no failure over it
    job = job_start(kind="count", by=jianan.member("clerk"))
    killed_mid_job(job)
    clock = Clock()
    loop = live(clock)
    loop.round()
    clock.now += 121
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now())
    loop.round()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


@override_settings(XINFANG_JOBS=JOBS, XINFANG_WORKER_BEAT_EVERY=0.05)
def test_a_worker_busy_with_a_long_job_keeps_beating(jianan):
    """``/healthz`` and ``worker --status`` count workers that beat in the last minute: a job
    longer than that (an import, a province's L0) made the only worker look dead."""
    job = job_start(kind="slow", by=jianan.member("clerk"), params={"seconds": 0.6})
    loop = Loop(worker_id="long-1", schedule=False, interval=0)
    done = threading.Event()
    beats = []

    def watch() -> None:
        from django.db import connection

        try:
            while not done.is_set():
                beat = WorkerBeat.objects.filter(worker_id="long-1").first()
                if beat is not None:
                    beats.append(beat.seen_at)
                time.sleep(0.05)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        loop.forever(max_rounds=1)
    finally:
        done.set()
        watcher.join(timeout=30)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert len(set(beats)) >= 4, f"the beat moved while the job ran: {beats}"


def test_a_job_run_after_its_account_was_switched_off_does_not_run(jianan):
    """The account is switched off (its membership still on the books): the job queued before
    runs nothing as that account, and hands over no file."""
    from xinfang.web.admin_services import user_set_active

    clerk = jianan.member("clerk")
    job = job_start(kind="ledger_l0", by=clerk)
    user_set_active(by=jianan.member("sysadmin"), user=clerk.user, active=False)
    job_run(job_id=job.pk, worker_id="w")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "停用" in job.error and job.content is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ends a PostgreSQL connection")
@override_settings(XINFANG_JOBS={**JOBS, "dropped": ("tests.jobs.kinds.dropped", "断线")})
def test_the_database_restarting_under_a_job_fails_the_job_and_the_worker_goes_on(jianan):
    # given a job whose connection the database ends halfway (a restart), then an ordinary one
    clerk = jianan.member("clerk")
    lost = job_start(kind="dropped", by=clerk)
    loop = Loop(worker_id="survivor", schedule=False, interval=0)
    # when the worker runs them
    loop.forever(max_rounds=1)
    after = job_start(kind="count", by=clerk)
    loop.forever(max_rounds=2)
    # then the first says it failed, the worker lived on and ran the second
    lost.refresh_from_db()
    after.refresh_from_db()
    assert lost.status == Job.Status.FAILED and lost.error, lost.error
    assert after.status == Job.Status.DONE


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ends a PostgreSQL connection")
@override_settings(XINFANG_JOBS=JOBS)
def test_the_database_restarting_under_a_task_does_not_end_the_worker(jianan):
    from tests.jobs.kinds import dropped_task

    # given a task (a scheduled run, an issue) whose connection the database ends halfway
    dropped_task.enqueue()
    loop = Loop(worker_id="survivor", schedule=False, interval=0)
    # when the worker runs it, then a job is started
    loop.forever(max_rounds=1)
    job = job_start(kind="count", by=jianan.member("clerk"))
    loop.forever(max_rounds=3)
    # then the worker lived on: it beats and ran the job
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.worker_id == "survivor"
