"""Benchmark: the inbox and the outbox (issue 13).

Run from the repository root (SQLite by default; PostgreSQL with DATABASE_URL)::

    .venv/bin/python bench/bench_notify.py [--cases 200] [--per-case 100] [--repeat 7]

It builds a throwaway test database, registers and assigns ``--cases`` jianan cases to one
township, writes ``--per-case`` notices per case for the township and four times as many for
other units (bulk), then measures, as medians:

- ``bell``: ``unread_count`` of the township's handler (the door's subquery, the per-user state)
  against the raw floor ``SELECT COUNT(*) FROM notify_notice WHERE unit_id = …`` in the same run;
- ``inbox page``: the first 50 rows of ``inbox`` with their state;
- ``fan_out`` of 5,000 notices to two channels, and ``deliver_pending`` of 1,000 webhook
  messages to a receiver on 127.0.0.1 (per message).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402


def ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


class Quiet(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--per-case", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reads-only", action="store_true",
                        help="only the bell and the inbox page (skip sending)")
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args) -> None:
    from django.db.models import Exists

    from tests.conftest import register_in
    from tests.web.conftest import walk
    from xinfang.cases.selectors import door_remember
    from xinfang.demo.org import build_jurisdiction
    from xinfang.notify.admin_services import channel_create
    from xinfang.notify.context import BELL_CAP
    from xinfang.notify.models import Delivery, Kind, Notice
    from xinfang.notify.outbox import deliver_pending, fan_out
    from xinfang.notify.selectors import _state, addressed_to, inbox, unread_count

    j = build_jurisdiction(profile_code="jianan")
    began = time.perf_counter()
    cases = [walk(j, register_in(j, matter=f"第{n}件"), "assigned") for n in range(args.cases)]
    township = j.townships["将官池镇"]
    others = [j.county, *j.bureaus.values()][:4]
    now = timezone.now()
    rows = []
    for case in cases:
        for i in range(args.per_case):
            rows.append(Notice(case=case, kind=Kind.ASSIGNED, unit=township, role="",
                               text=f"{case.number} 第{i}条", created_at=now,
                               outbox_pending=False))
            for unit in others:
                rows.append(Notice(case=case, kind=Kind.ASSIGNED, unit=unit, role="clerk",
                                   text=f"{case.number} 第{i}条", created_at=now,
                                   outbox_pending=False))
    Notice.objects.bulk_create(rows, batch_size=2000)
    load = time.perf_counter() - began
    from xinfang.cases.dbstats import db_optimize

    db_optimize()  # as autovacuum (PostgreSQL) or ``xinfang db optimize`` (SQLite) would
    m = j.member("township")
    door_remember(m)
    total = Notice.objects.count()
    mine = unread_count(m)

    def raw():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM notify_notice WHERE unit_id = %s", [township.pk])
            cursor.fetchone()

    bell = ms(lambda: unread_count(m), args.repeat)
    capped = ms(lambda: unread_count(m, cap=BELL_CAP), args.repeat)
    floor = ms(raw, args.repeat)
    page = ms(lambda: list(inbox(m)[:50]), args.repeat)
    if os.environ.get("BENCH_EXPLAIN"):
        qs = addressed_to(m).exclude(Exists(_state(m))).order_by().values("pk")[:BELL_CAP]
        print(qs.explain(analyze=True) if connection.vendor == "postgresql" else qs.explain())
        print(inbox(m)[:50].explain(analyze=True) if connection.vendor == "postgresql" else "")
    if args.reads_only:
        print(f"# bench_notify — {connection.vendor}, {platform.machine()}, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print(f"data: {len(cases)} cases, {total:,} notices ({mine:,} the township's)")
        print(f"bell uncapped {bell:8.2f} ms · bell capped at {BELL_CAP} {capped:8.2f} ms · "
              f"floor {floor:6.2f} ms · inbox page {page:8.2f} ms")
        return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    for n in range(2):
        channel_create(unit=township, name=f"群{n}", format="webhook", target=url,
                       secret="s3cret", by=j.member("sysadmin"))
    Notice.objects.filter(pk__in=list(Notice.objects.filter(unit=township)
                                      .values_list("pk", flat=True)[:5000])
                          ).update(outbox_pending=True)
    t = time.perf_counter()
    while fan_out():
        pass
    fan = (time.perf_counter() - t) * 1000
    keep = list(Delivery.objects.order_by("pk").values_list("pk", flat=True)[:1000])
    Delivery.objects.exclude(pk__in=keep).update(status=Delivery.Status.SENT)
    t = time.perf_counter()
    sent = deliver_pending()
    send = (time.perf_counter() - t) * 1000
    server.shutdown()

    print(f"# bench_notify — {connection.vendor}, {platform.machine()}, {os.cpu_count()} cores")
    print(f"data: {len(cases)} cases, {total:,} notices ({mine:,} the township's), "
          f"loaded in {load:.0f} s")
    print(f"bell (unread_count)      {bell:8.2f} ms   floor (raw COUNT by unit) {floor:6.2f} ms"
          f"   ratio {bell / floor:5.1f}×")
    print(f"bell capped at {BELL_CAP}       {capped:8.2f} ms")
    print(f"inbox first page (50)    {page:8.2f} ms")
    print(f"fan_out 5,000 notices → {Delivery.objects.count():,} deliveries   {fan:8.0f} ms")
    print(f"deliver_pending {sent} webhook messages   {send:8.0f} ms   "
          f"({send / max(sent, 1):.2f} ms per message)")


if __name__ == "__main__":
    main()
