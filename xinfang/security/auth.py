"""Sign-in hardening (等保 2.0 身份鉴别): lockout, address throttle, TOTP, timeouts, headers.

The login view calls ``authenticate_with_lockout`` and, when it returns a user, ``login()`` and
``security.sessions.session_begin``:

    user, error = authenticate_with_lockout(request, username, password, totp_code=code)
    if user is None:
        ...show error (``error == TOTP_REQUIRED`` means: ask for the code, the password was right)

Five consecutive failures lock the account for fifteen minutes; while locked even the right
password is refused. Failures are counted under a row lock and the lock is checked again, under the
same row lock, before a success is let in — so parallel wrong passwords cannot lift a lock and a
right password racing them cannot slip inside it. A name nobody holds is answered exactly as an
account is (the same messages, the same count to a lock, the hasher run once), so the answers do
not tell which names exist. Each address is throttled as well (``XINFANG_SIGNIN_ADDRESS_LIMIT``
failures in ``XINFANG_SIGNIN_ADDRESS_WINDOW`` seconds block it), against trying a few passwords
on each of many accounts. docs/decisions/0002-sign-in-throttling.md says why this is ours and not
django-axes. Every success, failure and lockout is written to the audit trail with the address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from xinfang.audit import services as audit

from .throttle import throttle_blocked_until, throttle_hit
from .totp import (  # noqa: F401  (the TOTP functions were first imported from here)
    TOTP_ISSUER,
    _totp_secret,
    totp_disable,
    totp_enable,
    totp_verify,
)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# A name nobody holds counts to a lock like an account: consecutive failures, never reset by a
# success (there is none), so the window is as long as an account's count lasts.
NAME_WINDOW = timedelta(days=3650)
SCOPE_ADDRESS = "signin_ip"
SCOPE_NAME = "signin_name"

BAD_CREDENTIALS = "用户名或密码错误。"
TOTP_REQUIRED = "请输入动态验证码。"
BAD_TOTP = "动态验证码错误或已过期。"
ADDRESS_BLOCKED = "本地址登录失败次数过多，请稍后再试。"


def client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return (request.META.get("REMOTE_ADDR", "") if request is not None else "") or ""


def _address_limit() -> tuple[int, timedelta, timedelta]:
    return (
        int(getattr(settings, "XINFANG_SIGNIN_ADDRESS_LIMIT", 30)),
        timedelta(seconds=int(getattr(settings, "XINFANG_SIGNIN_ADDRESS_WINDOW", 15 * 60))),
        timedelta(seconds=int(getattr(settings, "XINFANG_SIGNIN_ADDRESS_BLOCK", 15 * 60))),
    )


def authenticate_with_lockout(
    request: HttpRequest | None, username: str, password: str, totp_code: str | None = None,
) -> tuple[Any | None, str]:
    """Check the credentials under the lockout rules. Returns ``(user, "")`` or
    ``(None, message)``; does not log the user in."""
    ip = client_ip(request)
    now = timezone.now()
    if ip and throttle_blocked_until(scope=SCOPE_ADDRESS, key=ip, now=now):
        audit.audit_record(action=audit.LOGIN_FAILED, actor_name=username[:150], ip=ip, at=now,
                           detail={"reason": "address_blocked"})
        return None, ADDRESS_BLOCKED

    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    folded = User.normalize_username(username)
    if user is None and folded != username:
        # Typed in an input method's full-width mode ("ｗａｎｇｗｕ"): the half-width account,
        # as accounts are named (``admin_services.user_create`` folds the name it is given).
        user = User._default_manager.filter(**{User.USERNAME_FIELD: folded}).first()
        username = folded if user is not None else username
    if user is None:
        return None, _fail_unknown(username, password, ip=ip, now=now)

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

    with transaction.atomic():
        # Again under the row lock: a lock set by a parallel failure since the first look holds.
        row = locked_user(User, user.pk, "locked_until")
        if row.locked_until and row.locked_until > now:
            audit.audit_record(action=audit.LOGIN_FAILED, actor=user, ip=ip, at=now,
                               detail={"reason": "locked"})
            user.locked_until = row.locked_until
            return None, _locked_message(row.locked_until)
        User._default_manager.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.audit_record(action=audit.LOGIN, actor=user, ip=ip, at=now)
    user.failed_logins, user.locked_until = 0, None
    return user, ""


def locked_user(User, pk: int, *fields: str):
    """The user's row (``fields`` of it, or all of it) under a row lock until the transaction
    ends, taken FOR NO KEY UPDATE: it keeps a parallel request from changing the row, not from
    inserting a row that names the user. Under FOR UPDATE a parallel request holding the audit
    chain's lock (``audit_record``) waited on this row to insert its entry naming the user,
    while this transaction waited on the chain's lock to audit: a deadlock (seen in CI, sixteen
    wrong passwords at once). No-op where the database locks no rows (SQLite)."""
    rows = User._default_manager.select_for_update(no_key=True)
    return (rows.only("pk", *fields) if fields else rows).get(pk=pk)


def _fail(user: Any, *, ip: str, now, reason: str, message: str) -> str:
    User = type(user)
    with transaction.atomic():
        row = locked_user(User, user.pk, "failed_logins", "locked_until")
        if row.locked_until and row.locked_until > now:
            # Locked by a parallel request since this one looked: refused, and the lock stays.
            audit.audit_record(action=audit.LOGIN_FAILED, actor=user, ip=ip, at=now,
                               detail={"reason": "locked"})
            user.failed_logins, user.locked_until = row.failed_logins, row.locked_until
            return _locked_message(row.locked_until)
        # A lock that has run out: count afresh.
        failures = (0 if row.locked_until else row.failed_logins) + 1
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
    _count_address(ip, now=now)
    return _failure_message(message, failures, locked_until)


def password_check_failed(
    user: Any, *, message: str, ip: str = "", reason: str = "password_change"
) -> str:
    """A wrong current password given elsewhere than the sign-in page (changing one's own
    password) counts towards the same lock, so a borrowed session cannot guess it unchecked."""
    return _fail(user, ip=ip, now=timezone.now(), reason=reason, message=message)


def locked_message(user: Any) -> str:
    """The lock's message if ``user`` is locked now, else ``""``."""
    until = user.locked_until
    return _locked_message(until) if until and until > timezone.now() else ""


