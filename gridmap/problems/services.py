"""Writes of problems. Location (grid → community → unassigned) and the facility link are
decided here, in the same transaction as the insert."""

from __future__ import annotations

import math
import uuid as uuid_mod
from datetime import datetime
from typing import Any

import geopandas as gpd
import shapely
from django.conf import settings
from django.contrib.gis.geos import Point, Polygon
from django.db import IntegrityError, transaction

from gridmap.core.gdf import to_gdf
from gridmap.core.geoinput import point_from_lonlat
from gridmap.facilities.models import Facility
from gridmap.geography.selectors import community_for_point, grid_for_point
from gridmap.problems.models import EventCategory, Problem
from layers.assign import nearest_within

METRES_PER_DEGREE_LAT = 111_320.0


def snap_distance_m(category: EventCategory) -> float:
    return category.snap_distance_m or settings.GRIDMAP["SNAP_DISTANCE_M"]


def nearest_facility(point: Point, category: EventCategory) -> Facility | None:
    """The nearest facility of the category's kind within its link distance (metres)."""
    if category.facility_kind_id is None:
        return None
    max_m = snap_distance_m(category)
    # A box a little larger than the radius narrows the candidates through the spatial index;
    # the exact distance is then measured in metres (layers.assign.nearest_within).
    dlat = max_m / METRES_PER_DEGREE_LAT * 1.1
    dlon = dlat / max(math.cos(math.radians(point.y)), 0.01)
    box = Polygon.from_bbox((point.x - dlon, point.y - dlat, point.x + dlon, point.y + dlat))
    box.srid = 4326
    candidates = Facility.objects.filter(kind_id=category.facility_kind_id, geom__intersects=box)
    frame = to_gdf(candidates, ["id"])
    if frame.empty:
        return None
    best = nearest_within(gpd.GeoSeries([shapely.Point(point.x, point.y)]), frame, max_distance_m=max_m)
    found = best.iloc[0]["id"]
    return None if found is None else Facility.objects.get(pk=found)


def problem_locate(problem: Problem) -> None:
    """Set grid, community and facility from the problem's point (not saved here)."""
    grid = grid_for_point(problem.geom)
    problem.grid = grid
    problem.community = grid.community if grid else community_for_point(problem.geom)
    problem.facility = nearest_facility(problem.geom, problem.category)


def problem_create(
    *,
    lon: Any,
    lat: Any,
    category: EventCategory,
    description: str = "",
    reporter: Any = None,
    reported_at: datetime | None = None,
    client_uuid: uuid_mod.UUID | None = None,
) -> tuple[Problem, bool]:
    """Create a problem from raw coordinates; returns (problem, created).

    The coordinates are checked as numbers before a geometry is built. A ``client_uuid`` seen
    before returns the first problem unchanged (an offline submission replayed).
    """
    point = point_from_lonlat(lon, lat)
    if client_uuid is not None:
        existing = Problem.objects.filter(uuid=client_uuid).first()
        if existing:
            return existing, False
    problem = Problem(geom=point, category=category, description=description, reporter=reporter)
    if reported_at is not None:
        problem.reported_at = reported_at
    if client_uuid is not None:
        problem.uuid = client_uuid
    problem_locate(problem)
    try:
        with transaction.atomic():
            problem.save()
    except IntegrityError:
        # Two replays of one submission raced: the other one won; answer with its result.
        if client_uuid is None:
            raise
        return Problem.objects.get(uuid=client_uuid), False
    return problem, True
