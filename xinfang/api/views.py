"""The case API. Views only parse and answer: every read goes through ``cases_for`` / ``case_for``,
every write through ``case_register`` / ``perform``.

Status codes (also in the OpenAPI schema):

- 200 / 201 — done; a transition answers with the case as it now is (with the request header
  ``Prefer: return=minimal`` only ``{id, number, state, version}``: no second read of the case);
- 400 ``{"errors": {field: message}}`` — input that cannot be used as given;
- 403 ``{"detail": …}`` — not signed in; no usable membership; one of the three administrators;
  or this membership may not take this transition on this case (role, unit, respondent, recusal);
- 404 — no such case *for this membership* (outside its scope looks exactly like non-existent),
  or no such transition;
- 409 ``{"detail", "version"}`` — the case changed since the client read ``expected_version``;
- 422 ``{"detail", "field"}`` — allowed in principle, refused by the rules now (state, missing
  signature or document, profile constraint, respondent unit as handler …), reason in Chinese.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import Exists, QuerySet, Value, When
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from xinfang.cases.errors import Refused, StaleCase
from xinfang.cases.memo import reading
from xinfang.cases.models import Case
from xinfang.cases.paging import CappedPaginator
from xinfang.cases.selectors import cases_for, read_for
from xinfang.cases.services import Invalid, actor_refusal, available, case_register, perform
from xinfang.cases.services.reading import case_read_audit
from xinfang.cases.services.transitions import lock_case
from xinfang.cases.workflow import TRANSITIONS
from xinfang.ledgers.exports import XLSX_CONTENT_TYPE, ledger_l0_file
from xinfang.ledgers.filters import filter_ledger
from xinfang.replica import replica_reads
from xinfang.security.auth import client_ip
from xinfang.security.models import Recusal

from . import serializers as s
from .filters import applied_filters, filter_cases, overdue_q
from .membership import HEADER, CaseAccess, acting_membership
from .params import effect_kwargs, params_serializer
from .renderers import SafeJSONRenderer


class CasePagination(PageNumberPagination):
    """``count`` is exact up to 10,000; beyond it the count stops there and ``count_capped`` is
    true (a million cases are not counted on every page)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        paginator = self.page.paginator
        response.data["count"] = min(paginator.count, paginator.cap)
        response.data["count_capped"] = paginator.capped
        return response


class Detail(serializers.Serializer):
    detail = serializers.CharField()


class Refusal(Detail):
    field = serializers.CharField(allow_null=True)


class Stale(Detail):
    version = serializers.IntegerField()


class CasePage(serializers.Serializer):
    count = serializers.IntegerField()
    count_capped = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = s.CaseSummary(many=True)


class Errors(serializers.Serializer):
    errors = serializers.DictField(child=serializers.CharField())


MEMBERSHIP_PARAM = OpenApiParameter(
    HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
    description="The membership (role in a unit) to act as; default: the user's first active one.",
)
PREFER_PARAM = OpenApiParameter(
    "Prefer", str, OpenApiParameter.HEADER, required=False, enum=["return=minimal"],
    description="return=minimal (RFC 7240): answer with {id, number, state, version} only.",
)
FILTER_PARAMS = [
    OpenApiParameter("state", str, many=True, description="案件状态 (code name)"),
    OpenApiParameter("kind", str, many=True),
    OpenApiParameter("channel", str, many=True),
    OpenApiParameter("township", int, many=True, description="问题属地乡镇 id"),
    OpenApiParameter("overdue", bool, description="a running deadline clock is past due"),
    OpenApiParameter("search", str, description="编号、信访事项、诉求中的文字"),
]
COMMON_ERRORS = {403: OpenApiResponse(Detail), 404: OpenApiResponse(Detail)}


def errors(detail: dict[str, str]) -> Response:
    return Response({"errors": detail}, status=status.HTTP_400_BAD_REQUEST)


def refused(e: Refused, code: int) -> Response:
    return Response({"detail": e.message, "field": e.field}, status=code)


def visible_cases(request) -> QuerySet[Case]:
    return cases_for(acting_membership(request)).annotate(
        overdue=SqlCase(When(overdue_q(timezone.now()), then=Value(True)), default=Value(False)))


