"""Reading a case is audited (issue 8): the case page and GET /api/cases/{id}/ each append one
audit entry naming who read which case through which channel — at the cost of one append, no more.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.world import client_as
from tests.conftest import register_in
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.audit.services import READ, audit_record, audit_verify
from xinfang.cases.services.reading import case_read_audit

pytestmark = pytest.mark.django_db


def reads():
    return list(AuditEntry.objects.filter(action=READ).order_by("id"))


def test_opening_the_case_page_records_one_read_with_actor_case_and_channel(jianan):
    # given
    case = register_in(jianan)
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    # when
    response = client.get(f"/cases/{case.pk}/")
    # then
    assert response.status_code == 200
    [entry] = reads()
    assert entry.actor_id == clerk.user_id and entry.actor_name == "李文静"
    assert entry.object_type == "case" and entry.object_id == str(case.pk)
    assert entry.detail["case"] == case.number and entry.detail["channel"] == "web"
    assert entry.detail["role"] == "clerk" and entry.ip == "127.0.0.1"
    # a second look is a second read
    client.get(f"/cases/{case.pk}/")
    assert len(reads()) == 2
    assert audit_verify().ok


def test_reading_a_case_over_the_api_records_one_read_with_channel_api(jianan):
    case = register_in(jianan)
    approver = jianan.member("approver")
    response = client_as(approver).get(f"/api/cases/{case.pk}/")
    assert response.status_code == 200
    [entry] = reads()
    assert entry.actor_id == approver.user_id
    assert entry.detail == {"case": case.number, "channel": "api", "role": "approver",
                            "unit": approver.unit.name}


def test_the_list_and_a_case_outside_the_door_record_no_read(jianan):
    case = register_in(jianan)
    # a unit the case was never assigned to: 404, and nothing was read
    assert signed_in(jianan.member("bureau")).get(f"/cases/{case.pk}/").status_code == 404
    assert client_as(jianan.member("bureau")).get(f"/api/cases/{case.pk}/").status_code == 404
    assert client_as(jianan.member("clerk")).get("/api/cases/").status_code == 200
    assert reads() == []


def test_a_read_costs_one_insert_and_no_query_beyond_one_audit_append(jianan):
    # given: what one bare audit append costs on this database
    case = register_in(jianan)
    clerk = jianan.member("clerk")
    with CaptureQueriesContext(connection) as bare:
        audit_record(action="probe", actor=clerk.user, object_type="case", object_id=1)
    # (read now: each request resets the connection's query log)
    bare_audit = [q["sql"] for q in bare.captured_queries if "audit_auditentry" in q["sql"]]
    assert bare_audit
    client = signed_in(clerk)
    client.get(f"/cases/{case.pk}/")  # warm the session and caches
    api = client_as(clerk)
    api.get(f"/api/cases/{case.pk}/")
    for url, reader in ((f"/cases/{case.pk}/", client), (f"/api/cases/{case.pk}/", api)):
        # when
        with CaptureQueriesContext(connection) as page:
            assert reader.get(url).status_code == 200
        # then: one INSERT into the trail, and the trail's share of the page is one append
        audit_sql = [q["sql"] for q in page.captured_queries if "audit_auditentry" in q["sql"]]
        inserts = [sql for sql in audit_sql if sql.lstrip().upper().startswith("INSERT")]
        assert len(inserts) == 1
        assert len(audit_sql) == len(bare_audit)


def test_the_service_refuses_an_unknown_channel(jianan):
    case = register_in(jianan)
    with pytest.raises(ValueError, match="channel"):
        case_read_audit(case=case, by=jianan.member("clerk"), channel="fax")
    assert reads() == []
