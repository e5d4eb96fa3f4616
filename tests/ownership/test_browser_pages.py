"""At a 390 px phone: the backlog cards keep 化解时限 in the value column beside 一案一策
(issue 15), and the person's page and the village leaders page do not scroll sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import register_in
from tests.web.test_browser import PHONE, Visit, chromium  # noqa: F401 (fixture)
from tests.web.test_browser_layout import OVERFLOW
from xinfang.cases.models import CasePetitioner
from xinfang.registers.services import backlog_designate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_backlog_cards_align_the_deadline_and_my_pages_fit_a_phone(
        chromium, live_server, jianan):  # noqa: F811
    now = timezone.now()
    case = register_in(jianan, received_at=now - timedelta(days=40), at=now - timedelta(days=40))
    backlog_designate(by=jianan.member("approver"), case=case,
                      owner_leader=jianan.member("chief").user, reason="多次重复信访",
                      plan="镇党委书记包案；每周入户沟通一次；核查补助发放",
                      plan_deadline=(now + timedelta(days=30)).date(), at=now)
    v = Visit(chromium, live_server.url, viewport=PHONE)
    v.sign_in(jianan.member("approver").user.username)
    v.go(reverse("web:backlog"))
    deadline = v.page.locator("td .deadline").first
    assert deadline.count() == 1
    cell = deadline.locator("xpath=ancestor::td[1]")
    plan = cell.locator(".cell-stack > span").first
    # the deadline sits in the value column, not under the label (where a bare <br><small>
    # put it: issue 15), and starts where the plan's text starts
    label_right = cell.bounding_box()["x"] + 5 * 15  # the 5rem label column at 15 px
    assert deadline.bounding_box()["x"] >= label_right
    assert abs(deadline.bounding_box()["x"] - plan.bounding_box()["x"]) < 1
    assert v.page.evaluate(OVERFLOW) <= 0
    person = CasePetitioner.objects.get(case=case).petitioner_id
    for url in (reverse("web:person", args=[person]), reverse("web:village_leaders")):
        v.go(url)
        v.page.wait_for_load_state("networkidle")
        assert v.page.evaluate(OVERFLOW) <= 0, url
    assert not v.problems, v.problems
    v.context.close()
