"""Intake on PostGIS in two statements (one reads what is near the new problem, one writes it), or one.

``problem_create`` on other backends saves through the ORM (a SELECT for the uuid, BEGIN, two
INSERTs, perhaps an UPDATE, COMMIT, and the location queries). Here:

1. ``nearby_query``: the open and recently closed problems of the category around the point, and the
   facilities of its kind when it has one — the candidates whose distances in metres decide the
   recurrence link, the facility link and the duplicates offered (measured in Python, as the ORM
   path does).
2. ``insert``: one statement, atomic by itself (no BEGIN/COMMIT round trips): the problem with
   ``ON CONFLICT (uuid) DO NOTHING`` (a replayed submission writes nothing), its ``report`` event,
   and the closed case's recurrence count, each only if the problem was written. When the caller
   located the problem with areas held in memory, the insert also requires the area stamp to be
   the one those areas were built at; else nothing is written and the current stamp comes back.

3. ``insert_decided`` (the API's fast path, ``gridmap.api.intake_fast``): the whole intake in one
   statement. It finds the reporter from a token, reads the candidates, measures them in metres
   in PostGIS (``ST_Transform`` to the same metric CRS as ``services``, which PROJ computes as it
   does for pyproj; ``ST_Distance`` as shapely's), decides the links and duplicates as
   ``services._decide`` does (nearest first, ties by id), and writes as ``insert`` does, for a
   user with a role only. A test holds its decisions equal to the Python ones.

The SQL is written once from the models' metadata (tables, columns and their types; no name is
spelled here) and runs as a prepared statement (``gridmap.core.prepared``: planned once per
database session). Only what a report varies by travels as a value (``Report``); every other
column is a constant in the statement, prepared once from a blank instance by its field's
``pre_save`` and ``get_db_prep_save``, as ``Model.save()`` prepares it, and the point is built in
SQL from the two checked numbers (no geometry object in Python). A test holds the rows equal to
the ORM path's.
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
                 skip: str | None = None, computed: dict[str, str] | None = None,
                 ) -> tuple[list[str], str, list[str]]:  # fmt: skip
    """(columns, their SELECT list, the report attributes its placeholders take, in order) for an
    INSERT of ``model`` as ``Model.save()`` writes it (every local concrete field but the auto key
    and ``skip``): ``given`` columns (attname: report attribute) are typed placeholders,
    ``computed`` ones (attname: SQL) are expressions, the geometry is ``geometry``, and every other column is the constant ``blank`` holds, prepared by
    its field and adapted once, here. A default that is not the same twice (a uuid, a time) must
    be given."""
    columns, select, takes = [], [], []
    with connection.cursor() as cursor:
        for f in model._meta.local_concrete_fields:
            if f is model._meta.auto_field or f.attname == skip:
                continue
            columns.append(_q(f.column))
            if computed and f.attname in computed:
                select.append(computed[f.attname])
            elif f.attname in given:
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


# -- the whole intake in one statement, the links decided in SQL -------------------------------
@dataclass(frozen=True)
class Around:
    """How the statement of ``insert_decided`` decides a report's links and duplicates, as
    ``services._decide`` does in Python: the candidates in the boxes (as ``nearby_query`` reads
    them), distances in metres in the metric CRS ``srid`` (``layers.projection``; PostGIS projects
    with the same PROJ operation as pyproj), nearest first, ties by id."""

    category_id: int
    box: tuple[float, float, float, float]
    closed_since: datetime
    recurrence_m: float
    duplicate_m: float
    srid: int
    facility: tuple[int, tuple[float, float, float, float], float] | None  # kind id, box, metres


@dataclass(frozen=True)
class Decided:
    new_id: int | None  # None: nothing written (no such user or role, a replay, stale areas)
    stamp: int | None
    user_id: int | None  # the reporter ``who`` found (None: no such user)
    role: str | None
    recurrence_of_id: int | None
    facility_id: int | None
    duplicates: list[tuple[int, float]]  # open problems of the category: (id, metres), nearest first


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}:{i}" for i in range(n)]


@lru_cache(maxsize=8)
def _decided_sql(vendor: str, who_sql: str, n_who: int, with_facilities: bool) -> tuple[str, tuple[str, ...]]:
    pid, status, geom, table = _column(Problem, "id"), _column(Problem, "status"), _column(Problem, "geom"), _q(Problem._meta.db_table)  # fmt: skip
    stamp = _column(AreaStamp, "stamp")
    envelope = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
    metres = "ST_Distance(ST_Transform({}, (%s)::integer), (SELECT g FROM m))"
    open_in = f"{status} IN ({', '.join(['%s'] * len(OPEN_STATUSES))})"
    parts = [
        (f"WITH who AS ({who_sql})", _names("who", n_who)),
        ("pt AS (SELECT ST_SetSRID(ST_MakePoint((%s)::float8, (%s)::float8), 4326) AS g)", ["x", "y"]),
        ("m AS (SELECT ST_Transform(g, (%s)::integer) AS g FROM pt)", ["srid"]),
        (f"c AS (SELECT {pid} AS id, {status} AS status, {metres.format(geom)} AS d FROM {table} "
         f"WHERE {_column(Problem, 'category')} = %s AND ST_Intersects({geom}, {envelope}) AND ({open_in} "
         f"OR ({status} = %s AND {_column(Problem, 'closed_at')} >= %s)))",
         ["srid", "category_id", *_names("box", 4), *_names("open", len(OPEN_STATUSES)), "closed", "closed_since"]),
        ("rec AS (SELECT id FROM c WHERE status = %s AND d <= %s ORDER BY d, id LIMIT 1)", ["closed", "recurrence_m"]),
    ]  # fmt: skip
    if with_facilities:
        fid, fgeom = _column(Facility, "id"), _column(Facility, "geom")
        parts.append((
            f"fac AS (SELECT {fid} AS id FROM {_q(Facility._meta.db_table)} WHERE {_column(Facility, 'kind')} = %s "
            f"AND ST_Intersects({fgeom}, {envelope}) AND {metres.format(fgeom)} <= %s "
            f"ORDER BY {metres.format(fgeom)}, {fid} LIMIT 1)",
            ["kind", *_names("fbox", 4), "srid", "snap_m", "srid"],
        ))  # fmt: skip
    else:
        parts.append(("fac AS (SELECT NULL::bigint AS id WHERE false)", []))
    computed = {"reporter_id": "who.user_id", "facility_id": "(SELECT id FROM fac)",
                "recurrence_of_id": "(SELECT id FROM rec)"}  # fmt: skip
    given = {a: a for a in _PROBLEM_VALUES}
    p_columns, p_select, p_takes = _select_list(
        Problem, Problem(), given, "(SELECT g FROM pt)", None, computed
    )
    blank_event = ProblemEvent(action="report", to_status=Problem._meta.get_field("status").get_default())
    e_columns, e_select, e_takes = _select_list(ProblemEvent, blank_event, {"at": "reported_at"},
                                                "(SELECT g FROM pt)", "problem_id", {"actor_id": "(SELECT user_id FROM who)"})  # fmt: skip
    count = _column(Problem, "recurrence_count")
    parts += [
        (f"v AS (SELECT {stamp} FROM {_q(AreaStamp._meta.db_table)} WHERE {_column(AreaStamp, 'id')} = 1)", []),
        (f"p AS (INSERT INTO {table} ({', '.join(p_columns)}) SELECT {p_select} FROM who "
         f"WHERE who.role IS NOT NULL AND (SELECT {stamp} FROM v) = %s "
         f"ON CONFLICT ({_column(Problem, 'uuid')}) DO NOTHING RETURNING {pid})", [*p_takes, "area_stamp"]),
        (f"e AS (INSERT INTO {_q(ProblemEvent._meta.db_table)} ({_column(ProblemEvent, 'problem')}, "
         f"{', '.join(e_columns)}) SELECT p.{pid}, {e_select} FROM p)", e_takes),
        (f"r AS (UPDATE {table} SET {count} = {count} + 1 "
         f"WHERE {pid} = (SELECT id FROM rec) AND EXISTS (SELECT 1 FROM p))", []),
    ]  # fmt: skip
    dup = f"FROM c WHERE {open_in.replace(status, 'status')} AND d <= %s ORDER BY d, id"
    final = (
        f" SELECT (SELECT {pid} FROM p), (SELECT {stamp} FROM v), (SELECT user_id FROM who), (SELECT role FROM who), "
        f"(SELECT id FROM rec), (SELECT id FROM fac), ARRAY(SELECT id {dup}), ARRAY(SELECT d {dup})"
    )
    dup_takes = [*_names("open", len(OPEN_STATUSES)), "duplicate_m"]
    sql = ", ".join(text for text, _ in parts) + final
    return sql, tuple(n for _, names in parts for n in names) + tuple(dup_takes) * 2


def insert_decided(report: Report, around: Around, who: tuple[str, list[Any]], *, area_stamp: int) -> Decided:
    """Find the reporter with ``who`` (SQL of one row: ``user_id``, ``role``; and its parameters),
    decide the links and duplicates of ``report`` as ``around`` says, and write it as
    ``insert`` does, all in one statement: only for a user with a role, only if the uuid is new
    and the area stamp still ``area_stamp``. ``report``'s reporter and links are not read."""
    who_sql, who_params = who
    sql, takes = _decided_sql(connection.vendor, who_sql, len(who_params), around.facility is not None)
    values: dict[str, Any] = {
        **report.__dict__,
        **around.__dict__,
        "area_stamp": area_stamp,
        "closed": Status.CLOSED,
    }
    values.update(zip(_names("who", len(who_params)), who_params, strict=True))
    values.update(zip(_names("box", 4), around.box, strict=True))
    values.update(zip(_names("open", len(OPEN_STATUSES)), OPEN_STATUSES, strict=True))
    if around.facility is not None:
        values["kind"], fbox, values["snap_m"] = around.facility
        values.update(zip(_names("fbox", 4), fbox, strict=True))
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, [values[name] for name in takes])
        new_id, stamp, user_id, role, recurrence, facility, dup_ids, dup_m = cursor.fetchone()
    return Decided(new_id, stamp, user_id, role, recurrence, facility, list(zip(dup_ids, dup_m, strict=True)))
