"""Content-Security-Policy on every response.

Everything the site loads comes from itself (scripts, styles, icons, the API docs), images also
from ``data:``/``blob:`` and from the configured tile server, nothing may frame the site but the
site itself (the map pages show their map in an iframe of their own), no plugins, no ``<base>``
and no form posting elsewhere.

``'unsafe-inline'`` stays in ``script-src`` and ``style-src`` because the maps need it: a map is a
document folium writes, with its layers, popups and controls as inline scripts and inline
styles generated per request, and Leaflet's popups carry ``style`` attributes. A nonce would have
to be written into every such script by the map builder itself (a nonce added to every
``<script>`` on the way out would bless an injected one too), so it is not done here. What the
policy still stops: any script, style, frame, font or connection from another origin, which on
an intranet is how a stored payload would call out. Stored text is escaped where it is written;
the browser tests load every map page under this policy with no violation.

``GRIDMAP_CSP=report-only`` sends the same policy as ``Content-Security-Policy-Report-Only``
(to try a change); ``off`` sends none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from gridmap.core.basemap import tile_config

HEADERS = {"on": "Content-Security-Policy", "report-only": "Content-Security-Policy-Report-Only"}


def tile_origins(template: str) -> tuple[str, ...]:
    """The origin(s) a tile template loads images from; ``{s}`` in the host becomes ``*``."""
    parts = urlsplit(template)
    if not parts.scheme or not parts.netloc:
        return ()  # served by this site
    host = parts.netloc.rpartition("@")[2]
    labels = host.split(".")
    if any("{" in label for label in labels):
        labels = ["*" if "{" in label else label for label in labels]
        while len(labels) > 1 and labels[1] == "*":  # "*.*.x" is not a source expression
            labels.pop(0)
        host = ".".join(labels)
    return (f"{parts.scheme}://{host}",)


@lru_cache(maxsize=8)
def _policy(template: str) -> str:
    images = " ".join(("'self'", "data:", "blob:", *tile_origins(template)))
    directives = {
        "default-src": "'self'",
        "script-src": "'self' 'unsafe-inline'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": images,
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "frame-src": "'self'",
        "frame-ancestors": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def policy() -> str:
    config = tile_config()
    return _policy("" if config.served_here else config.template)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        header = HEADERS.get(getattr(settings, "GRIDMAP_CSP", "on"))
        if header and header not in response:
            response[header] = policy()
        return response
