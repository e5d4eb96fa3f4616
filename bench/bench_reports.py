"""Benchmark: the reports (issue 11) — the supervision page's rates by period and unit, and the
periodic reports — on a generated province (``bench/generate.py``).

    .venv/bin/python bench/bench_reports.py var/bench/manifest-postgres-200000.json [--repeat 7]

Acts as the busy county's approver (建安区, about a tenth of the cases). The generated county runs
jianan's profile, which sets no targets; for the run the county is switched to kaijiang's (six
targets of seed 002 §二) so the page computes its rates, and switched back at the end.

Measures, as medians beside a raw floor timed alternately in the same run:

- the supervision page as before (all time) and by quarter / by year with the split by handling
  unit or township, each with the statistics cache cleared before every call (the worst case: the
  first reload after a case changed) and once warm;
- ``report_build`` of the quarterly analysis (DOCX, three PNG charts), the monthly bulletin and the
  yearly scorecard.

The floors are the raw SQL the output cannot do without: for the page, one grouped count of the
period's cases per township with the target's counts as CASE sums; for the quarterly report, the
case count per category, per township, per month of the period.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("manifest")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--only", choices=["rates"], help="only the rates, apart from the page")
    args = p.parse_args()
    manifest = json.loads(Path(args.manifest).read_text())
    os.environ["XINFANG_BENCH_DB"] = manifest["database"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from xinfang.org.models import Unit

    county = manifest["busy_county"]["unit"]
    before = Unit.objects.get(pk=county).profile_code
    Unit.objects.filter(pk=county).update(profile_code="kaijiang")
    try:
        results = run(manifest, repeat=args.repeat, budget=args.budget, only=args.only)
    finally:
        Unit.objects.filter(pk=county).update(profile_code=before)
    out = ROOT / "var" / "bench" / f"reports-{manifest['engine']}-{manifest['cases']}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\nwritten to {out}")


def run(manifest: dict, *, repeat: int, budget: float, only: str | None = None) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bench.workloads import measure, summary
    from xinfang.org.models import Membership, User
    from xinfang.reports.periods import containing, parse
    from xinfang.reports.services import report_build

    county = manifest["busy_county"]["unit"]
    user = User.objects.get(username="approver")
    approver = Membership.objects.filter(user=user, is_active=True).select_related("unit").first()
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    quarter = containing("quarter", today).previous()
    year = parse("year", str(today.year))
    month = containing("month", today).previous()
    in_scope = sql("SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s", [county])[0][0]
    lo, hi = quarter.bounds()
    in_quarter = sql("SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s AND "
                     "received_at >= %s AND received_at < %s", [county, lo, hi])[0][0]
    ylo, yhi = year.bounds()
    in_year = sql("SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s AND "
                  "received_at >= %s AND received_at < %s", [county, ylo, yhi])[0][0]
    print(f"# {timezone.now():%Y-%m-%d %H:%M} · {connection.vendor} · "
          f"{platform.python_version()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    print(f"# {manifest['cases']:,} cases; the approver's county {in_scope:,}; "
          f"{quarter.code} {in_quarter:,}; {year.code} {in_year:,}")
    results: dict = {"cases": manifest["cases"], "scope": in_scope, "quarter": quarter.code,
                     "in_quarter": in_quarter, "year": year.code, "in_year": in_year,
                     "engine": connection.vendor, "rows": {}}

    def page(url: str, cold: bool):
        def call(_i):
            if cold:
                cache.clear()
            r = client.get(url)
            if r.status_code != 200:
                raise RuntimeError(f"GET {url}: {r.status_code}")
        return call

    def rates_floor(start, end):
        def floor(_i):
            sql("SELECT township_id, COUNT(*), "
                "SUM(CASE WHEN accepted_at IS NOT NULL THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN state IN ('closed', 'archived') THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN rating <> '' THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN rating IN ('satisfied', 'basically') THEN 1 ELSE 0 END) "
                "FROM cases_case WHERE jurisdiction_id = %s AND received_at >= %s "
                "AND received_at < %s GROUP BY township_id", [county, start, end])
        return floor

    def record(name, label, t, f, q, loads, floor_sql):
        row = summary(t, f, q, loads, label=label, floor_sql=floor_sql)
        results["rows"][name] = row
        print(f"{label:<58} {row['median_ms']:>10,.0f} ms  floor {row['floor_ms'] or 0:>8,.1f} ms"
              f"  ×{row['ratio'] or 0:>7,.1f}  {q:>3} q  ({row['calls']} calls)")

    grouped = "one grouped count of the period's cases per township (CASE sums)"
    from xinfang.cases.selectors import cases_for
    from xinfang.web.supervision import page_figures, targets_for, unit_rates

    def rates(period, split):
        def call(_i):
            cache.clear()
            scope = cases_for(approver)
            start, end = period.bounds() if period else (None, None)
            # as the supervision page takes them: the kept sums, corrected (xinfang.figures)
            figures = page_figures(approver, scope, start=start, end=end)
            home = approver.unit.jurisdiction()
            targets_for(home, figures)
            unit_rates(home, figures, split=split)
        return call

    ever = parse("year", "2000").bounds()[0], parse("year", "2100").bounds()[1]
    for name, period, split in [("rates_all_unit", None, "unit"),
                                ("rates_q_unit", quarter, "unit"),
                                ("rates_q_town", quarter, "township"),
                                ("rates_y_unit", year, "unit")]:
        floor = rates_floor(*(period.bounds() if period else ever))
        t, f, q, loads = measure(rates(period, split), floor, repeat=repeat, budget=budget)
        record(name, f"rates only (totals + per {split}), {period.code if period else 'all'}"
               " (cold)", t, f, q, loads, grouped)
    if only == "rates":
        return results
    pages = [
        ("supervision_all", "/supervision/", None, "supervision page, all time, split by unit"),
        ("supervision_q_unit", f"/supervision/?kind=quarter&period={quarter.code}&split=unit",
         quarter, f"supervision, {quarter.code}, split by unit"),
        ("supervision_q_town",
         f"/supervision/?kind=quarter&period={quarter.code}&split=township", quarter,
         f"supervision, {quarter.code}, split by township"),
        ("supervision_y_unit", f"/supervision/?kind=year&period={year.code}&split=unit", year,
         f"supervision, {year.code}, split by unit"),
    ]
    for name, url, period, label in pages:
        floor = rates_floor(*(period.bounds() if period else ever))
        t, f, q, loads = measure(page(url, cold=True), floor, repeat=repeat, budget=budget)
        record(name, label + " (cold cache)", t, f, q, loads, grouped)
    t, f, q, loads = measure(page(pages[1][1], cold=False), rates_floor(lo, hi), repeat=repeat,
                             budget=budget)
    record("supervision_q_unit_warm", f"supervision, {quarter.code}, split by unit (warm cache)",
           t, f, q, loads, grouped)

    def report(kind, period):
        def call(_i):
            built = report_build(kind=kind, period=period, by=approver, via="bench")
            built.file.close()
        return call

    def quarterly_floor(start, end):
        def floor(_i):
            where = "c.jurisdiction_id = %s AND c.received_at >= %s AND c.received_at < %s"
            sql(f"SELECT d.category, COUNT(DISTINCT c.id) FROM cases_case c JOIN cases_demand d "
                f"ON d.case_id = c.id WHERE {where} GROUP BY d.category", [county, start, end])
            sql(f"SELECT c.township_id, COUNT(*) FROM cases_case c WHERE {where} "
                f"GROUP BY c.township_id", [county, start, end])
            sql("SELECT c.received_at FROM cases_case c WHERE c.jurisdiction_id = %s AND "
                "c.received_at >= %s AND c.received_at < %s", [county, start, end])
        return floor

    for name, kind, period, label in [
        ("quarterly", "quarterly", quarter, f"quarterly analysis DOCX + 3 charts, {quarter.code}"),
        ("monthly", "monthly", month, f"monthly bulletin DOCX, {month.code}"),
        ("scorecard", "scorecard", year, f"unit scorecard XLSX, {year.code}"),
    ]:
        t, f, q, loads = measure(report(kind, period), quarterly_floor(*period.bounds()),
                                 repeat=repeat, budget=budget)
        record(name, label, t, f, q, loads,
               "count per category, per township; the period's received_at")
    return results


def sql(query: str, params=()):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


if __name__ == "__main__":
    main()
