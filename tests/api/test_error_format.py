"""One error shape under /api/ for every kind of error: {"code", "detail", "errors"} — JSON, never
an HTML page — naming the input at fault (a body field, a query parameter or a header)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client

from tests.api.test_cases_api import REGISTRATION, post
from tests.api.tokens import bearer, token_for
from tests.api.world import client_as, walk


def shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"code", "detail", "errors"}, body
    assert body["code"] == code and body["detail"] and isinstance(body["errors"], dict), body
    return body


def test_a_field_error(jianan):
    response = client_as(jianan.member("clerk")).post(
        "/api/cases/", {**REGISTRATION, "matter": " "}, format="json")
    body = shape(response, 400, "invalid")
    assert "matter" in body["errors"] and "matter" in body["detail"]


def test_a_parse_error_names_the_body(jianan):
    response = client_as(jianan.member("clerk")).post(
        "/api/cases/", data='{"channel": "visit",', content_type="application/json")
    assert "body" in shape(response, 400, "parse_error")["errors"]


def test_a_body_that_is_not_an_object_names_the_body(jianan):
    response = client_as(jianan.member("clerk")).post("/api/cases/", [1, 2], format="json")
    assert "body" in shape(response, 400, "invalid")["errors"]


def test_an_unsupported_media_type_names_the_header(jianan):
    response = client_as(jianan.member("clerk")).post(
        "/api/cases/", data="channel=visit", content_type="text/plain")
    assert "Content-Type" in shape(response, 415, "unsupported_media_type")["errors"]


def test_an_unknown_path_is_a_json_404(jianan):
    shape(client_as(jianan.member("clerk")).get("/api/no-such-thing/"), 404, "not_found")
    shape(Client().get("/api/cases/abc/"), 404, "not_found")


def test_an_unknown_case_is_a_json_404(jianan):
    shape(client_as(jianan.member("clerk")).get("/api/cases/999999/"), 404, "not_found")


def test_an_unknown_transition_is_a_json_404(jianan):
    case = walk(jianan, "registered")
    shape(post(client_as(jianan.member("clerk")), case, "fly", expected_version=1), 404,
          "not_found")


def test_a_wrong_method_is_a_json_405(jianan):
    response = client_as(jianan.member("clerk")).delete("/api/cases/")
    body = shape(response, 405, "method_not_allowed")
    assert "method" in body["errors"] and "GET" in response["Allow"]


def test_not_signed_in_and_refused(jianan):
    shape(Client().get("/api/cases/"), 403, "not_authenticated")
    shape(client_as(jianan.member("auditor")).get("/api/cases/"), 403, "permission_denied")


def test_a_bad_token_is_a_401_naming_the_header(jianan):
    response = bearer("xf_nope").get("/api/cases/")
    assert "Authorization" in shape(response, 401, "authentication_failed")["errors"]


def test_a_stale_version_and_a_refusal(jianan):
    case = walk(jianan, "registered")
    client = client_as(jianan.member("clerk"))
    body = shape(post(client, case, "propose", expected_version=case.version + 5,
                      proposal="交镇办理"), 409, "stale")
    assert body["version"] == case.version and "expected_version" in body["errors"]
    shape(post(client, case, "archive", expected_version=case.version), 422, "refused")


def test_a_missing_expected_version_is_named(jianan):
    case = walk(jianan, "registered")
    body = shape(post(client_as(jianan.member("clerk")), case, "propose", proposal="交镇办理"),
                 400, "invalid")
    assert "expected_version" in body["errors"]


def test_throttled_token_requests(jianan, monkeypatch):
    from xinfang.api.errors import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "2/min"})
    cache.clear()
    _, raw = token_for(jianan, "clerk", "read")
    client = bearer(raw)
    try:
        assert [client.get("/api/cases/").status_code for _ in range(2)] == [200, 200]
        response = client.get("/api/cases/")
        body = shape(response, 429, "throttled")
        assert body["wait"] >= 1 and int(response["Retry-After"]) >= 1
    finally:
        cache.clear()


def test_a_server_error_is_json(jianan, monkeypatch):
    import xinfang.api.views as views

    def broken(m, now):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "visible_at", broken)
    views._kept_list.cache_clear()  # an office's list compiled by an earlier test is run as kept
    client = Client(raise_request_exception=False)
    client.force_login(jianan.member("clerk").user)
    shape(client.get("/api/cases/"), 500, "server_error")


# -- the docs page ---------------------------------------------------------------------------------


def test_the_docs_page_loads_only_our_own_static_files(jianan):
    client = Client()
    client.force_login(jianan.member("clerk").user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r'(?:src|href)="(?:[a-z]+:)?//', html), html  # no CDN, no other host
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    statics = [s for s in sources if s.startswith("/static/")]
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in s
               for s in statics), sources
    for url in statics:  # every asset is one of our static files (no network needed)
        assert finders.find(url.removeprefix("/static/")), url
    script = [s for s in sources if "script" in s and not s.startswith("/static/")]
    assert script, sources
    js = client.get(script[0])
    assert js.status_code == 200 and b"SwaggerUIBundle" in js.content
    assert b"validator.swagger.io" not in js.content
    # The strict CSP holds: nothing inline on the page.
    assert "<style" not in html and "<script>" not in html
    assert "'unsafe-inline'" not in response.get("Content-Security-Policy", "")


def test_the_docs_need_a_sign_in():
    assert Client().get("/api/docs/").status_code in (302, 403)


@pytest.mark.parametrize("name", ["propose", "sign_for", "record_delivery"])
def test_each_transition_has_its_own_request_schema_with_expected_version(jianan, name):
    client = Client()
    client.force_login(jianan.member("clerk").user)
    schema = client.get("/api/schema/?format=json").json()
    op = schema["paths"][f"/api/cases/{{id}}/transitions/{name}/"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "expected_version" in component["required"]
    registration = schema["components"]["schemas"]["RegistrationInRequest"]
    assert registration["properties"]["matter"].get("minLength") == 1
