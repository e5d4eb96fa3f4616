"""The client's address behind a trusted proxy, and only behind one (xinfang/security/proxy.py):
the sign-in throttle and the audit trail see the real address when the TLS proxy forwards it,
and the peer's own address when anyone else sends X-Forwarded-For."""

from __future__ import annotations

import pytest
from django.test import override_settings

from xinfang.audit.models import AuditEntry
from xinfang.security.models import Throttle
from xinfang.security.proxy import parse_networks, real_client

NETS = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize(
    "peer, header, expected",
    [
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),  # the proxy appended the client
        ("127.0.0.1", "203.0.113.66, 198.51.100.7", "198.51.100.7"),  # typed on the left: no
        ("127.0.0.1", "198.51.100.7, 10.1.2.3", "198.51.100.7"),  # through two of our proxies
        ("127.0.0.1", "", "127.0.0.1"),  # no header: the proxy itself
        ("127.0.0.1", "junk, 198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "198.51.100.7, junk", "127.0.0.1"),  # malformed hop: stop, skip nothing
        ("127.0.0.1", "10.1.2.3", "10.1.2.3"),  # all trusted: the leftmost
        ("::1", "[2001:db8::5]:4711", "2001:db8::5"),
        ("127.0.0.1", "198.51.100.7:5555", "198.51.100.7"),
        ("198.51.100.9", "203.0.113.66", "198.51.100.9"),  # untrusted peer: header ignored
    ],
)
def test_real_client(peer, header, expected):
    assert real_client(peer, header, NETS) == expected


def test_nobody_trusted_by_default():
    assert real_client("127.0.0.1", "198.51.100.7", ()) == "127.0.0.1"


def test_a_bad_setting_is_named():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="nginx"):
        parse_networks("127.0.0.1, nginx")


def _fail_login(client, **meta):
    return client.post("/login/", {"username": "nobody", "password": "wrong-password-1"}, **meta)


@pytest.mark.django_db
@override_settings(XINFANG_TRUSTED_PROXIES=["127.0.0.1"])
def test_audit_and_throttle_use_the_forwarded_address_from_the_proxy(client, jianan):
    _fail_login(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66, 198.51.100.7")
    entry = AuditEntry.objects.filter(action="login_failed").latest("pk")
    assert entry.ip == "198.51.100.7"
    assert Throttle.objects.filter(scope="signin_ip", key="198.51.100.7").exists()
    assert not Throttle.objects.filter(key__in=["127.0.0.1", "203.0.113.66"]).exists()


@pytest.mark.django_db
@override_settings(XINFANG_TRUSTED_PROXIES=["127.0.0.1"])
def test_an_untrusted_peer_cannot_claim_another_address(client, jianan):
    _fail_login(client, REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR="198.51.100.7")
    entry = AuditEntry.objects.filter(action="login_failed").latest("pk")
    assert entry.ip == "192.0.2.50"
    assert Throttle.objects.filter(scope="signin_ip", key="192.0.2.50").exists()
    assert not Throttle.objects.filter(key="198.51.100.7").exists()


@pytest.mark.django_db
def test_without_trusted_proxies_the_header_is_ignored(client, jianan):
    _fail_login(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AuditEntry.objects.filter(action="login_failed").latest("pk").ip == "127.0.0.1"


@pytest.mark.django_db
@override_settings(
    XINFANG_TRUSTED_PROXIES=["127.0.0.1"],
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_HSTS_SECONDS=3600,
    SECURE_SSL_REDIRECT=True,
    SECURE_REDIRECT_EXEMPT=[r"^healthz$"],
)
def test_https_only_when_the_trusted_proxy_says_so(client):
    r = client.get("/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert r.status_code == 200
    assert r["Strict-Transport-Security"] == "max-age=3600"
    # The same claim from elsewhere is removed: plain HTTP, redirected, no HSTS.
    r = client.get("/login/", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_PROTO="https")
    assert r.status_code == 301 and r["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in r
    # The monitor's plain-HTTP probe is not redirected.
    assert client.get("/healthz", REMOTE_ADDR="127.0.0.1").status_code in (200, 503)
