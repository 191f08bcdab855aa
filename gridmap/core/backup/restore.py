"""Restoring an archive: every checksum, the kind, the migrations and the target checked before
anything is written; then the database and the media files put back."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, connections

from gridmap.core.backup.common import (
    CHUNK,
    DATABASE_FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    RestoreResult,
    database_kind,
    media_root,
    safe_relative,
)
from gridmap.core.backup.databases import pg_is_empty, pg_restore, sqlite_is_empty, sqlite_restore

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
        and all(entry(m) and isinstance(m.get("path"), str) and safe_relative(m["path"]) for m in media)
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
            if member.name == MANIFEST or (member.isdir() and safe_relative(member.name)):
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
        empty = pg_is_empty() if kind == "postgis" else sqlite_is_empty()
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
                    pg_restore(database, force=force)
                else:
                    sqlite_restore(database)
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
