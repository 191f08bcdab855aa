"""The batch intake's PostgreSQL writer: a batch of problems and their ``report`` events, one
statement per ``STATEMENT_ROWS`` rows.

Each column the rows vary in goes as one array parameter (a PostgreSQL array literal, parsed by
the server's ``array_in``), ``unnest`` turns the arrays back into rows, and the statement inserts
the problems and, from the ids they return, each one's ``report`` event. Not COPY: psycopg2
refuses COPY on a connection with a wait callback, and ``gridmap.core.dbwait`` installs one.

Values are those the ORM would write: every column the rows do not give takes its field's
default (``uuid4`` called per row), the event's columns come from ``write.report_event`` (a test
holds both writers' rows equal). The tables' statement triggers (the change stamps) fire once
per statement, as for a bulk insert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from django.db import connection

from gridmap.problems.intake.write import report_event
from gridmap.problems.models import Problem, ProblemEvent

# The event's columns taken from the new problem's row; the rest are report_event's constants.
EVENT_FROM_PROBLEM = {"problem_id": "id", "actor_id": "reporter_id", "at": "reported_at", "geom": "geom"}


def _text(value: Any) -> str | None:
    """A value as the text PostgreSQL reads for its column type (None stays NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _element(value: Any) -> str:
    """One element of a PostgreSQL array literal."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)  # digits need no quotes
    text = _text(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of the values as text."""
    return "{" + ",".join(map(_element, values)) + "}"


def _varying(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per varying column (given by the rows, or a per-row default), its values."""
    geoms = shapely.set_srid(np.array([r["geom"] for r in rows], dtype=object), 4326)
    columns: dict[str, list[Any]] = {"geom": list(shapely.to_wkb(geoms, hex=True, include_srid=True))}
    for f in _fields():
        if f.attname in rows[0] and f.attname != "geom":
            columns[f.attname] = [r[f.attname] for r in rows]
        elif f.attname not in rows[0] and callable(f.default):
            columns[f.attname] = [f.get_default() for _ in rows]
    return columns


def _fields() -> list:
    return [f for f in Problem._meta.concrete_fields if not f.primary_key]


def _event_select(q: Any) -> tuple[str, str, list[Any]]:
    """The event columns, their SELECT list over the new problems (``new``) and its params."""
    template = report_event(Problem())
    names, exprs, params = [], [], []
    for f in ProblemEvent._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(q(f.column))
        if f.attname in EVENT_FROM_PROBLEM:
            exprs.append(f"new.{q(Problem._meta.get_field(EVENT_FROM_PROBLEM[f.attname]).column)}")
        else:
            exprs.append("%s")
            params.append(f.get_db_prep_save(getattr(template, f.attname), connection))
    return ", ".join(names), ", ".join(exprs), params


# Rows per statement: a statement's text (about 500 bytes a row) stays a few megabytes, so an
# import's memory does not grow by the allocator keeping ever larger freed blocks.
STATEMENT_ROWS = 5_000


def insert_batch(rows: Sequence[dict[str, Any]]) -> None:
    """Insert problems (field values by attname, the same names in every row, ``geom`` a shapely
    point in lon/lat) with their ``report`` events, one statement per ``STATEMENT_ROWS``."""
    for lo in range(0, len(rows), STATEMENT_ROWS):
        _insert(rows[lo : lo + STATEMENT_ROWS])


def _insert(rows: Sequence[dict[str, Any]]) -> None:
    q = connection.ops.quote_name
    varying = _varying(rows)
    names, select, params = [], [], []
    for f in _fields():
        names.append(q(f.column))
        if f.attname in varying:
            select.append(f"t.{q(f.column)}::{f.db_type(connection)}")
        else:
            select.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
    # text[] for all: an array of another type splits on its type's delimiter (geometry's is ":")
    arrays = ["%s::text[]" for f in _fields() if f.attname in varying]
    aliases = ", ".join(q(f.column) for f in _fields() if f.attname in varying)
    array_params = [_array(varying[f.attname]) for f in _fields() if f.attname in varying]
    returned = ", ".join(q(Problem._meta.get_field(a).column) for a in EVENT_FROM_PROBLEM.values())
    event_names, event_select, event_params = _event_select(q)
    sql = (
        f"WITH new AS (INSERT INTO {q(Problem._meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) AS t({aliases}) RETURNING {returned}) "
        f"INSERT INTO {q(ProblemEvent._meta.db_table)} ({event_names}) SELECT {event_select} FROM new"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *array_params, *event_params])
