"""One-time passwords waiting for a leader (分管领导、主要领导) of the account's own unit: the
resets the system administrator made of the unit's ordinary accounts, each collected once — the
password shown in that response only — and handed to its holder (三员分立: the administrator who
reset never sees it). Writes go through ``password_services``."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.org.models import Membership
from xinfang.security.auth import client_ip
from xinfang.security.models import PasswordHandover

from ..admin_services import AdminRefused
from ..context import page, role_required
from ..password_services import COLLECTOR_ROLES, password_handover_collect

SHOWN = 100


def _of_my_unit(request: HttpRequest):
    """The resets of accounts with an active role in this leader's unit (the account itself
    left out), waiting or collected by this leader."""
    m = request.membership
    members = Membership.objects.filter(unit_id=m.unit_id, is_active=True).values("user_id")
    return (PasswordHandover.objects.filter(user_id__in=members).exclude(user_id=m.user_id)
            .filter(Q(status=PasswordHandover.Status.PENDING) | Q(collected_by_id=m.user_id))
            .select_related("user", "reset_by", "collected_by").order_by("-reset_at", "-pk"))


def _page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    return page(request, "web/password_handovers.html",
                {"handovers": list(_of_my_unit(request)[:SHOWN]), **context}, status=status)


@never_cache
@require_http_methods(["GET"])
@role_required(*COLLECTOR_ROLES)
def password_handovers(request: HttpRequest) -> HttpResponse:
    return _page(request)


@never_cache
@require_POST
@role_required(*COLLECTOR_ROLES)
def password_handover_collect_view(request: HttpRequest, pk: int) -> HttpResponse:
    handover = _of_my_unit(request).filter(pk=pk).first()
    if handover is None:  # another unit's account, or a tampered id
        raise Http404
    try:
        one_time = password_handover_collect(by=request.membership, handover=handover,
                                             ip=client_ip(request))
    except AdminRefused as e:
        return _page(request, status=409, error=e.message)
    response = _page(request, one_time=one_time, done_for=handover.user)
    response["Cache-Control"] = "no-store"  # the password is in this page only
    return response
