"""Cases walked through the procedure for the document tests: the lifecycle of
tests/cases/test_lifecycle.py, with a second, confidential petitioner."""

from __future__ import annotations

from datetime import date

from tests.conftest import id_number, registration, sh
from xinfang.cases import choices as c
from xinfang.cases.services import PetitionerInput, case_register, perform

MAIN = PetitionerInput(
    name="张三明",
    id_number=id_number("41102319800101123"),
    phone="13812345678",
    address="将官池镇岗朱村3组",
    exited_household=True,
)
SECRET = PetitionerInput(
    name="李秀英",
    role=c.PetitionerRole.COMPANION,
    id_number=id_number("41102319820202224"),
    phone="13900001111",
    address="将官池镇岗朱村5组",
    confidential=True,
)


def walk(j, *, until: str = "archive", petitioners=None, **registration_fields):
    """Register in ``j`` (jianan) and perform the steps up to and including ``until``."""
    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    case = case_register(
        by=clerk,
        data=registration(
            j,
            petitioners=petitioners or [MAIN],
            key_case=False,
            **registration_fields,
        ),
        at=sh(2026, 9, 14, 10, 0),
    )
    steps = [
        ("propose", clerk, dict(proposal="交将官池镇牵头，区民政局协办")),
        ("sign_off", approver, dict(note="同意")),
        (
            "assign",
            clerk,
            dict(
                lead=j.townships["将官池镇"],
                assisting=[j.bureaus["区民政局"]],
                receiver_name="陈晓东",
                responsible_person="陈晓东",
            ),
        ),
        ("sign_for", township, {}),
        ("log_contact", township, dict(kind="visit", note="带件下访，当面了解情况")),
        (
            "deliver_acceptance_notice",
            township,
            dict(
                mode="in_person",
                deliverer="陈晓东",
                recipient="张三明",
                promised_reply=date(2026, 9, 24),
            ),
        ),
        ("submit_report", township, dict(kind="initial", text="初步核实：补助已拨付至镇财政所")),
        (
            "submit_report",
            township,
            dict(kind="investigation", text="经调查，补助资金滞留镇财政所，已督促发放到户"),
        ),
        (
            "record_finding",
            township,
            dict(findings={1: ("partly", "solved", "补助资金滞留镇财政所，已督促发放")}),
        ),
        ("submit_report", township, dict(kind="handling", text="补助已于9月25日发放到户")),
        (
            "draft_letter",
            township,
            dict(body="经核查，你反映的危房改造补助问题部分属实，已督促发放。"),
        ),
        ("approve_letter", approver, {}),
        ("issue_letter", clerk, {}),
        (
            "record_delivery",
            clerk,
            dict(
                mode="in_person",
                delivered_at=sh(2026, 9, 30, 10),
                deliverer="陈晓东",
                recipient="张三明",
                receipt_signed=True,
            ),
        ),
        ("record_rating", township, dict(rating="satisfied", reason="补助已到位")),
        ("record_pledge", township, dict(text="本人对处理结果满意，今后不再就此事上访。")),
        ("close", approver, dict(note="同意销号")),
        ("archive", clerk, {}),
    ]
    for name, by, params in steps:
        case = perform(name, case=case, by=by, expected_version=case.version, **params)
        if name == until:
            break
    return case


def issued(case, *codes: str, by=None) -> None:
    """The instruments ``codes`` of ``case`` frozen, as the steps' task freezes them (no worker
    runs in these tests, and a download freezes nothing)."""
    from xinfang.documents.services import document_issue

    for code in codes:
        document_issue(case=case, code=code, by=by)
