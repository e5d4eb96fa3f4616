"""Benchmark: importing a hand-filled L0 ledger (issue 11, imports) — N rows, the time of each
stage, beside a raw baseline measured in the same run.

Run from the repository root (SQLite by default; PostgreSQL with DATABASE_URL)::

    .venv/bin/python bench/bench_imports.py [--rows 20000]

It builds a throwaway test database and the jianan tree, writes one messy L0 workbook of
``--rows`` rows (title rows, merged two-row header, dates and phones in mixed spellings, a
footnote), then measures once each (a run of 20,000 rows is long enough that medians of
repeats would add nothing but time):

- ``read``: openpyxl load and every cell parsed and checked (``read_ledger``);
- ``import``: the real import (read, ``case_register`` per row, the import event, the closing
  of rows with a 销号时间, the ImportedRow keys, the audit entry) in one transaction;
- ``re-import``: the same file again (every row found by its key, nothing created);
- ``raw case_register``: the baseline — registrations from ready-made inputs, no file, in one
  transaction, on a fresh jurisdiction: ``--raw-rows`` of them (default: as many as the import,
  at most 2,000), compared per row.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from xinfang.cases import choices as c  # noqa: E402
from xinfang.cases.services import (  # noqa: E402
    DemandInput,
    PetitionerInput,
    Registration,
    case_register,
)
from xinfang.demo.org import build_jurisdiction  # noqa: E402
from xinfang.imports.reading import read_ledger  # noqa: E402
from xinfang.imports.services import ledger_import  # noqa: E402
from xinfang.ledgers.layouts import L0  # noqa: E402
from xinfang.rules.store import current_version, profile_of  # noqa: E402

HEAD = [column.title for column in L0.columns]  # the ledger as FORMS.md lays it out
PLACES = ["将官池镇岗朱村", "五女店镇魏庄村", "椹涧乡小河村", "将官池镇霍庄村"]
CATS = ["危房改造", "民政救助", "小额信贷", "医疗保障", "其他"]


def workbook(n: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["2023年建安区信访案件台账"])
    ws.merge_cells("A1:K1")
    ws.append(["填报单位：建安区乡村振兴局"])
    ws.append(HEAD[:1] + ["信访人信息", None, None] + HEAD[4:])
    ws.append([None, "信访人姓名", "住址", "电话"] + [None] * 7)
    ws.merge_cells("B3:D3")
    for col in "AEFGHIJK":
        ws.merge_cells(f"{col}3:{col}4")
    start = date(2023, 1, 2)
    for i in range(n):
        day = start + timedelta(days=i % 300)
        when = [
            day.strftime("%Y.%-m.%-d"),
            day.strftime("%Y年%-m月%-d日"),
            datetime(day.year, day.month, day.day),
            day.strftime("%Y/%m/%d"),
        ][i % 4]
        phone = [
            f"138{i:08d}",
            f"139 {i % 10000:04d} {i % 7777:04d}",
            13700000000 + i,
            f"+86 136-{i % 10000:04d}-{i % 9999:04d}",
        ][i % 4]
        closed = (day + timedelta(days=20)).strftime("%Y.%m.%d") if i % 3 else ""
        ws.append(
            [
                f"建安2023-{i:06d}",
                f"测试{i}",
                PLACES[i % 4] + f"{i % 9}组",
                phone,
                f"反映第{i}号问题",
                CATS[i % 5],
                "区民政局",
                "赵六",
                when,
                "已办理",
                closed,
            ]
        )
    ws.append(["注：本表为基准测试数据。"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--raw-rows", type=int, default=None)
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.rows, args.raw_rows or min(args.rows, 2000))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


CPU: dict[str, float] = {}


def timed(label: str, fn):
    """Wall seconds (returned) and this process's CPU seconds (kept in ``CPU``): on a shared,
    loaded machine the CPU time says more about the code than the wall time."""
    began, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU[label] = time.process_time() - cpu
    return time.perf_counter() - began, result


def run(n: int, raw_n: int) -> None:
    j = build_jurisdiction()
    clerk = j.member("clerk")
    content = workbook(n)
    print(
        f"# {timezone.now():%Y-%m-%d} · {connection.vendor} · {platform.python_version()} · "
        f"{os.cpu_count()} cores · {platform.machine()} · {n} L0 rows, "
        f"{len(content) / 1e6:.1f} MB xlsx"
    )
    profile = profile_of(current_version("jianan"))
    t_read, reading = timed(
        "read",
        lambda: read_ledger(
            content, "b.xlsx", jurisdiction=j.county, categories=profile.categories
        ),
    )
    assert not reading.issues and not any(r.issues for r in reading.rows), "bench data is clean"
    t_import, out = timed(
        "import",
        lambda: ledger_import(
            by=clerk, content=content, filename="b.xlsx", dry_run=False, skip_invalid=False
        ),
    )
    assert out.committed and out.count("created") == n
    t_again, again = timed(
        "re-import",
        lambda: ledger_import(
            by=clerk, content=content, filename="b.xlsx", dry_run=False, skip_invalid=False
        ),
    )
    assert again.count("exists") == n

    other = build_jurisdiction(
        profile_code="jianan", county_name="基准区", short_name="基准", username_prefix="raw_"
    )
    sh = ZoneInfo("Asia/Shanghai")
    inputs = [
        Registration(
            channel=c.Channel.VISIT,
            matter=f"反映第{i}号问题",
            received_at=datetime(2023, 1, 2, 9, tzinfo=sh) + timedelta(days=i % 300),
            petitioners=[
                PetitionerInput(name=f"测试{i}", phone=f"138{i:08d}", address=PLACES[i % 4])
            ],
            demands=[DemandInput(text=f"反映第{i}号问题", category=CATS[i % 5])],
        )
        for i in range(raw_n)
    ]

    def raw():
        with transaction.atomic():
            for data in inputs:
                case_register(by=other.member("clerk"), data=data)

    t_raw, _ = timed("raw", raw)
    per_raw, cpu_raw = t_raw / raw_n, CPU["raw"] / raw_n
    print(f"{'stage':<26}{'rows':>7}{'wall s':>8}{'ms/row':>8}{'vs raw':>8}"
          f"{'cpu s':>8}{'cpu ms/row':>11}{'vs raw':>8}")
    for label, key, rows, t in (
        ("read (parse + check)", "read", n, t_read),
        ("import (all rows)", "import", n, t_import),
        ("re-import (nothing new)", "re-import", n, t_again),
        ("raw case_register", "raw", raw_n, t_raw),
    ):
        cpu = CPU[key]
        print(f"{label:<26}{rows:>7}{t:>8.1f}{t / rows * 1000:>8.1f}{t / rows / per_raw:>8.2f}"
              f"{cpu:>8.1f}{cpu / rows * 1000:>11.1f}{cpu / rows / cpu_raw:>8.2f}")

if __name__ == "__main__":
    main()
