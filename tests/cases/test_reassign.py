"""改派 (重新交办): a case handled by the wrong unit, or by a township about to be merged, given to
another unit — the old assignment ended and kept, the new one made as an assignment is, the door
shut on the old unit at once, the clocks the profile restarts restarted and the statutory ones
running on."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.world import client_as
from tests.cases.test_engine_edges import assigned_case
from tests.conftest import sh
from tests.web.conftest import signed_in
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused, StaleCase
from xinfang.cases.models import Case, Clock
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import available, perform
from xinfang.notify.models import Delivery, Kind, Notice
from xinfang.notify.selectors import addressed_to
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User

pytestmark = pytest.mark.django_db


def handler_at(unit, username="wunvdian") -> Membership:
    user = User.objects.create(username=username, full_name="马俊")
    return Membership.objects.create(user=user, unit=unit, role=Role.UNIT_HANDLER)


def signed_for(j):
    case = assigned_case(j)
    return perform("sign_for", case=case, by=j.member("township"), at=sh(2026, 9, 15, 9))


def reassigned(j, case, at=None, **kw):
    params = {"lead": j.townships["五女店镇"], "reason": "问题属地在五女店镇，原交办有误",
              "receiver_name": "马俊", **kw}
    return perform("reassign", case=case, by=j.member("clerk"), expected_version=case.version,
                   at=at or sh(2026, 9, 16, 10), **params)


def test_reassign_ends_the_old_assignment_keeps_it_and_assigns_the_new_unit(jianan):
    # given a case the township signed for
    case = signed_for(jianan)
    old = case.assignments.get()
    # when the office gives it to another township
    case = reassigned(jianan, case)
    # then the old assignment is kept, ended as transferred, with its signing for
    old.refresh_from_db()
    assert old.status == c.AssignmentStatus.TRANSFERRED and old.signed_for_at is not None
    new = case.assignments.get(status=c.AssignmentStatus.ACTIVE)
    assert (new.unit, new.role, new.receiver_name) == (
        jianan.townships["五女店镇"], c.AssignmentRole.LEAD, "马俊")
    assert case.assignments.count() == 2
    # the new unit signs for it before handling it; when it was accepted stays
    assert case.state == c.State.ASSIGNED and case.accepted_at == sh(2026, 9, 15, 9)
    # and the history says who, when, why, from which unit to which
    event = case.events.order_by("-seq").first()
    assert (event.type, event.actor_role, event.at) == ("reassign", "clerk", sh(2026, 9, 16, 10))
    assert (event.from_state, event.to_state) == (c.State.IN_PROGRESS, c.State.ASSIGNED)
    assert event.payload["reason"] == "问题属地在五女店镇，原交办有误"
    assert [e["unit"] for e in event.payload["ended"]] == ["将官池镇"]
    assert event.payload["given"] == [
        {"unit": "五女店镇", "unit_id": jianan.townships["五女店镇"].pk, "role": "lead"}]
    assert event.payload["event"] == "reassigned"


def test_the_new_unit_signs_for_and_handles_it(jianan):
    case = reassigned(jianan, signed_for(jianan))
    wunv = handler_at(jianan.townships["五女店镇"])
    case = perform("sign_for", case=case, by=wunv, at=sh(2026, 9, 16, 15))
    assert case.state == c.State.IN_PROGRESS
    case = perform("record_finding", case=case, by=wunv, findings={1: ("true", "solved", "")},
                   at=sh(2026, 9, 17, 9))
    assert case.demands.get().finding == "true"


def test_sign_for_clock_restarts_and_the_handling_limit_runs_on(jianan):
    # given a case signed for on 09-15: its 60 days (national, counted from acceptance) run
    case = signed_for(jianan)
    handling = case.clocks.get(name="handling")
    first_sign_for = case.clocks.get(name="sign_for")
    assert first_sign_for.status == Clock.Status.STOPPED
    # when it is reassigned on 09-16 and the new unit signs for on 09-17
    case = reassigned(jianan, case)
    restarted = case.clocks.get(name="sign_for", status=Clock.Status.RUNNING)
    # then the new unit owes its own sign-for, counted from the reassignment
    assert restarted.started_at == sh(2026, 9, 16, 10)
    assert restarted.due_at == sh(2026, 9, 18, 0)  # 1 working day: 24:00 of 09-17
    wunv = handler_at(jianan.townships["五女店镇"])
    case = perform("sign_for", case=case, by=wunv, at=sh(2026, 9, 17, 9))
    restarted.refresh_from_db()
    assert restarted.status == Clock.Status.STOPPED and restarted.met is True
    # and the handling limit is the same clock with the same deadline: not a second 60 days
    assert case.clocks.filter(name="handling").count() == 1
    assert case.clocks.get(name="handling").due_at == handling.due_at
    assert case.clocks.filter(name="acceptance_notice").count() == 1
    event = case.events.order_by("-seq")[1]
    assert {ch["clock"] for ch in event.payload["clocks"]} == {"sign_for"}


def test_a_running_sign_for_clock_is_replaced_not_doubled(jianan):
    # given a case the first township never signed for
    case = assigned_case(jianan)
    old = case.clocks.get(name="sign_for")
    # when it is reassigned
    case = reassigned(jianan, case, at=sh(2026, 9, 14, 16))
    old.refresh_from_db()
    # then the old unit's clock stopped at the reassignment and one runs for the new unit
    assert old.status == Clock.Status.STOPPED and old.stopped_at == sh(2026, 9, 14, 16)
    running = case.clocks.filter(name="sign_for").exclude(status=Clock.Status.STOPPED)
    assert [k.started_at for k in running] == [sh(2026, 9, 14, 16)]


def test_lihai_the_new_units_first_call_restarts_the_reply_limits_do_not(jurisdiction):
    # seed 004 §一(二): the handling unit's own handler phones within a working day
    from tests.conftest import register_in

    j = jurisdiction("lihai")
    case = register_in(j)
    perform("propose", case=case, by=j.member("clerk"), proposal="交", at=sh(2026, 9, 14, 11))
    perform("sign_off", case=case, by=j.member("approver"), at=sh(2026, 9, 14, 12))
    perform("countersign", case=case, by=j.member("chief"), at=sh(2026, 9, 14, 12, 30))
    case = perform("assign", case=case, by=j.member("clerk"), lead=j.townships["将官池镇"],
                   receiver_name="陈", at=sh(2026, 9, 14, 13))
    perform("sign_for", case=case, by=j.member("township"), at=sh(2026, 9, 15, 9))
    case = perform("log_contact", case=case, by=j.member("township"), kind="phone",
                   at=sh(2026, 9, 15, 10))
    reply = case.clocks.get(name="reply_letter_visit")
    case = reassigned(j, case)
    calls = case.clocks.filter(name="phone_contact").order_by("started_at")
    assert [k.status for k in calls] == [Clock.Status.STOPPED, Clock.Status.RUNNING]
    assert calls[1].started_at == sh(2026, 9, 16, 10)
    assert case.clocks.get(name="reply_letter_visit").due_at == reply.due_at


def test_the_old_unit_loses_the_case_at_once_and_the_new_one_gets_it(jianan, client):
    case = signed_for(jianan)
    township = jianan.member("township")
    wunv = handler_at(jianan.townships["五女店镇"])
    assert cases_for(township).filter(pk=case.pk).exists()
    assert not cases_for(wunv).filter(pk=case.pk).exists()
    case = reassigned(jianan, case)
    # the door: lists, the case page, the API
    assert not cases_for(township).filter(pk=case.pk).exists()
    assert cases_for(wunv).filter(pk=case.pk).exists()
    page = signed_in(township, client).get(reverse("web:case", args=[case.pk]))
    assert page.status_code == 404
    api = client_as(township)
    assert api.get(f"/api/cases/{case.pk}/").status_code == 404
    assert case.pk not in [r["id"] for r in api.get("/api/cases/").json()["results"]]
    r = api.post(f"/api/cases/{case.pk}/transitions/record_finding/",
                 {"expected_version": case.version, "findings": {"1": ["true", "solved"]}},
                 format="json")
    assert r.status_code == 404
    assert client_as(wunv).get(f"/api/cases/{case.pk}/").status_code == 200
    # and its actions: the old unit may do nothing, the new one may sign for it
    assert available(case=case, by=wunv)[0] == "sign_for"
    assert available(case=case, by=township) == []


def test_old_units_notices_stop_and_the_new_unit_is_notified(jianan):
    # given the township's notice of the assignment, not yet sent to its webhook
    from xinfang.notify.models import Channel
    from xinfang.notify.outbox import fan_out

    case = assigned_case(jianan)
    township = jianan.member("township")
    Channel.objects.create(unit=jianan.townships["将官池镇"], name="镇钉钉", format="webhook",
                           target="http://127.0.0.1:9/hook")
    fan_out()
    pending = Delivery.objects.get(notice__case=case)
    assert pending.status == Delivery.Status.PENDING
    assert addressed_to(township).filter(case=case).exists()
    # when the case is reassigned
    case = reassigned(jianan, case, at=sh(2026, 9, 14, 16))
    # then the old unit's inbox no longer holds it, its unsent message is not sent
    assert not addressed_to(township).filter(case=case).exists()
    pending.refresh_from_db()
    assert pending.status == Delivery.Status.DEAD and "改派" in pending.last_error
    # and the new unit has the hand-over in its inbox, flagged for its channels
    wunv = handler_at(jianan.townships["五女店镇"])
    notice = addressed_to(wunv).get(case=case)
    assert notice.kind == Kind.ASSIGNED and notice.outbox_pending
    assert notice.text == f"{case.number} 已改派五女店镇（主办）"
    assert Notice.objects.filter(case=case).count() == 2  # nothing deleted


def test_a_pending_extension_request_of_the_old_unit_is_withdrawn(jianan):
    from datetime import date

    case = signed_for(jianan)
    case = perform("request_extension", case=case, by=jianan.member("township"),
                   reason="需进一步核实", expected_completion=date(2026, 10, 30),
                   progress_report="已走访", at=sh(2026, 9, 15, 15))
    assert case.state == c.State.EXTENSION_REQUESTED
    case = reassigned(jianan, case)
    ext = case.extensions.get()
    assert ext.approved is False and "改派五女店镇" in ext.decision_note
    assert case.state == c.State.ASSIGNED


def test_assisting_units_are_kept_replaced_or_dropped(jianan):
    case = register_assigned_with_bureau(jianan)
    bureau = jianan.bureaus["区民政局"]
    # left out: the assisting unit stays, its assignment untouched
    case = reassigned(jianan, case)
    kept = case.assignments.get(unit=bureau)
    assert kept.status == c.AssignmentStatus.ACTIVE
    # only the assisting unit changed: the lead's sign-for is not restarted
    running = case.clocks.filter(name="sign_for").exclude(status=Clock.Status.STOPPED).count()
    case = perform("reassign", case=case, by=jianan.member("approver"),
                   expected_version=case.version, lead=jianan.townships["五女店镇"],
                   assisting=[jianan.bureaus["区住建局"]], reason="住建局主管危房改造",
                   receiver_name="王", at=sh(2026, 9, 16, 11))
    kept.refresh_from_db()
    assert kept.status == c.AssignmentStatus.TRANSFERRED
    assert case.events.order_by("-seq").first().payload["event"] == "reassigned:assist"
    assert case.clocks.filter(name="sign_for").exclude(
        status=Clock.Status.STOPPED).count() == running
    assert case.state == c.State.ASSIGNED


def register_assigned_with_bureau(j):
    from tests.conftest import register_in

    case = register_in(j)
    perform("propose", case=case, by=j.member("clerk"), proposal="交", at=sh(2026, 9, 14, 11))
    perform("sign_off", case=case, by=j.member("approver"), at=sh(2026, 9, 14, 12))
    return perform("assign", case=case, by=j.member("clerk"), lead=j.townships["将官池镇"],
                   assisting=[j.bureaus["区民政局"]], receiver_name="陈", at=sh(2026, 9, 14, 13))


@pytest.mark.parametrize("change, field, words", [
    ({"reason": ""}, "reason", "此项必填"),
    ({"receiver_name": "  "}, "receiver_name", "此项必填"),
    ({"lead": "same"}, "lead", "没有变化"),
    ({"lead": "off"}, "lead", "五女店镇已停用"),
    ({"lead": "other_county"}, "lead", "不在建安区辖区内"),
])
def test_a_reassignment_that_cannot_be_is_refused_by_name_and_changes_nothing(
        jianan, jurisdiction, change, field, words):
    case = signed_for(jianan)
    if change.get("lead") == "same":
        change["lead"] = jianan.townships["将官池镇"]
    elif change.get("lead") == "off":
        jianan.townships["五女店镇"].__class__.objects.filter(
            pk=jianan.townships["五女店镇"].pk).update(is_active=False)
        change["lead"] = jianan.townships["五女店镇"]
    elif change.get("lead") == "other_county":
        change["lead"] = jurisdiction("lihai").townships["五女店镇"]
    version = case.version
    with pytest.raises(Refused) as refused:
        reassigned(jianan, case, **change)
    assert refused.value.field == field and words in refused.value.message, refused.value.message
    case = Case.objects.get(pk=case.pk)
    assert case.version == version and case.state == c.State.IN_PROGRESS
    assert case.assignments.get().status == c.AssignmentStatus.ACTIVE
    assert case.events.order_by("-seq").first().type == "sign_for"


def test_datonghu_a_village_is_refused_naming_the_rule(jurisdiction):
    # seed 000 §四(二) 杜绝村级办理: the constraint of a first assignment holds for a second
    j = jurisdiction("datonghu")
    case = assigned_case(j)
    with pytest.raises(Refused, match="岗朱村.*杜绝村级办理"):
        reassigned(j, case, lead=j.villages["岗朱村"])
    assert case.assignments.get().unit == j.townships["将官池镇"]


def test_only_the_petition_office_reassigns_and_only_while_handled(jianan):
    case = signed_for(jianan)
    with pytest.raises(Refused, match="须由"):
        perform("reassign", case=case, by=jianan.member("township"), lead=jianan.townships[
            "五女店镇"], reason="x", receiver_name="x")
    with pytest.raises(Refused, match="不能“改派"):
        perform("reassign", case=_registered(jianan), by=jianan.member("clerk"),
                lead=jianan.townships["五女店镇"], reason="x", receiver_name="x")


def _registered(j):
    from tests.conftest import register_in

    return register_in(j, matter="另一件")


def test_a_retried_reassignment_is_refused_as_stale_and_makes_one_entry(jianan):
    case = signed_for(jianan)
    version = case.version
    reassigned(jianan, case)
    with pytest.raises(StaleCase):  # the same form sent again
        perform("reassign", case=case.pk, by=jianan.member("clerk"), expected_version=version,
                lead=jianan.townships["五女店镇"], reason="重发", receiver_name="马俊")
    assert case.events.filter(type="reassign").count() == 1
    assert case.assignments.filter(status=c.AssignmentStatus.ACTIVE).count() == 1


def test_the_ledger_and_the_assignment_sheet_name_the_new_unit(jianan):
    from xinfang.cases.selectors import lead_unit_names
    from xinfang.documents.fill import assignment_sheet

    case = register_assigned_with_bureau(jianan)
    case = reassigned(jianan, case, assisting=[])
    assert lead_unit_names([case.pk]) == {case.pk: ["五女店镇"]}
    sheet = assignment_sheet(Case.objects.get(pk=case.pk), "office", None, {})
    assert (sheet["lead_unit"], sheet["assisting_units"], sheet["receiver"]) == (
        "五女店镇", "无", "马俊")


def test_the_api_reassigns_and_refuses_a_tampered_unit_and_a_retry(jianan, jurisdiction):
    case = register_assigned_with_bureau(jianan)
    api = client_as(jianan.member("clerk"))
    url = f"/api/cases/{case.pk}/transitions/reassign/"
    body = {"expected_version": case.version, "lead": jianan.townships["五女店镇"].pk,
            "reason": "交办有误", "receiver_name": "马俊"}
    # a unit id of another county, and one that does not exist: refused, named, nothing moves
    other = jurisdiction("lihai").townships["五女店镇"]
    r = api.post(url, {**body, "lead": other.pk}, format="json")
    assert r.status_code == 422 and "不在建安区辖区内" in r.content.decode(), r.content
    r = api.post(url, {**body, "lead": 999999}, format="json")
    assert r.status_code == 400 and "lead" in r.json().get("errors", r.json()), r.content
    # left out, the assisting units stay
    r = api.post(url, body, format="json", HTTP_PREFER="return=minimal")
    assert r.status_code == 200, r.content
    assert {(a.unit.name, a.role) for a in case.assignments.filter(status="active")} == {
        ("五女店镇", "lead"), ("区民政局", "assist")}
    # the same request again (a retry after a lost answer): stale, one history entry
    r = api.post(url, body, format="json")
    assert r.status_code == 409, r.content
    assert case.events.filter(type="reassign").count() == 1


def test_the_case_page_offers_the_reassignment_and_carries_it_out(jianan, client):
    case = signed_for(jianan)
    clerk = signed_in(jianan.member("clerk"), client)
    page = clerk.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "改派（重新交办）" in page and 'name="reassign-reason"' in page
    r = clerk.post(reverse("web:case_action", args=[case.pk, "reassign"]), {
        "reassign-version": case.version, "reassign-lead": jianan.townships["五女店镇"].pk,
        "reassign-reason": "问题属地在五女店镇", "reassign-receiver_name": "马俊"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert case.assignments.get(status="active").unit == jianan.townships["五女店镇"]
    # the old lead is not offered as the new lead, nor a village
    page = clerk.get(reverse("web:case", args=[case.pk])).content.decode()
    form = page[page.index('name="reassign-lead"'):]
    form = form[:form.index("</select>")]
    assert "五女店镇" not in form and "岗朱村" not in form and "将官池镇" in form


def test_a_reassignment_stays_within_a_query_budget(jianan):
    from tests.cases.test_query_budgets import Queries, fresh

    case = signed_for(jianan)
    clerk = fresh(jianan.member("clerk"))
    lead = jianan.townships["五女店镇"]
    with Queries() as q:
        perform("reassign", case=case.pk, by=clerk, expected_version=case.version, lead=lead,
                reason="交办有误", receiver_name="马俊", at=sh(2026, 9, 16, 10))
    # the locked read, the active assignments, the units held active, the respondent check
    # of the new unit, ending and making the assignments, the clocks read / stopped /
    # started, UPDATE, INSERT, the new unit's notice, the old unit's unsent messages (2)
    assert len(q) <= 16, "\n".join(q.sql)


def test_past_handling_the_case_keeps_its_stage_and_no_clock_restarts(jianan):
    # given a case whose letter the township has drafted (handling done, the reply pending)
    case = perform("sign_for", case=assigned_case(jianan), by=jianan.member("township"),
                   at=sh(2026, 9, 15, 9))
    case = perform("record_finding", case=case, by=jianan.member("township"),
                   findings={1: ("true", "solved", "")}, at=sh(2026, 9, 15, 10))
    case = perform("draft_letter", case=case, by=jianan.member("township"), body="意见",
                   at=sh(2026, 9, 15, 11))
    running = set(case.clocks.filter(status="running").values_list("name", "due_at"))
    # when the office gives it to 五女店镇 (a merger: the reply's remaining work moves)
    wunv = jianan.townships["五女店镇"]
    case = perform("reassign", case=case, by=jianan.member("clerk"), lead=wunv,
                   reason="乡镇撤并", receiver_name="马俊", at=sh(2026, 9, 16, 10))
    # then it stays at its stage, led by 五女店镇, with the same clocks running
    assert case.state == c.State.LETTER_DRAFTED
    assert case.assignments.get(status="active").unit == wunv
    assert set(case.clocks.filter(status="running").values_list("name", "due_at")) == running
    assert not case.clocks.filter(status="stopped", stopped_at=sh(2026, 9, 16, 10)).exists()
    entry = case.events.get(type="reassign")
    assert entry.payload["stage_kept"] is True
    # and the old township no longer sees it
    assert not cases_for(jianan.member("township")).filter(pk=case.pk).exists()


def test_the_backlog_line_of_a_reassigned_case_follows_its_new_lead(jianan):
    from xinfang.registers.models import BacklogCase
    from xinfang.registers.selectors import backlog_for

    # given a case led by 将官池镇 entered in the backlog register in its care
    case = assigned_case(jianan)
    town, wunv = jianan.townships["将官池镇"], jianan.townships["五女店镇"]
    line = BacklogCase.objects.create(
        case=case, jurisdiction=case.jurisdiction, entry=BacklogCase.Entry.DESIGNATED,
        reason="久拖不决", designated_at=case.received_at, responsible_unit=town)
    # when the office gives it to 五女店镇
    perform("reassign", case=case, by=jianan.member("clerk"), lead=wunv, reason="交办有误",
            receiver_name="马俊", at=sh(2026, 9, 16, 10))
    # then the line is 五女店镇's to keep, and in its register, not the old township's
    line.refresh_from_db()
    assert line.responsible_unit == wunv
    assert case.events.get(type="reassign").payload["backlog_moved"] is True
    township = Membership.objects.create(
        user=User.objects.create(username="wunv_handler", full_name="五女店经办"),
        unit=wunv, role=Role.UNIT_HANDLER)
    assert list(backlog_for(township)) == [line]
    assert not backlog_for(jianan.member("township")).exists()
