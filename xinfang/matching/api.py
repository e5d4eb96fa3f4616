"""``POST /api/matches/``: the earlier cases the system believes are the same person or the same
matter as a registration being typed — at most three, best first, through the caller's door."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from xinfang.api.membership import acting_membership
from xinfang.api.views import MEMBERSHIP_PARAM, CaseView, Errors, errors
from xinfang.cases.services.base import unit_jurisdiction
from xinfang.rules.store import current_version, profile_of

from .lines import Places, read_line
from .selectors import find_matches


class MatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    township = serializers.CharField(max_length=60, required=False, allow_blank=True,
                                     help_text="乡镇名称（或编号）；村名在辖区内唯一时可省略")
    village = serializers.CharField(max_length=60, required=False, allow_blank=True,
                                    help_text="村（社区）名称（或编号），可带乡镇名")
    matter = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    category = serializers.CharField(max_length=40, required=False, allow_blank=True)
    channel = serializers.CharField(max_length=20, required=False, allow_blank=True)
    received_at = serializers.DateTimeField(required=False, allow_null=True)


class CandidateOut(serializers.Serializer):
    case = serializers.CharField(help_text="信访件编号")
    score = serializers.FloatField(min_value=0, max_value=1)
    same = serializers.ChoiceField(["person", "matter"])
    reasons = serializers.ListField(child=serializers.CharField())


class MatchesOut(serializers.Serializer):
    candidates = CandidateOut(many=True)


class Matches(CaseView):
    @extend_schema(operation_id="matches", parameters=[MEMBERSHIP_PARAM], request=MatchIn,
                   responses={200: MatchesOut, 400: Errors})
    def post(self, request):
        by = acting_membership(request)
        data = MatchIn(data=request.data)
        if not data.is_valid():
            return errors({k: " ".join(str(x) for x in v) for k, v in data.errors.items()})
        jurisdiction = unit_jurisdiction(by.unit)
        if jurisdiction is None:
            return Response({"candidates": []})
        raw = {k: v for k, v in data.validated_data.items() if k != "received_at"}
        line, problems = read_line(raw, Places(jurisdiction),
                                   profile_of(current_version(jurisdiction.profile_code))
                                   .categories)
        if line is None:
            return errors(problems)
        line.query.received_at = data.validated_data.get("received_at")
        found = find_matches(by=by, query=line.query, before=line.query.received_at)
        return Response({"candidates": [x.as_dict() for x in found]})
