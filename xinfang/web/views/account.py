"""Every user's own account: change the password (the current one required) and enrol TOTP.

Both pages stay open to a user the credential gate holds (``security.gate``): one who must change
a one-time password, or whose role requires TOTP and who has none yet.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xinfang.security.auth import client_ip
from xinfang.security.gate import TOTP_ENROL, gate_of
from xinfang.security.totp import (
    totp_confirm,
    totp_enabled,
    totp_new,
    totp_qr_svg,
    totp_required_for,
    totp_uri,
)

from ..admin_services import AdminRefused
from ..context import page
from ..forms.admin import PasswordChangeForm, TotpConfirmForm
from ..password_services import password_change
from .auth import landing_url

PENDING_SECRET = "xinfang_totp_pending"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = password_change(
                user=request.user, old=d["old_password"], new=d["password1"], ip=client_ip(request)
            )
        except AdminRefused as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            # The new hash ends every other session of this user; this one stays signed in.
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。"))
            return redirect("web:account_totp" if gate_of(request) else landing_url(request))
    gate = gate_of(request)
    return page(
        request,
        "web/account_password.html",
        {"form": form, "gate_message": gate[1] if gate else ""},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_totp(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: a fresh secret is kept in the session until a code made from
    it comes back, and only then stored on the account."""
    user = request.user
    form = TotpConfirmForm(request.POST or None)
    if totp_enabled(user):
        request.session.pop(PENDING_SECRET, None)
        return page(request, "web/account_totp.html", {"enabled": True})
    secret = request.session.get(PENDING_SECRET)
    if not secret:
        secret = request.session[PENDING_SECRET] = totp_new()
    if request.method == "POST" and form.is_valid():
        if totp_confirm(
            user=user, secret=secret, code=form.cleaned_data["code"], ip=client_ip(request)
        ):
            request.session.pop(PENDING_SECRET, None)
            request.session.pop(TOTP_ENROL, None)
            messages.success(request, _("已绑定身份验证器，今后登录须输入动态验证码。"))
            return redirect(landing_url(request))
        form.add_error("code", _("动态验证码不正确，请核对手机时间后重试。"))
    uri = totp_uri(user, secret)
    gate = gate_of(request)
    return page(
        request,
        "web/account_totp.html",
        {
            "enabled": False,
            "form": form,
            "uri": uri,
            "secret": secret,
            "qr_svg": totp_qr_svg(uri),
            "required": totp_required_for(user),
            "gate_message": gate[1] if gate else "",
        },
        status=400 if form.errors else 200,
    )
