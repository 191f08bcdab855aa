"""Backup and restore: the database and the media folder (photos) in one archive.

An archive is a tar (gzip or not) holding ``manifest.json``, the database (``database/…``) and
the media files the database refers to (``media/<name under MEDIA_ROOT>``). The manifest lists
every file with its size and SHA-256, the database kind, the applied migrations, when it was made
and by which version of gridmap.

Consistency under load. The database is read at one instant first: PostgreSQL by ``pg_dump -Fc``
inside a snapshot this module exports (``pg_export_snapshot``) and also reads the file names in;
SQLite by its online backup API in one step (one read transaction, with a busy timeout, so intake
writing meanwhile neither fails the backup nor is failed by it). The files that snapshot names are
held at once (hard links, ``Pinned``), then archived. A file is written before the row naming it
is inserted (``FileField`` saves the file while the INSERT is compiled, inside the writer's
transaction), so every name the snapshot holds has its file; files added later are simply not in
this archive. Problem photos are written once under a new name and never removed
(``problems.models.photo_path``). A positive-list site's photo is removed once a replacement is
committed; its names are never used again either (``<site id>-<random>.<ext>``). As a safety net
for files changed by hand, a named file that is gone, or was written after the snapshot began (its
mtime), is not the snapshot's file, and the backup is taken again from a new snapshot (up to
ATTEMPTS times); what is still missing then is listed under ``missing`` in the manifest (and the
command warns).

Restore checks the whole archive (every checksum, the kind, the migrations) and the target before
it writes anything; it never restores across kinds (PostGIS ↔ SpatiaLite).
"""

from gridmap.core.backup.common import BackupError, BackupResult, RestoreResult
from gridmap.core.backup.create import backup_create
from gridmap.core.backup.restore import backup_restore

__all__ = ["BackupError", "BackupResult", "RestoreResult", "backup_create", "backup_restore"]
