"""The change stamps' triggers (see ``gridmap.core.stamps``), for SpatiaLite and PostGIS.

SQLite: row triggers (INSERT, DELETE, UPDATE [OF columns]) that upsert the stamp of each town
the old and new row belong to. PostgreSQL: statement triggers, so a bulk update renews each
town once; with towns they read the statement's transition tables, without they renew town 0
(also on TRUNCATE, which every town's stamp includes). The triggers are (re)installed after
every ``migrate`` (SQLite drops a table's triggers when a migration rebuilds the table), and
every kind's stamp renewed then.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from gridmap.core.models import ChangeStamp
from gridmap.core.stamps import WATCHES, Watch, watched_kinds

PG_RANDOM = "floor(random() * 281474976710656)::bigint"  # 48 bits: a sum over towns fits
SQLITE_RANDOM = "(random() >> 16)"
RENEW_FUNCTION = "core_stamp_renew"


def _q(conn: BaseDatabaseWrapper) -> Callable[[str], str]:
    return conn.ops.quote_name


def _name(*parts: str) -> str:
    """A trigger or function name (PostgreSQL keeps 63 characters: long ones end in a hash)."""
    name = "_".join(parts)
    return name if len(name) <= 63 else f"{name[:54]}_{zlib.crc32(name.encode()):08x}"


def _town_sql(conn: BaseDatabaseWrapper, model: type[Model], path: str, row: str) -> str:
    """The town id of ``row`` (a row of ``model``) following ``path``, as an SQL expression."""
    q = _q(conn)
    names = path.split("__")
    field = model._meta.pk if names[0] == "pk" else model._meta.get_field(names[0])
    expr, current = f"{row}.{q(field.column)}", field.related_model
    for name in names[1:]:
        field = current._meta.get_field(name)
        expr = (f"(SELECT {q(field.column)} FROM {q(current._meta.db_table)} "
                f"WHERE {q(current._meta.pk.column)} = {expr})")  # fmt: skip
        current = field.related_model
    return expr


def _towns_select(conn: BaseDatabaseWrapper, w: Watch, row: str, source: str) -> str:
    """SELECT of the distinct towns (``t``) of the rows ``row`` (from ``source``, or one row)."""
    exprs = [_town_sql(conn, w.model, path, row) for path in w.towns]
    none = " AND ".join(f"{e} IS NULL" for e in exprs)
    parts = [f"SELECT {e} AS t{source}" for e in exprs] + [f"SELECT 0 AS t{source} WHERE {none}"]
    return f"SELECT DISTINCT t FROM ({' UNION ALL '.join(parts)}) s WHERE t IS NOT NULL"


def _upsert(conn: BaseDatabaseWrapper, kind_sql: str, towns_sql: str, random_sql: str) -> str:
    q = _q(conn)
    return (
        f"INSERT INTO {q(ChangeStamp._meta.db_table)} ({q('kind')}, {q('town')}, {q('stamp')}) "
        f"SELECT {kind_sql}, t, {random_sql} FROM ({towns_sql}) u WHERE true ORDER BY t "
        f"ON CONFLICT ({q('kind')}, {q('town')}) DO UPDATE SET {q('stamp')} = excluded.{q('stamp')}"
    )


def _renew_sql(conn: BaseDatabaseWrapper, kind_sql: str, random_sql: str) -> str:
    return _upsert(conn, kind_sql, "SELECT 0 AS t", random_sql)


def _columns(w: Watch) -> list[str]:
    return [w.model._meta.get_field(c).column for c in w.columns]


def _sqlite(conn: BaseDatabaseWrapper, w: Watch) -> list[str]:
    q, table = _q(conn), w.model._meta.db_table
    kind = f"'{w.kind}'"
    of = f" OF {', '.join(q(c) for c in _columns(w))}" if w.columns else ""
    sql = []
    for event, rows in (("INSERT", ["NEW"]), ("DELETE", ["OLD"]), (f"UPDATE{of}", ["OLD", "NEW"])):
        if w.towns:
            body = "; ".join(_upsert(conn, kind, _towns_select(conn, w, r, ""), SQLITE_RANDOM) for r in rows)
        else:
            body = _renew_sql(conn, kind, SQLITE_RANDOM)
        name = q(_name("core_stamp", table, w.kind, event.split()[0].lower()))
        sql += [
            f"DROP TRIGGER IF EXISTS {name}",
            f"CREATE TRIGGER {name} AFTER {event} ON {q(table)} FOR EACH ROW BEGIN {body}; END",
        ]
    return sql


def _postgresql_functions(conn: BaseDatabaseWrapper) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {RENEW_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{_renew_sql(conn, 'TG_ARGV[0]', PG_RANDOM)}; RETURN NULL; END $$"
    ]


def _postgresql(conn: BaseDatabaseWrapper, w: Watch) -> list[str]:
    q, table = _q(conn), w.model._meta.db_table
    on = q(table)
    if not w.towns:
        name = q(_name("core_stamp", w.kind))
        of = f" OF {', '.join(q(c) for c in _columns(w))}" if w.columns else ""
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {on}",
            f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE{of} ON {on} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {RENEW_FUNCTION}('{w.kind}')",
        ]
    function = q(_name("core_stamp", table, w.kind))
    kind = f"'{w.kind}'"
    new = _upsert(conn, kind, _towns_select(conn, w, "r", " FROM new_rows r"), PG_RANDOM)
    old = _upsert(conn, kind, _towns_select(conn, w, "r", " FROM old_rows r"), PG_RANDOM)
    sql = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {new}; END IF; "
        f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {old}; END IF; RETURN NULL; END $$"
    ]
    for event, referencing in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        name = q(_name("core_stamp", w.kind, event.lower()))
        sql += [
            f"DROP TRIGGER IF EXISTS {name} ON {on}",
            f"CREATE TRIGGER {name} AFTER {event} ON {on} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    name = q(_name("core_stamp", w.kind, "truncate"))
    return [
        *sql,
        f"DROP TRIGGER IF EXISTS {name} ON {on}",
        f"CREATE TRIGGER {name} AFTER TRUNCATE ON {on} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {RENEW_FUNCTION}('{w.kind}')",
    ]


@dataclass(frozen=True)
class Backend:
    random_sql: str  # a new random stamp
    functions: Callable[[BaseDatabaseWrapper], list[str]]  # shared trigger functions
    triggers: Callable[[BaseDatabaseWrapper, Watch], list[str]]  # one watch's triggers


BACKENDS = {
    "postgresql": Backend(PG_RANDOM, _postgresql_functions, _postgresql),
    "sqlite": Backend(SQLITE_RANDOM, lambda conn: [], _sqlite),
}


def renew_sql(conn: BaseDatabaseWrapper, kind: str) -> str:
    """SQL giving ``kind`` a new stamp (town 0, which every town's stamp includes)."""
    return _renew_sql(conn, f"'{kind}'", BACKENDS[conn.vendor].random_sql)


def install(conn: BaseDatabaseWrapper) -> None:
    """Create (or replace) the triggers of every watched table that exists, and renew every stamp.

    A backend without triggers gets no stamp rows: its caches are never trusted.
    """
    backend = BACKENDS.get(conn.vendor)
    tables = set(conn.introspection.table_names())
    if backend is None or ChangeStamp._meta.db_table not in tables:
        return
    statements = backend.functions(conn)
    for w in WATCHES:
        if w.model._meta.db_table in tables:
            statements += backend.triggers(conn, w)
    statements += [renew_sql(conn, kind) for kind in watched_kinds()]
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:  # one commit, not one each
        for statement in statements:
            cursor.execute(statement)


def install_after_migrate(using: str = "default", **_: Any) -> None:
    """post_migrate receiver: the triggers exist after every migrate (and test-database flush)."""
    install(connections[using])
