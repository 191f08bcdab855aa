"""Vector tiles (Mapbox Vector Tile, MVT) made by PostGIS from the scoped querysets.

Each layer (:data:`LAYERS`) is a selector (``grids_visible_to``, ``buildings_visible_to``,
``facilities_visible_to``, ``problems_visible_to``: the same scopes as the API lists) plus the
columns a map styles and shows. A tile is one statement: the layer's queryset, filtered to the
tile's box by the ORM and limited to ``max_features``, is compiled by Django and wrapped as a
subquery::

    SELECT ST_AsMVT(t, <layer>, 4096, 'mvt_geom') FROM (<scoped queryset>) t
    WHERE t.mvt_geom IS NOT NULL

Tiles below :data:`DETAIL_ZOOM` carry ``id`` and the attributes styles need; from it on, also
what popups show (a page asks that zoom's tile for a feature clicked further out), which keeps
a low-zoom tile of 12,000 problems near 200 KB.

``mvt_geom`` is an annotation of the queryset itself (``ST_AsMVTGeom`` of the geometry moved to
Web Mercator, simplified to a quarter of a screen pixel below :data:`SIMPLIFY_BELOW_ZOOM`), so
the scope rule is written once, in the selector, and the tile SQL never repeats it.

Only PostGIS 3 has ``ST_AsMVT`` and ``ST_TileEnvelope``: :func:`features` says whether the
connection can make tiles (declared per backend, as :mod:`gridmap.problems.intake.features`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import Polygon
from django.db import connection, connections, transaction
from django.db.models import BinaryField, BooleanField, Case, CharField, F, Func, QuerySet, Value, When
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to, streets_visible_to
from gridmap.maps.selectors import category_name
from gridmap.problems.models import OPEN_STATUSES
from gridmap.problems.selectors import problems_visible_to

EXTENT = 4096  # tile coordinate units (the MVT default)
BUFFER = 64  # units drawn past the edge, so strokes and symbols are not cut at tile seams
SIMPLIFY_BELOW_ZOOM = 15
DETAIL_ZOOM = 15  # tiles from this zoom carry the popup attributes, smaller ones only the styles
MAX_ZOOM = 22
DESCRIPTION_CHARS = 200  # the popup's text; the problem page has all of it
HALF_WORLD_M = 20037508.342789244

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class TileFeatures:
    vector_tiles: bool = False


BASE = TileFeatures()
POSTGIS = TileFeatures(vector_tiles=True)
_BY_VENDOR = {"postgresql": POSTGIS}


def features() -> TileFeatures:
    """What the current connection's backend can do for tiles (PostGIS ≥ 3: ST_AsMVT, ST_TileEnvelope)."""
    found = _BY_VENDOR.get(connection.vendor, BASE)
    if found.vector_tiles and tuple(connection.ops.spatial_version or (0,)) < (3, 0, 0):
        return BASE
    return found


@dataclass(frozen=True)
class Filters:
    """The optional query of a tile URL, checked: ``community``, ``grid`` (codes) and ``kind``
    (facility code) narrow a layer; ``all`` (``status=all``) takes every status of the problems, not the open ones."""

    community: str | None = None
    kind: str | None = None
    all_statuses: bool = False
    grid: str | None = None


# Tile rows are ordered by expressions no index serves: ordered by ``id`` or ``reported_at``
# itself, PostgreSQL may walk that index hoping to meet the limit early and read most of the city
# (seconds for a low-zoom problem tile); this way the tile's box (GiST) picks the rows, then they
# are sorted.
def _unindexed(column: str) -> Coalesce:
    return Coalesce(F(column), F(column))


BY_ID = (_unindexed("id").asc(),)
NEWEST = (_unindexed("reported_at").desc(), _unindexed("id").desc())


@dataclass(frozen=True)
class TileLayer:
    """A layer of tiles: its scoped rows, the columns in the tile, the stamps it depends on."""

    name: str
    rows: Callable[[User, Filters, datetime], QuerySet]
    columns: Mapping[str, object]  # tile attribute -> field name or expression
    kinds: tuple[str, ...]  # change-stamp kinds of its rows and of the user's scope
    min_zoom: int
    max_features: int
    order: tuple[object, ...] = BY_ID
    time_bound: bool = False  # attributes depend on the time (a deadline passed)
    filters: frozenset[str] = field(default_factory=frozenset)
    detail: Mapping[str, object] = field(default_factory=dict)  # only from DETAIL_ZOOM on
    full_from_zoom: int = 0  # below it, max_features halves per zoom level (points: a tile stays small)

    def limit(self, z: int) -> int:
        """The most features a tile at zoom ``z`` holds (the first of the layer's order)."""
        return self.max_features >> max(0, self.full_from_zoom - z)

    def attributes(self, z: int) -> dict[str, object]:
        """The tile attributes at zoom ``z``: ``id`` and what styles need; the popup's from
        :data:`DETAIL_ZOOM` on (a page asks that tile for a feature clicked at a smaller zoom)."""
        return {"id": "pk", **self.columns, **(self.detail if z >= DETAIL_ZOOM else {})}


def _grids(user: User, f: Filters, now: datetime) -> QuerySet:
    qs = grids_visible_to(user)
    return qs.filter(community__code=f.community) if f.community else qs


def _area(qs: QuerySet, f: Filters) -> QuerySet:
    """Rows of one community's or one grid's (as the community and grid maps show them)."""
    if f.community:
        qs = qs.filter(grid__community__code=f.community)
    return qs.filter(grid__code=f.grid) if f.grid else qs


def _buildings(user: User, f: Filters, now: datetime) -> QuerySet:
    return _area(buildings_visible_to(user), f)


