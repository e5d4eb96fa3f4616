"""One case from registration to archive and on to review, through every transition of the
workflow table — the first test a newcomer should read. Runs on SQLite locally and on PostgreSQL
in CI (DATABASE_URL)."""

from datetime import date

import pytest

from tests.conftest import sh
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import perform, refusal
from xinfang.cases.workflow import TRANSITIONS

pytestmark = pytest.mark.django_db


def test_a_referred_case_walks_every_step_from_register_to_review(jianan, register):
    j = jianan
    clerk, approver, township, bureau = (
        j.member(k) for k in ("clerk", "approver", "township", "bureau")
    )
    # 接 — register
    case = register(
        source_level=c.SourceLevel.PROVINCE,
        source_office="河南省乡村振兴局",
        leader_instruction="请建安区依法依规处理",
        leader_instruction_level="province",
    )
    assert case.number == "建安信〔2026〕0001号"
    assert case.state == c.State.REGISTERED
    assert case.reply_mode_required == "written"

    def step(name, by, **params):
        nonlocal case
        before = case.events.count()
        case = perform(name, case=case, by=by, expected_version=case.version, **params)
        event = case.events.order_by("-seq").first()
        assert event.type == name and case.events.count() == before + 1
        assert (event.actor, event.actor_role, event.actor_unit) == (by.user, by.role, by.unit)
        assert (event.profile_code, event.profile_version) == (
            case.profile.code,
            case.profile.version,
        )
        return event

    # 转 — propose, sign off, assign
    step("propose", clerk, proposal="交将官池镇牵头，区民政局协办")
    step("sign_off", approver, note="同意")
    assert case.state == c.State.SIGNED_OFF
    step(
        "assign",
        clerk,
        lead=j.townships["将官池镇"],
        assisting=[j.bureaus["区民政局"]],
        receiver_name="陈晓东",
        responsible_person="陈晓东",
    )
    assert case.state == c.State.ASSIGNED
    # 办 — sign for, contact, acceptance notice, report, findings, extension
    step("sign_for", bureau)
    assert case.state == c.State.ASSIGNED, "an assisting unit's receipt does not start handling"
    step("sign_for", township)
    assert case.state == c.State.IN_PROGRESS and case.accepted_at is not None
    step("log_contact", township, kind="phone", note="电话联系信访人，约定下访时间")
    step(
        "deliver_acceptance_notice",
        township,
        mode="in_person",
        deliverer="陈晓东",
        recipient="张三明",
    )
    # Not an opinion incident: nothing to report to the publicity and cyberspace offices, and a
    # notice already delivered is not offered again (issue 15).
    not_opinion = "本件不是舆情件，无需通报宣传网信部门。"
    assert refusal("notify_offices", case=case, by=township) == not_opinion
    again = refusal("deliver_acceptance_notice", case=case, by=township)
    assert again.startswith("受理告知书已于")
    step("submit_report", township, kind="initial", text="初步核实：补助已拨付至镇财政所")
    step(
        "record_finding",
        township,
        findings={1: ("partly", "solved", "补助资金滞留镇财政所，已督促发放")},
    )
    step(
        "request_extension",
        township,
        reason="需财政所补办手续",
        progress_report="资金已到账，待发放",
        expected_completion=date(2026, 11, 30),
    )
    assert case.state == c.State.EXTENSION_REQUESTED
    step("approve_extension", approver, note="同意延期")
    assert case.state == c.State.IN_PROGRESS
    # 回 — decision letter, returned once, approved, issued, delivered, rated, pledge
    step("draft_letter", township, body="经核查，你反映的问题部分属实……")
    step("return_letter", approver, reason="请写明复查途径")
    step("draft_letter", township, body="经核查……如不服，可自收到之日起30日内申请复查。")
    assert case.documents.filter(kind="decision_letter", status="superseded").count() == 1
    step("approve_letter", approver)
    step("issue_letter", clerk)
    with pytest.raises(Refused, match="回证"):
        perform(
            "record_delivery",
            case=case,
            by=clerk,
            mode="in_person",
            delivered_at=sh(2026, 9, 30, 10),
            deliverer="陈晓东",
            recipient="张三明",
        )
    step(
        "record_delivery",
        clerk,
        mode="in_person",
        delivered_at=sh(2026, 9, 30, 10),
        deliverer="陈晓东",
        recipient="张三明",
        receipt_signed=True,
    )
    assert case.state == c.State.DELIVERED
    step("record_rating", township, rating="satisfied")
    step("record_pledge", township, text="本人对处理结果满意，今后不再就此事上访。")
    # 交 — report back to the referring office
    step("report_back", clerk, note="已报省乡村振兴局")
    assert case.reported_back_at is not None
    # 督 — leader ownership, close, archive, review one level up, relapse
    step("set_leader_owner", approver, leader=approver.user)
    step("close", approver, note="同意销号")
    assert case.state == c.State.CLOSED and case.closed_at is not None
    step("archive", clerk)
    assert case.state == c.State.ARCHIVED
    review_event = step(
        "open_review",
        j.member("city_clerk"),
        received_at=sh(2026, 10, 20, 9),
        reason="对处理意见不服",
        clerk=j.member("city_clerk"),
    )
    review = case.reviews.get()
    assert review.kind == c.Kind.REVIEW and review.jurisdiction == j.city
    assert review_event.payload["review"] == review.number == "许〔2026〕0001号"
    step("reopen", approver, reason="信访人反映补助仍未足额发放")
    assert case.state == c.State.IN_PROGRESS

    # The history is complete, ordered and append-only.
    seqs = list(case.events.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    types = set(case.events.values_list("type", flat=True))
    walked = {
        "propose",
        "sign_off",
        "assign",
        "sign_for",
        "log_contact",
        "deliver_acceptance_notice",
        "submit_report",
        "record_finding",
        "request_extension",
        "approve_extension",
        "draft_letter",
        "return_letter",
        "approve_letter",
        "issue_letter",
        "record_delivery",
        "record_rating",
        "record_pledge",
        "report_back",
        "set_leader_owner",
        "close",
        "archive",
        "open_review",
        "reopen",
    }
    assert walked <= types and "register" in types


def test_side_paths_decline_merge_transfer_refuse_extension_and_warning(jianan, register):
    j = jianan
    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    declined = register(matter="咨询土地承包纠纷")
    declined = perform(
        "decline",
        case=declined,
        by=clerk,
        reason="不属于涉贫信访范围",
        guidance="已引导至镇农经站依法申请调解",
    )
    assert declined.state == c.State.DECLINED
    declined = perform("archive", case=declined, by=clerk)
    assert declined.state == c.State.ARCHIVED

    first = register()
    duplicate = register(matter="同一事项重复登记")
    assert duplicate.repeat_count == 2 and duplicate.repeat_of == first
    duplicate = perform("merge", case=duplicate, by=clerk, into=first, note="同日重复登记")
    assert duplicate.state == c.State.MERGED and duplicate.merged_into == first
    assert first.events.filter(type="merge_received").exists()

    perform("propose", case=first, by=clerk, proposal="交将官池镇")
    first = perform("sign_off", case=first, by=approver)
    first = perform(
        "assign", case=first, by=clerk, lead=j.townships["将官池镇"], receiver_name="陈晓东"
    )
    first = perform("sign_for", case=first, by=township)
    perform(
        "request_extension",
        case=first,
        by=township,
        reason="复杂",
        progress_report="调查中",
        expected_completion=date(2026, 12, 1),
    )
    first = perform("refuse_extension", case=first, by=approver, note="请按期办结")
    assert first.state == c.State.IN_PROGRESS
    first = perform(
        "transfer_to_discipline",
        case=first,
        by=approver,
        unit=j.discipline,
        reason="反映村干部截留补助",
        receiver_name="吴刚",
    )
    assert first.state == c.State.ASSIGNED and first.transferred_to_discipline
    assert first.assignments.get(status="active").unit == j.discipline
    first = perform("sign_for", case=first, by=j.member("discipline"))
    assert first.state == c.State.IN_PROGRESS


def test_every_transition_in_the_table_is_walked_by_a_test():
    walked = {
        "decline",
        "merge",
        "propose",
        "sign_off",
        "return_proposal",
        "countersign",
        "assign",
        "transfer_to_discipline",
        "reassign",  # tests/cases/test_reassign.py
        "sign_for",
        "log_contact",
        "deliver_acceptance_notice",
        "notify_offices",
        "submit_report",
        "record_finding",
        "request_extension",
        "approve_extension",
        "refuse_extension",
        "draft_letter",
        "return_letter",
        "approve_letter",
        "issue_letter",
        "record_delivery",
        "record_rating",
        "record_pledge",
        "report_back",
        "close",
        "archive",
        "open_review",
        "reopen",
        "answer_warning",
        "set_leader_owner",
    }
    assert set(TRANSITIONS) == walked


def test_history_cannot_be_changed_even_with_a_queryset_update(register):
    case = register()
    with pytest.raises(Exception, match="append-only"):
        CaseEvent.objects.filter(case=case).update(type="forged")
