"""The national default (《信访工作条例》2022): 15 days to route and to decide on acceptance, 5
working days to object, 60 days to a decision letter plus one approved extension of 30 days, and
the 30-day review windows and review decision — walked on one case through the 2026 autumn
holidays (09-20 make-up Sunday, 09-25…09-27 中秋节, 10-01…10-07 国庆节, 10-10 make-up Saturday)."""

from datetime import date

import pytest

from tests.conftest import register_in, sh
from tests.rules.walking import Walk, changes, clock, member, started, stopped
from xinfang.cases import choices as c
from xinfang.cases.services.supervision import sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def j(jurisdiction):
    return jurisdiction("national")


def _to_letter(walk, j, *, at_draft, at_approve, at_issue):
    bureau, approver = j.member("bureau"), j.member("approver")
    walk("record_finding", bureau, at_draft, findings={1: ("true", "solved", "补助已补发")})
    walk("draft_letter", bureau, at_draft, body="经核查，你反映的问题属实，已补发。")
    walk("approve_letter", approver, at_approve)
    return walk("issue_letter", j.member("clerk"), at_issue)


def test_national_fifteen_days_sixty_days_extension_and_review_windows(j):
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")

    # 接 — received Monday 09-14 09:30: 15 days to route, 24:00 of Tuesday 09-29.
    case = register_in(j, at=sh(2026, 9, 14, 10, 0))
    walk = Walk(case)
    routing = walk.clock("routing")
    assert routing.started_at == sh(2026, 9, 14, 9, 30)
    assert routing.due_at == sh(2026, 9, 30) and routing.provisional is False
    assert walk.names() == {"routing"}
    register = case.events.get(type="register")
    assert started(register) == {"routing"}

    # 转 — assigned on the 15th: the routing clock stops, met.
    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交区民政局办理")
    walk("sign_off", approver, sh(2026, 9, 15, 9))
    event = walk("assign", clerk, sh(2026, 9, 15, 10), lead=j.bureaus["区民政局"],
                 receiver_name="周明")
    assert stopped(event) == {"routing": True}
    assert clock(walk.case, "routing").stopped_at == sh(2026, 9, 15, 10)

    # 办 — the bureau signs for it Wednesday 09-16 (receipt by the handling organ).
    event = walk("sign_for", bureau, sh(2026, 9, 16, 9))
    assert started(event) == {"acceptance_notice", "objection_window", "handling"}
    assert walk.case.accepted_at == sh(2026, 9, 16, 9)
    # 15 days → 10-01, inside 国庆节: rolled to Thursday 10-08.
    notice = walk.clock("acceptance_notice")
    assert notice.due_at == sh(2026, 10, 9) and notice.provisional is False
    assert any("国庆节" in line for line in notice.explanation)
    # 5 working days: 09-17, 09-18, the make-up Sunday 09-20, 09-21, 09-22.
    objection = walk.clock("objection_window")
    assert objection.kind == "window" and objection.due_at == sh(2026, 9, 23)
    assert any("09-20" in line and "计第3个工作日" in line for line in objection.explanation)
    # 60 days → Sunday 11-15, rolled to Monday 11-16.
    handling = walk.clock("handling")
    assert handling.due_at == sh(2026, 11, 17) and handling.provisional is False
    assert handling.alert_roles == ["unit_handler", "clerk", "approver"]

    event = walk("deliver_acceptance_notice", bureau, sh(2026, 9, 18, 15), mode="in_person",
                 deliverer="周明", recipient="张三明")
    assert stopped(event) == {"acceptance_notice": True, "objection_window": True}

    # One approved extension, to the day asked for, 12-16 (a Wednesday): exactly the 30 days
    # the rule allows after "11-16 24时".
    walk("request_extension", bureau, sh(2026, 11, 9, 10), reason="需调取历年档案",
         progress_report="已调取2024年档案", expected_completion=date(2026, 12, 16))
    assert walk.clock("handling").status == "running", "the national rule does not pause"
    event = walk("approve_extension", approver, sh(2026, 11, 10, 9), note="同意延期30日")
    assert changes(event)["handling"]["extended_to"] == sh(2026, 12, 17).isoformat()
    handling = walk.clock("handling")
    assert handling.due_at == sh(2026, 12, 17) and handling.extensions == 1
    assert handling.explanation[-1] == "期限：2026-12-16 24时"
    # A second extension is refused: the Regulations allow one.
    with pytest.raises(Exception, match="最多延期1次"):
        walk("request_extension", bureau, sh(2026, 12, 1), reason="再延", progress_report="-",
             expected_completion=date(2027, 1, 10))

    # 回 — the letter is issued within the extended limit (delivered in November, so the
    # review window stays inside the loaded year 2026).
    event = _to_letter(walk, j, at_draft=sh(2026, 11, 12, 9), at_approve=sh(2026, 11, 12, 15),
                       at_issue=sh(2026, 11, 13, 9))
    assert stopped(event) == {"handling": True}
    event = walk("record_delivery", clerk, sh(2026, 11, 13, 16), mode="in_person",
                 delivered_at=sh(2026, 11, 13, 15), deliverer="周明", recipient="张三明",
                 receipt_signed=True)
    # The review window: 30 days from delivery (Friday 11-13) → Sunday 12-13, rolled to 12-14.
    # …and the 30 days the petitioner may still rate (closing.rating_open_for).
    assert started(event) == {"review_request_window", "rating_window"}
    window = walk.clock("review_request_window")
    assert window.kind == "window" and window.started_at == sh(2026, 11, 13, 15)
    assert window.due_at == sh(2026, 12, 15) and window.provisional is False

    # A window closes without being late: no alert while it runs or after it has passed.
    assert sweep(at=sh(2026, 12, 14, 12)).as_dict()["due_soon"] == 0
    assert sweep(at=sh(2026, 12, 20)).as_dict()["overdue"] == 0
    assert not walk.case.alerts.filter(clock=window).exists()