def visible_case(request, pk: int, *, detail: bool = True) -> Case:
    """One case through the door, with what the detail shows (or bare, to check actions on it),
    knowing whether the user declared any recusal and that the membership is not on its
    respondent side (the door leaves those out)."""
    m = acting_membership(request)
    qs = cases_for(m, one=True).annotate(
        xf_recused=Exists(Recusal.objects.filter(user_id=m.user_id, is_active=True)))
    if detail:
        qs = s.with_detail(qs.annotate(overdue=SqlCase(
            When(overdue_q(timezone.now()), then=Value(True)), default=Value(False))))
    else:
        qs = qs.select_related("jurisdiction")
    try:
        return read_for(qs.get(pk=pk), m)
    except Case.DoesNotExist:
        raise Http404("未找到该信访件。") from None


def detail_response(request, case: Case, code: int = status.HTTP_200_OK) -> Response:
    context = {"membership": acting_membership(request), "now": timezone.now()}
    return Response(s.CaseDetail(case, context=context).data, status=code)


def wants_minimal(request) -> bool:
    """``Prefer: return=minimal`` (RFC 7240): the client does not need the case read back."""
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().lower() == "return=minimal" for p in prefer.split(","))


def minimal_response(case: Case, code: int = status.HTTP_200_OK) -> Response:
    """After a write, only what the writer needs to go on (the next ``expected_version``): the
    full detail costs a second read of the case through the door and every relation of it."""
    body = {"id": case.pk, "number": case.number, "state": case.state, "version": case.version}
    return Response(body, status=code, headers={"Preference-Applied": "return=minimal"})


class ActorRefused(Refused):
    """This membership may never take this transition on this case (403, not 422)."""


class CaseView(APIView):
    permission_classes = [IsAuthenticated, CaseAccess]
    renderer_classes = [SafeJSONRenderer]


class CaseList(CaseView):
    @extend_schema(operation_id="cases_list", parameters=[MEMBERSHIP_PARAM, *FILTER_PARAMS],
                   responses={200: CasePage, **COMMON_ERRORS})
    def get(self, request):
        qs = filter_cases(visible_cases(request), request.query_params)
        qs = qs.select_related("township").prefetch_related("petitioner_links__petitioner")
        paginator = CasePagination()
        page = paginator.paginate_queryset(qs.order_by("-registered_at", "-pk"), request, self)
        return paginator.get_paginated_response(s.CaseSummary(page, many=True).data)

    @extend_schema(operation_id="cases_register", parameters=[MEMBERSHIP_PARAM, PREFER_PARAM],
                   request=s.RegistrationIn,
                   responses={201: PolymorphicProxySerializer(
                       component_name="Registered", resource_type_field_name=None,
                       serializers=[s.CaseDetail, s.RoutedOut]),
                       400: Errors, 403: Detail, 422: Refusal})
    def post(self, request):
        membership = acting_membership(request)
        data = s.RegistrationIn(data=request.data)
        if not data.is_valid():
            return errors(s.flat_errors(data.errors))
        try:
            case = case_register(by=membership, data=data.registration())
        except Invalid as e:
            return errors(e.errors)
        except Refused as e:  # only a petition office's clerk registers
            code = status.HTTP_422_UNPROCESSABLE_ENTITY if e.field else status.HTTP_403_FORBIDDEN
            return refused(e, code)
        if case.routed is not None:
            # A petition against this office went elsewhere: the clerk may no longer read it, so
            # the answer says what was done instead of the case (and a retry is not needed).
            return Response(s.RoutedOut.of(case), status=status.HTTP_201_CREATED)
        if wants_minimal(request):
            return minimal_response(case, status.HTTP_201_CREATED)
        return detail_response(request, visible_case(request, case.pk), status.HTTP_201_CREATED)


class CaseDetail(CaseView):
    @extend_schema(operation_id="cases_retrieve", parameters=[MEMBERSHIP_PARAM],
                   responses={200: s.CaseDetail, **COMMON_ERRORS})
    def get(self, request, pk: int):
        case = visible_case(request, pk)
        case_read_audit(case=case, by=acting_membership(request), channel="api",
                        ip=client_ip(request))
        return detail_response(request, case)


