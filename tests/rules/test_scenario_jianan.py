"""建安区 (seed 001 二(五)): a first petition is contacted within 1 day and visited with the
acceptance notice within 3 days; a repeat petition is contacted the same day, gets its lead unit
and a face-to-face meeting within 24 hours, an initial report in 3 working days and a handling
report in 10; an online opinion incident runs on 6, 18, 24 and 72 hours."""

from datetime import date

import pytest

from tests.conftest import register_in, sh
from tests.rules.walking import Walk, changes, started, stopped
from xinfang.cases import choices as c
from xinfang.cases.services import DemandInput

pytestmark = pytest.mark.django_db

FIRST_PETITION = {"first_contact", "first_visit_notice"}
REPEAT = {"repeat_contact", "repeat_lead_named", "repeat_meeting", "repeat_initial_report",
          "repeat_handling_report"}
OPINION = {"opinion_offices_notified", "opinion_meeting", "opinion_response_report",
           "opinion_handled"}


@pytest.fixture
def j(jurisdiction):
    return jurisdiction("jianan")


def _assign(walk, j, at):
    clerk, approver = j.member("clerk"), j.member("approver")
    walk("propose", clerk, at, proposal="区乡村振兴局牵头，将官池镇带件下访")
    walk("sign_off", approver, at.replace(minute=at.minute + 10))
    return walk("assign", clerk, at.replace(minute=at.minute + 20), lead=j.townships["将官池镇"],
                receiver_name="陈晓东")


def test_jianan_first_petition_contact_in_one_day_and_notice_on_site_in_three(j):
    township = j.member("township")
    # Received Monday 09-14 09:30.
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10)))
    assert walk.case.repeat_count == 0
    register = walk.case.events.get(type="register")
    assert started(register) == {"routing"} | FIRST_PETITION
    contact, visit = walk.clock("first_contact"), walk.clock("first_visit_notice")
    assert contact.due_at == sh(2026, 9, 16) and contact.provisional is False  # 09-15 24时
    assert visit.due_at == sh(2026, 9, 18)  # 09-17 24时
    assert contact.alert_roles == ["clerk", "unit_handler"]

    _assign(walk, j, sh(2026, 9, 14, 14))
    walk("sign_for", township, sh(2026, 9, 15, 8))
    # The phone call the next morning: contact met.
    event = walk("log_contact", township, sh(2026, 9, 15, 10, 30), kind="phone",
                 note="电话联系，约定下访")
    assert stopped(event) == {"first_contact": True}
    assert walk.clock("first_contact").stopped_at == sh(2026, 9, 15, 10, 30)

    # Visit with the case on Thursday 09-17, notice signed on site: met; the written reply the
    # notice promises is due in 10 days → 09-27 (中秋节), rolled to Monday 09-28.
    event = walk("deliver_acceptance_notice", township, sh(2026, 9, 17, 16), mode="in_person",
                 deliverer="陈晓东", recipient="张三明", promised_reply=date(2026, 9, 27))
    assert stopped(event) == {"first_visit_notice": True, "acceptance_notice": True,
                              "objection_window": True}
    assert started(event) == {"promised_reply"}
    promised = walk.clock("promised_reply")
    assert promised.due_at == sh(2026, 9, 29) and promised.provisional is False
    assert any("中秋节" in line for line in promised.explanation)


