"""The supervisor's practices in a real browser (issue 17): a supervision order answered late,
a review with rectification, and the proxy agent's work list. Debian Chromium through
Playwright (the fixture of tests/web/test_browser.py); skipped without it outside CI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.conftest import sh
from tests.web.test_browser import Visit, chromium  # noqa: F401 (fixture)
from xinfang.oversight import services as svc
from xinfang.oversight.models import CaseReview, ProxyHandling, SupervisionOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def later(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_a_supervision_order_answered_late(chromium, live_server, kaijiang, closed_case):  # noqa: F811
    j, case = kaijiang, closed_case
    v = Visit(chromium, live_server.url)
    # The inspector issues an order on the case from its page.
    v.sign_in("kaijiang_inspector")
    v.go(f"/cases/{case.pk}/")
    with v.page.expect_navigation():
        v.page.click("#oversight-links >> text=督办")
    v.page.fill("#id_matter", "请于三日内报告补助发放凭证")
    v.page.fill("#id_due_on", later(3))
    v.submit("main form button[type=submit]")
    assert "待答复" in v.page.inner_text("#order-status")
    v.shot("oversight-order-issued")
    v.sign_out()
    # An earlier order went past its day unanswered: the sweep flags it in both inboxes.
    late = svc.order_issue(by=j.member("inspector"), case=case, matter="报送整改台账",
                           due_on=date(2026, 10, 15), at=sh(2026, 10, 10, 9))
    assert svc.oversight_sweep()["orders"] == 1
    v.sign_in("kaijiang_bureau")
    v.go("/inbox/")
    assert "督办单逾期未答复" in v.page.inner_text("main")
    v.go("/oversight/")
    table = v.page.inner_text("#to-answer")
    assert "报送整改台账" in table and "逾期未答复" in table
    v.go(f"/oversight/orders/{late.pk}/")
    v.page.fill("#id_answer", "台账已报送，逾期原因：经办人出差")
    v.submit("#answer-form button[type=submit]")
    assert "逾期答复" in v.page.inner_text("#order-status")
    v.shot("oversight-order-answered-late")
    late.refresh_from_db()
    assert late.answered_late
    v.sign_out()
    v.sign_in("kaijiang_inspector")
    v.go("/supervision/")
    figures = v.page.inner_text("#order-figures")
    assert "区民政局" in figures
    assert SupervisionOrder.objects.filter(answered_late=True).count() == 1
    assert not v.problems, v.problems


def test_a_review_with_rectification(chromium, live_server, kaijiang, closed_case):  # noqa: F811
    case = closed_case
    v = Visit(chromium, live_server.url)
    v.sign_in("kaijiang_clerk")
    v.go(f"/oversight/cases/{case.pk}/review/")
    v.page.check("input[name=point_documents][value=fail]")
    v.page.fill("#id_remark_documents", "处理意见书未加盖公章")
    v.page.fill("#id_rectify_by", later(5))
    v.submit("#review-form button[type=submit]")
    assert "未通过，须整改" in v.page.inner_text("#round-1")
    v.shot("oversight-review-failed")
    v.sign_out()
    v.sign_in("kaijiang_bureau")
    v.go("/oversight/")
    assert "处理意见书未加盖公章" in v.page.inner_text("#rectifications")
    with v.page.expect_navigation():
        v.page.click(f"#rectifications >> text={case.number}")
    v.page.fill("#id_answer", "已补盖公章并重新送达")
    v.submit("#rect-form button[type=submit]")
    assert "已补盖公章" in v.page.inner_text("#rect-answer")
    v.sign_out()
    v.sign_in("kaijiang_clerk")
    v.go(f"/oversight/cases/{case.pk}/review/")
    v.submit("#review-form button[type=submit]")  # every point passes now
    assert "通过" in v.page.inner_text("#round-2")
    assert CaseReview.objects.get(case=case, round=2).passed
    v.shot("oversight-review-passed")
    v.sign_out()
    v.sign_in("kaijiang_inspector")
    v.go("/supervision/")
    assert "已审核 1 件，审核通过 1 件" in v.page.inner_text("#review-figures")
    assert not v.problems, v.problems


def test_the_proxy_agents_work_list(chromium, live_server, lihai, lihai_case):  # noqa: F811
    case = lihai_case
    v = Visit(chromium, live_server.url)
    v.sign_in("lihai_proxy")
    v.go(f"/oversight/cases/{case.pk}/proxy/")
    v.page.check("input[name=helps][value=帮政策解读]")
    v.page.check("input[name=helps][value=全域代办]")
    v.submit("#proxy-form button[type=submit]")
    assert "帮政策解读、全域代办" in v.page.inner_text("#proxy")
    v.page.select_option("#id_help", "帮政策解读")
    v.page.fill("#id_text", "上门讲解危房改造补助政策")
    v.submit("#step-form button[type=submit]")
    assert "上门讲解危房改造补助政策" in v.page.inner_text("#proxy-steps")
    v.go("/oversight/")
    work = v.page.inner_text("#work-list")
    assert case.number in work and "帮政策解读" in work
    v.shot("oversight-proxy-work-list")
    assert ProxyHandling.objects.get(case=case).agent.username == "lihai_proxy"
    v.sign_out()
    v.sign_in("lihai_chief")
    v.go("/supervision/")
    assert "代办 1 件" in v.page.inner_text("#proxy-figures")
    assert "代办率" in v.page.inner_text("#targets")
    assert not v.problems, v.problems
