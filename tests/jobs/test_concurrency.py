"""Several workers at once: every task runs once, every scheduled period runs once. On PostgreSQL
(CI, DATABASE_URL) the workers take rows with SELECT … FOR UPDATE SKIP LOCKED; on SQLite one
writer at a time. Each worker is a thread with its own database connection."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.jobs.kinds import mark
from xinfang.audit.models import AuditEntry
from xinfang.jobs.models import PeriodicRun
from xinfang.jobs.services import periodic_claim
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)

TASKS = 40


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as e:  # reported to the test below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def test_two_workers_never_run_one_task_twice():
    for n in range(TASKS):
        mark.enqueue(n)

    ran = _in_threads(2, lambda i: Loop(worker_id=f"w{i}", schedule=False, interval=0).drain())

    assert sum(ran) == TASKS
    counts = Counter(
        AuditEntry.objects.filter(action="test_mark").values_list("object_id", flat=True)
    )
    assert counts == Counter({str(n): 1 for n in range(TASKS)})
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == TASKS
    claims = list(DBTaskResult.objects.values_list("worker_ids", flat=True))
    assert all(len(ids) == 1 for ids in claims), "each task claimed by exactly one worker"
    if connection.vendor == "postgresql":
        assert all(ran), f"both workers took tasks on PostgreSQL: {ran}"


@override_settings(XINFANG_PERIODIC={"sweep": ("xinfang.jobs.periodic.sweep", 300)})
def test_two_workers_reaching_the_same_period_at_once_claim_it_once():
    at = timezone.now()
    claims = _in_threads(4, lambda i: periodic_claim(name="sweep", at=at, worker_id=f"w{i}"))
    assert sum(c is not None for c in claims) == 1
    ran = _in_threads(2, lambda i: Loop(worker_id=f"w{i}", schedule=False, interval=0).drain())
    assert sum(ran) == 1
    run = PeriodicRun.objects.get()
    assert run.finished_at is not None and run.error == ""


def test_two_clicks_at_once_start_one_background_check_of_the_trail(jianan):
    # given the auditor on the trail's page in two tabs
    from django.urls import reverse

    from tests.web.conftest import signed_in
    from xinfang.jobs.models import Job

    tabs = [signed_in(jianan.member("auditor")) for _ in range(2)]
    # when both start the background check at the same instant
    answers = _in_threads(2, lambda i: tabs[i].post(reverse("web:audit_verify_start")))
    # then both go back to the page, and one check is queued
    assert {a.status_code for a in answers} == {302}
    assert Job.objects.filter(kind="audit_verify").count() == 1
