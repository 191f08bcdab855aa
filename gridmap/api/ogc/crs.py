"""Coordinate reference systems by reference (OGC API – Features Part 2): ``crs`` for the output,
``bbox-crs`` for the box, and the ``Content-Crs`` header.

Everything is stored in WGS84 (EPSG:4326, longitude first in the database). Four systems are
offered:

- OGC CRS84: WGS84, longitude first (the default of Part 1 and of GeoJSON);
- EPSG:4326: WGS84 as EPSG defines it, **latitude first**;
- EPSG:4490: CGCS2000, latitude first. Its realisation differs from WGS84 by centimetres, and
  PROJ's own transformation between the two is the null one (a test holds this), so the numbers
  are WGS84's with the axes swapped;
- EPSG:3857: Web Mercator metres (the database transforms: ``Transform``).

A box in another system is turned into a longitude/latitude box here, its raw numbers checked
first (``layers.validate``), then goes through the API's own ``bbox`` check and filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from gridmap.api.errors import bad_request
from layers.validate import GeometryInputError, mercator_to_lonlat, to_number

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"


def epsg(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int  # what the database writes (4326: the stored numbers)
    lat_first: bool

    @property
    def transformed(self) -> bool:
        return self.srid != 4326


SUPPORTED: dict[str, Crs] = {
    CRS84: Crs(CRS84, 4326, lat_first=False),
    epsg(4326): Crs(epsg(4326), 4326, lat_first=True),
    epsg(4490): Crs(epsg(4490), 4326, lat_first=True),
    epsg(3857): Crs(epsg(3857), 3857, lat_first=False),
}
DEFAULT = SUPPORTED[CRS84]
# Short spellings clients also send ("EPSG:3857", "[EPSG:3857]" as a safe CURIE).
_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "[ogc:crs84]": CRS84,
    **{f"epsg:{c}": epsg(c) for c in (4326, 4490, 3857)},
    **{f"[epsg:{c}]": epsg(c) for c in (4326, 4490, 3857)},
    **{f"http://www.opengis.net/def/crs/epsg/0/{c}": epsg(c) for c in (4326, 4490, 3857)},
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
}


def parse_crs(raw: str | None, name: str = "crs") -> Crs:
    """The system named by ``raw`` (a URI or a short spelling); 400 for one not offered."""
    if raw is None:
        return DEFAULT
    text = raw.strip()
    found = SUPPORTED.get(text) or SUPPORTED.get(_ALIASES.get(text.lower(), ""))
    if found is None:
        raise bad_request(
            _("%(name)s: unsupported coordinate reference system; offered: %(offered)s.")
            % {"name": name, "offered": ", ".join(SUPPORTED)}
        )
    return found


def bbox_lonlat(raw: str, crs: Crs) -> str:
    """``bbox`` given in ``crs`` as ``minlon,minlat,maxlon,maxlat`` text for the API's bbox filter
    (which checks the ranges again). Four numbers, or six with heights (the heights are dropped:
    nothing stored has one)."""
    parts = raw.split(",")
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise bad_request(_("bbox needs four numbers (or six, with heights)."))
    try:
        a, b, c, d = (to_number(p, what="bbox") for p in parts)
        if crs.srid == 3857:
            (a, b), (c, d) = mercator_to_lonlat(a, b), mercator_to_lonlat(c, d)
        elif crs.lat_first:
            a, b, c, d = b, a, d, c
    except GeometryInputError as exc:
        raise bad_request(str(exc)) from None
    return ",".join(repr(v) for v in (a, b, c, d))


def swap_axes(coordinates: Any) -> Any:
    """GeoJSON coordinates with the first two axes of every position swapped (lat first)."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [coordinates[1], coordinates[0], *coordinates[2:]]
    return [swap_axes(c) for c in coordinates]


def swap_geometry(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    if geometry is None:
        return None
    if geometry["type"] == "GeometryCollection":
        return {**geometry, "geometries": [swap_geometry(g) for g in geometry["geometries"]]}
    return {**geometry, "coordinates": swap_axes(geometry["coordinates"])}
