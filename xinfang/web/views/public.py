"""The petitioner's page: no sign-in; the case number and query code give the progress in plain
words and, once the decision letter is delivered, one satisfaction rating.

Wrong guesses are counted three ways (``security.throttle``, in the database, each count taken
under a row lock), each blocking for ``BLOCK_SECONDS`` once it reaches its limit:

- per **session** — one visitor: ``FAIL_LIMIT`` wrong codes;
- per **address** — a service hall or a village office may sit behind one address, so it allows
  many visitors' mistakes (``ADDRESS_LIMIT``) and one person's guessing does not shut the hall;
- per **case number** — whoever asks, from however many addresses: ``CASE_LIMIT`` wrong codes for
  one existing case block that case's query (its petitioner waits the block out, or asks at the
  office), so a case cannot be guessed from thirty addresses.

A typo-shaped miss — a case number that does not exist — costs a visitor half a wrong code and no
case anything: there is no case to guess at, and a petitioner who mistyped the number should not
be blocked as soon as one who keeps trying codes. A right pair resets nothing, so a known code
cannot be used to keep guessing others.

The case asked for is remembered for the visitor's next page (the rating) only while the visitor
is at it: ``IDLE`` after the last page, it is forgotten. A service hall's kiosk keeps one browser
for everyone; the next visitor must not find the last one's case, nor rate it.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.numbering import cases_numbered
from xinfang.cases.selectors import case_for_query_code
from xinfang.cases.services import perform, refusal
from xinfang.rules.store import profile_of
from xinfang.security.auth import client_ip
from xinfang.security.throttle import throttle_blocked_until, throttle_hit

from ..context import page
from ..forms.misc import ProgressQueryForm, PublicRatingForm

# Limits in wrong codes; a typo costs half of one (TYPO_COST of WRONG_CODE_COST points).
FAIL_LIMIT = 10  # one visitor (session)
ADDRESS_LIMIT = 60  # one address: a service hall's visitors together
CASE_LIMIT = 10  # one case, from every address together
WRONG_CODE_COST, TYPO_COST = 2, 1
BLOCK_SECONDS = 15 * 60
WINDOW = timedelta(seconds=BLOCK_SECONDS)
BLOCK = timedelta(seconds=BLOCK_SECONDS)
SESSION_KEY = "public_case"
IDLE = timedelta(minutes=10)

S = c.State
PLAIN_WORDS = {
    S.REGISTERED: gettext_lazy("您的信访事项已登记，正在研究处理意见。"),
    S.DECLINED: gettext_lazy(
        "您反映的事项不属于本机关受理范围，工作人员已告知您向有权处理的机关反映。"
    ),
    S.PROPOSED: gettext_lazy("您的信访事项已受理，正在审批交办。"),
    S.AWAITING_COUNTERSIGN: gettext_lazy("您的信访事项已受理，正在审批交办。"),
    S.SIGNED_OFF: gettext_lazy("您的信访事项已受理，正在交有关单位办理。"),
    S.ASSIGNED: gettext_lazy("您的信访事项已交有关单位办理。"),
    S.IN_PROGRESS: gettext_lazy("有关单位正在调查核实、办理您的信访事项。"),
    S.EXTENSION_REQUESTED: gettext_lazy("有关单位正在办理您的信访事项，并已申请延长办理期限。"),
    S.LETTER_DRAFTED: gettext_lazy("调查已完成，处理意见正在审核。"),
    S.LETTER_APPROVED: gettext_lazy("处理意见已审定，即将出具处理意见书。"),
    S.LETTER_ISSUED: gettext_lazy("处理意见书已出具，正在送达给您。"),
    S.DELIVERED: gettext_lazy("处理意见书已送达。"),
    S.CLOSED: gettext_lazy("您的信访事项已办结。"),
    S.ARCHIVED: gettext_lazy("您的信访事项已办结归档。"),
    S.MERGED: gettext_lazy("您的这次信访已与同一事项的另一次信访合并办理。"),
}


def _visitor_counters(request: HttpRequest) -> list[tuple[str, str, int]]:
    """(scope, key, limit in points) of the one asking: their address and their session."""
    counters = [("progress_ip", client_ip(request) or "unknown", ADDRESS_LIMIT * WRONG_CODE_COST)]
    if request.session.session_key:
        counters.append(("progress_sess", request.session.session_key,
                         FAIL_LIMIT * WRONG_CODE_COST))
    return counters


def _blocked(request: HttpRequest, *, number: str = "") -> bool:
    now = timezone.now()
    counters = [(scope, key) for scope, key, _limit in _visitor_counters(request)]
    if number:
        counters.append(("progress_case", number))
    return any(throttle_blocked_until(scope=s, key=k, now=now) for s, k in counters)


def _failed(request: HttpRequest, *, number: str) -> None:
    if not request.session.session_key:
        request.session.save()
    now = timezone.now()
    # Only whether the number exists, never the case itself: it decides what the miss costs.
    exists = Case.objects.filter(number=number).exists()
    cost = WRONG_CODE_COST if exists else TYPO_COST
    for scope, key, limit in _visitor_counters(request):
        throttle_hit(scope=scope, key=key, limit=limit, window=WINDOW, block=BLOCK, now=now,
                     weight=cost)
    if exists:
        throttle_hit(scope="progress_case", key=number, limit=CASE_LIMIT, window=WINDOW,
                     block=BLOCK, now=now)


def _remember(request: HttpRequest, number: str, code: str) -> None:
    request.session[SESSION_KEY] = {"number": number, "code": code,
                                    "seen": timezone.now().timestamp()}


def _remembered(request: HttpRequest) -> Case | None:
    """The case this visitor asked for, unless ``IDLE`` has passed since their last page."""
    kept = request.session.get(SESSION_KEY) or {}
    if not kept:
        return None
    seen = kept.get("seen")
    now = timezone.now().timestamp()
    if not isinstance(seen, int | float) or now - seen > IDLE.total_seconds():
        request.session.pop(SESSION_KEY, None)
        return None
    case = case_for_query_code(kept.get("number", ""), kept.get("code", ""))
    if case is not None:
        _remember(request, kept["number"], kept["code"])
    return case


def progress_steps(case: Case) -> list[tuple[str, object]]:
    """The main steps with their dates: no names of people, no units, no personal data."""
    first = case.assignments.order_by("assigned_at").first()
    letter = (
        case.documents.filter(kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED)
        .order_by("-issued_at")
        .first()
    )
    delivery = (
        case.deliveries.filter(document__kind=c.DocumentKind.DECISION_LETTER)
        .order_by("-delivered_at")
        .first()
    )
    steps = [
        (_("信访日期"), case.received_at),
        (_("登记日期"), case.registered_at),
        (_("交有关单位办理"), first.assigned_at if first else None),
        (_("开始办理"), case.accepted_at),
        (_("出具处理意见书"), letter.issued_at if letter else None),
        (_("送达处理意见书"), delivery.delivered_at if delivery else None),
        (_("满意度评价"), case.rating_at),
        (_("办结"), case.closed_at),
        (_("归档"), case.archived_at),
    ]
    return [(label, at) for label, at in steps if at]


REVIEW_WINDOWS = {"review_request_window": "review", "rereview_request_window": "rereview"}


def review_right(case: Case) -> dict | None:
    """The petitioner's right to ask for a review (复查) or re-review (复核) of the decision, and
    until when, from the window clock the delivery started — told on the page while it runs."""
    window = (
        case.clocks.filter(name__in=REVIEW_WINDOWS, status="running").order_by("due_at").first()
    )
    if window is None:
        return None
    stage = getattr(profile_of(case.profile).review_windows, REVIEW_WINDOWS[window.name])
    return {
        "what": _("复查") if window.name == "review_request_window" else _("复核"),
        "days": window.amount,
        "until": window.due_at,
        "to": stage.to or _("原办理机关的上一级机关"),
    }


def _may_rate(case: Case) -> bool:
    return not case.rating and refusal("record_rating", case=case, by=None) is None


def _render(request, form, case, rating_form=None, status=200, error=""):
    context = {"form": form, "case": case, "error": error}
    if case is not None:
        context.update(
            {
                "words": PLAIN_WORDS.get(case.state, ""),
                "state_label": case.get_state_display(),
                "steps": progress_steps(case),
                "may_rate": _may_rate(case),
                "review_right": review_right(case),
                "rating_form": rating_form or PublicRatingForm(),
                "rating_label": case.get_rating_display() if case.rating else "",
            }
        )
    return page(request, "web/public.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def progress(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if request.GET.get("new"):
            request.session.pop(SESSION_KEY, None)
            return _render(request, ProgressQueryForm(), None)
        return _render(request, ProgressQueryForm(), _remembered(request))
    form = ProgressQueryForm(request.POST)
    too_many = _("查询失败次数过多，请15分钟后再试。")
    if _blocked(request):
        return _render(request, form, None, status=429, error=too_many)
    if not form.is_valid():
        return _render(request, form, None, status=400)
    number, code = form.cleaned_data["number"].strip(), form.cleaned_data["code"]
    # Every spelling of one case's number counts against that case, not against the spelling.
    spelt = cases_numbered(number, scope=Case.objects.exclude(query_code=""))
    number = spelt[0].number if len(spelt) == 1 else number
    if _blocked(request, number=number):
        return _render(request, form, None, status=429, error=too_many)
    case = case_for_query_code(number, code)
    if case is None:
        _failed(request, number=number)
        return _render(
            request, form, None, status=404, error=_("信访件编号或查询码不正确，请核对受理告知书。")
        )
    _remember(request, case.number, code.strip().upper())
    return _render(request, ProgressQueryForm(), case)


@never_cache
@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    case = _remembered(request)
    if case is None:
        return redirect("web:public")
    form = PublicRatingForm(request.POST)
    if not _may_rate(case):
        return _render(
            request,
            ProgressQueryForm(),
            case,
            status=409,
            error=_("本件现在不能评价，或已经评价过。"),
        )
    if form.is_valid():
        try:
            perform(
                "record_rating",
                case=case,
                by=None,
                rating=form.cleaned_data["rating"],
                reason=form.cleaned_data["reason"],
            )
        except Refused as e:
            form.add_error(None, e.message)
        else:
            return redirect("web:public")
    return _render(request, ProgressQueryForm(), case, rating_form=form, status=400)
