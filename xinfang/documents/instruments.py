"""The instruments of FORMS.md (D1–D9) as data: which template each fills, the fields its
template must hold, when the procedure issues it, and the function that fills it.

``ready(case)`` returns the case's own record the instrument is issued from (a ``Document`` row
where the workflow keeps one) or raises ``NotIssued`` naming the step that issues it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xinfang.cases import choices as c
from xinfang.cases.models import Case, Document

from . import fill


class NotIssued(Exception):
    """The case has not reached the step that issues this instrument."""


@dataclass(frozen=True)
class Instrument:
    code: str
    title: str
    template: str
    fields: tuple[str, ...]
    fill: Callable
    ready: Callable[[Case], Document | None]
    params: tuple[str, ...] = ()  # what the issuer writes (D8: the required action, due date)


# Each check reads the case's related rows through ``.all()``: on the case page they were
# prefetched once for every instrument (``selectors.documents_of``), elsewhere it is one query.


def _latest_issued_key(doc: Document):
    # order_by("issued_at", "id").last() as PostgreSQL orders it: NULL issued_at last
    return (doc.issued_at is None, doc.issued_at.timestamp() if doc.issued_at else 0.0, doc.id)


def _document(kind: str, step: str, status: str = c.DocumentStatus.ISSUED):
    def ready(case: Case) -> Document | None:
        docs = [d for d in case.documents.all() if d.kind == kind and d.status == status]
        if not docs:
            raise NotIssued(f"本件尚未{step}。")
        return max(docs, key=_latest_issued_key)

    return ready


def _delivered(case: Case) -> Document | None:
    for kind in (c.DocumentKind.DECISION_LETTER, c.DocumentKind.ACCEPTANCE_NOTICE):
        docs = [d for d in case.documents.all() if d.kind == kind and d.deliveries.all()]
        if docs:
            return max(docs, key=lambda d: d.id)
    raise NotIssued("本件尚无送达记录（送达受理告知书或处理意见书后出具送达回证）。")


def _letter_issued(case: Case) -> None:
    if not any(
        d.kind == c.DocumentKind.DECISION_LETTER and d.status == c.DocumentStatus.ISSUED
        for d in case.documents.all()
    ):
        raise NotIssued("本件尚未出具处理意见书。")


def _warned(case: Case) -> None:
    if not case.warning_notices.all():
        raise NotIssued("本件没有预警提醒单。")


def _assigned(case: Case) -> None:
    if not case.assignments.all():
        raise NotIssued("本件尚未交办。")


def _any(case: Case) -> None:
    if case.state in (c.State.DECLINED, c.State.MERGED):
        raise NotIssued("不予受理或已并案的信访件不出具督办单。")


def _report(kind: str):
    def ready(case: Case) -> None:
        if not any(r.kind == kind for r in case.reports.all()):
            raise NotIssued(f"本件尚未报送{fill.REPORT_TITLES[kind]}。")

    return ready


def _closed(case: Case) -> None:
    if case.closed_at is None:
        raise NotIssued("本件尚未销号，不能出具结案报告。")


IDENTITY = ("case_number", "petitioner_name", "matter")

INSTRUMENTS: dict[str, Instrument] = {
    i.code: i
    for i in [
        Instrument(
            "D1",
            "信访事项受理告知书",
            "D1",
            IDENTITY
            + (
                "petitioner_phone",
                "id_number",
                "address",
                "companions",
                "received_date",
                "channel",
                "handling_unit",
                "handler",
                "handler_phone",
                "reply_by",
                "issue_date",
                "delivered_at",
                "deliverer",
                "query_code",
            ),
            fill.acceptance_notice,
            _document(c.DocumentKind.ACCEPTANCE_NOTICE, "出具受理告知书"),
        ),
        Instrument(
            "D2",
            "信访事项处理意见书",
            "D2",
            IDENTITY
            + (
                "petitioner_phone",
                "id_number",
                "address",
                "companions",
                "handling_unit",
                "handler",
                "handler_phone",
                "opinion",
                "review_notice",
                "issue_date",
                "delivered_at",
                "deliverer",
            ),
            fill.decision_letter,
            _document(c.DocumentKind.DECISION_LETTER, "出具处理意见书"),
        ),
        Instrument(
            "D3",
            "送达回证",
            "D3",
            (
                "case_number",
                "document_title",
                "recipient",
                "mode",
                "delivered_at",
                "deliverer",
                "refusal_reason",
                "witness",
            ),
            fill.delivery_receipt,
            _delivered,
        ),
        Instrument(
            "D4",
            "满意度评价表",
            "D4",
            IDENTITY + ("rating_boxes", "reasons", "rating_date"),
            fill.satisfaction_form,
            _letter_issued,
        ),
        Instrument(
            "D5",
            "停访承诺书及停访息诉协议",
            "D5",
            IDENTITY + ("outcome", "pledge", "signed_on"),
            fill.settlement_pledge,
            _document(c.DocumentKind.SETTLEMENT_PLEDGE, "签订停访承诺书"),
        ),
        Instrument(
            "D6",
            "信访事项预警提醒单",
            "D6",
            IDENTITY + ("reasons", "to_whom", "copied_to", "due_date", "cause", "measures"),
            fill.warning_notice,
            _warned,
        ),
        Instrument(
            "D7",
            "交办单（脱贫攻坚舆情信访登记表）",
            "D7",
            IDENTITY
            + (
                "demands",
                "proposal",
                "sign_off",
                "lead_unit",
                "assisting_units",
                "assigned_at",
                "receiver",
            ),
            fill.assignment_sheet,
            _assigned,
        ),
        Instrument(
            "D8",
            "督办单",
            "D8",
            ("case_number", "matter", "late_items", "required_action", "due_date"),
            fill.supervision_order,
            _any,
            params=("required_action", "due_date", "problem"),
        ),
        *[
            Instrument(
                f"D9-{kind}",
                fill.REPORT_TITLES[kind],
                "D9",
                IDENTITY + ("report_title", "findings", "handling", "report_text", "outcome"),
                fill.report(kind),
                _closed if kind == "closing" else _report(kind),
            )
            for kind in ("investigation", "initial", "handling", "closing")
        ],
    ]
}

TEMPLATE_FIELDS: dict[str, set[str]] = {}
for _i in INSTRUMENTS.values():
    TEMPLATE_FIELDS.setdefault(_i.template, set()).update(_i.fields)

# The order of a case file (一案一档): as the procedure issues them.
ARCHIVE_ORDER = [
    "D7",
    "D1",
    "D9-initial",
    "D9-investigation",
    "D9-handling",
    "D2",
    "D3",
    "D4",
    "D5",
    "D6",
    "D8",
    "D9-closing",
]


# Which instruments each transition of the workflow issues (xinfang/cases/workflow.py): after the
# transition commits, a task freezes them (``services.document_issue_at_step``), so a document
# shows the case as it stood at its step, not at its first download. D6 comes from the sweep's
# warning notices and D8 from a leader's order with its own fields: both are issued on request
# (a POST: ``services.document_issue_requested``; D8 through its order's fields).
# ``submit_report`` issues the D9 of the report's kind.
ISSUED_AT_STEP: dict[str, tuple[str, ...]] = {
    "assign": ("D7",),
    "transfer_to_discipline": ("D7",),
    "reassign": ("D7",),  # the sheet again, naming the new unit (a correction, with the reason)
    "deliver_acceptance_notice": ("D1",),
    "issue_letter": ("D2",),
    "record_delivery": ("D3",),
    "record_rating": ("D4",),
    "record_pledge": ("D5",),
    "close": ("D9-closing",),
}


def issued_at_step(transition: str, params: dict) -> tuple[str, ...]:
    """The instrument codes transition ``transition`` (with its ``params``) issues."""
    if transition == "submit_report":
        code = f"D9-{params.get('kind', '')}"
        return (code,) if code in INSTRUMENTS and code != "D9-closing" else ()
    return ISSUED_AT_STEP.get(transition, ())


def instrument(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code.strip()]
    except KeyError:
        raise KeyError(f"没有文书“{code}”；可选：{'、'.join(INSTRUMENTS)}") from None
