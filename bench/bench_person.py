"""The person's page (issue 14) on generated data: ``person_for`` (door, masking, matter
chains, warnings, ownership items) for the petitioners with the most cases and for random ones,
beside a raw-SQL floor (the person's cases in one join), timed interleaved.

    XINFANG_BENCH_DIR=… .venv/bin/python bench/bench_person.py --cases 100000 [--engine postgres]

Reads the manifest ``bench/generate.py`` wrote; prints a markdown row per group."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import manifest_path  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, required=True)
    p.add_argument("--engine", default="postgres")
    p.add_argument("--people", type=int, default=40)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    manifest = json.loads(manifest_path(args.engine, args.cases).read_text())
    os.environ["XINFANG_BENCH_DB"] = manifest["database"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases.models import CasePetitioner
    from xinfang.cases.selectors import door_remember
    from xinfang.org.models import Membership, Unit
    from xinfang.ownership.people import PersonNotFound, person_for

    busy = Unit.objects.get(pk=manifest["busy_county"]["unit"])
    clerk = (Membership.objects.filter(user_id=manifest["busy_county"]["users"]["clerk"],
                                       is_active=True)
             .select_related("unit", "user").order_by("pk").first())
    door_remember(clerk)
    links = CasePetitioner.objects.filter(case__jurisdiction_id=busy.pk)
    top = list(links.values("petitioner_id").annotate(n=Count("pk")).order_by("-n")
               .values_list("petitioner_id", "n")[: args.people])
    rng = random.Random(20261201)
    every = list(links.values_list("petitioner_id", flat=True).distinct()[:20000])
    groups = {"most cases": [pid for pid, _ in top],
              "random": rng.sample(every, min(args.people, len(every)))}
    floor_sql = ("SELECT cp.id, c.id, c.number, c.state, c.repeat_of_id, c.leader_owner_id "
                 "FROM cases_casepetitioner cp JOIN cases_case c ON c.id = cp.case_id "
                 "WHERE cp.petitioner_id = %s ORDER BY c.received_at")
    print("| group | people | cases per person (max) | median ms | p95 ms | floor median ms "
          "| ratio | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for name, people in groups.items():
        times, floors, queries, sizes = [], [], [], []
        for _ in range(args.rounds):
            for pid in people:
                t = time.perf_counter()
                with connection.cursor() as cur:
                    cur.execute(floor_sql, [pid])
                    rows = cur.fetchall()
                floors.append(time.perf_counter() - t)
                with CaptureQueriesContext(connection) as ctx:
                    t = time.perf_counter()
                    try:
                        found = person_for(clerk, pid)
                        sizes.append(len(found.cases))
                    except PersonNotFound:
                        sizes.append(0)
                    times.append(time.perf_counter() - t)
                queries.append(len(ctx.captured_queries))
                assert rows is not None
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        med, fmed = statistics.median(times) * 1000, statistics.median(floors) * 1000
        print(f"| {name} | {len(people)} | {max(sizes)} | {med:.1f} | {p95 * 1000:.1f} | "
              f"{fmed:.2f} | {med / fmed:.0f}× | {min(queries)}–{max(queries)} |")


if __name__ == "__main__":
    main()
