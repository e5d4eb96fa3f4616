"""大通湖区 (seed 000): the proposal before the approver within 1 day, assignment the same day as
sign-off, a reply within 3 working days (key case 5), never a village; provincial referrals wait
for the leading group head and report back to the referring office."""

from datetime import date

import pytest

from tests.conftest import id_number, register_in, sh
from tests.rules.walking import Walk, changes, started, stopped
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services import PetitionerInput
from xinfang.cases.services.supervision import sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def j(jurisdiction):
    return jurisdiction("datonghu")


def _petitioner(n: int) -> list[PetitionerInput]:
    return [PetitionerInput(name=f"刘{n}", id_number=id_number(f"4309211970010{n}123"),
                            address="大通湖区")]


def _deliver(walk, j, *, at):
    bureau, approver, clerk = j.member("bureau"), j.member("approver"), j.member("clerk")
    walk("record_finding", bureau, at.replace(hour=8),
         findings={1: ("partly", "solved", "补助已补发")})
    walk("draft_letter", bureau, at.replace(hour=9), body="经核查……")
    walk("approve_letter", approver, at.replace(hour=10))
    walk("issue_letter", clerk, at.replace(hour=11))
    return walk("record_delivery", clerk, at.replace(hour=15), mode="in_person",
                delivered_at=at.replace(hour=14), deliverer="周明", recipient="刘1",
                receipt_signed=True)


def test_datonghu_one_day_proposal_same_day_assignment_three_working_days_no_village(j):
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")

    # 接 — received Monday 09-14 09:30: the proposal is due before the approver by 09-15 24时.
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), petitioners=_petitioner(1)))
    register = walk.case.events.get(type="register")
    assert started(register) == {"routing", "proposal"}
    proposal = walk.clock("proposal")
    assert proposal.due_at == sh(2026, 9, 16) and proposal.provisional is False
    assert proposal.alert_roles == ["clerk", "approver"]

    event = walk("propose", clerk, sh(2026, 9, 15, 17), proposal="交区民政局办理")
    assert stopped(event) == {"proposal": True}

    # 转 — signed off Thursday 09-17 at 10:00: assignment due 24:00 the same day.
    event = walk("sign_off", approver, sh(2026, 9, 17, 10))
    assert started(event) == {"assignment"}
    assignment = walk.clock("assignment")
    assert assignment.unit == "same_day" and assignment.due_at == sh(2026, 9, 18)

    # Never a village (§四(二)): refused with the rule's name.
    with pytest.raises(Refused, match="never_a_village") as refused:
        walk("assign", clerk, sh(2026, 9, 17, 11), lead=j.villages["岗朱村"],
             receiver_name="村支书")
    assert "杜绝村级办理" in refused.value.message
    assert walk.case.state == c.State.SIGNED_OFF and not walk.case.assignments.exists()

    event = walk("assign", clerk, sh(2026, 9, 17, 16), lead=j.bureaus["区民政局"],
                 receiver_name="周明")
    assert stopped(event) == {"routing": True, "assignment": True}
    assert event.payload["receiver"] == "周明"  # §四(三): the receiver is recorded
    # §六(三) from the hand-over (§四(三)): 3 working days are 09-18, the make-up Sunday 09-20,
    # 09-21 → 09-21 24时.
    assert {"reply", "sign_for"} <= started(event) and "reply_key" not in started(event)
    reply = walk.clock("reply")
    assert reply.due_at == sh(2026, 9, 22) and reply.provisional is False
    assert any("09-20" in line and "计第2个工作日" in line for line in reply.explanation)

    # 办 — signed for Friday 09-18 16:00 (one working day after the hand-over: in time).
    event = walk("sign_for", bureau, sh(2026, 9, 18, 16))
    assert {"handling", "acceptance_notice"} <= started(event)
    assert stopped(event) == {"sign_for": True}

    # 回 — the answer reaches the petitioner Monday 09-21: the reply clock stops, met.
    walk("deliver_acceptance_notice", bureau, sh(2026, 9, 21, 7), mode="in_person",
         deliverer="周明", recipient="刘1")
    event = _deliver(walk, j, at=sh(2026, 9, 21))
    assert stopped(event)["reply"] is True
    assert walk.clock("reply").stopped_at == sh(2026, 9, 21, 14)


