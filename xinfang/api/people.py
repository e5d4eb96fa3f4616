"""``GET /api/people/<id>/``: a person's page as JSON (issue 14) — masked identity, every case
the acting membership may see grouped by matter, open warnings and ownership items."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from xinfang.ownership.people import PersonNotFound, person_for
from xinfang.ownership.present import person_data

from .membership import CaseAccess, acting_membership
from .renderers import SafeJSONRenderer
from .views import COMMON_ERRORS, MEMBERSHIP_PARAM


class PersonDetail(APIView):
    permission_classes = [IsAuthenticated, CaseAccess]
    renderer_classes = [SafeJSONRenderer]

    @extend_schema(operation_id="people_retrieve", parameters=[MEMBERSHIP_PARAM],
                   responses={200: OpenApiTypes.OBJECT, **COMMON_ERRORS})
    def get(self, request, pk: int):
        try:
            found = person_for(acting_membership(request), pk)
        except PersonNotFound:
            raise Http404("没有这位信访人，或您无权查看。") from None
        return Response(person_data(found))
