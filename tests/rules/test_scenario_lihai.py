"""沥海街道 (seed 004): a phone call within 1 working day of receipt, replies within 1 week (phone,
online) or 15 working days (letters, visits); the third petition on a matter raises a warning
notice to the line head, copied to the approver and the chief, answered within 7 working days
and signed by the approver; "2211": the chief signs at assignment and at closing."""

import pytest

from tests.conftest import register_in, sh
from tests.rules.walking import Walk, started, stopped
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def j(jurisdiction):
    return jurisdiction("lihai")


def _signed_off(walk, j, at):
    """2211: the approver signs off, then the chief signs the assignment."""
    walk("propose", j.member("clerk"), at, proposal="交将官池镇联村工作组办理")
    walk("sign_off", j.member("approver"), at.replace(hour=at.hour + 1))
    assert walk.case.state == c.State.AWAITING_COUNTERSIGN
    walk("countersign", j.member("chief"), at.replace(hour=at.hour + 2), note="交办签")
    assert walk.case.state == c.State.SIGNED_OFF


def test_lihai_phone_petition_one_working_day_call_and_one_week_reply(j):
    township = j.member("township")
    # A phone petition Friday 09-18 10:00: one week → Friday 09-25 (中秋节), rolled to 09-28.
    walk = Walk(register_in(j, at=sh(2026, 9, 18, 10, 30), received_at=sh(2026, 9, 18, 10),
                            channel=c.Channel.PHONE))
    register = walk.case.events.get(type="register")
    # 004 §一(二): the call counts from registration, like the reply (09-20 is a make-up
    # working day: 09-20 24时).
    assert started(register) == {"routing", "reply_phone_online", "phone_contact"}
    call = walk.clock("phone_contact")
    assert call.due_at == sh(2026, 9, 21) and call.alert_roles == ["unit_handler", "line_head"]
    reply = walk.clock("reply_phone_online")
    assert (reply.amount, reply.unit) == (1, "weeks")
    assert reply.due_at == sh(2026, 9, 29) and reply.provisional is False
    assert reply.alert_roles == ["unit_handler", "line_head", "approver"]

    _signed_off(walk, j, sh(2026, 9, 18, 11))
    walk("assign", j.member("clerk"), sh(2026, 9, 18, 14), lead=j.townships["将官池镇"],
         receiver_name="陈晓东")
    # Signed for Thursday 09-24 16:00, late: the call's working day does not move with it,
    # and the sign-for clock (one working day from the hand-over, 09-20 24时) shows the delay.
    event = walk("sign_for", township, sh(2026, 9, 24, 16))
    assert "phone_contact" not in started(event)
    assert stopped(event) == {"sign_for": False}
    assert walk.clock("phone_contact").due_at == sh(2026, 9, 21)
    event = walk("log_contact", township, sh(2026, 9, 28, 9), kind="phone",
                 note="电话联系，问清诉求")
    assert stopped(event) == {"phone_contact": False}

    walk("record_finding", township, sh(2026, 9, 28, 10),
         findings={1: ("true", "solved", "已落实")})
    walk("draft_letter", township, sh(2026, 9, 28, 11), body="答复意见……")
    walk("approve_letter", j.member("approver"), sh(2026, 9, 28, 15))
    event = walk("issue_letter", township, sh(2026, 9, 28, 16))
    assert stopped(event) == {"reply_phone_online": True, "handling": True}


