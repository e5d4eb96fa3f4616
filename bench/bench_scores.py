"""Benchmark: unit scores, goal metrics and the category suggestion (issue 17, scores17) on a
generated province (``bench/generate.py``).

    .venv/bin/python bench/bench_scores.py var/bench/manifest-postgres-200000.json [--repeat 5]

Acts as the busy county's approver. The generated county runs jianan's profile (goals, no
scoring); for the scores the county is switched to lihai's (six points of seed 004 §二(七)) and
switched back at the end. Medians beside a raw floor timed alternately in the same run: one
grouped count of the period's cases per township with the flags as CASE sums (what any ranking
must read at least once).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("manifest")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--budget", type=float, default=60.0)
    args = p.parse_args()
    manifest = json.loads(Path(args.manifest).read_text())
    os.environ["XINFANG_BENCH_DB"] = manifest["database"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    results = run(manifest, repeat=args.repeat, budget=args.budget)
    out = ROOT / "var" / "bench" / f"scores-{manifest['engine']}-{manifest['cases']}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\nwritten to {out}")


def sql(query: str, params=()):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def run(manifest: dict, *, repeat: int, budget: float) -> dict:
    from django.db import connection
    from django.utils import timezone

    from bench.workloads import measure, summary
    from xinfang.classify.services import category_suggest
    from xinfang.org.models import Membership, Unit, User
    from xinfang.reports.outputs import profile_for
    from xinfang.reports.periods import containing, parse
    from xinfang.rules.profile import shipped_profiles
    from xinfang.scoring.goals import goal_results
    from xinfang.scoring.points import unit_scores
    from xinfang.scoring.services import scores_bulletin_build

    county = manifest["busy_county"]["unit"]
    user = User.objects.get(username="approver")
    approver = Membership.objects.filter(user=user, is_active=True).select_related("unit").first()
    now = timezone.now()
    quarter = containing("quarter", timezone.localdate()).previous()
    year = parse("year", str(timezone.localdate().year))
    in_scope = sql("SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s", [county])[0][0]
    print(f"# {now:%Y-%m-%d %H:%M} · {connection.vendor} · {platform.python_version()} · "
          f"{os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    print(f"# {manifest['cases']:,} cases; the approver's county {in_scope:,}")
    results: dict = {"cases": manifest["cases"], "scope": in_scope, "rows": {}}

    def floor_for(period):
        lo, hi = period.bounds()

        def floor(_i):
            sql("SELECT township_id, COUNT(*), "
                "SUM(CASE WHEN level_skipping THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN repeat_count > 0 THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN rating = 'unsatisfied' THEN 1 ELSE 0 END) "
                "FROM cases_case WHERE jurisdiction_id = %s AND received_at >= %s "
                "AND received_at < %s GROUP BY township_id", [county, lo, hi])
        return floor

    def record(name, label, t, f, q, loads, **extra):
        row = summary(t, f, q, loads, label=label, **extra)
        results["rows"][name] = row
        print(f"{label:<52} {row['median_ms']:>9,.0f} ms  floor {row['floor_ms'] or 0:>8,.1f} ms"
              f"  ×{row['ratio'] or 0:>6,.1f}  {q:>3} q  ({row['calls']} calls)")

    before = Unit.objects.get(pk=county).profile_code
    Unit.objects.filter(pk=county).update(profile_code="lihai")
    try:
        profile = profile_for(approver)
        for period in (quarter, year):
            lo, hi = period.bounds()
            n = sql("SELECT COUNT(*) FROM cases_case WHERE jurisdiction_id = %s AND "
                    "received_at >= %s AND received_at < %s", [county, lo, hi])[0][0]
            units = []

            def call(_i, period=period, units=units):
                units[:] = unit_scores(by=approver, profile=profile, period=period,
                                       as_of=now).units

            t, f, q, loads = measure(call, floor_for(period), repeat=repeat, budget=budget)
            record(f"scores_{period.kind}", f"unit scores {period.code} ({n:,} cases)", t, f, q,
                   loads, cases_in_period=n, units=len(units))

        def bulletin(_i):
            scores_bulletin_build(by=approver, period=year, fmt="docx", now=now,
                                  via="bench").file.close()

        t, f, q, loads = measure(bulletin, floor_for(year), repeat=repeat, budget=budget)
        record("bulletin_docx_year", f"ranking bulletin DOCX {year.code} (scores + goals)", t, f,
               q, loads)
    finally:
        Unit.objects.filter(pk=county).update(profile_code=before)
    jianan = profile_for(approver)
    for period in (quarter, year):
        def goals(_i, period=period):
            goal_results(by=approver, profile=jianan, period=period, now=now)

        t, f, q, loads = measure(goals, floor_for(period), repeat=repeat, budget=budget)
        record(f"goals_{period.kind}", f"goal metrics {period.code} vs last year", t, f, q,
               loads)
    henan = shipped_profiles()["henan"]  # received + backlog (a count per month-end)
    t, f, q, loads = measure(lambda _i: goal_results(by=approver, profile=henan, period=year,
                                                     now=now),
                             floor_for(year), repeat=repeat, budget=budget)
    record("goals_backlog_year", f"goal metrics incl. backlog {year.code}", t, f, q, loads)
    texts = ["家里房子漏雨申请危房改造没批", "低保被取消了要求说明理由", "护林员工资拖欠半年"] * 100
    began = time.perf_counter()
    for text in texts:
        category_suggest(text=text, categories=jianan.categories)
    per = (time.perf_counter() - began) / len(texts) * 1000
    results["rows"]["suggest"] = {"median_ms": round(per, 3), "calls": len(texts)}
    print(f"{'category suggestion (mean of 300)':<52} {per:>9,.2f} ms")
    return results


if __name__ == "__main__":
    main()
