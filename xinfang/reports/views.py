"""The reports page (统计报表): period pickers for the four periodic reports, the weekly provincial
batch's clock (due Friday 10:00: how early or late this week's batch is), and the downloads. Every
download goes through ``report_build`` (the permission door, masking, the audit entry)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.cases.errors import Refused
from xinfang.replica import replica_reads
from xinfang.security.auth import client_ip
from xinfang.web.context import membership_required, page

from .api import l4_response
from .outputs import LABELS
from .selectors import weekly_status
from .services import report_build, report_period


def _recent(kind: str, n: int) -> list:
    from .periods import current

    period, out = current(kind), []
    for _ in range(n):
        out.append(period)
        period = period.previous()
    return out


@require_GET
@membership_required
def index(request: HttpRequest) -> HttpResponse:
    m = request.membership
    now = timezone.now()
    return page(request, "reports/index.html", {
        "weekly": weekly_status(m, now),
        "labels": LABELS,
        "quarters": _recent("quarter", 8),
        "years": _recent("year", 3),
        "this_month": _recent("month", 2)[1].code,  # the month just ended
        "this_week": _recent("week", 1)[0].code,
    })


@require_GET
@membership_required
@replica_reads
def download(request: HttpRequest, kind: str) -> HttpResponse:
    m = request.membership
    try:
        period = report_period(kind, request.GET.get("period", ""))
        built = report_build(kind=kind, period=period, by=m, ip=client_ip(request), via="web")
    except Refused as e:
        field = {"period": "期间", "report": "报表"}.get(e.field or "", "")
        messages.error(request, f"{field}：{e.message}" if field else e.message)
        return redirect("reports:index")
    response = FileResponse(built.file, as_attachment=True, filename=built.filename,
                            content_type=built.content_type)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@membership_required
@replica_reads
def l4(request: HttpRequest) -> HttpResponse:
    """L4 (masked) of the week picked (the reports page), or of the ledger page's filters; a
    refusal goes back to the page it came from, saying which field."""
    response = l4_response(request.membership, request.GET, ip=client_ip(request), via="web")
    if isinstance(response, FileResponse):
        return response
    for field, text in response.data["errors"].items():
        name = {"week": "周次", "filters": "筛选条件"}.get(field)
        messages.error(request, f"{name}：{text}" if name else text)
    if "week" in request.GET:
        return redirect("reports:index")
    return redirect(reverse("web:ledger") + (f"?{request.GET.urlencode()}" if request.GET else ""))
