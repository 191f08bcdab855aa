"""A PostgreSQL cluster of a test's own, and the app served by gunicorn against it.

Clusters are made with the installed server's initdb/pg_ctl (the newest /usr/lib/postgresql/<N>,
detected), in a temporary directory, on a free port, run as the ``postgres`` user when the test
runs as root (the server refuses root); the shared server and its configuration are never
touched. ``Cluster.replica()`` makes a streaming replica of a cluster with ``pg_basebackup -R``.
``serve`` starts gunicorn on a free port with the environment given and stops it afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


def server_user() -> str | None:
    """The user servers run as (``postgres`` when the test runs as root); skips when there is none."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres user to run a server as")
    return "postgres"


def own_dir(prefix: str) -> Path:
    """A temporary directory the server user owns."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    user = server_user()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    return home


class Cluster:
    """A PostgreSQL cluster of this test's own, in ``home``, on a free port."""

    def __init__(self, bindir: Path, home: Path) -> None:
        self.bin, self.home, self.port = bindir, home, free_port()
        self.data = home / "data"
        self.user = server_user()

    def run(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(args, check=True, capture_output=True, timeout=timeout, user=self.user,
                              cwd=self.home, text=True)  # fmt: skip
        return done.stdout

    def _configure(self, extra: str = "") -> None:
        conf = (f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.home}'\n"
                f"fsync = off\nmax_connections = 40\n{extra}")  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(conf)

    def init(self, extra_conf: str = "") -> None:
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-sync")  # fmt: skip
        self._configure(extra_conf)

    def replica(self, home: Path) -> Cluster:
        """A streaming replica of this (running) cluster, in ``home``, not yet started."""
        replica = Cluster(self.bin, home)
        replica.run(str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                    "-D", str(replica.data), "-R", "-X", "stream", "--checkpoint=fast", timeout=300)  # fmt: skip
        replica._configure()
        return replica

    def start(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def stop_quietly(self) -> None:
        with suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")

    def pids(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, …)."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        return [master, *children(master)]

    def createdb(self, db: str) -> None:
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", db],
                       check=True, capture_output=True, timeout=60)  # fmt: skip

    def sql(self, db: str, query: str, params: tuple = ()) -> list[tuple]:
        """Rows of ``query`` run directly on this cluster (autocommit)."""
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def url(self, db: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{db}"


@contextmanager
def cluster_of_our_own(prefix: str = "gridmap-pg-", extra_conf: str = "") -> Iterator[Cluster]:
    """A started cluster, stopped and removed afterwards; skips when no server is installed."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server installed under /usr/lib/postgresql")
    home = own_dir(prefix)
    cluster = Cluster(bindir, home)
    try:
        cluster.init(extra_conf)
        cluster.start()
        yield cluster
    finally:
        cluster.stop_quietly()
        shutil.rmtree(home, ignore_errors=True)


def children(ppid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def app_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of the app (commands and gunicorn) against ``database_url``."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "gridmap.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "own-cluster-test-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "GRIDMAP_DATA_DIR": str(data_dir),
        "GRIDMAP_MEDIA_ROOT": str(data_dir / "media"),
        "SECURE_COOKIES": "0",
        **extra,
    }


def manage_shell(env: dict[str, str], code: str, timeout: float = 300) -> str:
    """Run ``code`` in ``manage.py shell`` with ``env``; its standard output."""
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], env=env, cwd=ROOT,
                          check=True, capture_output=True, text=True, timeout=timeout).stdout  # fmt: skip


def printed(out: str, key: str) -> str:
    """The value of a ``KEY value`` line a setup script printed."""
    return next(line for line in out.splitlines() if line.startswith(f"{key} ")).split(maxsplit=1)[1]


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


@contextmanager
def serve(env: dict[str, str], log_path: Path, workers: int = 2) -> Iterator[tuple[str, subprocess.Popen]]:
    """gunicorn (sync workers) serving the app with ``env`` on a free port: (base URL, master)."""
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(gunicorn), "gridmap.wsgi:application", "-w", str(workers), "-k", "sync", "--preload",
             "--timeout", "60", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/api/v1/-/")
            gunicorn_workers(server.pid, workers)
            yield base, server
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


class Api:
    """An API client of the served app with a token, keeping cookies like a browser (``cookies``
    off: a client that keeps none)."""

    def __init__(self, base: str, token: str, *, cookies: bool = True) -> None:
        import http.cookiejar

        self.base, self.token = base, token
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)] if cookies else []
        self.opener = urllib.request.build_opener(*handlers)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        """(status, JSON answer or the raw text when it is not JSON); 0 for no HTTP answer."""
        import json

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method, headers={
            "Content-Type": "application/json", "Authorization": f"Token {self.token}"})  # fmt: skip
        try:
            with self.opener.open(request, timeout=60) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        except OSError:
            return 0, None
        try:
            return status, json.loads(content)
        except ValueError:
            return status, content.decode(errors="replace")


def pgbouncer_bin() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )


@contextmanager
def pgbouncer(cluster: Cluster, db: str, *, pool_size: int = 1) -> Iterator[int]:
    """Debian's PgBouncer in transaction mode on a free port in front of ``db`` of ``cluster``
    (trust, the postgres user, ``pool_size`` server connections); yields its port."""
    binary = pgbouncer_bin()
    if binary is None:
        pytest.skip("pgbouncer is not installed (scripts/setup.sh installs it for the tests)")
    home = own_dir("gridmap-pgbouncer-")
    port = free_port()
    (home / "users.txt").write_text('"postgres" ""\n')
    (home / "pgbouncer.ini").write_text(
        f"[databases]\n{db} = host=127.0.0.1 port={cluster.port} dbname={db}\n\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {home}/users.txt\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 100\nlogfile = {home}/pgbouncer.log\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    user = server_user()
    if user:
        entry = pwd.getpwnam(user)
        for name in ("users.txt", "pgbouncer.ini"):
            os.chown(home / name, entry.pw_uid, entry.pw_gid)
    process = subprocess.Popen([binary, str(home / "pgbouncer.ini")], user=user, cwd=home,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        end = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (home / "pgbouncer.log").read_text(errors="replace")
                assert time.monotonic() < end, "pgbouncer did not listen"
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)
