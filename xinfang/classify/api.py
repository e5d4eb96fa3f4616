"""``POST /api/categories/suggest/`` — the category suggestion over the API: ``{"text": …}``
(a demand, or the matter, or both) answers the acting membership's profile categories most likely
for it, with each one's share and the words behind it. Nothing is written."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from xinfang.api.membership import acting_membership
from xinfang.api.views import COMMON_ERRORS, MEMBERSHIP_PARAM, CaseView, Errors, errors

from .selectors import categories_for
from .services import MAX_TEXT, category_suggest


class SuggestIn(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT, allow_blank=False, trim_whitespace=True)
    limit = serializers.IntegerField(min_value=1, max_value=10, required=False, default=3)


class SuggestionOut(serializers.Serializer):
    category = serializers.CharField()
    share = serializers.FloatField()
    evidence = serializers.ListField(child=serializers.CharField())


class SuggestOut(serializers.Serializer):
    categories = serializers.ListField(child=serializers.CharField())
    suggestions = SuggestionOut(many=True)


class CategorySuggest(CaseView):
    @extend_schema(operation_id="categories_suggest", request=SuggestIn,
                   parameters=[MEMBERSHIP_PARAM],
                   responses={200: SuggestOut, 400: Errors, **COMMON_ERRORS})
    def post(self, request):
        data = SuggestIn(data=request.data)
        if not data.is_valid():
            return errors({k: "；".join(str(x) for x in v) for k, v in data.errors.items()})
        categories = categories_for(acting_membership(request))
        found = category_suggest(text=data.validated_data["text"], categories=categories,
                                 limit=data.validated_data["limit"])
        return Response({
            "categories": list(categories),
            "suggestions": [{"category": s.category, "share": s.share,
                             "evidence": list(s.evidence)} for s in found],
        })
