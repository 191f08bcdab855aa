"""Hotspot analyses of the problems a user may see: density clusters, Gi* hot cells, emerging hotspots.

Reads only. Every input goes through the selectors (``problems_visible_to``,
``grids_visible_to``), one ``to_gdf`` conversion each, then ``layers.hotspots`` computes in
metres and returns EPSG:4326 GeoDataFrames.

Which problems: ``status="open"`` takes the open statuses (reported, filed, dispatched, handled);
``"all"`` takes every status except *rejected* (not a problem) and *duplicate* (already counted
in the case it was merged into). The period is ``start <= reported_at < end``.

The study area (for H3 and square cells): the visible grids, plus every community and every
street/town (subdistrict) whose grids the user all sees, so their ungridded parts (new estates,
industrial zones) count too. A grid leader's area is their grids; an administrator's, the towns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import Polygon
from django.db.models import Count, F, Q
from django.utils import timezone

from gridmap.core.gdf import to_gdf
from gridmap.geography.models import Community, Grid, Street, Subdistrict
from gridmap.geography.selectors import grids_visible_to
from gridmap.problems.models import OPEN_STATUSES, Status
from gridmap.problems.selectors import problems_visible_to
from layers.hotspots import density_clusters, emerging_hotspots, gistar_cells, h3_cells, square_cells
from layers.projection import metric_crs_for

User = AbstractBaseUser | AnonymousUser
STATUSES = ("open", "all")
CELLS = ("grids", "h3", "square")
NOT_COUNTED = (Status.REJECTED, Status.DUPLICATE)
MODES = ("clusters", "gistar", "emerging")
GISTAR_CONVENTION = (
    "Getis-Ord Gi* with the self weight (star=True) and binary weights; z equals esda "
    "G_Local(y, w, star=True, transform='B').Zs; p_value two-sided normal (2 x esda p_norm); "
    "hot/cold at 90/95/99 % when p < 0.10/0.05/0.01"
)
EMERGING_RULE = (
    "new: hot now, not before; intensifying: hot in both, share rose; diminishing: hot before and "
    "now not hot or share fell; persistent: hot in both, no significant change; sporadic: hot in "
    "neither, share rose; none: otherwise (hot = Gi* z > 0, p < 1 - confidence)"
)


@dataclass(frozen=True)
class ProblemFilter:
    """Which problems: category codes (empty = all), "open" or "all", reported in [start, end)."""

    categories: tuple[str, ...] = ()
    status: str = "all"
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class CellOptions:
    """Cells and Gi* settings (see ``layers.hotspots.gistar_cells``).

    ``cells``: the user's unit grids, H3 hexagons of ``h3_res`` or squares of ``cell_m`` metres
    over the study area. H3 and square cells with less than ``min_cover`` of their area inside
    the study area are not tested (a sliver's density is unstable).
    """

    cells: str = "grids"
    h3_res: int = 10
    cell_m: float = 200.0
    normalise: str = "area"
    weights: str = "queen"
    band_m: float | None = None
    k: int = 8
    fdr: bool = False
    min_cover: float = 0.25


@dataclass(frozen=True)
class ClusterOptions:
    """Density clusters' settings (see :func:`hotspots_clusters`)."""

    method: str = "dbscan"
    eps_m: float = 50.0
    min_samples: int = 5
    min_cluster_size: int = 10
    outline: str = "convex"


@dataclass(frozen=True)
class EmergingOptions:
    """Emerging hotspots' settings: the ``days`` before the filter's end (default: now) against
    the ``days`` before those."""

    days: float = 30.0
    confidence: float = 0.95


def hotspot_problems(*, user: User, filters: ProblemFilter) -> gpd.GeoDataFrame:
    """The visible problems matching ``filters``: id, category (code), status, reported_at (UTC)."""
    if filters.status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    problems = problems_visible_to(user)
    if filters.status == "open":
        problems = problems.filter(status__in=OPEN_STATUSES)
    else:
        problems = problems.exclude(status__in=NOT_COUNTED)
    if filters.categories:
        problems = problems.filter(category__code__in=filters.categories)
    if filters.start is not None:
        problems = problems.filter(reported_at__gte=filters.start)
    if filters.end is not None:
        problems = problems.filter(reported_at__lt=filters.end)
    frame = to_gdf(problems.order_by("pk"), ["id", "category__code", "status", "reported_at"])
    frame = frame.rename(columns={"category__code": "category"})
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    return frame


def hotspot_study_area(*, user: User) -> gpd.GeoDataFrame:
    """Polygons (EPSG:4326) of the area the user's cells cover (see the module docstring)."""
    visible = grids_visible_to(user).values("pk")
    whole = {
        "n": Count("grids", distinct=True),
        "seen": Count("grids", filter=Q(grids__in=visible), distinct=True),
    }
    communities = Community.objects.filter(geom__isnull=False).annotate(**whole).filter(n__gt=0, seen=F("n"))
    towns = (
        Subdistrict.objects.filter(geom__isnull=False)
        .annotate(
            n=Count("communities__grids", distinct=True),
            seen=Count("communities__grids", filter=Q(communities__grids__in=visible), distinct=True),
        )
        .filter(n__gt=0, seen=F("n"))
    )
    parts = [
        to_gdf(Grid.objects.filter(pk__in=visible), ["code"]),
        to_gdf(communities, ["code"]),
        to_gdf(towns, ["code"]),
    ]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")


def hotspot_cells(*, user: User, options: CellOptions) -> tuple[gpd.GeoDataFrame, float]:
    """The cells to test (``cell_id``, ``name``, geometry) and the least area (m²) a tested
    cell must have inside the study area."""
    if options.cells == "grids":
        grids = to_gdf(grids_visible_to(user).order_by("code"), ["code", "name"])
        return grids.rename(columns={"code": "cell_id"}), 0.0
    area = hotspot_study_area(user=user)
    if area.empty:
        return gpd.GeoDataFrame({"cell_id": [], "name": []}, geometry=[], crs="EPSG:4326"), 0.0
    if options.cells == "h3":
        cells = h3_cells(area, resolution=options.h3_res)
    elif options.cells == "square":
        cells = square_cells(area, cell_m=options.cell_m)
    else:
        raise ValueError(f"cells must be one of {CELLS}")
    cells["name"] = ""
    nominal = float(np.median(cells["cell_area_m2"])) if len(cells) else 0.0
    return cells[["cell_id", "name", "geometry"]], options.min_cover * nominal


def hotspot_streets(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street centre lines crossing the cells' bounding box (streets are not scoped: public)."""
    x0, y0, x1, y1 = cells.total_bounds
    box = Polygon.from_bbox((x0, y0, x1, y1))
    box.srid = 4326
    return to_gdf(Street.objects.filter(geom__intersects=box), ["id"])


def _gistar_options(cells: gpd.GeoDataFrame, options: CellOptions, min_area_m2: float) -> dict:
    return {
        "id_col": "cell_id",
        "normalise": options.normalise,
        "streets": hotspot_streets(cells) if options.normalise == "street" and len(cells) else None,
        "weights": options.weights,
        "band_m": options.band_m,
        "k": options.k,
        "fdr": options.fdr,
        "min_area_m2": min_area_m2,
    }


def _with_names_and_centres(result: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    result.insert(1, "name", cells["name"].to_numpy())
    if len(result):
        crs = metric_crs_for(result)
        centres = gpd.GeoSeries(shapely.centroid(result.geometry.to_crs(crs).values), crs=crs).to_crs(4326)
        result.insert(2, "centroid_lon", centres.x.to_numpy())
        result.insert(3, "centroid_lat", centres.y.to_numpy())
    return result


def hotspots_clusters(
    *,
    user: User,
    filters: ProblemFilter,
    method: str = "dbscan",
    eps_m: float = 50.0,
    min_samples: int = 5,
    min_cluster_size: int = 10,
    outline: str = "convex",
) -> gpd.GeoDataFrame:
    """Density clusters (DBSCAN or HDBSCAN, in metres) of the visible problems, one row per
    cluster, largest first (``layers.hotspots.density_clusters``)."""
    problems = hotspot_problems(user=user, filters=filters)
    clusters = density_clusters(
        problems,
        method=method,  # type: ignore[arg-type]
        eps_m=eps_m,
        min_samples=min_samples,
        min_cluster_size=min_cluster_size,
        outline=outline,  # type: ignore[arg-type]
    )
    clusters.attrs["problems"] = len(problems)
    return clusters


def hotspots_gistar(*, user: User, filters: ProblemFilter, options: CellOptions) -> gpd.GeoDataFrame:
    """Gi* hot and cold cells of the visible problems (``layers.hotspots.gistar_cells``)."""
    problems = hotspot_problems(user=user, filters=filters)
    cells, min_area_m2 = hotspot_cells(user=user, options=options)
    if cells.empty:
        raise ValueError("no cells to test: the user sees no grid")
    result = gistar_cells(problems, cells, **_gistar_options(cells, options, min_area_m2))
    result.attrs.update(problems=len(problems), outside=len(problems) - int(result["count"].sum()))
    return _with_names_and_centres(result, cells)


def hotspots_emerging(
    *,
    user: User,
    filters: ProblemFilter,
    end: datetime,
    days: float,
    options: CellOptions,
    confidence: float = 0.95,
) -> gpd.GeoDataFrame:
    """Emerging hotspots: the ``days`` before ``end`` against the ``days`` before those
    (``layers.hotspots.emerging_hotspots``; ``filters.start``/``end`` are ignored)."""
    window = ProblemFilter(
        categories=filters.categories,
        status=filters.status,
        start=end - pd.Timedelta(days=2 * days),
        end=end,
    )
    problems = hotspot_problems(user=user, filters=window)
    cells, min_area_m2 = hotspot_cells(user=user, options=options)
    if cells.empty:
        raise ValueError("no cells to test: the user sees no grid")
    result = emerging_hotspots(
        problems,
        cells,
        end=pd.Timestamp(end),
        days=days,
        confidence=confidence,
        **_gistar_options(cells, options, min_area_m2),
    )
    result.attrs["problems"] = len(problems)
    return _with_names_and_centres(result, cells)


def hotspots_report(
    mode: str,
    *,
    user: User,
    filters: ProblemFilter,
    clusters: ClusterOptions | None = None,
    cells: CellOptions | None = None,
    emerging: EmergingOptions | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """One analysis (``mode``: clusters, gistar or emerging) and the parameters it ran with,
    ready to print beside it (times as ISO 8601, the conventions stated)."""
    params: dict[str, Any] = {
        "categories": list(filters.categories),
        "status": filters.status,
        "start": filters.start.isoformat() if filters.start else None,
        "end": filters.end.isoformat() if filters.end else None,
    }
    if mode == "clusters":
        clusters = clusters or ClusterOptions()
        frame = hotspots_clusters(user=user, filters=filters, **asdict(clusters))
        return frame, params | asdict(clusters)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    cells = cells or CellOptions()
    params |= asdict(cells) | {"convention": GISTAR_CONVENTION}
    if mode == "gistar":
        return hotspots_gistar(user=user, filters=filters, options=cells), params
    emerging = emerging or EmergingOptions()
    end = filters.end or timezone.now()
    params |= {"days": emerging.days, "end": end.isoformat(), "confidence": emerging.confidence}
    frame = hotspots_emerging(
        user=user, filters=filters, end=end, days=emerging.days, options=cells, confidence=emerging.confidence
    )
    return frame, params | {"rule": EMERGING_RULE}
