"""Backup and restore: the database and the media folder (photos) in one archive.

An archive is a tar (gzip or not) holding ``manifest.json``, the database (``database/…``) and
the media files the database refers to (``media/<name under MEDIA_ROOT>``). The manifest lists
every file with its size and SHA-256, the database kind, the applied migrations, when it was made
and by which version of gridmap.

Consistency under load. The database is read at one instant first: PostgreSQL by ``pg_dump -Fc``
inside a snapshot this module exports (``pg_export_snapshot``) and also reads the file names in;
SQLite by its online backup API in one step (one read transaction, with a busy timeout, so intake
writing meanwhile neither fails the backup nor is failed by it). The files that snapshot names are
held at once (hard links, ``_Pinned``), then archived. A file is written before the row naming it
is inserted (``FileField`` saves the file while the INSERT is compiled, inside the writer's
transaction), so every name the snapshot holds has its file; files added later are simply not in
this archive. Problem photos are written once under a new name and never removed
(``problems.models.photo_path``). A positive-list site's photo is removed once a replacement is
committed, and its name (``<site id>.<ext>``) may then be used again for a later photo: a named
file that is gone, or was written after the snapshot began (its mtime), is not the snapshot's
file, and the backup is taken again from a new snapshot (up to ATTEMPTS times); what is still
missing then is listed under ``missing`` in the manifest (and the command warns).

Restore checks the whole archive (every checksum, the kind, the migrations) and the target before
it writes anything; it never restores across kinds (PostGIS ↔ SpatiaLite).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import tomllib
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.models import FileField

FORMAT = "gridmap-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgis": "database/gridmap.pgdump", "spatialite": "database/gridmap.sqlite3"}
ATTEMPTS = 5  # snapshots tried when a named file disappears between the snapshot and its copy
CHUNK = 1024 * 1024


class BackupError(Exception):
    """An expected failure, told in one line (no traceback): a missing tool, a bad archive, a
    target that is not empty, a database of the other kind, a full disk."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass
class BackupResult:
    kind: str
    database_bytes: int
    media_files: int
    media_bytes: int
    migrations: int
    missing: list[str]
    attempts: int
    seconds: float


@dataclass
class RestoreResult:
    kind: str
    created: str
    app_version: str
    database_bytes: int
    media_files: int
    media_bytes: int
    migrations: int
    pending: list[str] = field(default_factory=list)  # migrations the code has and the archive not
    seconds: float = 0.0


# --- what is stored where ----------------------------------------------------------------------


def database_kind() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgis" if engine.endswith("postgis") else "spatialite"


def app_version() -> str:
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field of every installed model: where stored rows name files
    under MEDIA_ROOT."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        found += [(meta.db_table, f.column) for f in meta.concrete_fields if isinstance(f, FileField)]
    return sorted(set(found))


def _names_query(columns: list[tuple[str, str]]) -> str:
    q = connection.ops.quote_name
    parts = [f"SELECT {q(c)} FROM {q(t)} WHERE {q(c)} IS NOT NULL AND {q(c)} <> ''" for t, c in columns]
    return " UNION ".join(parts) or "SELECT NULL LIMIT 0"


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _safe_relative(name: str) -> PurePosixPath | None:
    """``name`` as a relative path that stays inside its folder, or None."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name:
        return None
    return path


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


def _pg_snapshot_dump(
    target: Path, columns: list[tuple[str, str]], pin: _Pinned
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
            cur.execute(_names_query(columns))
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


def _pg_is_empty() -> bool:
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


def _pg_restore(dump: Path, *, force: bool) -> None:
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


def _sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def _sqlite_snapshot(
    target: Path, columns: list[tuple[str, str]], pin: _Pinned, wait: float
) -> tuple[list[list[str]], str]:
    """Copy the database into ``target`` with SQLite's online backup API in one step (one read
    transaction: a consistent instant). The source connection waits up to ``wait`` seconds for a
    writer's lock instead of failing, and a busy step is retried until then. The copy's file
    names go to ``pin`` at once."""
    source = _sqlite_path()
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
            pin(sorted({row[0] for row in dst.execute(_names_query(columns))}))
            migrations = [
                list(r) for r in dst.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            ]
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {source}: {exc}") from exc
    return migrations, f"SQLite {sqlite3.sqlite_version}"


def _sqlite_is_empty() -> bool:
    path = _sqlite_path()
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


def _sqlite_restore(copy: Path) -> None:
    """Write the archived database over the configured file with the backup API (the target's
    journal, WAL or not, stays coherent)."""
    connections.close_all()
    target = _sqlite_path()
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


# --- backup ------------------------------------------------------------------------------------


class _HashingReader:
    """A file read by ``tarfile.addfile`` and hashed on the way."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.digest, self.size = f, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.f.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> dict[str, Any]:
    """Add ``path`` to ``tar`` as ``arcname``; its size and SHA-256."""
    with path.open("rb") as f:
        info = tar.gettarinfo(arcname=arcname, fileobj=f)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    if reader.size != info.size:
        raise BackupError(f"{path} changed size while it was copied")
    return {"size": info.size, "sha256": reader.digest.hexdigest()}


