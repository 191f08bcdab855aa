"""The intake's two writers: one statement where the backend's features allow it, else the ORM
in one transaction. Both write the same rows (a test holds them equal): the problem, its
``report`` event, and the recurrence count of the closed case it repeats; neither writes
anything for a client uuid seen before.
"""

from __future__ import annotations

import uuid as uuid_mod

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_save, pre_save

from gridmap.geography.locator import areas_at, areas_cached, locate_point
from gridmap.problems.intake import statement
from gridmap.problems.intake.features import features
from gridmap.problems.models import Problem, ProblemEvent, Status

STALE_AREA_TRIES = 3
MODELS = (Problem, ProblemEvent)


def report_event(problem: Problem) -> ProblemEvent:
    """The audit event of a problem's report (an imported one may have moved on since)."""
    return ProblemEvent(problem=problem, action="report", to_status=Status.REPORTED, actor_id=problem.reporter_id,
                        at=problem.reported_at, geom=problem.geom)  # fmt: skip


def count_recurrence(problem: Problem) -> None:
    if problem.recurrence_of_id:
        Problem.objects.filter(pk=problem.recurrence_of_id).update(recurrence_count=F("recurrence_count") + 1)


def write_orm(problem: Problem, client_uuid: uuid_mod.UUID | None) -> bool:
    """Locate and save ``problem`` with its event and recurrence count in one transaction; False
    if the uuid exists already."""
    problem.grid_id, problem.community_id = locate_point(problem.geom)
    try:
        with transaction.atomic():
            problem.save()
            report_event(problem).save()
            count_recurrence(problem)
    except IntegrityError:
        # Two replays of one submission raced: the other one won; answer with its result.
        if client_uuid is None or not Problem.objects.filter(uuid=client_uuid).exists():
            raise
        return False
    return True


def _report(problem: Problem) -> statement.Report:
    """The new ``problem`` as the values a report varies by (its other columns are defaults)."""
    x, y = problem.geom.coords
    return statement.Report(
        uuid=problem.uuid, x=x, y=y, category_id=problem.category_id, description=problem.description,
        reporter_id=problem.reporter_id, reported_at=problem.reported_at, grid_id=problem.grid_id,
        community_id=problem.community_id, facility_id=problem.facility_id,
        recurrence_of_id=problem.recurrence_of_id,
    )  # fmt: skip


def _written(problem: Problem, new_id: int | None) -> bool:
    if new_id is None:
        return False
    problem.pk = new_id
    problem._state.adding = False
    problem._state.db = connection.alias
    if any(post_save.has_listeners(model) for model in MODELS):
        # The statement skips Model.save(); whoever listens still hears of both rows.
        event = ProblemEvent.objects.get(problem=problem, action="report")
        for instance in (problem, event):
            post_save.send(type(instance), instance=instance, created=True, raw=False,
                           using=connection.alias, update_fields=None)  # fmt: skip
    return True


def write_one_statement(problem: Problem) -> bool:
    """Locate ``problem`` with the areas this process holds and write it in one statement that
    checks they are current (else locate again); False if the uuid exists already."""
    areas = areas_cached()
    for _ in range(STALE_AREA_TRIES):
        if areas is None:
            break
        problem.grid_id, problem.community_id = areas.locate(*problem.geom.coords)
        new_id, stamp = statement.insert(_report(problem), area_stamp=areas.stamp)
        if new_id is not None or stamp == areas.stamp:
            return _written(problem, new_id)
        areas = areas_at(stamp)  # the areas changed since this process read them
    problem.grid_id, problem.community_id = locate_point(problem.geom)
    new_id, _ = statement.insert(_report(problem), area_stamp=None)
    return _written(problem, new_id)


def one_statement() -> bool:
    """Whether this write goes in one statement: the backend allows it and nobody needs
    Model.save()'s pre_save (the statement builds its values before any listener could change
    them; post_save is sent after it, see ``_written``)."""
    return features().writes_in_one_statement and not any(pre_save.has_listeners(m) for m in MODELS)


def write(problem: Problem, client_uuid: uuid_mod.UUID | None) -> bool:
    """Write a new ``problem`` (its links decided) with the writer the backend allows."""
    return write_one_statement(problem) if one_statement() else write_orm(problem, client_uuid)
