"""Build the folium map of grids a user may see: the one place views and export_maps call.

``area_map(grids, assets=..., tiles=...)`` reads the layers (:mod:`gridmap.maps.selectors`) and
hands them to :func:`layers.maps.grid_map`. The grids must already be scoped to the user
(``grids_visible_to``); a community head's map is the map of all the community's grids.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium

from gridmap.geography.models import Grid
from gridmap.maps.selectors import area_layers, facility_kinds
from gridmap.problems.models import Status
from layers.map_assets import MapAssets, TileSource
from layers.maps import grid_map

STATUS_COLORS = {
    Status.REPORTED: "#d7191c",
    Status.FILED: "#f46d43",
    Status.DISPATCHED: "#fdae61",
    Status.HANDLED: "#66bd63",
    Status.CLOSED: "#1a9850",
    Status.REJECTED: "#878787",
    Status.DUPLICATE: "#bababa",
}


def status_styles() -> dict[str, dict[str, str]]:
    """Problem status code -> its (translated) name and map colour."""
    return {s.value: {"name": str(s.label), "color": STATUS_COLORS[s]} for s in Status}


def area_map(grids: Sequence[Grid], *, assets: MapAssets, tiles: TileSource | None) -> folium.Map:
    """The map of ``grids`` (one grid leader's, or a community's)."""
    return grid_map(
        **area_layers(grids),
        kinds=facility_kinds(),
        assets=assets,
        tiles=tiles,
        statuses=status_styles(),
    )
