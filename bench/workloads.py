"""The xinfang side of ``bench/run.py``: one process per database, Django set up on the generated
data (``bench/generate.py``), every page driven through ``django.test.Client`` as a user of the
busy county, so the product's middleware, views, templates and API run as they do for an office.

Each workload is timed call by call, interleaved with its *raw floor* — the bare SQL it boils
down to, through a plain cursor, in the same loop — so the ratio holds whatever else the machine
is doing. Query counts come from a wrapper counting every statement of one extra call.

Each driver (this one and the peer's) freezes what its process has loaded before it times a call
(``served_as_a_worker``), as xinfang's gunicorn master does before forking a worker: a full
collection of the loaded framework (80–95 ms) otherwise falls on one call in a few hundred,
whichever it is, and a 15-call p95 can land on it.

A page (a read) is also timed against a *replay* of its own statements: the reads of one call,
captured with their parameters and run again through a plain cursor in the same loop. The
floor's ratio says how far the page is from the least SQL its content needs; the replay's says
how much the page spends around the SQL it does run (Python, the ORM, the template), and the
quotient of the two how much of the gap is the statements themselves. The sweep
and the L0 export run in child processes (``bench/tasks.py``) for their peak memory.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Statements that only open, close or mark a transaction: not queries.
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Counter:
    """Counts the queries a call sends through Django's cursors (``n``), a transaction's own
    statements left out: on SQLite Django sends a request's ``BEGIN IMMEDIATE`` through a
    cursor, where psycopg sends PostgreSQL's ``BEGIN`` outside them, and neither engine's
    ``COMMIT`` goes through one; counted, the same transition was one query more on SQLite
    (lead52). The suite's query budgets count the same way (``tests/cases/test_query_budgets``).
    ``keep``: every statement kept, the transaction's too."""

    def __init__(self, keep: bool = False):
        self.n = 0
        self.statements: list[tuple[str, object, bool]] | None = [] if keep else None

    def __call__(self, execute, sql, params, many, context):
        if not sql.lstrip()[:9].upper().startswith(CONTROL):
            self.n += 1
        if self.statements is not None:
            self.statements.append((sql, params, many))
        return execute(sql, params, many, context)


def reads_of(statements: list[tuple[str, object, bool]]) -> list[tuple[str, object, bool]]:
    """The statements that only read: a page's writes (the case page's audit entry of the
    reading, a transaction's savepoints) cannot run twice, so a replay leaves them out and is
    the lower bound of what the page spends in the database."""
    return [s for s in statements if s[0].lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH")]


def replayer(statements: list[tuple[str, object, bool]]) -> Callable[[int], None]:
    """The statements of one call run again, as they were sent, through a plain cursor: what the
    call spends in the database and the driver, with nothing of Django's around it."""
    from django.db import connection

    def replay(_i):
        with connection.cursor() as cur:
            for sql, params, many in statements:
                if many:
                    cur.executemany(sql, params)
                else:
                    cur.execute(sql, params)
                if cur.description is not None:
                    cur.fetchall()
    return replay


def registration_body(rng: random.Random, serial: int, *, township: int, village: int,
                      category: str, label: str) -> dict:
    """The API body of one visit registered in the busy county's village, a new person each."""
    from django.utils import timezone

    from bench.datagen.people import make_person

    person = make_person(rng, serial, township_id=township, village_id=village,
                         township_name="将官池镇", village_name="岗朱村")
    return {
        "channel": "visit", "matter": f"{label}{serial}：申请危房改造补助未落实",
        "received_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "petitioners": [{"name": person.name, "id_number": person.id_number,
                         "phone": person.phone, "address": person.address}],
        "demands": [{"text": "申请危房改造补助", "category": category}],
        "township": township, "village": village,
    }


