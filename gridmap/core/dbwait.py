"""A PostgreSQL that does not answer cannot hold a worker: psycopg2 waits for the server through
``wait`` below, which gives up after a deadline.

PostgreSQL's own ``statement_timeout`` (settings: GRIDMAP_DB_STATEMENT_TIMEOUT) cancels a slow
statement, and libpq's ``connect_timeout`` bounds a blocking connect, but neither helps when the
server is frozen (stopped by a signal, a stalled disk, a paused VM): the kernel still accepts the
connection and acknowledges the query, and nobody answers. So the client keeps its own clock:
connecting may take GRIDMAP_DB_CONNECT_TIMEOUT seconds, a statement its timeout plus
``GRACE_SECONDS`` (the server's cancel, when it can still send one, comes first and leaves the
connection usable). Past the deadline ``wait`` raises OperationalError; psycopg2 then closes the
connection, Django discards it, the request answers 503 (``gridmap.core.faults``) and the next
request connects afresh.

This is psycopg2's documented hook for cooperative waiting (``set_wait_callback``; with it libpq
works asynchronously, so the deadline covers connecting too). It is set once per process for the
PostGIS backend (``CoreConfig.ready``).
"""

from __future__ import annotations

import select
import time
from typing import Any

GRACE_SECONDS = 2.0
CONNECTION_OK = 0  # libpq's PQstatus of an established connection


class Deadlines:
    def __init__(self, connect_s: float | None, statement_s: float | None) -> None:
        self.connect_s = connect_s or None
        self.query_s = statement_s + GRACE_SECONDS if statement_s else None


_DEADLINES = Deadlines(None, None)


def wait(conn: Any) -> None:
    """psycopg2's wait callback: poll the connection until done, within the deadline."""
    import psycopg2
    from psycopg2 import extensions

    connecting = conn.info.status != CONNECTION_OK
    limit = _DEADLINES.connect_s if connecting else _DEADLINES.query_s
    end = None if limit is None else time.monotonic() + limit
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        if state == extensions.POLL_READ:
            events = select.POLLIN
        elif state == extensions.POLL_WRITE:
            events = select.POLLOUT
        else:
            raise psycopg2.OperationalError(f"unexpected poll state {state!r}")
        poller = select.poll()
        poller.register(conn.fileno(), events)
        if end is None:
            poller.poll()
            continue
        left = end - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            what = "connect" if connecting else "answer"
            raise psycopg2.OperationalError(f"the database did not {what} within {limit:g} s")


def install(connect_s: float | None, statement_s: float | None) -> None:
    """Wait through ``wait`` with these deadlines (seconds; None or 0: no deadline)."""
    global _DEADLINES
    from psycopg2 import extensions

    _DEADLINES = Deadlines(connect_s, statement_s)
    extensions.set_wait_callback(wait)
