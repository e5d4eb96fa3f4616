"""The supervisor's practices at the service layer (issue 17): supervision orders answered late
and flagged by the sweep, the bulletin, the upper level's verification, the seven-point review
with rectification, and proxy handling counted from the mark."""

from datetime import date

import pytest

from tests.conftest import sh
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.cases.rates import counts, target_results
from xinfang.cases.selectors import cases_for
from xinfang.cases.services.base import Invalid, append_event
from xinfang.figures.models import CaseFigure
from xinfang.figures.services import figures_refresh
from xinfang.notify.models import Kind, Notice
from xinfang.oversight import selectors as sel
from xinfang.oversight import services as svc
from xinfang.oversight.models import Rectification, Verification
from xinfang.rules.store import current_version, profile_of

pytestmark = pytest.mark.django_db

SEVEN = ("procedure", "documents", "delivery", "demands", "reasonableness", "basis", "opinion")


def all_ok(**failed):
    return {p: (p not in failed, failed.get(p, "")) for p in SEVEN}


# ---------------------------------------------------------------- 督办单


def test_supervision_order_answered_late_is_flagged_once_and_reaches_both_inboxes(
        kaijiang, closed_case):
    j, case = kaijiang, closed_case
    order = svc.order_issue(by=j.member("inspector"), case=case, matter="请报告补助发放凭证",
                            due_on=date(2026, 10, 15), at=sh(2026, 10, 10, 9))
    assert order.unit == j.bureaus["区民政局"]  # the lead unit, by default
    notice = Notice.objects.get(kind=Kind.SUPERVISION_ORDER, unit=order.unit)
    assert "请于2026年10月15日前答复" in notice.todo and notice.case_id == case.pk
    assert sel.orders_to_answer(j.member("bureau")).get() == order
    assert not sel.orders_for(j.member("township")).exists()  # may not see the case

    # 24:00 of the 15th passed: the sweep flags it — once.
    assert svc.oversight_sweep(at=sh(2026, 10, 16, 1))["orders"] == 1
    assert svc.oversight_sweep(at=sh(2026, 10, 16, 2))["orders"] == 0
    overdue = Notice.objects.filter(kind=Kind.OVERDUE, case=case)
    assert {n.unit_id for n in overdue} == {order.unit_id, order.issued_unit_id}

    svc.order_answer(by=j.member("bureau"), order=order, answer="凭证已补报",
                     at=sh(2026, 10, 17, 10))
    order.refresh_from_db()
    assert order.answered_late and order.status(sh(2026, 10, 18)) == "answered_late"
    types = list(case.events.order_by("seq").values_list("type", flat=True))
    assert types[-3:] == ["supervision_order_issued", "supervision_order_overdue",
                          "supervision_order_answered"]
    assert case.events.get(type="supervision_order_answered").payload["late"] is True
    assert AuditEntry.objects.filter(action=svc.OVERSIGHT, object_type="supervision_order"
                                     ).count() == 2
    with pytest.raises(Refused):
        svc.order_answer(by=j.member("bureau"), order=order, answer="再答")


def test_an_order_is_answered_only_by_its_unit_and_issued_only_on_a_visible_case(
        kaijiang, closed_case):
    j = kaijiang
    order = svc.order_issue(by=j.member("clerk"), case=closed_case, matter="补充材料",
                            due_on=date(2026, 12, 30), at=sh(2026, 10, 10, 9))
    with pytest.raises(Refused):
        svc.order_answer(by=j.member("township"), order=order, answer="x")
    with pytest.raises(Refused):  # a unit handler issues no order
        svc.order_issue(by=j.member("bureau"), case=closed_case, matter="x",
                        due_on=date(2026, 12, 30))
    with pytest.raises(Invalid) as bad:
        svc.order_issue(by=j.member("inspector"), unit=j.townships["将官池镇"], matter="",
                        due_on=date(2026, 10, 1), at=sh(2026, 10, 10, 9))
    assert set(bad.value.errors) == {"matter", "due_on"}


