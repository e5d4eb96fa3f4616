"""Generate a province's worth of realistic data into a freshly migrated database.

    .venv/bin/python bench/generate.py --cases 200000 --engine postgres   # database bench_xf
    .venv/bin/python bench/generate.py --cases 20000 --engine sqlite      # var/bench/…sqlite3

The database is dropped and re-created (PostgreSQL: ``--db-name``, never ``test``; SQLite: the
file under ``var/bench/``), migrated by Django, then filled in bulk (see ``datagen/writer.py``)
and analysed. The identity data is encrypted under ``var/bench/keys.json`` with the product's
own key ring. A manifest (``var/bench/manifest-<engine>-<cases>.json``) records what was made,
how long each part took, and the ids the benchmark acts on (``bench/run.py`` reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = Path(os.environ.get("XINFANG_BENCH_DIR", ROOT / "var" / "bench"))
PG_SERVER = os.environ.get("XINFANG_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def database_url(engine: str, cases: int, db_name: str) -> str:
    if engine == "postgres":
        return f"{PG_SERVER}/{db_name}"
    return f"sqlite:{BENCH_DIR / f'xinfang-{cases}.sqlite3'}"


def manifest_path(engine: str, cases: int) -> Path:
    return BENCH_DIR / f"manifest-{engine}-{cases}.json"


def set_up_on(engine: str, cases: int, database: str | None = None) -> dict:
    """Django set up on the generated data of ``engine`` and ``cases`` (or on ``database``, a copy
    of it: ``postgres://…`` or ``sqlite:/path``); the data's manifest."""
    manifest = json.loads(manifest_path(engine, cases).read_text())
    os.environ["XINFANG_BENCH_DB"] = database or manifest["database"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    return manifest


def recreate(engine: str, cases: int, db_name: str) -> None:
    if engine == "postgres":
        if db_name in ("test", "postgres", "template0", "template1"):
            raise SystemExit(f"--db-name {db_name!r}: refusing to drop a shared database")
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
    else:
        path = BENCH_DIR / f"xinfang-{cases}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--database", default="default", help="Django database alias to load into")
    p.add_argument("--db-name", help="PostgreSQL database, re-created (default bench_xf_<cases>)")
    p.add_argument("--counties", type=int, default=150)
    p.add_argument("--townships", type=int, default=16, help="townships per county")
    p.add_argument("--years", type=float, default=4.0, help="the cases arrive over these years")
    p.add_argument("--busy-share", type=float, default=0.1,
                   help="share of all cases in the busy county (建安区, the demo users')")
    p.add_argument("--people-ratio", type=float, default=0.6,
                   help="distinct petitioners available per case (repeat petitioners re-use)")
    p.add_argument("--max-people", type=int, default=200_000,
                   help="cap on distinct petitioners (each costs three SM4-GCM encryptions)")
    p.add_argument("--trail-days", type=float, default=365.0,
                   help="days of audit trail before now (reads, sign-ins, exports); 0: none")
    p.add_argument("--no-analyze", action="store_true")
    args = p.parse_args(argv)
    args.db_name = args.db_name or f"bench_xf_{args.cases}"

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["XINFANG_BENCH_DB"] = database_url(args.engine, args.cases, args.db_name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    timings: dict[str, float] = {}
    began = time.perf_counter()
    recreate(args.engine, args.cases, args.db_name)

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.datagen import fill

    call_command("migrate", database=args.database, verbosity=0)
    timings["migrate_s"] = time.perf_counter() - began
    filled = fill(alias=args.database, cases=args.cases, seed=args.seed, now=timezone.now(),
                  counties=args.counties, townships=args.townships, years=args.years,
                  busy_share=args.busy_share, people_ratio=args.people_ratio,
                  max_people=args.max_people, analyze=not args.no_analyze,
                  trail_days=args.trail_days)
    timings.update(filled.timings)
    timings["total_s"] = time.perf_counter() - began
    tree, gen, loader = filled.tree, filled.generator, filled.loader
    stats, now = gen.stats, gen.now

    busy = tree.counties[0]
    manifest = {
        "engine": args.engine,
        "database": os.environ["XINFANG_BENCH_DB"],
        "cases": args.cases,
        "seed": args.seed,
        "generated_at": now.isoformat(),
        "rows": {t.model._meta.db_table: t.count for t in loader.tables},
        "people": stats.people,
        "by_state": stats.by_state,
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "cases_per_second": round(args.cases / timings["total_s"], 1),
        "units": len(tree.units),
        "counties": len(tree.counties),
        "busy_county": {
            "unit": busy.unit, "name": busy.name, "users": busy.users,
            "township": busy.townships[0], "village": busy.villages[busy.townships[0]][0],
            "long_history": gen.busy["long_history"][:20],
            "registered": gen.busy["registered"][-400:],
            "signed_off": gen.busy["signed_off"][-400:],
            "open": gen.busy["open"][:200],
        },
        "categories": gen.categories,
    }
    manifest_path(args.engine, args.cases).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1))
    print(json.dumps({k: manifest[k] for k in ("engine", "cases", "people", "rows", "timings",
                                               "cases_per_second")}, ensure_ascii=False))
    return manifest


if __name__ == "__main__":
    main()
