"""The category suggestion in a real browser: the clerk types the matter and a demand, asks for a
suggestion, the select takes it, the clerk changes it — and the category registered is the one
the clerk chose, not the model's. Skipped without Chromium outside CI."""

from __future__ import annotations

import pytest

from tests.web.test_browser import Visit, chromium  # noqa: F401 (fixture)
from xinfang.cases.models import Case, Demand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_clerk_takes_or_changes_the_suggested_category(chromium, live_server, jianan):  # noqa: F811
    v = Visit(chromium, live_server.url)
    page = v.page
    v.sign_in("clerk")
    v.go("/register/")
    page.select_option("#id_channel", "visit")
    page.fill("#id_matter", "反映家中低保被取消")
    page.fill("#id_p-0-name", "王来访")
    page.fill("#id_d-0-text", "要求恢复低保待遇，说明取消理由")
    page.click("#d-0-suggest-slot button")
    page.wait_for_selector("#d-0-suggest:has-text('建议类别')")
    assert page.input_value("#id_d-0-category") == "民政救助"
    assert "建议类别" in page.inner_text("#d-0-suggest")
    assert "依据" in page.inner_text("#d-0-suggest")
    # The clerk disagrees and files it elsewhere: the choice is the clerk's.
    page.select_option("#id_d-0-category", "其他")
    page.click("#d-0-suggest-slot button")
    page.wait_for_selector("#d-0-suggest:has-text('当前所选')")
    assert page.input_value("#id_d-0-category") == "其他"
    v.submit("form.register button[type=submit]")
    case = Case.objects.get()
    assert page.url.endswith(f"/cases/{case.pk}/"), page.inner_text("main")[:400]
    assert Demand.objects.get(case=case).category == "其他"
