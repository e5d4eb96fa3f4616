"""Benchmark: registering cases and taking them through the workflow, against a raw baseline.

Run from the repository root (SQLite by default; PostgreSQL with DATABASE_URL)::

    .venv/bin/python bench/bench_workflow.py [--cases 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_workflow.py

It builds a throwaway test database (Django's test-database machinery: ``test_<name>``), the demo
jurisdiction, and then measures, each as a median per operation:

- ``case_register``: numbering, petitioner blind indexes and encryption, demands, clocks and the
  history entry;
- ``perform`` for each transition of a full walk (propose … close), and its query count;
- a raw baseline in the same run: one ``CaseEvent`` INSERT in its own transaction, the least any
  write to a case must cost. The ratios say what the rules, the clocks and the checks add.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.conftest import registration  # noqa: E402
from xinfang.cases.models import CaseEvent  # noqa: E402
from xinfang.cases.services import case_register, perform  # noqa: E402
from xinfang.demo.org import build_jurisdiction  # noqa: E402

WALK = [
    ("propose", "clerk", {"proposal": "交将官池镇"}),
    ("sign_off", "approver", {}),
    ("assign", "clerk", {"lead": "township_unit", "receiver_name": "陈晓东"}),
    ("sign_for", "township", {}),
    ("log_contact", "township", {"kind": "phone"}),
    ("record_finding", "township", {"findings": {1: ("true", "solved", "")}}),
    ("draft_letter", "township", {"body": "意见"}),
    ("approve_letter", "approver", {}),
    ("issue_letter", "clerk", {}),
    ("record_delivery", "clerk", {"mode": "in_person", "deliverer": "陈", "recipient": "张三明",
                                  "receipt_signed": True}),
    ("record_rating", "township", {"rating": "satisfied"}),
    ("close", "approver", {}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.cases)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(n: int) -> None:
    j = build_jurisdiction()
    now = timezone.now()
    t0 = now - timedelta(days=30)
    register_ms, register_queries, baseline_ms = [], [], []
    cases = []
    for i in range(n):
        data = registration(j, matter=f"基准测试第{i}件", received_at=t0)
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as q:
            began = time.perf_counter()
            cases.append(case_register(by=j.member("clerk"), data=data, at=t0))
            register_ms.append((time.perf_counter() - began) * 1000)
        register_queries.append(len(q))
        began = time.perf_counter()
        with transaction.atomic():
            CaseEvent.objects.create(case=cases[-1], seq=10_000 + i, at=t0, type="bench",
                                     profile_code="jianan", profile_version=1)
        baseline_ms.append((time.perf_counter() - began) * 1000)
    step_ms: dict[str, list[float]] = {name: [] for name, _, _ in WALK}
    step_queries: dict[str, list[int]] = {name: [] for name, _, _ in WALK}
    walked = cases[: max(20, n // 4)]
    for case in walked:
        at = t0
        for name, member, params in WALK:
            at += timedelta(hours=1)
            kw = dict(params)
            if kw.get("lead") == "township_unit":
                kw["lead"] = j.townships["将官池镇"]
            if name == "record_delivery":
                kw["delivered_at"] = at
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as q:
                began = time.perf_counter()
                perform(name, case=case, by=j.member(member), at=at, **kw)
                step_ms[name].append((time.perf_counter() - began) * 1000)
            step_queries[name].append(len(q))
    base = statistics.median(baseline_ms)
    print(f"# {timezone.now():%Y-%m-%d} · {connection.vendor} · {platform.python_version()} · "
          f"{os.cpu_count()} cores · {n} cases registered, {len(walked)} walked")
    print(f"{'operation':<22}{'median ms':>10}{'× baseline':>12}{'queries':>9}")
    print(f"{'baseline INSERT':<22}{base:>10.2f}{1.0:>12.1f}{1:>9}")
    reg = statistics.median(register_ms)
    print(f"{'case_register':<22}{reg:>10.2f}{reg / base:>12.1f}"
          f"{statistics.median(register_queries):>9.0f}")
    for name, values in step_ms.items():
        m = statistics.median(values)
        print(f"{name:<22}{m:>10.2f}{m / base:>12.1f}{statistics.median(step_queries[name]):>9.0f}")
    total = sum(statistics.median(v) for v in step_ms.values())
    print(f"{'whole walk (12 steps)':<22}{total:>10.2f}{total / base:>12.1f}")


if __name__ == "__main__":
    main()
