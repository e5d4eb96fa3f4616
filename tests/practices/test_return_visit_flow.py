"""Lihai's return visit end to end (seed 004 §二(一)): due 5 working days after delivery (a system
default: the seed names no limit), flagged in the lead unit's inbox when missed, recorded on the
page or the API — which lets the case close (closing.requires: return_visit) — and counted on
the supervision page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import register_in, sh
from tests.web.conftest import signed_in, walk
from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, perform
from xinfang.notify.models import Notice
from xinfang.notify.selectors import inbox
from xinfang.practices.models import ReturnVisit
from xinfang.practices.rules import practices_of, return_visit_due
from xinfang.practices.services import return_visit_record
from xinfang.practices.sweep import sweep
from xinfang.rules.profile import shipped_profiles

pytestmark = pytest.mark.django_db


def lihai_delivered(j) -> Case:
    clerk, approver, chief, township = (
        j.member(k) for k in ("clerk", "approver", "chief", "township")
    )
    category = shipped_profiles()["lihai"].categories[0]
    case = register_in(
        j, channel=c.Channel.PHONE, demands=[DemandInput(text="要求落实帮扶", category=category)]
    )
    perform("propose", case=case, by=clerk, proposal="交将官池镇", at=sh(2026, 9, 14, 14))
    perform("sign_off", case=case, by=approver, at=sh(2026, 9, 14, 15))
    perform("countersign", case=case, by=chief, note="同意交办", at=sh(2026, 9, 14, 16))
    perform(
        "assign",
        case=case,
        by=clerk,
        lead=j.townships["将官池镇"],
        receiver_name="陈晓东",
        at=sh(2026, 9, 14, 17),
    )
    perform("sign_for", case=case, by=township, at=sh(2026, 9, 15, 9))
    perform("log_contact", case=case, by=township, kind="phone", at=sh(2026, 9, 15, 10))
    perform(
        "record_finding",
        case=case,
        by=township,
        findings={1: ("true", "solved", "已落实")},
        at=sh(2026, 9, 16, 10),
    )
    perform("draft_letter", case=case, by=township, body="答复意见", at=sh(2026, 9, 16, 11))
    perform("approve_letter", case=case, by=approver, at=sh(2026, 9, 16, 12))
    perform("issue_letter", case=case, by=clerk, at=sh(2026, 9, 16, 13))
    return perform(
        "record_delivery",
        case=case,
        by=clerk,
        mode="in_person",
        delivered_at=sh(2026, 9, 17, 9),
        deliverer="陈晓东",
        recipient="张三明",
        receipt_signed=True,
        at=sh(2026, 9, 17, 10),
    )


def test_a_missed_return_visit_reaches_the_lead_unit_and_the_visit_lets_the_case_close(
    jurisdiction,
):
    li = jurisdiction("lihai")
    case = lihai_delivered(li)
    # delivered Thursday 17 September: due five working days later (the profile's clock rules)
    due = return_visit_due(practices_of(li.county), sh(2026, 9, 17, 9))
    assert sh(2026, 9, 23) <= due <= sh(2026, 9, 25)
    hour = timedelta(hours=1)
    assert sweep(at=due - hour).flagged.get("return_visit") is None
    assert sweep(at=due + hour).flagged["return_visit"] == 1
    assert sweep(at=due + 2 * hour).flagged.get("return_visit") is None
    notice = Notice.objects.get(kind="return_visit")
    assert notice.case_id == case.pk and notice.unit == li.townships["将官池镇"]
    assert [n.pk for n in inbox(li.member("township")) if n.kind == "return_visit"] == [notice.pk]
    return_visit_record(
        by=li.member("township"),
        case_id=case.pk,
        visited_at=sh(2026, 9, 25, 10),
        method="visit",
        outcome="settled",
        satisfaction="basically",
        now=sh(2026, 9, 25, 11),
    )
    perform("close", case=case, by=li.member("approver"), at=sh(2026, 9, 25, 12))
    case = perform("close", case=case, by=li.member("chief"), at=sh(2026, 9, 25, 13))
    assert case.state == c.State.CLOSED
    html = signed_in(li.member("approver")).get(reverse("web:supervision")).content.decode()
    assert 'id="return-visit-rate"' in html and "100%" in html.split('id="return-visit-rate"')[1]


def test_the_return_visit_page_records_one_and_lists_in_flat_queries(jianan, fresh):
    j = jianan
    cases = [walk(j, fresh(), "delivered") for _ in range(2)]
    client = signed_in(j.member("township"))
    page = client.get(reverse("practices:return_visits")).content.decode()
    assert f'id="owed-{cases[0].pk}"' in page and 'id="return-visit-form"' in page
    bad = client.post(reverse("practices:return_visits"), {"case": cases[0].pk})
    assert bad.status_code == 400 and "visited_at_error" in bad.content.decode()
    ok = client.post(
        reverse("practices:return_visits"),
        {
            "case": cases[0].pk,
            "visited_at": "2026-10-12T09:00",
            "method": "phone",
            "outcome": "accepted",
            "satisfaction": "satisfied",
            "note": "满意",
        },
    )
    assert ok.status_code == 302 and ReturnVisit.objects.count() == 1
    api = client.post(
        reverse("practices_api:return-visits"),
        {
            "case": cases[1].pk,
            "visited_at": "2026-10-12T10:00:00+08:00",
            "method": "visit",
            "outcome": "pending",
            "rating": "unsatisfied",
        },
        content_type="application/json",
    )
    assert api.status_code == 201 and api.json()["lead_unit"] == "将官池镇"
    again = client.post(
        reverse("practices_api:return-visits"),
        {
            "case": cases[1].pk,
            "visited_at": "2026-10-12T10:00:00+08:00",
            "method": "visit",
            "outcome": "pending",
            "rating": "unsatisfied",
        },
        content_type="application/json",
    )
    assert again.status_code == 422 and again.json()["field"] == "case"
    assert client.get(reverse("practices_api:return-visits")).json()["count"] == 2
    assert client.get(reverse("practices_api:return-visits-owed")).json()["count"] == 0
    inspector = signed_in(j.member("inspector"))
    assert (
        'id="return-visit-form"'
        not in inspector.get(reverse("practices:return_visits")).content.decode()
    )
    # flat: the page reads the same number of queries for 2 visits and for 8
    with CaptureQueriesContext(connection) as few:
        inspector.get(reverse("practices:return_visits"))
    for _ in range(6):
        case = walk(j, fresh(), "delivered")
        return_visit_record(
            by=j.member("clerk"),
            case_id=case.pk,
            visited_at=sh(2026, 10, 12),
            method="phone",
            outcome="accepted",
            satisfaction="satisfied",
        )
    with CaptureQueriesContext(connection) as many:
        inspector.get(reverse("practices:return_visits"))
    assert len(many) == len(few)


def test_owed_cases_are_listed_in_flat_queries(jianan, fresh):
    """The owed list reads only the columns its readers show (``reading.owed_return_visits``):
    a column read past them would be one more query a row, which this catches."""
    j = jianan
    walk(j, fresh(), "delivered")
    clerk = signed_in(j.member("clerk"))
    urls = (reverse("practices:return_visits"), reverse("practices_api:return-visits-owed"))

    def asked() -> list[int]:
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert clerk.get(url).status_code == 200
            counts.append(len(ctx))
        return counts

    asked()  # the session's first requests
    few = asked()
    owed = [walk(j, fresh(), "delivered") for _ in range(3)]
    assert asked() == few
    page = clerk.get(urls[0]).content.decode()
    assert all(f'id="owed-{case.pk}"' in page and case.number in page for case in owed)
    listed = clerk.get(urls[1]).json()
    assert listed["count"] == 4 and {r["case"]["number"] for r in listed["results"]} >= {
        case.number for case in owed}
