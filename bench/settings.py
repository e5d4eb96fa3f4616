"""Settings for the benchmarks: the product's own settings with a database chosen by
``XINFANG_BENCH_DB`` — ``postgres://…/bench_xf`` or ``sqlite:var/bench/xinfang-20000.sqlite3`` —
and a key file of its own under ``var/bench/`` (generated data is encrypted under it).

Everything else (middleware, views, hashers of stored passwords aside) is the product's, so what
the benchmark drives is what an office runs.
"""

import json
import os
from pathlib import Path

from xinfang.settings.base import *  # noqa: F403
from xinfang.settings.base import BASE_DIR, database_from_url, sqlite_database

BENCH_DIR = Path(os.environ.get("XINFANG_BENCH_DIR", BASE_DIR / "var" / "bench"))
SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
XINFANG_KEY_FILE = BENCH_DIR / "keys.json"
XINFANG_KEY_AUTOCREATE = True
ATTACHMENT_ROOT = BENCH_DIR / "attachments"
MEDIA_ROOT = BENCH_DIR / "media"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Generated users share one password hash computed once; MD5 keeps force_login-free paths cheap.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bench_database(url: str) -> dict:
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:").removeprefix("//"))
        return sqlite_database(path if path.is_absolute() else BASE_DIR / path)
    db = database_from_url(url)
    db["CONN_MAX_AGE"] = None
    # To compare connection options on the same data, e.g. '{"prepare_threshold": null}'
    # (bench/plan_statements.py, PERFORMANCE.md plan10). The product's own prepared statements
    # are on unless XINFANG_PG_PREPARE=0 (settings.base.PREPARED_STATEMENTS).
    db["OPTIONS"].update(json.loads(os.environ.get("XINFANG_BENCH_DB_OPTIONS") or "{}"))
    return db


DATABASES = {
    "default": bench_database(
        os.environ.get("XINFANG_BENCH_DB", f"sqlite:{BENCH_DIR / 'xinfang.sqlite3'}")
    )
}
