"""The database side of backup and restore: PostgreSQL (``pg_dump -Fc`` inside an exported
snapshot, ``pg_restore``) and SQLite (its online backup API with a busy timeout)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection, connections

from gridmap.core.backup.common import BackupError, names_query

if TYPE_CHECKING:
    from gridmap.core.backup.create import Pinned


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_env() -> dict[str, str]:
    """libpq's environment for the configured database (the password never on a command line)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    values = {
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGDATABASE": db.get("NAME"),
    }
    options = db.get("OPTIONS") or {}
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if options.get(key):
            values[f"PG{key.upper()}"] = options[key]
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    env.pop("PGOPTIONS", None)
    return env


def _server_major(cursor: Any) -> int:
    cursor.execute("SHOW server_version_num")
    return int(cursor.fetchone()[0]) // 10000


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\)\s*(\d+)", out)
    return int(match.group(1)) if match else None


PG_LIB = Path("/usr/lib/postgresql")  # Debian's clients, one folder per major version


def pg_tool(name: str, major: int) -> str:
    """The ``pg_dump``/``pg_restore`` able to work with a server of version ``major``: the
    client of the same major version (/usr/lib/postgresql/N/bin), else the nearest newer one,
    else the one on PATH if it is recent enough."""
    base = PG_LIB
    installed = sorted(
        int(p.name) for p in base.glob("*") if p.name.isdigit() and (p / "bin" / name).exists()
    )
    for n in [major, *[n for n in installed if n > major]]:
        candidate = base / str(n) / "bin" / name
        if candidate.exists():
            return str(candidate)
    on_path = shutil.which(name)
    if on_path and (_tool_major(on_path) or 0) >= major:
        return on_path
    raise BackupError(
        f"{name} for PostgreSQL {major} not found (looked in {base}/{major}/bin and PATH): "
        f"install postgresql-client-{major}"
    )


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True)
    except OSError as exc:
        raise BackupError(f"{what}: cannot run {args[0]}: {exc}") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit status {done.returncode}'}")


def pg_snapshot_dump(
    target: Path, columns: list[tuple[str, str]], pin: Pinned
) -> tuple[list[list[str]], str]:
    """Dump the database into ``target`` with ``pg_dump -Fc`` inside a snapshot exported by a
    REPEATABLE READ transaction, which also reads the file names (handed to ``pin`` at once,
    before the dump) and the applied migrations: one instant of the database."""
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cur:
            # a long dump must not be cut by the service's own timeouts on this session
            cur.execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")
            major = _server_major(cur)
            pg_dump = pg_tool("pg_dump", major)
            pin.begin()
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            cur.execute(names_query(columns))
            pin(sorted({row[0] for row in cur.fetchall()}))
            cur.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            migrations = [list(row) for row in cur.fetchall()]
            cur.execute("SHOW server_version")
            server = cur.fetchone()[0]
            _run([pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(target)], _pg_env(), "pg_dump")
            cur.execute("COMMIT")
    except DatabaseError as exc:
        raise BackupError(f"cannot read the database: {str(exc).strip().splitlines()[0]}") from exc
    finally:
        raw.close()
    return migrations, f"PostgreSQL {server}"


def pg_is_empty() -> bool:
    """No table, view or sequence outside the system schemas, other than an extension's own
    (PostGIS's spatial_ref_sys)."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                 AND n.nspname NOT LIKE 'pg\\_temp%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%%'
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                 AND d.objid = c.oid AND d.deptype = 'e')"""
        )
        return cur.fetchone()[0] == 0


def pg_restore(dump: Path, *, force: bool) -> None:
    """``pg_restore`` into the configured database in one transaction (all or nothing). With
    ``force`` the schema ``public`` is dropped first (with the PostGIS extension, which the
    archive creates again)."""
    with connection.cursor() as cur:
        major = _server_major(cur)
        if force:
            cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    connections.close_all()
    pg_restore = pg_tool("pg_restore", major)
    env = _pg_env()
    listing = subprocess.run([pg_restore, "-l", str(dump)], env=env, capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {listing.stderr.strip()[-200:]}")
    # An extension's comment belongs to the extension's owner; the target's own is kept.
    keep = [line for line in listing.stdout.splitlines() if " COMMENT - EXTENSION " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as f:
        f.write("\n".join(keep) + "\n")
    try:
        _run(
            [pg_restore, "--single-transaction", "--no-owner", "--no-acl", "-L", f.name,
             "-d", env.get("PGDATABASE", ""), str(dump)],
            env,
            "pg_restore",
        )  # fmt: skip
    finally:
        os.unlink(f.name)


# --- SQLite ------------------------------------------------------------------------------------


def sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def sqlite_snapshot(
    target: Path, columns: list[tuple[str, str]], pin: Pinned, wait: float
) -> tuple[list[list[str]], str]:
    """Copy the database into ``target`` with SQLite's online backup API in one step (one read
    transaction: a consistent instant). The source connection waits up to ``wait`` seconds for a
    writer's lock instead of failing, and a busy step is retried until then. The copy's file
    names go to ``pin`` at once."""
    source = sqlite_path()
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    deadline = time.monotonic() + wait

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise BackupError(f"the database stayed locked for {wait:.0f} s")

    try:
        # each step waits up to a second for a lock (the busy timeout); a busy step is tried
        # again until the deadline, ``progress`` seeing each busy one
        src = sqlite3.connect(source, timeout=min(wait, 1.0))
        dst = sqlite3.connect(target)
        try:
            pin.begin()
            src.backup(dst, pages=-1, progress=progress, sleep=0.05)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
            pin(sorted({row[0] for row in dst.execute(names_query(columns))}))
            migrations = [
                list(r) for r in dst.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            ]
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {source}: {exc}") from exc
    return migrations, f"SQLite {sqlite3.sqlite_version}"


def sqlite_is_empty() -> bool:
    path = sqlite_path()
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)
        try:
            return db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {path}: {exc}") from exc


def sqlite_restore(copy: Path) -> None:
    """Write the archived database over the configured file with the backup API (the target's
    journal, WAL or not, stays coherent)."""
    connections.close_all()
    target = sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=20)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot write {target}: {exc}") from exc
