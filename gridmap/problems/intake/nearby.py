"""The intake's decisions, written once in Python: from one read of what is near a new problem
(open and recently closed problems of the category, facilities of its kind), the facility link,
the recurrence link and the duplicates offered to the reporter, measured in metres in the metric
CRS of the place (``layers.projection``), nearest first, ties by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from pyproj import Transformer

from gridmap.core import prepared
from gridmap.facilities.models import Facility
from gridmap.problems.intake import statement
from gridmap.problems.intake.features import features
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem, Status
from gridmap.problems.selectors import metre_bounds, metre_box, problems_open_nearby
from layers.projection import metric_epsg_for


def snap_distance_m(category: EventCategory) -> float:
    return category.snap_distance_m or settings.GRIDMAP["SNAP_DISTANCE_M"]


@lru_cache(maxsize=64)
def _to_metric(lon_deg: int, lat_deg: int) -> Transformer:
    """A lon/lat → metres transformer for the metric CRS of a one-degree cell (built once)."""
    return Transformer.from_crs(4326, metric_epsg_for((lon_deg + 0.5, lat_deg + 0.5)), always_xy=True)


def nearest_in_rows(
    lonlat: tuple[float, float], rows: list[tuple[int, bytes]], max_m: float
) -> list[tuple[int, float]]:
    """(id, metres) of the (id, WKB) rows within ``max_m`` of the point ``lonlat``, nearest first
    (ties by id). Lines and polygons count by their nearest edge."""
    if not rows:
        return []
    x, y = lonlat
    to_m = _to_metric(int(x // 1), int(y // 1))
    geoms = shapely.transform(shapely.from_wkb([bytes(w) for _, w in rows]), lambda xy: np.column_stack(
        to_m.transform(xy[:, 0], xy[:, 1])))  # fmt: skip
    here = shapely.Point(*to_m.transform(x, y))
    dist = shapely.distance(geoms, here)
    pairs = sorted((float(d), int(i)) for (i, _), d in zip(rows, dist, strict=True) if d <= max_m)
    return [(i, d) for d, i in pairs]


def nearest_within_m(point: Point, candidates: QuerySet, max_m: float) -> list[tuple[int, float]]:
    """(id, metres) of the candidates within ``max_m`` of ``point``, nearest first (ties by id).
    Reads only ids and WKB; returns at once when the index found nothing."""
    rows = list(candidates.annotate(_wkb=AsWKB("geom")).values_list("id", "_wkb"))
    return nearest_in_rows(point.coords, rows, max_m)


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


def duplicates_of(problem: Problem) -> list[dict[str, float]]:
    """Open problems of the same category close by (``possible_duplicates``), not itself, as
    ``{"id", "distance_m"}`` nearest first: what the API and the case page suggest merging.

    Usually there are none: one cheap query on the candidates' box says so before the service
    measures distances in metres (which costs milliseconds, mostly building a GeoDataFrame)."""
    if not problems_open_nearby(problem.geom, problem.category).exclude(pk=problem.pk).exists():
        return []
    return [
        {"id": other.pk, "distance_m": round(metres, 1)}
        for other, metres in possible_duplicates(problem.geom, problem.category)
        if other.pk != problem.pk
    ]


@dataclass(frozen=True)
class Nearby:
    """What intake decides from the one read around the point."""

    facility_id: int | None
    recurrence_of_id: int | None
    duplicates: list[tuple[int, float]]  # open problems of the category: (id, metres), nearest first


def decide(lonlat: tuple[float, float], category: EventCategory, rows: list[tuple[int, str | None, bytes]],
           facilities: list[tuple[int, bytes]]) -> Nearby:  # fmt: skip
    """The links and duplicates from the candidate problems (id, status, WKB) and facilities
    (id, WKB) around ``lonlat``."""
    open_rows = [(i, w) for i, status, w in rows if status in OPEN_STATUSES]
    closed_rows = [(i, w) for i, status, w in rows if status == Status.CLOSED]
    recurrence = nearest_in_rows(lonlat, closed_rows, category.recurrence_radius_m)
    facility = nearest_in_rows(lonlat, facilities, snap_distance_m(category)) if facilities else []
    return Nearby(
        facility_id=facility[0][0] if facility else None,
        recurrence_of_id=recurrence[0][0] if recurrence else None,
        duplicates=nearest_in_rows(lonlat, open_rows, category.duplicate_radius_m),
    )


Candidates = tuple[list[tuple[int, str | None, bytes]], list[tuple[int, bytes]]]


def _read_in_one_statement(category: EventCategory, x: float, y: float) -> Candidates:
    facility = None
    if category.facility_kind_id is not None:
        facility = (category.facility_kind_id, metre_bounds(x, y, snap_distance_m(category)))
    box = metre_bounds(x, y, max(category.duplicate_radius_m, category.recurrence_radius_m))
    since = timezone.now() - timezone.timedelta(days=category.recurrence_days)
    sql, params = statement.nearby_query(category.pk, box, since, facility)
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)
        found = cursor.fetchall()
    rows = [(i, status, w) for kind, i, status, w in found if kind == statement.PROBLEM]
    return rows, [(i, w) for kind, i, _, w in found if kind == statement.FACILITY]


def _read_orm(point: Point, category: EventCategory) -> Candidates:
    since = timezone.now() - timezone.timedelta(days=category.recurrence_days)
    radius = max(category.duplicate_radius_m, category.recurrence_radius_m)
    query = Problem.objects.filter(
        Q(status__in=OPEN_STATUSES) | Q(status=Status.CLOSED, closed_at__gte=since),
        category=category,
        geom__intersects=metre_box(point, radius),
    )
    rows = list(query.annotate(_wkb=AsWKB("geom")).values_list("id", "status", "_wkb"))
    if category.facility_kind_id is None:
        return rows, []
    candidates = Facility.objects.filter(
        kind_id=category.facility_kind_id, geom__intersects=metre_box(point, snap_distance_m(category))
    )
    return rows, list(candidates.annotate(_wkb=AsWKB("geom")).values_list("id", "_wkb"))


def problem_nearby(point: Point, category: EventCategory) -> Nearby:
    """Facility link, recurrence link and duplicates for a new problem at ``point``: one read of
    the candidates (one statement or two queries, as the backend allows), decided in Python."""
    if features().reads_nearby_in_one_statement:
        rows, facilities = _read_in_one_statement(category, point.x, point.y)
    else:
        rows, facilities = _read_orm(point, category)
    return decide(point.coords, category, rows, facilities)
