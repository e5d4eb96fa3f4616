"""Child processes of the benchmark, one task each, so their time and peak memory are their own.

    tasks.py sweep          # xinfang's sweep over all open cases: first pass, then steady state
    tasks.py export         # the L0 export of the busy county's clerk (the product's ledger_l0)
    tasks.py export_floor   # the same rows by bare SQL + decrypt + xlsxwriter: the floor

Each prints one JSON line per measured thing (``name``, ``median_ms``, ``queries``, ``rss_mb``…).
The database is the one ``XINFANG_BENCH_DB`` names (set by ``bench/run.py``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def emit(**row) -> None:
    print(json.dumps(row, ensure_ascii=False), flush=True)


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


class PartCounts:
    """Statements of the sweep's parts, wherever they run: a split sweep forks its workers
    (``sweep_split``), which inherit this wrapper of ``sweep_part`` and leave their count in a
    file named after their process; the parent's own statements are its counter's."""

    def __init__(self, supervision):
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="xf-sweep-counts-"))
        self.parent = os.getpid()
        real = supervision.sweep_part

        def counted(**kw):
            from django.db import connection

            if os.getpid() == self.parent:
                return real(**kw)  # counted by the caller's own counter
            counter = Counter()
            try:
                with connection.execute_wrapper(counter):
                    return real(**kw)
            finally:
                (self.dir / f"{os.getpid()}-{kw.get('part', 0)}").write_text(str(counter.n))

        supervision.sweep_part = counted

    def take(self) -> int:
        """The workers' statements since the last take."""
        n = 0
        for f in self.dir.iterdir():
            n += int(f.read_text())
            f.unlink()
        return n


def sweep_task(manifest: dict) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from xinfang.cases.models import Alert, Case
    from xinfang.cases.services import supervision
    from xinfang.cases.services.supervision import sweep

    fresh = not Alert.objects.exists()
    open_cases = Case.objects.filter(state__in=[
        "registered", "proposed", "awaiting_countersign", "signed_off", "assigned", "in_progress",
        "extension_requested", "letter_drafted", "letter_approved", "letter_issued", "delivered",
    ]).count()
    floor_ms = sweep_floor()
    parts = PartCounts(supervision)
    for name in ("sweep_first", "sweep_steady"):
        counter = Counter()
        began = time.perf_counter()
        with connection.execute_wrapper(counter):
            result = sweep(at=timezone.now())
        ms = (time.perf_counter() - began) * 1000
        in_workers = parts.take()
        first = name == "sweep_first"
        label = ("sweep, first pass" if fresh else "sweep, first pass (alerts already raised)") \
            if first else "sweep, steady state (nothing new)"
        if in_workers:
            # split between forked workers (xinfang.cases.services.sweep_split): q counts
            # theirs and this process's; the memory is the larger of this one's and a worker's
            label += f", {settings.XINFANG_SWEEP_PROCESSES} processes"
        emit(name=name, label=f"{label}, {open_cases} open cases", median_ms=round(ms, 1),
             p95_ms=None, calls=1, queries=counter.n + in_workers, floor_ms=floor_ms,
             ratio=round(ms / floor_ms, 1), rss_mb=max(rss_mb(), workers_rss_mb()),
             raised=result.__dict__,
             floor_sql="running deadline clocks due within 72 h with their case; open cases")


