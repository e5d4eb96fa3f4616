"""Where a sweep's time goes: every statement timed (``connection.execute_wrapper``), grouped by
its text with the literals and parameter lists folded, beside the process's CPU.

    XINFANG_BENCH_DB=postgres://root@127.0.0.1:5432/<copy> python bench/sweep_profile.py [--top 25]

Runs one sweep (a first pass on fresh data, a steady pass after) and prints one JSON object:
wall, CPU, statements, the floor of ``bench/tasks.py`` (measured just before) and the ratio,
the load average before and after, and the slowest statement shapes (count, total ms, max ms,
one example). Writes to the database it is given: use a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

_FOLD = [
    (re.compile(r"\((?:\s*%s\s*,?)+\)"), "(…)"),
    (re.compile(r"'(?:[^']|'')*'"), "'…'"),
    (re.compile(r"\b\d+\b"), "N"),
    (re.compile(r"\s+"), " "),
    (re.compile(r"SAVEPOINT \S+"), "SAVEPOINT …"),
    (re.compile(r"xf_rows_\d+"), "xf_rows_…"),  # xinfang.cases.bulk's temporary tables
]


def shape(sql: str) -> str:
    for pattern, into in _FOLD:
        sql = pattern.sub(into, sql)
    return sql[:400]


class Timer:
    def __init__(self):
        self.by: dict[str, list] = defaultdict(lambda: [0, 0.0, 0.0, ""])
        self.n = 0
        self.ms = 0.0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - began) * 1000
            row = self.by[shape(sql)]
            row[0] += 1
            row[1] += ms
            row[2] = max(row[2], ms)
            if not row[3]:
                row[3] = sql[:600]
            self.n += 1
            self.ms += ms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from bench.tasks import sweep_floor
    from xinfang.cases.services.supervision import sweep

    floor_ms = sweep_floor()
    import xinfang.registers.backlog as backlog
    from xinfang.cases.services import supervision

    phases: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])

    def phase(name, fn):
        def timed(*args, **kwargs):
            cpu0, wall0, n0 = time.process_time(), time.perf_counter(), timer.n
            try:
                return fn(*args, **kwargs)
            finally:
                row = phases[name]
                row[0] += time.perf_counter() - wall0
                row[1] += time.process_time() - cpu0
                row[2] += timer.n - n0
        return timed

    # the clock passes (overdue, due soon) and the backlog pass; the rest of ``sweep`` is the
    # changed cases' warning rules
    supervision._clock_alerts = phase("clock alerts", supervision._clock_alerts)
    backlog.backlog_sweep = phase("backlog", backlog.backlog_sweep)
    timer = Timer()
    load_before = os.getloadavg()
    cpu, began = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(timer):
        result = sweep(at=timezone.now())
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu
    top = sorted(timer.by.items(), key=lambda kv: -kv[1][1])[:args.top]
    print(json.dumps({
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "statements": timer.n,
        "in_db_s": round(timer.ms / 1000, 2), "floor_ms": floor_ms,
        "ratio": round(wall * 1000 / floor_ms, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()], "result": result.as_dict(),
        "phases": {name: {"wall_s": round(w, 2), "cpu_s": round(c, 2), "statements": n}
                   for name, (w, c, n) in phases.items()},
        "top": [{"n": n, "total_ms": round(t), "max_ms": round(m), "shape": s[:300],
                 "example": ex} for s, (n, t, m, ex) in top],
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
