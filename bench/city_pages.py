"""Every page and API answer of the city per role, cold and warm, through gunicorn on loopback.

The time of a request is its total time as the client sees it over loopback (connect, server,
transfer), which is the server's time plus well under a millisecond. Cold: the first request
after an edit of one problem and one facility in the town the pages show (so the change stamps
of problems and facilities move and every cache keyed on them is stale). Warm: the median of the
repeats that follow (2 workers with per-process caches, so a repeat may meet the other worker).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300
SLOW_WARM_S = 5.0  # a warm repeat slower than this is not repeated (the figure is clear)


@dataclass
class Place:
    """What the pages are asked about: the largest community, one of its grids, one problem."""

    grid: str
    community: str
    problem: int
    bbox: str  # the community's extent, lon/lat


@dataclass
class Timing:
    work: str
    role: str
    url: str
    status: int = 0
    first_s: float | None = None  # the first request of the run (nothing kept yet for it)
    cold_s: float | None = None
    warm_s: float | None = None
    size_bytes: int = 0
    is_file: bool = False
    warm_runs: list[float] = field(default_factory=list)


def urls(p: Place) -> list[tuple[str, str, bool]]:
    """(work, url, is a file the user asked for)."""
    api = "/api/v1"
    return [
        ("dashboard", "/dashboard/", False),
        ("grid list", "/grids/", False),
        ("grid page", f"/grids/{p.grid}/", False),
        ("grid map", f"/grids/{p.grid}/map/", False),
        ("largest community page", f"/communities/{p.community}/", False),
        ("largest community map", f"/communities/{p.community}/map/", False),
        ("planner", "/planner/", False),
        ("planner map", "/planner/map/", False),
        ("route", "/route/", False),
        ("route.gpx", "/route.gpx", True),
        ("evaluation", "/evaluation/", False),
        ("evaluation figures", "/evaluation/figures/", False),
        ("evaluation figures by community", "/evaluation/figures/?level=community", False),
        ("ledger.xlsx", "/evaluation/ledger.xlsx", True),
        ("ledger.csv", "/evaluation/ledger.csv", True),
        ("negative-list.xlsx", f"/evaluation/negative-list.xlsx?community={p.community}", True),
        ("ten steps", "/steps/", False),
        ("grids not walked", "/patrols/not-walked/", False),
        ("readiness", "/campaign/readiness/", False),
        ("readiness ranking communities", "/campaign/readiness/ranking/?level=community", False),
        ("readiness ranking grids", "/campaign/readiness/ranking/?level=grid", False),
        ("surveys", "/surveys/", False),
        ("problem list", "/problems/", False),
        ("problem list p.2", "/problems/?page=2", False),
        ("my problems", "/problems/mine/", False),
        ("problem page", f"/problems/{p.problem}/", False),
        ("report form", "/problems/report/", False),
        ("API problems bbox", f"{api}/problems/?bbox={p.bbox}", False),
        ("API problems bbox p.2", f"{api}/problems/?bbox={p.bbox}&page=2", False),
        ("API problems (no bbox)", f"{api}/problems/", False),
        ("API problem", f"{api}/problems/{p.problem}/", False),
        ("API problem events", f"{api}/problems/{p.problem}/events/", False),
        ("API grids", f"{api}/grids/", False),
        ("API buildings bbox", f"{api}/buildings/?bbox={p.bbox}", False),
        ("API facilities bbox", f"{api}/facilities/?bbox={p.bbox}", False),
        ("API coverage hydrant", f"{api}/analysis/coverage/?kind=hydrant", False),
        ("API gaps hydrant", f"{api}/analysis/gaps/?kind=hydrant", False),
        ("API suggestions hydrant", f"{api}/analysis/suggestions/?kind=hydrant&grid={p.grid}", False),
        ("API hotspots", f"{api}/analysis/hotspots/", False),
        ("API route", f"{api}/analysis/route/?grid={p.grid}", False),
        ("API negative list", f"{api}/negative-list/", False),
        ("API positive sites", f"{api}/positive-sites/", False),
        ("Open311 requests", "/open311/v2/requests.json", False),
        ("OGC problems items", "/ogc/collections/problems/items", False),
        ("OGC grids items", "/ogc/collections/grids/items", False),
        ("health", "/health/", False),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with deploy/gunicorn.conf.py: 2 sync workers, DEBUG off, the cache in Redis."""

    def __init__(self, database_url: str, cache_url: str, log: Path, broker_url: str = "") -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "GRIDMAP_CACHE_URL": cache_url,
            "GRIDMAP_BIND": f"127.0.0.1:{self.port}",
            "GRIDMAP_WORKERS": "2",
            "GRIDMAP_WORKER_CLASS": "sync",
            "GRIDMAP_TIMEOUT": str(TIMEOUT_S),  # measure slow pages instead of killing the worker
            "GRIDMAP_DB_STATEMENT_TIMEOUT": str(TIMEOUT_S),
            "GRIDMAP_ACCESS_LOG": "",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "0",
            "LOG_LEVEL": "ERROR",
        }
        self.log = log.open("w")
        gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        self.celery = None
        if broker_url:  # background work on a Celery worker beside gunicorn, as deployed
            env["GRIDMAP_BROKER_URL"] = broker_url
            worker_env = {**env, "GRIDMAP_DB_STATEMENT_TIMEOUT": "0"}
            self.celery = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "celery"), "-A", "gridmap.celery", "worker", "--concurrency", "1",
                 "--without-gossip", "--without-mingle", "-l", "warning"],
                cwd=ROOT, env=worker_env, stdout=self.log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.proc = subprocess.Popen(
            [str(gunicorn), "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/health/", timeout=5).status_code < 500:
                    return
            except requests.RequestException:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer; see {log}")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def celery_peak_mb(self) -> list[float]:
        """VmHWM of the Celery worker's processes (its main process and its pool), MB."""
        if self.celery is None:
            return []
        path = Path(f"/proc/{self.celery.pid}/task/{self.celery.pid}/children")
        children = [int(p) for p in path.read_text().split()] if path.exists() else []
        return self.peaks([self.celery.pid, *children])

    def worker_peak_mb(self) -> list[float]:
        """VmHWM (peak resident memory) of each worker, MB."""
        return self.peaks(self.workers())

    @staticmethod
    def peaks(pids: list[int]) -> list[float]:
        peaks = []
        for pid in pids:
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return peaks

    def stop(self) -> None:
        if self.celery is not None and self.celery.poll() is None:
            self.celery.send_signal(signal.SIGTERM)
            try:
                self.celery.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.celery.kill()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def login(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login/", timeout=30)
    token = (
        session.cookies.get("csrftoken")
        or re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    )
    answer = session.post(
        base + "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/login/"},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login of {username} failed: HTTP {answer.status_code}")
    return session


def fetch(session: requests.Session, url: str, follow: bool = False) -> tuple[int, float, int]:
    """Status, seconds and size of one GET. ``follow``: a file the service writes by a job answers
    a redirect to the job's page, which is what its user then sees: follow it (the time includes
    both; the file itself comes from the worker later)."""
    began = time.perf_counter()
    try:
        answer = session.get(url, timeout=TIMEOUT_S + 10, allow_redirects=follow)
    except requests.RequestException:
        return 0, time.perf_counter() - began, 0
    return answer.status_code, time.perf_counter() - began, len(answer.content)


def time_role(base: str, session: requests.Session, role: str, place: Place, change, *, warm_runs: int,
              only: set[str] | None = None, record=None) -> list[Timing]:  # fmt: skip
    """Every URL for one role: the first request (the run starts with an empty shared cache, so
    nothing is kept for it yet), an edit, the cold request, then the warm repeats."""
    out = []
    for work, url, is_file in urls(place):
        if only and work not in only:
            continue
        _, first, _ = fetch(session, base + url, is_file)
        change()
        status, cold, size = fetch(session, base + url, is_file)
        t = Timing(work, role, url, status, first, cold, None, size, is_file)
        if 200 <= status < 300:
            for _ in range(warm_runs):
                status_w, took, size = fetch(session, base + url, is_file)
                t.warm_runs.append(took)
                t.size_bytes = max(t.size_bytes, size)
                if took > SLOW_WARM_S:
                    break
            t.warm_s = statistics.median(t.warm_runs)
        print(f"  {role:<15} {work:<26} {status:>3} first {first:7.3f} s cold {cold:7.3f} s warm "
              f"{'' if t.warm_s is None else f'{t.warm_s:7.3f} s'} {t.size_bytes / 1e6:8.3f} MB", flush=True)  # fmt: skip
        out.append(t)
        if record is not None:
            record(t)
    return out


def psql(database: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def place_of(database: str) -> Place:
    """The community with the most grids, its first grid, and that grid's newest problem."""
    community = psql(database, "SELECT c.code FROM geography_community c JOIN geography_grid g ON g.community_id = c.id "
                               "GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1")  # fmt: skip
    grid = psql(database, f"SELECT min(code) FROM geography_grid WHERE code LIKE '{community}%'")
    problem = int(psql(database, "SELECT max(p.id) FROM problems_problem p JOIN geography_grid g ON g.id = p.grid_id "
                                 f"WHERE g.code = '{grid}'"))  # fmt: skip
    extent = psql(database, f"SELECT ST_XMin(e) || ',' || ST_YMin(e) || ',' || ST_XMax(e) || ',' || ST_YMax(e) "
                            f"FROM (SELECT ST_Extent(geom) e FROM geography_community WHERE code = '{community}') x")  # fmt: skip
    bbox = ",".join(f"{float(v):.6f}" for v in extent.split(","))
    return Place(grid=grid, community=community, problem=problem, bbox=bbox)


def changer(database: str, place: Place):
    """An edit of one problem and one facility in the town the pages show."""
    town = place.community[:9]

    def change() -> None:
        psql(database, f"UPDATE problems_problem SET description = description || '.' WHERE id = {place.problem}; "
                       "UPDATE facilities_facility SET condition = CASE condition WHEN 'good' THEN 'damaged' ELSE 'good' "
                       "END WHERE id = (SELECT min(f.id) FROM facilities_facility f JOIN geography_grid g "
                       f"ON g.id = f.grid_id WHERE g.code LIKE '{town}%')")  # fmt: skip

    return change


def users_of(database: str, place: Place) -> dict[str, str]:
    """One user per role, all about the same place: the grid's leader, the community's head, the
    inspector patrolling it, the first department handler, planner and administrator."""
    one = {
        "grid leader": "SELECT u.username FROM auth_user u JOIN geography_grid g ON g.first_responsible_id = u.id "
        f"WHERE g.code = '{place.grid}'",
        "community head": "SELECT min(u.username) FROM accounts_profile p JOIN auth_user u ON u.id = p.user_id "
        "JOIN geography_community c ON c.id = p.community_id "
        f"WHERE p.role = 'community_head' AND c.code = '{place.community}'",
        "department": "SELECT min(u.username) FROM accounts_profile p JOIN auth_user u ON u.id = p.user_id "
        "WHERE p.role = 'department'",
        "inspector": "SELECT min(u.username) FROM accounts_profile p JOIN auth_user u ON u.id = p.user_id "
        "JOIN accounts_profile_patrol_communities pc ON pc.profile_id = p.id "
        f"JOIN geography_community c ON c.id = pc.community_id WHERE p.role = 'inspector' AND c.code = '{place.community}'",
        "planner": "SELECT min(u.username) FROM accounts_profile p JOIN auth_user u ON u.id = p.user_id "
        "WHERE p.role = 'planner'",
        "administrator": "SELECT min(u.username) FROM accounts_profile p JOIN auth_user u ON u.id = p.user_id "
        "WHERE p.role = 'admin'",
    }
    order = ["administrator", "inspector", "planner", "community head", "grid leader", "department"]
    return {role: psql(database, one[role]) for role in order}  # most pages first


if __name__ == "__main__":
    sys.exit("run bench/city.py")
