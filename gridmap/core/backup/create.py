"""Writing an archive: the database snapshot first, then the files it names, pinned by hard
links, each with its SHA-256 in the manifest."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from gridmap.core.backup.common import (
    ATTEMPTS,
    DATABASE_FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    BackupResult,
    app_version,
    database_kind,
    file_columns,
    media_root,
    safe_relative,
)
from gridmap.core.backup.databases import pg_snapshot_dump, sqlite_snapshot

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


class Pinned:
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
            rel = safe_relative(name)
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
        pinned = Pinned(media_root(), Path(tmp))
        try:
            dump = Path(tmp) / Path(DATABASE_FILES[kind]).name
            if kind == "postgis":
                migrations, server = pg_snapshot_dump(dump, columns, pinned)
            else:
                migrations, server = sqlite_snapshot(dump, columns, pinned, wait)
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
