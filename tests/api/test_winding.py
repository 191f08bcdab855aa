"""RFC 7946 winding on real outputs: the analysis API's polygons (gaps, hotspots), the layers the
database writes (grids, buildings), and the coverage command's ``--area`` file, on the demo town;
and the database's writing rule (``gridmap.core.geojson``) held equal to the pure writer's."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import call_command
from rest_framework.test import APIClient
from shapely.geometry import MultiPolygon, Polygon, shape

from gridmap.core.geojson import geojson_column
from gridmap.geography.models import Grid
from layers.io import geometry_texts
from tests.layers.io.test_geojson_writer import assert_right_hand, polygons_of

pytestmark = pytest.mark.django_db


def planner() -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="demo_planner"))
    return client


def polygonal(features: list[dict]) -> int:
    count = 0
    for feature in features:
        assert feature["geometry"] is not None, feature.get("id")
        assert_right_hand(feature["geometry"])
        count += len(polygons_of(feature["geometry"]))
    return count


HOTSPOTS = "/api/v1/analysis/hotspots/?status=all&days=200&page_size=1000&method="


@pytest.mark.parametrize(
    "url",
    ["/api/v1/analysis/gaps/?kind=hydrant&page_size=1000", HOTSPOTS + "dbscan&eps_m=20&min_samples=15",
     HOTSPOTS + "gistar", "/api/v1/grids/?page_size=1000", "/api/v1/buildings/?page_size=1000"],
)  # fmt: skip
def test_api_polygons_wind_by_the_right_hand_rule(demo_town, url):
    response = planner().get(url)
    assert response.status_code == 200
    assert polygonal(response.json()["features"]) > 0


def test_hotspot_times_are_iso_with_t(demo_town):
    body = planner().get(HOTSPOTS + "dbscan&eps_m=20&min_samples=15").json()
    times = [
        v
        for f in body["features"]
        for k, v in f["properties"].items()
        if k.endswith(("_at", "first", "last"))
    ]
    texts = [t for t in times if isinstance(t, str)]
    assert texts and len(texts) == len(times)
    assert all("T" in t and t.endswith("Z") and " " not in t for t in texts), texts[:3]


def test_the_coverage_area_file_has_no_null_geometry_and_winds_right(demo_town, tmp_path):
    out = tmp_path / "area.geojson"
    call_command("coverage", "hydrant", "--area", "--format", "geojson", "--output", str(out))
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert polygonal(doc["features"]) > 0
    grids = Grid.objects.count()
    assert len(doc["features"]) + doc["dropped_empty"] == grids  # a covered grid is counted, not null


def test_the_database_writes_polygons_as_the_pure_writer_does(db):
    """A clockwise shell with a counter-clockwise hole, stored as given: the database's GeoJSON and
    the pure writer's have the same rings in the same order (right-hand)."""
    from tests.factories import LAT0, LON0, region_tree

    (community,) = region_tree()
    x, y = LON0, LAT0
    shell = [(x, y), (x, y + 0.002), (x + 0.002, y + 0.002), (x + 0.002, y), (x, y)]  # clockwise
    hole = [
        (x + 0.0005, y + 0.0005),
        (x + 0.001, y + 0.0005),
        (x + 0.001, y + 0.001),
        (x + 0.0005, y + 0.0005),
    ]
    polygon = Polygon(shell, [hole])
    geom = GEOSGeometry(MultiPolygon([polygon]).wkt, srid=4326)
    grid = Grid.objects.create(code="320581107001099", name="绕向", community=community, geom=geom)
    stored = Grid.objects.filter(pk=grid.pk)
    assert json.loads(stored.get().geom.json)["coordinates"][0][0][1] == pytest.approx(list(shell[1]))
    from_db = json.loads(stored.annotate(g=geojson_column()).values_list("g", flat=True)[0])
    (pure,) = geometry_texts([shape(json.loads(stored.get().geom.json))])
    assert_right_hand(from_db)
    pure_rings = [ring for part in json.loads(pure)["coordinates"] for ring in part]
    db_rings = [ring for part in from_db["coordinates"] for ring in part]
    assert len(db_rings) == len(pure_rings) == 2
    for mine, theirs in zip(db_rings, pure_rings, strict=True):
        assert np.allclose(np.asarray(mine), np.asarray(theirs), atol=1e-9)


def test_the_database_leaves_lines_and_points_as_they_are(db):
    """PostGIS's ST_ForcePolygonCCW reverses lines; the rule applies it to polygons only."""
    from django.contrib.gis.geos import LineString

    from gridmap.geography.models import Street
    from tests.factories import LAT0, LON0

    coords = [(LON0, LAT0), (LON0 + 0.002, LAT0 + 0.001), (LON0 + 0.001, LAT0 + 0.002)]
    street = Street.objects.create(name="东街", geom=LineString(coords, srid=4326))
    written = json.loads(
        Street.objects.filter(pk=street.pk).annotate(g=geojson_column()).values_list("g", flat=True)[0]
    )
    assert np.allclose(np.asarray(written["coordinates"]), np.asarray(coords), atol=1e-9)
