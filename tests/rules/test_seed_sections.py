"""Issue 12, "clocks and duties as the seeds say": one scenario per seed rule, named after the seed
and its section, through the service layer, with the due instants written out."""

from datetime import date

import pytest

from tests.conftest import id_number, register_in, sh
from tests.rules.walking import Walk, changes, started, stopped
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Alert
from xinfang.cases.services import DemandInput, PetitionerInput
from xinfang.cases.services.base import Invalid
from xinfang.cases.services.supervision import sweep

pytestmark = pytest.mark.django_db


def _to_assigned(walk, j, *, at, lead):
    walk("propose", j.member("clerk"), at.replace(minute=10), proposal="交办")
    walk("sign_off", j.member("approver"), at.replace(minute=20))
    if walk.case.state == c.State.AWAITING_COUNTERSIGN:
        walk("countersign", j.member("chief"), at.replace(minute=30))
    return walk("assign", j.member("clerk"), at.replace(minute=40), lead=lead,
                receiver_name="周明")


def test_seed_000_s4_3_s6_3_reply_runs_from_the_hand_over_and_late_sign_for_is_visible(
        jurisdiction):
    j = jurisdiction("datonghu")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    event = _to_assigned(walk, j, at=sh(2026, 9, 14, 11), lead=j.bureaus["区民政局"])
    # Handed over Monday 09-14 11:40, receiver 周明 recorded: 3 working days → 09-17 24时.
    assert event.payload["receiver"] == "周明"
    assert {"reply", "sign_for"} <= started(event)
    assert walk.clock("reply").due_at == sh(2026, 9, 18)
    assert walk.clock("sign_for").due_at == sh(2026, 9, 16)  # 1 working day: 09-15 24时

    # The unit signs for three days late: its reply deadline does not move; the sign-for clock
    # stops late, and the sweep had told the unit and the clerk.
    sweep(at=sh(2026, 9, 16, 1))
    assert set(walk.case.alerts.filter(clock=walk.clock("sign_for"), kind=Alert.Kind.OVERDUE)
               .values_list("role", flat=True)) == {"unit_handler", "clerk"}
    event = walk("sign_for", j.member("bureau"), sh(2026, 9, 17, 9))
    assert stopped(event) == {"sign_for": False}
    assert "reply" not in started(event)
    assert walk.clock("reply").due_at == sh(2026, 9, 18)


def test_seed_004_s1_2_phone_call_counts_from_registration(jurisdiction):
    j = jurisdiction("lihai")
    # Registered Monday 09-14 10:00 (received 09:00): the call is due 09-15 24时, whenever the
    # unit signs for.
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                            channel=c.Channel.LETTER))
    assert "phone_contact" in started(walk.case.events.get(type="register"))
    call = walk.clock("phone_contact")
    assert call.started_at == sh(2026, 9, 14, 9) and call.due_at == sh(2026, 9, 16)
    assert walk.clock("reply_letter_visit").started_at == call.started_at


