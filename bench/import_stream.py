"""How fast ``manage.py import_layer problems`` imports a large file, and in how much memory.

    .venv/bin/python bench/import_stream.py                          # 100k and 1M problems, PostGIS
    .venv/bin/python bench/import_stream.py --rows 100000 --again    # also the re-import (all unchanged)
    .venv/bin/python bench/import_stream.py --rows 100000 --before-root /path/to/checkout-of-main

Uses its own PostGIS database (``GRIDMAP_STREAM_DB``, default
``postgis://postgres@127.0.0.1:5432/gridmap_stream``), made and migrated on the first run and kept
(``--fresh`` makes it again). The ``bench/scale.py`` city's regions, grids and facilities are
loaded into it through ``import_layer`` itself, and 20 reporters are made, so problems are placed
(grid, community, facility) as in production. Then per size it writes the city's first N problem
points as a GeoPackage with plausible columns (id, category, description, status, reported_at,
reporter; cached under ``data/bench/stream/``), empties the problem tables, and runs
``manage.py import_layer problems FILE --commit`` in a child process, timing it and reading the
child's peak resident memory (``ru_maxrss`` of ``wait4``, the kernel's VmHWM at exit).

Printed beside the figures measured before streaming (1M in 544 s at 4.0 GB) and the targets of
issue 13 (1M with ≤ 1 GB peak memory, ≥ 5,000 rows/s); ``--before-root`` also runs another
checkout's ``import_layer`` (the whole-file path) on the same file just before, under the same
load. ``cpu s`` is the child's own CPU time, ``db cpu`` that of the PostgreSQL process serving it
(read from /proc while it runs): on a machine shared with other work these two move less than
the wall time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = ROOT / ".venv" / "bin" / "python"
DATA = ROOT / "data" / "bench" / "stream"
DB_URL = os.environ.get("GRIDMAP_STREAM_DB", "postgis://postgres@127.0.0.1:5432/gridmap_stream")
# DEBUG off as in production (with it on, Django keeps every query's text in memory)
ENV = {"DATABASE_URL": DB_URL, "SECRET_KEY": "bench-only-not-secret", "DEBUG": "0"}
BEFORE = {1_000_000: (544.0, 4.0 * 1024)}  # seconds, peak MiB: the whole-file import
TARGET_ROWS_S, TARGET_MIB = 5_000, 1024
CATEGORIES = ["0101", "0102", "0103", "0104", "0201", "0202", "0301", "0302", "0401", "0501", "0601", "0602"]
STATUSES = ["reported", "filed", "dispatched", "handled", "closed", "rejected"]
REPORTERS = [f"reporter{i:02d}" for i in range(20)]
WORDS = ["路边", "垃圾", "满溢", "占道", "广告", "破损", "井盖", "绿化", "积水", "乱停车", "施工", "扬尘"]


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **ENV}
    return subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=check, capture_output=True, text=True
    )


def pg(sql: str, *, db: str | None = None) -> list[tuple]:
    import psycopg2

    name = DB_URL.rsplit("/", 1)[1]
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=db or name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def write_gpkg(path: Path, frame) -> Path:
    import pyogrio

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pyogrio.write_dataframe(frame, path.with_suffix(".tmp.gpkg"), driver="GPKG")
        path.with_suffix(".tmp.gpkg").rename(path)
    return path


def city_files() -> dict[str, Path]:
    """Regions (district, streets, communities: unions of the grid cells), grids, facilities."""
    import geopandas as gpd

    from bench.scale import load_scale

    city = load_scale()
    grids = city.grids.copy()
    rows = []
    for level, length in (("district", 6), ("subdistrict", 9), ("community", 12)):
        merged = grids.assign(k=grids["code"].str[:length]).dissolve("k")
        for code, geom in zip(merged.index, merged.geometry, strict=True):
            parent = code[: {6: 0, 9: 6, 12: 9}[length]]
            rows.append(
                {"level": level, "code": code, "name": f"{level} {code}", "parent_code": parent, "g": geom}
            )
    regions = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="g", crs="EPSG:4326").rename_geometry("geometry")
    grids["name"] = "网格 " + grids["code"].str[-6:]
    facilities = city.facilities[["id", "kind", "geometry"]].copy()
    return {
        "regions": write_gpkg(DATA / "regions.gpkg", regions),
        "grids": write_gpkg(DATA / "grids.gpkg", grids[["code", "name", "geometry"]]),
        "facilities": write_gpkg(DATA / "facilities.gpkg", facilities),
    }


def problems_file(n: int) -> Path:
    import geopandas as gpd
    import shapely

    from bench.scale import load_scale

    path = DATA / f"problems-{n}.gpkg"
    if path.exists():
        return path
    xy = load_scale().problem_lonlat[:n]
    rng = np.random.default_rng(13)
    seconds = rng.integers(0, 540 * 86400, n)
    times = pd.Timestamp("2025-06-01T08:00:00+08:00") + pd.to_timedelta(seconds, unit="s")
    words = np.array(WORDS, dtype=object)
    frame = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
            "description": words[rng.integers(0, len(WORDS), n)] + words[rng.integers(0, len(WORDS), n)],
            "status": np.array(STATUSES)[rng.integers(0, len(STATUSES), n)],
            "reported_at": times.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "reporter": np.array(REPORTERS)[rng.integers(0, len(REPORTERS), n)],
        },
        geometry=shapely.points(xy),
        crs="EPSG:4326",
    )
    return write_gpkg(path, frame)


def prepare(fresh: bool) -> None:
    name = DB_URL.rsplit("/", 1)[1]
    exists = pg(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", db="postgres")
    if exists and fresh:
        pg(f"DROP DATABASE {name}", db="postgres")
        exists = []
    if not exists:
        pg(f"CREATE DATABASE {name}", db="postgres")
        pg("CREATE EXTENSION IF NOT EXISTS postgis")
    manage("migrate", "--verbosity", "0")
    if pg("SELECT count(*) FROM geography_grid")[0][0]:
        return
    files = city_files()
    for target in ("regions", "grids", "facilities"):
        t0 = time.perf_counter()
        out = manage("import_layer", target, str(files[target]), "--commit", check=False)
        print(f"  loaded {target} ({time.perf_counter() - t0:.0f} s): {out.stdout.splitlines()[1:2]}")
        if out.returncode:
            sys.exit(f"loading {target} failed:\n{out.stdout}\n{out.stderr}")
    make_users = "from django.contrib.auth import get_user_model as g; U = g(); " + "; ".join(
        f"U.objects.get_or_create(username='{u}')" for u in REPORTERS
    )
    manage("shell", "-c", make_users)


def run_import(path: Path, *extra: str, root: Path = ROOT) -> tuple[float, float, float, float, int, str]:
    """(seconds, child CPU s, database backend CPU s, child peak MiB, exit code, counts line) of
    one ``import_layer`` run of the code in ``root``."""
    import tempfile

    env = {**os.environ, **ENV}
    cmd = [str(PYTHON), "manage.py", "import_layer", "problems", str(path), "--source", "bench", *extra]
    backend_cpu: dict[int, float] = {}
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        while True:  # the child's own rusage at its end: ru_maxrss is its VmHWM
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            backend_cpu.update(_backend_cpu())
            time.sleep(0.5)
        took = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    lines = [line.strip() for line in text.splitlines()]
    counts = next((line for line in lines if line.startswith("problems:")), text[-300:])
    cpu = usage.ru_utime + usage.ru_stime
    return took, cpu, sum(backend_cpu.values()), usage.ru_maxrss / 1024, child.returncode, counts


def _backend_cpu() -> dict[int, float]:
    """CPU seconds so far of the server processes serving the bench database (same machine)."""
    name = DB_URL.rsplit("/", 1)[1]
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for (pid,) in pg(
        f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--again", action="store_true", help="also time the re-import of the same file")
    parser.add_argument("--dry-run", action="store_true", help="also time the dry run")
    parser.add_argument("--fresh", action="store_true", help="make the database again")
    parser.add_argument(
        "--before-root",
        type=Path,
        help="a checkout of the code before streaming: its commit is timed first, same load",
    )
    args = parser.parse_args(argv)
    prepare(args.fresh)
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores; figures move with it)")
    print(
        f"{'rows':>9} {'run':<10} {'seconds':>8} {'rows/s':>8} {'cpu s':>7} {'db cpu':>7} {'peak MiB':>9}  exit  report"
    )
    for n in sorted(args.rows):
        path = problems_file(n)
        runs = [("before", ("--commit",), args.before_root)] if args.before_root else []
        runs += [("dry run", (), ROOT)] if args.dry_run else []
        runs += [("commit", ("--commit",), ROOT)] + ([("again", ("--commit",), ROOT)] if args.again else [])
        for label, extra, root in runs:
            if label != "again":
                pg("TRUNCATE problems_problemevent, problems_problem CASCADE")
            took, cpu, db_cpu, peak, code, counts = run_import(path, *extra, root=root)
            print(
                f"{n:>9,} {label:<10} {took:>8.1f} {n / took:>8,.0f} {cpu:>7.1f} {db_cpu:>7.1f} {peak:>9,.0f}  "
                f"{code:>4}  {counts}"
            )
        if n in BEFORE:
            s, mib = BEFORE[n]
            print(
                f"{n:>9,} {'measured':<10} {s:>8.1f} {n / s:>8,.0f} {'':>15} {mib:>9,.0f}        (before streaming)"
            )
        print(
            f"{n:>9,} {'target':<10} {n / TARGET_ROWS_S:>8.1f} {TARGET_ROWS_S:>8,} {'':>15} {TARGET_MIB:>9,}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
