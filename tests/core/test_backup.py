"""manage.py backup / restore (gridmap/core/backup/), on the database kind the suite runs on.

A service of its own (a SpatiaLite file, or a PostGIS database created on the suite's server) is
migrated and given a reporter; a writer process keeps reporting problems with photos through the
API (tests/core/backup_load.py) while ``manage.py backup`` runs in another process. The archive is
restored into a fresh database and a fresh media folder, and the restored service must answer
every report acknowledged before the backup began, with each photo's bytes; every stored file
row must have its file, as archived. A damaged archive is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core import backup
from gridmap.core.backup import databases

ROOT = Path(__file__).resolve().parents[2]
KIND = "postgis" if settings.DATABASES["default"]["ENGINE"].endswith("postgis") else "spatialite"
BEFORE_BACKUP = 20  # acknowledged reports before the backup starts


# --- databases and processes of our own ---------------------------------------------------------


def _pg_admin(*statements: str) -> None:
    import psycopg2

    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None,
    )  # fmt: skip
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def _pg_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgis://{auth}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{name}"


class Service:
    """A database and a media folder of our own, and gridmap processes run against them."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, f"gridmap_backup_{name}_{os.getpid()}"
        self.media = folder / f"{name}-media"
        if KIND == "postgis":
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'CREATE DATABASE "{self.name}"')
            self.url = _pg_url(self.name)
        else:
            self.path = folder / f"{name}.sqlite3"
            self.url = f"spatialite:///{self.path}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": self.url,
            "GRIDMAP_MEDIA_ROOT": str(self.media),
            "GRIDMAP_DATA_DIR": str(self.folder),
            "ALLOWED_HOSTS": "testserver",
            "PYTHONPATH": str(ROOT),
            **extra,
        }

    def run(self, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert done.returncode == 0, done.stderr[-3000:]
        return done

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env())

    def tables(self) -> int:
        """How many tables the database holds (0: nothing was written to it)."""
        if KIND == "postgis":
            import psycopg2

            with (
                psycopg2.connect(self.url.replace("postgis://", "postgresql://")) as conn,
                conn.cursor() as cur,
            ):
                cur.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'"
                )
                return cur.fetchone()[0]
        import sqlite3

        if not self.path.exists():
            return 0
        db = sqlite3.connect(self.path)
        try:
            return db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            db.close()

    def media_files(self) -> list[Path]:
        return sorted(p for p in self.media.rglob("*") if p.is_file()) if self.media.exists() else []

    def drop(self) -> None:
        if KIND == "postgis":
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _acks(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Made:
    """What the module's backup produced: the source service, the archive, what was acknowledged."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backup")
    source = Service(folder, "src")
    services = [source]
    try:
        source.run("manage.py", "migrate", "-v0")
        source.run("-m", "tests.core.backup_load", "setup")
        ack, stop = folder / "ack.txt", folder / "stop"
        writer = source.popen("-m", "tests.core.backup_load", "write", str(ack), str(stop))
        try:
            _wait_for(lambda: sum(a[0] == "report" for a in _acks(ack)) >= BEFORE_BACKUP, "reports")
            before = _acks(ack)  # acknowledged before the backup began
            archive = folder / "gridmap.tar.gz"
            done = source.run("manage.py", "backup", str(archive))
            during = len(_acks(ack)) - len(before)
            # the service keeps taking reports after the backup, too
            _wait_for(lambda: len(_acks(ack)) > len(before) + during + 5, "reports after the backup")
        finally:
            stop.touch()
            assert writer.wait(timeout=120) == 0
        yield Made(folder=folder, source=source, archive=archive, before=before, acks=_acks(ack),
                   during=during, output=done.stdout + done.stderr, services=services)  # fmt: skip
    finally:
        for s in services:
            s.drop()
        if OUTCOMES:  # the figures of the property test, shown with -s
            print(f"\nhostile manifests: {dict(OUTCOMES)}")


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


# --- the round trip --------------------------------------------------------------------------------


def test_a_backup_taken_during_intake_restores_every_acknowledged_report_and_photo(made):
    errors = [a for a in made.acks if a[0] == "status" and int(a[1]) >= 500]
    assert not errors, errors  # the backup failed no write
    assert f"database: {KIND}" in made.output and "wrote " in made.output
    manifest = _manifest(made.archive)
    assert manifest["database"]["kind"] == KIND
    assert ["problems", "0001_initial"] in manifest["migrations"]

    target = Service(made.folder, "dst")
    made.services.append(target)
    done = target.run("manage.py", "restore", str(made.archive))
    assert "migrations: the database matches this code" in done.stdout, done.stdout

    reports = sorted({int(a[1]) for a in made.before if a[0] == "report"})
    photos = {(int(a[1]), int(a[2])) for a in made.before if a[0] == "photo"}
    ids = made.folder / "ids.txt"
    ids.write_text("\n".join(map(str, reports)))
    answer = json.loads(target.run("-m", "tests.core.backup_load", "check", str(ids)).stdout)

    # every report acknowledged before the backup began answers, with each of its photos
    assert {int(pk): p["status"] for pk, p in answer["problems"].items()} == dict.fromkeys(reports, 200)
    served = {url: got for p in answer["problems"].values() for url, got in p["photos"].items()}
    assert len(photos) >= BEFORE_BACKUP - 1
    stored = {row[1]: row[2] for row in answer["files"]}  # name → SHA-256 of the restored file
    names = {row[0]: row[1] for row in answer["photos"]}  # photo id → name
    for pk, photo in photos:
        status, sha = served[f"/api/v1/problems/{pk}/photos/{photo}/"]
        source_bytes = (made.source.media / names[photo]).read_bytes()  # problem photos are never removed
        assert status == 200 and sha == hashlib.sha256(source_bytes).hexdigest() == stored[names[photo]]

    # every file a restored row names is there, with the bytes archived (the site's photo too)
    archived = {m["path"]: m["sha256"] for m in manifest["media"]}
    assert {label for label, _, _ in answer["files"]} == {"problems.ProblemPhoto", "problems.PositiveSite"}
    assert manifest["missing"] == [], made.output
    assert {name: sha for _, name, sha in answer["files"]} == archived
    assert sorted(str(p.relative_to(target.media)) for p in target.media_files()) == sorted(archived)

    # a second restore over it is refused; with --force it replaces what is there
    again = target.run("manage.py", "restore", str(made.archive), check=False)
    assert again.returncode == 1 and "not empty" in again.stderr and "Traceback" not in again.stderr
    forced = target.run("manage.py", "restore", "--force", str(made.archive))
    assert "migrations: the database matches this code" in forced.stdout
    assert sorted(str(p.relative_to(target.media)) for p in target.media_files()) == sorted(archived)
    print(
        f"\nbackup under intake: {len(reports)} reports and {len(photos)} photos acknowledged before it began, "
        f"{made.during} writes acknowledged while the command ran; {made.output.strip().splitlines()[0]}"
    )


def _tampered(archive: Path, out: Path) -> str:
    """``archive`` as a plain tar whose first media file has one byte changed (same size, same
    manifest): only the checksum can tell."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        victim = None
        for member in src:
            data = src.extractfile(member).read()
            if victim is None and member.name.startswith("media/") and data:
                victim, data = member.name, bytes([data[0] ^ 0xFF]) + data[1:]
            dst.addfile(member, io.BytesIO(data))
    return victim


def test_a_damaged_archive_is_refused_before_anything_is_written(made):
    tampered = made.folder / "tampered.tar"
    victim = _tampered(made.archive, tampered)
    target = Service(made.folder, "damaged")
    made.services.append(target)
    done = target.run("manage.py", "restore", str(tampered), check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == f"CommandError: {tampered}: {victim} does not match its checksum (the archive is damaged)"
    )
    assert target.tables() == 0 and target.media_files() == []
    assert not list(made.folder.glob(".damaged-media.restore-*"))  # its staging folder is gone


@pytest.mark.parametrize("damage", ["truncated", "not a tar", "no manifest", "extra member"])
def test_unreadable_archives_are_refused_with_one_line(made, tmp_path, settings, damage):
    settings.MEDIA_ROOT = tmp_path / "media"
    bad = tmp_path / "bad.tar.gz"
    data = made.archive.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "not a tar":
        bad.write_bytes(b"<html>not an archive</html>")
    else:
        with tarfile.open(made.archive) as src, tarfile.open(bad, "w:gz") as dst:
            for member in src:
                if not (damage == "no manifest" and member.name == "manifest.json"):
                    dst.addfile(member, src.extractfile(member))
            if damage == "extra member":
                extra = tarfile.TarInfo("media/../../evil.txt")
                extra.size = 4
                dst.addfile(extra, io.BytesIO(b"evil"))
    with pytest.raises(backup.BackupError) as refused:
        backup.backup_restore(bad, check_only=True)
    assert "\n" not in str(refused.value) and str(bad) in str(refused.value)
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))
    assert not (tmp_path.parent / "evil.txt").exists()


