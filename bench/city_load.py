"""The city into its own PostGIS database through the real import path, timed per stage.

Each stage is a child process (``manage.py migrate``, ``bench.city_db users``, ``manage.py
import_layer <target> <file> --commit`` per layer, ``bench.city_db link`` after the regions,
``bench.city_db history`` at the end); its wall time and peak resident memory (the child's own
``ru_maxrss`` as GNU time reports it) are recorded. The database is never dropped here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
LAYERS = ["regions", "grids", "streets", "buildings", "facilities", "problems"]


def server_url(url: str) -> tuple[str, str]:
    """(the server's maintenance URL for psql, database name) of a postgis:// URL."""
    match = re.fullmatch(r"postgis://([^/]+)/(\w+)", url)
    if not match:
        raise SystemExit(f"expected postgis://user@host:port/name, not {url}")
    return match[1], match[2]


def psql_server(url: str, sql: str) -> str:
    user_host, _ = server_url(url)
    user, _, hostport = user_host.rpartition("@")
    host, _, port = hostport.partition(":")
    done = subprocess.run(
        ["psql", "-h", host, "-p", port or "5432", "-U", user or "postgres", "-d", "postgres", "-AtX", "-c", sql],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def database_exists(url: str) -> bool:
    name = server_url(url)[1]
    return psql_server(url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def create_database(url: str) -> None:
    name = server_url(url)[1]
    psql_server(url, f"DROP DATABASE IF EXISTS {name}")
    psql_server(url, f"CREATE DATABASE {name}")


def run_child(args: list[str], env: dict[str, str], log: Path) -> dict:
    """Run one stage; its wall seconds, peak RSS (MB) and exit code. Output goes to ``log``.

    The peak comes from GNU time (``%M``: the child's own ``ru_maxrss``): measured from this
    process it would include this process's size at the fork (Linux carries the old memory's
    high-water mark across exec)."""
    peak_file = log.with_suffix(".peak")
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        began = time.perf_counter()
        code = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", str(peak_file), *args], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        took = time.perf_counter() - began
    if code not in (0, 3):
        raise SystemExit(f"{' '.join(args[1:4])} failed ({code}); see {log}")
    peak_kb = int(peak_file.read_text().split()[-1])
    return {"seconds": round(took, 2), "peak_mb": round(peak_kb / 1024, 1), "exit": code}


def load(url: str, files: Path, manifest: dict, log: Path) -> dict:
    """Create, migrate and load the database; the figures of every stage."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only-not-secret", "DEBUG": "0",
           "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "ERROR",
           # the coverage refreshes each import asks for are left to the periodic jobs run once
           # after the load (a stage of its own), so an import's time is the import's
           "GRIDMAP_TASKS_IN_PROCESS": "off"}  # fmt: skip
    create_database(url)
    stages: dict[str, dict] = {}
    stages["migrate"] = run_child([PYTHON, "manage.py", "migrate", "-v0"], env, log)
    print(f"  migrate {stages['migrate']['seconds']} s", flush=True)
    stages["users"] = run_child([PYTHON, "-m", "bench.city_db", "users", str(files / "users.json")], env, log)
    print(f"  users {stages['users']['seconds']} s", flush=True)
    for target in LAYERS:
        path = files / f"{target}.gpkg"
        figures = run_child([PYTHON, "manage.py", "import_layer", target, str(path), "--commit"], env, log)
        rows = _rows(manifest, target, files)
        figures.update(rows=rows, rows_per_s=round(rows / figures["seconds"], 1))
        stages[f"import {target}"] = figures
        print(f"  import {target}: {rows:,} rows in {figures['seconds']} s ({figures['rows_per_s']:,.0f} rows/s), "
              f"peak {figures['peak_mb']:,.0f} MB", flush=True)  # fmt: skip
        if target == "regions":
            stages["link users"] = run_child(
                [PYTHON, "-m", "bench.city_db", "link", str(files / "users.json")], env, log
            )
    stages["history"] = run_child([PYTHON, "-m", "bench.city_db", "history"], env, log)
    print(f"  history (set-based SQL) and ANALYZE {stages['history']['seconds']} s", flush=True)
    return stages


def _rows(manifest: dict, target: str, files: Path) -> int:
    if target == "regions":
        import pyogrio

        return int(pyogrio.read_info(files / "regions.gpkg")["features"])
    return int(manifest[target])


def load_or_reuse(url: str, files: Path, manifest: dict, out: Path, *, reuse: bool) -> dict:
    """The load figures: from the last load when ``reuse`` finds it complete, else a new load."""
    record = out / f"load-{server_url(url)[1]}.json"
    if reuse and record.exists() and database_exists(url):
        saved = json.loads(record.read_text())
        if saved.get("manifest") == manifest:
            print(f"reusing {server_url(url)[1]} (loaded {saved['when']})")
            return saved
    began = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stages = load(url, files, manifest, out / "load.log")
    saved = {"when": began, "manifest": manifest, "stages": stages}
    record.write_text(json.dumps(saved, indent=1))
    return saved
