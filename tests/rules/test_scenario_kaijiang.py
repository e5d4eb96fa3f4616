"""开江县 (seed 002 §五): the acceptance notice in person within 5 days of receiving the assignment,
60 days to a written decision extendable once by 30 days, and a cause analysis for a case still
unsettled 60 days after acceptance (or relapsed)."""

from datetime import date

import pytest

from tests.conftest import register_in, sh
from tests.rules.walking import Walk, changes, started, stopped
from xinfang.cases.errors import Refused
from xinfang.cases.models import Alert
from xinfang.cases.services.supervision import sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def j(jurisdiction):
    return jurisdiction("kaijiang")


def _accepted(j, *, signed_for):
    clerk, approver = j.member("clerk"), j.member("approver")
    walk = Walk(register_in(j, at=sh(2026, 9, 17, 10), received_at=sh(2026, 9, 17, 9)))
    walk("propose", clerk, sh(2026, 9, 17, 11), proposal="交区民政局（责任股室）化解")
    walk("sign_off", approver, sh(2026, 9, 17, 15))
    walk("assign", clerk, sh(2026, 9, 17, 16), lead=j.bureaus["区民政局"], receiver_name="周明")
    walk.sign_for = walk("sign_for", j.member("bureau"), signed_for)
    return walk


def test_kaijiang_five_days_to_notice_sixty_plus_thirty_days_to_decide(j):
    approver, bureau = j.member("approver"), j.member("bureau")
    # The unit receives the assignment Monday 09-21 10:00.
    walk = _accepted(j, signed_for=sh(2026, 9, 21, 10))
    assert {"acceptance_notice", "handling"} <= started(walk.sign_for)

    # 5 days → Saturday 09-26 in 中秋节, rolled past Sunday 09-27 to Monday 09-28.
    notice = walk.clock("acceptance_notice")
    assert notice.label.startswith("收到交办后5日内") and notice.seed == "002 §五(三)"
    assert notice.due_at == sh(2026, 9, 29) and notice.provisional is False
    # 60 days → Friday 11-20.
    handling = walk.clock("handling")
    assert handling.due_at == sh(2026, 11, 21) and handling.seed == "002 §五(三)"

    event = walk("deliver_acceptance_notice", bureau, sh(2026, 9, 28, 10), mode="in_person",
                 deliverer="周明", recipient="张三明")
    assert stopped(event)["acceptance_notice"] is True

    # Extended once by at most 30 days, with progress feedback: "11-20 24时" + 30 days is
    # Sunday 12-20, rolled to Monday 12-21 24时.
    with pytest.raises(Refused, match="progress_report"):
        walk("request_extension", bureau, sh(2026, 11, 16, 9), reason="需补充调查",
             progress_report="", expected_completion=date(2026, 12, 15))
    # Asked for 12-31: more than the profile allows, so capped at the 30 days.
    walk("request_extension", bureau, sh(2026, 11, 16, 9), reason="需补充调查",
         progress_report="已向信访人反馈进展", expected_completion=date(2026, 12, 31))
    event = walk("approve_extension", approver, sh(2026, 11, 17, 9), note="同意延期30日")
    assert event.payload["amount"] == 30 and event.payload["unit"] == "days"
    assert changes(event)["handling"]["extended_to"] == sh(2026, 12, 22).isoformat()
    handling = walk.clock("handling")
    assert handling.due_at == sh(2026, 12, 22) and handling.extensions == 1
    assert handling.explanation[-2] == "期限：2026-12-21 24时"
    assert handling.explanation[-1] == "申请延期至2026-12-31，超过本地规则上限，按上限计"
    assert any("12-20" in line and "顺延" in line for line in handling.explanation)

    walk("record_finding", bureau, sh(2026, 12, 18, 9),
         findings={1: ("true", "solved", "补助已足额发放")})
    walk("draft_letter", bureau, sh(2026, 12, 18, 10), body="经核查……")
    walk("approve_letter", approver, sh(2026, 12, 21, 9))
    event = walk("issue_letter", j.member("clerk"), sh(2026, 12, 21, 10))
    assert stopped(event) == {"handling": True}


