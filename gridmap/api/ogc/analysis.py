"""The analysis outputs as read-only collections, from what is kept, never computed here:

- ``gaps-<kind>``: the stored uncovered area of every grid in scope for a facility kind whose
  coverage is precomputed (a service radius and the radius rule), the rows ``/api/v1/analysis/
  gaps/`` answers with (``coverage_rows.grid_rows``, straight-line metric);
- ``hotspots``: the kept density clusters of the open problems of the last 90 days (the REST
  API's defaults, ``hotspot_results.hotspot_result``), a frame in memory paged here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gridmap.analysis.coverage import rule_for
from gridmap.analysis.coverage_rows import coverage_state, grid_rows
from gridmap.analysis.hotspot_results import hotspot_result
from gridmap.api.features import FeatureSpec, RowContext
from gridmap.api.ogc.collections import (
    INTEGER,
    NNUMBER,
    NSTRING,
    NUMBER,
    OBJECT,
    STRING,
    Collection,
    User,
    q,
)
from gridmap.facilities.models import FacilityKind

GAP_PREFIX = "gaps-"
HOTSPOT_PARAMS = {"days": 90, "status": "open", "method": "dbscan", "eps_m": 50.0, "min_samples": 5}


def _gap(r: Sequence[Any], ctx: RowContext) -> dict[str, Any]:
    return {"grid": r[0], "buildings": r[2], "uncovered": r[3], "building_share": r[4],
            "household_share": r[5], "area_m2": r[6], "uncovered_m2": r[7], "uncovered_share": r[8]}  # fmt: skip


GAP = FeatureSpec(
    (
        "buildings",
        "uncovered",
        "building_share",
        "household_share",
        "area_m2",
        "uncovered_m2",
        "uncovered_share",
    ),
    _gap,
)
GAP_PROPERTIES = {"grid": STRING, "buildings": INTEGER, "uncovered": INTEGER, "building_share": NNUMBER,
                  "household_share": NNUMBER, "area_m2": NNUMBER, "uncovered_m2": NNUMBER,
                  "uncovered_share": NNUMBER}  # fmt: skip
GAP_QUERYABLES = {"grid": q("grid__code", STRING), "community": q("grid__community__code", STRING),
                  "uncovered": q("uncovered", INTEGER), "uncovered_share": q("uncovered_share", NUMBER),
                  "building_share": q("building_share", NUMBER)}  # fmt: skip


def _gap_rows(kind: FacilityKind) -> Any:
    def selector(user: User) -> QuerySet:
        return grid_rows(coverage_state(user, kind), user, metric="straight")

    return selector


def gap_collection(kind: FacilityKind) -> Collection:
    return Collection(
        f"{GAP_PREFIX}{kind.code}",
        _("Coverage gaps: %(kind)s") % {"kind": kind.name},
        _("The part of each grid farther than %(radius)s m in a straight line from every %(kind)s "
          "(stored coverage; fully covered grids are left out).")
        % {"radius": f"{kind.service_radius_m:g}", "kind": kind.name},
        "MultiPolygon", _gap_rows(kind), GAP, GAP_PROPERTIES, GAP_QUERYABLES,
        ordering=("grid__code",), id_lookup="grid__code", id_schema=dict(STRING),
    )  # fmt: skip


def gap_kinds() -> list[FacilityKind]:
    """The kinds with stored coverage (a service radius, ruled by the radius)."""
    kinds = FacilityKind.objects.filter(service_radius_m__isnull=False).order_by("code")
    return [k for k in kinds if k.service_radius_m and rule_for(k) == "radius"]


@dataclass(frozen=True)
class FrameCollection:
    """A collection read from a kept frame (EPSG:4326) rather than a table."""

    id: str
    title: Any
    description: Any
    geometry: str
    properties: dict[str, dict[str, Any]]
    queryables: dict[str, Any] = field(default_factory=dict)
    temporal: str | None = None
    id_schema: dict[str, Any] = field(default_factory=lambda: dict(INTEGER))

    def frame(self, user: User) -> gpd.GeoDataFrame:
        result = hotspot_result(user=user, params=dict(HOTSPOT_PARAMS)).value
        return result if result is not None else gpd.GeoDataFrame(geometry=[], crs=4326)


HOTSPOTS = FrameCollection(
    "hotspots",
    _("Problem hotspots"),
    _("Density clusters (DBSCAN, 50 m, at least 5) of the open problems of the last 90 days, largest "
      "first; kept between requests and refreshed by the workers."),
    "Polygon",  # one outline per cluster (layers.hotspots.clusters)
    {"cluster_id": INTEGER, "size": INTEGER, "centroid_lon": NUMBER, "centroid_lat": NUMBER, "area_m2": NNUMBER,
     "top_category": NSTRING, "category_counts": OBJECT, "category_shares": OBJECT, "first_reported_at": NSTRING,
     "last_reported_at": NSTRING},
)  # fmt: skip
