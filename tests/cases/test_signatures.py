"""Second signatures where a profile demands them: lihai's "2211" has the chief sign at assignment
and, after the approver, at closing (seed 004 §二(一))."""

import pytest

from tests.conftest import register_in, sh
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services import DemandInput, perform
from xinfang.rules.profile import shipped_profiles

pytestmark = pytest.mark.django_db


def test_lihai_chief_countersigns_assignment_and_closing(jurisdiction):
    j = jurisdiction("lihai")
    clerk, approver, chief, township = (
        j.member(k) for k in ("clerk", "approver", "chief", "township")
    )
    category = shipped_profiles()["lihai"].categories[0]
    case = register_in(
        j, channel=c.Channel.PHONE, demands=[DemandInput(text="要求落实帮扶", category=category)]
    )
    perform("propose", case=case, by=clerk, proposal="交将官池镇", at=sh(2026, 9, 14, 11))
    case = perform("sign_off", case=case, by=approver, at=sh(2026, 9, 14, 12))
    assert case.state == c.State.AWAITING_COUNTERSIGN
    assert case.events.last().payload["awaiting"] == ["chief"]
    with pytest.raises(Refused, match="不能“交办”"):
        perform("assign", case=case, by=clerk, lead=j.townships["将官池镇"], receiver_name="陈")

    # The chief sends it back; the approver's signature is withdrawn with it.
    case = perform(
        "return_proposal",
        case=case,
        by=chief,
        reason="请先联系信访人核实诉求",
        at=sh(2026, 9, 14, 13),
    )
    assert case.state == c.State.REGISTERED
    perform(
        "propose", case=case, by=clerk, proposal="交将官池镇，区民政局协办", at=sh(2026, 9, 14, 14)
    )
    perform("sign_off", case=case, by=approver, at=sh(2026, 9, 14, 15))
    case = perform("countersign", case=case, by=chief, note="同意交办", at=sh(2026, 9, 14, 16))
    assert case.state == c.State.SIGNED_OFF
    assert list(case.signatures.values_list("stage", "role")) == [
        ("sign_off", "approver"),
        ("sign_off", "approver"),
        ("assignment", "chief"),
    ]

    perform(
        "assign",
        case=case,
        by=clerk,
        lead=j.townships["将官池镇"],
        receiver_name="陈晓东",
        at=sh(2026, 9, 14, 17),
    )
    perform("sign_for", case=case, by=township, at=sh(2026, 9, 15, 9))
    perform("log_contact", case=case, by=township, kind="phone", at=sh(2026, 9, 15, 10))
    perform(
        "record_finding",
        case=case,
        by=township,
        findings={1: ("true", "solved", "已落实")},
        at=sh(2026, 9, 16, 10),
    )
    perform("draft_letter", case=case, by=township, body="答复意见", at=sh(2026, 9, 16, 11))
    perform("approve_letter", case=case, by=approver, at=sh(2026, 9, 16, 12))
    perform("issue_letter", case=case, by=clerk, at=sh(2026, 9, 16, 13))
    perform(
        "record_delivery",
        case=case,
        by=clerk,
        mode="in_person",
        delivered_at=sh(2026, 9, 17, 9),
        deliverer="陈晓东",
        recipient="张三明",
        receipt_signed=True,
        at=sh(2026, 9, 17, 10),
    )
    with pytest.raises(Refused, match="回访记录"):
        perform("close", case=case, by=approver, at=sh(2026, 9, 18, 9))
    perform(
        "log_contact",
        case=case,
        by=township,
        kind="return_visit",
        note="回访，信访人满意",
        at=sh(2026, 9, 18, 10),
    )
    case = perform("close", case=case, by=approver, at=sh(2026, 9, 18, 11))
    assert case.state == c.State.DELIVERED, "the approver's signature alone does not close"
    assert case.events.last().payload["awaiting"] == ["chief"]
    case = perform("close", case=case, by=chief, at=sh(2026, 9, 18, 12))
    assert case.state == c.State.CLOSED
    assert case.closed_at == sh(2026, 9, 18, 12)
