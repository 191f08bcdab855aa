"""The intake for many problems at once: files brought in by the import engine
(``gridmap.imports``). The places are decided as ``problem_intake`` decides them (the location
rule held in memory, the facility link by ``nearby.nearest_in_rows``), and every new problem is
written with its ``report`` event, a batch at a time (on PostgreSQL in one statement, ``bulk``).

An import carries recorded history (a status, the time it was reported), so it offers no
duplicates to anyone and links no recurrence: those decisions belong to a new report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Point
from django.db import transaction

from gridmap.core.geoinput import geos_from_shapely
from gridmap.facilities.models import Facility
from gridmap.geography.locator import Areas, areas_now, locate_point
from gridmap.problems.intake.bulk import insert_batch
from gridmap.problems.intake.features import features
from gridmap.problems.intake.nearby import nearest_in_rows, snap_distance_m
from gridmap.problems.intake.write import report_event
from gridmap.problems.models import EventCategory, Problem, ProblemEvent
from gridmap.problems.selectors import metre_bounds

Place = tuple[int | None, int | None, int | None]  # grid id, community id, facility id


@dataclass(frozen=True)
class Held:
    """What placing reads from the database, read once for a whole file (``problems_held``): the
    areas of the location rule and, per facility kind, its facilities and their STRtree."""

    areas: Areas
    facilities: dict[int, tuple[list[tuple[int, Any]], shapely.STRtree | None]]


def _facility_rows(kind_id: int) -> tuple[list[tuple[int, Any]], shapely.STRtree | None]:
    rows = list(
        Facility.objects.filter(kind_id=kind_id).annotate(_wkb=AsWKB("geom")).values_list("id", "_wkb")
    )
    tree = shapely.STRtree(shapely.from_wkb([bytes(w) for _, w in rows])) if rows else None
    return rows, tree


def problems_held(categories: Iterable[EventCategory]) -> Held | None:
    """The areas and facilities placing problems of ``categories`` needs, read now; None when
    the areas cannot be held (no current stamp: ``problems_place`` then asks the database)."""
    areas = areas_now()
    if areas is None:
        return None
    kinds = {c.facility_kind_id for c in categories if c.facility_kind_id is not None}
    return Held(areas, {kind: _facility_rows(kind) for kind in kinds})


def _facility_links(
    points: Sequence[tuple[float, float]], category: EventCategory, held: Held | None
) -> list[int | None]:
    """The facility each point links to: the candidates in the box around it (one read of the
    kind's facilities, an STRtree over them), measured as a single intake measures them."""
    kind = category.facility_kind_id
    rows, tree = held.facilities[kind] if held is not None else _facility_rows(kind)
    if tree is None:
        return [None] * len(points)
    max_m = snap_distance_m(category)
    links: list[int | None] = []
    for x, y in points:
        near = tree.query(shapely.box(*metre_bounds(x, y, max_m)))
        found = nearest_in_rows((x, y), [rows[i] for i in sorted(near)], max_m)
        links.append(found[0][0] if found else None)
    return links


def problems_place(
    points: Sequence[tuple[float, float]], categories: Sequence[EventCategory], *, held: Held | None = None
) -> list[Place]:
    """(grid, community, facility) of problems of ``categories`` at lon/lat ``points``. With
    ``held`` (``problems_held``, read for the same categories), no database is read."""
    areas = held.areas if held is not None else areas_now()
    if areas is not None:
        located = [areas.locate(x, y) for x, y in points]
    else:
        located = [locate_point(Point(x, y, srid=4326)) for x, y in points]
    facilities: list[int | None] = [None] * len(points)
    groups: dict[EventCategory, list[int]] = {}
    for i, category in enumerate(categories):
        if category.facility_kind_id is not None:
            groups.setdefault(category, []).append(i)
    for category, idx in groups.items():
        for i, link in zip(idx, _facility_links([points[i] for i in idx], category, held), strict=True):
            facilities[i] = link
    return [
        (grid, community, facility) for (grid, community), facility in zip(located, facilities, strict=True)
    ]


def problems_insert(rows: Sequence[dict[str, Any]]) -> None:
    """Write new problems (placed by ``problems_place``) and their ``report`` events, all or none.

    ``rows``: each problem's field values by attribute name (``category_id``, ``grid_id`` …; the
    same names in every row) and ``geom``, a shapely point in lon/lat. The writer is the one the
    backend's features allow: one statement (``bulk``) or the ORM's bulk insert; they write the
    same rows.
    """
    if not rows:
        return
    if features().writes_batches_in_one_statement:
        insert_batch(rows)
        return
    problems = [
        Problem(**{k: v for k, v in r.items() if k != "geom"}, geom=geos_from_shapely(r["geom"]))
        for r in rows
    ]
    with transaction.atomic():
        Problem.objects.bulk_create(problems, batch_size=500)
        if not all(p.pk for p in problems):  # backends that do not return ids from bulk_create
            ids = dict(Problem.objects.filter(uuid__in=[p.uuid for p in problems]).values_list("uuid", "pk"))
            for p in problems:
                p.pk = ids[p.uuid]
        ProblemEvent.objects.bulk_create([report_event(p) for p in problems], batch_size=1000)
