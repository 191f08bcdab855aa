"""Finding 11: gunicorn run with the shipped configuration (deploy/gunicorn.conf.py) as the unit
runs it. A master killed with SIGKILL takes its workers with it, so a new start binds the port;
a HUP replaces the workers while the site keeps answering; no log line holds a secret sent in a
query string; the unit file is one systemd accepts."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
UNIT = ROOT / "deploy" / "gridmap.service"
SECRETS = ("SECRET-API-KEY-4711", "SECRET-TOKEN-0815", "SECRET-PASSWORD-42")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, seconds: float, step: float = 0.05):
    """Polls until condition() is true (returns the time it took) or fails after seconds."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    raise AssertionError(f"not within {seconds} s: {condition.__doc__ or condition}")


class Gunicorn:
    def __init__(self, env: dict[str, str], logs: Path, name: str) -> None:
        self.out = (logs / f"{name}.out").open("wb")
        self.err = (logs / f"{name}.err").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), "--preload", "gridmap.wsgi"],
            cwd=ROOT, env=env, stdout=self.out, stderr=self.err,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.out.close()
        self.err.close()


@pytest.fixture
def server_env(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GRIDMAP_", "DJANGO_", "SECURE_"))},
        "DEBUG": "0",
        "SECRET_KEY": "tests-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"spatialite:///{tmp_path / 'db.sqlite3'}",
        "GRIDMAP_DATA_DIR": str(tmp_path),
        "GRIDMAP_MEDIA_ROOT": str(tmp_path / "media"),
        "GRIDMAP_BIND": f"127.0.0.1:{port}",
        "GRIDMAP_WORKERS": "2",
        "GRIDMAP_TIMEOUT": "30",
        "DJANGO_SETTINGS_MODULE": "gridmap.settings",
    }
    return env, f"http://127.0.0.1:{port}"


def test_workers_die_with_a_killed_master_and_hup_keeps_serving(server_env, tmp_path):
    env, base = server_env
    first = Gunicorn(env, tmp_path, "first")
    second = None
    try:

        def up() -> bool:
            """the site answers /health/"""
            assert first.process.poll() is None, (tmp_path / "first.err").read_text()[-3000:]
            try:
                return get(f"{base}/health/", timeout=2)[0] == 200
            except OSError:
                return False

        boot = wait_for(up, 180, 0.2)
        status, body = get(f"{base}/health/")
        assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok"}
        query = f"api_key={SECRETS[0]}&token={SECRETS[1]}&password={SECRETS[2]}&lang=en"
        get(f"{base}/open311/v2/requests.json?{query}")
        get(f"{base}/health/?{query}")

        master = first.process.pid
        # the site answers as soon as one worker is up; the master may still be forking the other
        wait_for(lambda: len(children(master)) == 2, 60, 0.05)
        workers = children(master)

        # HUP: new workers replace the old ones; every request meanwhile is answered
        first.process.send_signal(signal.SIGHUP)
        answers = []

        def replaced() -> bool:
            """the old workers are gone and two new ones serve"""
            answers.append(get(f"{base}/health/")[0])
            now = children(master)
            return len(now) == 2 and not (now & workers)

        wait_for(replaced, 60)
        assert set(answers) == {200}, answers
        workers = children(master)

        # SIGKILL to the master: its workers go too, so a start right away binds the port
        # (gunicorn tries to bind for 5 s, then gives up; orphaned workers lived 15 s before)
        os.kill(master, signal.SIGKILL)
        first.process.wait()
        second = Gunicorn(env, tmp_path, "second")
        orphans_gone = wait_for(lambda: not any(alive(w) for w in workers), 30, 0.01)

        def up_again() -> bool:
            """a new master binds the port and answers"""
            assert second.process.poll() is None, (tmp_path / "second.err").read_text()[-3000:]
            try:
                return get(f"{base}/health/", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(up_again, 180, 0.2)
        print(
            f"\nboot with --preload {boot:.1f} s; workers gone {orphans_gone * 1000:.0f} ms after the master's SIGKILL"
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()

    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.out")} | {
        p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.err")
    }
    everything = "\n".join(logs.values())
    for secret in SECRETS:
        assert secret not in everything, secret
    access = [json.loads(line) for line in logs["first.out"].splitlines() if line.startswith('{"remote"')]
    assert any("/open311/v2/requests.json?api_key=%5Bredacted%5D" in a["request"] for a in access), access
    requests = [json.loads(line) for line in logs["first.err"].splitlines() if line.startswith('{"method"')]
    assert any(
        r["path"] == "/open311/v2/requests.json" and "api_key=%5Bredacted%5D" in r["query"] for r in requests
    )
    assert all({"method", "path", "query", "status", "ms", "user", "ip"} <= set(r) for r in requests)


def test_the_unit_file_has_what_production_needs():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT)
    service = unit["Service"]
    assert service["KillMode"] in ("mixed", "control-group")
    assert service["Restart"] == "on-failure"
    assert service["ExecReload"].endswith("HUP $MAINPID")
    assert "EnvironmentFile" in service
    assert "--preload" in service["ExecStart"] and "deploy/gunicorn.conf.py" in service["ExecStart"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit_file(tmp_path):
    """systemd-analyze verify, with the paths the unit names made to exist here."""
    text = UNIT.read_text()
    venv_gunicorn = Path(sys.executable).parent / "gunicorn"
    env_file = tmp_path / "gridmap.env"
    env_file.write_text("DEBUG=0\n")
    text = (
        text.replace("/opt/gridmap/.venv/bin/gunicorn", str(venv_gunicorn))
        .replace("/etc/gridmap/gridmap.env", str(env_file))
        .replace("/opt/gridmap", str(ROOT))
        .replace("User=gridmap", "User=root")
        .replace("Group=gridmap", "Group=root")
    )
    unit = tmp_path / "gridmap.service"
    unit.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "gridmap.service" in line and "Documentation" not in line
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
