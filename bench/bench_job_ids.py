"""What the download of a ledger made in the background costs to check (``jobs.files``): every case
the file holds read again through its maker's door, a chunk of ids at a time.

    XINFANG_BENCH_DIR=… .venv/bin/python bench/bench_job_ids.py --cases 100000 --engine sqlite

Takes the membership on the generated data that sees the most cases (a province's inspector
or clerk), the first ``--rows`` ids of its door as a ledger file would hold them, and times
packing them and checking them (median of five)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import set_up_on  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="sqlite")
    p.add_argument("--rows", type=int, default=100_000)
    args = p.parse_args()
    set_up_on(args.engine, args.cases)
    from xinfang.cases.selectors import cases_for
    from xinfang.jobs.files import cases_out_of_sight, ids_packed, ids_unpacked
    from xinfang.org.models import Membership

    best, ids = None, []
    members = (Membership.objects.filter(is_active=True).select_related("unit", "user")
               .order_by("unit__path", "pk")[:40])
    for m in members:
        found = list(cases_for(m).order_by("pk").values_list("pk", flat=True)[: args.rows])
        if len(found) > len(ids):
            best, ids = m, found
    packed = ids_packed(ids)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        gone = cases_out_of_sight(best, ids_unpacked(packed))
        times.append(time.perf_counter() - started)
    print(f"{args.engine} {args.cases} cases: {best.role} of {best.unit.name}, {len(ids)} ids, "
          f"packed {len(packed)} bytes, check {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}), out of sight {gone}")


if __name__ == "__main__":
    main()
