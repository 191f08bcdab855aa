"""What an import says and how it exits, run as the real command in a subprocess on a real file.

Exit codes (README, "Importing real data"): 0 every row accepted; 1 nothing written (refused by
--strict, stopped by Ctrl-C, or the file cannot be read); 3 some rows rejected (with --commit,
every other row was written). A refused or stopped --commit never says "dry run", and counts
it did not write are "would create", never "create".
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from gridmap.facilities.models import Facility
from tests.factories import LAT0, LON0

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def command_db(transactional_db, catalogues, tmp_path):
    """A database the command's own process can use, holding what this test committed, and a
    count of the facilities in it afterwards."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":  # the test database is in memory: copy it to a file
        path = tmp_path / "command.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        url = f"spatialite:///{path}"

        def count() -> int:
            with sqlite3.connect(path) as db:
                return db.execute("SELECT count(*) FROM facilities_facility").fetchone()[0]
    else:
        url = f"postgis://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"

        def count() -> int:
            return Facility.objects.count()

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONUNBUFFERED": "1",
    }
    return env, count


def hydrant_csv(path: Path, good: int, bad: int = 0) -> Path:
    rows = ["id,lon,lat"]
    rows += [f"h{i},{LON0 + (i % 500) * 1e-5:.6f},{LAT0 + (i // 500) * 1e-5:.6f}" for i in range(good)]
    rows += [f"bad{i},200,{LAT0}" for i in range(bad)]  # longitude out of range: rejected rows
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def import_layer(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "import_layer", "facilities", *args, "--kind", "hydrant"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_commit_refused_by_strict_says_so_and_exits_1(command_db, tmp_path):
    env, count = command_db
    done = import_layer(env, str(hydrant_csv(tmp_path / "h.csv", 300, bad=2)), "--commit", "--strict")
    assert done.returncode == 1, done.stderr
    assert "refused by --strict (2 rows rejected); nothing written" in done.stdout
    assert "dry run" not in done.stdout and "would create 300" in done.stdout
    assert count() == 0


def test_a_commit_with_rejected_rows_writes_the_rest_and_exits_3(command_db, tmp_path):
    env, count = command_db
    done = import_layer(env, str(hydrant_csv(tmp_path / "h.csv", 300, bad=2)), "--commit")
    assert done.returncode == 3, done.stderr
    assert "import committed; 2 rejected rows were not written" in done.stdout
    assert "created 300" in done.stdout and "2 rows rejected (the other rows were written)" in done.stderr
    assert count() == 300


def test_ctrl_c_in_the_middle_of_a_commit_writes_nothing_and_says_stopped(command_db, tmp_path):
    env, count = command_db
    path = hydrant_csv(tmp_path / "big.csv", 50_000)
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_layer",
            "facilities",
            str(path),
            "--kind",
            "hydrant",
            "--commit",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()  # printed once the file is read, before its 50,000 rows are planned
    assert first.startswith("read big.csv"), first + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, (out, err)
    assert "import stopped (interrupted) before the end; nothing written" in out
    assert "dry run" not in out and "committed" not in out and "create 50000" not in out
    assert "Traceback" not in err and "stopped (interrupted); nothing written" in err
    assert count() == 0


@pytest.mark.django_db
def test_a_clean_dry_run_and_commit_exit_0(tmp_path, catalogues):
    from io import StringIO

    from django.core.management import call_command

    path = hydrant_csv(tmp_path / "h.csv", 3)
    out = StringIO()
    call_command(
        "import_layer", "facilities", str(path), "--kind", "hydrant", stdout=out
    )  # no CommandError: 0
    assert "dry run (nothing written; add --commit)" in out.getvalue() and "would create 3" in out.getvalue()
    out = StringIO()
    call_command("import_layer", "facilities", str(path), "--kind", "hydrant", "--commit", stdout=out)
    assert "import committed\n" in out.getvalue() and "created 3" in out.getvalue()
    assert Facility.objects.count() == 3


@pytest.mark.django_db
def test_ctrl_c_after_rows_were_written_inside_the_commit_rolls_them_back(tmp_path, catalogues, monkeypatch):
    """Ctrl-C at the worst moment, once the rows are in the (open) transaction: all undone."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    from gridmap.imports import save

    real = save._save

    def save_then_interrupt(*args, **kwargs):
        real(*args, **kwargs)
        assert Facility.objects.count() == 5  # written, not yet committed
        raise KeyboardInterrupt

    monkeypatch.setattr(save, "_save", save_then_interrupt)
    out = StringIO()
    with pytest.raises(CommandError, match="stopped") as caught:
        call_command("import_layer", "facilities", str(hydrant_csv(tmp_path / "h.csv", 5)), "--kind", "hydrant",
                     "--commit", stdout=out)  # fmt: skip
    assert caught.value.returncode == 1
    assert "import stopped (interrupted) before the end; nothing written" in out.getvalue()
    assert "would create 5" in out.getvalue() and "committed" not in out.getvalue()
    assert Facility.objects.count() == 0


@pytest.mark.django_db
def test_rows_outside_the_service_area_are_rejected_as_at_every_other_door(tmp_path, catalogues, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.GRIDMAP = {
        **settings.GRIDMAP,
        "SERVICE_AREA": f"{LON0 - 0.01},{LAT0 - 0.01},{LON0 + 0.01},{LAT0 + 0.01}",
    }
    path = tmp_path / "h.csv"
    path.write_text(f"id,lon,lat\na,{LON0},{LAT0}\nb,{LON0 + 1},{LAT0}\nc,{LAT0},{LON0}\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_layer", "facilities", str(path), "--kind", "hydrant", "--commit", stdout=out)
    assert caught.value.returncode == 3
    assert "row 2: position is outside the service area" in out.getvalue()
    assert "row 3: latitude 120.87 is outside -90..90" in out.getvalue()
    assert Facility.objects.count() == 1
