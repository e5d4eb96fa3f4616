"""A job that works in one transaction (a ledger import, all or nothing) shows its progress while
it runs: on SQLite no other connection can write while it holds the lock, and on either database
the row it would write is seen only at the commit — so the progress is kept in the job's
progress file meanwhile, and the pages read it there."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from xinfang.audit.models import AuditEntry
from xinfang.jobs.models import Job
from xinfang.jobs.services import job_start
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)

JOBS = {"in_one": ("tests.jobs.kinds.in_one_transaction", "一个事务")}


def progress_files() -> list:
    folder = settings.XINFANG_JOB_PROGRESS_DIR
    return sorted(folder.glob("*.json")) if folder.exists() else []


@override_settings(XINFANG_JOBS=JOBS)
def test_progress_inside_the_jobs_transaction_is_seen_by_the_page_while_it_runs(jianan):
    clerk = jianan.member("clerk")
    job = job_start(kind="in_one", by=clerk)
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    # what another connection read through the page's selector mid-transaction: 3 of 10
    assert job.status == Job.Status.DONE, job.error
    assert bytes(job.content).decode() == "3/10/第一步/30"
    # and once finished the row holds the outcome, the file is gone
    assert (job.done, job.total) == (10, 10) and progress_files() == []
    assert AuditEntry.objects.filter(action="test_mark").count() == 1


@override_settings(XINFANG_JOBS=JOBS)
def test_a_job_rolled_back_keeps_nothing_of_its_work_and_says_how_far_it_came(jianan):
    clerk = jianan.member("clerk")
    job = job_start(kind="in_one", by=clerk, params={"fail": True})
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "rolled back after 3/10/第一步/30" in job.error
    assert not AuditEntry.objects.filter(action="test_mark").exists()  # all or nothing
    assert progress_files() == []
