"""Issue 10: each instrument is frozen at the step that issues it — the transition queues a task
in its own transaction, the worker freezes the document (and queues its PDF) — not at its first
download. Retries and double deliveries freeze once; the first download stays a fallback."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.cases.test_concurrency import run_in_threads
from tests.documents.cases import walk
from xinfang.cases.errors import Refused
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import perform
from xinfang.demo.org import build_jurisdiction
from xinfang.documents.instruments import INSTRUMENTS, ISSUED_AT_STEP, issued_at_step
from xinfang.documents.models import IssuedDocument, Rendition
from xinfang.documents.selectors import document_file
from xinfang.documents.services import document_issue
from xinfang.documents.tasks import issue_at_step
from xinfang.jobs.models import Job
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)


def drain() -> int:
    return Loop(schedule=False, interval=0).drain()


def issue_tasks():
    return DBTaskResult.objects.filter(task_path="xinfang.documents.tasks.issue_at_step")


def test_every_mapped_code_is_an_instrument_and_every_transition_exists():
    from xinfang.cases.workflow import TRANSITIONS

    for name, codes in ISSUED_AT_STEP.items():
        assert name in TRANSITIONS, name
        assert set(codes) <= set(INSTRUMENTS), codes
    assert issued_at_step("submit_report", {"kind": "initial"}) == ("D9-initial",)
    assert issued_at_step("submit_report", {"kind": "closing"}) == ()
    assert issued_at_step("submit_report", {"kind": "bogus"}) == ()
    assert issued_at_step("log_contact", {}) == ()


def test_the_acceptance_notice_is_frozen_at_its_step_not_at_the_first_download():
    j = build_jurisdiction()
    case = walk(j, until="deliver_acceptance_notice")
    step = CaseEvent.objects.filter(case=case, type="deliver_acceptance_notice").get()
    assert issue_tasks().count() == 2  # assign → D7, deliver_acceptance_notice → D1
    assert not IssuedDocument.objects.filter(case=case).exists()  # nothing before the worker
    drain()
    d1 = IssuedDocument.objects.get(case=case, code="D1")
    assert d1.version == 1 and d1.issued_at == step.at
    assert d1.issued_by == j.member("township").user
    assert d1.case_version == case.version  # the record as it stood after the step
    assert IssuedDocument.objects.filter(case=case, code="D7").count() == 1
    assert Rendition.objects.filter(document=d1, format="docx").count() == 3
    # Later steps change the case; D1 stays what it was at its step.
    case = perform(
        "submit_report",
        case=case,
        by=j.member("township"),
        expected_version=case.version,
        kind="initial",
        text="初步核实",
    )
    drain()
    assert IssuedDocument.objects.get(case=case, code="D1").case_version == d1.case_version
    assert IssuedDocument.objects.filter(case=case, code="D9-initial").count() == 1
    # The download serves the frozen one: no new version.
    row = document_file(by=j.member("clerk"), case_id=case.pk, code="D1", fmt="docx")
    assert row.document_id == d1.pk


def test_a_retried_or_doubled_task_issues_once_and_a_download_first_is_kept():
    j = build_jurisdiction()
    case = walk(j, until="issue_letter")
    clerk = j.member("clerk")
    # A download that wins the race freezes D2 first; the task then finds it frozen.
    first = document_issue(case=case, code="D2", by=clerk)
    for _ in range(3):  # a retry, a double enqueue
        issue_at_step.enqueue(
            case_id=case.pk, codes=["D2"], membership_id=clerk.pk, at=first.issued_at.isoformat()
        )
    drain()
    assert list(
        IssuedDocument.objects.filter(case=case, code="D2").values_list("pk", flat=True)
    ) == [first.pk]
    assert (
        IssuedDocument.objects.filter(case=case).values("code").distinct().count()
        == IssuedDocument.objects.filter(case=case).count()
    ), "one version per instrument"
    assert DBTaskResult.objects.filter(status="FAILED").count() == 0


def test_two_workers_running_the_same_issue_task_twice_freeze_one_version():
    j = build_jurisdiction()
    case = walk(j, until="record_delivery")
    township = j.member("township")
    for _ in range(4):
        issue_at_step.enqueue(
            case_id=case.pk, codes=["D3"], membership_id=township.pk, at=timezone.now().isoformat()
        )
    errors = run_in_threads(
        lambda i: Loop(worker_id=f"w{i}", schedule=False, interval=0).drain(), 2
    )
    assert errors == []
    assert IssuedDocument.objects.filter(case=case, code="D3").count() == 1


def test_a_step_rolled_back_queues_nothing():
    j = build_jurisdiction()
    case = walk(j, until="sign_off")
    before = issue_tasks().count()
    with pytest.raises(Refused):  # Invalid is a Refused
        perform(
            "assign",
            case=case,
            by=j.member("clerk"),
            expected_version=case.version,
            lead=None,
            receiver_name="",
            responsible_person="",
        )
    assert issue_tasks().count() == before


def test_a_step_the_case_no_longer_qualifies_for_is_skipped_with_its_reason():
    j = build_jurisdiction()
    case = walk(j, until="sign_off")
    issue_at_step.enqueue(
        case_id=case.pk, codes=["D9-closing"], membership_id=None, at=timezone.now().isoformat()
    )
    drain()
    result = issue_tasks().get().return_value
    assert result["D9-closing"].startswith("skipped") and "销号" in result["D9-closing"]
    assert not IssuedDocument.objects.filter(case=case, code="D9-closing").exists()


@override_settings(XINFANG_PDF_BACKGROUND=True)
def test_the_pdf_copies_are_queued_as_a_job_of_the_issuer():
    from xinfang.documents import pdf

    if pdf.soffice() is None:
        pytest.skip("LibreOffice not installed: no PDF copy is made")
    j = build_jurisdiction()
    case = walk(j, until="deliver_acceptance_notice")
    township = j.member("township")
    # Run only the issue tasks (not the PDF conversions they queue).
    Loop(schedule=False, interval=0, per_round=2).round()
    d1 = IssuedDocument.objects.get(case=case, code="D1")
    pending = Rendition.objects.filter(document=d1, format="pdf")
    assert pending.count() == 3 and {r.status for r in pending} == {Rendition.Status.PENDING}
    job = Job.objects.get(kind="pdf", params__renditions=[r.pk for r in pending.order_by("pk")])
    assert job.user == township.user and job.status == Job.Status.QUEUED
