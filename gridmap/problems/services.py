"""Writes of problems at intake. Location (grid → community → unassigned), the facility link and
the recurrence link are decided here, in the same transaction as the insert. Status changes
after intake belong to ``gridmap.problems.lifecycle``."""

from __future__ import annotations

import uuid as uuid_mod
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from pyproj import Transformer

from gridmap.core.geoinput import point_from_lonlat
from gridmap.facilities.models import Facility
from gridmap.geography.selectors import community_for_point, grid_for_point
from gridmap.problems.models import EventCategory, Problem, ProblemEvent
from gridmap.problems.selectors import metre_box, problems_closed_recently_nearby, problems_open_nearby
from layers.projection import metric_crs_for


def snap_distance_m(category: EventCategory) -> float:
    return category.snap_distance_m or settings.GRIDMAP["SNAP_DISTANCE_M"]


@lru_cache(maxsize=64)
def _to_metric(lon_deg: int, lat_deg: int) -> Transformer:
    """A lon/lat → metres transformer for the metric CRS of a one-degree cell (built once)."""
    return Transformer.from_crs(4326, metric_crs_for((lon_deg + 0.5, lat_deg + 0.5)), always_xy=True)


def nearest_within_m(point: Point, candidates: QuerySet, max_m: float) -> list[tuple[int, float]]:
    """(id, metres) of the candidates within ``max_m`` of ``point``, nearest first (ties by id).

    Distances are measured in the metric CRS of the place (layers.projection), so lines and
    polygons count by their nearest edge. Intake calls this several times per report, so it
    reads only ids and WKB and returns at once when the index found nothing."""
    rows = list(candidates.annotate(_wkb=AsWKB("geom")).values_list("id", "_wkb"))
    if not rows:
        return []
    to_m = _to_metric(int(point.x // 1), int(point.y // 1))
    geoms = shapely.transform(shapely.from_wkb([bytes(w) for _, w in rows]), lambda xy: np.column_stack(
        to_m.transform(xy[:, 0], xy[:, 1])))  # fmt: skip
    here = shapely.Point(*to_m.transform(point.x, point.y))
    dist = shapely.distance(geoms, here)
    pairs = sorted((float(d), int(i)) for (i, _), d in zip(rows, dist, strict=True) if d <= max_m)
    return [(i, d) for d, i in pairs]


def nearest_facility(point: Point, category: EventCategory) -> Facility | None:
    """The nearest facility of the category's kind within its link distance (metres)."""
    if category.facility_kind_id is None:
        return None
    max_m = snap_distance_m(category)
    candidates = Facility.objects.filter(
        kind_id=category.facility_kind_id, geom__intersects=metre_box(point, max_m)
    )
    found = nearest_within_m(point, candidates, max_m)
    return Facility.objects.get(pk=found[0][0]) if found else None


def possible_duplicates(point: Point, category: EventCategory) -> list[tuple[Problem, float]]:
    """Open problems of the same category within its duplicate radius, nearest first: what the
    intake offers the reporter before a new case is made."""
    found = nearest_within_m(point, problems_open_nearby(point, category), category.duplicate_radius_m)
    problems = Problem.objects.in_bulk([i for i, _ in found])
    return [(problems[i], d) for i, d in found]


def problem_locate(problem: Problem) -> None:
    """Set grid, community, facility and recurrence link from the point (not saved here)."""
    grid = grid_for_point(problem.geom)
    problem.grid = grid
    problem.community_id = (
        grid.community_id if grid else getattr(community_for_point(problem.geom), "pk", None)
    )
    problem.facility = nearest_facility(problem.geom, problem.category)
    recent = problems_closed_recently_nearby(problem.geom, problem.category)
    found = nearest_within_m(problem.geom, recent, problem.category.recurrence_radius_m)
    problem.recurrence_of_id = found[0][0] if found else None


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
    before returns the first problem unchanged (an offline submission replayed). A problem of
    the same category close to one closed recently is linked to it as a recurrence, which
    counts against the closed case.
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
            ProblemEvent.objects.create(
                problem=problem,
                action="report",
                to_status=problem.status,
                actor=reporter,
                at=problem.reported_at,
                geom=point,
            )
            if problem.recurrence_of_id:
                Problem.objects.filter(pk=problem.recurrence_of_id).update(
                    recurrence_count=F("recurrence_count") + 1
                )
    except IntegrityError:
        # Two replays of one submission raced: the other one won; answer with its result.
        if client_uuid is None:
            raise
        return Problem.objects.get(uuid=client_uuid), False
    return problem, True
