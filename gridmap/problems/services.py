"""Writes of problems at intake. Location (grid → community → unassigned), the facility link and
the recurrence link are decided here, in the same transaction as the insert. Status changes
after intake belong to ``gridmap.problems.lifecycle``.

Intake reads what is near the point once (open and recently closed problems of the category,
and its facilities): that one read decides the recurrence link, the facility link and the
duplicates offered to the reporter. The grid and community come from the areas held in memory
(``gridmap.geography.locator``). On PostGIS the write is one statement (``intake_sql``); other
backends save through the ORM in a transaction.
"""

from __future__ import annotations

import uuid as uuid_mod
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from pyproj import Transformer

from gridmap.core import prepared
from gridmap.core.geoinput import point_from_lonlat
from gridmap.facilities.models import Facility
from gridmap.geography.locator import areas_at, areas_cached, locate_point
from gridmap.problems import intake_sql
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem, ProblemEvent, Status
from gridmap.problems.selectors import metre_bounds, metre_box
from layers.projection import metric_epsg_for

STALE_AREA_TRIES = 3


def snap_distance_m(category: EventCategory) -> float:
    return category.snap_distance_m or settings.GRIDMAP["SNAP_DISTANCE_M"]


@lru_cache(maxsize=64)
def _metric_srid(lon_deg: int, lat_deg: int) -> int:
    """The EPSG code of the metric CRS distances are measured in, for a one-degree cell (in
    Python here, in PostGIS by ``intake_sql.insert_decided``)."""
    return metric_epsg_for((lon_deg + 0.5, lat_deg + 0.5))


@lru_cache(maxsize=64)
def _to_metric(lon_deg: int, lat_deg: int) -> Transformer:
    """A lon/lat → metres transformer for the metric CRS of a one-degree cell (built once)."""
    return Transformer.from_crs(4326, _metric_srid(lon_deg, lat_deg), always_xy=True)


def nearest_in_rows(
    lonlat: tuple[float, float], rows: list[tuple[int, bytes]], max_m: float
) -> list[tuple[int, float]]:
    """(id, metres) of the (id, WKB) rows within ``max_m`` of the point ``lonlat``, nearest first
    (ties by id).

    Distances are measured in the metric CRS of the place (layers.projection), so lines and
    polygons count by their nearest edge."""
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
    from gridmap.problems.selectors import problems_open_nearby

    found = nearest_within_m(point, problems_open_nearby(point, category), category.duplicate_radius_m)
    problems = Problem.objects.in_bulk([i for i, _ in found])
    return [(problems[i], d) for i, d in found]


@dataclass(frozen=True)
class Nearby:
    """What intake decides from the one read around the point."""

    facility_id: int | None
    recurrence_of_id: int | None
    duplicates: list[tuple[int, float]]  # open problems of the category: (id, metres), nearest first


def _decide(lonlat: tuple[float, float], category: EventCategory, rows: list[tuple[int, str | None, bytes]],
            facilities: list[tuple[int, bytes]]) -> Nearby:  # fmt: skip
    """The links and duplicates from the candidate rows (id, status, WKB), measured in metres."""
    open_rows = [(i, w) for i, status, w in rows if status in OPEN_STATUSES]
    closed_rows = [(i, w) for i, status, w in rows if status == Status.CLOSED]
    recurrence = nearest_in_rows(lonlat, closed_rows, category.recurrence_radius_m)
    facility = nearest_in_rows(lonlat, facilities, snap_distance_m(category)) if facilities else []
    return Nearby(
        facility_id=facility[0][0] if facility else None,
        recurrence_of_id=recurrence[0][0] if recurrence else None,
        duplicates=nearest_in_rows(lonlat, open_rows, category.duplicate_radius_m),
    )


def nearby_query(category: EventCategory, x: float, y: float) -> tuple[str, list[Any]]:
    """PostGIS: the one read of what is near a new problem at lon ``x``, lat ``y`` (SQL and
    parameters; ``decide`` turns its rows into the links and duplicates)."""
    where = around(category, x, y)
    facility = where.facility[:2] if where.facility is not None else None
    return intake_sql.nearby_query(where.category_id, where.box, where.closed_since, facility)


