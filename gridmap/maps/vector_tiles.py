"""``/tiles/vt/<layer>/<z>/<x>/<y>.pbf``: the large layers as Mapbox vector tiles, scoped to the user.

Layers (:data:`gridmap.maps.mvt.LAYERS`): ``grids``, ``buildings``, ``facilities``, ``streets``
and ``problems`` (open ones; ``?status=all`` for every status). Optional query: ``community``
or ``grid`` (a code; not for streets) and, for facilities, ``kind`` (a facility kind code). Rows come from the
same selectors as every other output, so a tile holds only what the user may see.

Answers: 200 with ``application/vnd.mapbox-vector-tile``; **204 No Content for an empty tile**
(no feature of the user's in it, or a zoom below the layer's smallest); 404 for an unknown layer
or a tile outside the pyramid; 400 for a malformed query; **501 Not Implemented** on a database
without ``ST_AsMVT`` (SpatiaLite: its maps keep the bbox GeoJSON layers); a login is required
(403 without one, as the API answers a request with no credentials).

Caching: ``Cache-Control: private, no-cache`` and an ETag made of the change stamps of the
layer's kinds and of the user's scope (``grids``, ``departments``; :mod:`gridmap.core.stamps`),
the user, the role, the profile's community and department (an inspector's patrol communities),
the language and the query. The browser asks again each time and gets a
304 while nothing changed, decided before any tile SQL runs; a data change gives a new ETag,
so a new tile. Problems carry ``overdue``, which turns with the clock: their ETag also holds
the current :data:`OVERDUE_STEP_S` window, so a flag is at most that late.
"""

from __future__ import annotations

import hashlib
import re
import time

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.core.stamps import stamps_of
from gridmap.maps.mvt import LAYERS, Filters, TileLayer, features, tile_bytes, tile_in_pyramid

MVT_TYPE = "application/vnd.mapbox-vector-tile"
OVERDUE_STEP_S = 300
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,40}$")


@require_safe
def vector_tile(request: HttpRequest, layer: str, z: int, x: int, y: int) -> HttpResponse:
    """One layer's vector tile (XYZ numbering: y counts down from the north edge)."""
    if not request.user.is_authenticated:
        return HttpResponseForbidden("Sign in to see this tile.", content_type="text/plain; charset=utf-8")
    found = LAYERS.get(layer)
    if found is None or not tile_in_pyramid(z, x, y):
        raise Http404("no such tile")
    if not features().vector_tiles:
        return HttpResponse(
            "Vector tiles need PostGIS; this database serves the GeoJSON layers of /api/v1/.",
            status=501,
            content_type="text/plain; charset=utf-8",
        )
    filters = _filters(request, found)
    if isinstance(filters, HttpResponse):
        return filters
    etag = _etag(request, found, filters)
    unchanged = get_conditional_response(request, etag=etag)
    if unchanged is not None:
        return _headers(unchanged, etag)
    data = tile_bytes(found, request.user, filters, z, x, y, timezone.now())
    response = HttpResponse(data, content_type=MVT_TYPE, status=200 if data else 204)
    return _headers(response, etag)


def _filters(request: HttpRequest, layer: TileLayer) -> Filters | HttpResponse:
    query = request.GET
    unknown = set(query) - layer.filters
    if unknown:
        return _bad(f"unknown parameter(s) for {layer.name}: {', '.join(sorted(unknown))}")
    values = {}
    for key in ("community", "grid", "kind"):
        if key in query:
            value = query[key]
            if not _CODE.match(value):
                return _bad(f"{key} must be a code (letters, digits, _ or -)")
            values[key] = value
    status = query.get("status", "open")
    if status not in ("open", "all"):
        return _bad("status must be open or all")
    return Filters(values.get("community"), values.get("kind"), status == "all", values.get("grid"))


def _bad(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _etag(request: HttpRequest, layer: TileLayer, f: Filters) -> str:
    user = request.user
    profile = getattr(user, "profile", None)
    stamps = stamps_of(layer.kinds)
    parts = [
        layer.name,
        *(f"{k}={stamps[k]}" for k in layer.kinds),
        f"user={user.pk}",
        f"role={role_of(user)}",
        f"community={getattr(profile, 'community_id', None)}",
        f"department={getattr(profile, 'department_id', None)}",
        f"patrol={_patrol(profile) if role_of(user) == Role.INSPECTOR else ''}",
        f"lang={get_language()}",
        f"q={f.community}|{f.grid}|{f.kind}|{f.all_statuses}",
    ]
    if layer.time_bound:
        parts.append(f"t={int(time.time()) // OVERDUE_STEP_S}")
    if any(stamps[k] is None for k in layer.kinds):  # no stamp row: never the same twice
        parts.append(f"n={time.time_ns()}")
    return '"' + hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest() + '"'


def _patrol(profile) -> str:
    """An inspector's patrol communities: part of their scope that no change stamp follows."""
    return ",".join(str(pk) for pk in profile.patrol_communities.order_by("pk").values_list("pk", flat=True))


def _headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    response["Vary"] = "Cookie"
    return response
