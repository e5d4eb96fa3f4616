"""Profile the load test's slowest pages in-process: query count, repeated queries, pyinstrument.

    python -m bench.load.profile --database-url postgres://…/xinfang_load [--repeat 20]
        [--html var/load/profile]

Uses the load test's database and ``var/load`` (run ``bench.load.run --setup`` once first) under
the production settings, signs in the simulated users through Django's test client (as HTTPS
from the trusted proxy) and, for each page kind — the clerk's queue, the approver's queue, the
handler's queue, the case page for each of them — prints the number of queries, the statements
run more than once in one request, the median time, and pyinstrument's call tree.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normalise(sql: str) -> str:
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    return re.sub(r"\s+", " ", sql)[:220]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--var", default=str(ROOT / "var" / "load"))
    ap.add_argument("--html", default="", help="directory for pyinstrument's HTML reports")
    ap.add_argument("--no-tree", action="store_true", help="counts and times only")
    ap.add_argument("--where", action="store_true", help="each query with the code that ran it")
    ap.add_argument("--cpu", action="store_true",
                    help="cProfile on process CPU time instead of pyinstrument's wall clock")
    ap.add_argument("--only", default="", help="only the page kinds whose label contains this")
    args = ap.parse_args(argv)
    from .run import environment

    os.environ.update(environment(Path(args.var), args.database_url, 0))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from xinfang.org.models import User

    def client_for(username: str) -> Client:
        c = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https",
                   HTTP_X_FORWARDED_FOR="10.9.0.1")
        c.force_login(User.objects.get(username=username))
        return c

    clerk = client_for("load_clerk_00")
    approver = client_for("load_approver_00")
    handler = client_for("load_handler_00")
    r0 = clerk.get("/work/")
    assert r0.status_code == 200, (r0.status_code, r0.headers.get("Location"))
    queue = r0.content.decode()
    pk = int(re.findall(r'href="/cases/(\d+)/"', queue)[0])
    hq = handler.get("/work/").content.decode()
    hpk = [int(x) for x in re.findall(r'href="/cases/(\d+)/"', hq)] or [pk]
    pages = [
        ("queue (clerk)", clerk, "/work/"),
        ("queue (approver)", approver, "/work/"),
        ("queue (handler)", handler, "/work/"),
        ("case (clerk)", clerk, f"/cases/{pk}/"),
        ("case (approver)", approver, f"/cases/{pk}/"),
        ("case (handler)", handler, f"/cases/{hpk[0]}/"),
        ("register form (clerk)", clerk, "/register/"),
    ]
    def caller() -> str:
        import traceback

        frames = [f for f in traceback.extract_stack()[:-3]
                  if "/xinfang/" in f.filename and "/settings/" not in f.filename]
        return " ← ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames[-5:][::-1])

    for label, c, url in pages:
        if args.only and args.only not in label:
            continue
        c.get(url)  # warm
        if args.where:
            seen = []

            def wrapper(execute, sql, params, many, context, seen=seen):
                seen.append(f"{caller()}  | {normalise(sql)[:90]}")
                return execute(sql, params, many, context)

            with connection.execute_wrapper(wrapper):
                c.get(url)
            print(f"\n--- {label}: {len(seen)} queries")
            for line in seen:
                print("  ", line)
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url)
        assert r.status_code == 200, (label, r.status_code)
        queries = list(ctx.captured_queries)
        repeated = [(n, s) for s, n in Counter(normalise(q["sql"]) for q in queries).items()
                    if n > 1]
        times, cpu = [], []
        for _ in range(args.repeat):  # unprofiled: wall and this process's CPU per request
            started, started_cpu = time.perf_counter(), time.process_time()
            c.get(url)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(f"\n=== {label} {url}: {len(queries)} queries, median "
              f"{statistics.median(times) * 1000:.0f} ms wall, "
              f"{statistics.median(cpu) * 1000:.0f} ms CPU over {args.repeat}")
        if args.cpu:
            import cProfile
            import pstats

            prof = cProfile.Profile(time.process_time)
            prof.enable()
            for _ in range(args.repeat):
                c.get(url)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            continue
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.repeat):
            c.get(url)
        profiler.stop()
        for n, s in sorted(repeated, reverse=True):
            print(f"  {n}× {s}")
        if not args.no_tree:
            print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
        if args.html:
            out = Path(args.html)
            out.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"\W+", "-", label).strip("-")
            (out / f"{name}.html").write_text(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