def test_jianan_repeat_petition_same_day_24_hours_3_and_10_working_days(j):
    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    # The same petitioner again, Friday 09-18 15:00.
    walk = Walk(register_in(j, at=sh(2026, 9, 18, 15, 30), received_at=sh(2026, 9, 18, 15)))
    assert walk.case.repeat_count == 1
    register = walk.case.events.get(type="register")
    assert started(register) == {"routing"} | REPEAT, "no first-petition clocks on a repeat"
    due = {name: walk.clock(name).due_at for name in REPEAT}
    assert due == {
        "repeat_contact": sh(2026, 9, 19),  # same day: 09-18 24时
        "repeat_lead_named": sh(2026, 9, 19, 15),  # 24 hours
        "repeat_meeting": sh(2026, 9, 19, 15),
        # 09-20 (make-up Sunday), 09-21, 09-22
        "repeat_initial_report": sh(2026, 9, 23),
        # 09-20…09-24 (1–5), 中秋节, 09-28…09-30 (6–8), 国庆节, 10-08, 10-09 (9–10)
        "repeat_handling_report": sh(2026, 10, 10),
    }
    assert not any(walk.clock(name).provisional for name in REPEAT)
    # Repeat petitions go on the backlog register with a leader owner (二(三)): the approver is
    # told; the seed has no written warning notice to answer.
    warning = walk.case.events.get(type="warning_raised")
    assert warning.payload["rule"] == "backlog_ownership" and warning.actor_role == "system"
    assert not walk.case.warning_notices.exists()
    assert walk.case.alerts.filter(kind="warning", role="approver").exists()

    event = walk("log_contact", clerk, sh(2026, 9, 18, 17), kind="phone", note="当天电话联系")
    assert stopped(event) == {"repeat_contact": True}
    event = _assign(walk, j, sh(2026, 9, 19, 9))
    assert stopped(event) == {"routing": True, "repeat_lead_named": True}
    # The face-to-face meeting slips to 16:00 the next day: 24 hours missed.
    event = walk("log_contact", township, sh(2026, 9, 19, 16), kind="meeting",
                 note="面对面沟通")
    assert stopped(event) == {"repeat_meeting": False}
    walk("sign_for", township, sh(2026, 9, 20, 9))
    event = walk("submit_report", township, sh(2026, 9, 22, 17), kind="initial",
                 text="初步调查报告")
    assert stopped(event) == {"repeat_initial_report": True}

    # An approved extension to the day asked for, 11-09 (within the 30 days after "10-09 24时").
    walk("request_extension", township, sh(2026, 9, 30, 9), reason="涉及多个部门",
         progress_report="已完成初步调查", expected_completion=date(2026, 11, 9))
    event = walk("approve_extension", approver, sh(2026, 9, 30, 15))
    assert changes(event)["repeat_handling_report"]["extended_to"] == sh(2026, 11, 10).isoformat()
    event = walk("submit_report", township, sh(2026, 11, 9, 17), kind="handling",
                 text="处置情况报告")
    assert stopped(event) == {"repeat_handling_report": True}


def test_jianan_opinion_incident_six_eighteen_twenty_four_seventy_two_hours(j):
    clerk, township = j.member("clerk"), j.member("township")
    # A post found Thursday 09-24 at 22:00, the eve of 中秋节: hours ignore holidays.
    walk = Walk(register_in(
        j, at=sh(2026, 9, 24, 22, 15), received_at=sh(2026, 9, 24, 22),
        kind=c.Kind.OPINION_INCIDENT, channel=c.Channel.MEDIA, petitioners=[],
        matter="网帖反映危房改造补助被截留",
        demands=[DemandInput(text="网帖称补助被截留", category="危房改造")]))
    register = walk.case.events.get(type="register")
    assert started(register) == OPINION, "no petition clocks on an opinion incident"
    due = {name: walk.clock(name).due_at for name in OPINION}
    assert due == {
        "opinion_offices_notified": sh(2026, 9, 25, 4),
        "opinion_meeting": sh(2026, 9, 25, 16),
        "opinion_response_report": sh(2026, 9, 25, 22),
        "opinion_handled": sh(2026, 9, 27, 22),
    }
    assert not any(walk.clock(name).provisional for name in OPINION)

    event = walk("notify_offices", clerk, sh(2026, 9, 25, 3), offices="区委宣传部、区网信办")
    assert stopped(event) == {"opinion_offices_notified": True}
    _assign(walk, j, sh(2026, 9, 25, 8))
    event = walk("log_contact", township, sh(2026, 9, 25, 17), kind="meeting",
                 note="与发帖人面对面交流")
    assert stopped(event) == {"opinion_meeting": False}
    event = walk("submit_report", township, sh(2026, 9, 25, 21), kind="response",
                 text="舆情应对措施报告")
    assert stopped(event) == {"opinion_response_report": True}
    event = walk("submit_report", township, sh(2026, 9, 27, 23), kind="handling",
                 text="处置情况报告")
    assert stopped(event) == {"opinion_handled": False}
