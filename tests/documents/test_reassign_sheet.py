"""A reassignment issues the assignment sheet (交办单, D7) again, naming the new unit: a
correction with the reason, once however often its task runs."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from tests.documents.cases import walk
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import perform
from xinfang.demo.org import build_jurisdiction
from xinfang.documents.models import IssuedDocument
from xinfang.documents.tasks import issue_at_step
from xinfang.jobs.worker import Loop

pytestmark = pytest.mark.django_db(transaction=True)


def drain() -> int:
    return Loop(schedule=False, interval=0).drain()


def test_a_reassignment_issues_the_sheet_again_once_with_its_reason():
    j = build_jurisdiction()
    case = walk(j, until="sign_for")
    drain()
    assert IssuedDocument.objects.get(case=case, code="D7").version == 1
    case = perform("reassign", case=case, by=j.member("clerk"), expected_version=case.version,
                   lead=j.townships["五女店镇"], reason="交办有误", receiver_name="马俊")
    drain()
    step = CaseEvent.objects.get(case=case, type="reassign")
    d7 = IssuedDocument.objects.filter(case=case, code="D7").order_by("-version").first()
    assert (d7.version, d7.reason, d7.issued_at) == (2, "改派：交办有误", step.at)
    assert d7.case_version == case.version
    # a retried task makes no third version
    issue_at_step.enqueue(case_id=case.pk, codes=["D7"], membership_id=j.member("clerk").pk,
                          at=step.at.isoformat(), reason="改派：交办有误")
    drain()
    assert IssuedDocument.objects.filter(case=case, code="D7").count() == 2
    assert DBTaskResult.objects.filter(status="FAILED").count() == 0
