"""GPX 1.1 documents for walking routes (a GPS app or handheld can follow them).

The document holds, in the order the schema (http://www.topografix.com/GPX/1/1/gpx.xsd)
requires: ``metadata`` (name, time), one ``wpt`` per stop in walking order (``name`` = the
stop id, ``desc`` = what to look at), and one ``trk`` with a single ``trkseg`` drawing the path.
Coordinates are WGS84 (EPSG:4326) degrees, written with 7 decimals (about 1 cm); ``lat`` and
``lon`` are attributes, as the schema says. Only the standard library is used.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["GPX_NS", "Waypoint", "gpx_document", "read_gpx"]

GPX_NS = "http://www.topografix.com/GPX/1/1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd"
CREATOR = "gridmap"


@dataclass(frozen=True)
class Waypoint:
    """A stop: id (written as the waypoint's name), position in degrees, description."""

    name: str
    lon: float
    lat: float
    desc: str = ""


def _coord(value: float, limit: float, what: str) -> str:
    if not (math.isfinite(value) and -limit <= value <= limit):
        raise ValueError(f"{what} {value!r} is not a WGS84 {what}")
    return f"{value:.7f}"


def _point(parent: ET.Element, tag: str, lon: float, lat: float) -> ET.Element:
    return ET.SubElement(
        parent, f"{{{GPX_NS}}}{tag}", lat=_coord(lat, 90.0, "latitude"), lon=_coord(lon, 180.0, "longitude")
    )


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{GPX_NS}}}{tag}").text = value


def gpx_document(
    waypoints: Sequence[Waypoint],
    track_lonlat: Iterable[tuple[float, float]],
    *,
    name: str = "",
    time: datetime | None = None,
) -> str:
    """A GPX 1.1 document of a route.

    Parameters
    ----------
    waypoints : sequence of Waypoint
        The stops in walking order (lon/lat, EPSG:4326).
    track_lonlat : iterable of (lon, lat)
        The path to walk (EPSG:4326), e.g. a LineString's ``coords``.
    name : str
        Name of the route (metadata and track).
    time : datetime, optional
        When the document was made (metadata); now (UTC) by default.

    Returns
    -------
    str
        The XML document, UTF-8 declared, namespace ``http://www.topografix.com/GPX/1/1``.
    """
    ET.register_namespace("", GPX_NS)
    ET.register_namespace("xsi", XSI_NS)
    root = ET.Element(
        f"{{{GPX_NS}}}gpx",
        {"version": "1.1", "creator": CREATOR, f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION},
    )
    meta = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    if name:
        _text(meta, "name", name)
    stamp = (time or datetime.now(UTC)).astimezone(UTC)
    _text(meta, "time", stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
    for wp in waypoints:
        el = _point(root, "wpt", wp.lon, wp.lat)
        _text(el, "name", wp.name)
        if wp.desc:
            _text(el, "desc", wp.desc)
    trk = ET.SubElement(root, f"{{{GPX_NS}}}trk")
    if name:
        _text(trk, "name", name)
    seg = ET.SubElement(trk, f"{{{GPX_NS}}}trkseg")
    for lon, lat in track_lonlat:
        _point(seg, "trkpt", lon, lat)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def read_gpx(text: str | bytes) -> tuple[list[Waypoint], list[tuple[float, float]]]:
    """Waypoints and track points (lon, lat) of a GPX 1.1 document, in document order."""
    root = ET.fromstring(text)
    if root.tag != f"{{{GPX_NS}}}gpx":
        raise ValueError("not a GPX 1.1 document")
    ns = {"g": GPX_NS}
    waypoints = [
        Waypoint(
            name=el.findtext("g:name", "", ns),
            lon=float(el.attrib["lon"]),
            lat=float(el.attrib["lat"]),
            desc=el.findtext("g:desc", "", ns),
        )
        for el in root.findall("g:wpt", ns)
    ]
    track = [
        (float(p.attrib["lon"]), float(p.attrib["lat"])) for p in root.iterfind("g:trk/g:trkseg/g:trkpt", ns)
    ]
    return waypoints, track
