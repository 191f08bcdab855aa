"""What every part of backup and restore shares: the archive's names, the errors and
results, and where files are stored (file fields of every model, the media folder)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.db import connection
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


def names_query(columns: list[tuple[str, str]]) -> str:
    q = connection.ops.quote_name
    parts = [f"SELECT {q(c)} FROM {q(t)} WHERE {q(c)} IS NOT NULL AND {q(c)} <> ''" for t, c in columns]
    return " UNION ".join(parts) or "SELECT NULL LIMIT 0"


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def safe_relative(name: str) -> PurePosixPath | None:
    """``name`` as a relative path that stays inside its folder, or None."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name:
        return None
    return path
