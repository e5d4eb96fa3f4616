"""The work queue each role lands on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.cases.workflow import REGISTER_ROLES
from xinfang.org.choices import ADMIN_ROLES

from ..context import current_membership, membership_required, page
from ..queues import queue_for, queue_page
from .auth import ADMIN_HOME


@require_GET
def root(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    m = current_membership(request)
    if m is not None and m.role in ADMIN_ROLES:
        return redirect(ADMIN_HOME[m.role])
    return redirect("web:home")


@require_GET
@membership_required
def home(request: HttpRequest) -> HttpResponse:
    m = request.membership
    now = timezone.now()
    key = request.GET.get("bucket")
    if key:
        # One bucket alone, a page at a time ("查看全部"); an unknown bucket is not an error.
        bucket = queue_page(m, now, key, request.GET.get("page"))
        if bucket is None:
            return redirect("web:home")
        buckets = [bucket]
    else:
        buckets = queue_for(m, now)
    return page(
        request,
        "web/home.html",
        {
            "buckets": buckets,
            "one_bucket": bool(key),
            "now": now,
            "may_register": m.role in REGISTER_ROLES,
            "empty": not any(b.rows for b in buckets),
        },
    )
