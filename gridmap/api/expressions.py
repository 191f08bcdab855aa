"""Database expressions that hand the list a value already in its JSON form, so that no Python
object is made per row for it. Each backend has its own SQL (Django's ``as_<vendor>`` hooks); the
GeoJSON reference test runs on both and holds the text equal to what orjson writes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Func


class UUIDText(Func):
    """A UUID as its canonical text (8-4-4-4-12, lower case) instead of a ``uuid.UUID`` per row
    (about 2.5 µs each). PostgreSQL has a uuid type; Django keeps UUIDs on SQLite as 32 hex digits."""

    output_field = CharField()
    template = "CAST(%(expressions)s AS text)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        spans = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        parts = "||'-'||".join(f"substr(%(expressions)s, {a}, {n})" for a, n in spans)
        return self.as_sql(compiler, connection, template=f"lower({parts})", **extra)


class IsoUTC(Func):
    """A timestamp as RFC 3339 text in UTC, written as orjson writes an aware datetime with
    OPT_UTC_Z: ``2024-05-01T00:00:00Z``, with ``.ffffff`` only when there are microseconds.

    Instead of a ``datetime`` per value: on SQLite Django parses each one in Python (3-4 µs)."""

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        utc = "(%(expressions)s AT TIME ZONE 'UTC')"
        template = (
            f"CASE WHEN date_trunc('second', {utc}) = {utc} "
            f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
            f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores aware datetimes on SQLite as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
        template = "(replace(%(expressions)s, ' ', 'T') || 'Z')"
        return self.as_sql(compiler, connection, template=template, **extra)