class CaseActions(CaseView):
    @extend_schema(operation_id="cases_actions", parameters=[MEMBERSHIP_PARAM],
                   responses={200: s.ActionOut(many=True), **COMMON_ERRORS})
    def get(self, request, pk: int):
        case = visible_case(request, pk, detail=False)
        with reading():  # each check available() repeats per transition, asked once
            names = available(case=case, by=acting_membership(request))
        return Response(s.ActionOut([
            {"name": n, "label": TRANSITIONS[n].label, "step": TRANSITIONS[n].step}
            for n in names
        ], many=True).data)


class CaseTransition(CaseView):
    @extend_schema(
        operation_id="cases_transition",
        parameters=[MEMBERSHIP_PARAM, PREFER_PARAM, OpenApiParameter(
            "name", str, OpenApiParameter.PATH, enum=sorted(TRANSITIONS))],
        request=PolymorphicProxySerializer(
            component_name="TransitionBody", resource_type_field_name=None,
            serializers=[params_serializer(n) for n in sorted(TRANSITIONS)]),
        responses={200: s.CaseDetail, 400: Errors, 409: Stale, 422: Refusal, **COMMON_ERRORS},
    )
    def post(self, request, pk: int, name: str):
        membership = acting_membership(request)
        try:
            # One read of the case through the door, locked, with the respondent side and the
            # user's recusals in it; perform acts on it in the same transaction.
            with transaction.atomic():
                try:
                    case = lock_case(pk, by=membership, scope=cases_for(membership, one=True))
                except Case.DoesNotExist:
                    raise Http404("未找到该信访件。") from None
                if name not in TRANSITIONS:
                    raise Http404(f"没有名为“{name}”的办理操作。")
                # Who may act comes before what they sent: no probing of inputs without the right.
                reason = actor_refusal(name, case=case, by=membership)
                if reason:
                    raise ActorRefused(reason)
                body = params_serializer(name)(data=request.data,
                                               context={"membership": membership, "case": case})
                if not body.is_valid():
                    raise Invalid(s.flat_errors(body.errors))
                done = perform(name, case=case, by=membership,
                               expected_version=body.validated_data["expected_version"],
                               **effect_kwargs(name, body.validated_data, membership=membership))
        except StaleCase as e:
            current = Case.objects.filter(pk=pk).values_list("version", flat=True).first()
            return Response({"detail": e.message, "version": current},
                            status=status.HTTP_409_CONFLICT)
        except Invalid as e:
            return errors(e.errors)
        except ActorRefused as e:
            return refused(e, status.HTTP_403_FORBIDDEN)
        except Refused as e:
            return refused(e, status.HTTP_422_UNPROCESSABLE_ENTITY)
        if wants_minimal(request):
            return minimal_response(done)
        try:
            return detail_response(request, visible_case(request, pk))
        except Http404:  # the transition took the case out of this membership's sight
            return Response({"id": pk}, status=status.HTTP_200_OK)


class JSONErrorsOnly(BaseContentNegotiation):
    """The export answers with a workbook or a JSON error, whatever the client's Accept says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


EXPORT_PARAMS = [
    OpenApiParameter("unmasked", bool, description=(
        "true: names, addresses and phones in clear where this membership may reveal them; "
        "needs a reason, and is audited with it. Default: masked.")),
    OpenApiParameter("reason", str, description="why an unmasked export is needed (≤200字)"),
]
TRUE = ("true", "1", "yes", "on")


class LedgerL0(CaseView):
    content_negotiation_class = JSONErrorsOnly

    @method_decorator(replica_reads)  # an export reads the replica when there is one
    @extend_schema(operation_id="ledgers_l0",
                   parameters=[MEMBERSHIP_PARAM, *FILTER_PARAMS, *EXPORT_PARAMS],
                   responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, 400: Errors,
                              **COMMON_ERRORS})
    def get(self, request):
        membership = acting_membership(request)
        params = request.query_params
        qs = filter_ledger(cases_for(membership), params, by=membership)
        try:
            out = ledger_l0_file(qs, by=membership, ip=client_ip(request),
                                 filters=applied_filters(params),
                                 unmasked=params.get("unmasked", "").lower() in TRUE,
                                 reason=params.get("reason", ""))
        except Refused as e:
            return errors({e.field or "unmasked": e.message})
        today = timezone.localdate().isoformat()
        # Streamed from a temporary file, which closing the response deletes.
        response = FileResponse(out, as_attachment=True, filename=f"信访事项台账-{today}.xlsx",
                                content_type=XLSX_CONTENT_TYPE)
        response["Cache-Control"] = "no-store"
        return response
