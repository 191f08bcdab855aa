"""The intake's reads and write as single statements, for backends whose features allow it
(``features.IntakeFeatures``: PostGIS).

1. ``nearby_query``: the open and recently closed problems of the category around the point, and
   the facilities of its kind when it has one: the candidates whose distances in metres decide
   the links and duplicates (``nearby.decide``, in Python, as on every backend).
2. ``insert``: one statement, atomic by itself (no BEGIN/COMMIT round trips): the problem with
   ``ON CONFLICT (uuid) DO NOTHING`` (a replayed submission writes nothing), its ``report`` event,
   and the closed case's recurrence count, each only if the problem was written. When the caller
   located the problem with areas held in memory, the insert also requires the area stamp to be
   the one those areas were built at; else nothing is written and the current stamp comes back.

The SQL is written once from the models' metadata (tables, columns and their types; no name is
spelled here) and runs as a prepared statement (``gridmap.core.prepared``: planned once per
database session), or as a plain one when ``GRIDMAP_DB_PREPARED`` is off (behind PgBouncer in
transaction mode). Only what a report varies by travels as a value (``Report``); every other
column is a constant in the statement, prepared once from a blank instance by its field's
``pre_save`` and ``get_db_prep_save``, as ``Model.save()`` prepares it, and the point is built in
SQL from the two checked numbers. A test holds the rows equal to the ORM writer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Model

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


def nearby_query(
    category_id: int,
    problem_box: tuple[float, float, float, float],
    closed_since: datetime,
    facility: tuple[int, tuple[float, float, float, float]] | None = None,
) -> tuple[str, list[Any]]:
    """The SQL and parameters of the read of what is near a new problem: rows (PROBLEM or
    FACILITY, id, status, WKB) of the problems of the category in ``problem_box`` that are open or
    were closed since ``closed_since`` and, with ``facility`` = (kind id, box), the facilities of
    that kind in that box. Boxes are (xmin, ymin, xmax, ymax)."""
    params: list[Any] = [category_id, *problem_box, *OPEN_STATUSES, Status.CLOSED, closed_since]
    if facility is not None:
        params += [facility[0], *facility[1]]
    return _nearby_sql(connection.vendor, facility is not None), params


@dataclass(frozen=True)
class Report:
    """What a new report varies by. Every other column of the problem and of its ``report``
    event is the same in each new report (a blank instance's, as ``Model.save()`` writes it) and
    stands in the statement as a constant."""

    uuid: UUID
    x: float  # the checked longitude and latitude (EPSG:4326)
    y: float
    category_id: int
    description: str
    reporter_id: int | None
    reported_at: datetime
    grid_id: int | None
    community_id: int | None
    facility_id: int | None
    recurrence_of_id: int | None


# Columns taken from the report (by attribute name); the geometry is built from x and y.
_PROBLEM_VALUES = ("uuid", "category_id", "description", "reporter_id", "reported_at", "grid_id",
                   "community_id", "facility_id", "recurrence_of_id")  # fmt: skip
_EVENT_VALUES = {"actor_id": "reporter_id", "at": "reported_at"}  # event column: report attribute


def _select_list(model: type[Model], blank: Model, given: dict[str, str], geometry: str,
                 skip: str | None = None) -> tuple[list[str], str, list[str]]:  # fmt: skip
    """(columns, their SELECT list, the report attributes its placeholders take, in order) for an
    INSERT of ``model`` as ``Model.save()`` writes it (every local concrete field but the auto key
    and ``skip``): ``given`` columns (attname: report attribute) are typed placeholders,
    the geometry is ``geometry``, and every other column is the constant ``blank`` holds,
    prepared by its field and adapted once, here. A default that is not the same twice (a uuid, a time) must
    be given."""
    columns, select, takes = [], [], []
    with connection.cursor() as cursor:
        for f in model._meta.local_concrete_fields:
            if f is model._meta.auto_field or f.attname == skip:
                continue
            columns.append(_q(f.column))
            if f.attname in given:
                select.append(f"(%s)::{f.db_type(connection)}")
                takes.append(given[f.attname])
            elif hasattr(f, "geom_type"):
                select.append(geometry)
            else:
                if callable(f.default) and f.get_default() != f.get_default():
                    raise ValueError(f"{model.__name__}.{f.name}: its default changes; give it")
                value = f.get_db_prep_save(f.pre_save(blank, True), connection)
                literal = cursor.mogrify("%s", [value]).decode()
                select.append(f"{literal}::{f.db_type(connection)}")
    return columns, ", ".join(select), takes


@lru_cache(maxsize=4)
def _insert_sql(vendor: str, guarded: bool, recurrence: bool) -> tuple[str, tuple[str, ...]]:
    """The statement writing a report and the report attributes its placeholders take, in order."""
    stamp, stamp_table = _column(AreaStamp, "stamp"), _q(AreaStamp._meta.db_table)
    pid, table = _column(Problem, "id"), _q(Problem._meta.db_table)
    srid = Problem._meta.get_field("geom").srid
    point = "(SELECT g FROM pt)"
    p_columns, p_select, p_takes = _select_list(Problem, Problem(), {a: a for a in _PROBLEM_VALUES}, point)
    blank_event = ProblemEvent(action="report", to_status=Problem._meta.get_field("status").get_default())
    e_columns, e_select, e_takes = _select_list(ProblemEvent, blank_event, _EVENT_VALUES, point, "problem_id")
    guard = f" WHERE (SELECT {stamp} FROM v) = %s" if guarded else ""
    sql = (
        f"WITH pt AS (SELECT ST_SetSRID(ST_MakePoint((%s)::float8, (%s)::float8), {srid}) AS g), "
        f"v AS (SELECT {stamp} FROM {stamp_table} WHERE {_column(AreaStamp, 'id')} = 1), "
        f"p AS (INSERT INTO {table} ({', '.join(p_columns)}) SELECT {p_select}{guard} "
        f"ON CONFLICT ({_column(Problem, 'uuid')}) DO NOTHING RETURNING {pid}), "
        f"e AS (INSERT INTO {_q(ProblemEvent._meta.db_table)} ({_column(ProblemEvent, 'problem')}, "
        f"{', '.join(e_columns)}) SELECT p.{pid}, {e_select} FROM p)"
    )
    takes = ["x", "y", *p_takes, *(["area_stamp"] if guarded else []), *e_takes]
    if recurrence:
        count = _column(Problem, "recurrence_count")
        sql += (f", r AS (UPDATE {table} SET {count} = {count} + 1 "
                f"WHERE {pid} = %s AND EXISTS (SELECT 1 FROM p))")  # fmt: skip
        takes.append("recurrence_of_id")
    return sql + f" SELECT (SELECT {pid} FROM p), (SELECT {stamp} FROM v)", tuple(takes)


def insert(report: Report, *, area_stamp: int | None) -> tuple[int | None, int | None]:
    """Write ``report`` as a new problem with its ``report`` event, and count the recurrence
    against ``report.recurrence_of_id``, in one statement. Returns (the new id, or None when
    nothing was written; the area stamp).

    With ``area_stamp`` the problem is written only if the stamp is still that value. Nothing
    written with the stamp unchanged (or with no ``area_stamp``) means the uuid exists already.
    """
    sql, takes = _insert_sql(connection.vendor, area_stamp is not None, report.recurrence_of_id is not None)
    values = {**report.__dict__, "area_stamp": area_stamp}
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, [values[name] for name in takes])
        new_id, stamp = cursor.fetchone()
    return new_id, stamp
