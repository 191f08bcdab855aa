"""Content-Security-Policy on every response.

Everything the site loads comes from itself (scripts, styles, icons, the API docs), images also
from ``data:``/``blob:`` and from the configured tile server, nothing may frame the site but the
site itself (the map pages show their map in an iframe of their own), no plugins, no ``<base>``
and no form posting elsewhere.

Scripts: ``script-src 'self'`` alone on every page — no inline script, no ``javascript:`` URL, no
event-handler attribute runs, so text stored by a user cannot become a script even if it were
ever written unescaped. The few documents that are inline scripts by construction are named in
``INLINE_SCRIPT_VIEWS`` and get ``'unsafe-inline'`` for scripts: the maps folium writes per
request (grid, community, planner maps, the route page's map), the admin's geometry widget
(Django's OpenLayers template) and the API docs (Swagger UI's start-up script). A nonce would
have to be written into each such script by its maker (a nonce stamped on every ``<script>`` on
the way out would bless an injected one too); for those documents the policy still stops any
script, frame, font or connection from another origin. Styles keep ``'unsafe-inline'``
everywhere: Leaflet's popups and the charts carry ``style`` attributes.

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
# (namespace, url name) of the documents that are inline scripts by construction; "*": all of it
INLINE_SCRIPT_VIEWS = frozenset(
    {
        ("", "grid-map"),
        ("", "community-map"),
        ("", "planner-map"),
        ("", "route"),
        ("api", "docs"),
        ("admin", "*"),
    }
)


def needs_inline_scripts(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    namespace = match.namespace or ""
    return (namespace, match.url_name or "") in INLINE_SCRIPT_VIEWS or (namespace, "*") in INLINE_SCRIPT_VIEWS


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


@lru_cache(maxsize=16)
def _policy(template: str, inline_scripts: bool = False) -> str:
    images = " ".join(("'self'", "data:", "blob:", *tile_origins(template)))
    directives = {
        "default-src": "'self'",
        "script-src": "'self' 'unsafe-inline'" if inline_scripts else "'self'",
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


def policy(inline_scripts: bool = False) -> str:
    config = tile_config()
    return _policy("" if config.served_here else config.template, inline_scripts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        header = HEADERS.get(getattr(settings, "GRIDMAP_CSP", "on"))
        if header and header not in response:
            response[header] = policy(needs_inline_scripts(request))
        return response
