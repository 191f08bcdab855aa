"""Problem intake under load: POST /api/v1/problems/ against a bare Django JSON view, both served by
the same 2 gunicorn workers (sync) on PostGIS, driven by wrk over loopback.

Each request carries a token and a fresh client_uuid (so every one is a new report: no replay
shortcut), a random position in the town and one of six categories. The anchor (bench/bench_urls.py)
reads the same JSON body and answers JSON without touching the database. Targets
(docs PERFORMANCE.md): ≥ 1,000 req/s and p99 ≤ 20 ms on PostGIS.

    .venv/bin/python bench/intake_load.py                # 10 s per run, 4 connections
    .venv/bin/python bench/intake_load.py --seconds 20 --connections 8

Needs wrk (``apt-get install -y wrk``). A database ``gridmap_bench`` is created on the server of
GRIDMAP_BENCH_PG (default postgis://postgres@127.0.0.1:5432/gridmap_bench) and dropped at the end;
gunicorn listens on a free port of 127.0.0.1 and is stopped at the end. Requests go to 127.0.0.1
only, for a bounded time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("GRIDMAP_BENCH_PG", "postgis://postgres@127.0.0.1:5432/gridmap_bench")
TARGET_RPS, TARGET_P99_MS = 1000.0, 20.0

# wrk script: a JSON report with a fresh UUID per request; prints a JSON summary at the end.
LUA = r"""
local threads, counter = {}, 0
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
  box = {tonumber(args[1]), tonumber(args[2]), tonumber(args[3]), tonumber(args[4])}
  token = args[5]
  categories = {"0101", "0201", "0202", "0301", "0302", "0401"}
end
local function hex(n) return string.format("%04x", math.random(0, 0xffff)) end
function request()
  counter = counter + 1
  local uuid = hex() .. hex() .. "-" .. hex() .. "-4" .. string.sub(hex(), 2) .. "-a" ..
               string.sub(hex(), 2) .. "-" .. hex() .. hex() .. hex()
  local lon = box[1] + math.random() * (box[3] - box[1])
  local lat = box[2] + math.random() * (box[4] - box[2])
  local body = string.format(
    '{"lon": %.7f, "lat": %.7f, "category": "%s", "description": "占道经营 %d", "client_uuid": "%s"}',
    lon, lat, categories[(counter % #categories) + 1], counter, uuid)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Token " .. token}, body)
end
function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            return  # any HTTP answer (our JSON 404) means the workers are up
        except OSError:
            time.sleep(0.2)
            continue
        return
    raise RuntimeError("gunicorn did not answer")


def run_wrk(url: str, script: str, args: list[str], seconds: float, connections: int) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "2s", "-s", script,
           url, "--", *args]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    result = json.loads(line[len("WRKJSON ") :])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    os.environ["DATABASE_URL"] = PG_URL
    from bench.bench_data import (
        add_problems,
        build_town,
        create_database,
        drop_database,
        setup_django,
        town_box,
    )

    setup_django()
    from django.db import connection

    from gridmap.problems.models import Problem

    name = create_database()
    server = None
    try:
        town = build_town()
        add_problems(town, 800)
        connection.close()
        port = free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings", "PYTHONPATH": str(ROOT),
               "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + "/" + name}  # fmt: skip
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "gridmap.wsgi:application", "-w", str(args.workers),
             "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/api/v1/-/")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA)
        wrk_args = [*(f"{v:.6f}" for v in town_box()), town["reporter_token"]]
        results = {}
        for label, path in (
            ("bare Django JSON view", "/bench/bare/"),
            ("POST /api/v1/problems/", "/api/v1/problems/"),
        ):
            run_wrk(base + path, lua.name, wrk_args, 2, args.connections)  # warm-up
            before = Problem.objects.count()
            results[label] = run_wrk(base + path, lua.name, wrk_args, args.seconds, args.connections)
            results[label]["stored"] = Problem.objects.count() - before
        os.unlink(lua.name)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        connection.close()
        drop_database(name)

    print(f"gunicorn: {args.workers} sync workers, PostGIS; wrk: 2 threads, {args.connections} connections, "
          f"{args.seconds:g} s per endpoint")  # fmt: skip
    print(f"{'endpoint':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'stored':>8}")
    for label, r in results.items():
        print(f"{label:<26}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['non2xx']:>9}"
              f"{r['stored']:>8}")  # fmt: skip
    ours, anchor = results["POST /api/v1/problems/"], results["bare Django JSON view"]
    print(f"ratio to the anchor: {ours['rps'] / anchor['rps']:.2f}; targets ≥ {TARGET_RPS:.0f} req/s "
          f"({'met' if ours['rps'] >= TARGET_RPS else 'missed'}), p99 ≤ {TARGET_P99_MS:.0f} ms "
          f"({'met' if ours['p99_ms'] <= TARGET_P99_MS else 'missed'})")  # fmt: skip


if __name__ == "__main__":
    main()
