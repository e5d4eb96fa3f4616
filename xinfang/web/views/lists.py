"""Plain paged lists: the case ledger (台账) and the supervision list. Placeholders for the
filtered ledgers and dashboards to come; every row comes through ``cases_for``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from xinfang.cases import choices as c
from xinfang.cases.models import Assignment, Clock, WarningNotice
from xinfang.cases.selectors import cases_for

from ..context import membership_required, page
from ..queues import decorated, rows

PAGE_SIZE = 50


def _paged(request: HttpRequest, qs, now):
    pager = Paginator(qs, PAGE_SIZE)
    page_obj = pager.get_page(request.GET.get("page"))
    return page_obj, rows(page_obj.object_list, now)


@require_GET
@membership_required
def ledger(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    qs = cases_for(request.membership)
    state = request.GET.get("state", "")
    if state in c.State.values:
        qs = qs.filter(state=state)
    else:
        state = ""
    qs = (
        decorated(qs)
        .order_by("-registered_at", "-pk")
        .prefetch_related(
            Prefetch(
                "assignments",
                to_attr="lead_assignments",
                queryset=Assignment.objects.filter(role=c.AssignmentRole.LEAD)
                .select_related("unit")
                .order_by("assigned_at"),
            )
        )
    )
    page_obj, found = _paged(request, qs, now)
    return page(
        request,
        "web/ledger.html",
        {
            "page_obj": page_obj,
            "rows": found,
            "state": state,
            "states": c.State.choices,
            "extra": urlencode({"state": state}) if state else "",
        },
    )


@require_GET
@membership_required
def supervision(request: HttpRequest) -> HttpResponse:
    """Open cases with a running deadline past due or a warning notice not yet answered."""
    now = timezone.now()
    late = Clock.objects.filter(
        case=OuterRef("pk"), status=Clock.Status.RUNNING, kind="deadline", due_at__lt=now
    )
    warned = WarningNotice.objects.filter(case=OuterRef("pk"), answered_at=None)
    qs = cases_for(request.membership).filter(Exists(late) | Exists(warned))
    page_obj, found = _paged(request, decorated(qs), now)
    return page(request, "web/supervision.html", {"page_obj": page_obj, "rows": found})
