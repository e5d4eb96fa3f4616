"""The production settings and a real gunicorn serving them (``make serve``'s path):

- ``xinfang check --deploy`` is clean with the required environment, and fails — naming what is
  missing — without it; ``xinfang.wsgi`` defaults to these settings, not the demo's;
- a live gunicorn (``xinfang.gunicorn_conf``, DEBUG off) on a free loopback port serves the
  collected static files through WhiteNoise, with long caching under hashed names and gzip;
  answers 404 without listing URLs; redirects plain HTTP to HTTPS except the monitor's
  ``/healthz``, which says 503 when the database cannot be reached.

The database named is a closed port: nothing here needs one, and /healthz must notice.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE_CSS = ROOT / "xinfang" / "web" / "static" / "web" / "css" / "site.css"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prod_env(var: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XINFANG_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="xinfang.settings.production",
        XINFANG_SECRET_KEY="production-test-" + "x" * 50,
        DATABASE_URL=f"postgres://nobody@127.0.0.1:{free_port()}/nothing",
        XINFANG_ALLOWED_HOSTS="127.0.0.1,xinfang.example",
        XINFANG_TRUSTED_PROXIES="127.0.0.1",
        XINFANG_VAR_DIR=str(var),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def xinfang(env, *args):
    return subprocess.run([sys.executable, "-m", "xinfang.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_check_deploy_is_clean(tmp_path):
    done = xinfang(prod_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize("name", ["XINFANG_SECRET_KEY", "DATABASE_URL", "XINFANG_ALLOWED_HOSTS"])
def test_a_missing_variable_is_named(tmp_path, name):
    done = xinfang(prod_env(tmp_path, **{name: None}), "check", "--deploy")
    assert done.returncode != 0
    assert f"{name} is not set" in done.stderr


def test_plain_http_does_not_pass_the_deploy_check(tmp_path):
    done = xinfang(prod_env(tmp_path, XINFANG_HTTPS="0"), "check", "--deploy",
                   "--fail-level", "WARNING")
    assert done.returncode != 0
    assert "SESSION_COOKIE_SECURE" in done.stderr + done.stdout


def test_wsgi_defaults_to_the_production_settings(tmp_path):
    env = prod_env(tmp_path, DJANGO_SETTINGS_MODULE=None, XINFANG_SECRET_KEY=None)
    done = subprocess.run([sys.executable, "-c", "import xinfang.wsgi"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "XINFANG_SECRET_KEY is not set: production settings" in done.stderr
    env = prod_env(tmp_path, DJANGO_SETTINGS_MODULE=None)
    done = subprocess.run(
        [sys.executable, "-c",
         "import xinfang.wsgi; from django.conf import settings; print(settings.DEBUG)"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("prod-var")
    port = free_port()
    env = prod_env(var, XINFANG_BIND=f"127.0.0.1:{port}", XINFANG_WEB_WORKERS="1")
    done = xinfang(env, "collectstatic", "--noinput", "-v", "0")
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:xinfang.gunicorn_conf",
         "xinfang.wsgi:application"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"gunicorn did not start:\n{proc.stdout.read()}")
            time.sleep(0.3)
    yield port, var
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def fetch(port, path, *, https=True, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Host": "127.0.0.1", **(headers or {})}
    if https:
        h["X-Forwarded-Proto"] = "https"  # as the TLS proxy on the loopback sends it
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def test_static_files_are_served_with_debug_off(server):
    port, var = server
    status, headers, body = fetch(port, "/static/web/css/site.css")
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert body == SITE_CSS.read_bytes()


def test_hashed_names_are_cached_for_long_and_gzipped(server):
    port, var = server
    manifest = json.loads((var / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["web/js/site.js"]
    assert hashed != "web/js/site.js"
    status, headers, _ = fetch(port, f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "immutable" in headers["cache-control"]
    assert headers.get("content-encoding") == "gzip"


def test_not_found_lists_no_urls(server):
    port, _ = server
    status, _, body = fetch(port, "/no/such/page/")
    assert status == 404
    text = body.decode()
    assert "URLconf" not in text and "urlpatterns" not in text.lower()


def test_plain_http_is_redirected_but_healthz_answers(server):
    port, _ = server
    status, headers, _ = fetch(port, "/login/", https=False)
    assert status == 301 and headers["location"] == "https://127.0.0.1/login/"
    status, headers, body = fetch(port, "/healthz", https=False)
    assert status == 503
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["checks"]["database"]["ok"] is False


def test_the_master_freezes_the_loaded_application_before_forking_a_worker():
    import gc

    from xinfang import gunicorn_conf

    gc.unfreeze()
    try:
        gunicorn_conf.pre_fork(None, None)
        assert gc.get_freeze_count() > 10_000  # Django and the apps, loaded by the test run
    finally:
        gc.unfreeze()
