"""One change stamp behind every cache: a way to know that the data behind it changed.

Each app declares, in its ``stamps`` module, which tables feed which *kind* of data (``grids``,
``buildings``, ``facilities``, ``streets``, ``problems``, ...) and how a row finds its *town*
(the street/town, 街道/镇, the subdistrict a row belongs to). Database triggers
(``gridmap.core.stamp_sql``, installed after every migrate on SpatiaLite and PostGIS) give the
stamp of each kind and town a new random value in the writing transaction, so every way of
writing counts: the ORM, bulk updates, raw SQL, another process, an edit that keeps every count.

A cache reads the stamps it depends on (:func:`stamp_of`, :func:`stamps_of`: one indexed query)
before it reads its data, and keeps its result under them. Random values rather than counters:
a counter restarts when a table is emptied (a test's rollback, a flush) and could come back to
a value a process has cached; 48 random bits do not.

Within one request the whole-kind stamps are read once, every kind in the same query, at the
first read (before any data, as the rule above asks) and kept until the request ends: a report
then costs one stamp query, not one per cache it touches. A request that writes and then reads a
cache of the kind it wrote sees its own change from the next request on. A request ends when its
response is closed (``request_finished``), as every WSGI server does once the body is sent.

With replicas (``gridmap.core.dbrouter``) stamps are read from the database the request reads,
even inside an atomic block: the request's replica when it has one. Data read after the stamp,
from that replica or from the primary, is then at least as new as the stamp (never keep data
older than its stamp: a stamp from the primary with data from a lagging replica would).

Town 0 holds rows that have no town and rows every town shares (categories, facility kinds);
a town's stamp includes it, so a change there is seen by every town's readers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.signals import request_finished, request_started
from django.db import connections
from django.db.models import Model

from gridmap.core.dbrouter import request_read_alias
from gridmap.core.models import ChangeStamp

Town = int | Iterable[int] | None


@dataclass(frozen=True)
class Watch:
    """Rows of ``model`` feed the stamp of ``kind``.

    ``towns``: paths of foreign keys from a row to its town's id (``"grid__community__subdistrict"``,
    ``"pk"`` for the town table itself); a row in several towns renews each, a row with none
    renews town 0; no paths: every change renews town 0. ``columns``: only updates of these
    fields count (none: every update); only for kinds without towns.
    """

    kind: str
    model: type[Model]
    towns: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


WATCHES: list[Watch] = []


def watch(kind: str, model: type[Model], *, towns: Iterable[str] = (), columns: Iterable[str] = ()) -> None:
    """Declare that changes of ``model``'s rows renew the stamp of ``kind`` (see :class:`Watch`)."""
    entry = Watch(kind, model, tuple(towns), tuple(columns))
    if entry.towns and entry.columns:
        raise ValueError("a watch with towns counts every update (no column list)")
    if entry not in WATCHES:
        WATCHES.append(entry)


def watched_kinds() -> list[str]:
    return sorted({w.kind for w in WATCHES})


_REQUEST = threading.local()  # .kinds: every whole-kind stamp, read once per request (from .alias)


def _request_begins(**_: object) -> None:
    _REQUEST.kinds, _REQUEST.alias = None, None
    _REQUEST.active = True


def _request_ends(**_: object) -> None:
    _REQUEST.kinds = None
    _REQUEST.active = False


request_started.connect(_request_begins, dispatch_uid="gridmap.core.stamps.begin")
request_finished.connect(_request_ends, dispatch_uid="gridmap.core.stamps.end")


def stamps_of(kinds: Iterable[str], town: Town = None, *, using: str | None = None) -> dict[str, int | None]:
    """The stamp of each of ``kinds`` (None for a kind with no stamp row: never trust a cache then).

    With ``town`` (an id or several), the stamp of those towns and town 0 only; without, of the
    whole kind. One query; inside a request, whole-kind stamps are read once (see above).
    ``using``: the database (default: the one the request reads, see above).
    """
    wanted = list(kinds)
    using = using or request_read_alias()
    if town is None and getattr(_REQUEST, "active", False):
        if _REQUEST.kinds is None or _REQUEST.alias != using:
            _REQUEST.kinds, _REQUEST.alias = _read(None, None, using), using
        return {kind: _REQUEST.kinds.get(kind) for kind in wanted}
    found = _read(wanted, town, using)
    return {kind: found.get(kind) for kind in wanted}


def _read(kinds: list[str] | None, town: Town, using: str) -> dict[str, int | None]:
    """Stamps by kind: of ``kinds`` (all when None), of ``town`` and town 0 when given."""
    conn = connections[using]
    q = conn.ops.quote_name
    where, params = [], []
    if kinds is not None:
        where.append(f"{q('kind')} IN ({', '.join(['%s'] * len(kinds))})")
        params += kinds
    if town is not None:
        towns = [town] if isinstance(town, int) else list(town)
        where.append(f"{q('town')} IN ({', '.join(['%s'] * (len(towns) + 1))})")
        params += [*towns, 0]
    sql = (
        f"SELECT {q('kind')}, CAST(SUM({q('stamp')}) AS BIGINT) FROM {q(ChangeStamp._meta.db_table)}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" GROUP BY {q('kind')}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return {kind: (None if value is None else int(value)) for kind, value in cursor.fetchall()}


def stamp_of(kind: str, town: Town = None, *, using: str | None = None) -> int | None:
    """The stamp of ``kind`` (of ``town`` and town 0 when given); None when there is none."""
    return stamps_of([kind], town, using=using)[kind]
