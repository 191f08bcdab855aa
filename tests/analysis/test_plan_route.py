"""manage.py plan_route on the demo town: a grid's and an inspector's route visit exactly the
open problems and due look-backs of that scope; JSON, GeoJSON, GPX and text outputs; a time
budget; stops from a GeoJSON file; bad input is refused with nothing written.

The demo town is the session's (tests/conftest.py), loaded once; each test's writes are rolled back.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import geopandas as gpd
import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone
from shapely.geometry import LineString

from gridmap.problems.models import OPEN_STATUSES, Problem, Status
from layers.projection import metric_crs_for
from layers.routes import held_karp, nearest_neighbour_route, read_gpx, route_length_m, stop_distances_m

GRID = "320581107001001"
INSPECTOR = "inspector_2"
CRS = metric_crs_for((120.873, 31.62))
LON0, LAT0 = 120.8700, 31.6200  # inside the demo town


@pytest.fixture
def demo(demo_town):
    """The session's demo town (tests/conftest.py); each test's writes are rolled back."""


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("plan_route", *args, stdout=out)
    return out.getvalue()


def due_or_open() -> Q:
    today = timezone.localdate()
    return Q(status__in=OPEN_STATUSES) | Q(lookback_due__lte=today, lookback_done_at__isnull=True)


def grid_ids() -> set[int]:
    return set(Problem.objects.filter(grid__code=GRID).filter(due_or_open()).values_list("pk", flat=True))


def inspector_ids() -> set[int]:
    user = get_user_model().objects.get(username=INSPECTOR)
    scope = Q(inspector=user) | Q(community__in=user.profile.patrol_communities.all())
    return set(Problem.objects.filter(scope).filter(due_or_open()).values_list("pk", flat=True))


def plant_non_stops() -> list[int]:
    """In the grid: a look-back not yet due, one already done, a rejected case — none is a stop."""
    closed = list(Problem.objects.filter(grid__code=GRID, status=Status.CLOSED).order_by("pk")[:3])
    assert len(closed) == 3
    tomorrow = timezone.localdate() + timedelta(days=1)
    Problem.objects.filter(pk=closed[0].pk).update(lookback_due=tomorrow, lookback_done_at=None)
    Problem.objects.filter(pk=closed[1].pk).update(lookback_due=tomorrow - timedelta(days=9),
                                                   lookback_done_at=timezone.now())  # fmt: skip
    Problem.objects.filter(pk=closed[2].pk).update(status=Status.REJECTED, lookback_due=None)
    return [p.pk for p in closed]


def test_grid_route_visits_exactly_the_open_problems_and_due_lookbacks(demo, db):
    planted = plant_non_stops()
    expected = grid_ids()
    assert not expected & set(planted)
    kinds = Problem.objects.filter(pk__in=expected)
    assert kinds.filter(status__in=OPEN_STATUSES).exists() and kinds.filter(status=Status.CLOSED).exists()
    data = json.loads(run("--grid", GRID, "--format", "json"))
    assert {"stops", "length_m", "duration_min"} <= set(data)
    assert all(set(stop) == {"id", "lon", "lat"} for stop in data["stops"])
    ids = [stop["id"] for stop in data["stops"]]
    assert len(ids) == len(set(ids)) and set(ids) == expected and data["dropped"] == []
    lonlat = np.array([[s["lon"], s["lat"]] for s in data["stops"]])
    d = stop_distances_m(lonlat)
    assert data["length_m"] == pytest.approx(route_length_m(d, list(range(len(ids)))), abs=1.0)
    assert data["length_m"] < route_length_m(d, nearest_neighbour_route(d))
    assert data["duration_min"] == pytest.approx(data["length_m"] / 75.0 + 3 * len(ids), abs=0.1)


def test_inspector_route_covers_assignments_and_patrol_communities(demo, db):
    user = get_user_model().objects.get(username=INSPECTOR)
    patrol = user.profile.patrol_communities.all()
    # an open problem outside the patrol communities, assigned to the inspector by name
    elsewhere = Problem.objects.filter(status__in=OPEN_STATUSES).exclude(community__in=patrol).first()
    Problem.objects.filter(pk=elsewhere.pk).update(inspector=user)
    expected = inspector_ids()
    assert elsewhere.pk in expected and len(expected) > 100
    data = json.loads(run("--inspector", INSPECTOR, "--start", f"{LON0},{LAT0}"))
    ids = [stop["id"] for stop in data["stops"]]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert data["start"] == [LON0, LAT0]


def test_network_metric_walks_along_the_streets(demo, db):
    straight = json.loads(run("--grid", GRID))
    collection = json.loads(run("--grid", GRID, "--metric", "network", "--format", "geojson"))
    features = collection["features"]
    stops = [f for f in features if f["properties"]["role"] == "stop"]
    (path,) = [f for f in features if f["properties"]["role"] == "path"]
    dropped = {s["id"] for s in json.loads(run("--grid", GRID, "--metric", "network"))["dropped"]}
    assert {f["properties"]["id"] for f in stops} | dropped == grid_ids()
    assert [f["properties"]["seq"] for f in stops] == list(range(1, len(stops) + 1))
    length_m = path["properties"]["length_m"]
    assert length_m >= straight["length_m"] * 0.999  # a walk along streets is never shorter
    line = gpd.GeoSeries([LineString(path["geometry"]["coordinates"])], crs=4326).to_crs(CRS).iloc[0]
    assert line.length == pytest.approx(length_m, rel=0.01)
    assert len(path["geometry"]["coordinates"]) > len(stops)  # it turns at street corners


def test_gpx_and_text_outputs(demo, db, tmp_path):
    target = tmp_path / "route.gpx"
    message = run("--grid", GRID, "--format", "gpx", "--output", str(target), "--end", f"{LON0},{LAT0}")
    assert "written to" in message
    waypoints, track = read_gpx(target.read_bytes())
    assert [w.name.split(". #")[0] for w in waypoints] == [str(n) for n in range(1, len(waypoints) + 1)]
    assert {int(w.name.split(". #")[1]) for w in waypoints} == grid_ids()
    assert all(w.desc for w in waypoints)
    assert not any(re.search("[A-Za-z]{3,}", w.desc) for w in waypoints), "Chinese only by default"
    english = tmp_path / "route-en.gpx"
    run("--grid", GRID, "--format", "gpx", "--output", str(english), "--language", "en")
    assert all(not re.search("[\u4e00-\u9fff]", w.desc.split(" ", 1)[1].split(" · ", 1)[1])
               for w in read_gpx(english.read_bytes())[0])  # status and deadline in English  # fmt: skip
    assert track[0] == pytest.approx((waypoints[0].lon, waypoints[0].lat), abs=1e-7)
    assert track[-1] == pytest.approx((LON0, LAT0), abs=1e-7)
    text = run("--grid", GRID, "--format", "text")
    assert f"route: grid {GRID}" in text and f"{len(grid_ids())} stops" in text
    assert "   1. [" in text


def test_time_budget_keeps_the_heaviest_stops_that_fit(demo, db):
    data = json.loads(run("--inspector", INSPECTOR, "--budget-min", "90", "--start", f"{LON0},{LAT0}"))
    kept = {s["id"] for s in data["stops"]}
    dropped = {s["id"] for s in data["dropped"]}
    assert data["duration_min"] <= 90.0 and kept and dropped
    assert kept | dropped == inspector_ids() and not kept & dropped
    is_open = dict(Problem.objects.filter(pk__in=kept | dropped).values_list("pk", "status"))
    share_open = np.mean([is_open[i] in OPEN_STATUSES for i in kept])
    assert share_open > np.mean([is_open[i] in OPEN_STATUSES for i in dropped])


def stops_file(tmp_path, features: list[dict], **extra) -> str:
    path = tmp_path / "stops.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features, **extra}), encoding="utf-8"
    )
    return str(path)


def feature(fid, lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": fid, **props}}  # fmt: skip


def test_stops_from_a_geojson_file(db, tmp_path):
    features = [feature(f"p{i}", LON0 + 0.001 * (i % 3), LAT0 + 0.001 * (i // 3)) for i in range(7)]
    data = json.loads(run("--stops", stops_file(tmp_path, features), "--round-trip"))
    assert sorted(s["id"] for s in data["stops"]) == sorted(f"p{i}" for i in range(7))
    assert data["closed"] is True
    lonlat = np.array([[s["lon"], s["lat"]] for s in data["stops"]])
    optimum, _ = held_karp(stop_distances_m(lonlat), closed=True)
    assert data["length_m"] == pytest.approx(optimum, abs=0.1)


@pytest.mark.parametrize(
    ("features", "extra", "message"),
    [
        ([feature("a", LON0, LAT0), feature("b", 1e308, LAT0)], {}, "feature 2"),
        ([feature("a", LON0, LAT0), feature("b", "abc", LAT0)], {}, "feature 2"),
        ([feature("a", LON0, LAT0), feature("a", LON0, LAT0)], {}, "twice"),
        ([feature(None, LON0, LAT0)], {}, "no id"),
        ([feature("a", LON0, LAT0, weight=-1)], {}, "weight"),
        (
            [
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[LON0, LAT0], [LON0, 31.63]]},
                    "properties": {"id": "l"},
                }
            ],
            {},
            "LineString",
        ),  # fmt: skip
        ([feature("a", LON0, LAT0)], {"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}, "crs"),
    ],
)
def test_bad_stop_files_are_refused_and_nothing_is_written(db, tmp_path, features, extra, message):
    out = tmp_path / "out.json"
    with pytest.raises(CommandError, match=message):
        run("--stops", stops_file(tmp_path, features, **extra), "--output", str(out))
    assert not out.exists()


def test_unreadable_stop_file(db, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read"):
        run("--stops", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        run("--stops", str(tmp_path / "missing.geojson"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", GRID, "--start", "1e308,31.62"], "longitude"),
        (["--grid", GRID, "--start", "abc,31.62"], "not a number"),
        (["--grid", GRID, "--start", "120.87"], "LON,LAT"),
        (["--grid", GRID, "--end", "nan,31.62"], "finite"),
        (["--grid", GRID, "--start", "31.62,120.87"], "latitude"),
        (["--grid", "999999999999999"], "no grid"),
        (["--inspector", "nobody"], "no user"),
        (["--inspector", "leader_01"], "not an inspector"),
        (["--grid", GRID, "--speed-kmh", "0"], "speed"),
        (["--grid", GRID, "--budget-min", "nan"], "budget"),
        (
            ["--grid", GRID, "--budget-min", "0.5", "--start", f"{LON0},{LAT0}", "--end", "120.88,31.625"],
            "budget",
        ),
    ],
)
def test_bad_input_is_a_command_error(demo, db, tmp_path, args, message):
    out = tmp_path / "out.gpx"
    with pytest.raises(CommandError, match=message):
        run(*args, "--format", "gpx", "--output", str(out))
    assert not out.exists()