def test_seed_002_s5_2_sixty_day_cause_analysis_is_a_clock_stopped_at_settlement(jurisdiction):
    j = jurisdiction("kaijiang")
    clerk, approver, bureau = j.member("clerk"), j.member("approver"), j.member("bureau")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    _to_assigned(walk, j, at=sh(2026, 9, 14, 11), lead=j.bureaus["区民政局"])
    event = walk("sign_for", bureau, sh(2026, 9, 15, 10))
    assert "analysis" in started(event)
    analysis = walk.clock("analysis")
    # Accepted Tuesday 09-15: 60 days → Saturday 11-14, rolled to Monday 11-16 24时.
    assert analysis.due_at == sh(2026, 11, 17) and analysis.provisional is False
    assert analysis.explanation[-1] == "期限：2026-11-16 24时"
    assert analysis.seed == "002 §五(二)"
    # Shown on the case like every clock (its next due instant counts it).
    assert walk.case.clocks.filter(name="analysis", status="running").exists()

    walk("deliver_acceptance_notice", bureau, sh(2026, 9, 16, 10), mode="in_person",
         deliverer="周明", recipient="张三明")
    walk("submit_report", bureau, sh(2026, 9, 29, 9), kind="handling", text="办理情况报告")
    walk("record_finding", bureau, sh(2026, 9, 29, 10), findings={1: ("true", "solved", "已发放")})
    walk("draft_letter", bureau, sh(2026, 9, 29, 11), body="经核查……")
    walk("approve_letter", approver, sh(2026, 9, 29, 15))
    walk("issue_letter", clerk, sh(2026, 9, 29, 16))
    walk("record_delivery", clerk, sh(2026, 9, 30, 10), mode="in_person",
         delivered_at=sh(2026, 9, 30, 9), deliverer="周明", recipient="张三明",
         receipt_signed=True)
    walk("record_rating", bureau, sh(2026, 9, 30, 11), rating="satisfied")
    walk("record_pledge", bureau, sh(2026, 9, 30, 11, 30), text="不再上访")
    event = walk("close", approver, sh(2026, 10, 9, 9), note="同意销号")
    assert stopped(event)["analysis"] is True  # settled in time: no analysis owed
    sweep(at=sh(2026, 11, 20))
    assert not walk.case.alerts.filter(clock=analysis).exists()


def test_seed_004_s2_2_backdated_registration_raises_its_warning_at_the_received_instant(
        jurisdiction):
    j = jurisdiction("lihai")
    # A collective visit received Monday 09-14 09:00, typed in on Wednesday 09-16 15:00.
    case = register_in(j, at=sh(2026, 9, 16, 15), received_at=sh(2026, 9, 14, 9), headcount=6)
    notice = case.warning_notices.get()
    assert notice.issued_at == sh(2026, 9, 14, 9)
    # The follow-up's 7 working days count from 09-14: 09-15…09-18, 09-20, 09-21, 09-22 → 09-22
    # 24时 (09-20 is a make-up working day).
    assert notice.follow_up.started_at == sh(2026, 9, 14, 9)
    assert notice.follow_up.due_at == sh(2026, 9, 23)
    assert case.alerts.filter(kind=Alert.Kind.WARNING).first().created_at == sh(2026, 9, 14, 9)
    # Every clock starts at the received instant too.
    assert set(case.clocks.values_list("started_at", flat=True)) == {sh(2026, 9, 14, 9)}


def test_seed_000_s6_3_extension_is_approved_to_the_day_asked_for(jurisdiction):
    j = jurisdiction("datonghu")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    _to_assigned(walk, j, at=sh(2026, 9, 14, 11), lead=j.bureaus["区民政局"])
    bureau = j.member("bureau")
    walk("sign_for", bureau, sh(2026, 9, 14, 14))
    walk("request_extension", bureau, sh(2026, 9, 16, 9), reason="需实地核查",
         progress_report="已走访两户", expected_completion=date(2026, 9, 30))
    event = walk("approve_extension", j.member("approver"), sh(2026, 9, 16, 15))
    # Asked for 09-30, not a flat 30 days: 09-30 24时.
    assert changes(event)["reply"]["extended_to"] == sh(2026, 10, 1).isoformat()
    assert event.payload["until"] == "2026-09-30"


