"""What must already be true of a case for a transition to make sense, beyond its state and the
actor: checked by ``refusal()`` (so pages never offer a moot action) and again by ``perform``."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from xinfang.org.models import Membership

from .. import choices as c
from ..models import Case, WarningNotice
from .base import Access, is_office_of, profile_for


def _sign_for(case: Case, by: Membership | None, access: Access) -> str | None:
    assignment = access.assignment if access else None
    if assignment and assignment.signed_for_at:
        return f"{by.unit}已于{assignment.signed_for_at:%Y-%m-%d %H:%M}签收。"
    return None


def _record_rating(case: Case, by: Membership | None, access: Access | None) -> str | None:
    return "本件已评价，不能重复评价。" if case.rating else None


def _report_back(case: Case, by: Membership | None, access: Access | None) -> str | None:
    return None if case.is_referred else "本件不是上级交办件，无需反馈交办机关。"


def _answer_warning(case: Case, by: Membership | None, access: Access | None) -> str | None:
    if WarningNotice.objects.filter(case=case, answered_at=None).exists():
        return None
    return "本件没有待回复的预警提醒单。"


def _open_review(case: Case, by: Membership | None, access: Access | None) -> str | None:
    if case.kind == "rereview":
        return "复核后同一事项不再受理（《信访工作条例》第三十六条）。"
    if case.reviews.exists():
        return "本件已申请复查（复核），不能重复申请。"
    if by is not None and is_office_of(by.unit, case):
        return "复查（复核）申请由上一级机关受理。"
    return None


def _request_extension(case: Case, by: Membership | None, access: Access | None) -> str | None:
    limit = profile_for(case).extension.max_count
    granted = case.extensions.filter(approved=True).count()
    if granted >= limit:
        return f"本地规则最多延期{limit}次，本件已延期{granted}次。"
    return None


def _deliver_acceptance_notice(
    case: Case, by: Membership | None, access: Access | None
) -> str | None:
    delivered = (
        case.documents.filter(kind=c.DocumentKind.ACCEPTANCE_NOTICE, status=c.DocumentStatus.ISSUED)
        .order_by("issued_at")
        .values_list("issued_at", flat=True)
        .first()
    )
    if delivered:
        return f"受理告知书已于{timezone.localtime(delivered):%Y-%m-%d %H:%M}送达。"
    return None


def _notify_offices(case: Case, by: Membership | None, access: Access | None) -> str | None:
    # Seed 001 二(三): 舆情件 are reported to the publicity and cyberspace offices; an ordinary
    # petition has nothing for them.
    if case.kind != c.Kind.OPINION_INCIDENT:
        return "本件不是舆情件，无需通报宣传网信部门。"
    return None


PRECONDITIONS: dict[str, Callable[[Case, Membership | None, Access | None], str | None]] = {
    "sign_for": _sign_for,
    "record_rating": _record_rating,
    "report_back": _report_back,
    "answer_warning": _answer_warning,
    "open_review": _open_review,
    "request_extension": _request_extension,
    "deliver_acceptance_notice": _deliver_acceptance_notice,
    "notify_offices": _notify_offices,
}


def precondition_refusal(
    name: str, case: Case, by: Membership | None, access: Access | None = None
) -> str | None:
    check = PRECONDITIONS.get(name)
    if check is None:
        return None
    if access is None and by is not None:
        access = Access(case, by)
    return check(case, by, access)
