"""Reads that can move to a replica; writes, and reads that must see them, on the primary.

Active only when ``GRIDMAP_REPLICA_URLS`` names streaming replicas (settings.py adds the router
and the middleware then; without replicas nothing here runs). The rules:

- A GET or HEAD (or OPTIONS) request reads from one replica, chosen at its first read and kept
  for the whole request (``ReadRoutingMiddleware``, ``PrimaryReplicaRouter.db_for_read``); a
  streamed answer (an export) keeps it while it streams.
- Everything else reads the primary: a request that writes (POST, PUT, PATCH, DELETE), any read
  inside an atomic block (``select_for_update``, the loop's conditional updates, the intake), and
  work outside a request (commands, background jobs). Every write goes to the primary.
- Read after write: a client's unsafe request sets a signed cookie that sends its next reads to
  the primary for ``GRIDMAP_PRIMARY_AFTER_WRITE_S`` seconds (by default the longest lag allowed
  plus the check interval plus 2 s), so a user sees their own change at once. A GET that writes
  (a session saved, a job submitted) reads the primary from its first write on and sets the
  cookie too (its earlier reads came from the replica: older than its stamps never, see below).
- A replica that does not answer, is not streaming, or lags more than ``GRIDMAP_REPLICA_MAX_LAG_S``
  is left out until the next check (once per ``GRIDMAP_REPLICA_CHECK_S`` per process; between
  checks Django's own per-request connection check sees a replica that went away): the request
  reads the primary. Never a 500 for a replica; a replica lost in the middle of a request answers
  that request 503 like any database fault (``gridmap.core.faults``).
- Migrations run on the primary only.
- Work outside a request that only reads (an export job) may read a replica inside
  ``replica_reads()``; its writes still go to the primary, but it must not read back what it wrote.

Change stamps (``gridmap.core.stamps``) are read from the request's replica even inside an atomic
block: a cache may keep data newer than its stamp, never older, and data read after the stamp
from the same replica or from the primary is at least as new as the stamp. (A stamp read from the
primary and data from a lagging replica would keep old data under a new stamp until the next
change.)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signing import BadSignature
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import FileResponse, HttpRequest, HttpResponse

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "gridmap_primary"
_SALT = "gridmap.core.dbrouter"

# Seconds the replica is behind: 0 when it has replayed all it received, else the age of the last
# transaction it replayed. NULL, so it is not used, when that is unknown or when it is not
# streaming (no WAL receiver: cut off from the primary, it cannot tell how far behind it is).
LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN NULL
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
  ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""


@dataclass
class Route:
    """How the current request reads: ``replica_ok`` when it may read a replica; ``alias`` the
    database its reads use, chosen at the first read."""

    replica_ok: bool
    alias: str | None = None
    wrote: bool = False


@dataclass(frozen=True)
class Health:
    checked_at: float
    usable: bool
    lag_s: float | None


_ROUTE: ContextVar[Route | None] = ContextVar("gridmap_db_route", default=None)
_HEALTH: dict[str, Health] = {}  # per process, by alias
_clock = time.monotonic


def replica_lag_s(alias: str) -> float | None:
    """The replica's lag in seconds (None: not streaming); raises DatabaseError when it is down."""
    conn = connections[alias]
    conn.close_if_health_check_failed()
    with conn.cursor() as cursor:
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    return None if lag is None else float(lag)


def _check(alias: str, now: float) -> Health:
    try:
        lag = replica_lag_s(alias)
    except DatabaseError as exc:
        log.warning("replica %s unavailable, reading the primary: %s", alias, exc)
        _close(alias)
        return Health(now, False, None)
    usable = lag is not None and lag <= settings.GRIDMAP_REPLICA_MAX_LAG_S
    if not usable:
        log.warning("replica %s lags %s s, reading the primary", alias, lag)
    return Health(now, usable, lag)