def test_seed_000_s6_2_provincial_leader_instruction_needs_both_signatures(jurisdiction):
    j = jurisdiction("datonghu")
    from tests.rules.walking import member

    secretary = j.member("chief")
    mayor = member(j.county if hasattr(j, "county") else secretary.unit, "chief", "区长")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                            leader_instruction="请认真核查", leader_instruction_level="province"))
    assert walk.case.reply_mode_required == "written"
    _to_assigned(walk, j, at=sh(2026, 9, 14, 11), lead=j.bureaus["区民政局"])
    bureau = j.member("bureau")
    walk("sign_for", bureau, sh(2026, 9, 14, 14))
    walk("record_finding", bureau, sh(2026, 9, 15, 9), findings={1: ("true", "solved", "已补发")})
    walk("draft_letter", bureau, sh(2026, 9, 15, 10), body="经核查……")
    with pytest.raises(Refused, match="区委书记"):
        walk("approve_letter", j.member("approver"), sh(2026, 9, 15, 11))
    event = walk("approve_letter", secretary, sh(2026, 9, 15, 12))
    assert event.payload["title"] == "区委书记" and walk.case.state == c.State.LETTER_DRAFTED
    assert "区长" in event.payload["awaiting"][0]
    with pytest.raises(Refused, match="两次"):
        walk("approve_letter", secretary, sh(2026, 9, 15, 13))
    event = walk("approve_letter", mayor, sh(2026, 9, 15, 14))
    assert event.payload["title"] == "区长" and walk.case.state == c.State.LETTER_APPROVED
    notes = list(walk.case.signatures.filter(stage="letter").values_list("note", flat=True))
    assert [n.split("：")[0] for n in notes] == ["区委书记", "区长"]


def test_seed_002_s4_1_kaijiang_accepts_requests_since_2018_08_01_only(jurisdiction):
    j = jurisdiction("kaijiang")
    clerk = j.member("clerk")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                            matter_type=c.MatterType.SUGGESTION))
    assert walk.case.scope_reasons and "申诉求决类" in walk.case.scope_reasons[0]
    with pytest.raises(Refused, match="不予受理"):
        walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交办")
    event = walk("decline", clerk, sh(2026, 9, 14, 11))
    assert "申诉求决类" in event.payload["reason"] and event.payload["guidance"]
    assert walk.case.state == c.State.DECLINED and walk.case.guidance == event.payload["guidance"]

    old = register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2018, 7, 31, 9),
                      petitioners=[PetitionerInput(name="李四", id_number=id_number(
                          "51172319800101123"))])
    assert any("2018年08月01日" in r for r in old.scope_reasons)
    # A request raised since 2018-08-01 goes on as usual.
    ok = register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                     petitioners=[PetitionerInput(name="王五", id_number=id_number(
                         "51172319800101234"))])
    assert ok.scope_reasons == []


def test_seed_national_collective_at_most_five_representatives(jurisdiction):
    j = jurisdiction("national")
    reps = [PetitionerInput(name=f"代表{n}", role=c.PetitionerRole.REPRESENTATIVE)
            for n in range(6)]
    main = PetitionerInput(name="张三明", id_number=id_number("41102319800101123"))
    with pytest.raises(Invalid) as refused:
        register_in(j, petitioners=[main, *reps], headcount=30)
    assert "不超过5人" in refused.value.errors["petitioners"]


def test_seed_004_s1_3_five_person_visit_is_received_by_a_leader_before_it_goes_on(
        jurisdiction):
    j = jurisdiction("lihai")
    clerk = j.member("clerk")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                            headcount=5))
    with pytest.raises(Refused, match="同步出面接待"):
        walk("propose", clerk, sh(2026, 9, 14, 10, 30), proposal="交办")
    walk("log_contact", j.member("approver"), sh(2026, 9, 14, 10, 40), kind="meeting",
         note="分管领导同步接待")
    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交办")
    assert walk.case.state == c.State.PROPOSED


