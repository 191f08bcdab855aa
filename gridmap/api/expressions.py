"""Database expressions that hand the list a value already in its JSON form, so that no Python
object is made per row for it, and the list's box filter. Each backend has its own SQL (Django's
``as_<vendor>`` hooks); the GeoJSON reference test runs on both and holds the text equal to what
orjson writes, and the box filter's rows equal to the ``intersects`` lookup's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, CharField, F, Func


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
        # One to_char with microseconds, ".000000" dropped: cheaper than testing for a whole second
        # first (to_char costs about 1 µs a value, the most expensive column of the list).
        template = (
            """replace(to_char((%(expressions)s AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), """
            "'.000000Z', 'Z')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores aware datetimes on SQLite as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
        template = "(replace(%(expressions)s, ' ', 'T') || 'Z')"
        return self.as_sql(compiler, connection, template=template, **extra)


class BoxIntersects(Func):
    """``geometry`` intersects the lon/lat box (EPSG:4326): the same test as the ``intersects``
    lookup with ``Polygon.from_bbox``, written without a GEOS polygon. Building that polygon, and
    compiling the lookup that sends it as EWKB, cost about 0.3 ms a request (more than the
    database's answer for 100 rows); here the four numbers travel as parameters. PostGIS uses
    the spatial index as for the lookup (``ST_Intersects`` adds the ``&&`` test)."""

    output_field = BooleanField()

    def __init__(self, geometry: str, box: tuple[float, float, float, float]) -> None:
        super().__init__(F(geometry))
        self.box = tuple(float(v) for v in box)

    def _sql(self, compiler: Any, function: str, envelope: str) -> tuple[str, list[Any]]:
        geometry, params = compiler.compile(self.source_expressions[0])
        return f"{function}({geometry}, {envelope}(%s, %s, %s, %s, 4326))", [*params, *self.box]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self._sql(compiler, "ST_Intersects", "ST_MakeEnvelope")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self._sql(compiler, "Intersects", "BuildMbr")
