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

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache, partial

from django.db import router, transaction
from django.db.models import Case as SqlCase
from django.db.models import QuerySet, Value, When
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

from xinfang.audit.services import EVENT_TIME, audit_record
from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.errors import Refused, StaleCase
from xinfang.cases.memo import reading
from xinfang.cases.models import Case
from xinfang.cases.paging import (
    PLANNED_FILTERS,
    CappedPaginator,
    KeptList,
    KeptPaginator,
    SearchedPaginator,
    door_parts,
    keepable,
)
from xinfang.cases.related import keep_related, read_related
from xinfang.cases.selectors import (
    NOW_PROBE,
    Door,
    case_through,
    cases_counted,
    cases_for,
    door_for,
    main_names,
    read_case_through,
    read_for,
)
from xinfang.cases.services import Invalid, actor_refusal, available, case_register, perform
from xinfang.cases.services.reading import case_read_audit
from xinfang.cases.services.transitions import lock_case_through
from xinfang.cases.workflow import TRANSITIONS
from xinfang.integrations.auth import may_register_any
from xinfang.integrations.services import IntakeConflict, intake_register
from xinfang.ledgers.exports import XLSX_CONTENT_TYPE, ledger_l0_file
from xinfang.ledgers.filters import filter_ledger
from xinfang.replica import replica_reads
from xinfang.security.auth import client_ip

from . import errors as errs
from . import serializers as s
from .errors import Problem
from .filters import CHOICE_FILTERS, applied_filters, filter_cases, overdue_q, used_filters
from .membership import HEADER, CaseAccess, acting_membership
from .params import REPORTED_TIMES, effect_kwargs, params_serializer
from .renderers import SafeJSONRenderer


class CasePagination(PageNumberPagination):
    """``count`` is exact up to 10,000 (500 for a ``search``); beyond it the count stops there and
    ``count_capped`` is true (a million cases are not counted on every page)."""

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


Detail = Problem  # the names the other API modules import
Errors = Problem
Refusal = errs.Refusal
Stale = errs.Stale


class CasePage(serializers.Serializer):
    count = serializers.IntegerField()
    count_capped = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = s.CaseSummary(many=True)


MEMBERSHIP_PARAM = OpenApiParameter(
    HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
    description="The membership (role in a unit) to act as; default: the user's first active one.",
)
PREFER_PARAM = OpenApiParameter(
    "Prefer", str, OpenApiParameter.HEADER, required=False, enum=["return=minimal"],
    description="return=minimal (RFC 7240): answer with {id, number, state, version} only.",
)
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"  # the answer to a request sent again, not done again
IDEMPOTENCY_PARAM = OpenApiParameter(
    IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
    description=("发送方的唯一编号：同一编号再次发送不会重复登记，而是以原信访件作答（响应头 "
                 "Idempotent-Replayed: true）。未提供时，转交件（channel=referral）以其交办文号"
                 "（source_office + source_reference）为准。"),
)
FILTER_PARAMS = [
    OpenApiParameter("state", str, many=True, description="案件状态 (code name)"),
    OpenApiParameter("kind", str, many=True),
    OpenApiParameter("channel", str, many=True),
    OpenApiParameter("township", int, many=True, description="问题属地乡镇 id"),
    OpenApiParameter("overdue", bool, description="a running deadline clock is past due"),
    OpenApiParameter("search", str, description="编号、信访事项、诉求中的文字"),
]
# What any endpoint may answer besides its own (xinfang/api/errors.py: one shape for all).
COMMON_ERRORS = {
    401: OpenApiResponse(Problem, description="令牌无效、过期或已撤销（Authorization）"),
    403: OpenApiResponse(Problem), 404: OpenApiResponse(Problem),
    405: OpenApiResponse(Problem), 406: OpenApiResponse(Problem),
    415: OpenApiResponse(Problem), 429: OpenApiResponse(errs.Throttled),
}


def errors(detail: dict[str, str]) -> Response:
    return errs.invalid(detail)


def refused(e: Refused, code: int) -> Response:
    errors = {e.field: e.message} if e.field else {}
    kind = "permission_denied" if code == status.HTTP_403_FORBIDDEN else "refused"
    return errs.problem(code, kind, e.message, errors, field=e.field)


def visible_at(m, now: datetime) -> QuerySet[Case]:
    """``m``'s cases through the door, each knowing whether it is overdue at ``now``."""
    return cases_for(m).annotate(
        overdue=SqlCase(When(overdue_q(now), then=Value(True)), default=Value(False)))


# The list's filters whose statement is a function of their values alone, or of the time
# (``overdue``: the instant is bound for each request, ``NOW_PROBE``); not a search's term,
# whose plan is made for each term.
KEPT_FILTERS = frozenset({*CHOICE_FILTERS, "township", "overdue"})


