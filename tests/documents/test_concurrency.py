"""Four people asking for the same document at once freeze one version; four corrections at once
make four versions, none lost. Real threads with their own connections (SQLite file, PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.cases.test_concurrency import run_in_threads
from tests.documents.cases import walk
from xinfang.demo.org import build_jurisdiction
from xinfang.documents.models import IssuedDocument, Rendition
from xinfang.documents.services import document_correct, document_issue

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_first_requests_freeze_one_version_and_corrections_all_count():
    j = build_jurisdiction()
    case = walk(j, until="issue_letter")
    clerk = j.member("clerk")
    errors = run_in_threads(lambda i: document_issue(case=case, code="D2", by=clerk), 4)
    assert errors == []
    assert IssuedDocument.objects.filter(case=case, code="D2").count() == 1
    assert Rendition.objects.filter(document__case=case, format="docx").count() == 3

    errors = run_in_threads(
        lambda i: document_correct(case=case, code="D2", by=clerk, reason=f"更正{i}"), 4
    )
    assert errors == []
    versions = sorted(
        IssuedDocument.objects.filter(case=case, code="D2").values_list("version", flat=True)
    )
    assert versions == [1, 2, 3, 4, 5]
