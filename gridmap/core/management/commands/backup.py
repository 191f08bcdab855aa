"""manage.py backup: the database and its photos in one archive (``core.backup``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import CommandError

from gridmap.core.backup import BackupError, backup_create
from gridmap.core.management.cli import DocumentedCommand, NoWebCommand, atomic_write


def size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


class Command(DocumentedCommand, NoWebCommand):
    help = """Back up the database and the media folder (photos) into one archive.

The database is read at one instant (PostGIS: pg_dump -Fc in an exported snapshot, with the
client matching the server's major version; SpatiaLite: SQLite's online backup API with a busy
timeout), then every file that snapshot names is copied from MEDIA_ROOT. Intake may go on
meanwhile. manifest.json lists every file with its size and SHA-256, the database kind, the
applied migrations, the time and the gridmap version. Restore with manage.py restore.

  manage.py backup                          gridmap-backup-<UTC time>.tar.gz here
  manage.py backup /var/backups/gridmap/    the same name in that folder
  manage.py backup nightly.tar              an uncompressed tar (so is --no-gzip)
"""

    def add_arguments(self, parser):
        parser.add_argument("archive", nargs="?", help="file or folder to write (default: this folder)")
        parser.add_argument("--no-gzip", action="store_true", help="write a plain tar")
        parser.add_argument(
            "--wait", type=float, default=120.0,
            help="seconds to wait for a locked SQLite database (default 120)",
        )  # fmt: skip

    def handle(self, *args, **opts):
        suffix = ".tar" if opts["no_gzip"] else ".tar.gz"
        name = f"gridmap-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}{suffix}"
        target = Path(opts["archive"] or ".")
        if target.is_dir():
            target = target / name
        compress = not (opts["no_gzip"] or target.name.endswith(".tar"))
        if not target.parent.is_dir():
            raise CommandError(f"cannot write {target}: no folder {target.parent}")
        try:
            box = []
            atomic_write(target, lambda tmp: box.append(backup_create(tmp, compress=compress,
                                                                      wait=opts["wait"])))  # fmt: skip
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
        done = box[0]
        self.stdout.write(
            f"database: {done.kind}, {size(done.database_bytes)}, {done.migrations} migrations applied"
            + (
                f" (snapshot taken {done.attempts} times: a photo was replaced meanwhile)"
                if done.attempts > 1
                else ""
            )
        )
        self.stdout.write(f"media: {done.media_files} files, {size(done.media_bytes)}")
        for name in done.missing:
            self.stderr.write(
                f"warning: {name} is named in the database but not archived: missing from the media folder, "
                "or replaced during every attempt"
            )
        self.stdout.write(f"wrote {target.resolve()} ({size(target.stat().st_size)}) in {done.seconds:.1f} s")
