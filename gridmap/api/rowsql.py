"""A list page read with one SELECT put together from parts the ORM compiled, instead of building
and compiling the whole rows query through the ORM on each request.

Why: for the problem list, building and compiling the ``annotate(...).values_list(...)`` query
cost more Python time than the database took to answer it for 100 rows (about 1.2 ms per request
on a loaded test machine, against 0.3 ms for compiling only the scope). So the ORM compiles the
part that changes with the request (the user's scope and the filters, as ``SELECT id FROM ...
WHERE ...``), and the column list, compiled by the ORM from the spec's expressions once per
database, is put in front of it. The rows are what ``values_list`` returns for the same columns;
a spec whose columns would need a converter (dates, decimals, JSON...) is not read this way.

The page is cut in a subquery of raw columns and the columns are computed on its rows only:
PostgreSQL otherwise computes the ones it deems cheap (``to_char``, casts) for every matching row
before sorting, which on a full page of a large area means for all of them.

A scope the ORM writes as ``SELECT DISTINCT`` (users who see problems through joins) is read as
``id IN (scope)``: each row once, without sorting wide rows for DISTINCT. Anything else that does
not compile to the expected shape is answered ``None``, and the caller takes the ORM path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet

from gridmap.api.features import GEOJSON, FeatureSpec
from gridmap.api.pagination import Page
from gridmap.api.params import Paging
from gridmap.core.geojson import geojson_column


@dataclass(frozen=True)
class _Statement:
    """The parts of a list page's SELECT that do not change between requests."""

    columns: str  # the spec's select list as the ORM writes it, without SELECT
    params: tuple[Any, ...]  # of ``columns``
    table: str  # the quoted table name: the alias of the base table in every query here
    pk: str  # the quoted primary key column
    raw: str  # the table columns that ``columns`` and the order read (the page subquery's list)
    order: str  # ORDER BY terms


@lru_cache(maxsize=8)
def _statement(
    model: type[Model], spec: FeatureSpec, ordering: tuple[str, ...], alias: str
) -> _Statement | None:
    """Compiled once per model, spec, ordering and database; ``None`` if a column needs a converter."""
    connection = connections[alias]
    extra = {name: make(None) for name, make in spec.annotations}
    qs = model._default_manager.annotate(**{GEOJSON: geojson_column()}, **extra)
    query = qs.values_list("pk", GEOJSON, *spec.columns).order_by().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if compiler.get_converters([expression for expression, _, _ in compiler.select]):
        return None
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    head, sep, tail = sql.rpartition(f" FROM {table}")
    if not head.startswith("SELECT ") or not sep or tail:
        return None
    columns = head.removeprefix("SELECT ")
    terms, ordered = [], set()
    for name in ordering:
        field = model._meta.get_field(name.removeprefix("-"))
        ordered.add(field.column)
        terms.append(f"{table}.{quote(field.column)} {'DESC' if name.startswith('-') else 'ASC'}")
    raw = [
        f"{table}.{quote(f.column)}"
        for f in model._meta.concrete_fields
        if f.column in ordered or f"{table}.{quote(f.column)}" in columns
    ]
    pk = quote(model._meta.pk.column)
    return _Statement(columns, tuple(params), table, pk, ", ".join(raw), ", ".join(terms))


@dataclass(frozen=True)
class _Scope:
    """The scoped and filtered queryset as ``SELECT [DISTINCT] id FROM ... [WHERE ...]``."""

    sql: str
    params: tuple[Any, ...]
    distinct: bool
    rest: str  # "FROM ..." of ``sql``


def _scope(qs: QuerySet, statement: _Statement) -> _Scope | None:
    query = qs.query
    if query.combinator or query.group_by or query.distinct_fields or query.is_sliced or query.extra:
        return None
    sql, params = qs.order_by().values_list("pk").query.get_compiler(using=qs.db).as_sql()
    table, pk = re.escape(statement.table), re.escape(statement.pk)
    shape = re.match(rf'SELECT (DISTINCT )?{table}\.{pk} AS "pk" (FROM .*)\Z', sql, re.S)
    if shape is None:
        return None
    return _Scope(sql, tuple(params), bool(shape.group(1)), shape.group(2))


def sql_page(
    model: type[Model], spec: FeatureSpec, qs: QuerySet, ordering: tuple[str, ...], paging: Paging
) -> Page | None:
    """The rows of ``paging``'s page of ``qs`` in ``ordering`` (field names, ``-`` for descending;
    any order of ``qs`` is ignored), one tuple per row: ``pk``, the GeoJSON geometry, the spec's
    columns. ``None`` when ``qs`` or the spec cannot be read this way."""
    statement = _statement(model, spec, ordering, qs.db)
    if statement is None:
        return None
    try:
        scope = _scope(qs, statement)
    except EmptyResultSet:  # a scope that can match nothing (``none()``, an empty ``__in``)
        return Page([], 0, paging)
    if scope is None:
        return None
    table = statement.table
    source = f"FROM {table} WHERE {table}.{statement.pk} IN ({scope.sql})" if scope.distinct else scope.rest
    sql = (
        f"SELECT {statement.columns} FROM (SELECT {statement.raw} {source} ORDER BY {statement.order} "
        f"LIMIT %s OFFSET %s) {table} ORDER BY {statement.order}"
    )
    start, size = paging.offset, paging.page_size
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, (*statement.params, *scope.params, size + 1, start))
        rows = cursor.fetchall()
        # One row more than the page says whether a COUNT is needed (as ``pagination.page_of``).
        if 0 < len(rows) <= size or (not rows and paging.page == 1):
            return Page(rows, start + len(rows), paging)
        cursor.execute(f"SELECT COUNT(*) FROM ({scope.sql}) counted", scope.params)
        (matched,) = cursor.fetchone()
    return Page(rows[:size], matched, paging)
