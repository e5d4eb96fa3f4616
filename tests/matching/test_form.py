"""The registration form's earlier-cases panel (issue 14) and the issue-15 leftovers: the person
found by phone, the township filled from the village."""

import re

import pytest
from django.urls import reverse

from tests.web.test_flows import registration_data, signed_in
from xinfang.cases.models import Case
from xinfang.cases.services import PetitionerInput
from xinfang.matching.models import MatchDecision, Verdict

pytestmark = pytest.mark.django_db


def typed(j, **extra):
    """The form as the clerk has it: 王秀澜, the same phone, no ID number, one demand."""
    return registration_data(j, **{
        "p-TOTAL_FORMS": "1", "p-0-name": "王秀澜", "p-0-id_number": "",
        "p-0-phone": "139 1234 5678", "d-TOTAL_FORMS": "1",
        "d-0-text": "要求落实2025年危房改造补助", "matter": "危房改造补助一直没有到位",
    } | extra)


def earlier(register, **kw):
    return register(petitioners=[PetitionerInput(name="王秀兰", phone="13912345678")], **kw)


def test_the_panel_offers_the_earlier_case_with_score_and_reasons(jianan, register):
    case = earlier(register)
    client = signed_in(jianan.member("clerk"))
    html = client.post(reverse("web:register_matches"), typed(jianan)).content.decode()
    assert case.number in html and "同一手机号；姓名同音；诉求相似" in html
    assert re.search(rf'name="match_repeat_of" value="{case.pk}" checked', html)


def test_rejecting_in_the_panel_keeps_it_out_and_is_recorded_at_registration(jianan, register):
    case = earlier(register)
    client = signed_in(jianan.member("clerk"))
    html = client.post(reverse("web:register_matches"),
                       typed(jianan, match_not_same=str(case.pk))).content.decode()
    assert "已排除" in html and case.number in html.split("已排除", 1)[1]
    assert f'name="match_repeat_of" value="{case.pk}"' not in html
    r = client.post(reverse("web:register"), typed(jianan, match_not_same=str(case.pk)))
    assert r.status_code == 302
    new = Case.objects.exclude(pk=case.pk).get()
    assert new.repeat_of is None
    assert MatchDecision.objects.get(later=new).verdict == Verdict.NOT_SAME
    again = client.post(reverse("web:register_matches"), typed(jianan)).content.decode()
    assert f'value="{case.pk}"' not in again and new.number in again


def test_confirming_in_the_form_links_the_repeat(jianan, register):
    case = earlier(register)
    r = signed_in(jianan.member("clerk")).post(
        reverse("web:register"), typed(jianan, match_repeat_of=str(case.pk)))
    assert r.status_code == 302
    new = Case.objects.exclude(pk=case.pk).get()
    assert new.repeat_of == case and new.repeat_count == 1
    assert new.main_petitioner == case.main_petitioner


def test_none_of_them_records_each_offered_matter_as_not_the_same(jianan, register):
    case = earlier(register)
    r = signed_in(jianan.member("clerk")).post(
        reverse("web:register"), typed(jianan, match_repeat_of="none"))
    assert r.status_code == 302
    new = Case.objects.exclude(pk=case.pk).get()
    assert new.repeat_of is None
    assert MatchDecision.objects.get(later=new, earlier=case).verdict == Verdict.NOT_SAME


def test_the_phone_check_offers_the_person_with_that_phone(jianan, register):
    case = earlier(register)
    client = signed_in(jianan.member("clerk"))
    html = client.post(reverse("web:register_check_phone"),
                       {"p-0-phone": "+86 139-1234-5678", "p-0-name": ""}).content.decode()
    assert "手机号一致" in html and case.number in html and 'id="p-0-earlier"' in html


def test_a_village_alone_fills_its_township(jianan):
    client = signed_in(jianan.member("clerk"))
    page = client.get(reverse("web:register")).content.decode()
    village = jianan.villages["岗朱村"]
    assert f'data-township="{village.parent_id}"' in page and "岗朱村（将官池镇）" in page
    r = client.post(reverse("web:register"), registration_data(jianan, township=""))
    assert r.status_code == 302
    assert Case.objects.get().township == jianan.townships["将官池镇"]


@pytest.mark.parametrize(("field", "value"), [
    ("p-0-name", "\ufeff王秀兰\u200b"),  # pasted from WeChat
    ("p-0-phone", "139–1234–5678"),  # Word's en dash
    ("p-0-phone", "13912345678\u200b"),
])
def test_the_earlier_cases_warning_finds_the_person_pasted(jianan, register, field, value):
    # given 王秀兰's earlier case
    case = earlier(register)
    client = signed_in(jianan.member("clerk"))

    # when her name or phone is pasted into the form, as the clerk has it from elsewhere
    data = {"p-0-name": "", "p-0-id_number": "", "p-0-phone": ""} | {field: value}
    html = client.post(reverse("web:register_check_petitioner"), data).content.decode()

    # then the warning offers her earlier case
    assert case.number in html and 'id="p-0-earlier"' in html
