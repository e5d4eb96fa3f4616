"""The oversight API: issue and answer an order, review with rectification, verify, proxy and
the work list — through the same services and the same door as the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

SEVEN = ("procedure", "documents", "delivery", "demands", "reasonableness", "basis", "opinion")


def soon() -> str:
    return (timezone.localdate() + timedelta(days=5)).isoformat()


def test_orders_and_reviews_over_the_api(kaijiang, closed_case):
    j, case = kaijiang, closed_case
    inspector = signed_in(j.member("inspector"))
    r = inspector.post("/api/oversight/orders/",
                       {"case": case.pk, "matter": "请报告", "due_on": soon()},
                       content_type="application/json")
    assert r.status_code == 201 and r.json()["status"] == "open"
    order = r.json()["id"]
    r = inspector.post("/api/oversight/orders/", {"matter": "", "due_on": soon()},
                       content_type="application/json")
    assert r.status_code == 400 and set(r.json()["errors"]) == {"unit", "matter"}
    # The township may not see the case: the order does not exist for it.
    township = signed_in(j.member("township"))
    assert township.get("/api/oversight/orders/").json() == []
    assert township.post(f"/api/oversight/orders/{order}/answer/", {"answer": "x"},
                         content_type="application/json").status_code == 404
    bureau = signed_in(j.member("bureau"))
    assert [o["id"] for o in bureau.get("/api/oversight/orders/?mine=1").json()] == [order]
    r = bureau.post(f"/api/oversight/orders/{order}/answer/", {"answer": "已报告"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "answered"

    results = {p: {"ok": True} for p in SEVEN}
    results["basis"] = {"ok": False, "remark": "未引用政策文件"}
    # kaijiang 谁登记、谁交办、谁审核 (seed 002 §四(二)): the inspector may not review; the
    # clerk who registered the case does.
    r = inspector.post(f"/api/oversight/cases/{case.pk}/reviews/",
                       {"results": results, "rectify_by": soon()}, content_type="application/json")
    assert r.status_code == 422 and "谁审核" in r.json()["detail"]
    inspector = signed_in(j.member("clerk"))
    r = inspector.post(f"/api/oversight/cases/{case.pk}/reviews/",
                       {"results": results, "rectify_by": soon()}, content_type="application/json")
    assert r.status_code == 201 and r.json()["passed"] is False
    rect = r.json()["rectification"]
    r = bureau.post(f"/api/oversight/rectifications/{rect}/answer/", {"answer": "已补充"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["answered_late"] is False
    results["basis"] = {"ok": True}
    r = inspector.post(f"/api/oversight/cases/{case.pk}/reviews/", {"results": results},
                       content_type="application/json")
    assert r.status_code == 201 and r.json()["passed"] and r.json()["round"] == 2
    r = inspector.post(f"/api/oversight/cases/{case.pk}/reviews/", {"results": results},
                       content_type="application/json")
    assert r.status_code == 422
    assert len(inspector.get(f"/api/oversight/cases/{case.pk}/reviews/").json()) == 2


def test_verification_over_the_api(henan, reported_case):
    c = signed_in(henan.member("inspector"))
    r = c.post(f"/api/oversight/cases/{reported_case.pk}/verifications/",
               {"method": "document", "opinion": "材料齐全", "confirmed": True},
               content_type="application/json")
    assert r.status_code == 201 and r.json()["verdict"] == "confirmed"


def test_proxy_and_the_work_list_over_the_api(lihai, lihai_case):
    j = lihai
    agent = signed_in(j.member("proxy"))
    r = agent.post(f"/api/oversight/cases/{lihai_case.pk}/proxy/",
                   {"agent": j.member("proxy").pk, "helps": ["全域代办"]},
                   content_type="application/json")
    assert r.status_code == 201
    work = agent.get("/api/oversight/proxy/work/").json()
    assert [w["number"] for w in work] == [lihai_case.number] and work[0]["helps"] == ["全域代办"]
    assert signed_in(j.member("bureau")).get("/api/oversight/proxy/work/").json() == []


def test_the_schema_has_the_oversight_paths_without_warnings(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache),
                                 dict(GENERATOR_STATS._error_cache))
    validate_schema(schema)
    assert {"/api/oversight/orders/", "/api/oversight/cases/{id}/reviews/",
            "/api/oversight/proxy/work/"} <= set(schema["paths"])
