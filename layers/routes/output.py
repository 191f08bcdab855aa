"""A planned walk as JSON, GeoJSON, GPX or a printable stop list.

Positions are WGS84 lon/lat (EPSG:4326) rounded to 7 decimals (about 1 cm); lengths are
metres (one decimal), durations minutes (one decimal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from layers.routes.gpx import Waypoint, gpx_document
from layers.routes.walk import PlannedRoute

__all__ = ["route_geojson", "route_gpx", "route_json", "route_text"]


def _ll(lon: float, lat: float) -> list[float]:
    return [round(lon, 7), round(lat, 7)]


def route_json(route: PlannedRoute) -> dict[str, Any]:
    """``{"stops": [{"id", "lon", "lat"}...], "length_m", "duration_min"}`` plus the extras
    ``metric``, ``closed``, ``start``/``end`` ([lon, lat] or null) and ``dropped``
    (``[{"id", "reason"}]``)."""
    return {
        "stops": [{"id": s.id, "lon": round(s.lon, 7), "lat": round(s.lat, 7)} for s in route.stops],
        "length_m": round(route.length_m, 1),
        "duration_min": round(route.duration_min, 1),
        "metric": route.metric,
        "closed": route.closed,
        "start": _ll(*route.start) if route.start else None,
        "end": _ll(*route.end) if route.end else None,
        "dropped": [{"id": s.id, "reason": reason} for s, reason in route.dropped],
    }


def _point(coords: list[float], props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}, "properties": props}


def route_geojson(route: PlannedRoute) -> dict[str, Any]:
    """A FeatureCollection: the stops as points numbered ``seq`` 1.. in walking order (with
    ``id``, ``desc``, ``leg_m``), the start and end points (``role``), and the path as a
    LineString (``role`` = "path", ``length_m``, ``duration_min``, ``metric``)."""
    features: list[dict[str, Any]] = []
    for role, place in (("start", route.start), ("end", route.end)):
        if place is not None:
            features.append(_point(_ll(*place), {"role": role}))
    for seq, (stop, leg) in enumerate(zip(route.stops, route.leg_m, strict=False), start=1):
        props = {"role": "stop", "seq": seq, "id": stop.id, "desc": stop.desc, "leg_m": round(leg, 1)}
        features.append(_point(_ll(stop.lon, stop.lat), props))
    if len(route.path_lonlat) >= 2:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [_ll(x, y) for x, y in route.path_lonlat]},
                "properties": {
                    "role": "path",
                    "length_m": round(route.length_m, 1),
                    "duration_min": round(route.duration_min, 1),
                    "metric": route.metric,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def route_gpx(route: PlannedRoute, *, name: str = "", time: datetime | None = None) -> str:
    """GPX 1.1: a waypoint per stop named by its place in the walk and its id (``1. #2070``: sorted
    by name, the waypoints keep the walking order) and the path as a track."""
    waypoints = [
        Waypoint(name=f"{seq}. #{s.id}", lon=s.lon, lat=s.lat, desc=s.desc)
        for seq, s in enumerate(route.stops, start=1)
    ]
    return gpx_document(waypoints, route.path_lonlat, name=name, time=time)


def route_text(route: PlannedRoute, *, title: str = "") -> str:
    """A printable stop list: number, id, what to look at, position, metres from the last."""
    walk_min = route.length_m / (route.speed_kmh / 3.6) / 60.0
    lines = [title] if title else []
    lines.append(
        f"{len(route.stops)} stops, {route.length_m / 1000:.2f} km ({route.metric}), "
        f"{route.duration_min:.0f} min = {walk_min:.0f} min walking at {route.speed_kmh:g} km/h"
        f" + {route.service_min:g} min per stop"
        + (f" (budget {route.budget_min:g} min)" if route.budget_min is not None else "")
    )
    if route.start:
        lines.append(f"start  {route.start[0]:.6f}, {route.start[1]:.6f}")
    for seq, (stop, leg) in enumerate(zip(route.stops, route.leg_m, strict=False), start=1):
        lines.append(f"{seq:>4}. [{stop.id}] {stop.desc}  {stop.lon:.6f}, {stop.lat:.6f}  +{leg:.0f} m")
    back = route.leg_m[len(route.stops)] if len(route.leg_m) > len(route.stops) else None
    if route.end:
        lines.append(f"end    {route.end[0]:.6f}, {route.end[1]:.6f}  +{back or 0:.0f} m")
    elif route.closed and back is not None:
        lines.append(f"back to the start  +{back:.0f} m")
    if route.dropped:
        lines.append(f"left out ({len(route.dropped)}):")
        lines.extend(f"  [{stop.id}] {reason}" for stop, reason in route.dropped)
    return "\n".join(lines) + "\n"
