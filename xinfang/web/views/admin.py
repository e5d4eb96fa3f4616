"""The administrators' own pages (三员分立): read-only lists of units and users for the system
administrator, users and their lockouts for the security administrator, the audit trail for the
auditor. None of them shows a case."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit, User

from ..context import page, role_required

PAGE_SIZE = 50


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
@role_required(Role.SYSADMIN)
def admin_units(request: HttpRequest) -> HttpResponse:
    qs = Unit.objects.annotate(
        members=Count("memberships", filter=Q(memberships__is_active=True))
    ).order_by("path")
    page_obj = _page(request, qs)
    for unit in page_obj.object_list:
        unit.depth = unit.path.count("/") - 2
    return page(request, "web/admin_units.html", {"page_obj": page_obj})


@require_GET
@role_required(Role.SYSADMIN, Role.SECADMIN)
def admin_users(request: HttpRequest) -> HttpResponse:
    qs = User.objects.order_by("username").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("unit"))
    )
    return page(
        request,
        "web/admin_users.html",
        {
            "page_obj": _page(request, qs),
            "now": timezone.now(),
        },
    )


@require_GET
@role_required(Role.AUDITOR)
def audit_log(request: HttpRequest) -> HttpResponse:
    try:
        from xinfang.audit.models import AuditEntry
    except ImportError:  # the audit trail is not installed in this build
        return page(request, "web/audit_log.html", {"page_obj": None})
    qs = AuditEntry.objects.order_by("-id")
    action = request.GET.get("action", "")
    if action:
        qs = qs.filter(action=action)
    actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    return page(
        request,
        "web/audit_log.html",
        {
            "page_obj": _page(request, qs),
            "action": action,
            "actions": list(actions),
            "extra": urlencode({"action": action}) if action else "",
        },
    )
