"""The intake for many problems at once: files brought in by the import engine
(``gridmap.imports``). The places are decided as ``problem_intake`` decides them (the location
rule held in memory, the facility link by ``nearby.nearest_in_rows``), and every new problem is
written with its ``report`` event.

An import carries recorded history (a status, the time it was reported), so it offers no
duplicates to anyone and links no recurrence: those decisions belong to a new report.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Point

from gridmap.facilities.models import Facility
from gridmap.geography.locator import areas_now, locate_point
from gridmap.problems.intake.nearby import nearest_in_rows, snap_distance_m
from gridmap.problems.intake.write import report_event
from gridmap.problems.models import EventCategory, Problem, ProblemEvent
from gridmap.problems.selectors import metre_bounds

Place = tuple[int | None, int | None, int | None]  # grid id, community id, facility id


def _facility_links(points: Sequence[tuple[float, float]], category: EventCategory) -> list[int | None]:
    """The facility each point links to: the candidates in the box around it (one read of the
    kind's facilities, an STRtree over them), measured as a single intake measures them."""
    rows = list(
        Facility.objects.filter(kind_id=category.facility_kind_id)
        .annotate(_wkb=AsWKB("geom"))
        .values_list("id", "_wkb")
    )
    if not rows:
        return [None] * len(points)
    tree = shapely.STRtree(shapely.from_wkb([bytes(w) for _, w in rows]))
    max_m = snap_distance_m(category)
    links: list[int | None] = []
    for x, y in points:
        near = tree.query(shapely.box(*metre_bounds(x, y, max_m)))
        found = nearest_in_rows((x, y), [rows[i] for i in sorted(near)], max_m)
        links.append(found[0][0] if found else None)
    return links


def problems_place(points: Sequence[tuple[float, float]], categories: Sequence[EventCategory]) -> list[Place]:
    """(grid, community, facility) of problems of ``categories`` at lon/lat ``points``."""
    areas = areas_now()
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
        for i, link in zip(idx, _facility_links([points[i] for i in idx], category), strict=True):
            facilities[i] = link
    return [
        (grid, community, facility) for (grid, community), facility in zip(located, facilities, strict=True)
    ]


def problems_insert(problems: list[Problem]) -> None:
    """Write new problems (placed by ``problems_place``) and their ``report`` events."""
    if not problems:
        return
    Problem.objects.bulk_create(problems, batch_size=500)
    if not all(p.pk for p in problems):  # backends that do not return ids from bulk_create
        ids = dict(Problem.objects.filter(uuid__in=[p.uuid for p in problems]).values_list("uuid", "pk"))
        for p in problems:
            p.pk = ids[p.uuid]
    ProblemEvent.objects.bulk_create([report_event(p) for p in problems], batch_size=1000)