def test_kaijiang_case_unsettled_sixty_days_after_acceptance_needs_a_cause_analysis(j):
    walk = _accepted(j, signed_for=sh(2026, 9, 21, 10))
    assert walk.case.accepted_at == sh(2026, 9, 21, 10)

    # §五(二) is a clock on the case: 60 days after acceptance end at 11-20 24时.
    analysis = walk.clock("analysis")
    assert analysis.due_at == sh(2026, 11, 21) and analysis.provisional is False
    assert analysis.seed == "002 §五(二)" and "分析未息访原因" in analysis.label
    assert analysis.alert_roles == ["approver"]
    sweep(at=sh(2026, 11, 20, 12))
    assert not walk.case.alerts.filter(clock=analysis, kind=Alert.Kind.OVERDUE).exists()
    sweep(at=sh(2026, 11, 21, 0, 5))
    alert = walk.case.alerts.get(clock=analysis, kind=Alert.Kind.OVERDUE)
    assert alert.role == "approver" and alert.unit == j.county
    assert "60日" in alert.message and alert.created_at == sh(2026, 11, 21, 0, 5)
    # Raised once.
    sweep(at=sh(2026, 11, 22))
    assert walk.case.alerts.filter(clock=analysis, kind=Alert.Kind.OVERDUE).count() == 1


def test_kaijiang_relapsed_case_needs_a_cause_analysis_at_once(j):
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    walk = _accepted(j, signed_for=sh(2026, 9, 21, 10))
    walk("deliver_acceptance_notice", bureau, sh(2026, 9, 22, 10), mode="in_person",
         deliverer="周明", recipient="张三明")
    walk("submit_report", bureau, sh(2026, 9, 29, 9), kind="handling", text="办理情况报告")
    walk("record_finding", bureau, sh(2026, 9, 29, 10),
         findings={1: ("true", "solved", "补助已发放")})
    walk("draft_letter", bureau, sh(2026, 9, 29, 11), body="经核查……")
    walk("approve_letter", approver, sh(2026, 9, 29, 15))
    walk("issue_letter", clerk, sh(2026, 9, 29, 16))
    walk("record_delivery", clerk, sh(2026, 9, 30, 10), mode="in_person",
         delivered_at=sh(2026, 9, 30, 9), deliverer="周明", recipient="张三明",
         receipt_signed=True)
    walk("record_rating", bureau, sh(2026, 9, 30, 11), rating="satisfied")
    walk("record_pledge", bureau, sh(2026, 9, 30, 11, 30), text="不再上访")
    walk("close", approver, sh(2026, 10, 9, 9), note="同意销号")
    assert sweep(at=sh(2026, 10, 12)).analyses == 0

    # Relapsed within the 60 days (§五(二) "出现反弹"): analysed at the next sweep.
    walk("reopen", approver, sh(2026, 10, 15, 9), reason="补助被村里扣回")
    assert sweep(at=sh(2026, 10, 15, 10)).analyses == 1
    alert = walk.case.alerts.get(kind=Alert.Kind.ANALYSIS)
    assert "反弹" in alert.message
    assert sweep(at=sh(2026, 11, 22)).analyses == 0


def test_kaijiang_case_file_needs_the_delivered_notice_and_the_handling_report_to_close(j):
    # §五(四): acceptance notice, decision letter, receipt, rating, pledge, handling report.
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    walk = _accepted(j, signed_for=sh(2026, 9, 21, 10))
    walk("record_finding", bureau, sh(2026, 9, 29, 10),
         findings={1: ("true", "solved", "补助已发放")})
    walk("draft_letter", bureau, sh(2026, 9, 29, 11), body="经核查……")
    walk("approve_letter", approver, sh(2026, 9, 29, 15))
    walk("issue_letter", clerk, sh(2026, 9, 29, 16))
    walk("record_delivery", clerk, sh(2026, 9, 30, 10), mode="in_person",
         delivered_at=sh(2026, 9, 30, 9), deliverer="周明", recipient="张三明",
         receipt_signed=True)
    walk("record_rating", bureau, sh(2026, 9, 30, 11), rating="satisfied")
    walk("record_pledge", bureau, sh(2026, 9, 30, 11, 30), text="不再上访")
    with pytest.raises(Refused) as refused:
        walk("close", approver, sh(2026, 10, 9, 9))
    assert "送达的受理告知书" in refused.value.message
    assert "办理情况报告" in refused.value.message
    assert walk.case.state == "delivered"
    # The handling report can still be filed; the notice can no longer be (the relapse test
    # closes a case that has both).
    walk("submit_report", bureau, sh(2026, 10, 9, 11), kind="handling", text="办理情况报告")
    with pytest.raises(Refused, match="送达的受理告知书"):
        walk("close", approver, sh(2026, 10, 9, 15))