def test_an_order_on_a_unit_and_the_bulletin_of_the_round(kaijiang):
    j = kaijiang
    town = j.townships["将官池镇"]
    late = svc.order_issue(by=j.member("inspector"), unit=town, matter="开展月度排查",
                           due_on=date(2026, 10, 12), at=sh(2026, 10, 8, 9))
    svc.order_issue(by=j.member("inspector"), unit=j.bureaus["区民政局"], matter="报送台账",
                    due_on=date(2026, 10, 20), at=sh(2026, 10, 8, 9))
    svc.order_answer(by=j.member("township"), order=late, answer="已排查", at=sh(2026, 10, 14, 9))
    assert svc.oversight_sweep(at=sh(2026, 10, 25))["orders"] == 1  # the bureau's, unanswered
    b = svc.bulletin_issue(by=j.member("inspector"), title="2026年10月督查通报",
                           period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                           summary="将官池镇逾期答复", at=sh(2026, 10, 31, 17))
    assert b.figures["total"] == {"issued": 2, "answered": 1, "late": 1, "overdue": 1}
    assert b.orders.count() == 2
    assert sel.bulletins_for(j.member("township")).get() == b  # sent down
    # an order about no case still reaches the unit's inbox, pointing at the order's page
    from xinfang.notify.selectors import inbox

    mine = [n for n in inbox(j.member("township")) if n.kind == Kind.SUPERVISION_ORDER]
    assert [n.case_id for n in mine] == [None] and "开展月度排查" in mine[0].text
    assert mine[0].link == f"/oversight/orders/{late.pk}/"


# ---------------------------------------------------------------- 核查意见


def test_the_upper_level_verifies_a_report_back_with_its_own_record(henan, reported_case):
    j, case = henan, reported_case
    assert sel.verifications_owed(j.member("inspector")).get() == case
    with pytest.raises(Invalid) as bad:
        svc.verification_record(by=j.member("inspector"), case=case, method="fax", opinion="",
                                confirmed=True)
    assert set(bad.value.errors) == {"method", "opinion"}
    v = svc.verification_record(by=j.member("inspector"), case=case, method="site",
                                opinion="实地查看，补助已发放到户", confirmed=False,
                                at=sh(2026, 10, 14, 10))
    assert v.reported_back.type == "report_back" and v.verdict == Verification.Verdict.RETURNED
    event = case.events.order_by("-seq").first()
    assert event.type == "report_back_verified" and event.payload["method"] == "实地核查"
    assert Notice.objects.filter(kind=Kind.RECTIFICATION, case=case, event=event).exists()
    assert not sel.verifications_owed(j.member("inspector")).exists()


def test_a_verification_sent_twice_is_recorded_once(henan, reported_case):
    # given the inspector's verdict on the report-back, sent twice (a double click, a retry)
    j, case = henan, reported_case
    verify = dict(by=j.member("inspector"), case=case, method="site", opinion="补助未发放到户",
                  confirmed=False, at=sh(2026, 10, 14, 10))
    first = svc.verification_record(**verify)
    # then the second is refused: that report-back has its verdict
    with pytest.raises(Refused, match="已核查"):
        svc.verification_record(**verify)
    assert list(Verification.objects.values_list("pk", flat=True)) == [first.pk]
    assert case.events.filter(type="report_back_verified").count() == 1
    assert Notice.objects.filter(kind=Kind.RECTIFICATION, case=case).count() == 1


def test_a_case_reported_back_again_after_a_returned_verdict_is_owed_a_verification_again(
        henan, reported_case):
    # given the inspector sent the report-back back, and the lead unit reported back again
    from xinfang.cases.services import perform

    j, case = henan, reported_case
    inspector = j.member("inspector")
    svc.verification_record(by=inspector, case=case, method="site", opinion="补助未发放到户",
                            confirmed=False, at=sh(2026, 10, 14, 10))
    assert not sel.verifications_owed(inspector).exists()
    perform("report_back", case=case, by=j.member("clerk"), at=sh(2026, 10, 20, 10),
            note="补助已补发到户")
    # then the new report-back is owed its verification, in the list and in the kept figures
    assert sel.verifications_owed(inspector).get() == case
    figures_refresh()
    assert CaseFigure.objects.get(case_id=case.pk).owed == 1
    # and once verified, owed no more
    v = svc.verification_record(by=inspector, case=case, method="site", opinion="实地查看属实",
                                confirmed=True, at=sh(2026, 10, 22, 10))
    assert v.reported_back.at == sh(2026, 10, 20, 10)
    assert not sel.verifications_owed(inspector).exists()
    figures_refresh()
    assert CaseFigure.objects.get(case_id=case.pk).owed == 0