def test_lihai_third_repeat_visit_fifteen_working_days_and_a_warning_notice(j):
    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    second = register_in(j, at=sh(2026, 8, 20, 10), received_at=sh(2026, 8, 20, 9))
    assert second.repeat_count == 1 and not second.warning_notices.exists()

    # The third visit on the matter, Monday 09-21 09:00.
    walk = Walk(register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9)))
    assert walk.case.repeat_count == 2
    # 15 working days: 09-22…09-24, 09-28…09-30, 10-08, 10-09, the make-up Saturday 10-10,
    # 10-12…10-16, 10-19.
    reply = walk.clock("reply_letter_visit")
    assert reply.due_at == sh(2026, 10, 20) and reply.provisional is False
    assert any("10-10" in line and "计第9个工作日" in line for line in reply.explanation)

    # The warning notice (§二(二)), issued at the received instant (09:00; typed in at 10:00).
    notice = walk.case.warning_notices.get()
    assert notice.rule == "warning_notice" and notice.reasons == ["第3次信访"]
    assert (notice.to_roles, notice.cc_roles) == (["line_head"], ["approver", "chief"])
    assert notice.issued_at == sh(2026, 9, 21, 9)
    follow_up = notice.follow_up
    assert (follow_up.amount, follow_up.unit) == (7, "working_days")
    # 09-22…09-24, 09-28…09-30, 10-08 → 10-08 24时.
    assert follow_up.due_at == sh(2026, 10, 9) and follow_up.provisional is False
    issued = walk.case.events.get(type="warning_issued")
    assert issued.payload["rule"] == "warning_notice"
    assert issued.payload["due"] == sh(2026, 10, 9).isoformat()
    assert (issued.actor, issued.actor_role) == (None, "system")
    alerts = walk.case.alerts.filter(kind=Alert.Kind.WARNING, clock=follow_up)
    assert set(alerts.values_list("role", flat=True)) == {"line_head", "approver", "chief"}

    _signed_off(walk, j, sh(2026, 9, 21, 11))
    walk("assign", clerk, sh(2026, 9, 21, 15), lead=j.townships["将官池镇"],
         receiver_name="陈晓东")
    walk("sign_for", township, sh(2026, 9, 22, 9))

    # The line head drafts the answer; the approver reviews and signs it (§二(二)).
    with pytest.raises(Refused, match="分管领导"):
        walk("answer_warning", j.member("township_head"), sh(2026, 10, 8, 10),
             rule="warning_notice", cause="补助标准解释不到位", measures="再次上门解释")
    event = walk("answer_warning", approver, sh(2026, 10, 8, 15), rule="warning_notice",
                 cause="补助标准解释不到位，村里公示不及时", measures="重新核实、公示，片长包案")
    assert event.payload["met"] is True and event.payload["rule"] == "warning_notice"
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.met) == ("stopped", True)
    notice.refresh_from_db()
    assert notice.answered_at == sh(2026, 10, 8, 15) and notice.signed_by == approver.user


def test_lihai_closing_needs_a_return_visit_and_both_closing_signatures(j):
    clerk, approver, chief, township = (j.member(k) for k in ("clerk", "approver", "chief",
                                                             "township"))
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10)))
    _signed_off(walk, j, sh(2026, 9, 14, 11))
    walk("assign", clerk, sh(2026, 9, 14, 15), lead=j.townships["将官池镇"],
         receiver_name="陈晓东")
    walk("sign_for", township, sh(2026, 9, 15, 9))
    walk("record_finding", township, sh(2026, 9, 16, 10),
         findings={1: ("true", "solved", "已落实")})
    walk("draft_letter", township, sh(2026, 9, 16, 11), body="答复意见……")
    walk("approve_letter", approver, sh(2026, 9, 16, 15))
    walk("issue_letter", township, sh(2026, 9, 16, 16))
    walk("record_delivery", township, sh(2026, 9, 17, 10), mode="in_person",
         delivered_at=sh(2026, 9, 17, 9), deliverer="陈晓东", recipient="张三明",
         receipt_signed=True)
    # Every case gets one return visit (§二(一)).
    with pytest.raises(Refused, match="回访记录"):
        walk("close", approver, sh(2026, 9, 18, 9))
    walk("log_contact", township, sh(2026, 9, 18, 10), kind="return_visit", note="回访，满意")
    # The approver signs, then the chief (办结签).
    event = walk("close", approver, sh(2026, 9, 18, 11))
    assert walk.case.state == c.State.DELIVERED and event.payload["awaiting"] == ["chief"]
    walk("close", chief, sh(2026, 9, 18, 15), note="办结签")
    assert walk.case.state == c.State.CLOSED and walk.case.closed_at == sh(2026, 9, 18, 15)
