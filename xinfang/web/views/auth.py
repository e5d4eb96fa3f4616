"""Sign in, sign out, and switching the acting membership."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.audit.services import LOGOUT, audit_record
from xinfang.org.choices import Role
from xinfang.security.auth import TOTP_REQUIRED, authenticate_with_lockout, client_ip
from xinfang.security.gate import gate_of, gate_on_sign_in
from xinfang.security.sessions import session_begin, session_end

from ..context import SESSION_KEY, choose_membership, current_membership, page
from ..forms.misc import LoginForm

ADMIN_HOME = {
    Role.SYSADMIN: "web:admin_units",
    Role.SECADMIN: "web:admin_roles",
    Role.AUDITOR: "web:audit_log",
}


def landing_url(request: HttpRequest) -> str:
    """Where a membership starts: its own work queue, or an administrator's own page."""
    m = current_membership(request)
    return ADMIN_HOME.get(m.role, "web:home") if m else "web:home"


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = LoginForm(request.POST or None)
    ask_totp = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user, error = authenticate_with_lockout(
            request, d["username"], d["password"], totp_code=d["totp_code"] or None
        )
        if user is not None:
            login(request, user)  # cycles the session key
            request.session.pop(SESSION_KEY, None)
            session_begin(request, user)
            gate_on_sign_in(request, user)
            gate = gate_of(request)
            if gate is not None:  # a one-time password to change, or TOTP to enrol first
                return redirect(gate[0])
            landing = landing_url(request)
            return redirect(next_url if next_url and landing == "web:home" else landing)
        ask_totp = error == TOTP_REQUIRED
        form.add_error("totp_code" if ask_totp else None, error)
    return page(
        request,
        "web/login.html",
        {"form": form, "next": next_url, "ask_totp": ask_totp},
        status=400 if form.errors else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(action=LOGOUT, actor=request.user, ip=client_ip(request))
    session_end(request)
    return redirect("web:login")


@require_POST
def switch_membership(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    raw = request.POST.get("membership", "")
    if not raw.isdigit() or choose_membership(request, int(raw)) is None:
        return page(
            request, "web/refused.html", {"message": _("所选任职无效或已停用。")}, status=400
        )
    return redirect(landing_url(request))
