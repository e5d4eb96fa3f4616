"""The credential gate: a signed-in user who must first change a one-time password, or enrol
TOTP because their role requires it, can open that page and sign out — nothing else, on the
pages or the API.

- ``User.must_change_password`` is set by an administrator's reset (a one-time password) and
  cleared when the user sets their own.
- ``session[TOTP_ENROL]`` is set at sign-in (``gate_on_sign_in``) for a user whose role is in
  ``XINFANG_TOTP_REQUIRED_ROLES`` and who has no TOTP yet, and cleared by enrolment.

No query is added to an ordinary request: the flag is on the user row the request loads anyway,
and the TOTP condition is worked out once per sign-in.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .totp import totp_enabled, totp_required_for

TOTP_ENROL = "xinfang_totp_enrol"

MUST_CHANGE_PASSWORD = "请先修改管理员重置的一次性密码。"
MUST_ENROL_TOTP = "您的角色须使用动态验证码登录，请先绑定身份验证器。"


def gate_on_sign_in(request: HttpRequest, user: Any) -> None:
    if not totp_enabled(user) and totp_required_for(user):
        request.session[TOTP_ENROL] = True
    else:
        request.session.pop(TOTP_ENROL, None)


def gate_of(request: HttpRequest) -> tuple[str, str] | None:
    """(the one page this user may use, why) or None when the user may go anywhere."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if getattr(user, "must_change_password", False):
        return "web:account_password", MUST_CHANGE_PASSWORD
    if request.session.get(TOTP_ENROL):
        return "web:account_totp", MUST_ENROL_TOTP
    return None


class CredentialGateMiddleware:
    """Goes after ``AuthenticationMiddleware`` and the session timeouts."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        gate = gate_of(request)
        if gate is not None:
            target, why = gate
            allowed = {reverse(target), reverse("web:logout")}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                if request.path.startswith("/api/"):
                    from xinfang.api.errors import error_body  # the one /api/ error shape

                    return JsonResponse(error_body("credential_required", why), status=403)
                return redirect(target)
        return self.get_response(request)
