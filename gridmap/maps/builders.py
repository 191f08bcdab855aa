"""Build the folium map of grids a user may see: the one place views and export_maps call.

``area_map(grids, assets=..., tiles=...)`` reads the layers (:mod:`gridmap.maps.selectors`) and
hands them to :func:`layers.maps.grid_map`, with its texts in the active language
(:func:`gridmap.maps.labels.map_labels`). The grids must already be scoped to the user
(``grids_visible_to``); a community head's map is the map of all the community's grids.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
from django.urls import reverse

from gridmap.geography.models import Grid
from gridmap.maps.labels import localized_kinds, map_labels
from gridmap.maps.selectors import area_layers, facility_kinds
from gridmap.maps.tiles import add_overlays, display_frames
from gridmap.problems.models import Status
from layers.maps import MapAssets, MapLinks, TileSource, grid_map

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


def problem_links() -> MapLinks:
    """URL templates of the problem page and its (scoped) photos, for the map's popups."""
    n = 987654321  # a placeholder id, swapped for {id} / {photo}
    return MapLinks(
        problem=reverse("problem-detail", args=[n]).replace(str(n), "{id}"),
        photo=reverse("problem-photo", args=[n, n + 1])
        .replace(str(n + 1), "{photo}")
        .replace(str(n), "{id}"),
    )  # the link's text is the map's "problem_link" label


def area_map(grids: Sequence[Grid], *, assets: MapAssets, tiles: TileSource | None) -> folium.Map:
    """The map of ``grids`` (one grid leader's, or a community's)."""
    m = grid_map(
        **display_frames(area_layers(grids), tiles),  # moved to GCJ-02 over such tiles, for display only
        kinds=localized_kinds(facility_kinds()),
        assets=assets,
        tiles=tiles,
        statuses=status_styles(),
        links=None if assets.inline else problem_links(),  # a file opened from disk has no server
        labels=map_labels(),  # the map's texts in the active language
    )
    return add_overlays(m, tiles)  # e.g. Tianditu's labels over its map
