"""Install django-helpdesk 2.6.1 into a scratch virtualenv, load it, and run its side of the
benchmark (``helpdesk_bench.py``) — called by ``bench/run.py``. Nothing here is committed data:
the virtualenv and the databases live under ``var/bench/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BENCH_DIR = Path(os.environ.get("XINFANG_BENCH_DIR", ROOT / "var" / "bench"))
VENV = BENCH_DIR / "helpdesk-venv"
PG_SERVER = os.environ.get("XINFANG_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "bench_helpdesk"
REQUIREMENTS = ["django-helpdesk==2.6.1", "psycopg[binary]==3.3.9"]


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
                       check=True)
    return python


def database(engine: str, cases: int) -> str:
    if engine == "postgres":
        return f"{PG_SERVER}/{DB_NAME}"
    return f"sqlite:{BENCH_DIR / f'helpdesk-{cases}.sqlite3'}"


def recreate(engine: str, cases: int) -> None:
    if engine == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{BENCH_DIR / f'helpdesk-{cases}.sqlite3'}{suffix}").unlink(missing_ok=True)


def _call(python: Path, env: dict, *args: str) -> dict:
    out = subprocess.run([str(python), str(HERE / "helpdesk_bench.py"), *args], env=env,
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_peer(*, engine: str, cases: int, repeat: int, budget: float, only: str = "") -> dict:
    python = ensure_venv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "XINFANG_"))}
    env["HELPDESK_BENCH_DB"] = database(engine, cases)
    env["HELPDESK_BENCH_DIR"] = str(BENCH_DIR)
    marker = BENCH_DIR / f"helpdesk-{engine}.json"
    loaded = json.loads(marker.read_text()) if marker.exists() else {}
    if loaded.get("cases") != cases:
        recreate(engine, cases)
        print(f"# loading {cases} tickets into helpdesk on {engine} …", file=sys.stderr,
              flush=True)
        info = _call(python, env, "load", "--cases", str(cases))
        marker.write_text(json.dumps({"cases": cases, **info}))
    results = _call(python, env, "bench", "--repeat", str(repeat), "--budget", str(budget),
                    "--only", only)
    results["_load"] = json.loads(marker.read_text())
    return results
