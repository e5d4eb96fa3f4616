"""The register ledgers over the API: ``GET /api/ledgers/{l1,l2,l3}.xlsx`` — the screening ledger
(L1), the backlog ledger (L2) and the staff roster (L3) of the acting membership, narrowed by the
register page's filters, masked unless ``unmasked=true`` with a ``reason``; streamed and audited
like L0 (``views.LedgerL0``)."""

from __future__ import annotations

from django.http import FileResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from xinfang.cases.errors import Refused
from xinfang.ledgers.exports import LEDGER_TITLES, XLSX_CONTENT_TYPE, ledger_file
from xinfang.ledgers.sources import filters_of, ledger_rows
from xinfang.replica import replica_reads
from xinfang.security.auth import client_ip

from .membership import acting_membership
from .views import (
    COMMON_ERRORS,
    EXPORT_PARAMS,
    MEMBERSHIP_PARAM,
    TRUE,
    CaseView,
    Errors,
    JSONErrorsOnly,
    errors,
)

REGISTER_PARAMS = [
    OpenApiParameter("month", str, description="L1: 排查月份 YYYY-MM"),
    OpenApiParameter("township", int, many=True, description="L1/L2: 乡镇 unit id"),
    OpenApiParameter("category", str, many=True, description="L1/L2: 问题类别"),
    OpenApiParameter("from", str, description="L1 排查时间 / L2 初访时间, from YYYY-MM-DD"),
    OpenApiParameter("to", str, description="L1 排查时间 / L2 初访时间, to YYYY-MM-DD"),
    OpenApiParameter("resolved", bool, description="L2: true resolved lines, false open ones"),
]


class RegisterLedger(CaseView):
    content_negotiation_class = JSONErrorsOnly
    code = ""

    @method_decorator(replica_reads)
    def get(self, request):
        membership = acting_membership(request)
        params = request.query_params
        try:
            out = ledger_file(self.code, ledger_rows(self.code, membership, params),
                              by=membership, ip=client_ip(request),
                              filters=filters_of(self.code, params),
                              unmasked=params.get("unmasked", "").lower() in TRUE,
                              reason=params.get("reason", ""))
        except Refused as e:
            return errors({e.field or "unmasked": e.message})
        today = timezone.localdate().isoformat()
        response = FileResponse(out, as_attachment=True,
                                filename=f"{LEDGER_TITLES[self.code]}-{today}.xlsx",
                                content_type=XLSX_CONTENT_TYPE)
        response["Cache-Control"] = "no-store"
        return response


def _ledger_view(ledger: str):
    class View(RegisterLedger):
        code = ledger

        @extend_schema(
            operation_id=f"ledgers_{ledger}",
            parameters=[MEMBERSHIP_PARAM, *REGISTER_PARAMS, *EXPORT_PARAMS],
            responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, 400: Errors,
                       **COMMON_ERRORS})
        def get(self, request):
            return super().get(request)

    View.__name__ = View.__qualname__ = f"Ledger{ledger.upper()}"
    return View


LedgerL1 = _ledger_view("l1")
LedgerL2 = _ledger_view("l2")
LedgerL3 = _ledger_view("l3")
