"""Where PostgreSQL's time goes in one call: each statement's planning and execution.

    .venv/bin/python bench/plan_statements.py --cases 20000 --what register,propose,ledger,match
    .venv/bin/python bench/plan_statements.py --cases 20000 --what match --times 200

For each workload (``register``: registration through the API, minimal answer; ``propose``: one
transition through the API, minimal answer; the pages ``ledger``, ``ledger_filtered``,
``work_queue``, ``search``, ``api_list``, ``api_search``, ``api_case`` (a registered case's
detail, what a transition's full answer reads), ``case_page`` (the county's longest history) as
the clerk and ``supervision`` as the approver;
``match``: ``find_matches`` as the busy county's clerk for a person of the county typed again),
one warm call, then one call whose statements are captured with their parameters
(``connection.execute_wrapper``), then each of them run again as
``EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON)`` in a transaction rolled back (a write that cannot run
twice — a unique key — is planned only). Prints planning and execution per statement.

``--match-truth var/bench/match-truth-postgres-1000000.json --cases 1000000``: the match
lookups are ``bench/match_bench.py``'s queries on its population (``bench_match_<cases>``).

``--url USER:PATH`` (repeatable; ``--what ''`` for these alone): any page as a generated user.
``--generic`` then lists the statements whose kept plan is slower than the plan for their
parameters, and the reverse: those the plan for their parameters misjudges.

``--times N``: instead, N calls of each workload, timed (median, p95, and the process's CPU).
``--options``: the connection's OPTIONS as JSON, e.g. ``'{"server_side_binding": true,
"prepare_threshold": 0}'`` — what the product's settings would be given, to compare.

Writes change the data as the benchmark does: run it on a copy (``--db``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.generate import manifest_path  # noqa: E402

WHAT = ("register", "propose", "ledger", "match")
# Pages read as the busy county's clerk (the supervision page as its approver), by name.
# ``None``: a URL made from the manifest (``page_url``).
PAGES = {"ledger": "/ledger/", "work_queue": "/work/", "search": "/ledger/?search=危房",
         "api_list": "/api/cases/", "api_search": "/api/cases/?search=危房",
         "supervision": "/supervision/", "case_page": None, "ledger_filtered": None,
         "api_case": None}


def page_url(name: str, busy: dict) -> str:
    return PAGES[name] or {
        "case_page": f"/cases/{busy['long_history'][0]}/",
        "ledger_filtered": f"/ledger/?state=in_progress&township={busy['township']}",
        "api_case": f"/api/cases/{busy['registered'][-1]}/",  # what a full answer reads
    }[name]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=20_000)
    p.add_argument("--db", help="database name instead of the manifest's")
    p.add_argument("--what", default=",".join(WHAT))
    p.add_argument("--times", type=int, default=0)
    p.add_argument("--calls", type=int, default=1, help="calls explained, one after another")
    p.add_argument("--options", default="", help="JSON merged into the connection's OPTIONS")
    p.add_argument("--show", type=int, default=0, help="print the SQL and plan of statements "
                   "planned and executed in more than this many ms")
    p.add_argument("--generic", action="store_true", help="also run each statement prepared "
                   "(SQL PREPARE) under plan_cache_mode auto, seven times, and under "
                   "force_generic_plan: whether PostgreSQL would keep a generic plan, and what "
                   "that plan costs in execution")
    p.add_argument("--match-truth", type=Path, help="match_bench's truth file: the match "
                   "lookups are its queries, as its clerk (with --db bench_match_<cases>)")
    p.add_argument("--url", action="append", default=[], metavar="USER:PATH",
                   help="also a page as that generated user (repeatable), e.g. "
                        "'clerk:/people/2731/' or 'province_inspector:/reports/'")
    p.add_argument("--seed", type=int, default=14)
    args = p.parse_args()
    if args.match_truth:
        from bench.match_bench import database_url

        manifest = {"database": database_url("postgres", args.cases, None)}
    else:
        manifest = json.loads(manifest_path("postgres", args.cases).read_text())
    url = manifest["database"]
    if args.db:
        url = url.rsplit("/", 1)[0] + "/" + args.db
    os.environ["XINFANG_BENCH_DB"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.db import connection

    if args.options:
        connection.settings_dict["OPTIONS"].update(json.loads(args.options))
    if args.match_truth:
        calls = {"match": truth_lookup(args.match_truth)}
    else:
        calls = workloads(manifest, [w for w in args.what.split(",") if w],
                          random.Random(args.seed))
        calls.update(pages_as(args.url))
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('jit'), current_setting('plan_cache_mode')")
        jit, mode = cur.fetchone()
    print(f"# {url.rsplit('/', 1)[1]}, options {connection.settings_dict['OPTIONS']}, "
          f"jit {jit}, plan_cache_mode {mode}, load {os.getloadavg()[0]:.2f}")
    for name, call in calls.items():
        call()  # warm: profile, calendar, templates, key ring
        if args.times:
            timed(name, call, args.times)
        else:
            for _ in range(args.calls):
                explained(name, call, args.show, args.generic)
    if args.generic:
        print(f"# kept plans slower than the first custom plan: {len(generic_slower)}")
        for name, slower, head in generic_slower:
            print(f"   {name:15s} {slower:>20s}  {head[:200]}")
        print(f"# custom plans slower than the generic plan: {len(custom_slower)} (the plan "
              f"for the parameters misjudges them; a worker that keeps the text prepared may "
              f"hide it, one that does not pays it on every call)")
        for name, slower, head in custom_slower:
            print(f"   {name:15s} {slower:>20s}  {head[:200]}")


def backend_cpu_ms() -> float:
    """The CPU time PostgreSQL's server process for this connection has used (planning and
    execution alike; waiting for a core is not in it) — read from /proc on the same machine."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(name, call, n: int) -> None:
    wall, cpu = [], []
    server = backend_cpu_ms()
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    server = (backend_cpu_ms() - server) / n
    wall.sort()
    cpu.sort()
    p95 = wall[min(len(wall) - 1, round(0.95 * (len(wall) - 1)))]
    print(f"{name:9s} n={n} wall median {statistics.median(wall):7.1f} p95 {p95:7.1f} ms · "
          f"CPU median {statistics.median(cpu):6.1f} ms · server CPU {server:5.1f} ms a call · "
          f"load {os.getloadavg()[0]:.2f}", flush=True)


