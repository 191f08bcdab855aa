"""How long the management commands that do no web work take to start.

    .venv/bin/python bench/command_start.py                 # every command, 3 runs each, ~2 min
    .venv/bin/python bench/command_start.py --runs 5 plan_route coverage
    .venv/bin/python bench/command_start.py --root /other/checkout   # the same figures for other code

Makes a SpatiaLite database in a temporary folder (migrate + load_demo; the dev database is never
touched), then per command, each a fresh process (median of --runs):

- ``help``: wall time of ``manage.py CMD --help`` (interpreter, ``django.setup()``, the command's
  module and what it imports; no system checks, no work);
- ``start``: from launching ``manage.py CMD ARGS`` to the first line of its ``handle()``
  (the above plus the system checks the command runs, if any);
- ``run``: the whole real run on the demo town (start, imports its work needs, the work).

Wall times move with the machine's load (printed before and after); ``cpu`` (user + system
seconds of the process) moves less.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"

# Loads manage.py as __main__ with handle() wrapped: prints the seconds since launch at its start.
TIMED = """
import os, sys, time, runpy
from django.core.management import base
launched = float(os.environ["CMD_START_LAUNCHED"])
execute = base.BaseCommand.execute
def timed_execute(self, *args, **options):
    handle = self.handle
    def timed_handle(*a, **k):
        print(f"CMD_START {time.time() - launched:.3f}", file=sys.stderr)
        return handle(*a, **k)
    self.handle = timed_handle
    return execute(self, *args, **options)
base.BaseCommand.execute = timed_execute
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
"""


def commands(tmp: Path) -> dict[str, list[str]]:
    """A small real run of each command on the demo town."""
    pbf = next(ROOT.joinpath(".venv").glob("lib/python3*/site-packages/pyrosm/data/test.osm.pbf"), None)
    return {
        "plan_route": ["--grid", "320581107002005", "--format", "text", "--output", str(tmp / "r.txt")],
        "coverage": ["hydrant", "--format", "json", "--output", str(tmp / "c.json")],
        "hotspots": ["--gistar", "--format", "json", "--output", str(tmp / "h.json")],
        "suggest_sites": [
            "hydrant",
            "--grid",
            "320581107002005",
            "--best",
            "2",
            "--output",
            str(tmp / "s.json"),
        ],
        "escalate_overdue": [],
        "import_layer": ["facilities", str(ROOT / "fixtures/demo_town/facilities.geojson")],
        "import_osm": [str(pbf)],
        "check_grids": [],
        "generate_grids": ["320581107001", "--replace"],
        "backup": [str(tmp / "b.tar.gz")],
        "restore": [str(tmp / "b.tar.gz"), "--check"],
        "export_maps": ["--out", str(tmp / "maps"), "--leader", "leader_01"],
    }


def run(
    root: Path, env: dict[str, str], argv: list[str], *, timed: bool = False
) -> tuple[float, float, float | None]:
    env = {**env, "CMD_START_LAUNCHED": repr(time.time())}
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    args = [str(PYTHON), "-c", TIMED, *argv] if timed else [str(PYTHON), "manage.py", *argv]
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
    if done.returncode not in (0, 3):  # 3: an import with rows refused
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    start = [float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("CMD_START ")]
    return wall, cpu, (start[0] if start else None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="commands (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose manage.py runs")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridmap-cmdstart-") as folder:
        tmp = Path(folder)
        env = {
            **os.environ,
            "DATABASE_URL": f"spatialite:///{tmp / 'db.sqlite3'}",
            "GRIDMAP_DATA_DIR": str(tmp),
            "DEBUG": "1",
            "PYTHONPATH": str(opts.root),
        }
        for step in (["migrate", "-v0"], ["load_demo"]):
            subprocess.run([str(PYTHON), "manage.py", *step], cwd=opts.root, env=env, check=True,
                           capture_output=True)  # fmt: skip
        table = commands(tmp)
        names = opts.names or list(table)
        print(
            f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {opts.runs} runs, median, seconds"
        )
        print(f"{'command':<18} {'help':>6} {'cpu':>6} {'start':>6} {'run':>6} {'cpu':>6}")
        for name in names:
            helps = [run(opts.root, env, [name, "--help"]) for _ in range(opts.runs)]
            real = [run(opts.root, env, [name, *table[name]], timed=True) for _ in range(opts.runs)]
            starts = [s for _, _, s in real if s is not None]
            cells = [
                statistics.median(h[0] for h in helps),
                statistics.median(h[1] for h in helps),
                statistics.median(starts) if starts else float("nan"),
                statistics.median(r[0] for r in real),
                statistics.median(r[1] for r in real),
            ]
            print(f"{name:<18} " + " ".join(f"{c:>6.2f}" for c in cells), flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