def test_seed_national_review_keeps_the_original_demands_whatever_the_categories(jurisdiction):
    j = jurisdiction("jianan")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                            demands=[DemandInput(text="要求补发残疾人补贴",
                                                 category="残疾人补贴")]))
    bureau_lead = j.townships["将官池镇"]
    _to_assigned(walk, j, at=sh(2026, 9, 14, 11), lead=bureau_lead)
    township = j.member("township")
    walk("sign_for", township, sh(2026, 9, 14, 14))
    walk("deliver_acceptance_notice", township, sh(2026, 9, 14, 15), mode="in_person",
         deliverer="周明", recipient="张三明")
    walk("record_finding", township, sh(2026, 9, 15, 9), findings={1: ("true", "solved", "补发")})
    walk("draft_letter", township, sh(2026, 9, 15, 10), body="经核查……")
    walk("approve_letter", j.member("approver"), sh(2026, 9, 15, 11))
    walk("issue_letter", j.member("clerk"), sh(2026, 9, 15, 12))
    walk("record_delivery", j.member("clerk"), sh(2026, 9, 16, 10), mode="in_person",
         delivered_at=sh(2026, 9, 16, 9), deliverer="周明", recipient="张三明",
         receipt_signed=True)
    # 001 附件6: the review goes to 区乡村振兴局 — the district office itself, which under the
    # national rule could not receive it.
    national = jurisdiction("national")
    other = Walk(register_in(national, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    _delivered(other, national, lead=national.bureaus["区民政局"], at=sh(2026, 9, 14, 11))
    with pytest.raises(Refused, match="上一级机关"):
        other("open_review", national.member("clerk"), sh(2026, 9, 20, 10),
              received_at=sh(2026, 9, 20, 9), reason="不服", clerk=national.member("clerk"))
    clerk = j.member("clerk")
    event = walk("open_review", clerk, sh(2026, 9, 20, 10), received_at=sh(2026, 9, 20, 9),
                 reason="对处理意见不服", clerk=clerk)
    review = walk.case.reviews.get()
    assert review.jurisdiction == walk.case.jurisdiction and review.kind == c.Kind.REVIEW
    assert event.payload["to"].startswith("区乡村振兴局")
    # The review decision: 30 days from the request, Sunday 09-20 → 10-20 24时.
    assert review.clocks.get(name="review_decision").due_at == sh(2026, 10, 21)


def test_seed_national_city_review_keeps_a_category_the_city_does_not_list(jurisdiction):
    """A review opened by a higher office keeps the original demands even when that office's
    category list differs (the city's national list has no 残疾人补贴)."""
    j = jurisdiction("jianan")
    from xinfang.cases.services import Registration, case_register

    city_clerk = j.member("city_clerk")
    original = register_in(j, demands=[DemandInput(text="要求补发残疾人补贴",
                                                   category="残疾人补贴")])
    review = case_register(by=city_clerk, at=sh(2026, 9, 20, 10), data=Registration(
        channel=c.Channel.LETTER, kind=c.Kind.REVIEW, matter="复查申请",
        received_at=sh(2026, 9, 20, 9), review_of=original,
        petitioners=[PetitionerInput(name="张三明", id_number=id_number("41102319800101123"))],
        demands=[DemandInput(text="要求补发残疾人补贴", category="残疾人补贴")]))
    assert list(review.demands.values_list("category", flat=True)) == ["残疾人补贴"]
    # A fresh petition at the city is still checked against the city's own list.
    with pytest.raises(Invalid, match="不在本地类别中"):
        case_register(by=city_clerk, at=sh(2026, 9, 20, 10), data=Registration(
            channel=c.Channel.LETTER, matter="新信访", received_at=sh(2026, 9, 20, 9),
            petitioners=[PetitionerInput(name="李四")],
            demands=[DemandInput(text="要求补发残疾人补贴", category="残疾人补贴")]))


def _delivered(walk, j, *, lead, at):
    _to_assigned(walk, j, at=at, lead=lead)
    handler = j.member("bureau") if lead.kind == "bureau" else j.member("township")
    walk("sign_for", handler, at.replace(hour=14))
    walk("deliver_acceptance_notice", handler, at.replace(hour=15), mode="in_person",
         deliverer="周明", recipient="张三明")
    walk("submit_report", handler, at.replace(hour=16), kind="handling", text="办理情况报告")
    walk("record_finding", handler, at.replace(hour=17), findings={1: ("true", "solved", "已补发")})
    walk("draft_letter", handler, at.replace(hour=18), body="经核查……")
    walk("approve_letter", j.member("approver"), at.replace(hour=19))
    walk("issue_letter", j.member("clerk"), at.replace(hour=20))
    return walk("record_delivery", j.member("clerk"), at.replace(hour=21), mode="in_person",
                delivered_at=at.replace(hour=21), deliverer="周明", recipient="张三明",
                receipt_signed=True)


def test_seed_national_closing_right_after_delivery_keeps_the_rating_open(jurisdiction):
    j = jurisdiction("national")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    event = _delivered(walk, j, lead=j.bureaus["区民政局"], at=sh(2026, 9, 14, 11))
    assert "rating_window" in started(event)
    window = walk.clock("rating_window")
    # 30 days from Monday 09-14 (21:00): 10-14 24时.
    assert window.kind == "window" and window.due_at == sh(2026, 10, 15)
    walk("close", j.member("approver"), sh(2026, 9, 15, 9), note="同意销号")
    assert walk.case.state == c.State.CLOSED
    # The petitioner rates a week later: counted, and the window stops.
    event = walk("record_rating", j.member("clerk"), sh(2026, 9, 22, 9), rating="satisfied")
    assert stopped(event) == {"rating_window": True}
    assert walk.case.rating == "satisfied"


def test_seed_national_rating_after_its_window_is_refused(jurisdiction):
    j = jurisdiction("national")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    _delivered(walk, j, lead=j.bureaus["区民政局"], at=sh(2026, 9, 14, 11))
    walk("close", j.member("approver"), sh(2026, 9, 15, 9), note="同意销号")
    with pytest.raises(Refused, match="2026-10-14 24时"):
        walk("record_rating", j.member("clerk"), sh(2026, 10, 15, 0, 1), rating="satisfied")


def test_seed_002_s5_3_kaijiang_closes_only_after_the_rating(jurisdiction):
    j = jurisdiction("kaijiang")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    _delivered(walk, j, lead=j.bureaus["区民政局"], at=sh(2026, 9, 14, 11))
    walk("record_pledge", j.member("bureau"), sh(2026, 9, 14, 22), text="不再上访")
    with pytest.raises(Refused, match="满意度评价"):
        walk("close", j.member("approver"), sh(2026, 9, 15, 9), note="同意销号")
    walk("record_rating", j.member("bureau"), sh(2026, 9, 15, 10), rating="satisfied")
    walk("close", j.member("approver"), sh(2026, 9, 15, 11), note="同意销号")
    assert walk.case.state == c.State.CLOSED


def test_seed_002_s4_2_who_registers_hands_over(jurisdiction):
    j = jurisdiction("kaijiang")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    walk("propose", j.member("clerk"), sh(2026, 9, 14, 10, 10), proposal="交办")
    walk("sign_off", j.member("approver"), sh(2026, 9, 14, 10, 20))
    with pytest.raises(Refused, match="谁登记、谁交办"):
        walk("assign", j.member("approver"), sh(2026, 9, 14, 10, 30),
             lead=j.bureaus["区民政局"], receiver_name="周明")
    event = walk("assign", j.member("clerk"), sh(2026, 9, 14, 10, 40),
                 lead=j.bureaus["区民政局"], receiver_name="周明")
    registrar = walk.case.registered_by.get_username()
    assert event.payload["registrar"] == event.payload["assigner"] == registrar


def test_seed_national_s19_a_matter_handled_below_is_not_accepted_again_above(jurisdiction):
    j = jurisdiction("jianan")
    walk = Walk(register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9)))
    _to_assigned(walk, j, at=sh(2026, 9, 14, 11), lead=j.townships["将官池镇"])
    walk("sign_for", j.member("township"), sh(2026, 9, 14, 14))
    # The same person takes the same matter to the city on 09-20: the district is handling it,
    # its 60 days (to 11-13 24时) still running.
    from tests.conftest import registration
    from xinfang.cases.services import case_register

    city_clerk = j.member("city_clerk")
    data = registration(j, received_at=sh(2026, 9, 20, 9), township=None, village=None,
                        demands=[DemandInput(text="要求落实危房改造补助", category="危房改造")])
    above = Walk(case_register(by=city_clerk, data=data, at=sh(2026, 9, 20, 10)))
    assert any("第十九条" in r and walk.case.number in r for r in above.case.scope_reasons)
    with pytest.raises(Refused, match="第十九条"):
        above("propose", city_clerk, sh(2026, 9, 20, 11), proposal="交办")
    event = above("decline", city_clerk, sh(2026, 9, 20, 11))
    assert "第十九条" in event.payload["reason"] and event.payload["guidance"]


