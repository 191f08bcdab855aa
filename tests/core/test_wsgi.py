"""The WSGI entry point loads every view, then freezes what is loaded out of the collector's sight."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import gc, sys; before = gc.get_freeze_count(); import gridmap.wsgi; "
    "print(before, gc.get_freeze_count(), 'gridmap.api.views.problems' in sys.modules, "
    "callable(gridmap.wsgi.application))"
)


def test_the_loaded_application_is_frozen_out_of_full_collections(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "gridmap.settings", "DEBUG": "1",
           "GRIDMAP_DATA_DIR": str(tmp_path)}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    before, frozen, views_loaded, app = out.stdout.split()
    assert int(before) == 0
    assert views_loaded == "True" and app == "True"  # the URLconf's views were imported before the freeze
    assert int(frozen) > 50_000  # Django, DRF, GDAL, numpy and pandas: ~170k objects
