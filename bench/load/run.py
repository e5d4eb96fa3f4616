"""The load test: gunicorn + the worker + PostgreSQL on the loopback, N simulated users.

    python -m bench.load.run --database-url postgres://postgres@127.0.0.1:5432/xinfang_load \\
        [--users 50] [--duration 300] [--think 1.0] [--web-workers 5] [--setup]

(``make bench-load DATABASE_URL=… LOAD_ARGS="--duration 60"``.) Runs exactly what ``make serve``
runs — ``xinfang.settings.production`` (DEBUG off, secure cookies, HTTPS behind the trusted proxy
on the loopback), collected static files, gunicorn with ``xinfang.gunicorn_conf`` — with its own
``var/load`` directory (keys, secret, static). ``--setup`` migrates the database and loads the
demo jurisdiction and the simulated users first (once per database).

Afterwards it checks that the case numbers are gap-free (bench/load/check.py), prints a table of
median and p95 per request kind, errors, conflicts, throughput and the load average, and writes
it all as JSON (``--out``, default ``var/load/result-<UTC time>.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .users import run_users

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Load#2026bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(var: Path, database_url: str, port: int) -> dict[str, str]:
    var.mkdir(parents=True, exist_ok=True)
    secret = var / "secret_key"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(50))
        secret.chmod(0o600)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "xinfang.settings.production",
        "DATABASE_URL": database_url,
        "XINFANG_SECRET_KEY": secret.read_text().strip(),
        "XINFANG_ALLOWED_HOSTS": "127.0.0.1",
        "XINFANG_TRUSTED_PROXIES": "127.0.0.1",
        "XINFANG_VAR_DIR": str(var),
        "XINFANG_BIND": f"127.0.0.1:{port}",
        "XINFANG_ACCESS_LOG": str(var / "access.log"),
    }


def xinfang(env, *args, capture=False) -> str:
    cmd = [sys.executable, "-m", "xinfang.cli", *args]
    done = subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


def wait_for(url_host: str, port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection((url_host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not start listening in time")


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds (default 5 minutes)")
    ap.add_argument("--think", type=float, default=1.0,
                    help="mean pause between a user's requests, seconds (0: none)")
    ap.add_argument("--web-workers", type=int, default=os.cpu_count() * 2 + 1)
    ap.add_argument("--setup", action="store_true", help="migrate, demo data and users first")
    ap.add_argument("--var", default=str(ROOT / "var" / "load"))
    ap.add_argument("--out", default="")
    ap.add_argument("--label", default="")
    args = ap.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        ap.error("--database-url (or DATABASE_URL) must name a PostgreSQL database")
    var = Path(args.var)
    port = free_port()
    env = environment(var, args.database_url, port)
    if not (var / "keys" / "xinfang-keys.json").exists():
        xinfang(env, "keys", "create")
    from .setup_db import mix

    if args.setup:
        users = json.loads(subprocess.run(
            [sys.executable, "-m", "bench.load.setup_db", str(args.users), PASSWORD],
            env=env, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE,
        ).stdout)
    else:
        users = [{"username": f"load_{role}_{i:02d}", "role": role, "index": i, "of": n}
                 for role, n in mix(args.users).items() for i in range(n)]
    xinfang(env, "collectstatic", "--noinput", "--verbosity", "0")
    xinfang(env, "check", "--deploy", "--fail-level", "WARNING")
    before = json.loads(subprocess.run(
        [sys.executable, "-m", "bench.load.check"], env=env, cwd=ROOT, text=True,
        stdout=subprocess.PIPE).stdout)
    web_env = {**env, "XINFANG_WEB_WORKERS": str(args.web_workers)}
    procs = {
        "web": subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:xinfang.gunicorn_conf",
             "xinfang.wsgi:application"], env=web_env, cwd=ROOT, start_new_session=True),
        "worker": subprocess.Popen(
            [sys.executable, "-m", "xinfang.cli", "worker", "--verbosity", "0"],
            env=env, cwd=ROOT, start_new_session=True),
    }
    try:
        wait_for("127.0.0.1", port, procs["web"])
        load_before = os.getloadavg()
        started = time.monotonic()
        stats = asyncio.run(run_users(f"http://127.0.0.1:{port}", users, PASSWORD,
                                      duration=args.duration, think=args.think))
        wall = time.monotonic() - started
        load_after = os.getloadavg()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    check = subprocess.run([sys.executable, "-m", "bench.load.check"], env=env, cwd=ROOT,
                           text=True, stdout=subprocess.PIPE)
    after = json.loads(check.stdout)
    total = sum(len(v) for v in stats.times.values())
    errors = sum(stats.errors.values())
    kinds = {}
    for kind, values in sorted(stats.times.items()):
        kinds[kind] = {
            "n": len(values),
            "median_ms": round(statistics.median(values) * 1000),
            "p95_ms": round(pct(values, 95) * 1000),
            "errors": stats.errors.get(kind, 0),
            "conflicts": stats.conflicts.get(kind, 0),
        }
    result = {
        "label": args.label,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": args.users, "duration_s": args.duration, "wall_s": round(wall, 1),
        "think_s": args.think, "web_workers": args.web_workers, "cpus": os.cpu_count(),
        "requests": total, "errors": errors, "error_rate": errors / max(1, total + errors),
        "throughput_rps": round(total / wall, 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "kinds": kinds, "error_samples": stats.samples,
        "cases_before": before.get("cases"), "cases_after": after.get("cases"),
        "numbering": after,
    }
    out = Path(args.out or var / f"result-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json")
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"\n{args.users} users, {wall:.0f} s, {total} requests ({result['throughput_rps']}/s), "
          f"errors {errors}, load {load_before[0]:.1f} → {load_after[0]:.1f}")
    print("| kind | n | median ms | p95 ms | errors | conflicts (409) |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, k in kinds.items():
        print(f"| {kind} | {k['n']} | {k['median_ms']} | {k['p95_ms']} | {k['errors']} "
              f"| {k['conflicts']} |")
    print(f"cases {before.get('cases')} → {after.get('cases')}; numbering gaps: "
          f"{after.get('gaps')}")
    for s in stats.samples:
        print("  error:", s)
    print(f"written to {out}")
    return 1 if errors or check.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
