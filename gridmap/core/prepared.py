"""Server-side prepared statements for the few hot statements every request runs (token check,
intake), on PostgreSQL.

PostgreSQL plans a statement each time it receives its text; for a short query with a spatial
condition planning costs several times the execution (EXPLAIN: ~0.15 ms planning against
~0.03 ms executing the intake's read). A statement prepared once per database session is
planned once (after five runs PostgreSQL keeps a generic plan unless it costs more) and each
request sends only ``EXECUTE name(values)``.

The statement text is the caller's SQL with ``%s`` placeholders, as for ``cursor.execute``;
its parameters' types are inferred from their use (a cast, a comparison, a function argument),
and the values travel as literals adapted by psycopg2 exactly as for ``cursor.execute``. Which
statements a session has prepared is kept per psycopg2 connection (a new connection prepares
again). Other backends run the SQL as it is, and so does PostgreSQL when
``settings.GRIDMAP_DB_PREPARED`` is off: a prepared statement belongs to a server session, and
behind PgBouncer in transaction mode consecutive statements of one client may run in different
sessions (off by default there: ``GRIDMAP_PGBOUNCER=transaction``). Both paths send the same
statement text and values, so they answer alike.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import weakref
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection

_PLACEHOLDER = re.compile(r"%s")
_PREPARED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=64)
def statement_name(sql: str) -> str:
    """A name for ``sql`` (the same text, the same name; another text, another name)."""
    return "gridmap_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()


@lru_cache(maxsize=64)
def _execute_sql(name: str, n_params: int) -> str:
    return f"EXECUTE {name} ({', '.join(['%s'] * n_params)})" if n_params else f"EXECUTE {name}"


def execute(cursor: Any, sql: str, params: Sequence[Any], name: str | None = None) -> None:
    """``cursor.execute(sql, params)``, as a prepared statement on PostgreSQL.

    ``sql`` must hold no ``%`` but its ``%s`` placeholders (as the statements built here do)."""
    if connection.vendor != "postgresql" or not settings.GRIDMAP_DB_PREPARED:
        cursor.execute(sql, params)
        return
    name = name or statement_name(sql)
    raw = connection.connection
    prepared = _PREPARED.get(raw)
    if prepared is None:
        prepared = _PREPARED[raw] = set()
    if name not in prepared:
        numbers = itertools.count(1)
        cursor.execute(f"PREPARE {name} AS {_PLACEHOLDER.sub(lambda _: f'${next(numbers)}', sql)}")
        prepared.add(name)
    cursor.execute(_execute_sql(name, len(params)), params or None)