def kept_case_list(m, params: Mapping) -> KeptList | None:
    """``m``'s list under ``params`` as statements compiled once (``KeptList``), or None where
    it is built for each request: a door other than an office's, or a filter not kept. Built
    and compiled through the ORM on every request, the list and its count were an eighth of
    the API's first page at 1M cases (lead52). The key is what the statements are made of: the
    door's parts and what it read (``paging.door_parts``), the filters' values."""
    door = door_for(m)
    if door.kind != "office":
        return None
    active = {name: tuple(values) for name, values in used_filters(params).items()}
    if not keepable(active, KEPT_FILTERS):
        return None
    return _kept_list(router.db_for_read(Case), door_parts(door), tuple(sorted(active.items())))


@lru_cache(maxsize=256)
def _kept_list(alias: str, door: tuple, filters: tuple) -> KeptList:
    return KeptList(alias, planned=any(name in dict(filters) for name in PLANNED_FILTERS),
                    annotated=True)  # each row's ``overdue``


def visible_case(request, pk: int, *, detail: bool = True) -> Case:
    """One case through the door, with what the detail shows (or bare, to check actions on it),
    knowing whether the user declared any recusal and that the membership is not on its
    respondent side (the door leaves those out)."""
    m = acting_membership(request)
    try:
        if detail:
            # the case, its places and its relations in one statement, compiled once per door
            case = read_case_through(m, pk, s.DETAIL_RELATIONS, _as_the_detail_reads,
                                     now=timezone.now())
        else:
            case = case_through(m, pk, _as_actions_read)
    except Case.DoesNotExist:
        raise Http404("未找到该信访件。") from None
    return read_for(case, m)


def _its_id_alone(qs: QuerySet[Case], door: Door) -> QuerySet[Case]:
    return qs.only("pk")


def _as_actions_read(qs: QuerySet[Case], door: Door) -> QuerySet[Case]:
    return qs.annotate(xf_recused=probes.any_recusal(door.user_id)).select_related("jurisdiction")


def _as_the_detail_reads(qs: QuerySet[Case], door: Door) -> QuerySet[Case]:
    return _as_actions_read(qs, door).annotate(overdue=SqlCase(
        When(overdue_q(NOW_PROBE), then=Value(True)), default=Value(False)))


def registered_case(request, case: Case) -> Case:
    """The case this request registered, as the detail shows it, without reading back what the
    registration holds (``case.written``): the door is asked whether the clerk still sees it (a
    petition against this office may not be theirs to read); the clocks and the history, the
    rules' work, are read only when a warning added to them. One statement where a read through
    the door takes seven; the answer is the same as ``GET /api/cases/{id}/`` (tested)."""
    if getattr(case, "written", None) is None:  # not registered by this request
        return visible_case(request, case.pk)
    m = acting_membership(request)
    try:
        case_through(m, case.pk, _its_id_alone)
    except Case.DoesNotExist:
        raise Http404("未找到该信访件。") from None
    written = case.written
    if any(link.petitioner.get_deferred_fields() for link in written.links):
        # a person on file the matching read in part: read the links whole, once
        read_related(case, ["petitioner_links"])
    else:
        keep_related(case, "petitioner_links", written.links)
    keep_related(case, "demands", written.demands)
    keep_related(case, "respondents", written.respondents)
    keep_related(case, "assignments", [])  # an assigning registration is answered as routed
    if written.clocks is None or written.events is None:
        read_related(case, ["clocks", "events"])
    else:
        keep_related(case, "clocks", written.clocks)
        for event in written.events:  # the clerk's own entry: their user and unit in hand
            if event.actor_id == m.user_id and event.actor_unit_id == m.unit_id:
                event.actor, event.actor_unit = m.user, m.unit
        keep_related(case, "events", written.events)
    case.overdue = case.state in c.OPEN_STATES and case.next_due_at is not None and (
        case.next_due_at < timezone.now())  # overdue_q on the row in hand
    return read_for(case, m)


def detail_response(request, case: Case, code: int = status.HTTP_200_OK) -> Response:
    context = {"membership": acting_membership(request), "now": timezone.now()}
    return Response(s.write(s.CaseDetail, case, context), status=code)


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


# What ``CaseSummary`` writes: a page of fifty reads these, not the case's 55 columns and the
# township's fourteen (``web.queues.ROW_COLUMNS`` says why it matters).
SUMMARY_COLUMNS = ("number", "version", "state", "kind", "channel", "matter", "received_at",
                   "registered_at", "confidential", "township__name")


