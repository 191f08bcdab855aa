"""Checks on raw geometry input, run before any GEOS or GDAL object is built.

Some GEOS builds (Debian 12's 3.11) abort the whole process when a geometry holding a value
such as 1e308 is written as WKT, so every path (API, forms, query parameters, imports) first
checks the raw numbers here. Order follows the reliability design: foreign CRS, size, finite
numbers in range, type and shape, then validity of the built geometry.

Coordinates are WGS84 longitude/latitude (EPSG:4326) unless stated.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_VERTICES = 200_000
MAX_NESTING = 6  # MultiPolygon coordinates are 4 deep; anything deeper is hostile
# Projected coordinates (Gauss-Krüger false eastings are ~40,000,000 m with a zone prefix).
MAX_ABS_PROJECTED = 1e9
# Geometry text (GeoJSON or WKT) longer than this is refused before it is parsed.
MAX_GEOMETRY_TEXT = 8 * 1024 * 1024
# Web Mercator (EPSG:3857, the admin map's own coordinates): the sphere's radius and the square's half side.
MERCATOR_RADIUS = 6378137.0
MERCATOR_MAX = math.pi * MERCATOR_RADIUS
TEXT_SRIDS = (4326, 3857)

GEOMETRY_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}


class GeometryInputError(ValueError):
    """Raw geometry input that must be refused; ``code`` names the rule that failed."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in degrees (EPSG:4326)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    @classmethod
    def parse(cls, raw: str | Sequence[Any]) -> BBox:
        """Parse ``"minlon,minlat,maxlon,maxlat"`` (or a sequence) strictly."""
        parts = raw.split(",") if isinstance(raw, str) else list(raw)
        if len(parts) != 4:
            raise GeometryInputError("bbox_parts", "bbox needs four numbers: minlon,minlat,maxlon,maxlat")
        min_lon, max_lon = (to_number(parts[i], what="bbox") for i in (0, 2))
        min_lat, max_lat = (to_number(parts[i], what="bbox") for i in (1, 3))
        for lon, lat in ((min_lon, min_lat), (max_lon, max_lat)):
            check_lonlat(lon, lat)
        if min_lon > max_lon or min_lat > max_lat:
            raise GeometryInputError("bbox_inverted", "bbox minimum is greater than its maximum")
        return cls(min_lon, min_lat, max_lon, max_lat)


def to_number(value: Any, *, what: str = "coordinate") -> float:
    """Return ``value`` as a finite float; accepts ints, floats and numeric strings only."""
    if isinstance(value, bool):
        raise GeometryInputError("not_number", f"{what} must be a number, not a boolean")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int of hundreds of digits is no coordinate
            raise GeometryInputError("not_finite", f"{what} must be a finite number") from None
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            number = float(value.strip())
        except ValueError:
            raise GeometryInputError("not_number", f"{what} is not a number: {value[:40]!r}") from None
    else:
        raise GeometryInputError("not_number", f"{what} must be a number")
    if not math.isfinite(number):
        raise GeometryInputError("not_finite", f"{what} must be a finite number")
    return number


def check_lonlat(lon: Any, lat: Any, *, area: BBox | None = None) -> tuple[float, float]:
    """Check one WGS84 position; return it as floats.

    Raises ``GeometryInputError`` for non-numbers, NaN/inf, out-of-range values, a position
    outside ``area`` and, when ``area`` is given, a position that looks like swapped lat/lon.
    """
    x = to_number(lon, what="longitude")
    y = to_number(lat, what="latitude")
    if not -180.0 <= x <= 180.0:
        raise GeometryInputError("lon_range", f"longitude {x:.6g} is outside -180..180")
    if not -90.0 <= y <= 90.0:
        raise GeometryInputError("lat_range", f"latitude {y:.6g} is outside -90..90")
    if area is not None and not area.contains(x, y):
        if area.contains(y, x):
            raise GeometryInputError("swapped", "longitude and latitude look swapped")
        raise GeometryInputError("outside_area", "position is outside the service area")
    return x, y


def _depth(obj: Any, limit: int) -> int:
    depth = 0
    while isinstance(obj, (list, tuple)):
        depth += 1
        if depth > limit:
            raise GeometryInputError("too_deep", "coordinates are nested too deeply")
        if not obj:
            break
        obj = obj[0]
    return depth


