"""Sign-in hardening (等保 2.0 身份鉴别): lockout, optional TOTP, idle timeout, security headers.

The login view calls ``authenticate_with_lockout`` and, when it returns a user, ``login()``:

    user, error = authenticate_with_lockout(request, username, password, totp_code=code)
    if user is None:
        ...show error (``error == TOTP_REQUIRED`` means: ask for the code, the password was right)
    else:
        login(request, user)

Five consecutive failures lock the account for fifteen minutes; while locked even the right
password is refused. Every success, failure and lockout is written to the audit trail with the
client address.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, logout
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from xinfang.audit import services as audit
from xinfang.security.crypto import get_keyring, is_token
from xinfang.security.fields import EncryptedTextField

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
TOTP_ISSUER = "信访业务系统"

BAD_CREDENTIALS = "用户名或密码错误。"
TOTP_REQUIRED = "请输入动态验证码。"
BAD_TOTP = "动态验证码错误或已过期。"


def client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return (request.META.get("REMOTE_ADDR", "") if request is not None else "") or ""


def authenticate_with_lockout(
    request: HttpRequest | None, username: str, password: str, totp_code: str | None = None,
) -> tuple[Any | None, str]:
    """Check the credentials under the lockout rule. Returns ``(user, "")`` or ``(None, message)``;
    does not log the user in."""
    ip = client_ip(request)
    now = timezone.now()
    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        make_password(password)  # the same work as for a real user: no timing oracle on names
        audit.audit_record(action=audit.LOGIN_FAILED, actor_name=username, ip=ip, at=now,
                           detail={"reason": "unknown_user"})
        return None, BAD_CREDENTIALS

    if user.locked_until and user.locked_until > now:
        audit.audit_record(action=audit.LOGIN_FAILED, actor=user, ip=ip, at=now,
                           detail={"reason": "locked"})
        return None, _locked_message(user.locked_until)

    if authenticate(request, username=username, password=password) is None:
        return None, _fail(user, ip=ip, now=now, reason="password", message=BAD_CREDENTIALS)

    if _totp_secret(user):
        if not totp_code:
            return None, TOTP_REQUIRED
        if not totp_verify(user, totp_code):
            return None, _fail(user, ip=ip, now=now, reason="totp", message=BAD_TOTP)

    User._default_manager.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    user.failed_logins, user.locked_until = 0, None
    audit.audit_record(action=audit.LOGIN, actor=user, ip=ip, at=now)
    return user, ""


def _fail(user: Any, *, ip: str, now, reason: str, message: str) -> str:
    User = type(user)
    with transaction.atomic():
        row = User._default_manager.select_for_update().get(pk=user.pk)
        if row.locked_until and row.locked_until <= now:
            row.failed_logins = 0  # the previous lock has run out: count afresh
        failures = row.failed_logins + 1
        locked_until = now + LOCKOUT if failures >= MAX_FAILURES else None
        User._default_manager.filter(pk=user.pk).update(
            failed_logins=0 if locked_until else failures, locked_until=locked_until,
        )
        audit.audit_record(action=audit.LOGIN_FAILED, actor=user, ip=ip, at=now,
                           detail={"reason": reason, "failures": failures})
        if locked_until:
            audit.audit_record(action=audit.LOCKOUT, actor=user, ip=ip, at=now,
                               detail={"failures": failures, "until": locked_until.isoformat()})
    user.failed_logins = 0 if locked_until else failures
    user.locked_until = locked_until
    if locked_until:
        return f"连续 {MAX_FAILURES} 次登录失败，" + _locked_message(locked_until)
    left = MAX_FAILURES - failures
    return f"{message}再失败 {left} 次账户将被锁定 {int(LOCKOUT.total_seconds() // 60)} 分钟。"


def _locked_message(until) -> str:
    return (f"账户已锁定，请于 {timezone.localtime(until):%Y-%m-%d %H:%M} 后再试，"
            "或联系安全管理员解锁。")


def account_unlock(*, user: Any, by: Any, ip: str = "") -> None:
    """The security administrator lifts a lockout."""
    type(user)._default_manager.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    user.failed_logins, user.locked_until = 0, None
    audit.audit_record(action=audit.PERMISSION_CHANGE, actor=by, object_type="user",
                       object_id=user.pk, ip=ip, detail={"change": "unlock"})


# -- TOTP ------------------------------------------------------------------------------------------


def totp_enable(user: Any, *, ip: str = "") -> str:
    """Give the user a fresh TOTP secret and return its ``otpauth://`` provisioning URI (show it
    as a QR code once; it is not retrievable later)."""
    secret = pyotp.random_base32()
    _store_secret(user, secret)
    audit.audit_record(action=audit.PROFILE_CHANGE, actor=user, object_type="user",
                       object_id=user.pk, ip=ip, detail={"change": "totp_enable"})
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def totp_disable(user: Any, *, by: Any = None, ip: str = "") -> None:
    _store_secret(user, "")
    audit.audit_record(action=audit.PROFILE_CHANGE, actor=by or user, object_type="user",
                       object_id=user.pk, ip=ip, detail={"change": "totp_disable"})


def totp_verify(user: Any, code: str) -> bool:
    secret = _totp_secret(user)
    code = "".join(ch for ch in str(code) if not ch.isspace())
    # One step either side: phone clocks drift.
    return bool(secret) and pyotp.TOTP(secret).verify(code, valid_window=1)


def _secret_field_encrypts(user: Any) -> bool:
    return isinstance(type(user)._meta.get_field("totp_secret"), EncryptedTextField)


def _store_secret(user: Any, secret: str) -> None:
    if _secret_field_encrypts(user):
        user.totp_secret = secret  # the field encrypts on write
    else:
        user.totp_secret = get_keyring().encrypt(secret) if secret else ""
    type(user)._default_manager.filter(pk=user.pk).update(totp_secret=user.totp_secret)


def _totp_secret(user: Any) -> str:
    value = user.totp_secret or ""
    return get_keyring().decrypt(value) if is_token(value) else value


# -- middleware ------------------------------------------------------------------------------------

_LAST_SEEN = "xinfang_last_seen"


class IdleTimeoutMiddleware:
    """Sign the user out after ``SESSION_COOKIE_AGE`` seconds without a request. Goes after
    ``AuthenticationMiddleware``. (The session's own expiry does the same for the cookie; this
    also holds when the session outlives it, e.g. a remembered browser tab.)"""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(_LAST_SEEN)
            if last is not None and now - float(last) > settings.SESSION_COOKIE_AGE:
                audit.audit_record(action=audit.LOGOUT, actor=user, ip=client_ip(request),
                                   detail={"reason": "idle_timeout"})
                logout(request)  # flushes the session; request.user becomes anonymous
            else:
                request.session[_LAST_SEEN] = now
        return self.get_response(request)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (no inline script or style) and a Permissions-Policy
    that turns off device APIs the system never uses. A view may set its own CSP first."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