class CaseList(CaseView):
    @extend_schema(operation_id="cases_list", parameters=[MEMBERSHIP_PARAM, *FILTER_PARAMS],
                   responses={200: CasePage, **COMMON_ERRORS})
    def get(self, request):
        params = request.query_params
        m = acting_membership(request)
        now = timezone.now()

        def listed(at: datetime = now) -> QuerySet[Case]:
            qs = filter_cases(visible_at(m, at), params, now=at)
            return qs.select_related("township").only(*SUMMARY_COLUMNS).order_by(
                "-registered_at", "-pk")

        def counted(at: datetime = now) -> QuerySet[Case] | None:
            # A door's cases counted in the form fastest to count (``cases_counted``).
            qs = cases_counted(m)
            return filter_cases(qs, params, now=at) if qs is not None else None

        paginator = CasePagination()
        # Pages of the usual size only: a list keeps a statement for each page size asked, and
        # ``page_size`` is the client's (up to 200 sizes, each kept in every worker's memory).
        kept = kept_case_list(m, params) if paginator.get_page_size(request) == (
            paginator.page_size) else None
        if kept is not None:  # an office's list: its statements compiled once (``KeptList``)
            paginator.django_paginator_class = lambda _none, per_page: KeptPaginator(
                kept, listed, counted, per_page, now=now)
            page = paginator.paginate_queryset(Case.objects.none(), request, self)
        else:
            if params.get("search", "").strip():
                paginator.django_paginator_class = SearchedPaginator  # to its cap, planned
            elif any(params.get(name, "").strip() for name in PLANNED_FILTERS):
                paginator.django_paginator_class = partial(CappedPaginator, planned=True)
            if (count_of := counted()) is not None:
                paginator.django_paginator_class = partial(paginator.django_paginator_class,
                                                           counted=count_of)
            page = paginator.paginate_queryset(listed(), request, self)
        # The summary shows the main petitioners' masked names alone: their names only are
        # read and decrypted, as plain values (all four encrypted columns were 16 % of the
        # list's CPU; the links and people as models, a tenth more).
        names = main_names([case.pk for case in page])
        for case in page:
            case.main_names = names.get(case.pk, [])
        return paginator.get_paginated_response(s.write_many(s.CaseSummary, page))

    @extend_schema(operation_id="cases_register",
                   parameters=[MEMBERSHIP_PARAM, PREFER_PARAM, IDEMPOTENCY_PARAM],
                   request=s.RegistrationIn,
                   responses={201: PolymorphicProxySerializer(
                       component_name="Registered", resource_type_field_name=None,
                       serializers=[s.CaseDetail, s.RoutedOut, s.MinimalOut]),
                       400: Problem, 409: errs.IntakeConflictOut, 422: Refusal,
                       **COMMON_ERRORS})
    def post(self, request):
        membership = acting_membership(request)
        data = s.RegistrationIn(data=request.data)
        if not data.is_valid():
            return errors(s.flat_errors(data.errors))
        key = intake_key(request, data.validated_data)
        if isinstance(key, Response):
            return key
        if not may_register_any(request) and (
                data.validated_data["channel"] != c.Channel.REFERRAL or key is None):
            why = "此令牌只能接收转交件：channel 须为 referral，并带交办文号或 Idempotency-Key。"
            return errs.problem(status.HTTP_403_FORBIDDEN, "permission_denied", why,
                                {"channel": why})
        replayed, routed = False, None
        try:
            if key is None:
                case = case_register(by=membership, data=data.registration())
            else:
                intake = intake_register(by=membership, data=data.registration(), key=key[0],
                                         field=key[1], fingerprint=fingerprint(request.data),
                                         routed_body=s.RoutedOut.of)
                case, replayed, routed = intake.case, intake.replayed, intake.routed
        except IntakeConflict as e:
            return errs.problem(status.HTTP_409_CONFLICT, "idempotency_conflict", e.message,
                                {e.field: e.message},
                                case={"id": e.case.pk, "number": e.case.number})
        except Invalid as e:
            return errors(e.errors)
        except Refused as e:  # only a petition office's clerk registers
            code = status.HTTP_422_UNPROCESSABLE_ENTITY if e.field else status.HTTP_403_FORBIDDEN
            return refused(e, code)
        headers = {REPLAYED: "true"} if replayed else {}
        if routed is not None or (not replayed and case.routed is not None):
            # A petition against this office went elsewhere: the clerk may no longer read it, so
            # the answer says what was done instead of the case (and a retry is not needed).
            body = routed if routed is not None else s.RoutedOut.of(case)
            return Response(body, status=status.HTTP_201_CREATED, headers=headers)
        if wants_minimal(request):
            response = minimal_response(case, status.HTTP_201_CREATED)
        else:
            try:
                shown = visible_case(request, case.pk) if replayed else registered_case(
                    request, case)
                response = detail_response(request, shown, status.HTTP_201_CREATED)
            except Http404:  # sent again after the case left this membership's sight
                response = minimal_response(case, status.HTTP_201_CREATED)
        for name, value in headers.items():
            response[name] = value
        return response