# (workload, what the kept plan costs beside the first, statement) of every statement whose
# plan under ``auto`` on the 7th run executed slower than the custom plan of the 1st.
generic_slower: list[tuple[str, str, str]] = []
# (workload, custom → generic, statement) of every statement whose first custom plan executed
# slower than the generic plan, by the same margin.
custom_slower: list[tuple[str, str, str]] = []


def explained(name, call, show: float, generic: bool = False) -> None:
    from django.db import connection, transaction

    seen: list[tuple[str, object, float]] = []

    def capture(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, params, (time.perf_counter() - t) * 1000))

    with connection.execute_wrapper(capture):
        call()
    total_plan = total_exec = total_wall = 0.0
    print(f"## {name}: {len(seen)} statements")
    for sql, params, wall in seen:
        head = " ".join(sql.split())
        if head.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN",
                                    "SET ", "SELECT PG_ADVISORY")):
            print(f"   {'':>7} {'':>7} {wall:7.2f}  {head[:90]}")
            total_wall += wall
            continue
        plan = execute_ms = jit = None
        for analyze in (True, False):
            try:
                runs = []
                for _ in range(3):  # the least of three: on a busy machine a run waits for a core
                    with transaction.atomic():
                        with connection.cursor() as cur:
                            option = "ANALYZE, " if analyze else ""
                            cur.execute(f"EXPLAIN ({option}SUMMARY, FORMAT JSON) {sql}", params)
                            out = cur.fetchone()[0]
                            runs.append(json.loads(out) if isinstance(out, str) else out)
                        transaction.set_rollback(True)
                plan = min(r[0].get("Planning Time") for r in runs)
                execute_ms = min((r[0].get("Execution Time") for r in runs), default=None) \
                    if analyze else None
                jit = max((r[0].get("JIT", {}).get("Timing", {}).get("Total") or 0)
                          for r in runs)
                break
            except Exception as e:  # noqa: BLE001 — a write that cannot run twice
                error = e
        if plan is None:
            print(f"   {'?':>7} {'?':>7} {wall:7.2f}  {head[:90]}  ({type(error).__name__})")
            continue
        total_plan += plan
        total_exec += execute_ms or 0
        total_wall += wall
        ex = f"{execute_ms:7.2f}" if execute_ms is not None else "   plan"
        jit_note = f"  [JIT {jit:.1f} ms]" if jit else ""
        print(f"   {plan:7.2f} {ex} {wall:7.2f}  {head[:90]}{jit_note}")
        if generic:
            line, slower, faster = prepared(sql, params)
            print("      " + line)
            if slower:
                generic_slower.append((name, slower, head))
            if faster:
                custom_slower.append((name, faster, head))
        if show and plan + (execute_ms or 0) >= show:
            print("      " + head[:4000])
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(f"EXPLAIN (ANALYZE, SUMMARY) {sql}", params)
                    print("\n".join("      | " + r[0] for r in cur.fetchall()))
                transaction.set_rollback(True)
    print(f"   {total_plan:7.2f} {total_exec:7.2f} {total_wall:7.2f}  = planning, execution, "
          f"wall as run (ms) · load {os.getloadavg()[0]:.2f}", flush=True)


