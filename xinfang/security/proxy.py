"""The client's address and scheme behind a reverse proxy we trust — and only behind one.

``XINFANG_TRUSTED_PROXIES`` lists the addresses (or networks, ``10.0.0.0/8``) of the proxies that
terminate TLS in front of the application server (nginx on the same host: ``127.0.0.1,::1``).
Empty — the default — trusts nobody.

For a request whose peer (``REMOTE_ADDR``) is a trusted proxy, :class:`TrustedProxyMiddleware`

- takes the client's address from ``X-Forwarded-For``: walking the list from the right (the hop
  the proxy itself appended), it skips further trusted proxies and stops at the first address
  that is not one — what a client typed on the left of the list is never believed;
- keeps ``X-Forwarded-Proto``, which ``SECURE_PROXY_SSL_HEADER`` then reads (secure cookies,
  HSTS, the HTTPS redirect).

For every other peer both headers are removed before anything reads them: a client talking to
the application server directly cannot claim another address (and so escape the sign-in
throttle or forge the audit trail's address) or claim HTTPS.

It rewrites ``REMOTE_ADDR``, so everything that reads it — ``security.auth.client_ip``, the
sign-in throttles, the audit trail, the session records — sees the real client; the proxy's own
address is kept in ``META["XINFANG_PEER_ADDR"]``. It must run first (settings ``MIDDLEWARE``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"
PEER = "XINFANG_PEER_ADDR"


def parse_networks(values: Iterable[str] | str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` or a list of such → networks; a bad entry is named."""
    if isinstance(values, str):
        values = values.split(",")
    out = []
    for raw in values:
        v = raw.strip()
        if not v:
            continue
        try:
            out.append(ipaddress.ip_network(v, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"XINFANG_TRUSTED_PROXIES: {v!r} is not an IP address or network"
            ) from None
    return tuple(out)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def trusted_networks() -> tuple[Network, ...]:
    values = getattr(settings, "XINFANG_TRUSTED_PROXIES", ()) or ()
    if isinstance(values, str):
        values = values.split(",")
    return _networks(tuple(values))


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in n for n in networks)


def real_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client's address for a request from ``peer`` carrying ``forwarded_for``.

    Only a trusted peer's header is read, from the right; the first hop that is not a trusted
    proxy is the client. A malformed hop ends the walk at the last good address (the proxy's
    own, at worst) — never skipped over to something further left."""
    if not networks or not is_trusted(peer, networks):
        return peer
    client = peer
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        ip = _ip(hop)
        if ip is None:
            break
        client = str(ip)
        if not any(ip in n for n in networks):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "") or ""
        meta[PEER] = peer
        networks = trusted_networks()
        if networks and is_trusted(peer, networks):
            meta["REMOTE_ADDR"] = real_client(peer, meta.get(FORWARDED_FOR, ""), networks)
        else:
            meta.pop(FORWARDED_FOR, None)
            meta.pop(FORWARDED_PROTO, None)
            meta.pop("HTTP_FORWARDED", None)
            ssl_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
            if ssl_header:
                meta.pop(ssl_header[0], None)
        return self.get_response(request)
