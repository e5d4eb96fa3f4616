"""``/api/inbox/``: the acting membership's notices (newest first, paged), mark read, dismiss.
Same membership header, door and errors as the case API."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from xinfang.api.errors import Problem, invalid, problem
from xinfang.api.membership import acting_membership
from xinfang.api.views import COMMON_ERRORS, MEMBERSHIP_PARAM, CaseView
from xinfang.cases.errors import Refused

from .admin_services import notice_dismiss, notice_read
from .messages import due_of
from .selectors import inbox, unread_count


class NoticeOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    case = serializers.IntegerField(source="case_id", allow_null=True)
    case_number = serializers.CharField(source="case.number", allow_null=True, default=None)
    link = serializers.CharField()
    text = serializers.CharField()
    todo = serializers.CharField()
    clock = serializers.SerializerMethodField()
    needs_reason = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    dismissed_at = serializers.DateTimeField(allow_null=True)
    dismiss_reason = serializers.CharField(allow_null=True)

    def get_clock(self, n) -> dict | None:
        due = due_of(n, self.context["now"])
        if due["due_at"] is None:
            return None
        return {"label": due["clock"], "due_at": due["due_at"].isoformat(), "left": due["left"]}


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class InboxPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = NoticeOut(many=True)
    unread = serializers.IntegerField()


class InboxList(CaseView):
    @extend_schema(operation_id="inbox_list", parameters=[MEMBERSHIP_PARAM],
                   responses={200: InboxPage, 400: Problem, **COMMON_ERRORS})
    def get(self, request):
        m = acting_membership(request)
        show = request.query_params.get("show", "open")
        if show not in ("open", "unread", "all"):
            return invalid({"show": "show 须为 open、unread 或 all"})
        pager = Pages()
        page = pager.paginate_queryset(inbox(m, show=show), request, self)
        data = NoticeOut(page, many=True, context={"now": timezone.now()}).data
        response = pager.get_paginated_response(data)
        response.data["unread"] = unread_count(m)
        return response


class InboxRead(CaseView):
    @extend_schema(operation_id="inbox_read", parameters=[MEMBERSHIP_PARAM],
                   request=inline_serializer("InboxReadIn", {
                       "ids": serializers.ListField(child=serializers.IntegerField())}),
                   responses={200: inline_serializer("InboxReadOut", {
                       "marked": serializers.IntegerField(),
                       "unread": serializers.IntegerField()})})
    def post(self, request):
        m = acting_membership(request)
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ) or len(ids) > 500:
            return invalid({"ids": "ids 须为提醒编号（整数）的列表，至多500个"})
        marked = notice_read(notice_ids=ids, by=m)
        return Response({"marked": marked, "unread": unread_count(m)})


class InboxDismiss(CaseView):
    @extend_schema(operation_id="inbox_dismiss", parameters=[MEMBERSHIP_PARAM],
                   request=inline_serializer("InboxDismissIn", {
                       "reason": serializers.CharField(required=False)}),
                   responses={200: NoticeOut, **COMMON_ERRORS})
    def post(self, request, pk: int):
        m = acting_membership(request)
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        if not isinstance(reason, str):
            return invalid({"reason": "reason 须为文字"})
        try:
            notice_dismiss(notice_id=pk, by=m, reason=reason)
        except Refused as e:
            code = 404 if e.message == "未找到该提醒。" else 422
            return problem(code, "not_found" if code == 404 else "refused", e.message,
                           {e.field: e.message} if e.field else {}, field=e.field)
        n = inbox(m, show="all").get(pk=pk)
        return Response(NoticeOut(n, context={"now": timezone.now()}).data)