def test_no_verification_where_the_profile_asks_none(kaijiang, closed_case):
    with pytest.raises(Refused, match="未要求核查"):
        svc.verification_record(by=kaijiang.member("inspector"), case=closed_case,
                                method="site", opinion="x", confirmed=True)


# ---------------------------------------------------------------- 结案审核


def test_a_failed_point_sends_a_rectification_and_the_case_is_resolved_only_once_it_passes(
        kaijiang, closed_case):
    j, case = kaijiang, closed_case
    clerk = j.member("clerk")
    kaijiang_profile = profile_of(current_version("kaijiang"))

    def resolved():
        r = {t.name: t for t in target_results(cases_for(clerk), kaijiang_profile)}
        q = r["review_quality"]
        return r["resolved"].numerator, q.numerator, q.denominator

    assert counts(cases_for(clerk))["resolved"] == 1
    assert resolved() == (0, 0, 0)  # closed, not yet reviewed: not resolved in kaijiang
    assert sel.to_review(clerk).get() == case

    with pytest.raises(Invalid) as bad:
        svc.review_record(by=clerk, case=case, results=all_ok(delivery=""),
                          at=sh(2026, 10, 10, 9))
    assert set(bad.value.errors) == {"remark_delivery", "rectify_by"}
    first = svc.review_record(by=clerk, case=case, results=all_ok(delivery="回证未注明送达时间"),
                              rectify_by=date(2026, 10, 20), at=sh(2026, 10, 10, 9))
    assert not first.passed and first.failed_points == ["送达是否及时"]
    rect = Rectification.objects.get(review=first)
    assert rect.unit == j.bureaus["区民政局"] and "回证未注明送达时间" in rect.request
    assert Notice.objects.filter(kind=Kind.RECTIFICATION, unit=rect.unit).exists()
    assert resolved() == (0, 0, 1)
    with pytest.raises(Refused, match="整改尚未报告"):
        svc.review_record(by=clerk, case=case, results=all_ok(), at=sh(2026, 10, 11, 9))

    assert svc.oversight_sweep(at=sh(2026, 10, 21, 8))["rectifications"] == 1
    svc.rectification_answer(by=j.member("bureau"), rectification=rect,
                             answer="已补注送达时间", at=sh(2026, 10, 22, 9))
    rect.refresh_from_db()
    assert rect.answered_late
    second = svc.review_record(by=clerk, case=case, results=all_ok(), at=sh(2026, 10, 23, 9))
    assert second.passed and second.round == 2
    assert resolved() == (1, 1, 1)
    with pytest.raises(Refused, match="已审核通过"):
        svc.review_record(by=clerk, case=case, results=all_ok())
    assert not sel.to_review(clerk).exists()
    types = list(case.events.filter(type__in=["case_reviewed", "rectification_overdue",
                                              "rectification_answered"])
                 .order_by("seq").values_list("type", flat=True))
    assert types == ["case_reviewed", "rectification_overdue", "rectification_answered",
                     "case_reviewed"]


def test_no_review_of_an_open_case_nor_where_the_profile_has_no_review(
        kaijiang, henan, reported_case):
    with pytest.raises(Refused, match="未规定结案审核"):
        svc.review_record(by=henan.member("clerk"), case=reported_case, results=all_ok())


# ---------------------------------------------------------------- 代办


