"""What the pages do when posted to: registration, actions (refused, stale, invalid), revealing
identity, attachments, sign-in, the membership switcher, CSRF and escaping."""

import inspect
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import id_number
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.services import PetitionerInput, effects, perform
from xinfang.cases.workflow import TRANSITIONS
from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.web.admin_services import unit_set_active
from xinfang.web.forms.actions import ACTION_FORMS

from .conftest import PASSWORD, signed_in, walk

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
DYNAMIC = {("record_finding", "findings"), ("open_review", "clerk")}


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def registration_data(j, **extra):
    now = timezone.now()
    data = {
        "channel": "visit",
        "kind": "petition",
        "matter_type": "request",
        "received_at": local(now - timedelta(hours=1)),
        "headcount": "1",
        "matter": "反映危房改造补助未到位",
        "township": str(j.townships["将官池镇"].pk),
        "village": str(j.villages["岗朱村"].pk),
        "source_level": "none",
        "p-TOTAL_FORMS": "2",
        "p-INITIAL_FORMS": "0",
        "p-MIN_NUM_FORMS": "1",
        "p-MAX_NUM_FORMS": "1000",
        "p-0-name": "张三明",
        "p-0-role": "main",
        "p-0-id_number": id_number("41102319800101123"),
        "p-0-phone": "13812345678",
        "p-0-address": "将官池镇岗朱村3组",
        "p-1-name": "李秀英",
        "p-1-role": "companion",
        "d-TOTAL_FORMS": "2",
        "d-INITIAL_FORMS": "0",
        "d-MIN_NUM_FORMS": "1",
        "d-MAX_NUM_FORMS": "1000",
        "d-0-text": "要求落实危房改造补助",
        "d-0-category": "危房改造",
        "d-1-text": "要求公开补助名单",
        "d-1-category": "资金项目",
        "r-TOTAL_FORMS": "0",
        "r-INITIAL_FORMS": "0",
        "r-MIN_NUM_FORMS": "0",
        "r-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def case_url(case, *rest):
    return reverse("web:case", args=[case.pk]) + "".join(rest)


def act_url(case, name):
    return reverse("web:case_action", args=[case.pk, name])


# -- the action forms follow the effects ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_each_transition_has_a_form_whose_fields_are_its_effects_arguments(name):
    # given
    signature = inspect.signature(getattr(effects, name))
    arguments = {p for p in signature.parameters if p != "ctx"}
    form = ACTION_FORMS[name]
    # then
    assert set(form.service_params) == arguments
    for param in form.service_params:
        assert param in form.base_fields or (name, param) in DYNAMIC, param


# -- registration -----------------------------------------------------------------------------


def test_a_clerk_registers_two_petitioners_and_two_demands_on_one_form(jianan):
    client = signed_in(jianan.member("clerk"))
    response = client.post(reverse("web:register"), registration_data(jianan))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == case_url(case)
    assert case.petitioner_links.count() == 2 and case.demands.count() == 2
    assert case.village == jianan.villages["岗朱村"]
    page = client.get(response["Location"]).content.decode()
    assert case.number in page and "张*明" in page and "张三明" not in page


def test_a_bad_id_number_is_marked_at_its_field_and_nothing_typed_is_lost(jianan):
    client = signed_in(jianan.member("clerk"))
    bad = id_number("41102319800101123")[:-1] + "Y"
    response = client.post(
        reverse("web:register"), registration_data(jianan, **{"p-0-id_number": bad})
    )
    html = response.content.decode()
    assert response.status_code == 400 and not Case.objects.exists()
    error = re.search(r'id="id_p-0-id_number_error">([^<]*)<', html).group(1)
    assert "身份证号码" in error
    for typed in ["反映危房改造补助未到位", "李秀英", "要求公开补助名单", bad]:
        assert typed in html


def test_an_error_only_the_service_knows_lands_on_its_field(jianan):
    client = signed_in(jianan.member("clerk"))
    future = local(timezone.now() + timedelta(days=2))
    response = client.post(reverse("web:register"), registration_data(jianan, received_at=future))
    html = response.content.decode()
    assert response.status_code == 400
    assert "信访时间不能晚于当前时间" in re.search(
        r'id="id_received_at_error">([^<]*)<', html
    ).group(1)


def test_choosing_an_earlier_petitioner_links_the_new_case_as_a_repeat(jianan, register):
    earlier = register()
    person = earlier.main_petitioner
    client = signed_in(jianan.member("clerk"))
    data = registration_data(jianan, **{"p-0-id_number": "", "p-0-link": str(person.pk)})
    assert client.post(reverse("web:register"), data).status_code == 302
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert case.repeat_of == earlier and case.main_petitioner == person


def test_only_a_clerk_may_open_the_registration_form(jianan):
    assert signed_in(jianan.member("approver")).get(reverse("web:register")).status_code == 403
    assert signed_in(jianan.member("clerk")).get(reverse("web:register")).status_code == 200


# -- the HTMX endpoints of the registration form -------------------------------------------------


def test_villages_follow_the_township(jianan):
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:register_villages") + f"?township={jianan.townships['五女店镇'].pk}"
    html = client.get(url).content.decode()
    assert "魏庄村" in html and "岗朱村" not in html


def test_the_id_number_is_checked_as_typed_and_earlier_cases_are_offered(jianan, register):
    earlier = register()
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:register_check_petitioner")
    good = client.post(
        url, {"p-0-id_number": id_number("41102319800101123"), "p-0-name": ""}
    ).content.decode()
    assert "号码有效" in good and earlier.number in good and 'hx-swap-oob="true"' in good
    bad = client.post(url, {"p-0-id_number": "4110231980", "p-0-name": ""}).content.decode()
    assert "身份证号码应为18位" in bad
    by_name = client.post(url, {"p-3-id_number": "", "p-3-name": "张三明"}).content.decode()
    assert earlier.number in by_name and 'name="p-3-link"' in by_name


def test_an_office_above_is_not_offered_the_person_of_a_county_case(jianan, register):
    """The city's office reads the county's cases through its door, but only the county's own
    office reveals their people: typing the same ID number offers the city nothing."""
    from xinfang.cases.selectors import cases_for
    from xinfang.web.views.registration import earlier_matches

    earlier = register()
    number = id_number("41102319800101123")
    city = jianan.member("city_clerk")
    assert cases_for(city).filter(pk=earlier.pk).exists()
    assert earlier_matches(city, "", number) == []
    found = earlier_matches(jianan.member("clerk"), "", number)
    assert [c.pk for p in found for c in p.cases] == [earlier.pk]


def test_the_phone_is_checked_as_typed(jianan):
    client = signed_in(jianan.member("clerk"))
    url = reverse("web:register_check_phone")
    assert "号码有效" in client.post(url, {"p-0-phone": "13812345678"}).content.decode()
    assert "11位" in client.post(url, {"p-0-phone": "1381234567"}).content.decode()


def test_the_typing_endpoints_serve_registering_clerks_only(jianan):
    client = signed_in(jianan.member("township"))
    assert (
        client.post(reverse("web:register_check_petitioner"), {"p-0-name": "张三明"}).status_code
        == 403
    )


# -- actions ------------------------------------------------------------------------------------


def test_an_action_taken_from_its_form_moves_the_case(jianan, register):
    case = register()
    client = signed_in(jianan.member("clerk"))
    response = client.post(
        act_url(case, "propose"),
        {"propose-version": case.version, "propose-proposal": "交将官池镇办理"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == c.State.PROPOSED
    assert "已办理：拟办（处置建议）" in client.get(case_url(case)).content.decode()


def test_a_missing_input_is_marked_at_its_field(jianan, register):
    case = register()
    client = signed_in(jianan.member("clerk"))
    response = client.post(act_url(case, "propose"), {"propose-version": case.version})
    assert response.status_code == 400
    assert 'id="id_propose-proposal_error"' in response.content.decode()


def test_a_stale_form_is_refused_and_what_was_typed_is_kept(jianan, register):
    # given: the clerk's form was built at version 1, then someone logged a contact
    case = register()
    old = case.version
    perform("log_contact", case=case, by=jianan.member("approver"), kind="phone")
    client = signed_in(jianan.member("clerk"))
    # when
    response = client.post(
        act_url(case, "propose"),
        {"propose-version": old, "propose-proposal": "我写了很久的处置建议"},
    )
    # then
    html = response.content.decode()
    case.refresh_from_db()
    assert response.status_code == 409 and case.state == c.State.REGISTERED
    assert "已被他人修改" in html and "我写了很久的处置建议" in html
    assert f'name="propose-version" value="{case.version}"' in html
    assert "联系信访人" in html  # the reloaded page shows what changed


def test_a_refusal_by_the_effect_is_shown_at_its_field(jianan, register):
    case = walk(jianan, register(), "letter_issued")
    client = signed_in(jianan.member("clerk"))
    response = client.post(
        act_url(case, "record_delivery"),
        {
            "record_delivery-version": case.version,
            "record_delivery-mode": "in_person",
            "record_delivery-delivered_at": local(timezone.now() - timedelta(minutes=5)),
            "record_delivery-deliverer": "陈晓东",
            "record_delivery-recipient": "张三明",
        },
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "没有送达回证" in re.search(
        r'id="id_record_delivery-receipt_signed_error">([^<]*)<', html
    ).group(1)


def test_an_action_the_role_may_not_take_is_refused_with_its_reason(jianan, register):
    case = walk(jianan, register(), "in_progress")
    client = signed_in(jianan.member("township"))
    response = client.post(
        act_url(case, "propose"),
        {"propose-version": case.version, "propose-proposal": "越权的处置建议"},
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "不能“拟办（处置建议）”" in html and "越权的处置建议" in html
    assert 'data-action="propose"' not in html


def test_the_assign_form_offers_the_routing_proposals(jianan, register):
    case = walk(jianan, register(), "signed_off")
    html = signed_in(jianan.member("clerk")).get(case_url(case)).content.decode()
    assert "规则建议" in html and 'data-action="assign"' in html
    assert "岗朱村</option>" not in html  # no village-level handling


def test_findings_take_one_row_per_demand(jianan, register):
    from xinfang.cases.services import DemandInput

    case = register(
        demands=[
            DemandInput(text="补助", category="危房改造"),
            DemandInput(text="公开", category="资金项目"),
        ]
    )
    case = walk(jianan, case, "in_progress")
    client = signed_in(jianan.member("township"))
    response = client.post(
        act_url(case, "record_finding"),
        {
            "record_finding-version": case.version,
            "record_finding-finding_1": "true",
            "record_finding-resolution_1": "solved",
            "record_finding-note_1": "已补发",
            "record_finding-finding_2": "false",
            "record_finding-resolution_2": "explained",
            "record_finding-note_2": "已公开",
        },
    )
    assert response.status_code == 302
    assert list(case.demands.values_list("finding", flat=True)) == ["true", "false"]


# -- identity: masked by default, revealed with a reason --------------------------------------


def test_revealing_a_petitioner_needs_a_reason_and_is_audited(jianan, register):
    case = register()
    person = case.main_petitioner
    client = signed_in(jianan.member("clerk"))
    assert "张三明" not in client.get(case_url(case)).content.decode()
    refused = client.post(
        reverse("web:case_reveal", args=[case.pk]), {"petitioner": person.pk, "reason": ""}
    )
    assert refused.status_code == 400 and not AuditEntry.objects.filter(action="reveal").exists()
    shown = client.post(
        reverse("web:case_reveal", args=[case.pk]),
        {"petitioner": person.pk, "reason": "电话回访需核对号码"},
    )
    html = shown.content.decode()
    assert shown.status_code == 200 and "张三明" in html and "13812345678" in html
    assert "no-store" in shown["Cache-Control"]
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.detail["reason"] == "电话回访需核对号码" and entry.object_id == str(person.pk)


def test_an_htmx_reveal_answers_with_the_petitioners_card_only(jianan, register):
    case = register()
    client = signed_in(jianan.member("clerk"))
    response = client.post(
        reverse("web:case_reveal", args=[case.pk]),
        {"petitioner": case.main_petitioner.pk, "reason": "核对"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "张三明" in html and "<html" not in html


def test_a_handling_unit_never_reveals_a_confidential_petitioner(jianan, register):
    case = walk(jianan, register(confidential=True), "in_progress")
    client = signed_in(jianan.member("township"))
    html = client.get(case_url(case)).content.decode()
    assert "显示完整信息" not in html
    response = client.post(
        reverse("web:case_reveal", args=[case.pk]),
        {"petitioner": case.main_petitioner.pk, "reason": "想看"},
    )
    assert response.status_code == 403 and "张三明" not in response.content.decode()
    assert "显示完整信息" in signed_in(jianan.member("clerk")).get(case_url(case)).content.decode()


# -- attachments ------------------------------------------------------------------------------

PNG = (  # a real 1×1 PNG, checksums right: uploads are decoded whole
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
    b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_an_attachment_is_uploaded_and_downloaded_through_the_case(jianan, register):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = register()
    client = signed_in(jianan.member("clerk"))
    upload = SimpleUploadedFile("现场照片.png", PNG, content_type="image/png")
    response = client.post(
        reverse("web:attachment_upload", args=[case.pk]),
        {"file": upload, "description": "现场照片"},
    )
    assert response.status_code == 302
    attachment = case.attachments.get()
    url = reverse("web:attachment_download", args=[case.pk, attachment.pk])
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert "attachment" in download["Content-Disposition"]
    assert AuditEntry.objects.filter(action="download").exists()
    assert signed_in(jianan.member("bureau")).get(url).status_code == 404


def test_a_refused_upload_is_explained_at_the_field(jianan, register):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = register()
    client = signed_in(jianan.member("clerk"))
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    response = client.post(reverse("web:attachment_upload", args=[case.pk]), {"file": fake})
    assert response.status_code == 400
    assert 'id="id_file_error"' in response.content.decode()
    assert not case.attachments.exists()


def test_an_inspector_reads_but_does_not_upload(jianan, register):
    case = register()
    client = signed_in(jianan.member("inspector"))
    assert 'enctype="multipart/form-data"' not in client.get(case_url(case)).content.decode()
    assert client.post(reverse("web:attachment_upload", args=[case.pk]), {}).status_code == 403


# -- sign-in and the acting membership ----------------------------------------------------------


@pytest.mark.parametrize(
    "member,landing",
    [
        ("clerk", "web:home"),
        ("township", "web:home"),
        ("sysadmin", "web:admin_units"),
        ("secadmin", "web:admin_roles"),
        ("auditor", "web:audit_log"),
    ],
)
def test_each_role_lands_on_its_own_page(member, landing, jianan, client, settings):
    # (administrators enrol TOTP first where the setting requires it: tests/web/test_account.py)
    settings.XINFANG_TOTP_REQUIRED_ROLES = []
    response = client.post(reverse("web:login"), {"username": member, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse(landing)


def test_a_wrong_password_is_refused_in_chinese(jianan, client):
    response = client.post(reverse("web:login"), {"username": "clerk", "password": "nope"})
    assert response.status_code == 400 and "用户名或密码错误" in response.content.decode()


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(jianan, client):
    ok = client.post(
        reverse("web:login") + "?next=/ledger/", {"username": "clerk", "password": PASSWORD}
    )
    assert ok["Location"] == "/ledger/"
    client.logout()
    evil = client.post(
        reverse("web:login") + "?next=https://evil.example/",
        {"username": "clerk", "password": PASSWORD},
    )
    assert evil["Location"] == reverse("web:home")


def test_signing_out_takes_a_post(jianan):
    client = signed_in(jianan.member("clerk"))
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.post(reverse("web:logout"))["Location"] == reverse("web:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_a_user_with_two_memberships_switches_between_them(jianan):
    clerk = jianan.member("clerk")
    second = Membership.objects.create(user=clerk.user, unit=clerk.unit, role=Role.INSPECTOR)
    client = signed_in(clerk)
    assert "待拟办" in client.get(reverse("web:home")).content.decode()
    assert (
        client.post(reverse("web:switch_membership"), {"membership": second.pk}).status_code == 302
    )
    html = client.get(reverse("web:home")).content.decode()
    assert "已超期" in html and "待拟办" not in html and 'id="membership-switch"' in html
    other = jianan.member("approver").pk
    assert client.post(reverse("web:switch_membership"), {"membership": other}).status_code == 400


# -- queues ------------------------------------------------------------------------------------


def test_the_queue_puts_the_most_overdue_case_first(jianan, register):
    from tests.conftest import sh

    recent = register(
        at=timezone.now(),
        received_at=timezone.now() - timedelta(hours=1),
        petitioners=[PetitionerInput(name="赵一")],
    )
    old = register(at=sh(2026, 9, 14, 10), petitioners=[PetitionerInput(name="钱二")])
    html = signed_in(jianan.member("clerk")).get(reverse("web:home")).content.decode()
    assert html.index(old.number) < html.index(recent.number)
    assert "tone-overdue" in html


def test_a_township_sees_the_case_to_sign_for_and_the_inspector_sees_it_late(jianan, register):
    case = walk(jianan, register(), "assigned")
    township = signed_in(jianan.member("township")).get(reverse("web:home")).content.decode()
    assert case.number in township.split("待办理")[0]  # in the first bucket: 待签收
    inspector = signed_in(jianan.member("inspector")).get(reverse("web:home")).content.decode()
    assert case.number in inspector


# -- CSRF and escaping ------------------------------------------------------------------------


def test_posts_without_a_csrf_token_are_refused(jianan, register):
    case = register()
    client = signed_in(jianan.member("clerk"), Client(enforce_csrf_checks=True))
    posts = [
        (act_url(case, "propose"), {"propose-version": case.version, "propose-proposal": "无令牌"}),
        (reverse("web:case_reveal", args=[case.pk]), {"petitioner": 1, "reason": "x"}),
        (reverse("web:register"), registration_data(jianan)),
        (reverse("web:logout"), {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
    anonymous = Client(enforce_csrf_checks=True)
    assert (
        anonymous.post(
            reverse("web:login"), {"username": "clerk", "password": PASSWORD}
        ).status_code
        == 403
    )
    assert (
        anonymous.post(
            reverse("web:public"), {"number": case.number, "code": case.query_code}
        ).status_code
        == 403
    )
    case.refresh_from_db()
    assert case.state == c.State.REGISTERED


def test_script_in_matter_demand_and_name_is_shown_as_text(jianan, register):
    from xinfang.cases.services import DemandInput

    case = register(
        matter=XSS,
        demands=[DemandInput(text=XSS, category="危房改造")],
        petitioners=[PetitionerInput(name=XSS)],
    )
    client = signed_in(jianan.member("clerk"))
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url in [case_url(case), reverse("web:home"), reverse("web:ledger")]:
        html = client.get(url).content.decode()
        assert XSS not in html, url
        assert escaped in html, url
    revealed = client.post(
        reverse("web:case_reveal", args=[case.pk]),
        {"petitioner": case.main_petitioner.pk, "reason": "核对"},
    )
    assert XSS not in revealed.content.decode() and escaped in revealed.content.decode()
    earlier = client.post(reverse("web:register_check_petitioner"), {"p-0-name": XSS})
    assert XSS not in earlier.content.decode() and case.number in earlier.content.decode()


def test_a_user_with_an_authenticator_is_asked_for_the_code(jianan, client):
    import pyotp

    from xinfang.security.auth import _totp_secret, totp_enable

    user = jianan.member("approver").user
    totp_enable(user)
    user.refresh_from_db()
    asked = client.post(reverse("web:login"), {"username": "approver", "password": PASSWORD})
    html = asked.content.decode()
    assert asked.status_code == 400 and "请输入动态验证码" in html
    assert '<details class="totp">' not in html  # the code field is shown, not folded away
    code = pyotp.TOTP(_totp_secret(user)).now()
    done = client.post(
        reverse("web:login"), {"username": "approver", "password": PASSWORD, "totp_code": code}
    )
    assert done.status_code == 302 and done["Location"] == reverse("web:home")


def test_the_transfer_form_offers_the_discipline_office_and_checks_a_posted_one(jianan, register):
    """The case page's transfer form lists the county's discipline office from the kept
    statement, and a posted unit is checked against the filter itself (built only for a posted
    form, lead49): another unit of the county is refused at its field, the office accepted."""
    case = walk(jianan, register(concerns_misconduct=True), "in_progress")
    client = signed_in(jianan.member("clerk"))
    html = client.get(case_url(case)).content.decode()
    form = html[html.index('data-action="transfer_to_discipline"'):]
    form = form[:form.index("</form>")]
    assert f'<option value="{jianan.discipline.pk}" selected>' in form
    assert jianan.bureaus["区民政局"].name not in form
    data = {"transfer_to_discipline-version": case.version,
            "transfer_to_discipline-reason": "反映村干部截留补助",
            "transfer_to_discipline-receiver_name": "吴刚"}
    wrong = client.post(act_url(case, "transfer_to_discipline"),
                        {**data, "transfer_to_discipline-unit": jianan.bureaus["区民政局"].pk})
    assert wrong.status_code == 400
    assert re.search(r'id="id_transfer_to_discipline-unit_error">[^<]+<',
                     wrong.content.decode())
    right = client.post(act_url(case, "transfer_to_discipline"),
                        {**data, "transfer_to_discipline-unit": jianan.discipline.pk})
    assert right.status_code == 302
    case.refresh_from_db()
    assert case.transferred_to_discipline


def test_a_village_switched_off_after_the_form_was_read_is_named_on_the_form(jianan):
    # given: the form read while 霍庄村 was on, 霍庄村 switched off (merged) before it is sent
    village = jianan.villages["霍庄村"]
    unit_set_active(by=jianan.member("sysadmin"), unit=village, active=False)
    client = signed_in(jianan.member("clerk"))
    # when
    response = client.post(reverse("web:register"),
                           registration_data(jianan, village=str(village.pk)))
    # then
    assert response.status_code == 400
    assert "“霍庄村”已停用，请重新选择。" in response.content.decode()
    assert not Case.objects.exists()