def _positions(coords: Any, depth: int) -> Iterable[Sequence[Any]]:
    if depth == 1:
        yield coords
        return
    for part in coords:
        if not isinstance(part, (list, tuple)):
            raise GeometryInputError("bad_shape", "coordinates are not nested as the type requires")
        yield from _positions(part, depth - 1)


def check_geojson_geometry(
    geometry: Any,
    *,
    allowed_types: Iterable[str] | None = None,
    area: BBox | None = None,
    max_vertices: int = MAX_VERTICES,
    srid: int = 4326,
) -> dict[str, Any]:
    """Check a GeoJSON geometry dict on its raw numbers and return a clean copy in EPSG:4326.

    ``srid`` 3857 reads the positions as Web Mercator metres (what the admin's map posts): each
    is checked as a finite number within the Mercator square, then converted to lon/lat by the
    spherical formula (no PROJ) before the lon/lat checks.

    The copy holds floats only (a third coordinate is dropped). Rejected: a ``crs`` member
    (only EPSG:4326 input is accepted), unknown or disallowed types, wrong nesting, too many
    vertices, non-finite or out-of-range numbers, empty parts, open or short rings and
    one-point lines. Validity (self-intersection) is checked later by ``check_valid``.
    """
    if not isinstance(geometry, dict):
        raise GeometryInputError("not_object", "geometry must be a GeoJSON object")
    if "crs" in geometry:
        raise GeometryInputError("crs_member", "a GeoJSON crs member is not accepted; send EPSG:4326")
    gtype = geometry.get("type")
    if gtype not in GEOMETRY_DEPTH:
        raise GeometryInputError("bad_type", f"unsupported geometry type {str(gtype)[:40]!r}")
    allowed = set(allowed_types) if allowed_types is not None else None
    if allowed is not None and gtype not in allowed:
        raise GeometryInputError(
            "wrong_type", f"{gtype} is not accepted here; expected {', '.join(sorted(allowed))}"
        )
    if srid not in TEXT_SRIDS:
        raise GeometryInputError("srid", f"coordinates must be EPSG:4326 or EPSG:3857, not EPSG:{srid}")
    coords = geometry.get("coordinates")
    if isinstance(coords, (list, tuple)) and not coords:
        raise GeometryInputError("empty", "geometry is empty")
    want = GEOMETRY_DEPTH[gtype]
    if _depth(coords, MAX_NESTING) != want:
        raise GeometryInputError("bad_shape", f"{gtype} coordinates must be nested {want} deep")
    clean_positions = _clean_positions(coords, want, srid=srid, area=area, max_vertices=max_vertices)
    if not clean_positions:
        raise GeometryInputError("empty", "geometry is empty")
    clean = _rebuild(coords, want, iter(clean_positions))
    _check_parts(gtype, clean)
    return {"type": gtype, "coordinates": clean}


def _clean_positions(
    coords: Any, depth: int, *, srid: int, area: BBox | None, max_vertices: int
) -> list[list[float]]:
    clean: list[list[float]] = []
    for pos in _positions(coords, depth):
        if len(clean) >= max_vertices:
            raise GeometryInputError("too_many_vertices", f"more than {max_vertices} vertices")
        if not isinstance(pos, (list, tuple)) or len(pos) not in (2, 3):
            raise GeometryInputError("bad_position", "a position must have 2 or 3 numbers")
        if len(pos) == 3:
            to_number(pos[2], what="elevation")
        lon, lat = (pos[0], pos[1]) if srid == 4326 else mercator_to_lonlat(pos[0], pos[1])
        clean.append(list(check_lonlat(lon, lat, area=area)))
    return clean


def mercator_to_lonlat(x: Any, y: Any) -> tuple[float, float]:
    """Web Mercator (EPSG:3857) metres to WGS84 degrees, after checking the raw numbers."""
    mx = to_number(x, what="x")
    my = to_number(y, what="y")
    if abs(mx) > MERCATOR_MAX or abs(my) > MERCATOR_MAX:
        raise GeometryInputError(
            "mercator_range", f"x/y {mx:.6g}, {my:.6g} is outside the Web Mercator square"
        )
    lon = math.degrees(mx / MERCATOR_RADIUS)
    lat = math.degrees(2.0 * math.atan(math.exp(my / MERCATOR_RADIUS)) - math.pi / 2.0)
    return lon, lat