def idempotency_key(request) -> str | Response | None:
    """The client's ``Idempotency-Key``, trimmed; None without one; a 400 naming the header for
    one that is empty, longer than 150 or not printable (registration and ``api.replay``)."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not 1 <= len(key) <= 150 or not key.isprintable():
        why = "Idempotency-Key 须为1–150个可打印字符。"
        return errs.problem(status.HTTP_400_BAD_REQUEST, "invalid", why, {IDEMPOTENCY_HEADER: why})
    return key


def intake_key(request, validated: dict) -> tuple[str, str] | Response | None:
    """The sender's reference a registration is idempotent on, and the input it came from: the
    ``Idempotency-Key`` header, else a referral's own number (交办文号, within its sending
    office). None: an ordinary registration, registered each time it is sent."""
    raw = idempotency_key(request)
    if isinstance(raw, Response):
        return raw
    if raw is not None:
        return f"key:{raw}", IDEMPOTENCY_HEADER
    reference = validated.get("source_reference", "").strip()
    if validated["channel"] == c.Channel.REFERRAL and reference:
        return f"ref:{validated.get('source_office', '').strip()}|{reference}", "source_reference"
    return None


def fingerprint(data) -> str:
    """What was sent, canonically: the same referral sent again has the same fingerprint."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
    """``POST /api/cases/{id}/transitions/{name}/``. Each transition has a view of its own
    (``transition_views``), so the schema shows one request body per transition; this generic
    one only answers names that are not transitions (404)."""

    transition = ""

    @extend_schema(exclude=True)
    def post(self, request, pk: int, name: str):
        return self.act(request, pk, name)

    def act(self, request, pk: int, name: str):
        membership = acting_membership(request)
        try:
            # One read of the case through the door, locked, with the respondent side and the
            # user's recusals in it; perform acts on it in the same transaction.
            with transaction.atomic():
                try:
                    case = lock_case_through(pk, by=membership)
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
            return errs.problem(status.HTTP_409_CONFLICT, "stale", e.message,
                                {"expected_version": e.message}, version=current)
        except Invalid as e:
            return errors(e.errors)
        except ActorRefused as e:
            return refused(e, status.HTTP_403_FORBIDDEN)
        except Refused as e:
            return refused(e, status.HTTP_422_UNPROCESSABLE_ENTITY)
        audit_reported_times(request, name, done, body.validated_data, membership)
        if wants_minimal(request):
            return minimal_response(done)
        try:
            return detail_response(request, visible_case(request, pk))
        except Http404:  # the transition took the case out of this membership's sight
            return Response({"id": pk}, status=status.HTTP_200_OK)


def audit_reported_times(request, name: str, case: Case, validated: dict, membership) -> None:
    """A time reported from the paper record (a delivery receipt, a contact note, a sign-for
    slip) is audited with who reported it, from where, and when it was recorded; the event's
    payload holds it too (``reported_time``)."""
    for field in sorted(REPORTED_TIMES & set(validated)):
        when = validated[field]
        if when is None:
            continue
        audit_record(action=EVENT_TIME, actor=membership, object_type="case",
                     object_id=case.number, ip=client_ip(request),
                     detail={"transition": name, "field": field, "reported": when.isoformat(),
                             "recorded_at": timezone.now().isoformat(), "via": "api"})


def transition_views() -> list[tuple[str, type[CaseTransition]]]:
    """One view per transition, each with its own request schema (``expected_version``
    required) and operation id ``cases_transition_<name>``."""
    out = []
    for name in sorted(TRANSITIONS):
        t = TRANSITIONS[name]

        def post(self, request, pk: int, _name=name):
            return self.act(request, pk, _name)

        post = extend_schema(
            operation_id=f"cases_transition_{name}",
            summary=f"{t.label}（{name}）",
            parameters=[MEMBERSHIP_PARAM, PREFER_PARAM],
            request=params_serializer(name),
            responses={200: PolymorphicProxySerializer(
                           component_name="Transitioned", resource_type_field_name=None,
                           serializers=[s.CaseDetail, s.MinimalOut, s.GoneOut]),
                       400: Problem, 409: Stale, 422: Refusal, **COMMON_ERRORS},
        )(post)
        view = type("".join(p.title() for p in name.split("_")) + "Transition",
                    (CaseTransition,), {"post": post, "transition": name,
                                        "__module__": __name__})
        out.append((name, view))
    return out


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