def _rereviewed(j, earlier, *, decided: bool):
    """The earlier visit's review and re-review on file (their walk is the national scenario's);
    the re-review's decision letter issued when ``decided``."""
    from xinfang.cases.models import Case, Document

    review = register_in(j, at=sh(2026, 10, 20, 10), received_at=sh(2026, 10, 20, 9))
    rereview = register_in(j, at=sh(2026, 11, 30, 10), received_at=sh(2026, 11, 30, 9))
    Case.objects.filter(pk=review.pk).update(kind=c.Kind.REVIEW, review_of=earlier,
                                             repeat_of=None, matter_root=None)
    Case.objects.filter(pk=rereview.pk).update(kind=c.Kind.REREVIEW, review_of=review,
                                               repeat_of=None, matter_root=None)
    if decided:
        Document.objects.create(
            case=rereview, kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED,
            body="复核意见：维持。", created_at=sh(2026, 12, 10), issued_at=sh(2026, 12, 10),
            created_by=j.member("clerk").user)


@pytest.mark.parametrize("decided", [True, False])
def test_seed_national_s36_a_rereviewed_matter_is_not_accepted_again(jurisdiction, decided):
    # given a matter petitioned in September, reviewed and re-reviewed (decided or not yet)
    j = jurisdiction("jianan")
    earlier = register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9))
    _rereviewed(j, earlier, decided=decided)
    # when the same person brings the same matter again, confirmed as a repeat of it
    again = Walk(register_in(j, at=sh(2026, 12, 14, 10), received_at=sh(2026, 12, 14, 9),
                             repeat_of=earlier))
    assert again.case.repeat_of_id == earlier.pk
    # then, decided: the clerk is told at registration and may not propose it
    if decided:
        assert any("第三十六条" in r and earlier.number in r for r in again.case.scope_reasons)
        with pytest.raises(Refused, match="第三十六条"):
            again("propose", j.member("clerk"), sh(2026, 12, 14, 11), proposal="交办")
    else:
        assert not again.case.scope_reasons
        again("propose", j.member("clerk"), sh(2026, 12, 14, 11), proposal="交办")


@pytest.mark.parametrize("reviewed", ["first", "second"])
def test_seed_national_s36_holds_for_every_later_visit_of_the_matter(jurisdiction, reviewed):
    # given a matter visited twice, re-reviewed and decided on its first or its second visit,
    # then visited a third time as a repeat of the second
    j = jurisdiction("jianan")
    earlier = register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9))
    second = register_in(j, at=sh(2026, 9, 28, 10), received_at=sh(2026, 9, 28, 9),
                         repeat_of=earlier)
    decided = earlier if reviewed == "first" else second
    _rereviewed(j, decided, decided=True)
    third = Walk(register_in(j, at=sh(2026, 12, 20, 10), received_at=sh(2026, 12, 20, 9),
                             repeat_of=second))
    assert third.case.repeat_of_id == second.pk and third.case.matter_root_id == earlier.pk
    # then the third is not accepted either: the re-review decided the matter, not one visit
    assert any("第三十六条" in r and decided.number in r for r in third.case.scope_reasons)
    with pytest.raises(Refused, match="第三十六条"):
        third("propose", j.member("clerk"), sh(2026, 12, 20, 11), proposal="交办")
