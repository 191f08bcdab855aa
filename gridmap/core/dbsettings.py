"""The PostGIS connection settings: timeouts as startup parameters, replicas, and what changes
behind PgBouncer in transaction mode. Called from ``gridmap/settings.py``; no Django models here.

Behind PgBouncer in transaction mode a client's consecutive transactions may run on different
server sessions, so nothing may rely on session state between transactions:

- no session-level prepared statements (``gridmap.core.prepared`` runs plain statements when
  ``GRIDMAP_DB_PREPARED`` is off, its default under ``GRIDMAP_PGBOUNCER=transaction``);
- no server-side cursors held across transactions (``DISABLE_SERVER_SIDE_CURSORS``);
- no startup ``options`` (PgBouncer 1.18 refuses the parameter; a ``SET`` outside a transaction
  would change whichever server session ran it): the statement and idle-in-transaction timeouts
  are set on the role or database in PostgreSQL instead (``ALTER ROLE … IN DATABASE … SET``,
  docs/operations.md), and the client keeps its own deadlines (``gridmap.core.dbwait``) as before.
"""

from __future__ import annotations

from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PGBOUNCER_MODES = {"", "session", "transaction"}


def pgbouncer_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in PGBOUNCER_MODES:
        raise ImproperlyConfigured("GRIDMAP_PGBOUNCER must be empty, session or transaction")
    return mode


def postgis_options(
    db: dict[str, Any], *, connect_s: int, statement_s: float, idle_s: float, pgbouncer: str
) -> None:
    """Timeouts, keepalives and health checks on one PostGIS database entry (in place)."""
    db["CONN_HEALTH_CHECKS"] = True
    options = db.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", connect_s)
    options.setdefault("keepalives", 1)
    options.setdefault("keepalives_idle", 30)
    options.setdefault("keepalives_interval", 10)
    options.setdefault("keepalives_count", 3)
    if pgbouncer == "transaction":
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
        if "-c " in options.get("options", ""):
            raise ImproperlyConfigured(
                "behind PgBouncer in transaction mode set server parameters on the role or database, "
                "not in the connection's options"
            )
        return
    options["options"] = " ".join(
        part
        for part in (
            options.get("options", ""),
            f"-c statement_timeout={int(statement_s * 1000)}",
            f"-c idle_in_transaction_session_timeout={int(idle_s * 1000)}",
            # no JIT compilation: a page's query whose estimated cost is high (a correlated
            # subquery over a city's million cases) compiled for 0.8 s to run for 30 ms
            "-c jit=off",
        )
        if part
    )


def replica_databases(urls: str, *, conn_max_age: int) -> dict[str, dict[str, Any]]:
    """``replica1``, ``replica2``, … from a comma-separated list of postgis:// URLs. Tests never
    create them: each mirrors ``default`` (the test database) in a test run."""
    found: dict[str, dict[str, Any]] = {}
    for n, url in enumerate((u.strip() for u in urls.split(",") if u.strip()), start=1):
        db = dj_database_url.parse(url, conn_max_age=conn_max_age)
        if not db["ENGINE"].endswith("postgis"):
            raise ImproperlyConfigured("GRIDMAP_REPLICA_URLS must be postgis:// URLs")
        db["TEST"] = {"MIRROR": "default"}
        found[f"replica{n}"] = db
    return found
