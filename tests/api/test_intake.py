"""Referral intake is idempotent on the sender's reference: the same referral sent twice — one
after the other, or at the same instant — registers one case and answers with it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.api.test_cases_api import REGISTRATION
from tests.api.tokens import bearer, token_for
from tests.api.world import client_as
from xinfang.cases.models import Case
from xinfang.integrations.models import IntakeKey

REFERRAL = dict(REGISTRATION, channel="referral", source_level="city",
                source_office="许昌市信访局", source_reference="许信转〔2026〕118号")


def test_the_same_referral_twice_registers_one_case(jianan):
    client = client_as(jianan.member("clerk"))
    first = client.post("/api/cases/", REFERRAL, format="json")
    again = client.post("/api/cases/", REFERRAL, format="json")
    assert first.status_code == again.status_code == 201, again.content
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["number"] == again.json()["number"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1 and IntakeKey.objects.count() == 1


def test_a_referral_with_another_number_is_another_case(jianan):
    client = client_as(jianan.member("clerk"))
    client.post("/api/cases/", REFERRAL, format="json")
    other = dict(REFERRAL, source_reference="许信转〔2026〕119号")
    assert client.post("/api/cases/", other, format="json").status_code == 201
    assert Case.objects.count() == 2


def test_an_idempotency_key_works_for_any_registration(jianan):
    client = client_as(jianan.member("clerk"))
    headers = {"HTTP_IDEMPOTENCY_KEY": "hotline-20260914-0042"}
    first = client.post("/api/cases/", REGISTRATION, format="json", **headers)
    again = client.post("/api/cases/", REGISTRATION, format="json", **headers)
    assert first.json()["id"] == again.json()["id"] and Case.objects.count() == 1
    # Without a key an ordinary visit registers each time (two visits are two cases).
    client.post("/api/cases/", REGISTRATION, format="json")
    assert Case.objects.count() == 2


def test_the_same_reference_with_another_content_is_a_conflict_naming_the_field(jianan):
    client = client_as(jianan.member("clerk"))
    first = client.post("/api/cases/", REFERRAL, format="json").json()
    changed = dict(REFERRAL, matter="反映另一件事")
    response = client.post("/api/cases/", changed, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "idempotency_conflict" and "source_reference" in body["errors"]
    assert body["case"] == {"id": first["id"], "number": first["number"]}
    assert Case.objects.count() == 1


def test_a_minimal_answer_is_replayed_too(jianan):
    client = client_as(jianan.member("clerk"))
    first = client.post("/api/cases/", REFERRAL, format="json", HTTP_PREFER="return=minimal")
    again = client.post("/api/cases/", REFERRAL, format="json", HTTP_PREFER="return=minimal")
    assert first.json() == again.json()


def test_a_bad_idempotency_key_is_named(jianan):
    response = client_as(jianan.member("clerk")).post(
        "/api/cases/", REGISTRATION, format="json", HTTP_IDEMPOTENCY_KEY="x" * 151)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


def test_a_refused_registration_claims_no_reference(jianan):
    client = client_as(jianan.member("clerk"))
    bad = dict(REFERRAL, demands=[{"text": "x", "category": "天气"}])
    assert client.post("/api/cases/", bad, format="json").status_code == 400
    assert IntakeKey.objects.count() == 0
    assert client.post("/api/cases/", REFERRAL, format="json").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_register_one_case(jianan):
    """Several senders post the same referral at the same instant, each on its own database
    connection: one case, every answer names it. On PostgreSQL the later inserts of the key
    wait on the unique index until the first transaction commits; on SQLite the IMMEDIATE
    transactions queue the writers."""
    _, raw = token_for(jianan, "clerk", "intake", "read")
    n = 4
    barrier = threading.Barrier(n)
    answers: list = [None] * n

    def send(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[i] = bearer(raw).post("/api/cases/", REFERRAL, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(a is not None for a in answers)
    assert [a.status_code for a in answers] == [201] * n, [a.content for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Case.objects.count() == 1
    assert sum(a.has_header("Idempotent-Replayed") for a in answers) == n - 1


def test_a_referral_routed_elsewhere_is_answered_the_same_way_again(jianan):
    """A referral against the registering office goes to the office above; the clerk cannot read
    it, so a repeat answers with the stored "where it went" rather than a 404 or a second case."""
    client = client_as(jianan.member("clerk"))
    body = dict(REFERRAL, respondents=[{"name": "建安区乡村振兴局", "unit": jianan.office.pk}])
    first = client.post("/api/cases/", body, format="json")
    again = client.post("/api/cases/", body, format="json")
    assert first.status_code == again.status_code == 201, again.content
    assert first.json()["routed"] is True and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and Case.objects.count() == 1
