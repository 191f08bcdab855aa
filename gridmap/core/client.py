"""Who is on the other end: the one place that decides a request's client address and whether
its ``X-Forwarded-*`` headers may be believed.

A reverse proxy in front of gunicorn says who its client was (``X-Forwarded-For``) and whether the
client spoke HTTPS (``X-Forwarded-Proto``). Anyone can send those headers, so they count only when
the request comes from an address listed in ``GRIDMAP_TRUSTED_PROXIES`` (addresses or networks,
comma-separated; empty by default: no proxy is trusted). ``ForwardedHeadersMiddleware`` removes
them from every other request before anything reads them, so Django's ``SECURE_PROXY_SSL_HEADER``
(set only when proxies are configured) cannot be fooled by a direct client either.

Login throttling, Open311 rate limits and the request log all take the address from
:func:`client_address`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_FORWARDED")  # fmt: skip
MAX_HOPS = 20  # X-Forwarded-For entries read (right to left) at most


def parse_proxies(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; a wrong entry stops the start, naming it."""
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as e:
            raise ImproperlyConfigured(
                f"GRIDMAP_TRUSTED_PROXIES: {item!r} is not an address or network"
            ) from e
    return tuple(networks)


@lru_cache(maxsize=4)
def _trusted(setting: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_proxies(setting)


def trusted_proxies() -> tuple[Network, ...]:
    return _trusted(tuple(getattr(settings, "GRIDMAP_TRUSTED_PROXIES", ()) or ()))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    return address is not None and any(address in net for net in trusted_proxies())


def from_trusted_proxy(request: HttpRequest) -> bool:
    """True when the peer of this connection is a configured proxy."""
    return _is_trusted(_address(request.META.get("REMOTE_ADDR", "")))


def client_address(request: HttpRequest) -> str:
    """The client's IP address as text ('unknown' when there is none).

    The peer address, unless the peer is a trusted proxy: then ``X-Forwarded-For`` is read from
    the right, skipping trusted proxies; the first address that is not one is the client. A
    malformed entry ends the walk at the last good address (a client cannot choose its own).
    """
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return "unknown"
    found = peer
    if _is_trusted(peer):
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-MAX_HOPS:]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break
            found = address
            if not _is_trusted(address):
                break
    return str(found)


class ForwardedHeadersMiddleware:
    """Removes ``X-Forwarded-*`` and ``Forwarded`` from requests that did not come through a
    trusted proxy. First in MIDDLEWARE, before SecurityMiddleware reads the scheme."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