def prepared(sql: str, params) -> tuple[str, str, str]:
    """The statement PREPAREd with its parameters typed as the product's driver binds them
    (psycopg: an int as int2, int4 or int8 by its size, a str untyped, for the server to infer),
    run seven times under plan_cache_mode auto and once more under force_generic_plan: planning
    and execution of the 1st and 7th run (a generic plan has no planning left) and of the generic
    plan. The second value says how much slower the 7th run executed than the 1st when
    PostgreSQL kept a plan that executes more than 1.5 times as long and 0.5 ms longer (else empty):
    what a statement prepared on a connection would cost once its plan is generic. The third
    says the reverse, the 1st run's custom plan against the generic one by the same margin:
    a plan chosen for the parameters that misjudges them (lead35: the person page's links,
    14.3 against 1.5 ms)."""
    import psycopg
    from django.db import connection, transaction
    from psycopg.adapt import PyFormat, Transformer

    raw = connection.connection
    dumpers = Transformer(raw)
    types = []
    for v in params or ():
        oid = dumpers.get_dumper(v, PyFormat.AUTO).oid
        info = raw.adapters.types.get(oid) if oid else None
        types.append(info.name if info else "unknown")
    n = [0]

    def number(_match):
        n[0] += 1
        return f"${n[0]}"

    text = re.sub(r"%s", number, sql.replace("%%", "\x00")).replace("\x00", "%")
    out, slower, faster = [], "", ""
    first = 0.0
    try:
        with transaction.atomic():
            # The EXECUTE's arguments as literals: a server-bound parameter cannot stand in a
            # utility statement ("there is no parameter $1"), and the product binds on the server.
            with psycopg.ClientCursor(connection.connection) as cur:
                args = ", ".join(["%s"] * len(types))
                for mode, runs in (("auto", 7), ("force_generic_plan", 2)):
                    cur.execute(f"SET LOCAL plan_cache_mode = {mode}")
                    cur.execute(f"PREPARE plan10_p ({', '.join(types)}) AS {text}"
                                if types else f"PREPARE plan10_p AS {text}")
                    got = []
                    for _ in range(runs):
                        cur.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) EXECUTE plan10_p"
                                    + (f"({args})" if types else ""), list(params or ()))
                        r = cur.fetchone()[0]
                        r = json.loads(r) if isinstance(r, str) else r
                        got.append((r[0].get("Planning Time", 0), r[0].get("Execution Time", 0)))
                    cur.execute("DEALLOCATE plan10_p")
                    if mode == "auto":
                        out.append(f"auto 1st {got[0][0]:.2f}+{got[0][1]:.2f} "
                                   f"7th {got[-1][0]:.2f}+{got[-1][1]:.2f}")
                        first, kept = got[0][1], got[-1][1]
                        if kept > 1.5 * first and kept - first > 0.5:
                            slower = f"{first:.2f} → {kept:.2f} ms"
                    else:
                        out.append(f"generic {got[-1][0]:.2f}+{got[-1][1]:.2f}")
                        generic_ms = got[-1][1]
                        if first > 1.5 * generic_ms and first - generic_ms > 0.5:
                            faster = f"{first:.2f} → {generic_ms:.2f} ms"
            transaction.set_rollback(True)
    except Exception as e:  # noqa: BLE001
        return f"(prepared: {type(e).__name__}: {str(e).splitlines()[0][:80]})", "", ""
    finally:
        with connection.cursor() as cur:
            cur.execute("DEALLOCATE ALL")
    return " · ".join(out) + " (planning+execution ms)", slower, faster


