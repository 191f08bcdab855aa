"""``manage.py check --deploy`` is clean with the documented production settings
(deploy/gridmap.env.example, the README's security table), and warns when the cache that the
login limits count in is per process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / "deploy" / "gridmap.env.example"


def documented_env(tmp_path: Path) -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _sep, value = line.partition("=")
            values[name.strip()] = value.strip()
    values["SECRET_KEY"] = values["SECRET_KEY"] or secrets.token_urlsafe(50)
    values["GRIDMAP_MEDIA_ROOT"] = str(tmp_path / "media")
    values["GRIDMAP_DATA_DIR"] = str(tmp_path)
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRIDMAP_", "DJANGO_", "SECURE_", "DATABASE_"))
    }
    return {**keep, **values, "DJANGO_SETTINGS_MODULE": "gridmap.settings"}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = check_deploy(documented_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_names_what_is_missing(tmp_path):
    missing = {
        "GRIDMAP_CACHE_URL": "",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
    }
    result = check_deploy({**documented_env(tmp_path), **missing})
    said = result.stdout + result.stderr
    assert result.returncode != 0
    # login limits counted per process; no HSTS; no redirect to https; cookies sent over http
    for warning in ("gridmap.W101", "security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in said, said
