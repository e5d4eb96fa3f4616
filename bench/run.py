"""The benchmark: xinfang on SQLite and PostgreSQL at one data size, beside django-helpdesk 2.6.1.

    .venv/bin/python bench/generate.py --cases 20000 --engine sqlite     # once per size/engine
    .venv/bin/python bench/generate.py --cases 20000 --engine postgres
    .venv/bin/python bench/run.py --cases 20000                           # both engines + peer

For each engine whose generated data exists (``var/bench/manifest-<engine>-<cases>.json``) a
worker process drives the product (``bench/workloads.py``, ``bench/tasks.py``); then the peer
(``bench/peer/``) is installed into a scratch virtualenv, loaded with the same number of tickets
and driven the same way. Prints a markdown table and writes ``var/bench/results-<cases>.json``.

The two sides run one after the other, and this host's speed drifts over minutes: to compare one
workload, alternate short runs (``--only register``, several times) rather than trust one pair.

Writes change the data (registrations, proposals, alerts raised by the sweep): re-generate for a
clean "first sweep" figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.generate import BENCH_DIR, manifest_path  # noqa: E402

ORDER = ["register", "register_minimal", "transition", "transition_minimal", "frame", "work_queue",
         "ledger", "ledger_filtered", "ledger_overdue", "ledger_search", "api_list", "api_search",
         "supervision", "case_page", "sweep_first", "sweep_steady", "export",
         "sweep_timeout", "export_timeout"]


def worker(args) -> None:
    manifest = json.loads(manifest_path(args.engine, args.cases).read_text())
    os.environ["XINFANG_BENCH_DB"] = manifest["database"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    from bench.workloads import run

    skip = set(args.skip.split(",")) if args.skip else set()
    only = set(args.only.split(",")) if args.only else None
    results = run(manifest, repeat=args.repeat, budget=args.budget, skip=skip,
                  sweep_timeout=args.task_timeout, only=only)
    print(json.dumps(results, ensure_ascii=False))


def cell(r: dict | None) -> str:
    if not r:
        return "—"
    if r.get("skipped"):
        return f"not run ({r['note']})"
    if r.get("status") == "timeout":
        return f"> {r['median_ms'] / 1000:.0f} s (stopped)"
    med = r["median_ms"]
    text = f"{med:,.0f} ms" if med >= 10 else f"{med:.1f} ms"
    if r.get("p95_ms"):
        text += f" (p95 {r['p95_ms']:,.0f})"
    if r.get("ratio") is not None:
        text += f" · {r['ratio']}× floor"
    if r.get("replay_ratio") is not None:
        text += f" · {r['replay_ratio']}× own SQL"
    if r.get("queries") is not None:
        text += f" · {r['queries']:,} q"
    if r.get("rss_mb"):
        text += f" · {r['rss_mb']:.0f} MB"
        if r.get("floor_rss_mb"):
            text += f" (floor {r['floor_rss_mb']:.0f} MB)"
    return text


def table(results: dict, cases: int) -> str:
    columns = [k for k in ("xinfang sqlite", "xinfang postgres", "helpdesk sqlite",
                           "helpdesk postgres") if k in results]
    lines = [f"| workload ({cases:,} cases) | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]
    names = [n for n in ORDER if any(n in results[c] for c in columns)]
    for name in names:
        label = next(results[c][name]["label"] for c in columns if name in results[c]
                     and results[c][name].get("label"))
        lines.append(f"| {label} | " + " | ".join(cell(results[c].get(name)) for c in columns)
                     + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=20_000)
    p.add_argument("--engines", default="sqlite,postgres")
    p.add_argument("--repeat", type=int, default=20, help="calls per workload (at most)")
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds per workload after which no new call starts (3 calls at least)")
    p.add_argument("--task-timeout", type=float, default=900.0,
                   help="seconds the sweep or the export may take before it is stopped")
    p.add_argument("--skip", default="", help="workloads to leave out, comma-separated")
    p.add_argument("--only", default="", help="run only these workloads, comma-separated (the "
                   "peer too: register, ledger, ledger_search, api_list)")
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--out", type=Path)
    p.add_argument("--render", type=Path, nargs="+", metavar="JSON",
                   help="print the table of earlier results files (merged) and exit")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--engine", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    if args.render:
        merged: dict[str, dict] = {}
        for path in args.render:
            doc = json.loads(path.read_text())
            merged.update(doc["results"])
            print(f"# {path.name}: {doc['meta']['started']} → {doc['meta']['finished']}, load "
                  f"{doc['meta']['load_before'][0]}→{doc['meta']['load_after'][0]}")
        print(table(merged, args.cases))
        return

    started = datetime.now(UTC)
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    for engine in args.engines.split(","):
        if not manifest_path(engine, args.cases).exists():
            print(f"# no {engine} data at {args.cases} cases: run bench/generate.py --cases "
                  f"{args.cases} --engine {engine}", file=sys.stderr)
            continue
        print(f"# xinfang on {engine} …", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--worker", "--engine", engine, "--cases",
               str(args.cases), "--repeat", str(args.repeat), "--budget", str(args.budget),
               "--task-timeout", str(args.task_timeout), "--skip", args.skip, "--only", args.only]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
        results[f"xinfang {engine}"] = json.loads(out.strip().splitlines()[-1])
    if not args.no_peer:
        from bench.peer.driver import run_peer

        for engine in args.engines.split(","):
            print(f"# helpdesk on {engine} …", file=sys.stderr, flush=True)
            try:
                results[f"helpdesk {engine}"] = run_peer(
                    engine=engine, cases=args.cases, repeat=args.repeat, budget=args.budget,
                    only=args.only)
            except Exception as e:  # the peer failing must not lose xinfang's figures
                print(f"# helpdesk on {engine} failed: {e}", file=sys.stderr)
    load_after = os.getloadavg()
    meta = {
        "date": started.date().isoformat(), "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(), "cases": args.cases,
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        "python": platform.python_version(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE).stdout.strip(),
        "databases": {e: json.loads(manifest_path(e, args.cases).read_text())["database"]
                      for e in args.engines.split(",") if manifest_path(e, args.cases).exists()},
    }
    out = args.out or BENCH_DIR / f"results-{args.cases}-{int(time.time())}.json"
    out.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1))
    print(f"\n{meta['date']} · {meta['machine']} · Python {meta['python']} · commit "
          f"{meta['commit']} · load {meta['load_before'][0]}→{meta['load_after'][0]}\n")
    print(table(results, args.cases))
    print(f"\n(JSON: {out})")


if __name__ == "__main__":
    main()
