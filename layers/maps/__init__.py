"""Folium map pages: the grid leader's map, the planner's map and the route map.

- ``grid_map`` (:mod:`layers.maps.grid`, its layers in :mod:`~layers.maps.leader`,
  :mod:`~layers.maps.leader_layers`, :mod:`~layers.maps.leader_problems` and
  :mod:`~layers.maps.leader_analysis`), ``planner_map`` (:mod:`layers.maps.planner`, bbox-loaded
  layers in :mod:`~layers.maps.bbox`), ``route_map`` (:mod:`layers.maps.route`); layers drawn
  from vector tiles (``VectorSource``, :mod:`layers.maps.vector_tiles`, :mod:`~layers.maps.leader_tiles`);
- what every page shares: Leaflet assets and tiles (:mod:`layers.maps.assets`), the base map and
  its registry script (:mod:`layers.maps.page`), packed layer data (:mod:`layers.maps.packing`),
  safe elements (:mod:`layers.maps.elements`), texts (:mod:`layers.maps.labels`).

Names load on first use: the tile settings (``TileSource``) are read when the site's settings
load, which should not import folium and geopandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.faces import lazy_face

if TYPE_CHECKING:
    from layers.maps.assets import LEAFLET_JS, REPO_VENDOR_DIR, MapAssets, TileSource
    from layers.maps.bbox import BboxSource
    from layers.maps.grid import DEFAULT_STATUSES, grid_map
    from layers.maps.labels import DEFAULT_LABELS
    from layers.maps.leader import MapLinks
    from layers.maps.leader_layers import PROBLEM_FIELDS
    from layers.maps.packing import pack_features, unpack_features
    from layers.maps.planner import planner_map
    from layers.maps.route import route_map
    from layers.maps.vector_tiles import StyleRule, VectorSource

_HOMES = {
    "DEFAULT_LABELS": "labels",
    "DEFAULT_STATUSES": "grid",
    "LEAFLET_JS": "assets",
    "PROBLEM_FIELDS": "leader_layers",
    "REPO_VENDOR_DIR": "assets",
    "BboxSource": "bbox",
    "MapAssets": "assets",
    "MapLinks": "leader",
    "StyleRule": "vector_tiles",
    "VectorSource": "vector_tiles",
    "TileSource": "assets",
    "grid_map": "grid",
    "pack_features": "packing",
    "planner_map": "planner",
    "route_map": "route",
    "unpack_features": "packing",
}

__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_STATUSES",
    "LEAFLET_JS",
    "PROBLEM_FIELDS",
    "REPO_VENDOR_DIR",
    "BboxSource",
    "MapAssets",
    "MapLinks",
    "StyleRule",
    "TileSource",
    "VectorSource",
    "grid_map",
    "pack_features",
    "planner_map",
    "route_map",
    "unpack_features",
]


__getattr__, __dir__ = lazy_face(__name__, _HOMES)
