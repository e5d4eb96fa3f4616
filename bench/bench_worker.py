"""Benchmark: the background worker (issue 13) — what one task costs through django-tasks'
database backend and ``xinfang worker``, against a raw floor measured in the same run.

Run from the repository root (SQLite by default; PostgreSQL with DATABASE_URL)::

    .venv/bin/python bench/bench_worker.py [--tasks 300] [--repeat 3]

It builds a throwaway test database and measures, as medians over ``--repeat`` rounds:

- ``enqueue``: one no-op task written to the queue (``noop.enqueue``);
- ``worker``: the queue drained by one worker loop (claim, run, record result) per task;
- ``two workers``: the same drained by two worker threads at once (wall time per task);
- the worker keeps its connection between tasks, as ``xinfang worker`` does;
- the floor: the same number of rows through a bare table by raw SQL — one INSERT, one claiming
  UPDATE and one finishing UPDATE each, autocommit — the least any database queue writes.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from tests.jobs.kinds import noop  # noqa: E402
from xinfang.jobs.worker import Loop, keep_connections  # noqa: E402


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def floor(n: int) -> float:
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_queue (id integer PRIMARY KEY, "
            "status varchar(10), result integer)"
        )
        cur.execute("DELETE FROM bench_queue")

    def work():
        with connection.cursor() as cur:
            for i in range(n):
                cur.execute("INSERT INTO bench_queue (id, status) VALUES (%s, 'ready')", [i])
            for i in range(n):
                cur.execute(
                    "UPDATE bench_queue SET status = 'running' WHERE id = %s AND status = 'ready'",
                    [i],
                )
                cur.execute(
                    "UPDATE bench_queue SET status = 'done', result = %s WHERE id = %s", [i, i]
                )

    return timed(work)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    keep_connections()  # as `xinfang worker` does
    try:
        run(args.tasks, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(n: int, repeat: int) -> None:
    rows: dict[str, list[float]] = {"enqueue": [], "worker": [], "two workers": [], "floor": []}
    for _ in range(repeat):
        DBTaskResult.objects.all().delete()
        rows["enqueue"].append(timed(lambda: [noop.enqueue(i) for i in range(n)]))
        rows["worker"].append(timed(lambda: Loop(schedule=False, interval=0, per_round=n).drain()))
        assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == n
        DBTaskResult.objects.all().delete()
        for i in range(n):
            noop.enqueue(i)

        def two():
            def drain(i):
                try:
                    Loop(worker_id=f"b{i}", schedule=False, interval=0, per_round=n).drain()
                finally:
                    connection.close()

            threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        rows["two workers"].append(timed(two))
        assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == n
        rows["floor"].append(floor(n))
    base = statistics.median(rows["floor"]) / n * 1000
    print(
        f"# {timezone.now():%Y-%m-%d} · {connection.vendor} · {platform.python_version()} · "
        f"{os.cpu_count()} cores · {n} tasks × {repeat}"
    )
    print(f"{'operation':<28}{'ms/task (median)':>18}{'× floor':>10}")
    for name, values in rows.items():
        per = statistics.median(values) / n * 1000
        print(f"{name:<28}{per:>18.2f}{per / base:>10.1f}")


if __name__ == "__main__":
    main()
