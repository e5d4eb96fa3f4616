"""Benchmark: the supervisor's practices (issue 17) on a generated province (``bench/generate.py``).

    .venv/bin/python bench/bench_oversight.py var/bench/manifest-postgres-20000.json [--repeat 7]

Acts as the busy county's approver. Marks a third of the county's accepted cases as proxied, gives
every second closed case a passed review (and every fifth a failed first round), and issues 2,000
supervision orders (half on cases) — then times, as medians beside a floor timed alternately:

- ``counts``: every count of ``xinfang.cases.rates`` over the county's cases of the year (one
  aggregate, now with the proxy and review EXISTS probes), floor: the same call without the six
  issue-17 counts (what it cost before);
- ``summary``: the supervision page's oversight section (``supervision_summary``), floor: one
  bare grouped COUNT of the orders per unit;
- ``index``: the /oversight/ page of the office (lists of 50), floor: the same orders list read
  by one bare SELECT of 50 rows.

The rows it adds stay in the (throwaway) bench database.
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


def sql(query: str, params=()):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def seed(county: int, approver) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from xinfang.cases.models import Case
    from xinfang.org.models import Unit
    from xinfang.oversight.models import CaseReview, ProxyHandling, SupervisionOrder

    if ProxyHandling.objects.exists():
        return {"seeded": False}
    now = timezone.now()
    cases = Case.objects.filter(jurisdiction_id=county)
    accepted = list(cases.filter(accepted_at__isnull=False).values_list("pk", flat=True))
    closed = list(cases.filter(state__in=["closed", "archived"]).values_list("pk", flat=True))
    units = list(Unit.objects.filter(path__startswith=approver.unit.jurisdiction().path)
                 .values_list("pk", flat=True)[:50])
    user = approver.user
    ProxyHandling.objects.bulk_create(
        [ProxyHandling(case_id=pk, agent=user, agent_unit_id=units[0], helps=["全域代办"],
                       taken_by=user, taken_at=now) for pk in accepted[::3]], batch_size=2000)
    reviews = []
    for i, pk in enumerate(closed[::2]):
        if i % 5 == 0:
            reviews.append(CaseReview(case_id=pk, round=1, points={}, passed=False, by=user,
                                      role="clerk", unit_id=units[0], at=now))
        reviews.append(CaseReview(case_id=pk, round=2 if i % 5 == 0 else 1, points={},
                                  passed=True, by=user, role="clerk", unit_id=units[0], at=now))
    CaseReview.objects.bulk_create(reviews, batch_size=2000)
    home = approver.unit.jurisdiction()
    SupervisionOrder.objects.bulk_create([SupervisionOrder(
        jurisdiction=home, case_id=accepted[i] if i % 2 == 0 and i < len(accepted) else None,
        unit_id=units[i % len(units)], matter="督办", due_at=now + timedelta(days=(i % 20) - 10),
        issued_by=user, issued_role="inspector", issued_unit_id=units[0], issued_at=now)
        for i in range(2000)], batch_size=2000)
    return {"seeded": True, "proxied": len(accepted[::3]), "reviewed": len(closed[::2]),
            "orders": 2000}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("manifest")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--budget", type=float, default=60.0)
    args = p.parse_args()
    manifest = json.loads(Path(args.manifest).read_text())
    os.environ["XINFANG_BENCH_DB"] = manifest["database"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from bench.workloads import measure, summary
    from xinfang.cases import rates
    from xinfang.cases.selectors import cases_for
    from xinfang.org.models import Membership, User
    from xinfang.oversight.selectors import supervision_summary
    from xinfang.reports.periods import parse

    county = manifest["busy_county"]["unit"]
    user = User.objects.get(username="approver")
    approver = Membership.objects.filter(user=user, is_active=True).select_related("unit").first()
    seeded = seed(county, approver)
    year = parse("year", str(timezone.localdate().year))
    lo, hi = year.bounds()
    scope = rates.in_period(cases_for(approver), lo, hi)
    in_year = scope.count()
    print(f"# {timezone.now():%Y-%m-%d %H:%M} · {connection.vendor} · "
          f"{platform.python_version()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    print(f"# {manifest['cases']:,} cases; the approver's year {in_year:,}; {seeded}")
    new = {"proxy_closed", "proxy_rated", "proxy_satisfied", "reviewed", "review_passed",
           "resolved_passed"}
    old = {k: v for k, v in rates._aggregates().items() if k not in new}
    out: dict = {"cases": manifest["cases"], "in_year": in_year, "rows": {}}

    def run(name, call, floor):
        t, f, q, loads = measure(call, floor, repeat=args.repeat, budget=args.budget)
        row = summary(t, f, q, loads)
        out["rows"][name] = row
        print(f"{name:8} median {row['median_ms']:>9.1f} ms  floor {row['floor_ms']:>9.1f} ms  "
              f"×{row['ratio']}  queries {q}  load {row['load']}")

    run("counts", lambda _i: rates.counts(scope),
        lambda _i: scope.order_by().aggregate(**old))
    from xinfang.oversight.models import SupervisionOrder

    now = timezone.now()
    run("summary", lambda _i: supervision_summary(approver, cases_for(approver), now, lo, hi),
        lambda _i: list(SupervisionOrder.objects.values("unit_id").annotate(n=Count("pk"))))
    client = Client()
    client.force_login(user)
    session = client.session
    session["membership_id"] = approver.pk
    session.save()

    def index(_i):
        r = client.get("/oversight/")
        if r.status_code != 200:
            raise RuntimeError(r.status_code)

    run("index", index, lambda _i: sql(
        "SELECT * FROM oversight_supervisionorder ORDER BY issued_at DESC, id DESC LIMIT 50"))
    target = ROOT / "var" / "bench" / f"oversight-{manifest['engine']}-{manifest['cases']}.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    print(f"written to {target}")


if __name__ == "__main__":
    main()
