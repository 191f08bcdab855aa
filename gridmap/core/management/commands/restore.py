"""manage.py restore: put an archive of manage.py backup back (``core.backup``)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from gridmap.core.backup import BackupError, backup_restore
from gridmap.core.management.cli import DocumentedCommand, NoWebCommand
from gridmap.core.management.commands.backup import size


class Command(DocumentedCommand, NoWebCommand):
    help = """Restore an archive written by manage.py backup into the configured database and
MEDIA_ROOT. Stop the service first.

Before anything is written the whole archive is read and every file checked against its
manifest (size and SHA-256); an archive of the other database kind (PostGIS / SpatiaLite), one
made by a newer gridmap (unknown migrations) or a damaged one is refused. The database must be
empty and MEDIA_ROOT hold no file, unless --force. PostGIS: pg_restore in one transaction into
the database of DATABASE_URL (create it first; --force drops its schema public). SpatiaLite: the
file of DATABASE_URL is written with SQLite's backup API.

  manage.py restore gridmap-backup-20260101T020000Z.tar.gz
  manage.py restore nightly.tar.gz --check     verify the archive only
"""

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the archive to restore")
        parser.add_argument(
            "--force", action="store_true", help="overwrite a non-empty database and media folder"
        )
        parser.add_argument("--check", action="store_true", help="verify the archive, write nothing")

    def handle(self, *args, **opts):
        try:
            done = backup_restore(
                Path(opts["archive"]), force=opts["force"], check_only=opts["check"], say=self.stdout.write
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        what = f"{done.kind} database of {done.created} (gridmap {done.app_version})"
        if opts["check"]:
            self.stdout.write(
                f"the archive holds a {what} and {done.media_files} media files; nothing written"
            )
            return
        self.stdout.write(f"database: restored the {what}, {size(done.database_bytes)}, "
                          f"{done.migrations} migrations applied")  # fmt: skip
        self.stdout.write(f"media: {done.media_files} files, {size(done.media_bytes)}")
        if done.pending:
            self.stdout.write(
                f"{len(done.pending)} migrations of this code are not applied: run manage.py migrate"
            )
        else:
            self.stdout.write("migrations: the database matches this code")
        self.stdout.write(f"restored in {done.seconds:.1f} s")