def _rebuild(coords: Any, depth: int, it: Any) -> Any:
    if depth == 1:
        return next(it)
    return [_rebuild(part, depth - 1, it) for part in coords]


def _check_ring(ring: list[list[float]]) -> None:
    if len(ring) < 4:
        raise GeometryInputError("short_ring", "a polygon ring needs at least 4 positions")
    if ring[0] != ring[-1]:
        raise GeometryInputError("open_ring", "a polygon ring must end where it starts")


def _check_parts(gtype: str, coords: Any) -> None:
    lines: list[Any] = []
    polygons: list[Any] = []
    if gtype == "LineString":
        lines = [coords]
    elif gtype == "MultiLineString":
        lines = coords
    elif gtype == "Polygon":
        polygons = [coords]
    elif gtype == "MultiPolygon":
        polygons = coords
    elif gtype == "MultiPoint" and not coords:
        raise GeometryInputError("empty", "geometry is empty")
    for line in lines:
        if len(line) < 2:
            raise GeometryInputError("short_line", "a line needs at least 2 positions")
    for polygon in polygons:
        if not polygon:
            raise GeometryInputError("empty", "a polygon has no rings")
        for ring in polygon:
            _check_ring(ring)


def check_coordinate_array(values: Any, *, max_abs: float = MAX_ABS_PROJECTED) -> np.ndarray:
    """Boolean mask of rows whose coordinates are all finite and within ``max_abs``.

    For imports: run on the raw coordinates of a file (any CRS) before transforming them.
    ``values`` is an (n, k) array-like of numbers.
    """
    arr = np.asarray(values, dtype="float64")
    if arr.ndim == 1:
        arr = arr[:, None]
    finite = np.isfinite(arr).all(axis=1)
    with np.errstate(invalid="ignore"):
        small = (np.abs(arr) <= max_abs).all(axis=1)
    return finite & small


def check_valid(geom: Any) -> Any:
    """Return a valid shapely geometry of the same type, or raise ``GeometryInputError``.

    A geometry that ``shapely.make_valid`` can repair without changing its type or its number of
    parts (for example a ring with a repeated point) is repaired; one whose repair changes either
    (a bow-tie polygon becomes a MultiPolygon, a bow-tie part of a MultiPolygon becomes two parts)
    is refused with GEOS's reason: that is a drawing mistake, not noise.
    """
    import shapely

    if geom is None or geom.is_empty:
        raise GeometryInputError("empty", "geometry is empty")
    if geom.is_valid:
        return geom
    reason = shapely.is_valid_reason(geom)
    repaired = shapely.make_valid(geom)
    if (
        repaired.geom_type == geom.geom_type
        and not repaired.is_empty
        and shapely.get_num_geometries(repaired) == shapely.get_num_geometries(geom)
    ):
        return repaired
    raise GeometryInputError("invalid", f"geometry is not valid: {reason}")


# Geometry as text: GeoJSON, or WKT/EWKT, parsed into plain lists of raw tokens (never GEOS).
_WKT_TOKEN = re.compile(r"([(),])|([^\s(),]+)")
_EWKT_SRID = re.compile(r"^\s*SRID=([^;]{0,12});", re.IGNORECASE)
_WKT_TYPES = {name.upper(): name for name in GEOMETRY_DEPTH}


