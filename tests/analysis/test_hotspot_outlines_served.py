"""The hotspots layer as clients read it has one geometry type: five problems reported at one spot
(a Point hull) and six along a lane (a LineString hull) come out of the REST API and the OGC API
as right-hand wound Polygons around their problems (``layers.hotspots.clusters``)."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from tests.api.conftest import SPOT, as_user, english, fresh_code_books, report, town  # noqa: F401
from tests.factories import LAT0, LON0
from tests.layers.io.test_geojson_writer import assert_right_hand

pytestmark = pytest.mark.django_db

LANE = [(LON0 + 0.003, LAT0 + 0.0013 + k * 4.5e-5) for k in range(6)]  # 5 m apart, due north


@pytest.fixture
def stacked(town):  # noqa: F811
    for _ in range(5):
        report(town, SPOT)
    for spot in LANE:
        report(town, spot)
    return town


def assert_polygons_around(features: list[dict]) -> None:
    assert sorted(f["properties"]["size"] for f in features) == [5, 6]
    for feature in features:
        assert feature["geometry"]["type"] == "Polygon"
        assert_right_hand(feature["geometry"])
        outline = shape(feature["geometry"])
        assert outline.is_valid and outline.area > 0
        spots = [SPOT] if feature["properties"]["size"] == 5 else LANE
        assert all(outline.contains(Point(s)) for s in spots)


def test_the_rest_api_hotspots_are_polygons(stacked, as_user):  # noqa: F811
    client = as_user(stacked["admin"])
    response = client.get("/api/v1/analysis/hotspots/?method=dbscan&eps_m=20&min_samples=5&status=all")
    assert response.status_code == 200, response.content
    assert_polygons_around(response.json()["features"])


def test_the_ogc_hotspots_collection_is_polygons(stacked, as_user):  # noqa: F811
    client = as_user(stacked["admin"])
    response = client.get("/ogc/collections/hotspots/items", {"limit": 100})
    assert response.status_code == 200, response.content
    assert_polygons_around(response.json()["features"])
    # and the collection says so, in its schema and in the API document (one type for a GIS layer)
    schema = client.get("/ogc/collections/hotspots/schema").json()
    assert schema["properties"]["geometry"] == {"format": "geometry-polygon"}
    document = client.get("/ogc/api").json()
    geometry = document["components"]["schemas"]["hotspots_feature"]["properties"]["geometry"]
    assert geometry["properties"]["type"]["enum"] == ["Polygon"]