def test_national_review_is_decided_within_thirty_days_and_opens_the_rereview_window(j):
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    case = register_in(j, at=sh(2026, 9, 14, 10, 0))
    walk = Walk(case)
    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交区民政局办理")
    walk("sign_off", approver, sh(2026, 9, 14, 15))
    walk("assign", clerk, sh(2026, 9, 14, 16), lead=j.bureaus["区民政局"], receiver_name="周明")
    walk("sign_for", bureau, sh(2026, 9, 15, 9))
    walk("deliver_acceptance_notice", bureau, sh(2026, 9, 16, 9), mode="in_person",
         deliverer="周明", recipient="张三明")
    _to_letter(walk, j, at_draft=sh(2026, 10, 12, 9), at_approve=sh(2026, 10, 12, 15),
               at_issue=sh(2026, 10, 13, 9))
    walk("record_delivery", clerk, sh(2026, 10, 16, 11), mode="in_person",
         delivered_at=sh(2026, 10, 16, 10), deliverer="周明", recipient="张三明",
         receipt_signed=True)
    # 30 days from Friday 10-16 → Sunday 11-15, rolled to Monday 11-16.
    assert walk.clock("review_request_window").due_at == sh(2026, 11, 17)

    # The city's petition office receives the review request on 10-20.
    city_clerk = j.member("city_clerk")
    event = walk("open_review", city_clerk, sh(2026, 10, 20, 10), received_at=sh(2026, 10, 20, 9),
                 reason="对处理意见不服", clerk=city_clerk)
    assert stopped(event) == {"review_request_window": True}
    review = walk.case.reviews.get()
    assert event.payload["review"] == review.number
    assert review.kind == c.Kind.REVIEW and review.jurisdiction == j.city

    # The review decision: 30 days from the request → Thursday 11-19.
    register = review.events.get(type="register")
    assert started(register) == {"review_decision"}
    decision = clock(review, "review_decision")
    assert decision.started_at == sh(2026, 10, 20, 9)
    assert decision.due_at == sh(2026, 11, 20) and decision.provisional is False
    assert decision.kind == "deadline" and decision.alert_roles == ["clerk", "approver"]
    assert {k.name for k in review.clocks.all()} == {"review_decision"}, (
        "a review is not re-routed under the petition clocks")

    # Overdue on 11-20: the review office's clerk and approver are told.
    result = sweep(at=sh(2026, 11, 20, 8))
    assert result.overdue >= 2
    assert set(review.alerts.filter(kind="overdue", clock=decision).values_list(
        "role", flat=True)) == {"clerk", "approver"}
    assert sweep(at=sh(2026, 11, 20, 9)).overdue == 0

    # Decided late on 11-23: the clock stops, not met; the re-review window opens on delivery.
    city_approver = member(j.city_office, "approver", "city_approver")
    rwalk = Walk(review)
    rwalk("propose", city_clerk, sh(2026, 10, 20, 11), proposal="交示范县复查核实")
    rwalk("sign_off", city_approver, sh(2026, 10, 21, 9))
    rwalk("assign", city_clerk, sh(2026, 10, 21, 10), lead=j.bureaus["区民政局"],
          receiver_name="周明")
    rwalk("sign_for", bureau, sh(2026, 10, 22, 9))
    rwalk("record_finding", bureau, sh(2026, 11, 20, 9),
          findings={1: ("true", "solved", "维持原处理意见")})
    rwalk("draft_letter", bureau, sh(2026, 11, 20, 10), body="复查意见：维持。")
    rwalk("approve_letter", city_approver, sh(2026, 11, 23, 9))
    event = rwalk("issue_letter", city_clerk, sh(2026, 11, 23, 10))
    assert stopped(event) == {"review_decision": False}
    event = rwalk("record_delivery", city_clerk, sh(2026, 11, 24, 10), mode="in_person",
                  delivered_at=sh(2026, 11, 24, 9), deliverer="郑敏", recipient="张三明",
                  receipt_signed=True)
    assert started(event) == {"rereview_request_window", "rating_window"}
    # 30 days from Tuesday 11-24 → Thursday 12-24.
    rereview = clock(rwalk.case, "rereview_request_window")
    assert rereview.kind == "window" and rereview.due_at == sh(2026, 12, 25)


def test_national_clocks_of_receipt_start_when_the_lead_unit_signs_for_not_an_assistant(j):
    # "Receipt by the handling organ": an assisting unit's receipt starts nothing.
    clerk, approver = j.member("clerk"), j.member("approver")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10, 0)))
    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交将官池镇，区民政局协办")
    walk("sign_off", approver, sh(2026, 9, 14, 15))
    walk("assign", clerk, sh(2026, 9, 14, 16), lead=j.townships["将官池镇"],
         assisting=[j.bureaus["区民政局"]], receiver_name="陈晓东")

    event = walk("sign_for", j.member("bureau"), sh(2026, 9, 15, 9))
    assert started(event) == set() and walk.case.accepted_at is None
    event = walk("sign_for", j.member("township"), sh(2026, 9, 17, 9))
    assert started(event) == {"acceptance_notice", "objection_window", "handling"}
    # 60 days from Thursday 09-17 → Monday 11-16.
    assert walk.clock("handling").started_at == sh(2026, 9, 17, 9)
    assert walk.clock("handling").due_at == sh(2026, 11, 17)
