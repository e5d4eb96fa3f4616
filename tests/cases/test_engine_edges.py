"""Edges found by the profile scenarios: an event that happened before its clock would start, a
review asked for too late, a contact recorded after the fact."""

from datetime import timedelta

import pytest

from tests.conftest import register_in, sh
from xinfang.cases.errors import Refused
from xinfang.cases.services import Invalid, perform

pytestmark = pytest.mark.django_db


def assigned_case(j, **kw):
    case = register_in(j, **kw)
    perform("propose", case=case, by=j.member("clerk"), proposal="交将官池镇",
            at=sh(2026, 9, 14, 11))
    perform("sign_off", case=case, by=j.member("approver"), at=sh(2026, 9, 14, 12))
    return perform("assign", case=case, by=j.member("clerk"), lead=j.townships["将官池镇"],
                   receiver_name="陈晓东", at=sh(2026, 9, 14, 13))


def test_a_notice_delivered_before_receipt_does_not_leave_its_clock_running(jianan):
    case = assigned_case(jianan)
    perform("deliver_acceptance_notice", case=case, by=jianan.member("clerk"), mode="in_person",
            deliverer="李文静", recipient="张三明", at=sh(2026, 9, 14, 15))
    case = perform("sign_for", case=case, by=jianan.member("township"), at=sh(2026, 9, 15, 9))
    started = {ch["clock"] for ch in case.events.last().payload.get("clocks", [])
               if "started" in ch}
    assert "acceptance_notice" not in started
    assert not case.clocks.filter(name="acceptance_notice", status="running").exists()
    assert case.clocks.filter(name="handling", status="running").exists()


def test_contact_time_is_the_contacts_own_not_the_history_entrys(jianan):
    case = assigned_case(jianan)
    case = perform("sign_for", case=case, by=jianan.member("township"), at=sh(2026, 9, 15, 9))
    case = perform("log_contact", case=case, by=jianan.member("township"), kind="phone",
                   contacted_at=sh(2026, 9, 15, 8), at=sh(2026, 9, 15, 17))
    event = case.events.last()
    assert event.at == sh(2026, 9, 15, 17)
    assert case.contacts.get().at == sh(2026, 9, 15, 8)
    with pytest.raises(Invalid) as bad:
        perform("log_contact", case=case, by=jianan.member("township"), kind="phone",
                contacted_at=sh(2026, 9, 16, 8), at=sh(2026, 9, 15, 18))
    assert "contacted_at" in bad.value.errors


def test_a_review_asked_for_after_the_30_day_window_is_refused(jianan):
    case = assigned_case(jianan)
    t = jianan.member("township")
    perform("sign_for", case=case, by=t, at=sh(2026, 9, 15, 9))
    perform("record_finding", case=case, by=t, findings={1: ("false", "explained", "")},
            at=sh(2026, 9, 16, 9))
    perform("draft_letter", case=case, by=t, body="意见", at=sh(2026, 9, 16, 10))
    perform("approve_letter", case=case, by=jianan.member("approver"), at=sh(2026, 9, 16, 11))
    perform("issue_letter", case=case, by=jianan.member("clerk"), at=sh(2026, 9, 16, 12))
    case = perform("record_delivery", case=case, by=jianan.member("clerk"), mode="in_person",
                   delivered_at=sh(2026, 9, 17, 9), deliverer="陈", recipient="张三明",
                   receipt_signed=True, at=sh(2026, 9, 17, 10))
    window = case.clocks.get(name="review_request_window")
    city = jianan.member("city_clerk")
    with pytest.raises(Refused, match="已超过申请期限"):
        perform("open_review", case=case, by=city, clerk=city, reason="不服",
                received_at=window.due_at + timedelta(hours=9),
                at=sh(2026, 11, 30, 9))
    case = perform("open_review", case=case, by=city, clerk=city, reason="不服",
                   received_at=sh(2026, 10, 10, 9), at=sh(2026, 10, 10, 10))
    with pytest.raises(Refused, match="不能重复申请"):
        perform("open_review", case=case, by=city, clerk=city, reason="再次",
                received_at=sh(2026, 10, 11, 9), at=sh(2026, 10, 11, 10))