def test_datonghu_key_case_has_five_working_days_across_mid_autumn(j):
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    walk = Walk(register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9),
                            petitioners=_petitioner(2), key_case=True))
    walk("propose", clerk, sh(2026, 9, 21, 11), proposal="重点件，交区民政局")
    walk("sign_off", approver, sh(2026, 9, 21, 15))
    event = walk("assign", clerk, sh(2026, 9, 21, 16), lead=j.bureaus["区民政局"],
                 receiver_name="周明")
    assert "reply_key" in started(event) and "reply" not in started(event)
    # From the hand-over (§四(三), §六(三)): 09-22, 09-23, 09-24, (09-25…09-27 中秋节), 09-28,
    # 09-29 → 09-29 24时.
    reply = walk.clock("reply_key")
    assert reply.due_at == sh(2026, 9, 30) and reply.provisional is False
    assert any("中秋节" in line and "不计" in line for line in reply.explanation)
    walk("sign_for", bureau, sh(2026, 9, 22, 10))

    # An extension must carry a progress report and an expected completion date (§六(三)).
    walk("request_extension", bureau, sh(2026, 9, 29, 9), reason="需实地核查",
         progress_report="已走访两户", expected_completion=date(2026, 10, 20))
    event = walk("approve_extension", approver, sh(2026, 9, 29, 15))
    # To the day asked for (10-20 24时), within the cap of "09-29 24时" + 30 days.
    assert changes(event)["reply_key"]["extended_to"] == sh(2026, 10, 21).isoformat()

    # Missed anyway: the answer reaches the petitioner on 11-02.
    walk("deliver_acceptance_notice", bureau, sh(2026, 9, 30, 9), mode="in_person",
         deliverer="周明", recipient="刘2")
    event = _deliver(walk, j, at=sh(2026, 11, 2))
    assert stopped(event)["reply_key"] is False


def test_datonghu_late_assignment_is_alerted_and_recorded_as_missed(j):
    clerk, approver = j.member("clerk"), j.member("approver")
    walk = Walk(register_in(j, at=sh(2026, 9, 18, 10), received_at=sh(2026, 9, 18, 9),
                            petitioners=_petitioner(3)))
    walk("propose", clerk, sh(2026, 9, 18, 11), proposal="交区民政局办理")
    walk("sign_off", approver, sh(2026, 9, 18, 17))
    assignment = walk.clock("assignment")
    assert assignment.due_at == sh(2026, 9, 19)

    # Due soon (4 hours) at 20:00, overdue after midnight — to the clerk and the approver.
    assert sweep(at=sh(2026, 9, 18, 20)).due_soon >= 2
    assert set(walk.case.alerts.filter(clock=assignment, kind="due_soon").values_list(
        "role", flat=True)) == {"clerk", "approver"}
    sweep(at=sh(2026, 9, 19, 1))
    assert set(walk.case.alerts.filter(clock=assignment, kind="overdue").values_list(
        "role", flat=True)) == {"clerk", "approver"}

    event = walk("assign", clerk, sh(2026, 9, 21, 9), lead=j.bureaus["区民政局"],
                 receiver_name="周明")
    assert stopped(event) == {"routing": True, "assignment": False}


def test_datonghu_provincial_referral_is_assigned_the_day_the_group_head_signs(j):
    clerk, approver, chief = j.member("clerk"), j.member("approver"), j.member("chief")
    walk = Walk(register_in(j, at=sh(2026, 9, 17, 10), received_at=sh(2026, 9, 17, 9),
                            petitioners=_petitioner(4), channel=c.Channel.REFERRAL,
                            source_level=c.SourceLevel.PROVINCE, source_office="湖南省乡村振兴局"))
    assert walk.case.reply_mode_required == "written"  # §六(二): superior-referred
    walk("propose", clerk, sh(2026, 9, 17, 11), proposal="交区民政局办理")
    # The approver signs Friday 09-18 17:00; the group head (§十一(三)) on the make-up Sunday.
    event = walk("sign_off", approver, sh(2026, 9, 18, 17))
    assert walk.case.state == c.State.AWAITING_COUNTERSIGN
    assert started(event) == set(), "not yet assignable: no same-day clock yet"
    event = walk("countersign", chief, sh(2026, 9, 20, 9))
    assert started(event) == {"assignment_after_group_head"}
    assert walk.clock("assignment_after_group_head").due_at == sh(2026, 9, 21)
    event = walk("assign", clerk, sh(2026, 9, 20, 15), lead=j.bureaus["区民政局"],
                 receiver_name="周明")
    assert stopped(event) == {"routing": True, "assignment_after_group_head": True}

    # The referring office hears back within 3 working days of the hand-over (§四(三), §六(三)).
    assert {"reply", "report_back:referral_feedback"} <= started(event)
    feedback = walk.clock("report_back:referral_feedback")
    # 09-21, 09-22, 09-23 → 09-23 24时.
    assert feedback.due_at == sh(2026, 9, 24)
    walk("sign_for", j.member("bureau"), sh(2026, 9, 21, 9))
