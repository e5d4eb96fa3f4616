"""Two imports at once on PostgreSQL: the unit tree (two previews of one file confirmed by two
administrators, or one confirmation sent twice) creates each missing unit once; one ledger
upload confirmed twice at once is imported, counted and audited once."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.racing import race
from xinfang.audit.models import AuditEntry
from xinfang.imports.models import ImportBatch
from xinfang.imports.services import ImportRefused, Outcome, ledger_import
from xinfang.imports.units import UnitsOutcome, units_import
from xinfang.imports.uploads import UploadRefused, upload_for, upload_hold, upload_queued
from xinfang.jobs.models import Job
from xinfang.jobs.services import job_start
from xinfang.org.models import Unit
from xinfang.rules.store import current_version

from .books import l0_book
from .test_units_and_pages import units_xlsx

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)"),
]

FILE = [
    ["河南省/许昌市/建安区/新设镇", "乡镇"],
    ["河南省/许昌市/建安区/新设镇/东村", "村"],
    ["河南省/许昌市/建安区/新设镇/西村", "村"],
]


def test_one_file_imported_twice_at_once_creates_each_unit_once(jianan):
    # given a file naming a township and two villages the tree does not hold
    content = units_xlsx(FILE)

    def confirm():
        return units_import(content=content, filename="u.xlsx", by=jianan.member("sysadmin"),
                            dry_run=False)

    # when two confirmations run at once
    out = race(confirm, confirm)
    # then the units exist once; the second import found them there and created nothing
    assert isinstance(out["first"], UnitsOutcome) and isinstance(out["second"], UnitsOutcome)
    assert Unit.objects.filter(name="新设镇").count() == 1
    assert Unit.objects.filter(name__in=["东村", "西村"]).count() == 2
    assert len(out["first"].created) == 3 and out["second"].created == []
    assert [e.detail["created"] for e in AuditEntry.objects.filter(
        object_type="unit_import").order_by("id")] == [out["first"].created, []]


def test_one_unit_upload_confirmed_twice_at_once_is_imported_and_audited_once(jianan):
    # given the administrator's previewed upload of the same file
    admin = jianan.member("sysadmin")
    held = upload_hold(by=admin, kind=ImportBatch.Kind.UNITS, filename="u.xlsx",
                       content=units_xlsx(FILE))

    def confirm():  # what ``imports.views.units_preview`` does on its POST
        batch, content = upload_for(by=admin, pk=held.pk, kind=ImportBatch.Kind.UNITS)
        return units_import(content=content, filename=batch.filename, by=admin, dry_run=False,
                            held=batch)

    # when the confirmation is sent twice at once
    out = race(confirm, confirm)
    # then the first created the three units and marked the upload done; the second was refused
    assert isinstance(out["first"], UnitsOutcome) and len(out["first"].created) == 3
    assert isinstance(out["second"], UploadRefused), out["second"]
    batch = ImportBatch.objects.get(pk=held.pk)
    assert batch.status == ImportBatch.Status.DONE and batch.counts == {"created": 3}
    assert AuditEntry.objects.filter(object_type="unit_import").count() == 1


def test_one_ledger_upload_confirmed_twice_at_once_is_imported_and_audited_once(jianan):
    # given a clerk's previewed upload of a five-row ledger
    clerk = jianan.member("clerk")
    current_version("jianan")  # installed before the race, as in a running office
    held = upload_hold(by=clerk, kind=ImportBatch.Kind.LEDGER, filename="l0.xlsx",
                       content=l0_book())

    def confirm():  # what ``imports.views.ledger_confirm`` does
        batch, content = upload_for(by=clerk, pk=held.pk, kind=ImportBatch.Kind.LEDGER)
        return ledger_import(by=clerk, content=content, filename=batch.filename, dry_run=False,
                             skip_invalid=False, batch=batch)

    # when the confirmation is sent twice at once (a double click)
    out = race(confirm, confirm)
    # then the first imported the five rows; the second was refused, not run again over them
    assert isinstance(out["first"], Outcome) and out["first"].count("created") == 5
    assert isinstance(out["second"], ImportRefused), out["second"]
    batch = ImportBatch.objects.get(pk=held.pk)
    assert batch.status == ImportBatch.Status.DONE and batch.counts["created"] == 5
    assert AuditEntry.objects.filter(action="import", object_id=str(held.pk)).count() == 1


def test_one_long_ledger_confirmed_twice_at_once_queues_one_job(jianan):
    # given a clerk's previewed upload too long to wait on
    clerk = jianan.member("clerk")
    held = upload_hold(by=clerk, kind=ImportBatch.Kind.LEDGER, filename="l0.xlsx",
                       content=l0_book())

    def confirm():  # what ``imports.views.ledger_confirm`` does past the rows one waits on
        batch, _content = upload_for(by=clerk, pk=held.pk, kind=ImportBatch.Kind.LEDGER)
        return upload_queued(batch, kind="ledger_import", start=lambda: job_start(
            kind="ledger_import", by=clerk, params={"batch": batch.pk}))

    # when the confirmation is sent twice at once
    out = race(confirm, confirm)
    # then the second waited for the first and was sent to its job
    assert out["second_waited"]
    (job, started), (again, started_again) = out["first"], out["second"]
    assert (started, started_again) == (True, False) and again.pk == job.pk
    assert Job.objects.filter(kind="ledger_import").count() == 1
