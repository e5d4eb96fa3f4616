"""Profile one workload of the benchmark on generated data with pyinstrument (what misses its
target: where the time goes), and count its queries by kind.

    .venv/bin/pip install pyinstrument        # not a dependency of the product
    .venv/bin/python bench/profile_workload.py --cases 200000 --engine postgres --what transition
    .venv/bin/python bench/profile_workload.py --cases 200000 --what export --calls 1

``--what``: ``register``, ``transition`` (propose; ``--prefer ''`` for the full answer, the
default is ``return=minimal``), ``ledger``, ``ledger_filtered`` (state + township),
``api_list``, ``work_queue``, ``supervision``, ``case_page``, ``search`` (ledger, 危房),
``api_search`` (the API list, 危房),
``frame`` (the clerk refused the supervision page: the page frame alone), ``api_case`` (``GET
/api/cases/{id}/`` of a registered case: the read a full answer adds), ``export`` (the L0
ledger of the busy county's clerk, to a temporary file). Writes change the data, as in the
benchmark. Prints the process's CPU per call, the profile as text (``--html
FILE`` for the interactive one) and the statements of the last call grouped by their first
words.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.generate import set_up_on  # noqa: E402

PAGES = {"ledger": "/ledger/", "api_list": "/api/cases/", "work_queue": "/work/",
         "search": "/ledger/?search=危房", "api_search": "/api/cases/?search=危房",
         # the page frame alone: the clerk is refused the supervision page (403) after the
         # session, the user, the membership, the door; then the header, the bell, one line
         "frame": "/supervision/"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200_000)
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--what", required=True, choices=[
        "register", "transition", "ledger", "api_list", "work_queue", "supervision",
        "case_page", "search", "export", "ledger_filtered", "frame", "api_case", "api_search"])
    p.add_argument("--prefer", default="return=minimal",
                   help="the Prefer header of register and transition ('' for the full answer)")
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--html", type=Path)
    p.add_argument("--profiler", choices=["pyinstrument", "cprofile", "none"],
                   default="pyinstrument", help="cprofile: CPU time per function (process_time)")
    p.add_argument("--top", type=int, default=40, help="rows of the cprofile tables")
    p.add_argument("--sql", type=int, default=0, metavar="CHARS",
                   help="also print each statement of the last call with its wall time, cut at "
                        "CHARS")
    p.add_argument("--pstats", type=Path, help="cprofile: also write the stats to this file")
    p.add_argument("--upkeep-every", type=int, default=0, metavar="N",
                   help="run the worker's index upkeep after every N calls, untimed (what the "
                        "worker does each minute beside the requests)")
    p.add_argument("--database", help="another copy of the same data to run on (an A/B of a "
                                      "migration: postgres://…/copy or sqlite:/path)")
    args = p.parse_args()
    manifest = set_up_on(args.engine, args.cases, args.database)
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler

    from bench.workloads import proposable, served_as_a_worker
    from xinfang.cases.dbstats import index_upkeep
    from xinfang.cases.models import Case
    from xinfang.org.models import User

    busy = manifest["busy_county"]

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    clerk = client_for("clerk")
    served_as_a_worker()  # as the benchmark: what a served worker's collector walks
    pages = {**PAGES, "ledger_filtered":
             f"/ledger/?state=in_progress&township={busy['township']}"}
    calls = []
    if args.what in pages:
        calls = [lambda i, url=pages[args.what]: clerk.get(url)] * args.calls
    elif args.what == "supervision":
        approver = client_for("approver")
        calls = [lambda i: approver.get("/supervision/")] * args.calls
    elif args.what == "case_page":
        pk = busy["long_history"][0]
        calls = [lambda i: clerk.get(f"/cases/{pk}/")] * args.calls
    elif args.what == "api_case":  # what a transition's full answer reads after the write
        pk = busy["registered"][-1]
        calls = [lambda i: clerk.get(f"/api/cases/{pk}/")] * args.calls
    elif args.what == "transition":
        # the generated cases first; once a session's runs have proposed them all, those its
        # registrations left in the busy county, newest first
        left = list(Case.objects.filter(jurisdiction_id=busy["unit"], state="registered")
                    .exclude(pk__in=busy["registered"]).order_by("-pk")
                    .values_list("pk", flat=True)[: args.calls * 2])
        pool = proposable(list(reversed(busy["registered"])) + left)[: args.calls + 1]

        versions = dict(Case.objects.filter(pk__in=pool).values_list("pk", "version"))

        def propose(i):
            pk = pool[i]
            r = clerk.post(f"/api/cases/{pk}/transitions/propose/",
                           {"expected_version": versions[pk], "proposal": "交属地乡镇办理"},
                           content_type="application/json", HTTP_PREFER=args.prefer)
            assert r.status_code == 200, r.content[:300]
        calls = [propose] * min(args.calls, len(pool))
    elif args.what == "register":
        import random

        from django.utils import timezone

        from bench.datagen.people import make_person

        rng = random.Random(11)

        def register(i):
            serial = 20_000_000 + int(time.time()) % 1_000_000 * 10 + i
            person = make_person(rng, serial, township_id=busy["township"],
                                 village_id=busy["village"], township_name="将官池镇",
                                 village_name="岗朱村")
            body = {
                "channel": "visit", "matter": f"剖析登记{serial}：申请危房改造补助未落实",
                "received_at": timezone.now().isoformat(),
                "petitioners": [{"name": person.name, "id_number": person.id_number,
                                 "phone": person.phone, "address": person.address}],
                "demands": [{"text": "申请危房改造补助", "category": manifest["categories"][0]}],
                "township": busy["township"], "village": busy["village"],
            }
            r = clerk.post("/api/cases/", body, content_type="application/json",
                           HTTP_PREFER=args.prefer)
            assert r.status_code == 201, r.content[:300]
        calls = [register] * args.calls
    elif args.what == "export":
        from xinfang.api.membership import membership_of
        from xinfang.cases.selectors import cases_for
        from xinfang.ledgers.exports import ledger_l0_file

        def export(i):
            m = membership_of(User.objects.get(username="clerk"))
            ledger_l0_file(cases_for(m), by=m, via="cli").close()
        calls = [export] * args.calls

    calls[0](0)  # warm: the profile, the calendar, the templates
    statements: Counter = Counter()
    last: list[str] = []

    def count(execute, sql, params, many, context):
        statements[" ".join(sql.split()[:4])[:80]] += 1
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            last.append(f"{(time.perf_counter() - t) * 1000:8.1f} ms  "
                        + " ".join(sql.split())[: args.sql])

    walls: list[float] = []

    def run_calls() -> list[float]:
        cpus = []
        for i, call in enumerate(calls[1:], start=1):
            t, w = time.process_time(), time.perf_counter()
            if i == len(calls) - 1:
                with connection.execute_wrapper(count):
                    call(i)
            else:
                call(i)
            cpus.append((time.process_time() - t) * 1000)
            walls.append((time.perf_counter() - w) * 1000)
            if args.upkeep_every and i % args.upkeep_every == 0:
                index_upkeep()
        return cpus

    n = max(1, len(calls) - 1)
    began = time.perf_counter()
    if args.profiler == "pyinstrument":
        profiler = Profiler(interval=0.002)
        profiler.start()
        cpus = run_calls()
        profiler.stop()
    elif args.profiler == "cprofile":
        profiler = cProfile.Profile(time.process_time)  # CPU of this process, not waits
        profiler.enable()
        cpus = run_calls()
        profiler.disable()
    else:
        cpus = run_calls()
    spent = time.perf_counter() - began
    print(f"# {args.what}: {n} calls, {spent * 1000 / n:.1f} ms a call; CPU of this process a "
          f"call: median {statistics.median(cpus):.1f} ms, min {min(cpus):.1f} ms "
          f"({args.profiler}); load {os.getloadavg()[0]:.1f}")
    walls.sort()
    print(f"# wall a call: median {statistics.median(walls):.1f}, p95 "
          f"{walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]:.1f}, max "
          f"{walls[-1]:.1f} ms; the slowest five: {', '.join(f'{w:.1f}' for w in walls[-5:])}")
    if args.profiler == "pyinstrument":
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            args.html.write_text(profiler.output_html())
    elif args.profiler == "cprofile":
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
        if args.pstats:
            profiler.dump_stats(args.pstats)
    print("# statements of the last call:", sum(statements.values()))
    for sql, k in statements.most_common():
        print(f"{k:5d}  {sql}")
    if args.sql:
        print(f"# in order (wall ms each; {sum(float(x.split()[0]) for x in last):.1f} ms in all):")
        print("\n".join(last))

if __name__ == "__main__":
    main()
