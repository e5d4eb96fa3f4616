"""Read-only pages and exports read a streaming replica when one is configured; everything else,
and every write, stays on the primary. The replica here is a second alias on the same test
database (TEST MIRROR), so what it reads is what the primary committed."""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import register_in
from tests.web.conftest import signed_in
from xinfang.cases.models import Case
from xinfang.replica import replica_reading

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def case_reads(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if 'FROM "cases_case"' in q["sql"]]


def reads_of(client, url: str) -> tuple[object, list[str], list[str]]:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    return response, case_reads(primary), case_reads(replica)


@BOTH
@pytest.mark.parametrize("page", ["web:ledger", "web:supervision"])
def test_a_read_only_page_reads_its_cases_from_the_replica(jianan, settings, page):
    settings.XINFANG_READ_REPLICA = "replica"
    case = register_in(jianan)
    client = signed_in(jianan.member("approver"))
    response, primary, replica = reads_of(client, reverse(page))
    assert response.status_code == 200
    assert replica and not primary
    if page == "web:ledger":
        assert case.number in response.content.decode()


@BOTH
def test_the_l0_export_reads_the_replica_and_writes_its_audit_to_the_primary(jianan, settings):
    from xinfang.audit.models import AuditEntry

    settings.XINFANG_READ_REPLICA = "replica"
    register_in(jianan)
    client = signed_in(jianan.member("clerk"))
    before = AuditEntry.objects.count()
    response, primary, replica = reads_of(client, reverse("api:ledger-l0"))
    assert response.status_code == 200
    assert replica and not primary
    assert AuditEntry.objects.using("default").count() == before + 1


@BOTH
def test_without_a_replica_everything_reads_the_primary(jianan, settings):
    settings.XINFANG_READ_REPLICA = None
    register_in(jianan)
    response, primary, replica = reads_of(signed_in(jianan.member("clerk")), reverse("web:ledger"))
    assert response.status_code == 200 and primary and not replica


@BOTH
def test_the_case_page_a_clerk_acts_on_reads_the_primary(jianan, settings):
    settings.XINFANG_READ_REPLICA = "replica"
    case = register_in(jianan)
    client = signed_in(jianan.member("clerk"))
    response, primary, replica = reads_of(client, reverse("web:case", kwargs={"pk": case.pk}))
    assert response.status_code == 200 and primary and not replica


@BOTH
def test_writes_and_reads_inside_a_transaction_stay_on_the_primary(jianan, settings):
    settings.XINFANG_READ_REPLICA = "replica"
    case = register_in(jianan)
    with replica_reading():
        assert Case.objects.all().db == "replica"
        with transaction.atomic():
            # a read that must see the transaction's own writes
            assert Case.objects.all().db == "default"
            Case.objects.filter(pk=case.pk).update(proposal="改由区民政局办理")
        assert Case.objects.get(pk=case.pk).proposal == "改由区民政局办理"