def test_an_archive_of_the_other_kind_or_a_newer_gridmap_is_refused(made, tmp_path, monkeypatch):
    other = (
        "django.contrib.gis.db.backends.spatialite"
        if KIND == "postgis"
        else "django.contrib.gis.db.backends.postgis"
    )
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", other)
    with pytest.raises(backup.BackupError, match="restoring across database kinds is not supported"):
        backup.backup_restore(made.archive)
    monkeypatch.undo()

    newer = tmp_path / "newer.tar"
    with tarfile.open(made.archive) as src, tarfile.open(newer, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["migrations"].append(["problems", "9999_from_the_future"])
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(
        backup.BackupError, match=r"made by a newer gridmap .* problems\.9999_from_the_future"
    ):
        backup.backup_restore(newer)


@pytest.mark.django_db
@pytest.mark.skipif(KIND != "postgis", reason="pg_dump is PostGIS's")
def test_a_missing_pg_dump_is_named_with_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(databases, "PG_LIB", tmp_path / "none")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        CommandError, match=r"pg_dump for PostgreSQL \d+ not found .*install postgresql-client-\d+"
    ):
        call_command("backup", str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # no archive, no temporary file


def test_a_sqlite_backup_waits_for_a_writer_instead_of_failing(tmp_path, monkeypatch):
    """The finding: SQLite's ``.backup`` during intake failed at once ("database is locked").
    Here a writer holds the database's write lock when the backup starts; the backup waits, and
    its copy holds what the writer committed once it let go."""
    import sqlite3
    import threading

    source = tmp_path / "busy.sqlite3"
    db = sqlite3.connect(source, check_same_thread=False, isolation_level=None)
    db.execute("CREATE TABLE django_migrations (app TEXT, name TEXT)")
    db.execute("INSERT INTO django_migrations VALUES ('problems', '0001_initial')")
    db.execute("CREATE TABLE photos (image TEXT)")
    db.execute("BEGIN EXCLUSIVE")  # readers are shut out until COMMIT (rollback journal)
    db.execute("INSERT INTO photos VALUES ('problems/1/a.jpg')")

    busy = threading.Event()
    clock = time.monotonic

    def monotonic() -> float:  # called by the backup's progress only when a step was busy
        if threading.current_thread() is not threading.main_thread() or busy.is_set():
            return clock()
        busy.set()
        db.execute("COMMIT")
        return clock()

    monkeypatch.setattr(databases, "sqlite_path", lambda: source)
    calls = iter([clock()])  # the first call sets the deadline
    monkeypatch.setattr(databases.time, "monotonic", lambda: next(calls, None) or monotonic())

    class Names(list):  # what the snapshot names (the backup's _Pinned, without the files)
        def begin(self) -> None:
            pass

        def __call__(self, names: list[str]) -> None:
            self.extend(names)

    names = Names()
    migrations, _ = databases.sqlite_snapshot(tmp_path / "copy.sqlite3", [("photos", "image")], names, 60)
    db.close()
    assert busy.is_set()  # the backup met the lock, waited, and went on
    assert names == ["problems/1/a.jpg"] and migrations == [["problems", "0001_initial"]]


def test_a_full_disk_is_told_in_one_line_and_leaves_no_file(made, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("a small tmpfs cannot be mounted here (needs root)")
    try:
        done = made.source.run("manage.py", "backup", str(full), check=False)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert re.fullmatch(
            r"CommandError: (cannot write|cannot back up|pg_dump failed)[^\n]*"
            r"(No space left on device|database or disk is full)\n",
            done.stderr,
        ), done.stderr
        assert list(full.iterdir()) == []  # no archive, no temporary file
    finally:
        subprocess.run(["umount", str(full)], check=True)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
OUTCOMES: Counter = Counter()


def _with_manifest(members: dict[str, bytes], manifest: bytes, out: Path) -> None:
    with tarfile.open(out, "w") as tar:
        for name, data in [*members.items(), ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@given(data=st.data())
def test_hostile_manifests_are_refused_in_one_line_and_write_nothing(made, data):
    """Property: whatever manifest.json says (any JSON, or the real one with any field replaced
    by any JSON), restore --check ends in a one-line refusal or a clean verification, never
    another exception, and writes nothing into the media folder."""
    with tarfile.open(made.archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.name != "manifest.json"}
    real = _manifest(made.archive)
    if data.draw(st.booleans(), label="whole"):
        manifest = data.draw(JSON, label="manifest")
    else:
        manifest = json.loads(json.dumps(real))
        where = data.draw(st.sampled_from(["format", "format_version", "database", "media", "migrations",
                                           "database.kind", "database.file", "database.size", "database.sha256",
                                           "media.0.path", "media.0.size", "media.0.sha256", "migrations.0", "created",
                                           "app_version", "missing"]))  # fmt: skip
        *parents, key = where.split(".")
        target = manifest
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(key) if isinstance(target, list) else key] = data.draw(JSON, label=where)
    with tempfile.TemporaryDirectory() as tmp, override_settings(MEDIA_ROOT=Path(tmp) / "media"):
        archive = Path(tmp) / "hostile.tar"
        _with_manifest(members, json.dumps(manifest).encode(), archive)
        try:
            backup.backup_restore(archive, check_only=True)
            OUTCOMES["verified"] += 1
        except backup.BackupError as refused:
            assert "\n" not in str(refused)
            OUTCOMES["refused"] += 1
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["hostile.tar"]  # no media, no staging
