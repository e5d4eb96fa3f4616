"""What the merge wired between branches: the L1–L3 exports run as background jobs through the
registers' door (ledgers × worker), and the outbox is on the worker's schedule (notify × worker)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.utils.module_loading import import_string
from openpyxl import load_workbook

from xinfang.jobs.models import Job
from xinfang.jobs.services import job_start
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("code, title", [("l1", "排查"), ("l2", "积案"), ("l3", "干部")])
def test_a_register_ledger_exports_in_the_background(jianan, code, title):
    job = job_start(kind="ledger_register", by=jianan.member("clerk"), params={"code": code})
    assert Loop(schedule=False, interval=0).drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    sheet = load_workbook(io.BytesIO(bytes(job.content))).active
    assert title in str(sheet["A1"].value)
    assert sheet.page_setup.orientation == "landscape"


def test_an_unknown_register_ledger_is_refused_by_name(jianan):
    job = job_start(kind="ledger_register", by=jianan.member("clerk"), params={"code": "l9"})
    Loop(schedule=False, interval=0).drain()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "l9" in job.error


def test_the_outbox_runs_on_the_schedule():
    path, every = settings.XINFANG_PERIODIC["outbox"]
    assert every <= 60
    assert import_string(path)() == {"sent": 0}