def _clock_ns() -> int:
    """Now, on the clock the kernel stamps files' mtime with (coarse: a file written after this
    call never gets an earlier mtime)."""
    coarse = getattr(time, "CLOCK_REALTIME_COARSE", None)
    return time.clock_gettime_ns(coarse) if coarse is not None else time.time_ns()


def _add_bytes(tar: tarfile.TarFile, data: bytes, arcname: str) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


class _Vanished(Exception):
    def __init__(self, names: list[str]) -> None:
        self.names = names


class _Pinned:
    """The files a snapshot names, held the moment their names are read: hard links in a
    temporary folder inside MEDIA_ROOT (a copy where links cannot be made; the folder beside the
    archive if MEDIA_ROOT is read-only to this user), so that a file removed
    afterwards is still archived with the snapshot's bytes. A file already gone, or written at or
    after ``before_ns`` (its name reused after the snapshot began), goes to ``missing``."""

    def __init__(self, root: Path, spare: Path) -> None:
        self.root, self.spare = root, spare
        self.before_ns = 0
        self.folder: Path | None = None
        self.files: list[tuple[PurePosixPath, Path]] = []
        self.missing: list[str] = []

    def begin(self) -> None:
        """Called just before the snapshot is taken."""
        self.before_ns = _clock_ns()

    def __call__(self, names: list[str]) -> None:
        if names and self.root.is_dir():
            try:
                self.folder = Path(tempfile.mkdtemp(prefix=".backup-", dir=self.root))
            except OSError:  # a media folder this user may not write to: copies in ``spare``
                self.folder = Path(tempfile.mkdtemp(prefix=".media-", dir=self.spare))
        for i, name in enumerate(names):
            rel = _safe_relative(name)
            held = self.folder / str(i) if self.folder else None
            if rel is None or held is None or not self._hold(self.root / rel, held):
                self.missing.append(name)
            else:
                self.files.append((rel, held))

    def _hold(self, source: Path, held: Path) -> bool:
        try:
            try:
                os.link(source, held)
            except FileNotFoundError:
                raise
            except OSError:  # another filesystem below MEDIA_ROOT, or no hard links
                shutil.copy2(source, held)
            if held.stat().st_mtime_ns < self.before_ns:
                return True
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass
        held.unlink(missing_ok=True)
        return False

    def close(self) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _write_archive(
    out: Path, *, compress: bool, wait: float, allow_missing: bool
) -> tuple[dict[str, Any], int]:
    kind = database_kind()
    columns = file_columns()
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    with tempfile.TemporaryDirectory(prefix=".gridmap-backup-", dir=out.parent) as tmp:
        pinned = _Pinned(media_root(), Path(tmp))
        try:
            dump = Path(tmp) / Path(DATABASE_FILES[kind]).name
            if kind == "postgis":
                migrations, server = _pg_snapshot_dump(dump, columns, pinned)
            else:
                migrations, server = _sqlite_snapshot(dump, columns, pinned, wait)
            if pinned.missing and not allow_missing:
                raise _Vanished(pinned.missing)
            media, media_bytes = [], 0
            with tarfile.open(out, "w:gz" if compress else "w", format=tarfile.PAX_FORMAT) as tar:
                database = _add_file(tar, dump, DATABASE_FILES[kind])
                for rel, held in pinned.files:
                    entry = _add_file(tar, held, f"media/{rel}")
                    media.append({"path": str(rel), **entry})
                    media_bytes += entry["size"]
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created": created,
                    "app_version": app_version(),
                    "database": {"kind": kind, "server": server, "file": DATABASE_FILES[kind], **database},
                    "migrations": migrations,
                    "media": media,
                    "missing": pinned.missing,
                }
                _add_bytes(tar, json.dumps(manifest, ensure_ascii=False, indent=1).encode(), MANIFEST)
        finally:
            pinned.close()
    return manifest, media_bytes


