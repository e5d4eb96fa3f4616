"""Sign-in hardening: five failures lock the account for fifteen minutes, TOTP as a second factor,
every attempt audited; idle sessions end; strict security headers."""

import time
from datetime import timedelta

import pyotp
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, models
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry
from xinfang.org.models import User
from xinfang.security import auth
from xinfang.security.auth import (
    BAD_TOTP,
    TOTP_REQUIRED,
    IdleTimeoutMiddleware,
    SecurityHeadersMiddleware,
    authenticate_with_lockout,
    totp_disable,
    totp_enable,
)
from xinfang.security.crypto import is_token
from xinfang.security.fields import EncryptedTextField

PASSWORD = "Qingshui#2026"


@pytest.fixture
def user(db):
    return User.objects.create_user(username="lisi", full_name="李四", password=PASSWORD)


@pytest.fixture
def request_from():
    def _request(ip="192.0.2.7"):
        return RequestFactory().post("/login/", REMOTE_ADDR=ip)
    return _request


def sign_in(request_from, password=PASSWORD, code=None, username="lisi"):
    return authenticate_with_lockout(request_from(), username, password, totp_code=code)


def actions():
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_the_right_password_signs_in_and_is_audited_with_the_address(user, request_from):
    signed_in, error = sign_in(request_from)

    assert signed_in == user and error == ""
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.ip) == (audit.LOGIN, user.pk, "192.0.2.7")


def test_a_wrong_password_is_refused_counted_and_audited(user, request_from):
    signed_in, error = sign_in(request_from, password="wrong")

    assert signed_in is None
    assert "用户名或密码错误" in error and "再失败 4 次" in error
    user.refresh_from_db()
    assert user.failed_logins == 1
    assert actions() == [audit.LOGIN_FAILED]


def test_an_unknown_user_is_refused_with_the_same_message_and_audited(db, request_from):
    signed_in, error = sign_in(request_from, username="nobody")

    assert signed_in is None
    assert error == f"{auth.BAD_CREDENTIALS}再失败 4 次账户将被锁定 15 分钟。"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_name, entry.detail["reason"]) == (
        audit.LOGIN_FAILED, "nobody", "unknown_user")


def test_five_failures_in_a_row_lock_the_account_for_fifteen_minutes(user, request_from):
    for _ in range(4):
        sign_in(request_from, password="wrong")

    before = timezone.now()
    signed_in, error = sign_in(request_from, password="wrong")

    assert signed_in is None
    assert "连续 5 次登录失败" in error and "账户已锁定" in error
    user.refresh_from_db()
    assert user.locked_until - before >= timedelta(minutes=15) - timedelta(seconds=1)
    assert user.locked_until - before <= timedelta(minutes=15, seconds=5)
    assert actions() == [audit.LOGIN_FAILED] * 5 + [audit.LOCKOUT]
    assert AuditEntry.objects.get(action=audit.LOCKOUT).ip == "192.0.2.7"


def test_a_locked_account_is_refused_even_with_the_right_password(user, request_from):
    for _ in range(5):
        sign_in(request_from, password="wrong")
    user.refresh_from_db()
    until = timezone.localtime(user.locked_until)

    signed_in, error = sign_in(request_from)

    assert signed_in is None
    assert f"{until:%Y-%m-%d %H:%M}" in error  # says until when
    assert AuditEntry.objects.filter(action=audit.LOGIN).count() == 0
    assert AuditEntry.objects.order_by("-id").first().detail["reason"] == "locked"


def test_a_lock_that_has_run_out_lets_the_right_password_in_and_counts_afresh(user, request_from):
    User.objects.filter(pk=user.pk).update(
        failed_logins=0, locked_until=timezone.now() - timedelta(seconds=1))

    signed_in, _ = sign_in(request_from)

    assert signed_in == user
    user.refresh_from_db()
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_success_resets_the_failure_count(user, request_from):
    for _ in range(4):
        sign_in(request_from, password="wrong")

    sign_in(request_from)
    signed_in, error = sign_in(request_from, password="wrong")

    assert "再失败 4 次" in error
    user.refresh_from_db()
    assert user.failed_logins == 1


def test_an_inactive_user_cannot_sign_in(user, request_from):
    User.objects.filter(pk=user.pk).update(is_active=False)

    signed_in, error = sign_in(request_from)

    assert signed_in is None and "用户名或密码错误" in error


# -- TOTP -----------------------------------------------------------------------------------------


def _secret_column_too_short() -> bool:
    field = User._meta.get_field("totp_secret")
    return (
        connection.vendor == "postgresql"
        and isinstance(field, models.CharField)
        and not isinstance(field, EncryptedTextField)
        and (field.max_length or 0) < 128
    )


def _secret_of(user) -> str:
    return pyotp.parse_uri(totp_enable(user)).secret


def test_totp_secret_is_stored_encrypted(user):
    uri = totp_enable(user)

    assert uri.startswith("otpauth://totp/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM org_user WHERE id = %s", [user.pk])
        stored = cursor.fetchone()[0]
    assert is_token(stored)
    assert pyotp.parse_uri(uri).secret not in stored
    assert AuditEntry.objects.get().detail == {"change": "totp_enable"}


def test_with_totp_the_password_alone_is_not_enough(user, request_from):
    secret = _secret_of(user)

    assert sign_in(request_from) == (None, TOTP_REQUIRED)
    assert sign_in(request_from, code="000000" if pyotp.TOTP(secret).now() != "000000"
                   else "111111")[1].startswith(BAD_TOTP)
    signed_in, error = sign_in(request_from, code=pyotp.TOTP(secret).now())

    assert signed_in == user and error == ""


def test_wrong_totp_codes_count_towards_the_lockout(user, request_from):
    secret = _secret_of(user)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"

    for _ in range(5):
        sign_in(request_from, code=wrong)

    user.refresh_from_db()
    assert user.locked_until is not None
    assert sign_in(request_from, code=pyotp.TOTP(secret).now())[0] is None


def test_totp_disable_returns_to_password_only(user, request_from):
    _secret_of(user)
    totp_disable(user)

    assert sign_in(request_from)[0] == user
    assert AuditEntry.objects.filter(action=audit.PROFILE_CHANGE).count() == 2


# -- middleware -----------------------------------------------------------------------------------


def _session_request(user):
    request = RequestFactory().get("/cases/", REMOTE_ADDR="192.0.2.9")
    request.session = SessionStore()
    request.session["_auth_user_id"] = str(user.pk)
    request.session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    request.session["_auth_user_hash"] = user.get_session_auth_hash()
    request.user = user
    return request


def test_an_active_session_stays_signed_in(user, settings):
    request = _session_request(user)
    request.session["xinfang_last_seen"] = time.time() - settings.SESSION_COOKIE_AGE + 60

    IdleTimeoutMiddleware(lambda r: HttpResponse())(request)

    assert request.user == user
    assert time.time() - request.session["xinfang_last_seen"] < 5


def test_an_idle_session_is_signed_out_and_audited(user, settings):
    request = _session_request(user)
    request.session["xinfang_last_seen"] = time.time() - settings.SESSION_COOKIE_AGE - 1
    seen = {}

    def view(r):
        seen["user"] = r.user
        return HttpResponse()

    IdleTimeoutMiddleware(view)(request)

    assert isinstance(seen["user"], AnonymousUser)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.detail) == (
        audit.LOGOUT, user.pk, {"reason": "idle_timeout"})


def test_security_headers_are_strict():
    response = SecurityHeadersMiddleware(lambda r: HttpResponse())(RequestFactory().get("/"))

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]