def parse_geometry_text(text: Any, *, default_srid: int) -> tuple[dict[str, Any], int]:
    """A GeoJSON geometry dict (positions still raw) and its SRID, from GeoJSON or (E)WKT text.

    GeoJSON and WKT without ``SRID=`` are in ``default_srid`` (the admin map's EPSG:3857, as the
    map widget posts them); EWKT may name EPSG:4326 or EPSG:3857. Nothing here builds a geometry:
    the result goes to :func:`check_geojson_geometry`. WKB/HEXEWKB and other texts are refused.
    """
    if not isinstance(text, str):
        raise GeometryInputError("malformed", "geometry must be text (GeoJSON or WKT)")
    if len(text) > MAX_GEOMETRY_TEXT:
        raise GeometryInputError("too_large", f"geometry text is longer than {MAX_GEOMETRY_TEXT} characters")
    stripped = text.strip()
    if stripped.startswith("{"):
        return _parse_geojson_text(stripped), default_srid
    srid = default_srid
    match = _EWKT_SRID.match(stripped)
    if match:
        raw = match.group(1).strip()
        srid = int(raw) if raw.isascii() and raw.isdigit() else -1
        if srid not in TEXT_SRIDS:
            raise GeometryInputError("srid", f"SRID must be 4326 or 3857, not {raw[:12]!r}")
        stripped = stripped[match.end() :]
    return _parse_wkt(stripped), srid


def _parse_geojson_text(text: str) -> dict[str, Any]:
    try:
        # Integers are read as floats: a 400-digit integer becomes inf (refused), never a bignum.
        obj = json.loads(text, parse_int=float)
    except RecursionError:
        raise GeometryInputError("too_deep", "the GeoJSON is nested too deeply") from None
    except ValueError as exc:
        raise GeometryInputError("malformed", f"not valid GeoJSON: {str(exc)[:80]}") from None
    if not isinstance(obj, dict):
        raise GeometryInputError("not_object", "geometry must be a GeoJSON object")
    return obj


def _parse_wkt(text: str) -> dict[str, Any]:
    tokens = [m.group(0) for m in _WKT_TOKEN.finditer(text)]
    if not tokens:
        raise GeometryInputError("malformed", "the geometry text is empty; send GeoJSON or WKT")
    word = tokens[0].upper()
    gtype = _WKT_TYPES.get(word)
    if gtype is None:
        raise GeometryInputError("malformed", f"not GeoJSON or WKT of a supported type: {tokens[0][:40]!r}")
    rest = tokens[1:]
    if rest and rest[0].upper() in ("Z", "M", "ZM"):
        rest = rest[1:]
    if len(rest) == 1 and rest[0].upper() == "EMPTY":
        raise GeometryInputError("empty", "geometry is empty")
    coords, end = _wkt_list(rest, 0, 1)
    if end != len(rest):
        raise GeometryInputError("malformed", "unexpected text after the WKT geometry")
    if gtype == "Point":
        coords = coords[0] if len(coords) == 1 else coords
    elif gtype == "MultiPoint" and coords and all(_is_wrapped_position(p) for p in coords):
        coords = [p[0] for p in coords]  # MULTIPOINT ((1 2), (3 4))
    return {"type": gtype, "coordinates": coords}


def _is_wrapped_position(part: Any) -> bool:
    return (
        isinstance(part, list)
        and len(part) == 1
        and isinstance(part[0], list)
        and part[0]
        and (not isinstance(part[0][0], list))
    )


def _wkt_list(tokens: list[str], i: int, depth: int) -> tuple[list[Any], int]:
    """Parse ``( item, item, … )`` from ``tokens[i]``; an item is a list or a position (numbers)."""
    if depth > MAX_NESTING:
        raise GeometryInputError("too_deep", "coordinates are nested too deeply")
    if i >= len(tokens) or tokens[i] != "(":
        raise GeometryInputError("malformed", "not valid WKT: '(' expected")
    i += 1
    items: list[Any] = []
    while True:
        if i < len(tokens) and tokens[i] == "(":
            item, i = _wkt_list(tokens, i, depth + 1)
        else:
            item = []
            while i < len(tokens) and tokens[i] not in ("(", ")", ","):
                item.append(tokens[i])
                if len(item) > 4:
                    raise GeometryInputError("bad_position", "a position must have 2 or 3 numbers")
                i += 1
            if not item:
                raise GeometryInputError("malformed", "not valid WKT: a position or '(' expected")
        items.append(item)
        if i < len(tokens) and tokens[i] == ",":
            i += 1
            continue
        if i < len(tokens) and tokens[i] == ")":
            return items, i + 1
        raise GeometryInputError("malformed", "not valid WKT: ',' or ')' expected")
