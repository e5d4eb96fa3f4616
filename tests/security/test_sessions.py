"""Session limits (issue 8): at most N sessions per user (a new sign-in ends the oldest), an
absolute lifetime however busy the session is, and an idle timeout that does not need the session
saved on every request."""

import time

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.security.models import SignInSession
from xinfang.security.sessions import LAST_SEEN, SIGNED_IN_AT

pytestmark = pytest.mark.django_db

PASSWORD = "Xinfang#2026demo"


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.XINFANG_TOTP_REQUIRED_ROLES = []
    settings.SESSION_SAVE_EVERY_REQUEST = False  # as a fast deployment may run


def sign_in(username="clerk", ip="192.0.2.60"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("web:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def signed_out(client) -> bool:
    response = client.get(reverse("web:home"))
    return response.status_code == 302 and reverse("web:login") in response["Location"]


def shift(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


def test_a_sign_in_beyond_the_limit_ends_the_oldest_session(jianan, settings):
    settings.XINFANG_MAX_SESSIONS_PER_USER = 2
    first, second = sign_in(ip="192.0.2.61"), sign_in(ip="192.0.2.62")
    assert not signed_out(first) and not signed_out(second)

    third = sign_in(ip="192.0.2.63")

    assert signed_out(first)
    assert not signed_out(second) and not signed_out(third)
    ended = SignInSession.objects.get(ended_at__isnull=False)
    assert (ended.ip, ended.ended_reason) == ("192.0.2.61", "session_limit")
    entry = AuditEntry.objects.filter(action="logout").order_by("-id").first()
    assert entry.detail == {"reason": "session_limit", "limit": 2}
    # other users are not counted against the clerk
    assert not signed_out(sign_in("approver"))


def test_signing_out_frees_a_place(jianan, settings):
    settings.XINFANG_MAX_SESSIONS_PER_USER = 1
    first = sign_in()
    first.post(reverse("web:logout"))
    second = sign_in()
    assert not signed_out(second)
    assert SignInSession.objects.filter(ended_reason="logout").count() == 1
    assert not AuditEntry.objects.filter(detail__reason="session_limit").exists()


def test_no_limit_when_set_to_zero(jianan, settings):
    settings.XINFANG_MAX_SESSIONS_PER_USER = 0
    clients = [sign_in(ip=f"192.0.2.{70 + i}") for i in range(4)]
    assert not any(signed_out(c) for c in clients)


def test_a_busy_session_ends_at_its_absolute_lifetime(jianan, settings):
    settings.XINFANG_SESSION_ABSOLUTE_SECONDS = 8 * 3600
    client = sign_in()
    # active a moment ago, but signed in more than eight hours ago
    shift(client, **{SIGNED_IN_AT: 8 * 3600 + 5, LAST_SEEN: 10})

    assert signed_out(client)
    entry = AuditEntry.objects.filter(action="logout").order_by("-id").first()
    assert entry.detail == {"reason": "absolute_lifetime"}
    assert SignInSession.objects.get().ended_reason == "absolute_lifetime"


def test_an_idle_session_ends_without_saving_on_every_request(jianan):
    client = sign_in()
    shift(client, **{LAST_SEEN: django_settings.SESSION_COOKIE_AGE + 5})

    assert signed_out(client)
    assert AuditEntry.objects.filter(detail__reason="idle_timeout").count() == 1


def test_the_idle_marker_is_written_at_most_once_a_minute(jianan):
    client = sign_in()
    home = reverse("web:home")
    # within the minute: nothing to save, no new cookie
    response = client.get(home)
    assert response.status_code == 200
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies
    # a minute on: the marker moves, and the session (and its cookie) is saved once
    shift(client, **{LAST_SEEN: 61})
    response = client.get(home)
    assert django_settings.SESSION_COOKIE_NAME in response.cookies
    assert time.time() - client.session[LAST_SEEN] < 5
    # so a user active every few minutes stays signed in past the idle timeout
    assert not signed_out(client)


def test_a_session_is_read_as_djangos_database_sessions_read_it(jianan):
    """``security.session_store`` reads a request's session by a statement written once: the
    data of an unexpired session; nothing, the key forgotten, for an expired or unknown one —
    as ``django.contrib.sessions.backends.db`` does — and one statement a read."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore as Django
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from xinfang.security.session_store import SessionStore

    assert django_settings.SESSION_ENGINE == "xinfang.security.session_store"
    live, old = SessionStore(), SessionStore()
    live["membership_id"], old["membership_id"] = 7, 8
    live.save()
    old.save()
    Session.objects.filter(session_key=old.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    for key in (live.session_key, old.session_key, "nosuchsessionkey0123", "short"):
        ours, theirs = SessionStore(session_key=key), Django(session_key=key)
        with CaptureQueriesContext(connection) as q:
            read = ours.load()
        assert read == theirs.load(), key
        assert (ours.session_key, len(q)) == (theirs.session_key, 1)
    assert SessionStore(session_key=live.session_key).load() == {"membership_id": 7}
    # and a signed-in client is served on it
    client = sign_in()
    assert client.get(reverse("web:home")).status_code == 200
