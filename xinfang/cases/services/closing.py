"""What must exist before a case may be struck off the ledger (销号), per the profile."""

from __future__ import annotations

from xinfang.rules.profile import Profile

from .. import choices as c
from ..models import Case

LABELS = {
    "decision_letter_delivered": "已送达的处理意见书",
    "delivery_receipt": "送达回证（签收，或拒收有见证）",
    "satisfaction_rating": "满意度评价（或评价期限届满）",
    "settlement_pledge": "息诉息访书（停访承诺书）",
    "report_back_if_referred": "向交办机关反馈",
    "return_visit": "回访记录",
    "acceptance_notice_delivered": "送达的受理告知书",
    "handling_report": "办理情况报告",
}


def _rating_window_passed(case: Case, at) -> bool:
    window = case.clocks.filter(name="rating_window").order_by("-started_at").first()
    return (window is not None and window.status != "stopped" and at is not None
            and window.due_at <= at)


def missing_for_closing(case: Case, profile: Profile, *, signing_role: str = "",
                        at=None) -> list[str]:
    have = {
        "decision_letter_delivered": case.documents.filter(
            kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED,
            deliveries__isnull=False).exists(),
        "delivery_receipt": any(d.proves_delivery for d in case.deliveries.filter(
            document__kind=c.DocumentKind.DECISION_LETTER)),
        # Given, or its window has passed without one (the petitioner would not rate).
        "satisfaction_rating": bool(case.rating) or _rating_window_passed(case, at),
        "settlement_pledge": case.settlement_pledge_at is not None,
        "report_back_if_referred": not case.is_referred or case.reported_back_at is not None,
        "return_visit": case.contacts.filter(kind=c.ContactKind.RETURN_VISIT).exists(),
        "acceptance_notice_delivered": case.documents.filter(
            kind=c.DocumentKind.ACCEPTANCE_NOTICE, deliveries__isnull=False).exists(),
        "handling_report": case.reports.filter(kind=c.ReportKind.HANDLING).exists(),
    }
    # Signatures are checked by the close transition itself, not listed as missing documents.
    # Every other closing item a profile may name (rules.profile.CLOSING_ITEMS) is checked here:
    # an item missing from ``have`` would silently never be required.
    return [LABELS[r] for r in profile.closing.requires if r in have and not have[r]]


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

consumes("closing.requires", by="xinfang.cases.services.closing.missing_for_closing")
