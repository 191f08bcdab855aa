"""The notification settings read from the environment: a gateway needs an http(s) URL and a
signing key, else the start stops with the reason; EMAIL_HOST turns email on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = "import json, gridmap.settings as s; print(json.dumps(s.GRIDMAP_NOTIFY))"


def settings_with(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDMAP_NOTIFY", "EMAIL_"))}
    return subprocess.run([sys.executable, "-c", READ], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**clean, "SECRET_KEY": "x", **env})  # fmt: skip


def test_defaults_keep_notifications_in_the_inbox():
    done = settings_with()
    assert done.returncode == 0, done.stderr
    notify = json.loads(done.stdout)
    assert notify["EMAIL"] is False and notify["WEBHOOK_URL"] == "" and notify["MAX_ATTEMPTS"] == 6


def test_a_gateway_and_a_mail_server_from_the_environment():
    done = settings_with(GRIDMAP_NOTIFY_WEBHOOK_URL="https://gw.intranet/hook", GRIDMAP_NOTIFY_WEBHOOK_SECRET="k",
                         GRIDMAP_NOTIFY_WEBHOOK_TIMEOUT_S="2.5", EMAIL_HOST="mail.intranet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    notify = json.loads(done.stdout)
    assert notify["EMAIL"] is True and notify["WEBHOOK_URL"] == "https://gw.intranet/hook"
    assert notify["WEBHOOK_TIMEOUT_S"] == 2.5


@pytest.mark.parametrize(("env", "says"), [
    ({"GRIDMAP_NOTIFY_WEBHOOK_URL": "https://gw.intranet/hook"}, "GRIDMAP_NOTIFY_WEBHOOK_SECRET"),
    ({"GRIDMAP_NOTIFY_WEBHOOK_URL": "ftp://gw/", "GRIDMAP_NOTIFY_WEBHOOK_SECRET": "k"}, "http:// or https://"),
])  # fmt: skip
def test_a_bad_gateway_setting_stops_the_start(env, says):
    done = settings_with(**env)
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr and says in done.stderr