def around(category: EventCategory, x: float, y: float) -> intake_sql.Around:
    """PostGIS: how ``intake_sql.insert_decided`` decides the links and duplicates of a new
    problem at lon ``x``, lat ``y`` in SQL: what ``nearby_query`` reads and ``decide`` measures."""
    facility = None
    if category.facility_kind_id is not None:
        snap = snap_distance_m(category)
        facility = (category.facility_kind_id, metre_bounds(x, y, snap), snap)
    return intake_sql.Around(
        category_id=category.pk,
        box=metre_bounds(x, y, max(category.duplicate_radius_m, category.recurrence_radius_m)),
        closed_since=timezone.now() - timezone.timedelta(days=category.recurrence_days),
        recurrence_m=category.recurrence_radius_m, duplicate_m=category.duplicate_radius_m,
        srid=_metric_srid(int(x // 1), int(y // 1)), facility=facility,
    )  # fmt: skip


def decide(lonlat: tuple[float, float], category: EventCategory, found: list[tuple]) -> Nearby:
    """The links and duplicates from the rows of ``nearby_query`` (kind, id, status, WKB)."""
    rows = [(i, status, w) for kind, i, status, w in found if kind == intake_sql.PROBLEM]
    facilities = [(i, w) for kind, i, _, w in found if kind == intake_sql.FACILITY]
    return _decide(lonlat, category, rows, facilities)


def problem_nearby(
    point: Point, category: EventCategory, lonlat: tuple[float, float] | None = None
) -> Nearby:
    """Facility link, recurrence link and duplicates for a new problem at ``point`` (two queries
    at most through the ORM; one on PostGIS). ``lonlat``: the point's coordinates if known."""
    x, y = lonlat = lonlat or point.coords
    if connection.vendor == "postgresql":
        sql, params = nearby_query(category, x, y)
        with connection.cursor() as cursor:
            prepared.execute(cursor, sql, params)
            return decide(lonlat, category, cursor.fetchall())
    since = timezone.now() - timezone.timedelta(days=category.recurrence_days)
    radius = max(category.duplicate_radius_m, category.recurrence_radius_m)
    linked = category.facility_kind_id is not None
    query = Problem.objects.filter(
        Q(status__in=OPEN_STATUSES) | Q(status=Status.CLOSED, closed_at__gte=since),
        category=category,
        geom__intersects=metre_box(point, radius),
    )
    rows = list(query.annotate(_wkb=AsWKB("geom")).values_list("id", "status", "_wkb"))
    facilities: list[tuple[int, bytes]] = []
    if linked:
        candidates = Facility.objects.filter(
            kind_id=category.facility_kind_id, geom__intersects=metre_box(point, snap_distance_m(category))
        )
        facilities = list(candidates.annotate(_wkb=AsWKB("geom")).values_list("id", "_wkb"))
    return _decide(lonlat, category, rows, facilities)


def problem_locate(problem: Problem) -> Nearby:
    """Set grid, community, facility and recurrence link from the point (not saved here)."""
    problem.grid_id, problem.community_id = locate_point(problem.geom)
    nearby = problem_nearby(problem.geom, problem.category)
    problem.facility_id = nearby.facility_id
    problem.recurrence_of_id = nearby.recurrence_of_id
    return nearby


@dataclass(frozen=True)
class Intake:
    problem: Problem
    created: bool
    # Open problems of the same category near a new problem (id, metres); None for a replay.
    duplicates: list[tuple[int, float]] | None


def _report_event(problem: Problem) -> ProblemEvent:
    return ProblemEvent(problem=problem, action="report", to_status=problem.status, actor=problem.reporter,
                        at=problem.reported_at, geom=problem.geom)  # fmt: skip


def _replay(client_uuid: uuid_mod.UUID) -> Intake:
    return Intake(Problem.objects.get(uuid=client_uuid), False, None)


def _insert_orm(problem: Problem, client_uuid: uuid_mod.UUID | None) -> bool:
    """Save ``problem`` with its event and recurrence count; False if the uuid exists already."""
    try:
        with transaction.atomic():
            problem.save()
            _report_event(problem).save()
            if problem.recurrence_of_id:
                Problem.objects.filter(pk=problem.recurrence_of_id).update(
                    recurrence_count=F("recurrence_count") + 1
                )
    except IntegrityError:
        # Two replays of one submission raced: the other one won; answer with its result.
        if client_uuid is None or not Problem.objects.filter(uuid=client_uuid).exists():
            raise
        return False
    return True


def _insert_one_statement(problem: Problem, lonlat: tuple[float, float]) -> bool:
    """PostGIS: locate in process and write in one statement; False if the uuid exists already."""
    areas = areas_cached()
    for _ in range(STALE_AREA_TRIES):
        if areas is None:
            break
        problem.grid_id, problem.community_id = areas.locate(*lonlat)
        new_id, stamp = intake_sql.insert(_report(problem, lonlat), area_stamp=areas.stamp)
        if new_id is not None or stamp == areas.stamp:
            return _written(problem, new_id)
        areas = areas_at(stamp)  # the areas changed since this process read them
    problem.grid_id, problem.community_id = locate_point(problem.geom)
    new_id, _ = intake_sql.insert(_report(problem, lonlat), area_stamp=None)
    return _written(problem, new_id)


def _report(problem: Problem, lonlat: tuple[float, float]) -> intake_sql.Report:
    """The new ``problem`` as the values a report varies by (its other columns are defaults)."""
    return intake_sql.Report(
        uuid=problem.uuid, x=lonlat[0], y=lonlat[1], category_id=problem.category_id,
        description=problem.description, reporter_id=problem.reporter_id, reported_at=problem.reported_at,
        grid_id=problem.grid_id, community_id=problem.community_id, facility_id=problem.facility_id,
        recurrence_of_id=problem.recurrence_of_id,
    )  # fmt: skip


def _written(problem: Problem, new_id: int | None) -> bool:
    if new_id is None:
        return False
    problem.pk = new_id
    problem._state.adding = False
    problem._state.db = connection.alias
    return True


def one_statement() -> bool:
    """The PostGIS path skips Model.save(): only while nobody listens to the models' signals."""
    return connection.vendor == "postgresql" and not any(
        signal.has_listeners(model) for signal in (pre_save, post_save) for model in (Problem, ProblemEvent)
    )


def problem_intake(
    *,
    lon: Any,
    lat: Any,
    category: EventCategory,
    description: str = "",
    reporter: Any = None,
    reported_at: datetime | None = None,
    client_uuid: uuid_mod.UUID | None = None,
) -> Intake:
    """Create a problem from raw coordinates, with the duplicates to offer.

    The coordinates are checked as numbers before a geometry is built. A ``client_uuid`` seen
    before returns the first problem unchanged (an offline submission replayed). A problem of
    the same category close to one closed recently is linked to it as a recurrence, which
    counts against the closed case.
    """
    point = point_from_lonlat(lon, lat)
    fast = one_statement()
    if client_uuid is not None and not fast:
        existing = Problem.objects.filter(uuid=client_uuid).first()
        if existing:
            return Intake(existing, False, None)
    problem = Problem(geom=point, category=category, description=description, reporter=reporter)
    if reported_at is not None:
        problem.reported_at = reported_at
    if client_uuid is not None:
        problem.uuid = client_uuid
    lonlat = point.coords
    nearby = problem_nearby(point, category, lonlat)
    problem.facility_id = nearby.facility_id
    problem.recurrence_of_id = nearby.recurrence_of_id
    if fast:
        created = _insert_one_statement(problem, lonlat)
    else:
        problem.grid_id, problem.community_id = locate_point(point)
        created = _insert_orm(problem, client_uuid)
    if not created:
        if client_uuid is None:  # only a uuid seen before writes nothing
            raise RuntimeError("the intake wrote nothing without a client_uuid")
        return _replay(client_uuid)
    return Intake(problem, True, nearby.duplicates)


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
    """``problem_intake`` answering (problem, created), for callers that offer no duplicates."""
    result = problem_intake(lon=lon, lat=lat, category=category, description=description, reporter=reporter,
                            reported_at=reported_at, client_uuid=client_uuid)  # fmt: skip
    return result.problem, result.created
