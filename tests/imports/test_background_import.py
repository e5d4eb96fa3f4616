"""A confirmed ledger import longer than ``XINFANG_IMPORT_WAIT_ROWS`` runs as a background job:
the clerk is sent to the job's page, the worker imports it as the inline import would, and the
result (or why nothing was imported) is on the job."""

import io

import pytest
from django.urls import reverse

from xinfang.cases.models import Case
from xinfang.imports.models import ImportBatch
from xinfang.jobs.models import Job
from xinfang.jobs.worker import Loop

from .books import l0_bad_row, l0_book, l0_good_rows
from .test_units_and_pages import login

# The worker closes and reopens connections between tasks as a process does.
pytestmark = pytest.mark.django_db(transaction=True)


def drain() -> int:
    return Loop(schedule=False, interval=0).drain()


def _upload(client, rows) -> ImportBatch:
    upload = io.BytesIO(l0_book(rows))
    upload.name = "台账.xlsx"
    r = client.post(reverse("imports:ledger_upload"), {"file": upload})
    assert r.status_code == 302, r
    return ImportBatch.objects.get(pk=int(r.url.rstrip("/").split("/")[-1]))


def _confirm(client, batch, **data):
    return client.post(reverse("imports:ledger_confirm", args=[batch.pk]), data, follow=True)


def test_a_long_ledger_is_imported_by_the_worker_with_its_result_on_the_job(
        client, jianan, settings):
    # given an upload of five good rows and a bad one, over a limit of two rows to wait on
    settings.XINFANG_IMPORT_WAIT_ROWS = 2
    login(client, jianan, "clerk")
    batch = _upload(client, l0_good_rows() + [l0_bad_row()])
    # when the clerk confirms it, skipping bad rows
    r = _confirm(client, batch, skip_invalid="1")
    # then the clerk is on the job's page, told so, and nothing is imported yet
    job = Job.objects.get(kind="ledger_import")
    assert r.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert "共 6 行，已转入后台导入" in r.content.decode()
    assert job.params["batch"] == batch.pk and job.params["skip_invalid"] is True
    assert not Case.objects.exists()
    # and the worker imports it as the page would have, and says what it did
    assert drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.message == "新建 5 条，此前已导入 0 条，跳过有误 1 行"
    result = bytes(job.content).decode()
    assert "2022年台账 第11行 D列（电话）" in result and job.filename.endswith(".txt")
    # the bad phone is quoted masked: the job keeps its file unencrypted, unlike the upload
    assert "“*2345”" in result and "12345" not in result
    assert Case.objects.count() == 5
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and batch.content == ""
    assert (job.done, job.total) == (6, 6)


def test_a_second_confirmation_imports_nothing_twice(client, jianan, settings):
    settings.XINFANG_IMPORT_WAIT_ROWS = 2
    login(client, jianan, "clerk")
    batch = _upload(client, l0_good_rows())
    # a double click: the upload confirmed twice before the worker ran
    _confirm(client, batch)
    r = _confirm(client, batch)
    # then the second is sent to the first's job, which alone is queued
    job = Job.objects.get(kind="ledger_import")
    assert r.redirect_chain[-1][0] == reverse("jobs:detail", args=[job.pk])
    assert "已在后台导入，未再次导入" in r.content.decode()
    assert drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and Case.objects.count() == 5
    # and once it is imported, a third is refused by name, no job queued
    r = _confirm(client, batch)
    assert r.status_code == 404 and "没有待确认的这次上传" in r.content.decode()
    assert Job.objects.filter(kind="ledger_import").count() == 1


def test_a_long_ledger_with_errors_and_no_skip_imports_nothing_and_says_why(
        client, jianan, settings):
    settings.XINFANG_IMPORT_WAIT_ROWS = 2
    login(client, jianan, "clerk")
    batch = _upload(client, l0_good_rows() + [l0_bad_row()])
    _confirm(client, batch)
    drain()
    job = Job.objects.get(kind="ledger_import")
    assert job.status == Job.Status.FAILED
    assert "未导入任何一行" in job.error and "第11行 D列（电话）" in job.error
    assert "12345" not in job.error
    assert not Case.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED


def test_a_ledger_within_the_limit_is_imported_while_the_clerk_waits(client, jianan, settings):
    settings.XINFANG_IMPORT_WAIT_ROWS = 5
    login(client, jianan, "clerk")
    batch = _upload(client, l0_good_rows())
    r = _confirm(client, batch)
    assert r.redirect_chain[-1][0] == reverse("imports:ledger_upload")
    assert not Job.objects.exists() and Case.objects.count() == 5
