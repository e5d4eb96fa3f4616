"""In a real browser: the township records a return visit on the page, and the approver sees the
satisfaction on the supervision page. Skipped without Chromium outside CI."""

from __future__ import annotations

import pytest

from tests.conftest import register_in
from tests.practices.conftest import person
from tests.web.conftest import walk
from tests.web.test_browser import Visit, chromium  # noqa: F401 (fixture)
from xinfang.practices.models import ReturnVisit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_recording_a_return_visit_in_the_browser(chromium, live_server, jianan):  # noqa: F811
    case = walk(jianan, register_in(jianan, petitioners=[person(11)]), "delivered")
    v = Visit(chromium, live_server.url)
    page = v.page
    v.sign_in("township")
    v.go("/practices/")
    v.submit("nav.tabs a[href='/practices/return-visits/']")
    assert case.number in page.inner_text("#owed-table")
    page.select_option("#id_case", str(case.pk))
    page.fill("#id_visited_at", "2026-10-12T09:30")
    page.select_option("#id_method", "visit")
    page.select_option("#id_outcome", "settled")
    page.select_option("#id_satisfaction", "satisfied")
    page.fill("#id_note", "上门回访，信访人表示满意")
    v.submit("#return-visit-form button[type=submit]")
    assert "已记录回访" in page.inner_text(".messages")
    assert case.number in page.inner_text("#visits-table")
    visit = ReturnVisit.objects.get()
    assert (visit.method, visit.satisfaction) == ("visit", "satisfied")
    v.shot("practices-return-visit")
    v.sign_out()
    v.sign_in("approver")
    v.go("/supervision/")
    assert "100%" in page.inner_text("#return-visit-rate")
    assert "将官池镇" in page.inner_text("#return-visit-units")
    assert v.problems == []
