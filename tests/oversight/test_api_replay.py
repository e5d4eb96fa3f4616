"""An API write sent again under the same ``Idempotency-Key`` is answered, not done again
(``api.replay``): a supervision order over the API here; the other writes wired the same way are
held by the schema test below."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.racing import race
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.jobs.periodic import prune
from xinfang.notify.models import Kind, Notice
from xinfang.oversight.models import SupervisionOrder
from xinfang.security.models import KeptAnswer

pytestmark = pytest.mark.django_db

URL = "/api/oversight/orders/"


def order_of(case) -> dict:
    return {"case": case.pk, "matter": "请报告补助发放凭证",
            "due_on": (timezone.localdate() + timedelta(days=5)).isoformat()}


def send(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, body, content_type="application/json", **headers)


def test_an_order_sent_twice_under_one_key_is_issued_once_and_answered_alike(kaijiang,
                                                                             closed_case):
    # given the inspector's order, sent, and sent again after a lost answer
    inspector = signed_in(kaijiang.member("inspector"))
    first = send(inspector, order_of(closed_case), key="order-2026-0001")
    again = send(inspector, order_of(closed_case), key="order-2026-0001")
    # then one order, one notice, one audit entry; the second answer is the first's
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert SupervisionOrder.objects.count() == 1
    assert Notice.objects.filter(kind=Kind.SUPERVISION_ORDER).count() == 1
    assert AuditEntry.objects.filter(object_type="supervision_order").count() == 1


def test_without_a_key_each_send_is_a_new_order(kaijiang, closed_case):
    inspector = signed_in(kaijiang.member("inspector"))
    for _ in range(2):
        assert send(inspector, order_of(closed_case)).status_code == 201
    assert SupervisionOrder.objects.count() == 2 and not KeptAnswer.objects.exists()


def test_a_key_used_for_another_request_is_refused_by_name(kaijiang, closed_case):
    inspector = signed_in(kaijiang.member("inspector"))
    send(inspector, order_of(closed_case), key="k1")
    other = send(inspector, {**order_of(closed_case), "matter": "另一件事"}, key="k1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert set(other.json()["errors"]) == {"Idempotency-Key"}
    assert SupervisionOrder.objects.count() == 1


def test_an_answer_that_is_an_error_keeps_nothing_and_the_corrected_request_is_done(
        kaijiang, closed_case):
    inspector = signed_in(kaijiang.member("inspector"))
    bad = send(inspector, {**order_of(closed_case), "matter": ""}, key="k2")
    assert bad.status_code == 400 and not KeptAnswer.objects.exists()
    assert send(inspector, order_of(closed_case), key="k2").status_code == 201
    assert SupervisionOrder.objects.count() == 1


def test_keys_are_each_users_own_and_must_be_printable(kaijiang, closed_case):
    j = kaijiang
    assert send(signed_in(j.member("inspector")), order_of(closed_case), key="k3").status_code \
        == 201
    # the office's clerk uses the same key for their own order: a new order, not a replay
    clerk = send(signed_in(j.member("clerk")), order_of(closed_case), key="k3")
    assert clerk.status_code == 201 and "Idempotent-Replayed" not in clerk
    assert SupervisionOrder.objects.count() == 2
    long = send(signed_in(j.member("inspector")), order_of(closed_case), key="x" * 151)
    assert long.status_code == 400 and set(long.json()["errors"]) == {"Idempotency-Key"}


def test_kept_answers_are_forgotten_after_a_week_by_the_hourly_prune(kaijiang, closed_case):
    send(signed_in(kaijiang.member("inspector")), order_of(closed_case), key="k4")
    KeptAnswer.objects.update(at=timezone.now() - timedelta(days=7, minutes=1))
    assert prune()["kept_answers"] == 1 and not KeptAnswer.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two at once need a real PostgreSQL (CI=true DATABASE_URL=…)")
def test_an_order_sent_twice_at_once_under_one_key_is_issued_once(kaijiang, closed_case):
    one, two = (signed_in(kaijiang.member("inspector")) for _ in range(2))
    body = order_of(closed_case)
    out = race(lambda: send(one, body, key="k5"), lambda: send(two, body, key="k5"))
    assert out["second_waited"]
    assert out["first"].status_code == out["second"].status_code == 201
    assert out["second"].json() == out["first"].json()
    assert out["second"]["Idempotent-Replayed"] == "true"
    assert SupervisionOrder.objects.count() == 1


def test_the_schema_offers_the_key_on_each_write_that_keeps_its_answer(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    wired = {"oversight_orders_issue", "practices_meetings_record", "practices_watch_review",
             "practices_field_visits_record", "practices_campaigns_create",
             "practices_campaign_task_add", "case_document_correct", "jobs_start",
             "cases_register"}
    found = {op["operationId"] for path in schema["paths"].values() for op in path.values()
             if isinstance(op, dict) and any(p.get("name") == "Idempotency-Key"
                                              for p in op.get("parameters", []))}
    assert found == wired
