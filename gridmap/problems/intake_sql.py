"""Intake on PostGIS in two statements: one reads what is near the new problem, one writes it.

``problem_create`` on other backends saves through the ORM (a SELECT for the uuid, BEGIN, two
INSERTs, perhaps an UPDATE, COMMIT, and the location queries). Here:

1. ``nearby``: the open and recently closed problems of the category around the point, and the
   facilities of its kind when it has one — the candidates whose distances in metres decide the
   recurrence link, the facility link and the duplicates offered (measured in Python, as the ORM
   path does).
2. ``insert``: one statement, atomic by itself (no BEGIN/COMMIT round trips): the problem with
   ``ON CONFLICT (uuid) DO NOTHING`` (a replayed submission writes nothing), its ``report`` event,
   and the closed case's recurrence count, each only if the problem was written. When the caller
   located the problem with areas held in memory, the insert also requires the area stamp to be
   the one those areas were built at; else nothing is written and the current stamp comes back.

The SQL is written once from the models' metadata (tables, columns and their types; no name is
spelled here) and runs as a prepared statement (``gridmap.core.prepared``: planned once per
database session). Each value is prepared by its field's ``pre_save`` and ``get_db_prep_save``,
as ``Model.save()`` prepares it. A test holds the rows equal to the ORM path's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from gridmap.core import prepared
from gridmap.facilities.models import Facility
from gridmap.geography.models import AreaStamp
from gridmap.problems.models import OPEN_STATUSES, Problem, ProblemEvent, Status

PROBLEM, FACILITY = 0, 1  # the first column of a ``nearby`` row


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: type[Model], name: str) -> str:
    return _q(model._meta.get_field(name).column)


@lru_cache(maxsize=4)
def _nearby_sql(vendor: str, with_facilities: bool) -> str:
    envelope = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
    pid, status, geom = (_column(Problem, n) for n in ("id", "status", "geom"))
    sql = (
        f"SELECT {PROBLEM}, {pid}, {status}, ST_AsBinary({geom}) FROM {_q(Problem._meta.db_table)} "
        f"WHERE {_column(Problem, 'category')} = %s AND ST_Intersects({geom}, {envelope}) "
        f"AND ({status} IN ({', '.join(['%s'] * len(OPEN_STATUSES))}) "
        f"OR ({status} = %s AND {_column(Problem, 'closed_at')} >= %s))"
    )
    if with_facilities:
        fid, fgeom = _column(Facility, "id"), _column(Facility, "geom")
        sql += (
            f" UNION ALL SELECT {FACILITY}, {fid}, NULL, ST_AsBinary({fgeom}) FROM {_q(Facility._meta.db_table)} "
            f"WHERE {_column(Facility, 'kind')} = %s AND ST_Intersects({fgeom}, {envelope})"
        )
    return sql


def nearby(
    category_id: int,
    problem_box: tuple[float, float, float, float],
    closed_since: datetime,
    facility: tuple[int, tuple[float, float, float, float]] | None = None,
) -> list[tuple[int, int, str | None, bytes]]:
    """(PROBLEM or FACILITY, id, status, WKB) of the candidates: problems of the category in
    ``problem_box`` that are open or were closed since ``closed_since``; with ``facility`` =
    (kind id, box), the facilities of that kind in that box. Boxes are (xmin, ymin, xmax, ymax)."""
    params: list[Any] = [category_id, *problem_box, *OPEN_STATUSES, Status.CLOSED, closed_since]
    if facility is not None:
        params += [facility[0], *facility[1]]
    with connection.cursor() as cursor:
        prepared.execute(cursor, _nearby_sql(connection.vendor, facility is not None), params)
        return [(kind, pk, status, bytes(wkb)) for kind, pk, status, wkb in cursor.fetchall()]


@dataclass(frozen=True)
class _Columns:
    """The columns an INSERT of ``model`` writes (as ``Model.save()``: every local concrete field
    but the auto primary key; here also without ``skip``), with typed placeholders for
    ``INSERT … SELECT`` (the column's SQL type: a prepared statement infers the parameter's)."""

    fields: tuple[Field, ...]
    names: str
    placeholders: str
    geometries: frozenset[int]  # positions of geometry fields, whose values must be in the field's SRID


@lru_cache(maxsize=8)
def _columns(model: type[Model], vendor: str, skip: str | None = None) -> _Columns:
    fields = tuple(
        f for f in model._meta.local_concrete_fields if f is not model._meta.auto_field and f.attname != skip
    )
    return _Columns(
        fields,
        ", ".join(_q(f.column) for f in fields),
        ", ".join(f"(%s)::{f.db_type(connection)}" for f in fields),
        frozenset(i for i, f in enumerate(fields) if hasattr(f, "get_placeholder")),
    )


def _params(columns: _Columns, obj: Model, geometries: dict[int, Any]) -> list[Any]:
    """The values of ``obj`` for ``columns``, prepared as ``Model.save()`` prepares them (a None
    is None to every field here). ``geometries`` shares the adapter of one geometry object
    between the rows of one statement (the problem and its event stand at the same point)."""
    values = [f.pre_save(obj, True) for f in columns.fields]
    for i, (f, value) in enumerate(zip(columns.fields, values, strict=True)):
        if value is not None and i not in columns.geometries:
            values[i] = f.get_db_prep_save(value, connection)
    for i in columns.geometries:
        value = values[i]
        if value is None:
            continue
        if id(value) not in geometries:
            geometries[id(value)] = (value, columns.fields[i].get_db_prep_save(value, connection))
        adapter = geometries[id(value)][1]
        if adapter.srid not in (
            None,
            columns.fields[i].srid,
        ):  # the ORM would transform; intake never needs it
            raise ValueError(
                f"{columns.fields[i].name}: SRID {adapter.srid}, expected {columns.fields[i].srid}"
            )
        values[i] = adapter
    return values


@lru_cache(maxsize=4)
def _insert_sql(vendor: str, guarded: bool, recurrence: bool) -> str:
    stamp, stamp_table = _column(AreaStamp, "stamp"), _q(AreaStamp._meta.db_table)
    pid, table = _column(Problem, "id"), _q(Problem._meta.db_table)
    problem, event = _columns(Problem, vendor), _columns(ProblemEvent, vendor, "problem_id")
    guard = f" WHERE (SELECT {stamp} FROM v) = %s" if guarded else ""
    sql = (
        f"WITH v AS (SELECT {stamp} FROM {stamp_table} WHERE {_column(AreaStamp, 'id')} = 1), "
        f"p AS (INSERT INTO {table} ({problem.names}) SELECT {problem.placeholders}{guard} "
        f"ON CONFLICT ({_column(Problem, 'uuid')}) DO NOTHING RETURNING {pid}), "
        f"e AS (INSERT INTO {_q(ProblemEvent._meta.db_table)} ({_column(ProblemEvent, 'problem')}, {event.names}) "
        f"SELECT p.{pid}, {event.placeholders} FROM p)"
    )
    if recurrence:
        count = _column(Problem, "recurrence_count")
        sql += (f", r AS (UPDATE {table} SET {count} = {count} + 1 "
                f"WHERE {pid} = %s AND EXISTS (SELECT 1 FROM p))")  # fmt: skip
    return sql + f" SELECT (SELECT {pid} FROM p), (SELECT {stamp} FROM v)"


def insert(problem: Problem, event: ProblemEvent, *, area_stamp: int | None) -> tuple[int | None, int | None]:
    """Write ``problem``, its ``event`` and the recurrence count of ``problem.recurrence_of_id``
    in one statement. Returns (the new id, or None when nothing was written; the area stamp).

    With ``area_stamp`` the problem is written only if the stamp is still that value. Nothing
    written with the stamp unchanged (or with no ``area_stamp``) means the uuid exists already.
    """
    vendor, geometries = connection.vendor, {}
    params = _params(_columns(Problem, vendor), problem, geometries)
    if area_stamp is not None:
        params.append(area_stamp)
    params += _params(_columns(ProblemEvent, vendor, "problem_id"), event, geometries)
    if problem.recurrence_of_id is not None:
        params.append(problem.recurrence_of_id)
    sql = _insert_sql(vendor, area_stamp is not None, problem.recurrence_of_id is not None)
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)
        new_id, stamp = cursor.fetchone()
    return new_id, stamp
