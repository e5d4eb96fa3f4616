"""Static files with DEBUG off, in process: WhiteNoise answers them (from the apps' static
directories under the test and demo settings; collected under production — test_production.py
runs that one through a live gunicorn). Before, DEBUG off meant 404 and pages without CSS/JS."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "xinfang" / "web" / "static"


@pytest.mark.parametrize("name, kind", [
    ("web/css/site.css", "text/css"),
    ("web/js/site.js", "text/javascript"),
    ("web/vendor/htmx.min.js", "text/javascript"),
    ("web/img/favicon.svg", "image/svg+xml"),
])  # fmt: skip
def test_static_files_answer_with_debug_off(client, name, kind):
    assert settings.DEBUG is False
    r = client.get(f"/static/{name}")
    assert r.status_code == 200
    assert r["Content-Type"].startswith(kind)
    assert b"".join(r.streaming_content) == (STATIC / name).read_bytes()


def test_an_unknown_static_file_is_404(client):
    assert client.get("/static/web/css/nothing.css").status_code == 404


@pytest.mark.django_db
def test_every_page_asset_is_served(client):
    """The login page's stylesheet, scripts and icon, as its HTML names them."""
    import re

    html = client.get("/login/").content.decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(assets) >= 4
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_collectstatic_collects_what_the_pages_name(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    for name in ("web/css/site.css", "web/js/site.js", "web/vendor/htmx.min.js"):
        assert (tmp_path / name).exists() and (tmp_path / f"{name}.gz").exists()
