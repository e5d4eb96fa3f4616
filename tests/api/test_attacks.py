"""Hostile input: SQL injection in every filter and search parameter, script payloads in free
text, and a cross-site POST riding on a session without a CSRF token."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.api.world import client_as, read_sheet, walk
from tests.conftest import register_in
from xinfang.cases.models import Case, CaseEvent, Demand

pytestmark = pytest.mark.django_db

SQL = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "1 OR 1=1",
    "1; DROP TABLE cases_case; --",
    "'; DELETE FROM org_user; --",
    "1' UNION SELECT username, password FROM org_user --",
    "\") OR (\"1\"=\"1",
    "registered' OR state LIKE '%",
    "%",
    "_",
    "\\",
    "'; SELECT pg_sleep(3); --",
    "1 AND 1=(SELECT COUNT(*) FROM sqlite_master)",
    "危房' OR '1'='1",
    "\x00' OR 1=1",
    "99999999999999999999999999",
    "-1",
    "0x1",
    "１",  # a full-width digit
]
FILTERS = ["state", "kind", "channel", "township", "overdue", "search"]


@pytest.fixture
def cases(jianan):
    return [walk(jianan, "in_progress"), register_in(jianan, matter="反映低保未发放")]


def intact(before: dict) -> None:
    assert {"cases": Case.objects.count(), "users": get_user_model().objects.count(),
            "events": CaseEvent.objects.count()} == before


def counts() -> dict:
    return {"cases": Case.objects.count(), "users": get_user_model().objects.count(),
            "events": CaseEvent.objects.count()}


@pytest.mark.parametrize("param", FILTERS)
def test_sql_in_a_filter_or_the_search_is_a_normal_empty_answer(jianan, cases, param):
    before = counts()
    client = client_as(jianan.member("clerk"))
    for payload in SQL:
        response = client.get("/api/cases/", {param: payload})
        assert response.status_code == 200, (param, payload, response.content[:200])
        assert response.json()["results"] == [], (param, payload)
        export = client.get("/api/ledgers/l0.xlsx", {param: payload})
        assert export.status_code == 200, (param, payload)
        assert len(read_sheet(export.getvalue())) == 1  # the header only
    intact(before)
    assert client.get("/api/cases/").json()["count"] == 2


def test_sql_in_every_parameter_at_once_and_repeated(jianan, cases):
    client = client_as(jianan.member("clerk"))
    query = [(param, payload) for param in FILTERS for payload in SQL[:6]]
    from urllib.parse import urlencode

    assert client.get(f"/api/cases/?{urlencode(query)}").status_code == 200


def test_searching_for_an_injection_string_finds_the_case_that_contains_it_literally(jianan):
    register_in(jianan)
    quoted = register_in(jianan, matter="反映村干部说“' OR '1'='1”是密码，100%属实_")
    client = client_as(jianan.member("clerk"))
    for text in ("' OR '1'='1", "100%", "%属实_", "_"):
        rows = client.get("/api/cases/", {"search": text}).json()["results"]
        assert [r["number"] for r in rows] == [quoted.number], text


@pytest.mark.parametrize(("param", "payload", "status"), [
    ("page", "1 OR 1=1", 404),
    ("page", "' OR '1'='1", 404),
    ("page", "-1", 404),
    ("page", "99999999999999999999", 404),
    ("page_size", "1; DROP TABLE cases_case", 200),
    ("page_size", "-5", 200),
    ("page_size", "99999999999999999999", 200),
    ("format", "json' --", 404),
])
def test_paging_parameters_never_fail_the_server(jianan, cases, param, payload, status):
    before = counts()
    response = client_as(jianan.member("clerk")).get("/api/cases/", {param: payload})
    assert response.status_code == status
    intact(before)


@pytest.mark.parametrize("path", [
    "/api/cases/1%20OR%201=1/",
    "/api/cases/1'/",
    "/api/cases/99999999999999999999999/",
    "/api/cases/99999999999999999999999/actions/",
    "/api/cases/-1/",
])
def test_sql_in_the_path_is_a_404(jianan, cases, path):
    assert client_as(jianan.member("clerk")).get(path).status_code == 404


def test_sql_in_a_transition_name_or_an_id_in_the_body(jianan, cases):
    case = walk(jianan, "signed_off")
    client = client_as(jianan.member("clerk"))
    before = counts()
    for name in ("assign' OR '1'='1", "assign;--", "__init__", "perform"):
        response = client.post(f"/api/cases/{case.pk}/transitions/{name}/",
                               {"expected_version": case.version}, format="json")
        assert response.status_code == 404, name
    for unit in ["1 OR 1=1", "' OR '1'='1", 99999999999999999999999, -1, [1], {"id": 1}]:
        response = client.post(f"/api/cases/{case.pk}/transitions/assign/",
                               {"expected_version": case.version, "lead": unit,
                                "receiver_name": "陈晓东"}, format="json")
        assert response.status_code == 400, unit
        assert "lead" in response.json()["errors"]
    intact(before)


def test_sql_in_the_membership_header_is_refused(jianan, cases):
    client = client_as(jianan.member("clerk"))
    for payload in SQL:
        client.credentials(HTTP_X_MEMBERSHIP=payload.replace("\x00", ""))
        assert client.get("/api/cases/").status_code == 403, payload


# -- script payloads -------------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "\"><svg/onload=alert(1)>",
    "</script><script>alert(1)</script>",
    "javascript:alert(1)",
    "{{7*7}}${7*7}",
    "行\u2028分隔\u2029<b>粗</b>",
]


def test_script_payloads_in_free_text_round_trip_as_data(jianan):
    clerk = client_as(jianan.member("clerk"))
    for payload in XSS:
        response = clerk.post("/api/cases/", {
            "channel": "letter", "matter": f"信访事项{payload}",
            "received_at": "2026-09-14T09:30:00+08:00",
            "petitioners": [{"name": "张三明", "address": payload}],
            "demands": [{"text": payload, "category": "其他"}],
            "source_office": payload[:100],
        }, format="json")
        assert response.status_code == 201, (payload, response.content)
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
        raw = response.content
        assert b"<" not in raw and b">" not in raw, "markup characters are \\u-escaped"
        body = json.loads(raw)
        assert body["matter"] == f"信访事项{payload}"
        assert body["demands"][0]["text"] == payload
        assert body["source_office"] == payload[:100]
        assert Demand.objects.get(case_id=body["id"]).text == payload  # stored as typed
        case = Case.objects.get(pk=body["id"])
        note = client_as(jianan.member("clerk")).post(
            f"/api/cases/{case.pk}/transitions/propose/",
            {"expected_version": case.version, "proposal": payload}, format="json")
        assert note.status_code == 200
        assert b"<" not in note.content
        assert note.json()["proposal"] == payload
        assert note.json()["history"][-1]["payload"]["proposal"] == payload
        listed = clerk.get("/api/cases/", {"search": payload[:20]})
        assert listed.status_code == 200 and b"<" not in listed.content


def test_a_script_payload_in_an_error_message_is_escaped_too(jianan):
    response = client_as(jianan.member("clerk")).post("/api/cases/", {
        "channel": "<script>alert(1)</script>", "matter": "x",
        "received_at": "2026-09-14T09:30:00+08:00",
        "petitioners": [{"name": "张三明"}], "demands": [{"text": "x", "category": "其他"}],
    }, format="json")
    assert response.status_code == 400
    assert b"<script" not in response.content
    assert "<script>" in response.json()["errors"]["channel"]


# -- CSRF ------------------------------------------------------------------------------------------


def session_client(membership) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(membership.user)
    return client


def test_a_session_post_without_a_csrf_token_is_refused(jianan):
    case = walk(jianan, "registered")
    client = session_client(jianan.member("clerk"))
    assert client.get("/api/cases/").status_code == 200  # the session itself works
    response = client.post(f"/api/cases/{case.pk}/transitions/propose/",
                           {"expected_version": case.version, "proposal": "交将官池镇"},
                           format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    registration = client.post("/api/cases/", {"channel": "visit"}, format="json")
    assert registration.status_code == 403 and "CSRF" in registration.json()["detail"]
    assert Case.objects.get(pk=case.pk).state == "registered"
    assert Case.objects.count() == 1


def test_the_same_post_with_the_token_goes_through(jianan):
    case = walk(jianan, "registered")
    client = session_client(jianan.member("clerk"))
    token = "k" * 32
    client.cookies["csrftoken"] = token
    response = client.post(f"/api/cases/{case.pk}/transitions/propose/",
                           {"expected_version": case.version, "proposal": "交将官池镇"},
                           format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).state == "proposed"
