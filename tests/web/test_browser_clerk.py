"""What a clerk and a petitioner trip over, in a real browser (issue 15): Chinese error pages,
every spelling of a case number on /progress/ and in merge, a representative registered alone,
the locality's township suggested as lead. Skipped without Chromium outside CI."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import sh
from xinfang.cases import choices as c
from xinfang.cases.models import Case

from .test_browser import Visit, chromium  # noqa: F401 (fixture)
from .test_case_numbers import spellings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def this_year(register):
    now = timezone.localtime()
    return register(at=sh(now.year, now.month, now.day, 8, 0) if now.hour >= 8 else None)


def test_error_pages_are_chinese_in_the_browser(chromium, live_server, jianan, register):  # noqa: F811
    case = register()
    v = Visit(chromium, live_server.url)
    v.go("/no-such-page/")
    assert "页面不存在" in v.page.inner_text("main")
    assert "URLconf" not in v.page.content()
    v.sign_in("bureau")  # not assigned: may not see the case
    v.go(f"/cases/{case.pk}/")
    assert "页面不存在" in v.page.inner_text("main")
    assert "页面不存在" in v.page.title()


def test_progress_takes_every_spelling_of_the_number(chromium, live_server, jianan, register):  # noqa: F811
    case = this_year(register)
    v = Visit(chromium, live_server.url)
    for typed in spellings(case):
        v.go("/progress/?new=1")
        v.page.fill("#id_number", typed)
        v.page.fill("#id_code", case.query_code)
        v.submit("main form button[type=submit]")
        assert case.number in v.page.inner_text("main"), typed


def test_merge_picks_from_a_list_and_takes_a_typed_spelling(
    chromium, live_server, jianan, register  # noqa: F811
):
    first, second, third = this_year(register), this_year(register), this_year(register)
    v = Visit(chromium, live_server.url)
    v.sign_in("clerk")
    v.go(f"/cases/{second.pk}/")
    v.act("merge", select={"#id_merge-pick": str(first.pk)})
    second.refresh_from_db()
    assert second.state == c.State.MERGED and second.merged_into_id == first.pk
    v.go(f"/cases/{third.pk}/")
    v.act("merge", {"#id_merge-into": f"{first.number.split('〔')[0]}[{first.year}]{first.seq}"})
    third.refresh_from_db()
    assert third.merged_into_id == first.pk


def test_a_representative_alone_registers_and_the_township_is_suggested(
    chromium, live_server, jianan  # noqa: F811
):
    v = Visit(chromium, live_server.url)
    page = v.page
    v.sign_in("clerk")
    v.go("/register/")
    page.select_option("#id_channel", "visit")
    page.fill("#id_matter", "村民代表反映易地搬迁安置房质量问题")
    page.fill("#id_headcount", "6")
    page.select_option("#id_township", label="将官池镇")
    page.wait_for_selector("#id_village option:text('岗朱村')", state="attached")
    page.select_option("#id_village", label="岗朱村")
    page.fill("#id_p-0-name", "王代表")
    page.select_option("#id_p-0-role", "representative")
    page.fill("#id_d-0-text", "要求维修安置房")
    page.select_option("#id_d-0-category", "易地搬迁")
    v.submit("form.register button[type=submit]")
    case = Case.objects.get()
    assert page.url.endswith(f"/cases/{case.pk}/"), page.inner_text("main")[:400]
    assert case.main_petitioner.name == "王代表"
    v.act("propose", {"#id_propose-proposal": "交将官池镇办理"})
    v.sign_out()
    v.sign_in("approver")
    v.go(f"/cases/{case.pk}/")
    v.act("sign_off", {"#id_sign_off-note": "同意"})
    v.sign_out()
    v.sign_in("clerk")
    v.go(f"/cases/{case.pk}/")
    page.click("#action-assign > summary")
    assisting = page.inner_text("#action-assign")
    assert "纪委监察委" not in assisting.split("协办单位", 1)[-1]
    suggested = page.eval_on_selector_all(
        "#id_assign-lead optgroup:first-of-type option", "os => os.map(o => o.textContent)"
    )
    townships = [name for name in suggested if name.endswith("镇")]
    assert townships == ["将官池镇"], suggested
