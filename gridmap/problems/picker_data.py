"""What the pages' map pickers draw besides the case (the report form, the fix form, the list):
the configured background tiles as picker.js reads them, the grid outlines a user may see, and
the street centrelines with their names (a reference when no tiles are configured)."""

from __future__ import annotations

import json
from typing import Any

from gridmap.core.basemap import tile_source
from gridmap.core.geojson import geojson_column
from gridmap.geography.models import Street
from gridmap.geography.selectors import grid_outlines_for

# The report form's map draws the user's grids when there are at most this many (a city-wide
# user picks on the tiles and sees the grid the problem fell in on its page).
PICKER_MAX_GRIDS = 400
# Street centrelines drawn under the picker as a reference (streets are public, not scoped): with
# no background tiles they are what tells a reporter where they are. A town's few thousand
# segments at 5 decimals (about 1 m) are a few hundred kB; past this many, none are drawn.
PICKER_MAX_STREETS = 5000


def picker_tiles() -> dict[str, Any] | None:
    """The configured background tiles for picker.js (None: a plain background). With a GCJ-02
    source (``datum``) the script moves what it draws to GCJ-02 and a clicked place back."""
    tiles = tile_source()
    if tiles is None:
        return None
    return {"url": tiles.url_template, "attribution": tiles.attribution, "maxZoom": tiles.max_zoom,
            "subdomains": tiles.subdomains, "datum": tiles.datum,
            "overlays": list(tiles.overlays)}  # fmt: skip


def grid_features(user: Any) -> list[dict[str, Any]]:
    """The grid outlines drawn for the user (``grid_outlines_for``) as GeoJSON features (made by the
    database, 6 decimals)."""
    # a reporter sees no grid of their own: the outlines of all say where a place lies
    grids = grid_outlines_for(user).order_by("code").annotate(shape=geojson_column(precision=6))
    rows = list(grids.values_list("code", "name", "shape")[: PICKER_MAX_GRIDS + 1])
    if len(rows) > PICKER_MAX_GRIDS:
        return []
    return [
        {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": json.loads(shape)}
        for code, name, shape in rows
    ]


def street_features() -> list[dict[str, Any]]:
    """Street centrelines as GeoJSON features with their names (made by the database, 5 decimals)."""
    streets = Street.objects.order_by("pk").annotate(shape=geojson_column(precision=5))
    rows = list(streets.values_list("name", "shape")[: PICKER_MAX_STREETS + 1])
    if len(rows) > PICKER_MAX_STREETS:
        return []
    return [
        {"type": "Feature", "properties": {"name": name}, "geometry": json.loads(shape)}
        for name, shape in rows
    ]
