"""Benchmark: the L1 and L2 register ledgers exported at a large size, beside a bare xlsxwriter
floor over the same rows in the same run (issue 11).

Run from the repository root (SQLite by default; PostgreSQL with DATABASE_URL)::

    .venv/bin/python bench/bench_ledgers.py [--rows 100000] [--repeat 3]

It builds a throwaway test database with one jianan county, inserts ``--rows`` screening findings
(L1) and as many backlog lines (L2, without cases: the imported kind) with encrypted names and
phones, then times, as medians of ``--repeat`` runs:

- ``l1`` / ``l2``: the product's writer (``write_ledger_l1`` / ``write_ledger_l2``) as the
  office's clerk, masked: the permission door, chunked reads, the layout, the audit entry;
- ``floor``: the same columns read by one bare SQL cursor, names and phones decrypted and
  masked, written row by row with xlsxwriter ``constant_memory`` and no formats or layout.

Peak memory is the growth of the process's resident set over its level before the call, sampled
every 5 ms by a thread (``/proc/self/statm``), so each figure is that call's own.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.test")

import django  # noqa: E402

django.setup()

import xlsxwriter  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from xinfang.demo.org import build_jurisdiction  # noqa: E402
from xinfang.ledgers.exports import write_ledger_l1, write_ledger_l2  # noqa: E402
from xinfang.registers.models import BacklogCase, ScreeningFinding  # noqa: E402
from xinfang.security.crypto import get_keyring  # noqa: E402
from xinfang.security.masking import mask_name, mask_phone  # noqa: E402
from xinfang.security.names import name_index  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀兰桂英志强丽娟海涛明华玉梅文静小红大勇"


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def measured(fn):
    """(ms, peak RSS growth in MB) of one call."""
    base = rss()
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    began = time.perf_counter()
    fn()
    elapsed = (time.perf_counter() - began) * 1000
    done.set()
    t.join()
    return elapsed, (max(peak[0], rss()) - base) / 2**20


def person(i: int) -> tuple[str, str]:
    return (SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20],
            f"13{i % 10}{i:08d}"[:11])


def seed(j, clerk, n: int) -> None:
    townships = list(j.townships.values())
    villages = {v.parent_id: v for v in j.villages.values()}
    start = date(2026, 1, 1)
    batch = 5000
    for first in range(0, n, batch):
        findings, lines = [], []
        for i in range(first, min(first + batch, n)):
            name, phone = person(i)
            t = townships[i % len(townships)]
            day = start + timedelta(days=i % 300)
            common = dict(person_name=name, name_index=name_index(name), contact=phone,
                          township=t, village=villages.get(t.pk),
                          problem=f"反映第{i}号帮扶资金问题",
                          category="资金项目", solved=bool(i % 2), stable=True, note="")
            findings.append(ScreeningFinding(jurisdiction=j.county, month=day.replace(day=1),
                                             screened_on=day, recorded_by=clerk.user, **common))
            lines.append(BacklogCase(jurisdiction=j.county, entry="imported", reason="多次重访",
                                     first_petition_on=day, owner_leader_text="王建国",
                                     designated_at=timezone.now(), **common))
        ScreeningFinding.objects.bulk_create(findings)
        BacklogCase.objects.bulk_create(lines)


FLOOR_SQL = {
    "l1": ("SELECT f.screened_on, f.person_name, f.contact, f.exited_or_monitored, t.name, "
           "f.problem, f.category, f.is_new, f.solved, f.guided, f.assisted, f.dealt_by_law, "
           "f.stable, f.note FROM registers_screeningfinding f JOIN org_unit t "
           "ON t.id = f.township_id WHERE f.jurisdiction_id = %s ORDER BY f.screened_on, f.id"),
    "l2": ("SELECT b.first_petition_on, b.person_name, b.contact, b.exited_or_monitored, t.name, "
           "b.problem, b.category, b.solved, b.guided, b.assisted, b.dealt_by_law, b.stable, "
           "b.note FROM registers_backlogcase b LEFT JOIN org_unit t ON t.id = b.township_id "
           "WHERE b.jurisdiction_id = %s ORDER BY b.designated_at, b.id"),
}


def floor(code: str, jurisdiction_id: int, out) -> None:
    ring = get_keyring()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL[code], [jurisdiction_id])
        r = 0
        while rows := cursor.fetchmany(2000):
            for row in rows:
                row = list(row)
                row[1] = mask_name(ring.decrypt(row[1]))
                row[2] = mask_phone(ring.decrypt(row[2])) if row[2] else ""
                sheet.write_row(r, 0, [v if not isinstance(v, bool) else ("是" if v else "否")
                                       for v in row])
                r += 1
    book.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.rows, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(n: int, repeat: int) -> None:
    j = build_jurisdiction()
    clerk = j.member("clerk")
    began = time.perf_counter()
    seed(j, clerk, n)
    print(f"# {timezone.now():%Y-%m-%d} · {connection.vendor} · {platform.python_version()} · "
          f"{os.cpu_count()} cores · {platform.machine()} · {n:,} rows each "
          f"(seeded in {time.perf_counter() - began:.0f} s)")
    writers = {"l1": write_ledger_l1, "l2": write_ledger_l2}
    print(f"{'ledger':<8}{'product ms':>12}{'floor ms':>10}{'ratio':>7}"
          f"{'product MB':>12}{'floor MB':>10}{'file MB':>9}")
    for code, writer in writers.items():
        product, bare, peak_p, peak_f, size = [], [], [], [], 0
        for _ in range(repeat):  # interleaved: the machine's noise hits both alike
            with tempfile.TemporaryFile() as out:
                ms, mb = measured(lambda out=out, w=writer: w(out, None, by=clerk, via="cli"))
                size = out.seek(0, 2)
            product.append(ms)
            peak_p.append(mb)
            with tempfile.TemporaryFile() as out:
                ms, mb = measured(lambda out=out, c=code: floor(c, j.county.pk, out))
            bare.append(ms)
            peak_f.append(mb)
        p, f = statistics.median(product), statistics.median(bare)
        print(f"{code:<8}{p:>12,.0f}{f:>10,.0f}{p / f:>7.2f}{max(peak_p):>12.1f}"
              f"{max(peak_f):>10.1f}{size / 2**20:>9.1f}")


if __name__ == "__main__":
    main()
