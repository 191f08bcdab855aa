"""The area stamp's triggers: any INSERT, DELETE, TRUNCATE, or UPDATE of the columns that decide
where a point falls (code, geometry, community), on grids or communities, gives the stamp a new
random value in the same transaction.

A random value rather than a counter: a counter restarts when the table is emptied (a test
database's flush) and could come back to a value a process has cached; 52 random bits do not.
The triggers are (re)installed after every ``migrate`` (SQLite drops a table's triggers when a
migration rebuilds the table) and the stamp renewed then.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

LOCATING_COLUMNS = ("code", "geom")  # plus the foreign key to the community on grids


def _tables() -> list[tuple[str, list[str]]]:
    from gridmap.geography.models import Community, Grid

    grid_columns = [*LOCATING_COLUMNS, Grid._meta.get_field("community").column]
    return [(Grid._meta.db_table, grid_columns), (Community._meta.db_table, list(LOCATING_COLUMNS))]


def _stamp_table() -> str:
    from gridmap.geography.models import AreaStamp

    return AreaStamp._meta.db_table


def _postgresql(conn: BaseDatabaseWrapper) -> list[str]:
    q = conn.ops.quote_name
    stamp = q(_stamp_table())
    sql = [
        "CREATE OR REPLACE FUNCTION geography_area_stamp_renew() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN INSERT INTO {stamp} (id, stamp) VALUES (1, floor(random() * 4503599627370496)::bigint) "
        "ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp; RETURN NULL; END $$"
    ]
    for table, columns in _tables():
        name = q(f"{table}_stamp")
        of = ", ".join(q(c) for c in columns)
        sql += [
            f"DROP TRIGGER IF EXISTS {name} ON {q(table)}",
            f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF {of} ON {q(table)} "
            "FOR EACH STATEMENT EXECUTE FUNCTION geography_area_stamp_renew()",
        ]
    return sql


def _sqlite(conn: BaseDatabaseWrapper) -> list[str]:
    q = conn.ops.quote_name
    renew = f"INSERT OR REPLACE INTO {q(_stamp_table())} (id, stamp) VALUES (1, random() >> 12);"
    sql = []
    for table, columns in _tables():
        for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(q(c) for c in columns)}"):
            name = q(f"{table}_stamp_{event.split()[0].lower()}")
            sql += [
                f"DROP TRIGGER IF EXISTS {name}",
                f"CREATE TRIGGER {name} AFTER {event} ON {q(table)} FOR EACH ROW BEGIN {renew} END",
            ]
    return sql


def renew_sql(conn: BaseDatabaseWrapper) -> str:
    q = conn.ops.quote_name
    if conn.vendor == "postgresql":
        value = "floor(random() * 4503599627370496)::bigint"
        return (f"INSERT INTO {q(_stamp_table())} (id, stamp) VALUES (1, {value}) "
                "ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp")  # fmt: skip
    return f"INSERT OR REPLACE INTO {q(_stamp_table())} (id, stamp) VALUES (1, random() >> 12)"


def install(conn: BaseDatabaseWrapper) -> None:
    """Create (or replace) the triggers on ``conn`` and renew the stamp."""
    if conn.vendor == "postgresql":
        statements = _postgresql(conn)
    elif conn.vendor == "sqlite":
        statements = _sqlite(conn)
    else:  # another backend: no triggers, so the locator is never trusted (no stamp row)
        return
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(renew_sql(conn))


def uninstall(conn: BaseDatabaseWrapper) -> None:
    """Drop the triggers (the migration's reverse)."""
    q = conn.ops.quote_name
    with conn.cursor() as cursor:
        for table, _columns in _tables():
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {q(table + '_stamp')} ON {q(table)}")
            elif conn.vendor == "sqlite":
                for event in ("insert", "delete", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {q(f'{table}_stamp_{event}')}")
        if conn.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS geography_area_stamp_renew()")


def install_after_migrate(using: str = "default", **_: Any) -> None:
    """post_migrate receiver: the triggers exist after every migrate (and test-database flush)."""
    conn = connections[using]
    if _stamp_table() in conn.introspection.table_names():
        install(conn)