def workers_rss_mb() -> float:
    """The peak memory of the largest child process this one has waited for."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def sweep_floor() -> float:
    from django.db import connection
    from django.utils import timezone

    horizon = connection.ops.adapt_datetimefield_value(
        timezone.now() + timezone.timedelta(hours=72))
    began = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT k.id, k.case_id, k.due_at, k.alert_roles, c.number FROM cases_clock k "
                    "JOIN cases_case c ON c.id = k.case_id WHERE k.status = 'running' AND "
                    "k.kind = 'deadline' AND k.due_at < %s", [horizon])
        cur.fetchall()
        cur.execute("SELECT id, profile_id, accepted_at FROM cases_case WHERE state NOT IN "
                    "('closed', 'archived', 'merged', 'declined')")
        cur.fetchall()
    return round((time.perf_counter() - began) * 1000, 1)


def export_task(manifest: dict) -> None:
    from django.db import connection

    from xinfang.api.membership import membership_of
    from xinfang.cases.selectors import cases_for
    from xinfang.ledgers.exports import ledger_l0
    from xinfang.org.models import User

    membership = membership_of(User.objects.get(username="clerk"))
    counter = Counter()
    began = time.perf_counter()
    with connection.execute_wrapper(counter):
        qs = cases_for(membership)
        data = ledger_l0(qs, by=membership, filters={}, via="cli")
    ms = (time.perf_counter() - began) * 1000
    rows = cases_for(membership).count()
    emit(name="export", label=f"L0 export, {rows} rows", median_ms=round(ms, 1), p95_ms=None,
         calls=1, queries=counter.n, rss_mb=rss_mb(), bytes=len(data))


def export_floor_task(manifest: dict) -> None:
    """The floor of the L0 export: the same cases (the busy county's, in ledger order), the same
    eleven cells a row (main petitioners' names, addresses and phones decrypted — the three fields
    the export decrypts, each person once as the export does; the matter with the demands;
    categories; handling units; the lead's responsible person and assignment time; state with
    the findings; the merged-into number; closing time), by three plain SELECTs, joined in
    dictionaries, written by xlsxwriter in memory. No permission door, no masking, no labels,
    no audit: what any export must do."""
    import xlsxwriter
    from django.db import connection

    from xinfang.security.crypto import get_keyring

    ring = get_keyring()
    county = manifest["busy_county"]["unit"]
    began = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.id, c.number, c.matter, c.state, c.closed_at, m.number, p.id, p.name, "
            "p.address, p.phone FROM cases_case c JOIN org_unit j ON j.id = c.jurisdiction_id "
            "LEFT JOIN cases_case m ON m.id = c.merged_into_id LEFT JOIN cases_casepetitioner l "
            "ON l.case_id = c.id AND l.role IN ('main', 'representative') LEFT JOIN "
            "cases_petitioner p ON p.id = l.petitioner_id WHERE c.jurisdiction_id = %s "
            "ORDER BY j.path, c.year, c.seq, l.id", [county])
        cases = cur.fetchall()
        cur.execute("SELECT d.case_id, d.seq, d.text, d.category, d.finding FROM cases_demand d "
                    "JOIN cases_case c ON c.id = d.case_id WHERE c.jurisdiction_id = %s "
                    "ORDER BY d.seq", [county])
        demands: dict[int, list] = {}
        for row in cur.fetchall():
            demands.setdefault(row[0], []).append(row)
        cur.execute("SELECT a.case_id, u.name, a.role, a.responsible_person, a.assigned_at FROM "
                    "cases_assignment a JOIN cases_case c ON c.id = a.case_id JOIN org_unit u "
                    "ON u.id = a.unit_id WHERE c.jurisdiction_id = %s AND "
                    "a.status <> 'transferred' ORDER BY a.assigned_at, a.id", [county])
        handling: dict[int, list] = {}
        for row in cur.fetchall():
            handling.setdefault(row[0], []).append(row)
    rows: list[list] = []
    last = None
    people: dict[int, tuple] = {}  # each person decrypted once, as the export does
    for pk, number, matter, state, closed_at, merged, person, *sealed in cases:
        if person not in people:
            people[person] = tuple(ring.decrypt(v) if v else "" for v in sealed)
        name, address, phone = people[person]
        if pk == last:  # a second main petitioner of the same case
            row = rows[-1]
            row[1] += "、" + name
            row[2] += "；" + address if address else ""
            row[3] += "、" + phone if phone else ""
            continue
        last = pk
        ds, hs = demands.get(pk, []), handling.get(pk, [])
        lead = [h for h in hs if h[2] == "lead"]
        rows.append([
            number, name, address, phone,
            matter + "\n主要诉求：" + "；".join(f"{d[1]}. {d[2]}" for d in ds),
            "、".join(dict.fromkeys(d[3] for d in ds)),
            "、".join(f"{h[1]}（{h[2]}）" for h in hs),
            lead[-1][3] if lead else "", lead[-1][4] if lead else "",
            state + "；" + "，".join(f"诉求{d[1]}{d[4]}" for d in ds if d[4])
            + (f"；已并入{merged}" if merged else ""),
            closed_at])
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("L0")
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            sheet.write(r, col, str(value) if value is not None else "")
    book.close()
    ms = (time.perf_counter() - began) * 1000
    emit(name="export_floor", median_ms=round(ms, 1), rss_mb=rss_mb(), rows=len(rows),
         floor_sql="three SELECTs (cases with main petitioners, demands, assignments) of the "
                   "busy county; name, address, phone decrypted once per person; the same 11 "
                   "cells; xlsxwriter in memory")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("task", choices=["sweep", "export", "export_floor"])
    p.add_argument("--manifest-json", required=True)
    args = p.parse_args()
    import django

    django.setup()
    manifest = json.loads(args.manifest_json)
    {"sweep": sweep_task, "export": export_task, "export_floor": export_floor_task}[args.task](
        manifest)


if __name__ == "__main__":
    main()
