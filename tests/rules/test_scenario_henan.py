"""河南省 (seed 003 §三(二)): a provincial key referral is handled by the city or county directly,
never passed to a township, under leader ownership, and its investigation is reported within 25
days; a matter touching several bureaus gets an owner leader, a lead unit and a responsible
person (§三(一))."""

import pytest

from tests.conftest import register_in, sh
from tests.rules.walking import Walk, started, stopped
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services import DemandInput
from xinfang.cases.services.routing import propose_units
from xinfang.cases.services.supervision import sweep
from xinfang.rules.store import profile_of

pytestmark = pytest.mark.django_db

DEMAND = [DemandInput(text="要求落实D级危房改造补助", category="D级危房改造")]


@pytest.fixture
def j(jurisdiction):
    return jurisdiction("henan")


def _provincial_key_case(j):
    # Referred by the province on Friday 09-11, registered Monday 09-14.
    return register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 11, 16),
                       channel=c.Channel.REFERRAL, source_level=c.SourceLevel.PROVINCE,
                       source_office="河南省脱贫攻坚领导小组办公室", key_case=True, demands=DEMAND)


def test_henan_provincial_key_case_stays_above_the_township_and_reports_in_25_days(j):
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    walk = Walk(_provincial_key_case(j))

    # 25 days from 09-11 → 10-06, inside 国庆节: rolled to Thursday 10-08.
    register = walk.case.events.get(type="register")
    assert started(register) == {"routing", "report_back:provincial_key_investigation"}
    report = walk.clock("report_back:provincial_key_investigation")
    assert report.amount == 25 and report.seed == "003 §三(二)"
    assert report.due_at == sh(2026, 10, 9) and report.provisional is False
    assert any("国庆节" in line and "顺延" in line for line in report.explanation)

    # Leader ownership, told to the chief; no written warning notice in this seed.
    raised = walk.case.events.get(type="warning_raised")
    assert raised.payload["rule"] == "provincial_key_ownership"
    assert not walk.case.warning_notices.exists()
    assert set(walk.case.alerts.filter(kind="warning").values_list("role", flat=True)) == {"chief"}

    # The routing proposal: the county's poverty office leads, bureaus assist; no township.
    (proposal,) = propose_units(case=walk.case, profile=profile_of(walk.case.profile))[:1]
    assert proposal["rule"] == "provincial_key_case"
    assert proposal["lead"] == [j.office]
    assert j.bureaus["区民政局"] in proposal["assist"]

    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="县乡村振兴局牵头，县民政局直接办理")
    walk("sign_off", approver, sh(2026, 9, 14, 15))
    for unit in (j.townships["将官池镇"], j.villages["岗朱村"]):
        with pytest.raises(Refused, match="provincial_key_case_not_to_township") as refused:
            walk("assign", clerk, sh(2026, 9, 14, 16), lead=unit, receiver_name="陈晓东")
        assert "不得转交乡镇" in refused.value.message and "003 §三(二)" in refused.value.message
    # Nor as an assisting unit.
    with pytest.raises(Refused, match="provincial_key_case_not_to_township"):
        walk("assign", clerk, sh(2026, 9, 14, 16), lead=j.bureaus["区民政局"],
             assisting=[j.townships["将官池镇"]], receiver_name="周明")
    event = walk("assign", clerk, sh(2026, 9, 14, 16), lead=j.bureaus["区民政局"],
                 receiver_name="周明", responsible_person="周明")
    assert stopped(event) == {"routing": True}

    # Investigated, answered and reported back to the province on Wednesday 10-08: met.
    walk("sign_for", bureau, sh(2026, 9, 15, 9))
    walk("deliver_acceptance_notice", bureau, sh(2026, 9, 16, 9), mode="in_person",
         deliverer="周明", recipient="张三明")
    walk("submit_report", bureau, sh(2026, 9, 28, 9), kind="investigation", text="调查报告")
    walk("record_finding", bureau, sh(2026, 9, 28, 10),
         findings={1: ("partly", "solved", "补助已补发")})
    walk("draft_letter", bureau, sh(2026, 9, 28, 11), body="经核查……")
    walk("approve_letter", approver, sh(2026, 9, 29, 9))
    walk("issue_letter", clerk, sh(2026, 9, 29, 10))
    walk("record_delivery", clerk, sh(2026, 9, 30, 10), mode="in_person",
         delivered_at=sh(2026, 9, 30, 9), deliverer="周明", recipient="张三明",
         receipt_signed=True)
    event = walk("report_back", clerk, sh(2026, 10, 8, 16), note="调查报告及核查意见已报省",
                 contents=["调查报告", "核查意见", "佐证材料"])
    assert stopped(event) == {"report_back:provincial_key_investigation": True}


def test_henan_ordinary_case_may_go_to_a_township(j):
    case = register_in(j, at=sh(2026, 9, 14, 10), demands=DEMAND)
    walk = Walk(case)
    walk("propose", j.member("clerk"), sh(2026, 9, 14, 11), proposal="交将官池镇")
    walk("sign_off", j.member("approver"), sh(2026, 9, 14, 15))
    walk("assign", j.member("clerk"), sh(2026, 9, 14, 16), lead=j.townships["将官池镇"],
         receiver_name="陈晓东")
    assert "report_back:provincial_key_investigation" not in walk.names()
    assert walk.case.state == c.State.ASSIGNED


def test_henan_case_touching_several_bureaus_gets_leader_ownership_at_the_sweep(j):
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), demands=DEMAND))
    assert not walk.case.events.filter(type="warning_raised").exists()
    walk("propose", j.member("clerk"), sh(2026, 9, 14, 11), proposal="民政局主办，住建局协办")
    walk("sign_off", j.member("approver"), sh(2026, 9, 14, 15))
    walk("assign", j.member("clerk"), sh(2026, 9, 14, 16), lead=j.bureaus["区民政局"],
         assisting=[j.bureaus["区住建局"]], receiver_name="周明")

    assert sweep(at=sh(2026, 9, 14, 17)).warnings == 1
    raised = walk.case.events.get(type="warning_raised")
    assert raised.payload["rule"] == "several_units_ownership" and raised.payload["to"] == ["chief"]
    assert walk.case.alerts.filter(kind="warning", role="chief").exists()
    assert sweep(at=sh(2026, 9, 15, 17)).warnings == 0