def _close(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def _answers(alias: str) -> bool:
    """Django's per-request check of a kept connection (or a new one): a replica that went away
    since its last check is seen here, once per request, not per query."""
    conn = connections[alias]
    try:
        conn.close_if_health_check_failed()
        conn.ensure_connection()
        return True
    except DatabaseError as exc:
        log.warning("replica %s unavailable, reading the primary: %s", alias, exc)
        _close(alias)
        _HEALTH[alias] = Health(_clock(), False, None)
        return False


def usable(alias: str) -> bool:
    """Whether ``alias`` may serve reads now (its lag checked once per GRIDMAP_REPLICA_CHECK_S)."""
    now = _clock()
    health = _HEALTH.get(alias)
    if health is None or now - health.checked_at >= settings.GRIDMAP_REPLICA_CHECK_S:
        health = _HEALTH[alias] = _check(alias, now)
        return health.usable
    return health.usable and _answers(alias)


def choose_replica(aliases: Iterable[str]) -> str:
    """A usable replica in random order (spreading the load), else the primary."""
    candidates = list(aliases)
    random.shuffle(candidates)
    return next((alias for alias in candidates if usable(alias)), DEFAULT_DB_ALIAS)


def request_read_alias() -> str:
    """The database this request reads outside atomic blocks: its replica, or the primary."""
    route = _ROUTE.get()
    if route is None or not route.replica_ok:
        return DEFAULT_DB_ALIAS
    if route.alias is None:
        route.alias = choose_replica(settings.GRIDMAP_REPLICAS)
    return route.alias


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block may use a replica (one, kept for the block), as a GET request's do."""
    token = _ROUTE.set(Route(replica_ok=bool(settings.GRIDMAP_REPLICAS)))
    try:
        yield
    finally:
        _ROUTE.reset(token)


def replica_states() -> dict[str, str]:
    """For /health/: each replica "ok", "lagging" or "unavailable" (reads then use the primary)."""
    states = {}
    for alias in settings.GRIDMAP_REPLICAS:
        ok = usable(alias)
        health = _HEALTH.get(alias)
        states[alias] = "ok" if ok else ("lagging" if health and health.lag_s is not None else "unavailable")
    return states


class PrimaryReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return instance._state.db  # a related object from where its owner was read
        return request_read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        route = _ROUTE.get()
        if route is not None:  # a GET that writes (a session saved, a job submitted) reads its write
            route.wrote, route.alias = True, DEFAULT_DB_ALIAS
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # every database holds the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def wrote_recently(request: HttpRequest) -> bool:
    try:
        request.get_signed_cookie(COOKIE, salt=_SALT, max_age=settings.GRIDMAP_PRIMARY_AFTER_WRITE_S)
    except (KeyError, BadSignature):
        return False
    return True


def _keep_route(content: Iterable[bytes], route: Route) -> Iterator[bytes]:
    """A streamed answer's chunks, each produced with the request's route."""
    chunks = iter(content)
    while True:
        token = _ROUTE.set(route)
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        finally:
            _ROUTE.reset(token)
        yield chunk


def _streams_from_the_database(response: HttpResponse) -> bool:
    """A streamed answer whose chunks may be read from the database: not a file (wrapping one would
    lose the server's sendfile), not an async iterator."""
    return (
        getattr(response, "streaming", False)
        and not isinstance(response, FileResponse)
        and not getattr(response, "is_async", False)
    )


class ReadRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reads = request.method in READ_METHODS
        route = Route(replica_ok=reads and not wrote_recently(request))
        token = _ROUTE.set(route)
        try:
            response = self.get_response(request)
        finally:
            _ROUTE.reset(token)
        if _streams_from_the_database(response) and route.replica_ok:
            response.streaming_content = _keep_route(response.streaming_content, route)
        if not reads or route.wrote:
            response.set_signed_cookie(
                COOKIE,
                "1",
                salt=_SALT,
                max_age=settings.GRIDMAP_PRIMARY_AFTER_WRITE_S,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