def backup_create(out: Path, *, compress: bool = True, wait: float = 120.0) -> BackupResult:
    """Write a backup archive of the database and its media files at ``out``.

    The caller writes to a temporary name and renames (``cli.atomic_write``): a half-written
    archive never carries the final name. Failing to write it (a full disk) is an OSError."""
    start = time.monotonic()
    out = Path(out)
    if not out.parent.is_dir():
        raise BackupError(f"cannot write {out}: no folder {out.parent}")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            manifest, media_bytes = _write_archive(
                out, compress=compress, wait=wait, allow_missing=attempt == ATTEMPTS
            )
        except _Vanished:
            continue  # a named file was removed after the snapshot: take a new one
        return BackupResult(
            kind=manifest["database"]["kind"],
            database_bytes=manifest["database"]["size"],
            media_files=len(manifest["media"]),
            media_bytes=media_bytes,
            migrations=len(manifest["migrations"]),
            missing=manifest["missing"],
            attempts=attempt,
            seconds=time.monotonic() - start,
        )
    raise AssertionError("unreachable")


# --- restore -----------------------------------------------------------------------------------


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"no archive at {path}")
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path} is not a tar archive (plain or gzip): {str(exc).splitlines()[0]}") from exc


def _read_manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        data = tar.extractfile(member)
        manifest = json.loads(data.read() if data else b"")
    except KeyError:
        raise BackupError(f"{path} is not a gridmap backup: it has no {MANIFEST}") from None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{path}: the manifest cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a gridmap backup (its manifest is of another format)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format {manifest.get('format_version')!r} is not supported here")
    if not _well_formed(manifest):
        raise BackupError(f"{path}: the manifest is incomplete or malformed")
    return manifest


def _well_formed(manifest: dict[str, Any]) -> bool:
    def entry(e: Any) -> bool:  # a file's size and SHA-256
        if not isinstance(e, dict):
            return False
        size, sha = e.get("size"), e.get("sha256")
        return (
            isinstance(size, int)
            and size >= 0
            and isinstance(sha, str)
            and bool(re.fullmatch("[0-9a-f]{64}", sha))
        )

    db, media, migrations = (manifest.get(k) for k in ("database", "media", "migrations"))
    return (
        entry(db)
        and isinstance(db.get("kind"), str)
        and db["kind"] in DATABASE_FILES
        and db.get("file") == DATABASE_FILES[db["kind"]]
        and isinstance(media, list)
        and all(entry(m) and isinstance(m.get("path"), str) and _safe_relative(m["path"]) for m in media)
        and isinstance(migrations, list)
        and all(
            isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m) for m in migrations
        )
    )


def _expected(manifest: dict[str, Any]) -> dict[str, tuple[int, str]]:
    db = manifest["database"]
    files = {db["file"]: (int(db["size"]), str(db["sha256"]))}
    for m in manifest["media"]:
        files[f"media/{m['path']}"] = (int(m["size"]), str(m["sha256"]))
    return files


def _extract_verified(tar: tarfile.TarFile, path: Path, manifest: dict[str, Any], into: Path) -> None:
    """Extract every file the manifest lists into ``into``, checking its size and SHA-256;
    refuse members it does not list, links, devices and names leaving the folder."""
    expected = _expected(manifest)
    seen: set[str] = set()
    try:
        for member in tar:
            if member.name == MANIFEST or (member.isdir() and _safe_relative(member.name)):
                continue
            if member.name not in expected or member.name in seen or not member.isfile():
                raise BackupError(f"{path}: {member.name!r} is not a file its manifest lists")
            size, sha = expected[member.name]
            target = into / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            digest, written = hashlib.sha256(), 0
            with target.open("wb") as out:
                while source and (chunk := source.read(CHUNK)):
                    digest.update(chunk)
                    written += len(chunk)
                    out.write(chunk)
            if written != size or digest.hexdigest() != sha:
                raise BackupError(
                    f"{path}: {member.name} does not match its checksum (the archive is damaged)"
                )
            seen.add(member.name)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is damaged: {exc}") from exc
    absent = sorted(set(expected) - seen)
    if absent:
        raise BackupError(f"{path}: {len(absent)} listed file(s) are not in the archive, e.g. {absent[0]}")


