"""The city bench: the city of bench/scale.py loaded through the real import path and served by
gunicorn, every page and API answer timed per role, cold and warm, beside the demo town.

    .venv/bin/python bench/city.py --town                 # the demo town's figures (~3 min), kept
    .venv/bin/python bench/city.py                        # build, load (~15 min at 1M), serve, time
    .venv/bin/python bench/city.py --reuse                # keep the loaded database, time again
    .venv/bin/python bench/city.py --problems 20000       # a smaller trial (its own database)
    .venv/bin/python bench/city.py --reuse --only "planner,route" --roles planner,inspector

Stages (each timed): 1. the city's files under data/bench/city/files/ (GeoPackage, users.json;
reused when built for the same seed and size); 2. its own PostGIS database (``gridmap_city``, or
``gridmap_city_<N>`` for a trial; created on the server of --server, never reconfigured),
migrated and loaded with ``manage.py import_layer`` per target, users and history as the demo
gets them (bench/city_load.py, bench/city_db.py); with --reuse a complete earlier load is kept;
3. gunicorn (deploy/gunicorn.conf.py, 2 sync workers, DEBUG off, the cache in Redis db 11,
flushed first) and every URL per role (bench/city_pages.py); 4. workers' peak memory, how fast
light management commands start (bench/command_start.py's way), and the table with every miss
flagged (bench/city_table.py), also written to data/bench/city/result.md and result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import city_table as table  # noqa: E402
from bench.city_files import build_files  # noqa: E402
from bench.city_load import PYTHON, create_database, load_or_reuse, run_child  # noqa: E402
from bench.city_pages import Server, changer, login, place_of, time_role, users_of  # noqa: E402

OUT = ROOT / "data" / "bench" / "city"
PASSWORD = "gridmap-demo"  # settings.GRIDMAP["DEMO_PASSWORD"]: the demo's and the city's users
FULL = 1_000_000


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=FULL, help="problems in the city (default 1,000,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier complete load")
    parser.add_argument("--town", action="store_true", help="time the demo town instead (kept for the table)")
    parser.add_argument("--server", default="postgis://postgres@127.0.0.1:5432", help="PostGIS server URL")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/11", help="Redis the workers share")
    parser.add_argument(
        "--broker-url",
        default="redis://127.0.0.1:6379/12",
        help="Redis for a Celery worker beside gunicorn ('' for none: tasks in the web process)",
    )
    parser.add_argument("--warm", type=int, default=3, help="warm repeats per URL (median)")
    parser.add_argument("--roles", help="comma-separated roles (default: all six)")
    parser.add_argument("--only", help="comma-separated works (rows) to time (default: all)")
    parser.add_argument("--no-commands", action="store_true", help="skip the command start figures")
    return parser.parse_args(argv)


def serve_and_time(url: str, opts: argparse.Namespace, log: Path) -> dict:
    database = url.rsplit("/", 1)[1]
    place = place_of(database)
    users = users_of(database, place)
    if opts.roles:
        users = {r: u for r, u in users.items() if r in opts.roles.split(",")}
    only = set(opts.only.split(",")) if opts.only else None
    subprocess.run(["redis-cli", "-u", opts.cache_url, "FLUSHDB"], check=True, capture_output=True)
    if opts.broker_url:
        subprocess.run(["redis-cli", "-u", opts.broker_url, "FLUSHDB"], check=True, capture_output=True)
    began = time.perf_counter()
    server = Server(url, opts.cache_url, log, broker_url=opts.broker_url)
    started = time.perf_counter() - began
    print(f"gunicorn on {server.base} (up in {started:.1f} s); {place}", flush=True)
    pages = []
    rows_file = log.with_suffix(".rows.jsonl")  # each row as it is timed: a run cut short keeps them
    rows_file.write_text("")

    def record(t) -> None:
        with rows_file.open("a") as out:
            out.write(json.dumps(asdict(t), ensure_ascii=False) + "\n")

    try:
        change = changer(database, place)
        for role, username in users.items():
            session = login(server.base, username, PASSWORD)
            pages += time_role(
                server.base, session, role, place, change, warm_runs=opts.warm, only=only, record=record
            )
        workers_mb = server.worker_peak_mb()
        celery_mb = server.celery_peak_mb()
    finally:
        server.stop()
    return {"place": asdict(place), "users": users, "pages": [asdict(p) for p in pages],
            "workers_mb": workers_mb, "celery_mb": celery_mb, "seconds": round(time.perf_counter() - began, 1)}  # fmt: skip


def after_load(url: str, log: Path) -> dict[str, dict]:
    """What a deployment does after loading: migrate (a reused database may predate new tables)
    and one run of every periodic job, as the workers would (analysis and summary refreshes,
    escalation), timed with its peak memory."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only-not-secret", "DEBUG": "0",
           "GRIDMAP_DB_STATEMENT_TIMEOUT": "0", "LOG_LEVEL": "ERROR",
           # the escalation backlog of a freshly generated history (172,864 overdue cases) and its
           # look-back backlog (654,847 due: the generator does few look-backs) are not what a
           # deployment meets every 15 minutes or every hour; they would take the bench's time
           "GRIDMAP_SCHEDULE": "escalate-overdue=0,lookback-reminders=0"}  # fmt: skip
    stages = {"migrate (again)": run_child([PYTHON, "manage.py", "migrate", "-v0"], env, log),
              "periodic jobs once (refreshes)": run_child([PYTHON, "manage.py", "run_schedule", "--once"], env, log)}  # fmt: skip
    # what autovacuum does soon after a bulk load (and what docs/operations.md asks after a large
    # import): statistics and the visibility map, without which counts read the heap
    stages["vacuum (analyze)"] = run_child(["vacuumdb", "--analyze", "--quiet", "--dbname", url.replace("postgis://", "postgresql://")], env, log)  # fmt: skip
    return stages


