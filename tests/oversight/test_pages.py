"""The oversight pages: each role sees what it must act on; forms post through the services;
lists keep a flat number of queries (10 vs 30 rows)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import sh
from tests.oversight.conftest import close_in_kaijiang
from tests.web.conftest import signed_in
from xinfang.oversight import services as svc
from xinfang.oversight.models import CaseReview, Rectification, SupervisionOrder

pytestmark = pytest.mark.django_db


def soon() -> str:
    return (timezone.localdate() + timedelta(days=5)).isoformat()


def test_the_inspector_issues_an_order_and_the_unit_answers_it_on_its_page(kaijiang, closed_case):
    j, case = kaijiang, closed_case
    c = signed_in(j.member("inspector"))
    assert "督办" in c.get(f"/cases/{case.pk}/").content.decode()
    r = c.post(f"/oversight/orders/new/?case={case.pk}", {"matter": "请报告凭证", "due_on": soon()})
    order = SupervisionOrder.objects.get()
    assert r.status_code == 302 and order.unit == j.bureaus["区民政局"]
    bad = c.post("/oversight/orders/new/", {"matter": "", "due_on": "2020-01-01"})
    assert bad.status_code == 400 and "督办事项及要求" in bad.content.decode()
    unit = signed_in(j.member("bureau"))
    page = unit.get("/oversight/").content.decode()
    assert "待答复的督办单" in page and "请报告凭证" in page
    assert unit.post(f"/oversight/orders/{order.pk}/", {"answer": "已报告"}).status_code == 302
    order.refresh_from_db()
    assert order.answered_at and not order.answered_late
    assert signed_in(j.member("township")).get(f"/oversight/orders/{order.pk}/").status_code == 404


def test_the_review_page_records_a_failed_point_and_the_unit_reports_its_rectification(
        kaijiang, closed_case):
    j, case = kaijiang, closed_case
    c = signed_in(j.member("clerk"))
    page = c.get(f"/oversight/cases/{case.pk}/review/").content.decode()
    assert "送达是否及时" in page and "处理意见是否明确并落实到位" in page
    data = {f"point_{p}": "ok" for p in ("procedure", "documents", "delivery", "demands",
                                         "reasonableness", "basis", "opinion")}
    data.update(point_documents="fail", remark_documents="处理意见书未加盖公章",
                rectify_by=soon())
    assert c.post(f"/oversight/cases/{case.pk}/review/", data).status_code == 302
    rect = Rectification.objects.get()
    unit = signed_in(j.member("bureau"))
    assert "处理意见书未加盖公章" in unit.get("/oversight/").content.decode()
    assert unit.post(f"/oversight/rectifications/{rect.pk}/",
                     {"answer": "已补盖公章"}).status_code == 302
    data["point_documents"] = "ok"
    assert c.post(f"/oversight/cases/{case.pk}/review/", data).status_code == 302
    assert CaseReview.objects.filter(passed=True).count() == 1


def test_the_proxy_agent_takes_a_case_and_sees_its_work_list(lihai, lihai_case):
    j, case = lihai, lihai_case
    agent = signed_in(j.member("proxy"))
    r = agent.post(f"/oversight/cases/{case.pk}/proxy/",
                   {"agent": j.member("proxy").pk, "helps": ["帮政策解读"]})
    assert r.status_code == 302
    page = agent.get("/oversight/").content.decode()
    assert "信访代办件工作清单" in page and case.number in page
    r = agent.post(f"/oversight/cases/{case.pk}/proxy/", {"help": "帮政策解读", "text": "上门讲解"})
    assert r.status_code == 302
    assert "上门讲解" in agent.get(f"/oversight/cases/{case.pk}/proxy/").content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as q:
        assert client.get(url).status_code == 200
    return len(q)


def test_the_office_list_keeps_its_queries_flat(kaijiang):
    j = kaijiang
    cases = [close_in_kaijiang(j) for _ in range(2)]
    inspector = j.member("inspector")

    def orders(n):
        for i in range(n):
            svc.order_issue(by=inspector, case=cases[i % 2], matter=f"督办{i}",
                            due_on=date(2026, 10, 20), at=sh(2026, 10, 10, 9))
            svc.order_issue(by=inspector, unit=j.townships["将官池镇"], matter=f"排查{i}",
                            due_on=date(2026, 10, 20), at=sh(2026, 10, 10, 9))

    c = signed_in(inspector)
    orders(5)
    _queries(c, "/oversight/")  # the first request of a session reads what it keeps
    few = _queries(c, "/oversight/")
    orders(15)
    assert _queries(c, "/oversight/") == few
    unit = signed_in(j.member("township"))
    _queries(unit, "/oversight/")
    few = _queries(unit, "/oversight/")
    orders(5)
    assert _queries(unit, "/oversight/") == few


def test_the_supervision_page_shows_orders_reviews_and_the_quality_rate(kaijiang, closed_case):
    j, case = kaijiang, closed_case
    svc.order_issue(by=j.member("inspector"), case=case, matter="补报凭证",
                    due_on=date(2026, 10, 12), at=sh(2026, 10, 10, 9))
    svc.review_record(by=j.member("clerk"), case=case, rectify_by=date(2026, 10, 20),
                      results={p: (p != "basis", "缺依据" if p == "basis" else "")
                               for p in ("procedure", "documents", "delivery", "demands",
                                         "reasonableness", "basis", "opinion")},
                      at=sh(2026, 10, 10, 10))
    page = signed_in(j.member("inspector")).get("/supervision/").content.decode()
    assert "督办单答复情况" in page and "区民政局" in page
    assert "已审核 1 件，审核通过 0 件" in page
    assert "办件质量（审核通过率）" in page  # the profile's target, measured
