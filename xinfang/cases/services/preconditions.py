"""What must already be true of a case for a transition to make sense, beyond its state and the
actor: checked by ``refusal()`` (so pages never offer a moot action) and again by ``perform``."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from xinfang.org.models import Membership
from xinfang.rules.consumers import consumes

from .. import choices as c
from ..memo import prefetched
from ..models import Case, WarningNotice
from .base import Access, is_office_of, profile_for


def _sign_for(case: Case, by: Membership | None, access: Access) -> str | None:
    assignment = access.assignment if access else None
    if assignment and assignment.signed_for_at:
        return f"{by.unit}已于{assignment.signed_for_at:%Y-%m-%d %H:%M}签收。"
    return None


def _record_rating(case: Case, by: Membership | None, access: Access | None) -> str | None:
    if case.rating:
        return "本件已评价，不能重复评价。"
    if case.state == "delivered":
        return None
    window = case.clocks.filter(name="rating_window").order_by("-started_at").first()
    if window is None:
        return "本件已销号，不能再评价。"
    if window.status == "stopped":
        return "满意度评价期限已过。"
    return None


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
    stage = _review_stage(case)
    if by is not None and is_office_of(by.unit, case) and stage.by != "office":
        return "复查（复核）申请由上一级机关受理。"
    return None


@consumes("review_windows.review.by", "review_windows.rereview.by",
          by="xinfang.cases.services.preconditions._open_review")
def _review_stage(case: Case):
    windows = profile_for(case).review_windows
    return windows.rereview if case.kind == "review" else windows.review


def _request_extension(case: Case, by: Membership | None, access: Access | None) -> str | None:
    limit = profile_for(case).extension.max_count
    granted = case.extensions.filter(approved=True).count()
    if granted >= limit:
        return f"本地规则最多延期{limit}次，本件已延期{granted}次。"
    return None


def _deliver_acceptance_notice(
    case: Case, by: Membership | None, access: Access | None
) -> str | None:
    documents = prefetched(case, "documents")  # the case page reads them all
    if documents is None:
        delivered = (
            case.documents.filter(kind=c.DocumentKind.ACCEPTANCE_NOTICE,
                                  status=c.DocumentStatus.ISSUED)
            .order_by("issued_at")
            .values_list("issued_at", flat=True)
            .first()
        )
    else:
        delivered = min((d.issued_at for d in documents
                         if d.kind == c.DocumentKind.ACCEPTANCE_NOTICE
                         and d.status == c.DocumentStatus.ISSUED and d.issued_at), default=None)
    if delivered:
        return f"受理告知书已于{timezone.localtime(delivered):%Y-%m-%d %H:%M}送达。"
    return None


def _notify_offices(case: Case, by: Membership | None, access: Access | None) -> str | None:
    # Seed 001 二(三): 舆情件 are reported to the publicity and cyberspace offices; an ordinary
    # petition has nothing for them.
    if case.kind != c.Kind.OPINION_INCIDENT:
        return "本件不是舆情件，无需通报宣传网信部门。"
    return None


def _propose(case: Case, by: Membership | None, access: Access | None) -> str | None:
    """Out of scope (seed 002 §四(一); national §19, §36): the clerk is told why and declines."""
    from .scope import scope_reasons

    profile = profile_for(case)
    reasons = scope_reasons(case, profile)
    if reasons:
        return "不予受理：" + "；".join(reasons) + "。请办理“不予受理并引导”。"
    return _reception_missing(case, profile)


@consumes("receptions.when", "receptions.by",
          by="xinfang.cases.services.preconditions._reception_missing")
def _reception_missing(case: Case, profile) -> str | None:
    """Seed 004 §一(三), seed 000 §五: a 5-person visit (or an extreme one) is received in person
    by a leader the rule names, recorded as a face-to-face contact by that leader, before the
    case goes on."""
    from xinfang.org.choices import Role

    from ..facts import case_facts

    facts = case_facts(case)
    for rule in profile.receptions:
        if not rule.when.matches(facts):
            continue
        met = case.events.filter(type="log_contact", actor_role__in=list(rule.by),
                                 payload__kind="meeting").exists()
        if not met:
            who = "或".join(str(Role(r).label) for r in rule.by)
            return f"{rule.label}：须由{who}出面接待并登记面对面沟通后，方可拟办。"
    return None


PRECONDITIONS: dict[str, Callable[[Case, Membership | None, Access | None], str | None]] = {
    "propose": _propose,
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