def workloads(manifest: dict, which: list[str], rng: random.Random) -> dict:
    from django.test import Client

    from bench.workloads import registration_body
    from xinfang.cases.models import Case
    from xinfang.org.models import User

    busy = manifest["busy_county"]
    township, village = busy["township"], busy["village"]
    clerk = Client()
    clerk.force_login(User.objects.get(username="clerk"))
    calls = {}
    serial = [30_000_000 + int(time.time()) % 1_000_000 * 10]

    def register():
        serial[0] += 1
        body = registration_body(rng, serial[0], township=township, village=village,
                                 category=manifest["categories"][0], label="计划登记")
        r = clerk.post("/api/cases/", body, content_type="application/json",
                       HTTP_PREFER="return=minimal")
        assert r.status_code == 201, r.content[:400]
        return r

    pool: list[int] = []

    def propose():
        if not pool:  # the county's registered cases, newest first, then this process's own
            pool.extend(Case.objects.filter(jurisdiction_id=busy["unit"], state="registered")
                        .order_by("-id").values_list("pk", flat=True)[:200])
        pk = pool.pop(0)
        version = Case.objects.filter(pk=pk).values_list("version", flat=True).get()
        r = clerk.post(f"/api/cases/{pk}/transitions/propose/",
                       {"expected_version": version, "proposal": "交属地乡镇办理"},
                       content_type="application/json", HTTP_PREFER="return=minimal")
        assert r.status_code == 200, r.content[:400]

    approver = Client()
    approver.force_login(User.objects.get(username="approver"))

    if "register" in which:
        calls["register"] = register
    if "propose" in which:
        calls["propose"] = propose
    for name in PAGES:
        if name in which:
            calls[name] = page(approver if name == "supervision" else clerk,
                               page_url(name, busy))
    if "match" in which:
        calls["match"] = match_lookup(busy, rng)
    return calls


def page(client, url: str):
    """A call that asks ``url`` as ``client`` and expects the page."""
    def get():
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    return get


def pages_as(urls: list[str]) -> dict:
    """``--url USER:PATH``: each page as that user (one signed-in client a user), by its URL."""
    from django.test import Client

    from xinfang.org.models import User

    clients: dict[str, Client] = {}
    calls = {}
    for spec in urls:
        username, sep, url = spec.partition(":")
        if not sep or not url.startswith("/"):
            raise SystemExit(f"--url {spec!r}: USER:/path/ expected")
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        calls[spec] = page(clients[username], url)
    return calls


def match_lookup(busy: dict, rng: random.Random):
    """A person of the busy county typed again: name (one character mistyped now and then), ID
    number on two visits in three, phone, township and village, the matter and demand of one of
    their cases, as of that case's received instant — the shape of match_bench's queries."""
    from xinfang.cases import choices as c
    from xinfang.cases.models import CasePetitioner, Demand
    from xinfang.matching.selectors import MatchQuery, find_matches
    from xinfang.org.models import Membership

    clerk = Membership.objects.select_related("unit", "user").get(user__username="clerk")
    links = list(CasePetitioner.objects.filter(
        case__jurisdiction_id=busy["unit"], role=c.PetitionerRole.MAIN,
        petitioner__village__isnull=False).select_related(
        "petitioner", "petitioner__township", "petitioner__village", "case")
        .order_by("-case_id")[:400])
    rng.shuffle(links)
    queries = []
    for link in links[:200]:
        p, case = link.petitioner, link.case
        demand = Demand.objects.filter(case=case).order_by("seq").first()
        if demand is None:
            continue
        queries.append((MatchQuery(
            name=p.name, id_number=p.id_number if rng.random() < 0.67 else "",
            phone=p.phone or "", township=p.township, village=p.village, matter=case.matter,
            demands=[demand.text], categories=[demand.category] if demand.category else [],
            received_at=case.received_at), case.received_at))
    turn = [0]

    def call():
        q, before = queries[turn[0] % len(queries)]
        turn[0] += 1
        return find_matches(by=clerk, query=q, before=before)
    return call


def truth_lookup(path: Path):
    """match_bench's queries in its order, as its clerk, as of each query's instant."""
    from bench.match_bench import _at, _query
    from xinfang.matching.selectors import MatchQuery, find_matches
    from xinfang.org.models import Membership, Unit

    truth = json.loads(path.read_text())
    clerk = Membership.objects.select_related("unit", "user").get(user_id=truth["clerk_user"])
    units: dict = {}

    def unit(pk):
        if pk is not None and pk not in units:
            units[pk] = Unit.objects.get(pk=pk)
        return units.get(pk)
    queries = truth["queries"]
    turn = [0]

    def call():
        q = queries[turn[0] % len(queries)]
        turn[0] += 1
        return find_matches(by=clerk, query=_query(MatchQuery, q, unit), before=_at(q))
    return call


if __name__ == "__main__":
    main()
