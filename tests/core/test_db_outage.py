"""A PostgreSQL that stops or freezes under intake: no acknowledged report is lost or stored twice,
clients get JSON 503s with Retry-After meanwhile (no 500, no HTML, no request held past the
database deadlines), and the service recovers by itself when the database is back.

The test runs its own PostgreSQL cluster (initdb and pg_ctl of the installed server, a free port,
a temporary directory; never the shared server), migrates a database in it and serves the app
with gunicorn (2 sync workers) pointed at it, with short database deadlines (connect 1 s,
statement 1 s: the client waits at most 3 s for an answer). A client thread sends reports with
distinct client_uuids and retries each one after a 503 with the same client_uuid, as the API docs
tell clients to, until it is acknowledged. Meanwhile the cluster is (a) stopped (``pg_ctl stop -m
fast``) for 3 s and started again, then (b) frozen (SIGSTOP to the postmaster and every backend)
for 5 s and thawed. The figures are printed (``-s``) for the record.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
IS_POSTGIS = settings.DATABASES["default"]["ENGINE"].endswith("postgis")
pytestmark = pytest.mark.skipif(
    not IS_POSTGIS,
    reason="PostGIS only: the fault is a PostgreSQL server stopped and frozen; SQLite is a file in the process",
)

CONNECT_S, STATEMENT_S = 1, 1
STOP_S, FREEZE_S = 3.0, 5.0
HANG_S = 15.0  # far above the 3 s deadline (statement 1 s + grace 2 s), far below gunicorn's --timeout
RETRY_PAUSE_S = 0.1  # the client's pause before repeating a report after a 503


def postgres_bin() -> Path | None:
    """The bin directory of the newest installed PostgreSQL server (/usr/lib/postgresql/<N>/bin)."""
    found = []
    for path in Path("/usr/lib/postgresql").glob("*/bin"):
        if (path / "initdb").exists() and (path / "pg_ctl").exists() and path.parent.name.isdigit():
            found.append((int(path.parent.name), path))
    return max(found)[1] if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of this test's own, in a temporary directory, on a free port; run as
    the ``postgres`` user when the test runs as root (the server refuses root)."""

    def __init__(self, bindir: Path, home: Path) -> None:
        self.bin, self.home, self.port = bindir, home, free_port()
        self.data = home / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(home, entry.pw_uid, entry.pw_gid)

    def run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=timeout, user=self.user, cwd=self.home)

    def init(self) -> None:
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-sync")  # fmt: skip
        conf = (f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.home}'\n"
                "fsync = off\nmax_connections = 40\n")  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(conf)

    def start(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def pids(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, …)."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        return [master, *children(master)]

    def url(self, db: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{db}"


def children(ppid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.authtoken.models import Token
from gridmap.accounts.models import Role
from tests.factories import LAT0, LON0, grid, region_tree, user
(community,) = region_tree()
grid(community, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002))
print("TOKEN", Token.objects.create(user=user("outage_reporter", Role.REPORTER)).key)
"""


def stored_reports(cluster: Cluster, db: str) -> dict[str, int]:
    """Rows per client uuid, read from the cluster directly."""
    import psycopg2

    from gridmap.problems.models import Problem

    table = Problem._meta.db_table
    with psycopg2.connect(host="127.0.0.1", port=cluster.port, user="postgres", dbname=db) as conn:
        with conn.cursor() as cursor:
            cursor.execute(f'SELECT uuid::text, count(*) FROM "{table}" GROUP BY uuid')
            return dict(cursor.fetchall())


@dataclass
class Sent:
    start: float
    end: float
    status: int  # 0: no HTTP answer
    report: str
    json_error: bool = False
    retry_after: bool = False


@dataclass
class Client:
    """Sends reports one after another; repeats a report after a 503 with the same client_uuid."""

    base: str
    token: str
    log: list[Sent] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    success: threading.Condition = field(default_factory=threading.Condition)

    def post(self, report: str, n: int) -> Sent:
        body = json.dumps({"lon": 120.871 + (n % 30) * 0.0001, "lat": 31.621, "category": "0301",
                           "description": f"outage {n}", "client_uuid": report}).encode()  # fmt: skip
        request = urllib.request.Request(f"{self.base}/api/v1/problems/", data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Token {self.token}"})  # fmt: skip
        start = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, content = error.code, error.headers, error.read()
        except OSError:
            return Sent(start, time.monotonic(), 0, report)
        sent = Sent(start, time.monotonic(), status, report)
        if status >= 400:
            try:
                sent.json_error = headers.get("Content-Type", "").startswith("application/json") and bool(
                    json.loads(content)["detail"]
                )
            except (ValueError, KeyError, TypeError):
                sent.json_error = False
            sent.retry_after = (headers.get("Retry-After") or "").isdigit()
        return sent

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            report = str(uuid.uuid4())
            while True:  # the same report until it is acknowledged (or refused for good)
                sent = self.post(report, n)
                self.log.append(sent)
                if sent.status in (200, 201):
                    self.acknowledged[report] = sent.status
                    with self.success:
                        self.success.notify_all()
                    break
                if sent.status != 503:
                    break
                time.sleep(RETRY_PAUSE_S)

    def wait_success_after(self, moment: float, timeout: float = 30) -> float:
        """Seconds from ``moment`` to the end of the first acknowledged request that started after it."""

        def first() -> Sent | None:
            return next((s for s in self.log if s.start >= moment and s.status in (200, 201)), None)

        with self.success:
            assert self.success.wait_for(first, timeout), (
                "no report acknowledged after the database came back"
            )
        return first().end - moment


def gunicorn_workers(master: int, count: int = 2, timeout_s: float = 60) -> set[int]:
    """The worker pids of a gunicorn master, once it has ``count`` of them."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        found = set(children(master))
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gunicorn has {len(found)} workers, not {count}")


def wait_ready(url: str, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer (the API's JSON 404) means a worker is up
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def test_intake_survives_a_database_stopped_and_frozen(tmp_path):
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server installed under /usr/lib/postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run a cluster as")
    home = Path(tempfile.mkdtemp(prefix="gridmap-outage-"))
    cluster = Cluster(bindir, home)
    server = None
    figures: dict[str, object] = {}
    try:
        t0 = time.monotonic()
        cluster.init()
        cluster.start()
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
                        "gridmap_outage"], check=True, capture_output=True, timeout=60)  # fmt: skip
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "gridmap.settings",
            "DATABASE_URL": cluster.url("gridmap_outage"),
            "SECRET_KEY": "outage-test-only",
            "ALLOWED_HOSTS": "127.0.0.1",
            "GRIDMAP_DATA_DIR": str(tmp_path),
            "GRIDMAP_MEDIA_ROOT": str(tmp_path / "media"),
            "SECURE_COOKIES": "0",
        }
        out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", SETUP], env=env, cwd=ROOT,
                             check=True, capture_output=True, text=True, timeout=300).stdout  # fmt: skip
        token = next(x for x in out.splitlines() if x.startswith("TOKEN ")).split()[1]
        figures["setup_s"] = round(time.monotonic() - t0, 1)

        port = free_port()
        server_log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed with the server)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        env.update(GRIDMAP_DB_CONNECT_TIMEOUT=str(CONNECT_S), GRIDMAP_DB_STATEMENT_TIMEOUT=str(STATEMENT_S))
        server = subprocess.Popen(
            [str(gunicorn), "gridmap.wsgi:application", "-w", "2", "-k", "sync", "--preload", "--timeout", "60",
             "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=server_log,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/api/v1/-/")
        workers = gunicorn_workers(server.pid)
        figures["ready_s"] = round(time.monotonic() - t0, 1)

        client = Client(base, token)
        thread = threading.Thread(target=client.run, daemon=True)
        thread.start()
        client.wait_success_after(time.monotonic())

        # (a) stopped for a few seconds, then started
        stop_at = time.monotonic()
        cluster.stop("fast")
        time.sleep(STOP_S)  # the outage itself
        cluster.start()
        back = time.monotonic()
        figures["recovery_after_start_s"] = round(client.wait_success_after(back), 2)
        stop_window = (stop_at, back)

        # (b) frozen: the postmaster and every backend stopped by SIGSTOP, then continued
        pids = cluster.pids()
        freeze_at = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(FREEZE_S)  # the outage itself
        for pid in reversed(pids):
            os.kill(pid, signal.SIGCONT)
        thawed = time.monotonic()
        figures["recovery_after_thaw_s"] = round(client.wait_success_after(thawed), 2)

        client.stopping.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the client's last report was never acknowledged"
        assert gunicorn_workers(server.pid) == workers, "a worker was replaced (killed by a hang or a crash)"

        stored = stored_reports(cluster, "gridmap_outage")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
            server_log.close()
        try:
            cluster.stop("immediate")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(home, ignore_errors=True)

    log = client.log
    codes = Counter(s.status for s in log)
    during_stop = [s for s in log if s.start < stop_window[1] and s.end > stop_window[0]]
    during_freeze = [s for s in log if s.start < thawed and s.end > freeze_at]
    replays = sum(1 for v in client.acknowledged.values() if v == 200)
    figures.update(
        requests=len(log),
        codes=dict(sorted(codes.items())),
        acknowledged=len(client.acknowledged),
        stored=sum(stored.values()),
        acknowledged_on_retry_as_already_stored=replays,
        longest_request_s=round(max(s.end - s.start for s in log), 2),
        longest_request_during_freeze_s=round(max(s.end - s.start for s in during_freeze), 2),
        codes_during_stop=dict(Counter(s.status for s in during_stop)),
        codes_during_freeze=dict(Counter(s.status for s in during_freeze)),
    )
    print("\ndatabase outage:", json.dumps(figures))

    # no acknowledged report lost, none stored twice, nothing stored that was not acknowledged
    assert set(stored) == set(client.acknowledged)
    assert set(stored.values()) == {1}
    # only acknowledgements and JSON 503s with Retry-After: no 500, no HTML, no dropped connection
    assert set(codes) <= {200, 201, 503}, codes
    assert all(s.json_error and s.retry_after for s in log if s.status == 503)
    assert any(s.status == 503 for s in during_stop) and any(s.status == 503 for s in during_freeze)
    # nothing held a worker until gunicorn's timeout: every answer came within the deadlines
    assert figures["longest_request_s"] < HANG_S
