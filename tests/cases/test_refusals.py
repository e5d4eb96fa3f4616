"""Illegal transitions are refused with a reason, and nothing is written when they are."""

import pytest

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services import DemandInput, perform, refusal
from xinfang.cases.workflow import TRANSITIONS
from xinfang.rules.profile import shipped_profiles
from xinfang.web.admin_services import unit_set_active


def kaijiang_category() -> str:
    return shipped_profiles()["kaijiang"].categories[0]


pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(jianan, register):
    case = register(matter="咨询事项")
    case = perform(
        "decline", case=case, by=jianan.member("clerk"), reason="不属于受理范围", guidance="已引导"
    )
    return perform("archive", case=case, by=jianan.member("clerk"))


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_a_transition_from_a_state_it_does_not_start_from_is_refused(name, register, archived):
    t = TRANSITIONS[name]
    case = register() if c.State.REGISTERED not in t.sources else archived
    assert case.state not in t.sources
    events = case.events.count()
    with pytest.raises(Refused, match=f"本件当前状态为“{case.get_state_display()}”"):
        perform(name, case=case, by=None)
    assert case.events.count() == events
    assert refusal(name, case=case, by=None) is not None


@pytest.mark.parametrize(
    "member",
    [
        "township",
        "bureau",
        "discipline",
        "inspector",
        "sysadmin",
        "secadmin",
        "auditor",
        "approver",
    ],
)
def test_only_a_clerk_proposes(member, jianan, register):
    case = register()
    with pytest.raises(Refused, match="须由经办人办理"):
        perform("propose", case=case, by=jianan.member(member), proposal="x")


def test_a_unit_cannot_act_on_a_case_not_assigned_to_it(jianan, register):
    case = register()
    perform("propose", case=case, by=jianan.member("clerk"), proposal="交将官池镇")
    perform("sign_off", case=case, by=jianan.member("approver"))
    case = perform(
        "assign",
        case=case,
        by=jianan.member("clerk"),
        lead=jianan.townships["将官池镇"],
        receiver_name="陈晓东",
    )
    with pytest.raises(Refused, match="只能由本件的承办单位办理"):
        perform("sign_for", case=case, by=jianan.member("bureau"))


def test_a_letter_cannot_be_drafted_before_every_demand_has_a_finding(jianan, register):
    case = register()
    perform("propose", case=case, by=jianan.member("clerk"), proposal="交将官池镇")
    perform("sign_off", case=case, by=jianan.member("approver"))
    perform(
        "assign",
        case=case,
        by=jianan.member("clerk"),
        lead=jianan.townships["将官池镇"],
        receiver_name="陈晓东",
    )
    case = perform("sign_for", case=case, by=jianan.member("township"))
    with pytest.raises(Refused, match="第1项诉求尚未核查认定"):
        perform("draft_letter", case=case, by=jianan.member("township"), body="意见")


def test_closing_without_rating_and_pledge_names_what_is_missing(jurisdiction):
    from tests.conftest import register_in

    kaijiang = jurisdiction("kaijiang")  # seed 002 §五(四): satisfaction form and pledge on file
    case = register_in(
        kaijiang, demands=[DemandInput(text="要求补助", category=kaijiang_category())]
    )
    jianan = kaijiang
    clerk, township = jianan.member("clerk"), jianan.member("township")
    perform("propose", case=case, by=clerk, proposal="交将官池镇")
    perform("sign_off", case=case, by=jianan.member("approver"))
    perform(
        "assign", case=case, by=clerk, lead=jianan.townships["将官池镇"], receiver_name="陈晓东"
    )
    perform("sign_for", case=case, by=township)
    perform("record_finding", case=case, by=township, findings={1: ("true", "solved", "")})
    perform("draft_letter", case=case, by=township, body="意见")
    perform("approve_letter", case=case, by=jianan.member("approver"))
    perform("issue_letter", case=case, by=clerk)
    from tests.conftest import sh

    case = perform(
        "record_delivery",
        case=case,
        by=clerk,
        mode="in_person",
        delivered_at=sh(2026, 9, 20, 10),
        deliverer="陈晓东",
        recipient="张三明",
        receipt_signed=True,
    )
    with pytest.raises(Refused, match="不能销号，尚缺") as refused:
        perform("close", case=case, by=jianan.member("approver"))
    assert "满意度评价" in refused.value.message and "息诉息访书" in refused.value.message
    assert case.state == c.State.DELIVERED


def test_written_reply_is_required_for_a_superior_referral(jianan, register):
    case = register(source_level=c.SourceLevel.CITY, source_office="许昌市乡村振兴局")
    assert case.reply_mode_required == "written"


def test_bad_registration_input_names_every_field(jianan):
    from tests.conftest import sh
    from xinfang.cases.services import (
        DemandInput,
        Invalid,
        PetitionerInput,
        Registration,
        case_register,
    )

    data = Registration(
        channel="visit",
        matter="",
        received_at=sh(2026, 9, 1, 9),
        petitioners=[PetitionerInput(name="王五", id_number="410102199002301234", phone="12345")],
        demands=[DemandInput(text="要求补助", category="不存在的类别")],
    )
    with pytest.raises(Invalid) as bad:
        case_register(by=jianan.member("clerk"), data=data)
    assert {
        "matter",
        "petitioners[0].id_number",
        "petitioners[0].phone",
        "demands[0].category",
    } <= set(bad.value.errors)
    from xinfang.cases.models import Case

    assert not Case.objects.exists()


def test_a_switched_off_unit_is_refused_as_lead_or_assisting(jianan, register):
    # given: a form read while 区教育局 was on, sent after it was switched off (merged)
    j = jianan
    bureau = j.bureaus["区教育局"]
    case = register()
    case = perform("propose", case=case, by=j.member("clerk"), proposal="交区教育局")
    case = perform("sign_off", case=case, by=j.member("approver"))
    unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    events = case.events.count()
    # when / then: refused by name, whether as lead or assisting unit; nothing written
    for params in ({"lead": bureau}, {"lead": j.townships["将官池镇"], "assisting": [bureau]}):
        with pytest.raises(Refused, match="区教育局已停用，不能交办。"):
            perform("assign", case=case, by=j.member("clerk"), receiver_name="陈晓东", **params)
    assert case.events.count() == events and not case.assignments.exists()