def test_proxy_rates_count_the_cases_marked_as_proxied_not_the_agents_entries(
        lihai, lihai_case):
    j, case = lihai, lihai_case
    agent = j.member("proxy")
    other = __import__("tests.oversight.conftest", fromlist=["x"]).assign_in_lihai(j)
    # An entry written by a proxy agent on a case not marked proxied counts for nothing.
    append_event(case=other, type="contact_logged", by=agent, at=sh(2026, 9, 20, 9))
    assert counts(cases_for(j.member("clerk")))["proxy_handled"] == 0

    with pytest.raises(Invalid) as bad:
        svc.proxy_take(by=agent, case=case, agent=agent, helps=["代写材料"])
    assert "helps" in bad.value.errors
    svc.proxy_take(by=agent, case=case, agent=agent, helps=["帮政策解读", "全域代办"],
                   at=sh(2026, 9, 20, 10))
    with pytest.raises(Invalid, match="已有代办员"):
        svc.proxy_take(by=j.member("clerk"), case=case, agent=agent, helps=["全域代办"])
    svc.proxy_step_record(by=agent, case=case, help="帮政策解读", text="上门讲解危房改造政策",
                          at=sh(2026, 9, 21, 10))
    with pytest.raises(Refused):
        svc.proxy_step_record(by=j.member("township"), case=case, help="帮政策解读", text="x")
    assert list(sel.proxy_work_list(agent)) == [case]
    assert case.events.filter(type="proxy_step", actor_role="proxy_agent").count() == 1

    n = counts(cases_for(j.member("clerk")))
    assert (n["proxy_handled"], n["accepted"], n["proxy_closed"]) == (1, 2, 0)
    lihai_profile = profile_of(current_version("lihai"))
    r = {t.name: t for t in target_results(cases_for(j.member("clerk")), lihai_profile)}
    assert r["proxy_rate"].rate == 0.5 and r["proxy_rate"].met
    assert (r["closing_rate"].numerator, r["closing_rate"].denominator) == (0, 1)


def test_the_office_hands_a_case_to_a_proxy_agent_whose_inbox_shows_it(lihai, lihai_case):
    j = lihai
    svc.proxy_take(by=j.member("clerk"), case=lihai_case, agent=j.member("proxy"),
                   helps=["帮困难解决"])
    n = Notice.objects.get(kind=Kind.ASSIGNED, role="proxy_agent")
    assert n.unit == j.member("proxy").unit and "由您代办" in n.text
    with pytest.raises(Refused):
        svc.proxy_take(by=j.member("township"), case=lihai_case, agent=j.member("proxy"),
                       helps=["帮困难解决"])


def test_the_sweep_runs_on_the_schedule(kaijiang):
    from django.conf import settings
    from django.utils.module_loading import import_string

    svc.order_issue(by=kaijiang.member("inspector"), unit=kaijiang.townships["将官池镇"],
                    matter="排查", due_on=date(2026, 1, 5), at=sh(2026, 1, 1, 9))
    path, every = settings.XINFANG_PERIODIC["oversight"]
    assert every <= 3600
    assert import_string(path)() == {"orders": 1, "rectifications": 0}


def test_seed_002_s4_2_who_registers_reviews(kaijiang, closed_case):
    # kaijiang 谁登记、谁交办、谁审核: the clerk who registered (and assigned) the case reviews it.
    from xinfang.org.choices import Role
    from xinfang.org.models import Membership, User

    j, case = kaijiang, closed_case
    user = User.objects.create(username="kaijiang_clerk2", full_name="另一位经办人")
    other = Membership.objects.create(user=user, unit=j.member("clerk").unit, role=Role.CLERK)
    for who in (other, j.member("inspector"), j.member("approver")):
        with pytest.raises(Refused, match="谁登记、谁交办、谁审核"):
            svc.review_record(by=who, case=case, results=all_ok(), at=sh(2026, 10, 10, 9))
    review = svc.review_record(by=j.member("clerk"), case=case, results=all_ok(),
                               at=sh(2026, 10, 10, 9))
    event = case.events.get(type="case_reviewed")
    registrar = case.registered_by.get_username()
    assert review.passed and event.payload["registrar"] == event.payload["reviewer"] == registrar


def test_a_profile_without_the_rule_lets_any_office_reviewer_review():
    # Only kaijiang's seed says who reviews; elsewhere the rule is off.
    for code in ("national", "jianan", "datonghu", "henan", "lihai"):
        assert not profile_of(current_version(code)).signatures.registrar_reviews
