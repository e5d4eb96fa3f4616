"""/api/inbox/: list, mark read, dismiss — the same door as the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import register_in, sh
from tests.web.conftest import walk
from xinfang.cases.services.supervision import sweep
from xinfang.notify.models import Kind

pytestmark = pytest.mark.django_db


def api(m) -> Client:
    client = Client()
    client.force_login(m.user)
    client.defaults["HTTP_X_MEMBERSHIP"] = str(m.pk)
    return client


def test_inbox_list_read_dismiss(jianan):
    j = jianan
    case = walk(j, register_in(j), "assigned")
    sweep(at=sh(2027, 6, 1, 9))
    clerk = api(j.member("clerk"))
    r = clerk.get("/api/inbox/")
    assert r.status_code == 200
    data = r.json()
    assert data["unread"] == data["count"] > 0
    first = data["results"][0]
    assert first["case_number"] == case.number and first["kind_label"]
    overdue = next(n for n in data["results"] if n["kind"] == Kind.OVERDUE)
    assert overdue["needs_reason"] and overdue["clock"]["due_at"]
    r = clerk.post("/api/inbox/read/", {"ids": [overdue["id"]]}, content_type="application/json")
    assert r.json() == {"marked": 1, "unread": data["unread"] - 1, "unread_capped": False}
    r = clerk.post("/api/inbox/read/", {"ids": "x"}, content_type="application/json")
    assert r.status_code == 400 and "ids" in r.json()["errors"]
    r = clerk.post(f"/api/inbox/{overdue['id']}/dismiss/", {}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = clerk.post(f"/api/inbox/{overdue['id']}/dismiss/", {"reason": "已督办"},
                   content_type="application/json")
    assert r.status_code == 200 and r.json()["dismissed_at"]
    assert r.json()["dismiss_reason"] == "已督办"
    assert overdue["id"] not in [n["id"] for n in clerk.get("/api/inbox/").json()["results"]]
    assert overdue["id"] in [n["id"] for n in clerk.get("/api/inbox/?show=all").json()["results"]]
    assert clerk.get("/api/inbox/?show=bogus").status_code == 400
    # Another unit cannot read or dismiss it: 404, as for a case outside the door.
    bureau = api(j.member("bureau"))
    assert overdue["id"] not in [n["id"] for n in bureau.get("/api/inbox/").json()["results"]]
    r = bureau.post(f"/api/inbox/{overdue['id']}/dismiss/", {"reason": "x"},
                    content_type="application/json")
    assert r.status_code == 404
    # whatever the body: a 400 about it would tell that the notice exists
    for body in ({"reason": 7}, {"reason": ["x"]}, "x"):
        r = bureau.post(f"/api/inbox/{overdue['id']}/dismiss/", body,
                        content_type="application/json")
        assert r.status_code == 404, body
    assert bureau.post("/api/inbox/99999999/dismiss/", {"reason": 7},
                       content_type="application/json").status_code == 404
    # Administrators have no inbox; anonymous callers are refused.
    assert api(j.member("sysadmin")).get("/api/inbox/").status_code == 403
    assert Client().get("/api/inbox/").status_code in (401, 403)


def test_inbox_api_queries_flat(jianan):
    j = jianan
    walk(j, register_in(j), "assigned")
    client = api(j.member("township"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/api/inbox/")  # the first request of a session also touches the session row
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/inbox/").json()["count"] == 1
    for n in range(6):
        walk(j, register_in(j, matter=f"第{n}件"), "assigned")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/inbox/").json()["count"] == 7
    assert len(many.captured_queries) == len(one.captured_queries)


def test_inbox_answer_is_drfs_own(jianan, monkeypatch):
    """The inbox's notices are written by ``Lean``'s compiled steps and the kind's label read
    from the choices (lead49): the answer is the one DRF's own fields write, for a notice about
    a case and one about none (a practice's reminder)."""
    from rest_framework import serializers as drf

    from xinfang.api import serializers as s
    from xinfang.notify.models import Notice

    j = jianan
    walk(j, register_in(j), "assigned")
    sweep(at=sh(2027, 6, 1, 9))
    clerk = j.member("clerk")
    Notice.objects.create(unit=clerk.unit, role=clerk.role, kind=Kind.MEETING,
                          text="会议提醒", todo="请参加", created_at=sh(2027, 6, 1, 10))
    client = api(clerk)
    lean = client.get("/api/inbox/?show=all").json()
    assert {n["case_number"] is None for n in lean["results"]} == {True, False}
    assert {n["kind_label"] for n in lean["results"]} >= {"会议", "已超期"}
    monkeypatch.setattr(s.Lean, "get_fields", drf.Serializer.get_fields)
    monkeypatch.setattr(s.Lean, "to_representation", drf.Serializer.to_representation)
    assert client.get("/api/inbox/?show=all").json() == lean
