"""The scores page (考核评分): the period picker (quarters and years), the units ranked with each
point's cases — every count a link to the cases behind it — the goal metrics against the same
period last year month by month, and the bulletin downloads. Leaders, inspectors and the office's
clerk; the counts cover what the membership may see (the permission door)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from xinfang.api.membership import parse_id
from xinfang.cases.errors import Refused
from xinfang.replica import replica_reads
from xinfang.reports.outputs import profile_for
from xinfang.reports.periods import current
from xinfang.security.auth import client_ip
from xinfang.web.context import OFFICE_ROLES, membership_required, page

from .goals import AIM_LABELS, MEASURE_LABELS
from .points import NO_UNIT, evidence
from .services import scores_bulletin_build, scores_period, scores_read
from .sources import reviews_available

REFUSED = "考核评分由信访机构工作人员、分管领导、主要领导和督查人员查看。"
FIELD = {"period": "期间", "format": "格式", "unit": "单位", "point": "考核项目"}


def _allowed(request) -> bool:
    return request.membership.role in OFFICE_ROLES


def _choices() -> list:
    out, q = [], current("quarter")
    for _ in range(8):
        out.append(q)
        q = q.previous()
    y = current("year")
    for _ in range(3):
        out.append(y)
        y = y.previous()
    return out


@require_GET
@membership_required
@replica_reads
def index(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return page(request, "web/refused.html", {"message": REFUSED}, status=403)
    error = ""
    try:
        period = scores_period(request.GET.get("period") or current("quarter").code)
    except Refused as e:
        error, period = e.message, current("quarter")
    now = timezone.now()
    scores, goals = scores_read(by=request.membership, period=period, now=now)
    return page(request, "scoring/index.html", {
        "period": period, "choices": _choices(), "error": error, "scores": scores,
        "goals": goals, "measure_labels": MEASURE_LABELS, "aim_labels": AIM_LABELS,
        "reviews": reviews_available(), "no_unit": NO_UNIT,
        "period_ok": scores.scoring is None or period.kind in scores.scoring.periods,
    })


@require_GET
@membership_required
@replica_reads
def cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one point of one unit: the evidence of a count on the page."""
    if not _allowed(request):
        return HttpResponse(status=403)
    m, params = request.membership, request.GET
    try:
        period = scores_period(params.get("period", ""))
    except Refused as e:
        messages.error(request, f"期间：{e.message}")
        return redirect("scoring:index")
    raw_unit = params.get("unit", "")
    unit_id = parse_id(raw_unit)  # ASCII digits in range: "²" passes isdigit() and fails int()
    if unit_id is None and raw_unit not in ("", "none"):
        messages.error(request, "单位：应为单位编号。")
        return redirect("scoring:index")
    profile = profile_for(m)
    try:
        qs = evidence(by=m, profile=profile, period=period, unit_id=unit_id,
                      point=params.get("point", ""), as_of=timezone.now())
    except KeyError:
        messages.error(request, f"考核项目：没有“{params.get('point', '')}”这一项。")
        return redirect("scoring:index")
    rule = next(p for p in profile.scoring.points if p.name == params.get("point"))
    paged = Paginator(qs.select_related("township"), 50).get_page(params.get("page"))
    from xinfang.org.models import Unit

    unit = Unit.objects.filter(pk=unit_id).values_list("name", flat=True).first() if unit_id \
        else NO_UNIT
    extra = urlencode({"period": period.code, "unit": raw_unit or "none", "point": rule.name})
    return page(request, "scoring/cases.html", {
        "period": period, "rule": rule, "unit": unit, "page_obj": paged, "extra": extra,
    })


@require_GET
@membership_required
@replica_reads
def bulletin(request: HttpRequest, fmt: str) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(status=403)
    try:
        period = scores_period(request.GET.get("period", ""))
        built = scores_bulletin_build(by=request.membership, period=period, fmt=fmt,
                                      now=timezone.now(), ip=client_ip(request), via="web")
    except Refused as e:
        field = FIELD.get(e.field or "", "")
        messages.error(request, f"{field}：{e.message}" if field else e.message)
        return redirect(f"{redirect('scoring:index').url}?period={request.GET.get('period', '')}")
    response = FileResponse(built.file, as_attachment=True, filename=built.filename,
                            content_type=built.content_type)
    response["Cache-Control"] = "no-store"
    return response
