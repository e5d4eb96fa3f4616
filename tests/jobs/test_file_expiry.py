"""A job's file (a copy of petitioners' data) is kept ``XINFANG_JOB_FILES_KEEP_DAYS`` after the job
ended, then the scheduled housekeeping removes it; the job's row and the audit entries of its
making stay, and a download says the file expired and how to make it again."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.conftest import register_in
from tests.jobs.test_file_withheld import URLS, exported
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.jobs.files import job_files_expire, kept_for
from xinfang.jobs.models import Job
from xinfang.jobs.periodic import prune

pytestmark = pytest.mark.django_db(transaction=True)


def ended_ago(job: Job, days: float) -> None:
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=days))


def test_the_scheduled_run_removes_a_file_past_its_keeping_and_the_row_and_trail_stay(jianan):
    # given a ledger exported in the background, and one exported yesterday
    j = jianan
    register_in(j)
    clerk = j.member("clerk")
    old, recent = exported(clerk), exported(clerk)
    trail = AuditEntry.objects.filter(action__in=("job_start", "export")).count()
    ended_ago(old, 7.01)
    ended_ago(recent, 1)
    # when the hourly housekeeping runs
    assert prune()["job_files"] == 1
    # then the old file is gone, its row says when, what it was is kept
    old_sha, old_size = old.sha256, old.size
    old.refresh_from_db()
    assert old.content is None and old.expired_at is not None
    assert (old.filename, old.sha256, old.size, old.status) == (
        f"信访事项台账-{timezone.localdate().isoformat()}.xlsx", old_sha, old_size, "done")
    recent.refresh_from_db()
    assert recent.content and recent.expired_at is None
    assert AuditEntry.objects.filter(action__in=("job_start", "export")).count() == trail
    assert prune()["job_files"] == 0  # a second run finds nothing more
    # and a download says so, with how to make it again, on the page and in the API
    client = signed_in(clerk)
    assert [client.get(u.format(old.pk)).status_code for u in URLS] == [410, 410]
    said = client.get(f"/jobs/{old.pk}/file").content.decode()
    assert "已超过保留期限（7 天）" in said and "请在台账页重新后台导出" in said
    api = client.get(f"/api/jobs/{old.pk}/").json()
    assert api["file"] is None and api["expired_at"]
    assert "保留期限" in client.get(f"/api/jobs/{old.pk}/file").json()["detail"]
    detail = client.get(f"/jobs/{old.pk}/").content.decode()
    assert "已超过保留期限" in detail and f"/jobs/{old.pk}/file" not in detail
    listed = client.get("/jobs/").content.decode()
    assert "文件已过保留期限" in listed and f"/jobs/{recent.pk}/file" in listed
    assert [client.get(u.format(recent.pk)).status_code for u in URLS] == [200, 200]


def test_a_file_past_its_keeping_is_refused_before_the_scheduled_run_removes_it(jianan):
    # the worker may be down for days: the keeping holds at the download too
    register_in(jianan)
    clerk = jianan.member("clerk")
    job = exported(clerk)
    ended_ago(job, 8)
    client = signed_in(clerk)
    assert [client.get(u.format(job.pk)).status_code for u in URLS] == [410, 410]
    job.refresh_from_db()
    assert job.content  # not removed by the refusal: that is the scheduled run's


def test_a_download_racing_the_removal_gets_the_whole_file_or_the_expiry(jianan):
    # given a file at the edge of its keeping, and the housekeeping (its clock a second ahead)
    # removing it in a transaction not yet committed
    register_in(jianan)
    clerk = jianan.member("clerk")
    job = exported(clerk)
    whole = job.sha256
    removing, finish = threading.Event(), threading.Event()
    removed: list[int] = []

    def housekeeping() -> None:
        try:
            with transaction.atomic():
                removed.append(job_files_expire(now=job.finished_at + kept_for()
                                                + timedelta(seconds=1)))
                removing.set()
                finish.wait(10)
        finally:
            connection.close()

    client = signed_in(clerk)  # before: on SQLite the session's write would wait for the lock
    thread = threading.Thread(target=housekeeping)
    thread.start()
    assert removing.wait(10)
    try:
        # when the download reads meanwhile: the whole file, byte for byte
        response = client.get(f"/jobs/{job.pk}/file")
        assert response.status_code == 200, response.content.decode()
        assert hashlib.sha256(response.content).hexdigest() == whole
    finally:
        finish.set()
        thread.join(10)
    # then once the removal committed: the expiry, never an empty or half file
    assert removed == [1]
    response = client.get(f"/jobs/{job.pk}/file")
    assert response.status_code == 410 and "保留期限" in response.content.decode()
