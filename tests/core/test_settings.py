"""Settings come from the environment: checked in a fresh interpreter for each case."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "d = settings.DATABASES['default']; "
    "print(json.dumps([d['ENGINE'], str(d['NAME']), settings.DEBUG, settings.LANGUAGE_CODE, settings.TIME_ZONE]))"
)


def probe(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "gridmap.settings",
        "GRIDMAP_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_defaults_are_spatialite_under_the_data_folder_in_chinese(tmp_path):
    out = probe({"DEBUG": "1"}, tmp_path)
    assert out.returncode == 0, out.stderr
    assert '"django.contrib.gis.db.backends.spatialite"' in out.stdout
    assert str(tmp_path / "gridmap.sqlite3") in out.stdout and '"zh-hans", "Asia/Shanghai"' in out.stdout
    assert (tmp_path / ".secret_key").exists()  # generated for development


def test_postgis_url_and_a_required_secret_key(tmp_path):
    out = probe({"DATABASE_URL": "postgis://u:p@db.example:5433/town", "SECRET_KEY": "x" * 50}, tmp_path)
    assert out.returncode == 0 and '"django.contrib.gis.db.backends.postgis", "town", false' in out.stdout
    missing = probe({"DATABASE_URL": "postgis://u@h/db"}, tmp_path)
    assert missing.returncode != 0 and "SECRET_KEY must be set" in missing.stderr
    wrong = probe({"DATABASE_URL": "mysql://u@h/db", "SECRET_KEY": "x" * 50}, tmp_path)
    assert wrong.returncode != 0 and "spatialite:// or postgis://" in wrong.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["shell"], {}, "0"),  # commands: none unless set
        (["shell"], {"GRIDMAP_DB_COMMAND_STATEMENT_TIMEOUT": "600"}, "10min"),
        (["shell"], {"GRIDMAP_DB_STATEMENT_TIMEOUT": "20"}, "0"),  # the web's value is not taken
    ],
)
def test_commands_take_their_own_statement_timeout(argv, env, expected):
    """A migration or an import may rightly run a statement longer than a web request may."""
    url = settings.DATABASES["default"]
    target = f"postgis://{url['USER']}@{url['HOST'] or '127.0.0.1'}:{url['PORT'] or 5432}/postgres"
    code = "from django.db import connection as c; k = c.cursor(); k.execute('SHOW statement_timeout'); print(k.fetchone()[0])"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_DB_")}
    out = subprocess.run(
        [sys.executable, "manage.py", *argv, "-c", code],
        env={**clean, "DATABASE_URL": target, "SECRET_KEY": "x", "DJANGO_SETTINGS_MODULE": "gridmap.settings", **env},
        capture_output=True, text=True, timeout=120, check=True, cwd=settings.BASE_DIR,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == expected, out.stderr[-2000:]


@pytest.mark.django_db
def test_postgis_connections_compile_no_jit():
    """A page's query with a high estimated cost (a correlated subquery over a city's cases) was
    JIT-compiled for 0.8 s to run for 30 ms: the connections turn JIT off."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
