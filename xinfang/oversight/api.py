"""The oversight API under /api/oversight/ (DRF + drf-spectacular). Views parse and call
``services``; reads through ``selectors`` (the permission door). Errors: 400 ``{"errors": {field:
message}}``; 403/422 ``{"detail", "field"}``; 404 outside the membership's scope."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from xinfang.api import errors as errs
from xinfang.api.membership import CaseAccess, acting_membership
from xinfang.api.replay import REPLAY_ERRORS, REPLAY_PARAM, replayable
from xinfang.api.serializers import flat_errors
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.cases.services.base import Invalid
from xinfang.org.models import Membership, Unit

from . import selectors as sel
from . import services as svc
from .models import CaseReview, Rectification, SupervisionOrder

PAGE = 100


def _fail(e: Refused) -> Response:
    if isinstance(e, Invalid):
        return errs.invalid(e.errors)
    return errs.problem(status.HTTP_422_UNPROCESSABLE_ENTITY, "refused", e.message,
                        {e.field: e.message} if e.field else {}, field=e.field)


def _bad(serializer) -> Response:
    return errs.invalid(flat_errors(serializer.errors))


def _case(request, pk: int) -> Case | None:
    return cases_for(acting_membership(request)).filter(pk=pk).first()


class OrderOut(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", default=None)
    unit_name = serializers.CharField(source="unit.name")
    status = serializers.SerializerMethodField()

    class Meta:
        model = SupervisionOrder
        fields = ["id", "case", "case_number", "unit", "unit_name", "matter", "due_at",
                  "issued_at", "answer", "answered_at", "answered_late", "late_flagged_at",
                  "bulletin", "status"]

    def get_status(self, o) -> str:
        return o.status(self.context["now"])


class OrderIn(serializers.Serializer):
    case = serializers.IntegerField(required=False, allow_null=True)
    unit = serializers.IntegerField(required=False, allow_null=True)
    matter = serializers.CharField(allow_blank=True)
    due_on = serializers.DateField()


class AnswerIn(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True)


class Base(APIView):
    permission_classes = [IsAuthenticated, CaseAccess]


class OrderList(Base):
    @extend_schema(operation_id="oversight_orders_list", responses=OrderOut(many=True))
    def get(self, request):
        m = acting_membership(request)
        qs: QuerySet = (sel.orders_to_answer(m) if request.query_params.get("mine")
                        else sel.orders_for(m))
        return Response(OrderOut(sel.orders_page(qs, PAGE), many=True,
                                 context={"now": timezone.now()}).data)

    @extend_schema(operation_id="oversight_orders_issue", request=OrderIn,
                   parameters=[REPLAY_PARAM], responses={201: OrderOut, **REPLAY_ERRORS})
    @replayable
    def post(self, request):
        m = acting_membership(request)
        data = OrderIn(data=request.data)
        if not data.is_valid():
            return _bad(data)
        d = data.validated_data
        case = None
        if d.get("case"):
            case = _case(request, d["case"])
            if case is None:
                return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此信访件")
        unit = Unit.objects.filter(pk=d["unit"]).first() if d.get("unit") else None
        try:
            order = svc.order_issue(by=m, case=case, unit=unit, matter=d["matter"],
                                    due_on=d["due_on"])
        except Refused as e:
            return _fail(e)
        return Response(OrderOut(order, context={"now": timezone.now()}).data,
                        status=status.HTTP_201_CREATED)


class OrderAnswer(Base):
    @extend_schema(operation_id="oversight_orders_answer", request=AnswerIn, responses=OrderOut)
    def post(self, request, pk: int):
        m = acting_membership(request)
        order = sel.orders_for(m).filter(pk=pk).first()
        if order is None:
            return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此督办单")
        data = AnswerIn(data=request.data)
        if not data.is_valid():
            return _bad(data)
        try:
            order = svc.order_answer(by=m, order=order, answer=data.validated_data["answer"])
        except Refused as e:
            return _fail(e)
        return Response(OrderOut(order, context={"now": timezone.now()}).data)


class ReviewIn(serializers.Serializer):
    results = serializers.DictField(child=inline_serializer("ReviewPointIn", {
        "ok": serializers.BooleanField(), "remark": serializers.CharField(
            required=False, allow_blank=True)}))
    rectify_by = serializers.DateField(required=False, allow_null=True)


class ReviewOut(serializers.ModelSerializer):
    failed_points = serializers.ListField(child=serializers.CharField())
    rectification = serializers.SerializerMethodField()

    class Meta:
        model = CaseReview
        fields = ["id", "case", "round", "points", "passed", "at", "failed_points",
                  "rectification"]

    def get_rectification(self, r) -> int | None:
        rect = Rectification.objects.filter(review=r).values_list("pk", flat=True).first()
        return rect


class CaseReviews(Base):
    @extend_schema(operation_id="oversight_reviews_list", responses=ReviewOut(many=True))
    def get(self, request, pk: int):
        case = _case(request, pk)
        if case is None:
            return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此信访件")
        return Response(ReviewOut(sel.reviews_of(case), many=True).data)

    @extend_schema(operation_id="oversight_reviews_record", request=ReviewIn,
                   responses={201: ReviewOut})
    def post(self, request, pk: int):
        case = _case(request, pk)
        if case is None:
            return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此信访件")
        data = ReviewIn(data=request.data)
        if not data.is_valid():
            return _bad(data)
        d = data.validated_data
        results = {k: (v["ok"], v.get("remark", "")) for k, v in d["results"].items()}
        try:
            review = svc.review_record(by=acting_membership(request), case=case, results=results,
                                       rectify_by=d.get("rectify_by"))
        except Refused as e:
            return _fail(e)
        return Response(ReviewOut(review).data, status=status.HTTP_201_CREATED)


class RectificationAnswer(Base):
    @extend_schema(operation_id="oversight_rectifications_answer", request=AnswerIn,
                   responses=inline_serializer("RectificationOut", {
                       "id": serializers.IntegerField(),
                       "answered_late": serializers.BooleanField()}))
    def post(self, request, pk: int):
        m = acting_membership(request)
        r = sel.rectifications_for(m).filter(pk=pk).first()
        if r is None:
            return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此整改要求")
        data = AnswerIn(data=request.data)
        if not data.is_valid():
            return _bad(data)
        try:
            r = svc.rectification_answer(by=m, rectification=r,
                                         answer=data.validated_data["answer"])
        except Refused as e:
            return _fail(e)
        return Response({"id": r.pk, "answered_late": r.answered_late})


class VerifyIn(serializers.Serializer):
    method = serializers.CharField()
    opinion = serializers.CharField(allow_blank=True)
    confirmed = serializers.BooleanField()


class CaseVerify(Base):
    @extend_schema(operation_id="oversight_verifications_record", request=VerifyIn,
                   responses={201: inline_serializer("VerificationOut", {
                       "id": serializers.IntegerField(), "verdict": serializers.CharField()})})
    def post(self, request, pk: int):
        case = _case(request, pk)
        if case is None:
            return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此信访件")
        data = VerifyIn(data=request.data)
        if not data.is_valid():
            return _bad(data)
        try:
            v = svc.verification_record(by=acting_membership(request), case=case,
                                        **data.validated_data)
        except Refused as e:
            return _fail(e)
        return Response({"id": v.pk, "verdict": v.verdict}, status=status.HTTP_201_CREATED)


class ProxyIn(serializers.Serializer):
    agent = serializers.IntegerField(help_text="代办员的任职编号")
    helps = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(required=False, allow_blank=True)


class ProxyWork(serializers.ModelSerializer):
    helps = serializers.ListField(source="proxy.helps", child=serializers.CharField())

    class Meta:
        model = Case
        fields = ["id", "number", "state", "matter", "next_due_at", "rating", "closed_at",
                  "helps"]


class CaseProxy(Base):
    @extend_schema(operation_id="oversight_proxy_take", request=ProxyIn,
                   responses={201: inline_serializer("ProxyOut", {
                       "id": serializers.IntegerField(), "case": serializers.IntegerField()})})
    def post(self, request, pk: int):
        case = _case(request, pk)
        if case is None:
            return errs.problem(status.HTTP_404_NOT_FOUND, "not_found", "无此信访件")
        data = ProxyIn(data=request.data)
        if not data.is_valid():
            return _bad(data)
        d = data.validated_data
        agent = Membership.objects.select_related("user", "unit").filter(pk=d["agent"]).first()
        if agent is None:
            return errs.invalid({"agent": "无此代办员"})
        try:
            row = svc.proxy_take(by=acting_membership(request), case=case, agent=agent,
                                 helps=d["helps"], note=d.get("note", ""))
        except Refused as e:
            return _fail(e)
        return Response({"id": row.pk, "case": case.pk}, status=status.HTTP_201_CREATED)


class ProxyWorkList(Base):
    @extend_schema(operation_id="oversight_proxy_work_list", responses=ProxyWork(many=True))
    def get(self, request):
        work = sel.proxy_work_list(acting_membership(request))[:PAGE]
        return Response(ProxyWork(work, many=True).data)