def proposable(pks: list[int], username: str = "clerk") -> list[int]:
    """Those of ``pks`` that ``username`` may propose now, in their order: the refusal the API
    itself asks (``transitions.refusal``). A repeat of a matter already decided on re-review is
    declined, not proposed (national §36 over the whole matter): the generator registers some.
    Asked before any timing."""
    from xinfang.api.membership import membership_of
    from xinfang.cases.models import Case
    from xinfang.cases.services.transitions import refusal
    from xinfang.org.models import User

    by = membership_of(User.objects.get(username=username))
    ok = {case.pk for case in Case.objects.filter(pk__in=pks).select_related("profile")
          if refusal("propose", case=case, by=by) is None}
    return [pk for pk in pks if pk in ok]


def served_as_a_worker() -> None:
    """Load the URLconf (the views) and move everything loaded so far out of the collector's
    reach, as ``xinfang.gunicorn_conf.pre_fork`` does for a served worker. Both sides of the
    benchmark call it after their set-up, so neither is timed with the other's advantage."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports the URLconf and every view it names
    gc.freeze()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(times: list[float], floor: list[float], queries: int | None, loads: list[float],
            replays: list[float] | None = None, **extra) -> dict:
    med = statistics.median(times)
    fmed = statistics.median(floor) if floor else None
    rmed = statistics.median(replays) if replays else None
    return {
        "calls": len(times), "median_ms": round(med, 2), "p95_ms": round(p95(times), 2),
        "floor_ms": round(fmed, 2) if fmed else None,
        "ratio": round(med / fmed, 1) if fmed else None, "queries": queries,
        "replay_ms": round(rmed, 2) if rmed else None,
        "replay_ratio": round(med / rmed, 1) if rmed else None,
        "load": [round(min(loads), 2), round(max(loads), 2)], **extra,
    }


def measure(call: Callable[[int], object], floor: Callable[[int], object] | None, *,
            repeat: int, budget: float, warm: bool = True,
            replays: list[float] | None = None) -> tuple[list, list, int, list]:
    """Time ``call(i)`` and ``floor(i)`` alternately until ``repeat`` calls or ``budget`` seconds
    (at least three); then one more call counted for its queries. A first (warm-up) call that
    alone takes more than half the budget is the only one: its time and queries are reported.
    ``replays`` (a list, for reads only): a second warm call's statements are captured and
    replayed after each floor (``replayer``), their times appended to it."""
    from django.db import connection

    loads = [os.getloadavg()[0]]
    if warm:
        counter = Counter()
        t = time.perf_counter()
        with connection.execute_wrapper(counter):
            call(-1)
        first = (time.perf_counter() - t) * 1000
        if first > budget * 500:
            floors = []
            if floor:
                t = time.perf_counter()
                floor(-1)
                floors.append((time.perf_counter() - t) * 1000)
            loads.append(os.getloadavg()[0])
            return [first], floors, counter.n, loads
        if floor:
            floor(-1)
    again = None
    if replays is not None:  # after the warm call's first-use work (caches, verdicts)
        captured = Counter(keep=True)
        with connection.execute_wrapper(captured):
            call(-1)
        again = replayer(reads_of(captured.statements))
        again(-1)
    times, floors = [], []
    began = time.perf_counter()
    i = 0
    while i < repeat and (i < 3 or time.perf_counter() - began < budget):
        t = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - t) * 1000)
        if floor:
            t = time.perf_counter()
            floor(i)
            floors.append((time.perf_counter() - t) * 1000)
        if again:
            t = time.perf_counter()
            again(i)
            replays.append((time.perf_counter() - t) * 1000)
        i += 1
    counter = Counter()
    with connection.execute_wrapper(counter):
        call(i)
    loads.append(os.getloadavg()[0])
    return times, floors, counter.n, loads


def run(manifest: dict, *, repeat: int, budget: float, skip: set[str], sweep_timeout: float,
        only: set[str] | None = None) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from xinfang.cases.models import Case
    from xinfang.org.models import User

    busy = manifest["busy_county"]
    county = busy["unit"]
    township, village = busy["township"], busy["village"]
    rng = random.Random(7)
    results: dict[str, dict] = {}
    ops = connection.ops

    def want(name):
        return name not in skip and (only is None or name in only)

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    clerk, approver = client_for("clerk"), client_for("approver")
    served_as_a_worker()
    # What a served site's worker has done within the last minute, untimed: the search indexes'
    # merges (SQLite) or pending entries (PostgreSQL) left by an earlier run's registrations.
    from xinfang.cases.dbstats import index_upkeep

    index_upkeep()

    def sql(query: str, params=()):
        with connection.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def get(client, url, expect=200):
        def call(_i):
            r = client.get(url)
            if r.status_code != expect:
                raise RuntimeError(f"GET {url}: {r.status_code} {r.content[:300]!r}")
        return call

    def record(name, label, times, floors, queries, loads, floor_sql, replays=None, **extra):
        results[name] = summary(times, floors, queries, loads, replays, label=label,
                                floor_sql=floor_sql, **extra)
        print(f"  {name}: {results[name]['median_ms']} ms (floor {results[name]['floor_ms']}, "
              f"replay {results[name]['replay_ms']}), {queries} queries", file=sys.stderr,
              flush=True)

    # -- registration through the API -------------------------------------------------------
    new_cases: list[int] = []
    if want("register") or want("register_minimal") or want("transition") or want(
            "transition_minimal"):
        category = manifest["categories"][0]
        serial = [10_000_000 + int(time.time()) % 1_000_000 * 10]
        source = sql("SELECT id FROM cases_case WHERE jurisdiction_id <> %s AND state = %s "
                     "ORDER BY id LIMIT 1", [county, "closed"])[0][0]
        from xinfang.cases.models import Case

        # every stored column but those the copy writes itself and those the database computes
        # (``open_due_at``)
        copy_cols = [f.column for f in Case._meta.concrete_fields if not f.generated
                     and f.column not in ("id", "number", "seq", "query_code")]
        # The floor's copies take numbers past every earlier run's (a number from the clock
        # repeated one when runs followed each other closely: a UNIQUE failure).
        floor_seq = [sql("SELECT COALESCE(MAX(c.seq), 900000000) FROM cases_case c JOIN "
                         "cases_case s ON s.id = %s WHERE c.jurisdiction_id = s.jurisdiction_id "
                         "AND c.year = s.year AND c.seq >= 900000000", [source])[0][0]]

        def register(i, prefer=""):
            serial[0] += 1
            body = registration_body(rng, serial[0], township=township, village=village,
                                     category=category, label="基准登记")
            r = clerk.post("/api/cases/", body, content_type="application/json",
                           HTTP_PREFER=prefer)
            if r.status_code != 201:
                raise RuntimeError(f"register: {r.status_code} {r.content[:400]!r}")
            new_cases.append(r.json()["id"])

        def register_floor(i):
            floor_seq[0] += 1
            n = floor_seq[0]
            now = ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cur:
                cur.execute("BEGIN")
                cols = ", ".join(copy_cols)
                cur.execute(
                    f"INSERT INTO cases_case (number, seq, query_code, {cols}) "
                    f"SELECT %s, %s, 'FLOOR', {cols} FROM cases_case WHERE id = %s RETURNING id",
                    [f"FLOOR-{n}", n, source])
                pk = cur.fetchone()[0]
                pet = sql("SELECT petitioner_id FROM cases_casepetitioner WHERE case_id = %s",
                          [source])
                if pet:
                    cur.execute("INSERT INTO cases_casepetitioner (case_id, petitioner_id, role) "
                                "VALUES (%s, %s, 'main')", [pk, pet[0][0]])
                cur.execute("INSERT INTO cases_demand (case_id, seq, text, category, finding, "
                            "resolution_class, finding_note) VALUES (%s, 1, %s, %s, '', '', '')",
                            [pk, "申请危房改造补助", category])
                cur.execute(
                    "INSERT INTO cases_caseevent (case_id, seq, at, type, actor_role, from_state, "
                    "to_state, payload, profile_code, profile_version, mac, mac_key_id) VALUES "
                    "(%s, 1, %s, 'register', 'clerk', '', 'registered', '{}', 'jianan', 1, '', '')",
                    [pk, now])
                cur.execute(
                    "INSERT INTO cases_clock (case_id, name, kind, label, amount, unit, roll, "
                    "started_at, due_at, provisional, explanation, status, paused_seconds, "
                    "extensions, alert_roles, due_soon_hours, seed, due_soon_alerted, "
                    "overdue_alerted) VALUES (%s, 'routing', "
                    "'deadline', '登记转送', 15, 'days', %s, %s, %s, %s, '[]', 'running', 0, 0, "
                    "'[]', 24, '', %s, %s)", [pk, True, now, now, False, False, False])
                cur.execute("COMMIT")

        if want("register"):
            t, f, q, loads = measure(register, register_floor, repeat=repeat, budget=budget)
            record("register", "register one case (API)", t, f, q, loads,
                   "INSERT case (copied row), petitioner link, demand, event, clock; COMMIT")
        if want("register_minimal"):
            t, f, q, loads = measure(lambda i: register(i, "return=minimal"), register_floor,
                                     repeat=repeat, budget=budget)
            record("register_minimal", "register one case (API, Prefer: return=minimal)", t, f,
                   q, loads, "INSERT case (copied row), petitioner link, demand, event, clock; "
                   "COMMIT")

    # -- one transition through the API ----------------------------------------------------
    if want("transition") or want("transition_minimal"):
        pool = [pk for pk in new_cases] + list(reversed(busy["registered"]))
        pool = proposable(pool)
        floor_case = pool[-1] if pool else new_cases[-1]
        next_seq = [sql("SELECT COALESCE(MAX(seq), 0) FROM cases_caseevent WHERE case_id = %s",
                        [floor_case])[0][0] + 1000]
        queue = list(pool[:-1])
        # Read before the calls, so a call's query count is the request's alone.
        versions = dict(Case.objects.filter(pk__in=queue).values_list("pk", "version"))

        def propose(i, prefer=""):
            if not queue:
                raise RuntimeError("no registered case left to propose")
            pk = queue.pop(0)
            r = clerk.post(f"/api/cases/{pk}/transitions/propose/",
                           {"expected_version": versions[pk], "proposal": "交属地乡镇办理"},
                           content_type="application/json", HTTP_PREFER=prefer)
            if r.status_code != 200:
                raise RuntimeError(f"propose {pk}: {r.status_code} {r.content[:400]!r}")

        def propose_floor(i):
            next_seq[0] += 1
            now = ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("SELECT state, version FROM cases_case WHERE id = %s", [floor_case])
                cur.fetchall()
                cur.execute("UPDATE cases_case SET version = version + 1 WHERE id = %s",
                            [floor_case])
                cur.execute(
                    "INSERT INTO cases_caseevent (case_id, seq, at, type, actor_role, from_state, "
                    "to_state, payload, profile_code, profile_version, mac, mac_key_id) VALUES "
                    "(%s, %s, %s, 'bench', 'clerk', '', '', '{}', 'jianan', 1, '', '')",
                    [floor_case, next_seq[0], now])
                cur.execute("COMMIT")

        for name, label, prefer in (
            ("transition", "one transition: propose (API)", ""),
            ("transition_minimal", "one transition: propose (API, Prefer: return=minimal)",
             "return=minimal"),
        ):
            n = max(3, min(repeat, len(queue) // 2 - 2))
            if not want(name) or n > len(queue):
                continue
            t, f, q, loads = measure(lambda i, p=prefer: propose(i, p), propose_floor,
                                     repeat=n, budget=budget)
            record(name, label, t, f, q, loads,
                   "SELECT the case; UPDATE its version; INSERT an event; COMMIT")

    # -- lists ------------------------------------------------------------------------------
    open_states = ["registered", "proposed", "awaiting_countersign", "signed_off", "assigned",
                   "in_progress", "extension_requested", "letter_drafted", "letter_approved",
                   "letter_issued", "delivered"]
    cols = "id, number, state, kind, channel, received_at, registered_at, matter, township_id"
    marks = ", ".join(["%s"] * len(open_states))

    def page_floor(where: str, params: list, order: str, limit: int = 50, count_cap=None):
        def floor(_i):
            sql(f"SELECT {cols} FROM cases_case WHERE jurisdiction_id = %s {where} "
                f"ORDER BY {order} LIMIT {limit}", [county, *params])
            if count_cap is None:
                sql(f"SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s {where}",
                    [county, *params])
            else:
                sql(f"SELECT COUNT(*) FROM (SELECT 1 FROM cases_case WHERE jurisdiction_id = %s "
                    f"{where} LIMIT {count_cap + 1}) s", [county, *params])
        return floor

    like = "LIKE" if connection.vendor == "sqlite" else "ILIKE"
    # A page of a common word (危房: one case in nine) is the newest 50 that contain it, each case
    # tested in the list's order (its first such demand by the case's index) until the page is
    # full, and a count that stops at the ledger's search cap — not every match of the county.
    search_where = (f"AND (matter {like} %s OR number {like} %s OR (SELECT d.id FROM "
                    f"cases_demand d WHERE d.case_id = cases_case.id AND d.text {like} %s "
                    f"LIMIT 1) IS NOT NULL)")

    def frame_floor(_i):
        # what any signed-in page must read: its session and the member acting
        sql("SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
            [clerk.cookies["sessionid"].value, ops.adapt_datetimefield_value(timezone.now())])
        sql("SELECT m.id, m.unit_id, m.role, u.username FROM org_membership m JOIN org_user u ON "
            "u.id = m.user_id WHERE m.user_id = %s AND m.is_active", [clerk_id])

    clerk_id = sql("SELECT id FROM org_user WHERE username = 'clerk'")[0][0]
    pages = [
        # The least a page of the product costs: the smallest signed-in page (a form and the
        # frame every page shares: its middleware, the navigation, the bell's count). Beside the
        # pages below it tells how much of their time is the frame rather than their content.
        ("frame", "the frame alone (password page)", clerk, "/account/password/", frame_floor,
         "the session and the member acting"),
        ("work_queue", "work queue (clerk)", clerk, "/work/",
         page_floor(f"AND state IN ({marks})", open_states, "registered_at DESC, id DESC", 30),
         "open cases of the county, newest 30, and their count"),
        ("ledger", "ledger page, first 50", clerk, "/ledger/",
         page_floor("", [], "received_at DESC, id DESC"),
         "50 newest cases of the county by received_at, and the count"),
        ("ledger_filtered", "ledger, state + township filter", clerk,
         f"/ledger/?state=in_progress&township={township}",
         page_floor("AND state = %s AND township_id = %s", ["in_progress", township],
                    "received_at DESC, id DESC"),
         "the same with state and township"),
        # "Overdue" is the open cases' deadline (``Case.open_due_at``, kept by the database)
        # before the instant asked; the floor asks the same column.
        ("ledger_overdue", "ledger, overdue filter", clerk, "/ledger/?overdue=true",
         page_floor("AND open_due_at < %s", [ops.adapt_datetimefield_value(timezone.now())],
                    "received_at DESC, id DESC"),
         "the county's open cases past their deadline, newest 50, and their count"),
        ("ledger_search", "ledger, full-text search 危房", clerk, "/ledger/?search=危房",
         page_floor(search_where, ["%危房%"] * 3, "received_at DESC, id DESC", count_cap=500),
         "the newest 50 with LIKE over matter, number and demands tested per case, and their "
         "count to 500"),
        ("api_list", "API list, first page", clerk, "/api/cases/",
         page_floor("", [], "registered_at DESC, id DESC"),
         "50 newest by registered_at, and the count"),
        ("api_search", "API list, search 危房", clerk, "/api/cases/?search=危房",
         page_floor(search_where, ["%危房%"] * 3, "registered_at DESC, id DESC", count_cap=500),
         "the API's newest 50 with LIKE over matter, number and demands tested per case, and "
         "their count to 500"),
    ]
    for name, label, client, url, floor, floor_sql in pages:
        if want(name):
            r: list[float] = []
            t, f, q, loads = measure(get(client, url), floor, repeat=repeat, budget=budget,
                                     replays=r)
            record(name, label, t, f, q, loads, floor_sql, r)

    if want("supervision"):
        def supervision_floor(_i):
            now = ops.adapt_datetimefield_value(timezone.now())
            sql(f"SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s "
                f"AND state IN ({marks})", [county, *open_states])
            sql("SELECT c.id, c.number, MIN(k.due_at) FROM cases_case c JOIN cases_clock k ON "
                "k.case_id = c.id WHERE c.jurisdiction_id = %s AND k.status = 'running' AND "
                "k.kind = 'deadline' AND k.due_at < %s GROUP BY c.id, c.number ORDER BY 3 "
                "LIMIT 20", [county, now])
        r = []
        t, f, q, loads = measure(get(approver, "/supervision/"), supervision_floor,
                                 repeat=repeat, budget=budget, replays=r)
        record("supervision", "supervision page (approver)", t, f, q, loads,
               "count of open cases; 20 most overdue cases (join running clocks)", r)

    if want("case_page") and busy["long_history"]:
        pk = busy["long_history"][0]
        events = sql("SELECT COUNT(*) FROM cases_caseevent WHERE case_id = %s", [pk])[0][0]

        def case_floor(_i):
            sql("SELECT * FROM cases_case WHERE id = %s", [pk])
            sql("SELECT * FROM cases_caseevent WHERE case_id = %s ORDER BY seq", [pk])
            sql("SELECT * FROM cases_clock WHERE case_id = %s ORDER BY due_at", [pk])
            sql("SELECT * FROM cases_demand WHERE case_id = %s ORDER BY seq", [pk])
            sql("SELECT p.* FROM cases_petitioner p JOIN cases_casepetitioner l ON "
                "l.petitioner_id = p.id WHERE l.case_id = %s", [pk])
            sql("SELECT * FROM cases_assignment WHERE case_id = %s", [pk])
        r = []
        t, f, q, loads = measure(get(clerk, f"/cases/{pk}/"), case_floor, repeat=repeat,
                                 budget=budget, replays=r)
        record("case_page", f"case page, {events} history entries", t, f, q, loads,
               "the case, its events, clocks, demands, petitioners, assignments by case id", r)

    for task in ("sweep", "export"):
        if want(task):
            results.update(run_task(task, manifest, timeout=sweep_timeout))
    return results


def run_task(task: str, manifest: dict, *, timeout: float) -> dict:
    """A child process per task (``bench/tasks.py``), its peak memory from ``wait4``."""
    out: dict[str, dict] = {}
    modes = ["sweep"] if task == "sweep" else ["export", "export_floor"]
    for mode in modes:
        loads = [os.getloadavg()[0]]
        began = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "tasks.py"), mode,
             "--manifest-json", json.dumps({"busy_county": manifest["busy_county"],
                                            "cases": manifest["cases"],
                                            "engine": manifest["engine"]})],
            stdout=subprocess.PIPE, env=os.environ.copy(), text=True)
        lines: list[str] = []
        try:
            stdout, _ = proc.communicate(timeout=timeout)
            lines = stdout.splitlines()
            status = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
            lines = stdout.splitlines()
            status = "timeout"
        elapsed = time.perf_counter() - began
        loads.append(os.getloadavg()[0])
        for line in lines:
            if line.startswith("{"):
                row = json.loads(line)
                row["load"] = [round(min(loads), 2), round(max(loads), 2)]
                row["status"] = status
                out[row.pop("name")] = row
        if status == "timeout":
            out.setdefault(f"{mode}_timeout", {"label": f"{mode}: stopped after {timeout:.0f} s",
                                               "median_ms": elapsed * 1000, "status": status})
    if "export" in out and "export_floor" in out:
        e, f = out["export"], out.pop("export_floor")
        e["floor_ms"], e["floor_rss_mb"] = f["median_ms"], f["rss_mb"]
        e["ratio"] = round(e["median_ms"] / f["median_ms"], 1) if f["median_ms"] else None
        e["floor_sql"] = f["floor_sql"]
    return out
