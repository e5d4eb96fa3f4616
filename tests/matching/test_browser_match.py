"""A clerk confirming a suggested repeat while registering, in a real browser (issue 14). Skipped
without Chromium outside CI."""

from __future__ import annotations

import pytest

from tests.web.test_browser import Visit, chromium  # noqa: F401 (fixture)
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput
from xinfang.matching.models import MatchDecision, Verdict

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_confirms_a_suggested_repeat_while_registering(
    chromium, live_server, jianan, register  # noqa: F811
):
    # 王秀兰 of 岗朱村 came in September; today the clerk hears "王秀澜", no ID, no phone.
    earlier = register(petitioners=[PetitionerInput(name="王秀兰", phone="13912345678")],
                       matter="反映危房改造补助未到位",
                       demands=[DemandInput(text="要求落实2025年危房改造补助两万元",
                                            category="危房改造")])
    other = register(petitioners=[PetitionerInput(name="赵大勇", phone="13700000000")],
                     matter="反映低保被取消",
                     demands=[DemandInput(text="要求恢复低保", category="民政救助")])
    v = Visit(chromium, live_server.url)
    page = v.page
    v.sign_in("clerk")
    v.go("/register/")
    page.select_option("#id_channel", "visit")
    page.fill("#id_matter", "危房改造补助款一直没有到位")
    # the village first: its township fills itself
    page.select_option("#id_village", label="岗朱村（将官池镇）")
    assert page.input_value("#id_township") == str(jianan.townships["将官池镇"].pk)
    page.fill("#id_p-0-name", "王秀澜")
    page.fill("#id_d-0-text", "要求发放2025年危房改造补助两万元")
    page.select_option("#id_d-0-category", "危房改造")
    # Enter in the last demand adds a row instead of submitting
    page.press("#id_d-0-text", "Enter")
    page.wait_for_selector("#id_d-1-text")
    assert page.url.endswith("/register/")
    page.wait_for_selector(f"#match-panel :text('{earlier.number}')")
    panel = page.inner_text("#match-panel")
    assert "姓名同音、同村" in panel and "诉求相似" in panel and other.number not in panel
    radio = f"#match-panel input[name=match_repeat_of][value='{earlier.pk}']"
    assert not page.is_checked(radio)  # a like name alone: the clerk decides
    v.shot("register-suggested-repeat")
    page.check(radio)
    v.submit("form.register button[type=submit]")
    case = Case.objects.exclude(pk__in=[earlier.pk, other.pk]).get()
    assert page.url.endswith(f"/cases/{case.pk}/"), page.inner_text("main")[:400]
    assert case.repeat_of == earlier and case.repeat_count == 1
    assert case.main_petitioner == earlier.main_petitioner
    assert MatchDecision.objects.get(later=case).verdict == Verdict.SAME
    v.shot("registered-as-repeat")


def test_a_clerk_rejects_a_suggestion_and_it_stays_away(
    chromium, live_server, jianan, register  # noqa: F811
):
    earlier = register(petitioners=[PetitionerInput(name="王秀兰", phone="13912345678")])
    v = Visit(chromium, live_server.url)
    page = v.page
    v.sign_in("clerk")
    v.go("/register/")
    page.fill("#id_matter", "反映危房改造补助未到位")
    page.fill("#id_p-0-name", "王秀兰")
    page.fill("#id_p-0-phone", "139-1234-5678")
    page.fill("#id_d-0-text", "要求落实2025年危房改造补助")
    page.select_option("#id_d-0-category", "危房改造")
    page.wait_for_selector(f"#match-panel :text('{earlier.number}')")
    page.click(f"#match-panel button[data-reject-match='{earlier.pk}']")
    page.wait_for_selector("#match-panel :text('已排除')")
    assert page.locator(f"#match-panel input[value='{earlier.pk}']").count() == 0
    v.submit("form.register button[type=submit]")
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert case.repeat_of is None
    assert MatchDecision.objects.get(later=case, earlier=earlier).verdict == Verdict.NOT_SAME
