"""Job functions and tasks used only by the tests (importable by the worker like real ones)."""

from __future__ import annotations

from django_tasks import task

from xinfang.audit.services import audit_record
from xinfang.jobs.models import Job
from xinfang.jobs.registry import Output


def count(*, params: dict, by, progress) -> Output:
    """Reports 3 of 10, then reads its own row back as another connection would see it."""
    n = int(params.get("n", 10))
    progress(3, n, "第一步")
    seen = Job.objects.filter(membership=by, kind="count").order_by("-pk").first()
    return Output("count.txt", "text/plain", f"{seen.done}/{seen.total}/{seen.message}".encode())


def slow(*, params: dict, by, progress) -> Output:
    """Takes ``params["seconds"]`` without a word of progress (a long import's one transaction)."""
    import time

    time.sleep(float(params.get("seconds", 1)))
    return Output("slow.txt", "text/plain", b"done")


def boom(*, params: dict, by, progress) -> None:
    raise RuntimeError("disk on fire")


@task()
def mark(n: int) -> int:
    """One audit entry per run: a task run twice leaves two."""
    import time

    time.sleep(0.01)
    audit_record(action="test_mark", object_type="test", object_id=n)
    return n


@task()
def noop(n: int) -> int:
    """Nothing but the queue's own cost (bench/bench_worker.py)."""
    return n


def dropped(*, params: dict, by, progress) -> None:
    """The database restarts under the job (PostgreSQL): its connection is ended from another
    one, as a server restart ends them all, and the job's next query meets the closed socket."""
    import threading

    from django.db import connection

    pid = connection.cursor().connection.info.backend_pid

    def end() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            connection.close()

    ender = threading.Thread(target=end)
    ender.start()
    ender.join()
    Job.objects.count()


@task()
def dropped_task() -> None:
    """``dropped`` as a plain task: the worker's own record of its failure meets the closed
    socket too."""
    dropped(params={}, by=None, progress=None)


def in_one_transaction(*, params: dict, by, progress) -> Output:
    """Reports 3 of 10 inside a transaction that has written (a long import's, which holds
    SQLite's write lock), then reads the job as the page would from another connection; with
    ``params["fail"]`` the transaction rolls back."""
    import threading

    from django.db import connection, transaction

    from xinfang.jobs.selectors import job_for

    with transaction.atomic():
        audit_record(action="test_mark", object_type="test", object_id=1)
        progress(3, 10, "第一步")
        seen: list[str] = []

        def read() -> None:
            try:
                job = Job.objects.filter(membership=by, kind="in_one").order_by("-pk").first()
                job = job_for(by.user, job.pk)
                seen.append(f"{job.done}/{job.total}/{job.message}/{job.percent}")
            finally:
                connection.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(30)
        if params.get("fail"):
            raise RuntimeError(f"rolled back after {seen[0]}")
    return Output("seen.txt", "text/plain", seen[0].encode())
