"""The L0 export with identities in clear (不脱敏导出): a form on the ledger page posts the
page's filters and a reason here. The masked export is the API's plain link; this one needs the
reason, which the audit entry keeps, and reveals only what the disclosure rule lets this
membership reveal."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.api.filters import applied_filters
from xinfang.cases.errors import Refused
from xinfang.cases.selectors import cases_for
from xinfang.ledgers.exports import XLSX_CONTENT_TYPE, ledger_l0_file
from xinfang.ledgers.filters import filter_ledger
from xinfang.security.auth import client_ip

from ..context import membership_required


@require_POST
@membership_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    m = request.membership
    params = QueryDict(request.POST.get("filters", "")[:4000])
    try:
        out = ledger_l0_file(
            filter_ledger(cases_for(m), params), by=m, ip=client_ip(request),
            filters=applied_filters(params), via="web", unmasked=True,
            reason=request.POST.get("reason", ""),
        )
    except Refused as e:
        messages.error(request, e.message)
        back = reverse("web:ledger")
        return redirect(f"{back}?{params.urlencode()}" if params else back)
    today = timezone.localdate().isoformat()
    response = FileResponse(out, as_attachment=True, filename=f"信访事项台账-{today}.xlsx",
                            content_type=XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@membership_required
def register_export(request: HttpRequest, code: str) -> HttpResponse:
    """The register ledgers' (L1, L2) export with identities in clear, as ``ledger_export``."""
    from xinfang.ledgers.exports import LEDGER_TITLES, ledger_file
    from xinfang.ledgers.sources import filters_of, ledger_rows

    pages = {"l1": "web:screening", "l2": "web:backlog", "l3": "web:roster"}
    if code not in pages:
        raise Http404
    m = request.membership
    params = QueryDict(request.POST.get("filters", "")[:4000])
    try:
        out = ledger_file(code, ledger_rows(code, m, params), by=m, ip=client_ip(request),
                          filters=filters_of(code, params), via="web", unmasked=True,
                          reason=request.POST.get("reason", ""))
    except Refused as e:
        messages.error(request, e.message)
        back = reverse(pages[code])
        return redirect(f"{back}?{params.urlencode()}" if params else back)
    today = timezone.localdate().isoformat()
    response = FileResponse(out, as_attachment=True, filename=f"{LEDGER_TITLES[code]}-{today}.xlsx",
                            content_type=XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
