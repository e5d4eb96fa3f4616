"""The scores over the API: ``GET /api/scores/?period=2026-Q3`` (units ranked with every point's
cases and points, the goal metrics with the months), ``GET /api/scores/cases/?period=&unit=&point=``
(the cases behind one count, paged), ``GET /api/scores/bulletin.{docx,xlsx}?period=`` (the ranking
bulletin). The same services as the page and the command line."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from xinfang.api.membership import acting_membership, parse_id
from xinfang.api.views import (
    COMMON_ERRORS,
    MEMBERSHIP_PARAM,
    CaseView,
    Errors,
    JSONErrorsOnly,
    errors,
)
from xinfang.cases.errors import Refused
from xinfang.reports.outputs import profile_for
from xinfang.security.auth import client_ip

from .points import evidence
from .services import scores_bulletin_build, scores_period, scores_read

PERIOD = OpenApiParameter("period", str, required=True, description="2026-Q3 (quarter) or 2026")


class PointOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    count = serializers.CharField()
    cases = serializers.IntegerField()
    points = serializers.FloatField(help_text="points × cases, within the cap")
    capped = serializers.BooleanField()
    available = serializers.BooleanField()


class UnitOut(serializers.Serializer):
    rank = serializers.IntegerField()
    unit_id = serializers.IntegerField(allow_null=True)
    unit = serializers.CharField()
    cases = serializers.IntegerField()
    deductions = serializers.FloatField()
    additions = serializers.FloatField()
    score = serializers.FloatField()
    points = PointOut(many=True)


class MonthOut(serializers.Serializer):
    month = serializers.IntegerField()
    now = serializers.FloatField(allow_null=True)
    before = serializers.FloatField(allow_null=True)


class GoalOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    measure = serializers.CharField()
    aim = serializers.CharField()
    now = serializers.FloatField(allow_null=True)
    before = serializers.FloatField(allow_null=True)
    change = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)
    seed = serializers.CharField()
    months = MonthOut(many=True)


class ScoresOut(serializers.Serializer):
    period = serializers.CharField()
    label = serializers.CharField()
    base = serializers.FloatField(allow_null=True)
    seed = serializers.CharField()
    units = UnitOut(many=True)
    unassigned_cases = serializers.IntegerField()
    goals = GoalOut(many=True)


class EvidenceCase(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    received_at = serializers.DateTimeField()
    state = serializers.CharField()


class EvidenceOut(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = EvidenceCase(many=True)


def _unit(u) -> dict:
    return {"rank": u.rank, "unit_id": u.unit_id, "unit": u.unit, "cases": u.cases,
            "deductions": u.deductions, "additions": u.additions, "score": u.score,
            "points": [{"name": r.point.name, "label": r.point.label, "count": r.point.count,
                        "cases": r.cases, "points": r.applied, "capped": r.capped,
                        "available": r.available} for r in u.points]}


class ScoresView(CaseView):
    @extend_schema(operation_id="scores_get", parameters=[MEMBERSHIP_PARAM, PERIOD],
                   responses={200: ScoresOut, 400: Errors, **COMMON_ERRORS})
    def get(self, request):
        try:
            period = scores_period(request.query_params.get("period", ""))
            scores, goals = scores_read(by=acting_membership(request), period=period,
                                        now=timezone.now())
        except Refused as e:
            return errors({e.field or "period": e.message})
        return Response({
            "period": period.code, "label": period.label,
            "base": scores.scoring.base if scores.scoring else None,
            "seed": scores.scoring.seed if scores.scoring else "",
            "units": [_unit(u) for u in scores.units],
            "unassigned_cases": scores.unassigned.cases if scores.unassigned else 0,
            "goals": [{"name": g.goal.name, "label": g.goal.label, "measure": g.goal.measure,
                       "aim": g.goal.aim, "now": g.now, "before": g.before, "change": g.change,
                       "met": g.met, "seed": g.goal.seed,
                       "months": [{"month": m.month, "now": m.now, "before": m.before}
                                  for m in g.months]} for g in goals],
        })


class ScoreCases(CaseView):
    @extend_schema(operation_id="scores_cases", parameters=[
        MEMBERSHIP_PARAM, PERIOD,
        OpenApiParameter("unit", str, required=True, description="unit id, or none (未交办)"),
        OpenApiParameter("point", str, required=True, description="scoring.points name"),
        OpenApiParameter("page", int)],
        responses={200: EvidenceOut, 400: Errors, **COMMON_ERRORS})
    def get(self, request):
        m, params = acting_membership(request), request.query_params
        try:
            period = scores_period(params.get("period", ""))
        except Refused as e:
            return errors({"period": e.message})
        raw = params.get("unit", "")
        unit_id = parse_id(raw)  # ASCII digits in range: "²" passes isdigit() and fails int()
        if unit_id is None and raw != "none":
            return errors({"unit": "应为单位编号或 none（未交办）。"})
        try:
            qs = evidence(by=m, profile=profile_for(m), period=period, unit_id=unit_id,
                          point=params.get("point", ""), as_of=timezone.now())
        except KeyError:
            return errors({"point": f"没有考核项目“{params.get('point', '')}”。"})
        page = Paginator(qs.only("pk", "number", "received_at", "state"), 100).get_page(
            params.get("page"))
        return Response({
            "count": page.paginator.count, "page": page.number,
            "pages": page.paginator.num_pages,
            "results": [{"id": x.pk, "number": x.number, "received_at": x.received_at,
                         "state": x.state} for x in page.object_list],
        })


class ScoresBulletin(CaseView):
    content_negotiation_class = JSONErrorsOnly

    @extend_schema(operation_id="scores_bulletin", parameters=[MEMBERSHIP_PARAM, PERIOD],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              400: Errors, **COMMON_ERRORS})
    def get(self, request, fmt: str):
        try:
            period = scores_period(request.query_params.get("period", ""))
            built = scores_bulletin_build(by=acting_membership(request), period=period, fmt=fmt,
                                          now=timezone.now(), ip=client_ip(request), via="api")
        except Refused as e:
            return errors({e.field or "period": e.message})
        response = FileResponse(built.file, as_attachment=True, filename=built.filename,
                                content_type=built.content_type)
        response["Cache-Control"] = "no-store"
        return response
