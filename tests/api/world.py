"""Factory functions for API tests: walk a case to a state through the services, and act as a
member over the API. Plain functions, so each test builds only what it uses."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.conftest import register_in
from xinfang.cases.models import Case
from xinfang.cases.services import perform
from xinfang.org.models import Membership

# The milestones of a case's ordinary path, in order; each is reached by the step beside it.
PATH = ["registered", "proposed", "signed_off", "assigned", "in_progress", "found",
        "letter_drafted", "letter_approved", "letter_issued", "delivered", "closed", "archived"]


def _step(j, milestone: str, lead, assisting) -> tuple[str, str, dict]:
    return {
        "proposed": ("propose", "clerk", {"proposal": "交将官池镇办理"}),
        "signed_off": ("sign_off", "approver", {}),
        "assigned": ("assign", "clerk", {
            "lead": lead, "assisting": assisting, "receiver_name": "陈晓东",
            "responsible_person": "陈晓东"}),
        "in_progress": ("sign_for", "lead", {}),
        "found": ("record_finding", "lead", {"findings": {1: ("partly", "solved", "已督促发放")}}),
        "letter_drafted": ("draft_letter", "lead", {"body": "经核查，你反映的问题部分属实。"}),
        "letter_approved": ("approve_letter", "approver", {}),
        "letter_issued": ("issue_letter", "clerk", {}),
        "delivered": ("record_delivery", "clerk", {
            "mode": "in_person", "delivered_at": timezone.now() - timedelta(hours=1),
            "deliverer": "陈晓东", "recipient": "张三明", "receipt_signed": True}),
        "closed": ("close", "approver", {}),
        "archived": ("archive", "clerk", {}),
    }[milestone]


def walk(j, until: str = "registered", *, case: Case | None = None, lead: str = "将官池镇",
         assisting: tuple[str, ...] = ("区民政局",), lead_member: str | None = None,
         **registration) -> Case:
    """Register a case in jurisdiction ``j`` (or take ``case``) and walk it to ``until``: a
    milestone of PATH, or "extension_requested". Assigned to ``lead`` (a township or bureau name)
    with ``assisting`` units."""
    units = {**j.townships, **j.bureaus}
    lead_unit, assist_units = units[lead], [units[n] for n in assisting]
    lead_member = lead_member or ("township" if lead == "将官池镇" else "bureau")
    case = case or register_in(j, **registration)
    target = "in_progress" if until == "extension_requested" else until
    for milestone in PATH[PATH.index(case_milestone(case)) + 1: PATH.index(target) + 1]:
        name, who, params = _step(j, milestone, lead_unit, assist_units)
        by = j.member(lead_member if who == "lead" else who)
        case = perform(name, case=case, by=by, expected_version=case.version, **params)
    if until == "extension_requested":
        case = perform("request_extension", case=case, by=j.member(lead_member),
                       reason="需补办手续", progress_report="调查中",
                       expected_completion=date(2026, 12, 31))
    return case


def case_milestone(case: Case) -> str:
    if case.state == "in_progress" and case.demands.exclude(finding="").exists():
        return "found"
    return case.state


def client_as(membership: Membership, *, csrf: bool = False) -> APIClient:
    """An API client acting as this membership (its user signed in, the X-Membership header)."""
    client = APIClient(enforce_csrf_checks=csrf)
    client.force_authenticate(membership.user)
    client.credentials(HTTP_X_MEMBERSHIP=str(membership.pk))
    return client


def read_sheet(content: bytes) -> list[tuple]:
    """The ledger's table: its header row and data rows, without the title row above it (a
    single merged cell) — the layout itself is checked in tests/api/test_ledger_layouts.py."""
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    while rows and sum(v is not None for v in rows[0]) <= 1:
        rows.pop(0)
    return rows