def command_starts(url: str, runs: int = 3) -> dict[str, float]:
    """Seconds from launch to ``handle()`` of ``import_layer`` (a dry run of one facility) and
    wall time of ``--help`` of light commands, median of ``runs`` (bench/command_start.py)."""
    from bench.command_start import run

    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only-not-secret", "PYTHONPATH": str(ROOT)}
    one = OUT / "one_facility.geojson"
    one.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties":
        {"id": "bench-1", "kind": "hydrant"}, "geometry": {"type": "Point", "coordinates": [120.62, 31.3]}}]}))  # fmt: skip
    out = {"import_layer (to handle)": statistics.median(
        run(ROOT, env, ["import_layer", "facilities", str(one)], timed=True)[2] for _ in range(runs))}  # fmt: skip
    for name in ("plan_route", "escalate_overdue", "check_grids"):
        out[f"{name} --help (wall)"] = statistics.median(
            run(ROOT, env, [name, "--help"])[0] for _ in range(runs)
        )
    return {k: round(v, 2) for k, v in out.items()}


def town(opts: argparse.Namespace) -> int:
    url = f"{opts.server}/gridmap_city_town"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only-not-secret", "DEBUG": "0"}
    if not opts.reuse or not (OUT / "town.json").exists():
        create_database(url)
        stages = {"migrate": run_child([PYTHON, "manage.py", "migrate", "-v0"], env, OUT / "town-load.log"),
                  "load_demo": run_child([PYTHON, "manage.py", "load_demo"], env, OUT / "town-load.log")}  # fmt: skip
        print(f"town loaded: {stages}", flush=True)
    print(f"after the load: {after_load(url, OUT / 'town-after-load.log')}", flush=True)
    result = serve_and_time(url, opts, OUT / "town-gunicorn.log")
    if opts.only and (OUT / "town.json").exists():  # a partial run replaces only its rows
        kept = json.loads((OUT / "town.json").read_text())
        fresh = {(p["work"], p["role"]) for p in result["pages"]}
        result["pages"] = [p for p in kept["pages"] if (p["work"], p["role"]) not in fresh] + result["pages"]
        if max(kept["workers_mb"], default=0) > max(result["workers_mb"], default=0):
            result["workers_mb"] = kept["workers_mb"]  # the peak of the fuller run
    (OUT / "town.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    rows = table.page_rows(result["pages"], result["pages"]) + table.memory_rows(result["workers_mb"], [])
    print(table.markdown(rows))
    return 0


def report(result: dict, town_result: dict) -> str:
    rows = table.page_rows(result["pages"], town_result.get("pages", []))
    rows += table.memory_rows(result["workers_mb"], town_result.get("workers_mb", []))
    rows += table.memory_rows(
        result.get("celery_mb", []), town_result.get("celery_mb", []), what="Celery worker"
    )
    rows += table.import_rows(result["load"]["stages"])
    rows += table.command_rows(result.get("commands", {}))
    stamp = result["when"]
    lines = [f"City bench, {stamp}, commit {result['commit']}, {result['problems']:,} problems; "
             f"load average before {result['load_before']}; {table.misses_count(rows)} rows miss a target.", "",
             "Times: total time of the request as the client sees it over loopback (gunicorn, 2 sync workers). "
             "First: the run's first request of the page for the role (the shared cache emptied at the start: "
             "nothing kept for it yet; no target). Cold: the request after an edit of one problem and one "
             "facility of the town shown; "
             "warm: median of the repeats. Town: the demo town, same server settings.", "",
             table.markdown(rows), "", "Not open to the role (403) or outside its scope (404):",
             *table.denied_lines(result["pages"]), "", "Stages: " + ", ".join(f"{k} {v} s" for k, v in result["stages"].items())]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if opts.town:
        return town(opts)
    name = "gridmap_city" if opts.problems == FULL else f"gridmap_city_{opts.problems}"
    url = f"{opts.server}/{name}"
    stages: dict[str, float] = {}
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t0 = time.perf_counter()
    files = OUT / ("files" if opts.problems == FULL else f"files-{opts.problems}")
    manifest = build_files(files, problems=opts.problems)
    stages["files"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    load = load_or_reuse(url, files, manifest, OUT, reuse=opts.reuse)
    stages["load"] = round(time.perf_counter() - t0, 1)
    load["stages"] = {**load["stages"], **after_load(url, OUT / "after-load.log")}
    print(f"after the load: {load['stages']}", flush=True)
    result = serve_and_time(url, opts, OUT / "gunicorn.log")
    stages["pages"] = result["seconds"]
    if not opts.no_commands:
        t0 = time.perf_counter()
        result["commands"] = command_starts(url)
        stages["commands"] = round(time.perf_counter() - t0, 1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    result.update(load=load, stages=stages, problems=opts.problems, commit=commit.stdout.strip(),
                  when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load_before=load_before)  # fmt: skip
    town_path = OUT / "town.json"
    town_result = json.loads(town_path.read_text()) if town_path.exists() else {}
    text = report(result, town_result)
    (OUT / "result.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    (OUT / "result.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
