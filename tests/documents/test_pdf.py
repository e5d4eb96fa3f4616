"""PDF through LibreOffice: Chinese text renders, A4; absent LibreOffice is told in Chinese."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.documents.cases import issued, walk
from xinfang.documents import pdf
from xinfang.documents.models import Audience, Format, Rendition
from xinfang.documents.selectors import document_file
from xinfang.documents.services import document_issue, rendition_pdf_convert

pytestmark = pytest.mark.django_db


def _need(binary: str, package: str) -> None:
    if shutil.which(binary):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {binary} is missing: install Debian's {package}.")
    pytest.skip(f"{binary} is not installed (Debian package {package}); PDF test skipped.")


@pytest.mark.libreoffice
def test_the_acceptance_notice_converts_to_an_a4_pdf_with_its_chinese_text(jianan, tmp_path):
    _need("soffice", "libreoffice-writer-nogui")
    _need("pdftotext", "poppler-utils")
    case = walk(jianan, until="deliver_acceptance_notice")
    doc = document_issue(case=case, code="D1", by=jianan.member("clerk"))
    row = doc.renditions.get(audience=Audience.FULL, format=Format.PDF)
    assert row.status == Rendition.Status.PENDING, "converted outside the request"
    row = rendition_pdf_convert(row.pk)
    assert row.status == Rendition.Status.READY, row.error
    data = bytes(row.content)
    assert data.startswith(b"%PDF") and len(row.sha256) == 64
    path = tmp_path / "d1.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")
    compact = "".join(text.split())
    # The case number stays on one line of its cell (it wrapped in a 30 mm cell before).
    assert any(case.number == "".join(line.split()) for line in text.splitlines()), text[:400]
    for words in ("信访事项受理告知书", "张三明", "信访人意见", f"查询码：{case.query_code}"):
        assert "".join(words.split()) in compact, words
    info = subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    assert "595.3" in info and "841.8" in info or "A4" in info  # 210 × 297 mm
    # frozen: asked again, the same bytes
    again = rendition_pdf_convert(row.pk)
    assert bytes(again.content) == data


def test_without_libreoffice_the_user_is_told_in_chinese_and_docx_still_works(jianan, monkeypatch):
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    case = walk(jianan, until="deliver_acceptance_notice")
    clerk = jianan.member("clerk")
    issued(case, "D1")
    docx = document_file(by=clerk, case_id=case.pk, code="D1", fmt="docx")
    assert docx.status == Rendition.Status.READY and bytes(docx.content)[:2] == b"PK"
    from xinfang.cases.errors import Refused

    with pytest.raises(Refused, match="未安装 LibreOffice"):
        document_file(by=clerk, case_id=case.pk, code="D1", fmt="pdf")
    with pytest.raises(pdf.PdfUnavailable, match="DOCX 文书可照常下载"):
        pdf.docx_to_pdf(bytes(docx.content))


def test_a_pdf_claimed_by_one_worker_is_not_converted_by_another(jianan, monkeypatch):
    case = walk(jianan, until="deliver_acceptance_notice")
    monkeypatch.setattr(pdf, "soffice", lambda: "/bin/true")
    doc = document_issue(case=case, code="D1", by=jianan.member("clerk"))
    row = doc.renditions.get(audience=Audience.FULL, format=Format.PDF)
    from django.utils import timezone

    Rendition.objects.filter(pk=row.pk).update(claimed_at=timezone.now())
    calls = []
    monkeypatch.setattr(pdf, "docx_to_pdf", lambda data, **kw: calls.append(1) or b"%PDF-1.7")
    assert rendition_pdf_convert(row.pk).status == Rendition.Status.PENDING
    assert calls == []


@pytest.mark.libreoffice
@pytest.mark.django_db(transaction=True)
def test_the_pdf_is_made_by_the_worker_and_served_when_ready(jianan):
    _need("soffice", "libreoffice-writer-nogui")
    from django.db import transaction

    from xinfang.documents.services import pdf_schedule

    case = walk(jianan, until="deliver_acceptance_notice")
    clerk = jianan.member("clerk")
    with transaction.atomic():
        doc = document_issue(case=case, code="D1", by=clerk)
    first = document_file(by=clerk, case_id=case.pk, code="D1", fmt="pdf")
    assert first.status == Rendition.Status.PENDING, "the page is answered at once, PDF pending"
    job = pdf_schedule([first.pk], by=clerk, force=True)
    from xinfang.jobs.worker import Loop

    Loop(schedule=False, interval=0).drain()  # xinfang worker
    job.refresh_from_db()
    assert job.status == job.Status.DONE and (job.done, job.total) == (1, 1), job.error
    ready = document_file(by=clerk, case_id=case.pk, code="D1", fmt="pdf")
    assert ready.status == Rendition.Status.READY and bytes(ready.content).startswith(b"%PDF")
    assert ready.document_id == doc.pk


def test_a_pdf_left_pending_by_a_worker_that_died_is_scheduled_again_when_asked_for(
        jianan, monkeypatch, settings):
    # given a PDF claimed eleven minutes ago by a worker that died before converting it
    settings.XINFANG_PDF_BACKGROUND = True  # as in production: conversions are jobs
    from datetime import timedelta

    from django.utils import timezone

    from xinfang.documents.services import rendition_pdf_ensure
    from xinfang.jobs.models import Job

    case = walk(jianan, until="deliver_acceptance_notice")
    monkeypatch.setattr(pdf, "soffice", lambda: "/bin/true")
    doc = document_issue(case=case, code="D1", by=jianan.member("clerk"))
    row = doc.renditions.get(audience=Audience.FULL, format=Format.PDF)
    docx = doc.renditions.get(audience=Audience.FULL, format=Format.DOCX)
    Rendition.objects.filter(pk=row.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=11))
    jobs = Job.objects.filter(kind="pdf", params__renditions=[row.pk])
    before = jobs.count()
    # when someone asks for it again
    rendition_pdf_ensure(docx)
    # then it is scheduled again, where it waited "PDF 生成中" for good
    assert jobs.count() == before + 1
    # a claim still fresh is a conversion under way: nothing more is scheduled
    Rendition.objects.filter(pk=row.pk).update(claimed_at=timezone.now())
    rendition_pdf_ensure(docx)
    assert jobs.count() == before + 1
