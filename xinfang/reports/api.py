"""The reports over the API: ``GET /api/reports/{monthly,weekly,quarterly,scorecard}?period=…``
and the L4 table ``GET /api/reports/l4.xlsx`` (the ledger's filters, ``week=2026-W48`` for the
provincial cases completed that week, ``unmasked`` with ``reason``). The same services as the page
and the command line: the permission door, masking, the audit entry."""

from __future__ import annotations

from django.http import FileResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from xinfang.api.filters import applied_filters
from xinfang.api.membership import acting_membership
from xinfang.api.views import (
    COMMON_ERRORS,
    FILTER_PARAMS,
    MEMBERSHIP_PARAM,
    TRUE,
    CaseView,
    Errors,
    JSONErrorsOnly,
    errors,
)
from xinfang.cases.errors import Refused
from xinfang.ledgers.exports import XLSX_CONTENT_TYPE
from xinfang.replica import replica_reads
from xinfang.security.auth import client_ip

from .l4 import l4_file, l4_selection
from .services import report_build, report_period

PERIOD = OpenApiParameter("period", str, required=True,
                          description="2026-11 (month), 2026-W48 (week), 2026-Q4, 2026 (year)")


def _file(out, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(out, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


class Report(CaseView):
    content_negotiation_class = JSONErrorsOnly

    @method_decorator(replica_reads)
    @extend_schema(operation_id="reports_get", parameters=[MEMBERSHIP_PARAM, PERIOD],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              400: Errors, **COMMON_ERRORS})
    def get(self, request, kind: str):
        membership = acting_membership(request)
        try:
            period = report_period(kind, request.query_params.get("period", ""))
            built = report_build(kind=kind, period=period, by=membership, ip=client_ip(request),
                                 via="api")
        except Refused as e:
            return errors({e.field or "period": e.message})
        return _file(built.file, built.filename, built.content_type)


class LedgerL4(CaseView):
    content_negotiation_class = JSONErrorsOnly

    @method_decorator(replica_reads)
    @extend_schema(operation_id="ledgers_l4", parameters=[
        MEMBERSHIP_PARAM, *FILTER_PARAMS,
        OpenApiParameter("week", str,
                         description="2026-W48: the provincial cases completed that week"),
        OpenApiParameter("unmasked", bool), OpenApiParameter("reason", str)],
        responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, 400: Errors, **COMMON_ERRORS})
    def get(self, request):
        membership = acting_membership(request)
        params = request.query_params
        return l4_response(membership, params, ip=client_ip(request), via="api",
                           unmasked=params.get("unmasked", "").lower() in TRUE,
                           reason=params.get("reason", ""))


def l4_response(membership, params, *, ip: str, via: str, unmasked: bool = False,
                reason: str = ""):
    """L4 of the cases the page's filters select (or of the week's completed provincial cases)
    as a streamed download; a bad week, a missing reason, or more rows than a person can wait
    for (``l4_file``) is a 400 naming the field."""
    try:
        qs, label = l4_selection(membership, params)
        out = l4_file(qs, by=membership, ip=ip, via=via, filters=applied_filters(params),
                      unmasked=unmasked, reason=reason, period_label=label)
    except Refused as e:
        return errors({e.field or "unmasked": e.message})
    today = timezone.localdate().isoformat()
    return _file(out, f"省级交办信访事项办理情况统计表-{params.get('week') or today}.xlsx",
                 XLSX_CONTENT_TYPE)