def _media_files(root: Path) -> Iterable[Path]:
    return (p for p in root.rglob("*") if p.is_file()) if root.is_dir() else ()


def _target_is_empty(kind: str, root: Path) -> None:
    try:
        empty = _pg_is_empty() if kind == "postgis" else _sqlite_is_empty()
    except DatabaseError as exc:
        raise BackupError(f"cannot read the target database: {str(exc).strip().splitlines()[0]}") from exc
    if not empty:
        raise BackupError("the target database is not empty: restore into an empty one, or use --force")
    if next(iter(_media_files(root)), None) is not None:
        raise BackupError(f"{root} already holds files: restore into an empty folder, or use --force")


def _code_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _applied_migrations() -> set[tuple[str, str]]:
    connections.close_all()
    with connection.cursor() as cur:
        cur.execute("SELECT app, name FROM django_migrations")
        return {(a, n) for a, n in cur.fetchall()}


def backup_restore(
    path: Path, *, force: bool = False, check_only: bool = False, say: Callable[[str], None] = lambda s: None
) -> RestoreResult:
    """Restore the archive at ``path`` into the configured database and MEDIA_ROOT.

    Before anything is written: the archive is read whole and every file checked against its
    manifest's size and SHA-256, its database kind must be the configured one, its migrations must
    all be known to this code, and the database must be empty and MEDIA_ROOT hold no file (unless
    ``force``). Then the database is restored (PostgreSQL: ``pg_restore`` in one transaction;
    SQLite: the backup API) and the media files moved into place. ``check_only``: verify only."""
    start = time.monotonic()
    path = Path(path)
    kind = database_kind()
    root = media_root()
    with _open_archive(path) as tar:
        manifest = _read_manifest(tar, path)
        archived = manifest["database"]["kind"]
        if archived != kind:
            raise BackupError(
                f"{path} holds a {archived} database and DATABASE_URL points to {kind}: "
                "restoring across database kinds is not supported"
            )
        unknown = {tuple(m) for m in manifest["migrations"]} - _code_migrations()
        if unknown:
            first = ".".join(sorted(unknown)[0])
            raise BackupError(
                f"{path} was made by a newer gridmap ({manifest.get('app_version')}): "
                f"{len(unknown)} migration(s) unknown here, e.g. {first}"
            )
        if not (force or check_only):
            _target_is_empty(kind, root)
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.restore-", dir=root.parent))
        try:
            _extract_verified(tar, path, manifest, staging)
            say(f"verified {path}: the database and {len(manifest['media'])} media files match the manifest")
            if check_only:
                return _restore_result(manifest, [], start)
            database = staging / manifest["database"]["file"]
            try:
                if kind == "postgis":
                    _pg_restore(database, force=force)
                else:
                    _sqlite_restore(database)
            except DatabaseError as exc:
                raise BackupError(
                    f"cannot write the target database: {str(exc).strip().splitlines()[0]}"
                ) from exc
            for m in manifest["media"]:
                target = root / m["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / "media" / m["path"], target)
        except OSError as exc:
            raise BackupError(f"cannot restore: {exc.strerror or exc} ({exc.filename or root})") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    applied = _applied_migrations()
    archived_migrations = {tuple(m) for m in manifest["migrations"]}
    if applied != archived_migrations:
        raise BackupError("the restored database's migrations differ from the archive's manifest")
    pending = sorted(".".join(m) for m in _code_migrations() - applied)
    return _restore_result(manifest, pending, start)


def _restore_result(manifest: dict[str, Any], pending: list[str], start: float) -> RestoreResult:
    return RestoreResult(
        kind=manifest["database"]["kind"],
        created=str(manifest.get("created")),
        app_version=str(manifest.get("app_version")),
        database_bytes=int(manifest["database"]["size"]),
        media_files=len(manifest["media"]),
        media_bytes=sum(int(m["size"]) for m in manifest["media"]),
        migrations=len(manifest["migrations"]),
        pending=pending,
        seconds=time.monotonic() - start,
    )
