"""GeoJSON features of the analysis API, built from rows or frames without a JSON round trip.

Stored coverage rows (``gridmap.analysis.models``) are read a page at a time with their geometry
written as GeoJSON by the database (``AsGeoJSON``) and spliced in unparsed (``orjson.Fragment``).
A result computed on the request (the rules along streets, an uncovered area for another radius)
is a GeoDataFrame, written by the one GeoJSON writer (``layers.io.geojson``: right-hand winding,
no null geometry, values made plain), never ``to_json`` then ``loads`` then ``dumps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
from django.db.models import QuerySet
from orjson import Fragment

from gridmap.api.pagination import Page, page_of
from gridmap.api.params import Paging
from gridmap.core.geojson import geojson_column
from layers.io import frame_features as write_features

BUILDING_COLUMNS = (
    "building_id", "building__source_key", "building__address", "building__use", "building__households",
    "building__grid__code", "straight_facility", "straight_m", "network_facility", "network_m",
)  # fmt: skip
GAP_COLUMNS = ("grid__code", "area_m2", "uncovered_m2", "uncovered_share")


def _feature(fid: Any, geojson: str | None, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": Fragment(geojson) if geojson else None,
        "properties": properties,
    }


def building_page(rows: QuerySet, paging: Paging, count: Any) -> Page:  # count: has .count()
    columns = rows.annotate(_gj=geojson_column("building__geom")).values_list(*BUILDING_COLUMNS, "_gj")
    return page_of(columns, count, paging)


def building_features(
    rows: Sequence[Sequence[Any]], *, metric: str, radius_m: float, has_network: bool
) -> list[dict[str, Any]]:
    """The properties the on-request coverage wrote per building, from stored rows."""
    out = []
    for pk, key, address, use, households, grid, s_fac, s_m, n_fac, n_m, geojson in rows:
        props: dict[str, Any] = {
            "id": key or str(pk), "address": address, "use": use, "households": households, "grid": grid,
            "straight_facility": s_fac or None, "straight_m": s_m,
            "straight_covered": s_m is not None and s_m <= radius_m,
        }  # fmt: skip
        if has_network:
            props |= {
                "network_facility": n_fac or None,
                "network_m": n_m,
                "network_covered": n_m is not None and n_m <= radius_m,
            }
        props["covered"] = props.get(f"{metric}_covered", False)
        out.append(_feature(pk, geojson, props))
    return out


def gap_page(rows: QuerySet, paging: Paging, count: QuerySet) -> Page:
    columns = rows.annotate(_gj=geojson_column("geom")).values_list(*GAP_COLUMNS, "_gj")
    return page_of(columns, count, paging)


def gap_features(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [
        _feature(code, geojson, {"code": code, "area_m2": a, "uncovered_m2": u, "uncovered_share": s})
        for code, a, u, s, geojson in rows
    ]


def frame_features(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Features of a computed frame (no ``id``: the frame's columns say what each row is), written
    by the one GeoJSON writer (right-hand winding); rows without a geometry are left out, and
    ``frame_page``'s count leaves them out too."""
    return write_features(frame).features


def with_geometry(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows that have a geometry (a feature promises one)."""
    geoms = frame.geometry
    return frame[~(geoms.isna() | geoms.is_empty)]


def frame_page(frame: gpd.GeoDataFrame | None, paging: Paging) -> Page:
    """A page of a computed frame's features (the frame is in memory: no count query)."""
    if frame is None:
        return Page([], 0, paging)
    frame = with_geometry(frame)
    return Page(
        frame_features(frame.iloc[paging.offset : paging.offset + paging.page_size]), len(frame), paging
    )
