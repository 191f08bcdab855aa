"""A management command that does no web work starts fast: it runs no system checks (which import
every URLconf and view, so the whole site), and loading it imports no heavy library; the service
and libraries its work needs are imported when the work starts (``gridmap.core.management.cli``).

What is imported is read in a fresh interpreter (this test process has imported everything
already), never timed; bench/command_start.py has the times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]

# Commands that serve no web request (see NoWebCommand): no system checks.
NO_WEB = (
    "backup",
    "check_grids",
    "coverage",
    "escalate_overdue",
    "export_maps",
    "generate_grids",
    "hotspots",
    "import_layer",
    "import_osm",
    "load_demo",
    "plan_route",
    "restore",
    "suggest_sites",
)
# coverage, hotspots and suggest_sites list their analysis' choices (rules, cells, weights …) in
# --help, which live in the analysis modules; the others load with Django and light modules only.
NEEDS_ANALYSIS_TO_LOAD = frozenset({"coverage", "hotspots", "suggest_sites"})
HEAVY = ("geopandas", "pandas", "scipy", "sklearn", "folium", "pyrosm", "networkx", "pyogrio", "esda", "h3")
NEVER_ON_LOAD = ("sklearn", "folium", "pyrosm", "networkx", "esda")

# In a fresh interpreter: django.setup(), then each command class in turn; prints, as JSON, the
# heavy modules imported by the setup and by loading each command.
PROBE = """
import json, sys
import django
django.setup()
from django.core.management import get_commands, load_command_class
heavy = {heavy!r}
seen = {{"setup": sorted(m for m in heavy if m in sys.modules)}}
commands = get_commands()
for name in {names!r}:
    before = set(sys.modules)
    load_command_class(commands[name], name)
    seen[name] = sorted(m for m in heavy if m in sys.modules and m not in before)
print(json.dumps(seen))
"""


def fresh_python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gridmap.settings", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("name", NO_WEB)
def test_a_command_that_does_no_web_work_runs_no_system_checks(name):
    command = load_command_class(get_commands()[name], name)
    assert command.requires_system_checks == [], f"{name} runs the system checks before its work"


def test_setting_up_django_and_loading_the_commands_imports_no_heavy_library():
    # one at a time in order, so a module imported by one command is not charged to the next
    light = [n for n in NO_WEB if n not in NEEDS_ANALYSIS_TO_LOAD]
    done = fresh_python("-c", PROBE.format(heavy=HEAVY, names=[*light, *sorted(NEEDS_ANALYSIS_TO_LOAD)]))
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen.pop("setup") == [], "django.setup() (models, apps.py) imports heavy libraries"
    for name in light:
        assert seen[name] == [], f"loading {name} imports {seen[name]}"
    for name in NEEDS_ANALYSIS_TO_LOAD:
        assert not set(seen[name]) & set(NEVER_ON_LOAD), f"loading {name} imports {seen[name]}"


def imported(stderr: str) -> set[str]:
    """Module names in ``-X importtime`` output."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_help_imports_neither_the_site_nor_heavy_libraries():
    done = fresh_python("-X", "importtime", "manage.py", "plan_route", "--help")
    assert done.returncode == 0, done.stderr[-3000:]
    modules = imported(done.stderr)
    assert "gridmap.analysis.routes" not in modules
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_a_real_run_imports_no_url_or_view(tmp_path):
    """A route from a file of stops (no database), start to end: the system checks would import
    gridmap.urls and every view (folium, scikit-learn with them); the route needs none of them."""
    stops = tmp_path / "stops.geojson"
    points = [(120.8742265, 31.6199012), (120.8690402, 31.6230789), (120.8766281, 31.6189352)]
    features = [
        {"type": "Feature", "properties": {"id": i}, "geometry": {"type": "Point", "coordinates": p}}
        for i, p in enumerate(points, 1)
    ]
    stops.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    done = fresh_python(
        "-X", "importtime", "manage.py", "plan_route", "--stops", str(stops), "--format", "text"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "3 stops" in done.stdout, done.stdout
    modules = imported(done.stderr)
    assert "gridmap.urls" not in modules, "the system checks ran"
    assert not [m for m in modules if m.startswith("gridmap.") and ".views" in m]
    assert not modules & set(NEVER_ON_LOAD), sorted(modules & set(NEVER_ON_LOAD))
