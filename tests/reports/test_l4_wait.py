"""L4 too long to wait for: the download a person waits on (the API, the page) is refused past
``XINFANG_L4_WAIT_ROWS`` provincial referrals, naming the filters and the way out, before anything
is written; the background export (job ``ledger_l4``) writes any number, under the ledger's
filters or for a week, through the same door and masking."""

from __future__ import annotations

import io

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.world import client_as, walk
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.services import perform
from xinfang.jobs.models import Job
from xinfang.jobs.services import job_start
from xinfang.jobs.worker import Loop
from xinfang.reports.periods import containing

# The worker closes and reopens connections between tasks as a process does.
pytestmark = pytest.mark.django_db(transaction=True)

PROVINCIAL = {"source_level": c.SourceLevel.PROVINCE, "channel": c.Channel.REFERRAL}


def rows_of(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).active
    return [[ws.cell(r, col).value for col in range(1, 30)] for r in range(5, ws.max_row + 1)
            if isinstance(ws.cell(r, 1).value, int)]


def drain() -> int:
    return Loop(schedule=False, interval=0).drain()


@pytest.fixture
def two_provincial(jianan):
    """Two provincial referrals and three of the county's own cases (not in L4)."""
    cases = [walk(jianan, "registered", **PROVINCIAL) for _ in range(2)]
    for _ in range(3):
        walk(jianan, "registered")
    return cases


def test_the_api_refuses_more_provincial_referrals_than_a_person_waits_for(jianan, two_provincial):
    api = client_as(jianan.member("clerk"))
    with override_settings(XINFANG_L4_WAIT_ROWS=1):
        response = api.get("/api/reports/l4.xlsx")
    assert response.status_code == 400
    message = response.json()["errors"]["filters"]
    assert "超过 1 件" in message and "后台导出" in message
    assert not AuditEntry.objects.filter(action="export").exists()
    # the county's own five cases are not counted: two provincial referrals pass a limit of two
    with override_settings(XINFANG_L4_WAIT_ROWS=2):
        response = api.get("/api/reports/l4.xlsx")
    assert response.status_code == 200
    assert len(rows_of(b"".join(response.streaming_content))) == 2


def test_the_page_sends_a_refused_download_back_to_the_ledger_with_its_filters(jianan,
                                                                             two_provincial):
    client = signed_in(jianan.member("clerk"))
    with override_settings(XINFANG_L4_WAIT_ROWS=1):
        response = client.get(reverse("reports:l4") + "?state=registered", follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:ledger") + "?state=registered"
    html = response.content.decode()
    assert "筛选条件：" in html and "后台导出" in html
    # the ledger page offers L4 under its filters, now and in the background
    assert 'id="export-l4-job"' in html
    form = html.split('id="export-l4-job"', 1)[1].split("</form>", 1)[0]
    assert 'value="ledger_l4"' in form and 'name="filters" value="state=registered"' in form
    # a bad week still goes back to the reports page
    response = client.get(reverse("reports:l4") + "?week=2026-W99", follow=True)
    assert response.redirect_chain[-1][0] == reverse("reports:index")
    assert "周次：" in response.content.decode()


@override_settings(XINFANG_L4_WAIT_ROWS=1)
def test_the_background_l4_writes_past_the_limit_masked_and_audited(jianan, two_provincial):
    client = signed_in(jianan.member("clerk"))
    response = client.post(reverse("jobs:new"), {"kind": "ledger_l4", "filters": ""})
    job = Job.objects.get()
    assert response.status_code == 302 and job.kind == "ledger_l4"
    assert drain() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    rows = rows_of(bytes(job.content))
    assert len(rows) == 2 and (job.done, job.total) == (2, 2)
    assert "张三明" not in rows[0][3] and "张*明" in rows[0][3]  # masked
    assert job.filename.startswith("省级交办信访事项办理情况统计表-") and job.message == "共 2 件"
    entry = AuditEntry.objects.get(action="export", object_id="L4")
    assert entry.detail["via"] == "web-job" and len(entry.detail["cases"]) == 2


def test_the_background_l4_goes_through_the_door_and_names_a_bad_week(jianan, two_provincial):
    township = jianan.member("township")  # nothing assigned to the township yet
    api = client_as(township).post("/api/jobs/", {"kind": "ledger_l4", "params": {"filters": ""}},
                                   format="json")
    assert api.status_code == 202, api.content
    theirs = Job.objects.get(pk=api.json()["id"])
    week = job_start(kind="ledger_l4", by=jianan.member("clerk"),
                     params={"filters": "week=2026-W99"})
    unmasked = job_start(kind="ledger_l4", by=jianan.member("clerk"),
                         params={"filters": "", "unmasked": True})
    drain()
    for job in (theirs, week, unmasked):
        job.refresh_from_db()
    assert theirs.status == Job.Status.DONE and rows_of(bytes(theirs.content)) == []
    assert week.status == Job.Status.FAILED and week.error
    assert unmasked.status == Job.Status.FAILED and "理由" in unmasked.error


def test_the_background_l4_of_a_week_holds_that_weeks_completed_referrals(jianan):
    done = walk(jianan, "delivered", **PROVINCIAL)
    done = perform("report_back", case=done, by=jianan.member("clerk"), note="已报送")
    done = walk(jianan, "closed", case=done)
    walk(jianan, "delivered", **PROVINCIAL)  # not yet completed
    week = containing("week", timezone.localtime(done.closed_at).date())
    job = job_start(kind="ledger_l4", by=jianan.member("clerk"),
                    params={"filters": f"week={week.code}"})
    drain()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.filename == f"省级交办信访事项办理情况统计表-{week.code}.xlsx"
    sheet = load_workbook(io.BytesIO(bytes(job.content))).active
    assert sheet["A1"].value.endswith(f"（{week.label}）")
    assert len(rows_of(bytes(job.content))) == 1
