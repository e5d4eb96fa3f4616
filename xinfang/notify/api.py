"""``/api/inbox/``: the acting membership's notices (newest first, paged), mark read, dismiss.
Same membership header, door and errors as the case API."""

from __future__ import annotations

from functools import partial

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from xinfang.api.errors import Problem, invalid, problem
from xinfang.api.membership import acting_membership
from xinfang.api.serializers import ChoiceLabel, Lean
from xinfang.api.views import COMMON_ERRORS, MEMBERSHIP_PARAM, CasePagination, CaseView
from xinfang.cases.errors import Refused
from xinfang.cases.paging import CappedPaginator, asked_page

from .admin_services import NOT_FOUND, notice_dismiss, notice_read
from .messages import due_of
from .models import Kind
from .selectors import inbox, inbox_newest, unread_count


class NoticeOut(Lean):
    """A notice of the inbox: written by steps compiled once (``Lean``), its kind's label read
    from the choices once (``ChoiceLabel``) — through DRF's fields and ``get_kind_display``,
    which hashes every label of the field for each notice, a page of fifty took 7.8 ms at 1M
    cases (lead49)."""

    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    kind_label = ChoiceLabel(Kind, source="kind")
    case = serializers.IntegerField(source="case_id", allow_null=True)
    case_number = serializers.SerializerMethodField()
    link = serializers.CharField()
    text = serializers.CharField()
    todo = serializers.CharField()
    clock = serializers.SerializerMethodField()
    needs_reason = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    dismissed_at = serializers.DateTimeField(allow_null=True)
    dismiss_reason = serializers.CharField(allow_null=True)

    def get_case_number(self, n) -> str | None:
        return n.case.number if n.case_id is not None else None

    def get_clock(self, n) -> dict | None:
        due = due_of(n, self.context["now"])
        if due["due_at"] is None:
            return None
        return {"label": due["clock"], "due_at": due["due_at"].isoformat(), "left": due["left"]}


# The inbox's counts stop here (``count_capped``, ``unread_capped``): after a province's first
# sweep a unit holds thousands of notices, each tested through the door to be counted.
COUNT_CAP = 1000


class Pages(CasePagination):
    """A page of the newest notices (read among the newest sent: ``selectors._newest``),
    ``count`` exact up to ``COUNT_CAP`` or the page's end, whichever is further."""

    def __init__(self, m, show: str):
        self.m, self.show = m, show

    def paginate_queryset(self, queryset, request, view=None):
        """``queryset``: the whole inbox, counted; the page's rows are read among the newest
        notices, once the page asked is known."""
        asked = asked_page(request.query_params.get(self.page_query_param))
        upto = self.get_page_size(request) * asked + 1
        rows, holds = inbox_newest(self.m, show=self.show, upto=upto)
        # counted to the page's end at least: every page stays reachable
        self.django_paginator_class = partial(CappedPaginator, counted=queryset,
                                              cap=max(COUNT_CAP, upto - 1),
                                              at_least=upto if holds else 0)
        return super().paginate_queryset(rows, request, view)


class Unread(serializers.Serializer):
    """The unread count both inbox answers end with (``unread_capped``)."""

    unread = serializers.IntegerField(help_text=f"exact up to {COUNT_CAP}")
    unread_capped = serializers.BooleanField(help_text=f"more than {COUNT_CAP} unread")


class InboxPage(Unread):
    """A page of the inbox, newest first, with its counts."""

    count = serializers.IntegerField(help_text=f"exact up to {COUNT_CAP} or the page's end")
    count_capped = serializers.BooleanField(help_text="more notices than counted")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = NoticeOut(many=True)


class InboxReadOut(Unread):
    """How many notices were marked read, and the unread count after."""

    marked = serializers.IntegerField()


def unread_capped(m) -> dict:
    """The inbox's unread count as both its answers give it: exact up to ``COUNT_CAP``, and
    whether there are more. Counted whole, a busy unit's notices are each tested through the
    door (13,766 for the approver of the generated province: 97 ms at 1M cases), and the count
    grows with every sweep."""
    unread = unread_count(m, cap=COUNT_CAP + 1)
    return {"unread": min(unread, COUNT_CAP), "unread_capped": unread > COUNT_CAP}


class InboxList(CaseView):
    @extend_schema(operation_id="inbox_list", parameters=[MEMBERSHIP_PARAM],
                   responses={200: InboxPage, 400: Problem, **COMMON_ERRORS})
    def get(self, request):
        m = acting_membership(request)
        show = request.query_params.get("show", "open")
        if show not in ("open", "unread", "all"):
            return invalid({"show": "show 须为 open、unread 或 all"})
        pager = Pages(m, show)
        page = pager.paginate_queryset(inbox(m, show=show), request, self)
        data = NoticeOut(page, many=True, context={"now": timezone.now()}).data
        response = pager.get_paginated_response(data)
        response.data.update(unread_capped(m))
        return response


class InboxRead(CaseView):
    @extend_schema(operation_id="inbox_read", parameters=[MEMBERSHIP_PARAM],
                   request=inline_serializer("InboxReadIn", {
                       "ids": serializers.ListField(child=serializers.IntegerField())}),
                   responses={200: InboxReadOut})
    def post(self, request):
        m = acting_membership(request)
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ) or len(ids) > 500:
            return invalid({"ids": "ids 须为提醒编号（整数）的列表，至多500个"})
        marked = notice_read(notice_ids=ids, by=m)
        return Response({"marked": marked, **unread_capped(m)})


class InboxDismiss(CaseView):
    @extend_schema(operation_id="inbox_dismiss", parameters=[MEMBERSHIP_PARAM],
                   request=inline_serializer("InboxDismissIn", {
                       "reason": serializers.CharField(required=False)}),
                   responses={200: NoticeOut, **COMMON_ERRORS})
    def post(self, request, pk: int):
        m = acting_membership(request)
        # The notice first: a 400 about the body would tell that a notice out of sight exists.
        if not inbox(m, show="all").filter(pk=pk).exists():
            return problem(404, "not_found", NOT_FOUND, {})
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        if not isinstance(reason, str):
            return invalid({"reason": "reason 须为文字"})
        try:
            notice_dismiss(notice_id=pk, by=m, reason=reason)
        except Refused as e:
            code = 404 if e.message == NOT_FOUND else 422
            return problem(code, "not_found" if code == 404 else "refused", e.message,
                           {e.field: e.message} if e.field else {}, field=e.field)
        n = inbox(m, show="all").get(pk=pk)
        return Response(NoticeOut(n, context={"now": timezone.now()}).data)
