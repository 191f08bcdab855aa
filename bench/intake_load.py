"""Problem intake under load: POST /api/v1/problems/ against a bare Django JSON view, both served by
the same 2 gunicorn workers on PostGIS, driven by wrk over loopback.

Each request carries a token and a fresh client_uuid (so every one is a new report: no replay
shortcut), a random position in the town and one of six categories. The anchor (bench/bench_urls.py)
reads the same JSON body and answers JSON without touching the database. The intake is the DRF
view, an adapter over ``gridmap.problems.intake.problem_intake`` (there is no other road). Targets:
≥ 0.15 of the anchor's requests per second and p99 ≤ 50 ms at 8 connections, on PostGIS.

    .venv/bin/python bench/intake_load.py                      # 3 rounds of 8 s per endpoint
    .venv/bin/python bench/intake_load.py --rounds 5 --seconds 10 --connections 8
    .venv/bin/python bench/intake_load.py --worker-class sync  # gunicorn's default worker

The workers are gthread (4 threads each, HTTP keep-alive) by default: while one thread waits for
PostgreSQL (a round trip, a commit's WAL flush) another runs; sync workers serve one request at
a time and close every connection. Anchor and intake alternate in rounds on the same server, and
the load average (/proc/loadavg) is printed with every run: the machines here are shared, so
compare the two figures of one round.

Needs wrk (``apt-get install -y wrk``). A database ``gridmap_bench_intake`` (GRIDMAP_BENCH_DB) is
created on the server of GRIDMAP_BENCH_PG (default postgis://postgres@127.0.0.1:5432/gridmap_bench)
and dropped at the end; gunicorn listens on a free port of 127.0.0.1 and is stopped at the end.
Requests go to 127.0.0.1 only, for a bounded time.
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
os.environ.setdefault("GRIDMAP_BENCH_DB", "gridmap_bench_intake")  # not the listing bench's database
TARGET_RATIO, TARGET_P99_MS = 0.15, 50.0
ANCHOR, INTAKE = "bare Django JSON view", "POST /api/v1/problems/"

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


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _children(ppid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


class ServerCpu:
    """CPU time spent by the gunicorn workers and by the PostgreSQL backends serving them (less
    sensitive to a busy machine than requests per second: other people's work slows a request
    down but does not make it cost more CPU)."""

    def __init__(self, master: int) -> None:
        self.master = master

    def _pids(self) -> dict[str, list[int]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")  # fmt: skip
            backends = [pid for (pid,) in cursor.fetchall()]
        return {"gunicorn": _children(self.master), "postgres": backends}

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {
            k: {p: c for p in pids if (c := _cpu_seconds(p)) is not None} for k, pids in self._pids().items()
        }

    def since(self, before: dict[str, dict[int, float]]) -> dict[str, float]:
        after = self.snapshot()
        return {k: sum(c - before[k].get(p, 0.0) for p, c in after[k].items()) for k in after}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def gunicorn_command(args: argparse.Namespace, port: int) -> list[str]:
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "gridmap.wsgi:application", "-w", str(args.workers),
           "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
           "--worker-class", args.worker_class]  # fmt: skip
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads), "--keep-alive", "5"]
    return [*cmd, "--http-parser", args.http_parser]


def forget_reports_after(top: int) -> None:
    """Delete the reports of a run (their events first) and VACUUM ANALYZE both tables, so that
    every run starts from the same town: ten thousand reports a run at random places would
    otherwise make each round's town denser in open problems (more candidates, more duplicates
    per answer) than the last."""
    from django.db import IntegrityError, connection, transaction

    from gridmap.problems.models import Problem, ProblemEvent

    problems, events = Problem._meta.db_table, ProblemEvent._meta.db_table
    for _ in range(50):  # a request still in flight when wrk stopped may commit a report meanwhile
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f'DELETE FROM "{events}" WHERE problem_id > %s', [top])
                cursor.execute(f'DELETE FROM "{problems}" WHERE id > %s', [top])
            break
        except IntegrityError:
            continue
    else:
        raise RuntimeError("the run's reports could not be deleted: requests kept landing")
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM ANALYZE "{problems}", "{events}"')


def parser_name(args: argparse.Namespace) -> str:
    if args.http_parser == "python":
        return "Python"
    try:
        import gunicorn_h1c
    except ImportError:
        return "Python"
    return f"C (gunicorn_h1c {gunicorn_h1c.__version__})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3, help="anchor and intake runs, alternating")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--keep-reports", action="store_true",
                        help="let the reports of every run accumulate instead of deleting them after it")  # fmt: skip
    parser.add_argument("--http-parser", choices=("auto", "fast", "python"), default="auto",
                        help="gunicorn's HTTP parser: its C parser (gunicorn_h1c) when installed, or Python's")  # fmt: skip
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
    endpoints = [(ANCHOR, "/bench/bare/"), (INTAKE, "/api/v1/problems/")]
    runs: list[tuple[int, str, dict]] = []
    try:
        town = build_town()
        add_problems(town, 800)
        connection.close()
        port = free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings", "PYTHONPATH": str(ROOT),
               "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + "/" + name}  # fmt: skip
        server = subprocess.Popen(gunicorn_command(args, port), cwd=ROOT, env=env, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/api/v1/-/")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA)
        wrk_args = [*(f"{v:.6f}" for v in town_box()), town["reporter_token"]]
        town_top = Problem.objects.order_by("-pk").values_list("pk", flat=True).first()
        for _, path in endpoints:
            run_wrk(base + path, lua.name, wrk_args, 2, args.connections)  # warm-up
        if not args.keep_reports:
            forget_reports_after(town_top)
        cpu = ServerCpu(server.pid)
        for round_no in range(1, args.rounds + 1):
            for label, path in endpoints:
                before = Problem.objects.count()
                top = Problem.objects.order_by("-pk").values_list("pk", flat=True).first()
                cpu_before = cpu.snapshot()
                result = run_wrk(base + path, lua.name, wrk_args, args.seconds, args.connections)
                result["cpu"] = {k: v / max(result["requests"], 1) for k, v in cpu.since(cpu_before).items()}
                result["stored"] = Problem.objects.count() - before
                result["load"] = loadavg()
                runs.append((round_no, label, result))
                if not args.keep_reports:
                    forget_reports_after(top)
        os.unlink(lua.name)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        connection.close()
        drop_database(name)

    threads = f" × {args.threads} threads" if args.worker_class == "gthread" else ""
    print(f"gunicorn: {args.workers} {args.worker_class} workers{threads}, {parser_name(args)} HTTP parser, "
          "PostGIS; wrk: 2 threads, "
          f"{args.connections} connections, {args.seconds:g} s per endpoint and round")  # fmt: skip
    print("CPU ms/req: CPU time of the gunicorn workers and of their PostgreSQL backends per request")
    print(f"{'round':<6}{'endpoint':<24}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'stored':>7}"
          f"{'CPU ms/req: gunicorn':>22}{'postgres':>10}  load average")  # fmt: skip
    for round_no, label, r in runs:
        print(f"{round_no:<6}{label:<24}{r['rps']:>7.0f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['non2xx']:>8}"
              f"{r['stored']:>7}{r['cpu']['gunicorn'] * 1e3:>22.3f}{r['cpu']['postgres'] * 1e3:>10.3f}"
              f"  {r['load']}")  # fmt: skip
    for round_no in range(1, args.rounds + 1):
        of_round = {label: r for n, label, r in runs if n == round_no}
        anchor, ours = of_round[ANCHOR], of_round[INTAKE]
        ratio = ours["rps"] / anchor["rps"]
        print(f"round {round_no}: intake {ours['rps']:.0f} req/s = {ratio:.2f} × the anchor's {anchor['rps']:.0f}; "
              f"p99 {ours['p99_ms']:.1f} ms; targets ≥ {TARGET_RATIO:.2f} × the anchor "
              f"({'met' if ratio >= TARGET_RATIO else 'missed'}), p99 ≤ {TARGET_P99_MS:.0f} ms "
              f"({'met' if ours['p99_ms'] <= TARGET_P99_MS else 'missed'})")  # fmt: skip


if __name__ == "__main__":
    main()
