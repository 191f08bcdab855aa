"""Where planned rows belong, derived in batch: grid and community by representative point
(buildings, facilities), metric area or length (grids, streets), and for problems the intake's
own placing (``problems_place``: the location rule and the facility link).

The areas are read once per import (``Areas``), not once per batch; for problems they are held
before the first batch, so that placing reads no database and can run ahead of the writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely

from gridmap.core.gdf import to_gdf
from gridmap.geography.models import Community, Grid
from gridmap.imports.targets import Target
from gridmap.problems.intake import Held, problems_held, problems_place
from layers.assign import assign_areas
from layers.projection import metric_crs_for

if TYPE_CHECKING:
    from gridmap.imports.core import Planned


@dataclass
class Areas:
    """The grids and communities as frames, read on first use and kept for the import."""

    frames: dict[str, Any] = field(default_factory=dict)
    held: Held | None = None  # for problems: the intake's areas and facilities, read once

    def hold_for_problems(self, categories: Any) -> Held | None:
        self.held = problems_held(categories)
        return self.held

    def grids(self) -> gpd.GeoDataFrame:
        if "grids" not in self.frames:
            self.frames["grids"] = to_gdf(Grid.objects.all(), ["code", "id", "community_id"])
        return self.frames["grids"]

    def communities(self) -> gpd.GeoDataFrame:
        if "communities" not in self.frames:
            self.frames["communities"] = to_gdf(Community.objects.all(), ["code", "id"])
        return self.frames["communities"]


def derive_places(target: Target, planned: list[Planned], areas: Areas | None = None) -> None:
    """Grid/community by representative point, facility link and metric area/length, in batch."""
    if not planned or target.name == "regions":
        return
    geoms = gpd.GeoSeries([p.geom for p in planned], crs="EPSG:4326")
    if target.name in {"grids", "streets"}:
        metric = geoms.to_crs(metric_crs_for(geoms))
        attr, values = ("area_m2", metric.area) if target.name == "grids" else ("length_m", metric.length)
        for p, v in zip(planned, values, strict=True):
            p.fields[attr] = round(float(v), 2)
        return
    if target.name == "problems":
        place_problems(planned, areas.held if areas is not None else None)
        return
    areas = areas or Areas()
    points = gpd.GeoSeries(shapely.point_on_surface(geoms.values), index=geoms.index, crs="EPSG:4326")
    grids = areas.grids()
    grid_codes = assign_areas(points, grids)
    by_code = grids.set_index("code")
    communities = areas.communities().set_index("code", drop=False)
    comm_codes = assign_areas(points, communities.reset_index(drop=True))
    for i, p in enumerate(planned):
        gcode = grid_codes.iloc[i]
        p.fields["grid_id"] = int(by_code.at[gcode, "id"]) if gcode else None
        if target.name in {"buildings", "inspection_points"}:
            ccode = comm_codes.iloc[i]
            community = (
                by_code.at[gcode, "community_id"]
                if gcode
                else (communities.at[ccode, "id"] if ccode else None)
            )
            p.fields["community_id"] = int(community) if community is not None else None


def place_problems(planned: list[Planned], held: Held | None) -> None:
    """Grid, community and facility of imported problems, as the intake decides them (with
    ``held``, from what was read before the batches: no database)."""
    categories = [p.fields.pop("_category") for p in planned]
    places = problems_place([(p.geom.x, p.geom.y) for p in planned], categories, held=held)
    for p, (grid_id, community_id, facility_id) in zip(planned, places, strict=True):
        p.fields.update(grid_id=grid_id, community_id=community_id, facility_id=facility_id)