def _facilities(user: User, f: Filters, now: datetime) -> QuerySet:
    qs = _area(facilities_visible_to(user), f)
    return qs.filter(kind__code=f.kind) if f.kind else qs


def _streets(user: User, f: Filters, now: datetime) -> QuerySet:
    return streets_visible_to(user)


def _problems(user: User, f: Filters, now: datetime) -> QuerySet:
    qs = problems_visible_to(user)
    if not f.all_statuses:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return _area(qs, f).annotate(
        overdue=Case(
            When(status__in=OPEN_STATUSES, deadline__lt=now, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def _local(column: str) -> Func:
    """A time as ``YYYY-MM-DD HH:MM`` in the site's time zone, as the inline maps show it."""
    return Func(F(column), Value(timezone.get_current_timezone_name()),
                template="to_char(%(expressions)s, 'YYYY-MM-DD HH24:MI')", arg_joiner=" AT TIME ZONE ",
                output_field=CharField())  # fmt: skip


LAYERS: dict[str, TileLayer] = {
    layer.name: layer
    for layer in (
        TileLayer("grids", _grids, {"code": "code", "name": "name"}, ("grids",), 10, 2_000,
                  filters=frozenset({"community", "grid"})),
        TileLayer("buildings", _buildings, {"households": "households", "population": "population"},
                  ("buildings", "grids"), 14, 8_000, filters=frozenset({"community", "grid"}),
                  detail={"address": "address", "use": "use", "floors": "floors"}),
        TileLayer("facilities", _facilities, {"kind": F("kind__code"), "condition": "condition"},
                  ("facilities", "grids"), 12, 8_000, filters=frozenset({"community", "grid", "kind"}),
                  detail={"name": "name"}),
        TileLayer("streets", _streets, {"highway": "highway"}, ("streets", "grids"), 12, 10_000,
                  detail={"name": "name"}),
        TileLayer("problems", _problems,
                  {"status": "status", "category": F("category__code"), "overdue": F("overdue")},
                  ("problems", "grids", "departments"), 12, 12_000, order=NEWEST,
                  time_bound=True, filters=frozenset({"community", "grid", "status"}), full_from_zoom=14,
                  detail={"category_name": category_name(), "reported_at": _local("reported_at"),
                          "deadline": _local("deadline"),
                          "description": Substr("description", 1, DESCRIPTION_CHARS)}),
    )
}  # fmt: skip


def tile_in_pyramid(z: int, x: int, y: int) -> bool:
    """True for a tile of the Web Mercator pyramid (XYZ numbering) up to :data:`MAX_ZOOM`."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)


def tile_box_4326(z: int, x: int, y: int, *, margin: float = BUFFER / EXTENT) -> Polygon:
    """The tile's box in lon/lat, grown by ``margin`` of its side (the MVT buffer)."""
    n = 1 << z
    grow = margin

    def lon(v: float) -> float:
        return max(-180.0, min(180.0, v / n * 360.0 - 180.0))

    def lat(v: float) -> float:
        v = min(max(v, 0.0), float(n))
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * v / n))))

    return Polygon.from_bbox((lon(x - grow), lat(y + 1 + grow), lon(x + 1 + grow), lat(y - grow)))


def tile_queryset(
    layer: TileLayer, user: User, f: Filters, z: int, x: int, y: int, now: datetime
) -> QuerySet:
    """The layer's rows in tile z/x/y as the user may see them, with ``mvt_geom`` (tile coordinates)."""
    box = tile_box_4326(z, x, y)
    box.srid = 4326
    geom: Func = Func(F("geom"), Value(3857), function="ST_Transform")
    if z < SIMPLIFY_BELOW_ZOOM:
        pixel_m = 2 * HALF_WORLD_M / (1 << z) / 256
        geom = Func(geom, Value(pixel_m / 4), function="ST_Simplify")
    envelope = Func(Value(z), Value(x), Value(y), function="ST_TileEnvelope")
    mvt_geom = Func(geom, envelope, Value(EXTENT), Value(BUFFER), Value(True), function="ST_AsMVTGeom",
                    output_field=BinaryField())  # fmt: skip
    rows = layer.rows(user, f, now).filter(geom__bboverlaps=box)
    exprs = {name: (F(c) if isinstance(c, str) else c) for name, c in layer.attributes(z).items()}
    return (
        rows.annotate(mvt_geom=mvt_geom)
        .order_by(*layer.order)
        .values("mvt_geom", **{f"a_{k}": v for k, v in exprs.items()})[: layer.limit(z)]
    )


def tile_bytes(layer: TileLayer, user: User, f: Filters, z: int, x: int, y: int, now: datetime) -> bytes:
    """The MVT of one layer's tile (empty bytes when no feature of the user's falls in it)."""
    if z < layer.min_zoom:
        return b""
    qs = tile_queryset(layer, user, f, z, x, y, now)
    alias = qs.db  # where the router sends this read (a replica when the site has one)
    sql, params = qs.query.get_compiler(using=alias).as_sql()
    names = ", ".join(f't."a_{k}" AS "{k}"' for k in layer.attributes(z))  # ours, not the request's
    wrapped = (  # ``id`` stays a property: the page's popups and links read it there
        f"SELECT ST_AsMVT(m, %s, {EXTENT}, 'mvt_geom') FROM "
        f"(SELECT t.mvt_geom, {names} FROM ({sql}) t WHERE t.mvt_geom IS NOT NULL) m"
    )
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # A tile is one short statement over a few thousand rows: compiling it (JIT) costs more than
        # it saves (~180 ms of a 1 s low-zoom tile measured here), so it is off for this one only.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(wrapped, [layer.name, *params])
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
