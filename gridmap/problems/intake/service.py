"""``problem_intake``: the one way a problem comes into being. Every door calls it: the API, the
report page, Open311, and (through ``batch``) imports."""

from __future__ import annotations

import uuid as uuid_mod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridmap.core.geoinput import point_from_lonlat
from gridmap.problems.intake import write as writer
from gridmap.problems.intake.nearby import problem_nearby
from gridmap.problems.models import EventCategory, Problem


@dataclass(frozen=True)
class Intake:
    problem: Problem
    created: bool
    # Open problems of the same category near a new problem (id, metres); None for a replay.
    duplicates: list[tuple[int, float]] | None


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
    before returns the first problem unchanged (an offline submission replayed). Grid and
    community come from the location rule (``geography.locator``); a problem of the same
    category close to one closed recently is linked to it as a recurrence, which counts against
    the closed case; the nearest facility of the category's kind is linked. The problem, its
    ``report`` event and the recurrence count are written together or not at all.
    """
    point = point_from_lonlat(lon, lat)
    # The one-statement writer meets a replay in its ON CONFLICT; the ORM asks first.
    if client_uuid is not None and not writer.one_statement():
        existing = Problem.objects.filter(uuid=client_uuid).first()
        if existing:
            return Intake(existing, False, None)
    problem = Problem(geom=point, category=category, description=description, reporter=reporter)
    if reported_at is not None:
        problem.reported_at = reported_at
    if client_uuid is not None:
        problem.uuid = client_uuid
    nearby = problem_nearby(point, category)
    problem.facility_id = nearby.facility_id
    problem.recurrence_of_id = nearby.recurrence_of_id
    if not writer.write(problem, client_uuid):
        if client_uuid is None:  # only a uuid seen before writes nothing
            raise RuntimeError("the intake wrote nothing without a client_uuid")
        return Intake(Problem.objects.get(uuid=client_uuid), False, None)
    return Intake(problem, True, nearby.duplicates)


def problem_create(**fields: Any) -> tuple[Problem, bool]:
    """``problem_intake`` (the same keyword arguments) answering (problem, created), for callers
    that offer no duplicates."""
    result = problem_intake(**fields)
    return result.problem, result.created