def _fail_unknown(username: str, password: str, *, ip: str, now) -> str:
    """A name nobody holds: the same work, the same words and the same lock as an account."""
    name = username[:150]
    blocked = throttle_blocked_until(scope=SCOPE_NAME, key=name, now=now)
    if blocked:
        audit.audit_record(action=audit.LOGIN_FAILED, actor_name=name, ip=ip, at=now,
                           detail={"reason": "locked", "unknown_user": True})
        return _locked_message(blocked)
    make_password(password)  # the hasher's work, as for an account: no timing oracle on names
    hit = throttle_hit(scope=SCOPE_NAME, key=name, limit=MAX_FAILURES, window=NAME_WINDOW,
                       block=LOCKOUT, now=now)
    audit.audit_record(action=audit.LOGIN_FAILED, actor_name=name, ip=ip, at=now,
                       detail={"reason": "unknown_user", "failures": hit.count})
    if hit.blocked_until:
        audit.audit_record(action=audit.LOCKOUT, actor_name=name, ip=ip, at=now,
                           detail={"failures": hit.count, "until": hit.blocked_until.isoformat(),
                                   "unknown_user": True})
    _count_address(ip, now=now)
    return _failure_message(BAD_CREDENTIALS, hit.count, hit.blocked_until)


def _count_address(ip: str, *, now) -> None:
    if not ip:
        return
    limit, window, block = _address_limit()
    hit = throttle_hit(scope=SCOPE_ADDRESS, key=ip, limit=limit, window=window, block=block,
                       now=now)
    if hit.blocked_until:
        audit.audit_record(action=audit.LOCKOUT, ip=ip, at=now, object_type="address",
                           object_id=ip, detail={"failures": hit.count,
                                                 "until": hit.blocked_until.isoformat()})


def _failure_message(message: str, failures: int, locked_until) -> str:
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


# -- middleware ------------------------------------------------------------------------------------

# The session timeouts live in ``security.sessions``; settings name the middleware from here.
from .sessions import IdleTimeoutMiddleware  # noqa: E402, F401

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
    that turns off device APIs the system never uses. A view may set its own CSP first.

    Nothing this process answers is kept by the browser unless its view says so: a work queue,
    the ledger or an API answer shows people, an office's PC is shared, and a page in the
    browser's cache (or behind its back button) outlived the clerk's sign-out; only a few views
    said ``never_cache``. The static files never reach here (WhiteNoise answers them first)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "Cache-Control" not in response.headers:
            add_never_cache_headers(response)
        return response
