"""Session limits: an idle timeout, an absolute lifetime, and a number of sessions per user.

- **Idle**: ``SESSION_COOKIE_AGE`` seconds without a request end the session.
- **Absolute**: ``XINFANG_SESSION_ABSOLUTE_SECONDS`` after sign-in the session ends however busy it
  is (等保: a session does not live for ever on a shared counter PC).
- **Concurrent**: at most ``XINFANG_MAX_SESSIONS_PER_USER`` sessions per user (0: no limit). A new
  sign-in ends the *oldest* session rather than being refused: a clerk who moves to another desk
  or whose browser lost its cookie is not locked out by a session they cannot reach, and a thief
  holding a stolen session is pushed out when the owner signs in. Each ending is audited.

Neither timeout depends on saving the session on every request (``SESSION_SAVE_EVERY_REQUEST``
may be off for speed): the sign-in time is stored once, and the idle marker is refreshed at most
once a minute (``IDLE_MARK_EVERY``), which is the only session write an active user causes. The
idle timeout is therefore exact to that minute.
"""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from xinfang.audit import services as audit

from .models import SignInSession

SIGNED_IN_AT = "xinfang_signed_in_at"
LAST_SEEN = "xinfang_last_seen"
IDLE_MARK_EVERY = 60  # seconds


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""


def max_sessions() -> int:
    return int(getattr(settings, "XINFANG_MAX_SESSIONS_PER_USER", 3))


def absolute_lifetime() -> int:
    return int(getattr(settings, "XINFANG_SESSION_ABSOLUTE_SECONDS", 12 * 3600))


def session_begin(request: HttpRequest, user: Any) -> None:
    """Call right after ``login()``: marks the session's start and ends the user's oldest
    sessions beyond the limit."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    if not request.session.session_key:
        request.session.save()
    key = request.session.session_key
    ended = []
    with transaction.atomic():
        # One sign-in of this user at a time, so two parallel ones cannot both stay under the
        # limit.
        get_user_model()._default_manager.select_for_update().only("pk").get(pk=user.pk)
        SignInSession.objects.update_or_create(
            session_key=key,
            defaults={
                "user": user,
                "started_at": timezone.now(),
                "ip": _client_ip(request),
                "ended_at": None,
                "ended_reason": "",
            },
        )
        limit = max_sessions()
        if limit > 0:
            open_ = list(
                SignInSession.objects.filter(user=user, ended_at=None)
                .order_by("-started_at", "-pk")
                .values_list("pk", "session_key")
            )
            ended = open_[limit:]
            if ended:
                SignInSession.objects.filter(pk__in=[pk for pk, _ in ended]).update(
                    ended_at=timezone.now(), ended_reason="session_limit"
                )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for _pk, old_key in ended:
        store(session_key=old_key).delete()
        audit.audit_record(
            action=audit.LOGOUT,
            actor=user,
            ip=_client_ip(request),
            detail={"reason": "session_limit", "limit": max_sessions()},
        )


def session_end(request: HttpRequest, *, reason: str = "logout") -> None:
    """Sign out this request's session and record why (the caller audits)."""
    key = request.session.session_key
    if key:
        SignInSession.objects.filter(session_key=key, ended_at=None).update(
            ended_at=timezone.now(), ended_reason=reason[:20]
        )
    logout(request)  # flushes the session; request.user becomes anonymous


class IdleTimeoutMiddleware:
    """Ends a session idle for ``SESSION_COOKIE_AGE`` seconds or older than the absolute
    lifetime. Goes after ``AuthenticationMiddleware``."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, user)
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: Any) -> None:
        now = time.time()
        session = request.session
        last = session.get(LAST_SEEN)
        started = session.get(SIGNED_IN_AT)
        reason = ""
        if last is not None and now - float(last) > settings.SESSION_COOKIE_AGE:
            reason = "idle_timeout"
        elif started is not None and now - float(started) > absolute_lifetime():
            reason = "absolute_lifetime"
        if reason:
            audit.audit_record(
                action=audit.LOGOUT, actor=user, ip=_client_ip(request), detail={"reason": reason}
            )
            session_end(request, reason=reason)
            return
        if started is None:
            session[SIGNED_IN_AT] = now  # a session from before this rule: its life starts now
        if last is None or now - float(last) >= IDLE_MARK_EVERY:
            session[LAST_SEEN] = now
