"""The area stamp: the change stamp of kind ``areas`` (``gridmap.core.stamps``), which any
INSERT, DELETE, TRUNCATE, or UPDATE of the columns that decide where a point falls (code,
geometry, community), on grids or communities, renews in the same transaction.

Its tables are declared in ``gridmap.geography.stamps``; the triggers are the change stamps'
(``gridmap.core.stamp_sql``), installed after every ``migrate``. ``AreaStamp`` is a view of it
with the old shape (one row, id 1, ``stamp``), for SQL that checks it in the statement it writes.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from gridmap.core import stamp_sql

KIND = "areas"
LOCATING_COLUMNS = ("code", "geom")  # plus the foreign key to the community on grids


def renew_sql(conn: BaseDatabaseWrapper) -> str:
    """SQL giving the area stamp a new value."""
    return stamp_sql.renew_sql(conn, KIND)


def install(conn: BaseDatabaseWrapper) -> None:
    """Create (or replace) the change stamps' triggers on ``conn`` and renew the stamps."""
    stamp_sql.install(conn)


def uninstall(conn: BaseDatabaseWrapper) -> None:
    """Drop the triggers of the area stamp's first version (before the change stamps)."""
    q = conn.ops.quote_name
    with conn.cursor() as cursor:
        for table in ("geography_grid", "geography_community"):
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {q(table + '_stamp')} ON {q(table)}")
            elif conn.vendor == "sqlite":
                for event in ("insert", "delete", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {q(f'{table}_stamp_{event}')}")
        if conn.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS geography_area_stamp_renew()")


def install_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (kept for callers; the core app connects its own)."""
    stamp_sql.install_after_migrate(using, **kwargs)
