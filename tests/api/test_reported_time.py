"""The API reports when something happened on paper (a sign-for slip, a contact note, a
delivery receipt): bounded — not after it is recorded, not before what it follows — written into
the event beside the recording instant, and audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tests.api.test_cases_api import post
from tests.api.world import client_as, walk
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Assignment


def _assigned_two_days_ago(jianan):
    case = walk(jianan, "assigned")
    Assignment.objects.filter(case=case).update(assigned_at=timezone.now() - timedelta(days=2))
    case.refresh_from_db()
    return case


def test_a_sign_for_witnessed_on_paper_keeps_its_time(jianan):
    case = _assigned_two_days_ago(jianan)
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    response = post(client_as(jianan.member("township")), case, "sign_for",
                    expected_version=case.version, signed_for_at=when.isoformat())
    assert response.status_code == 200, response.content
    lead = Assignment.objects.get(case=case, unit=jianan.townships["将官池镇"])
    assert lead.signed_for_at == when
    case.refresh_from_db()
    assert case.accepted_at == when
    event = case.events.order_by("-seq").first()
    assert event.type == "sign_for" and event.at > when
    assert datetime.fromisoformat(event.payload["reported_time"]["at"]) == when
    entry = AuditEntry.objects.get(action="event_time")
    assert entry.object_id == case.number
    assert entry.detail["field"] == "signed_for_at" and entry.detail["transition"] == "sign_for"


def test_a_sign_for_before_the_assignment_is_refused_naming_the_field(jianan):
    case = _assigned_two_days_ago(jianan)
    response = post(client_as(jianan.member("township")), case, "sign_for",
                    expected_version=case.version,
                    signed_for_at=(timezone.now() - timedelta(days=3)).isoformat())
    assert response.status_code == 400
    assert "交办时间" in response.json()["errors"]["signed_for_at"]
    assert not AuditEntry.objects.filter(action="event_time").exists()


def test_a_time_in_the_future_is_refused(jianan):
    case = _assigned_two_days_ago(jianan)
    response = post(client_as(jianan.member("township")), case, "sign_for",
                    expected_version=case.version,
                    signed_for_at=(timezone.now() + timedelta(hours=1)).isoformat())
    assert response.status_code == 400 and "signed_for_at" in response.json()["errors"]


def test_a_contact_before_the_petition_was_received_is_refused(jianan):
    case = walk(jianan, "in_progress")
    response = post(client_as(jianan.member("township")), case, "log_contact",
                    expected_version=case.version, kind="phone",
                    contacted_at=(case.received_at - timedelta(days=1)).isoformat())
    assert response.status_code == 400 and "信访时间" in response.json()["errors"]["contacted_at"]


def test_without_a_reported_time_nothing_is_audited(jianan):
    case = walk(jianan, "assigned")
    response = post(client_as(jianan.member("township")), case, "sign_for",
                    expected_version=case.version)
    assert response.status_code == 200
    assert "reported_time" not in case.events.order_by("-seq").first().payload
    assert not AuditEntry.objects.filter(action="event_time").exists()
