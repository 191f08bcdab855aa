"""Layer data in the packed form a page embeds: about a third of the size of GeoJSON text.

:func:`pack_features` writes it on the server; ``gridmap.unpack`` (the page's registry script,
:data:`layers.maps.page.REGISTRY_JS`) turns it back into GeoJSON features in the browser, and
:func:`unpack_features` does the same in Python (for tests and callers that read a page's data).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from layers.io import right_hand

COORD_DECIMALS = 6  # about 0.1 m; packed coordinates are integers in millionths of a degree
_SCALE = 10**COORD_DECIMALS
_GEOJSON_TYPES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
}


def pack_features(geoms: np.ndarray, props: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """Features in the packed form that ``gridmap.unpack`` (and :func:`unpack_features`) read.

    ``{"n": rows, "props": {column: [value per row]}, "parts": [...]}``; each part holds the rows
    of one geometry type (``index``: their row numbers, left out when the part holds every row in
    order) as GeoArrow-style ragged arrays: ``xy`` is the flat list of coordinates in millionths of
    a degree, each one the difference from the previous one (the first from 0, 0), and ``offsets``
    the ring, part and geometry boundaries, innermost first. Types without a ragged form
    (GeometryCollection) go in a part with plain GeoJSON ``geometries``.

    Parameters
    ----------
    geoms
        Shapely geometries in WGS84 lon/lat (EPSG:4326), none missing or empty.
    props
        Column name -> one JSON-serialisable value per geometry.
    """
    geoms = right_hand(np.asarray(geoms, dtype=object))  # RFC 7946 winding, as every output
    type_ids = shapely.get_type_id(geoms)
    parts = []
    for type_id in dict.fromkeys(type_ids.tolist()):
        rows = np.flatnonzero(type_ids == type_id)
        part: dict[str, Any] = {} if len(rows) == len(geoms) else {"index": rows.tolist()}
        if type_id in _GEOJSON_TYPES:
            # 2D only: a Z or M value (SpatiaLite can hand back XYM) is not drawn
            _, coords, offsets = shapely.to_ragged_array(geoms[rows], include_z=False, include_m=False)
            xy = np.rint(coords[:, :2] * _SCALE).astype(np.int64)
            part |= {
                "type": _GEOJSON_TYPES[type_id],
                "xy": np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64)).ravel().tolist(),
                "offsets": [o.tolist() for o in offsets],
            }
        else:
            rounded = shapely.transform(geoms[rows], lambda c: np.round(c, COORD_DECIMALS))
            part["geometries"] = [json.loads(g) for g in shapely.to_geojson(rounded)]
        parts.append(part)
    return {"n": len(geoms), "props": {k: list(v) for k, v in props.items()}, "parts": parts}


def unpack_features(packed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GeoJSON features from :func:`pack_features` output (what ``gridmap.unpack`` does in the page)."""
    features: list[dict[str, Any]] = [{} for _ in range(packed["n"])]
    for part in packed["parts"]:
        items = part.get("geometries")
        if items is None:
            xy = np.cumsum(np.asarray(part["xy"], dtype=np.int64).reshape(-1, 2), axis=0) / _SCALE
            nested: list[Any] = xy.tolist()
            for offsets in part["offsets"]:
                nested = [nested[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
            items = [{"type": part["type"], "coordinates": c} for c in nested]
        for j, geometry in enumerate(items):
            row = part["index"][j] if "index" in part else j
            properties = {k: v[row] for k, v in packed["props"].items()}
            features[row] = {"type": "Feature", "geometry": geometry, "properties": properties}
    return features
