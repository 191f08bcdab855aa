"""The leader map's layers from the database: every frame in EPSG:4326, analyses cached by their data."""

import geopandas as gpd
import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.maps import analysis
from gridmap.maps.selectors import area_figures, area_layers, communities_visible_to
from gridmap.problems.models import EventCategory, Problem, ProblemPhoto, Status
from tests.factories import LAT0, LON0, box, grid, region_tree, user

pytestmark = pytest.mark.django_db

KEYS = {"boundary", "buildings", "facilities", "problems", "heat", "hotspots", "coverage_gaps",
        "uncovered_buildings", "negative_list", "positive_sites"}  # fmt: skip


@pytest.fixture
def area():
    (community,) = region_tree(community_box=(LON0, LAT0, LON0 + 0.006, LAT0 + 0.004))
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.006, LAT0 + 0.004))  # about 570 x 440 m
    for i in range(4):
        x = LON0 + 0.0005 + i * 0.0013
        Building.objects.create(
            geom=box(x, LAT0 + 0.001, x + 0.0002, LAT0 + 0.0012), grid=g, households=5 + i
        )
    hydrant = FacilityKind.objects.get(code="hydrant")
    Facility.objects.create(kind=hydrant, geom=Point(LON0 + 0.0006, LAT0 + 0.0011), grid=g)
    cat = EventCategory.objects.get(code="0101")
    now = timezone.now()
    for i in range(12):
        Problem.objects.create(
            geom=Point(LON0 + 0.0002 + (i % 3) * 0.0002, LAT0 + 0.0002 + (i // 3) * 0.0002),
            grid=g, community=community, category=cat, description=f"p{i}",
            status=Status.DISPATCHED if i < 5 else Status.CLOSED,
            deadline=now - timezone.timedelta(hours=1) if i < 2 else None,
        )  # fmt: skip
    return community, g


def test_every_layer_is_a_wgs84_frame_with_the_database_counts(area):
    _, g = area
    layers = area_layers([g])
    assert set(layers) == KEYS
    assert all(isinstance(f, gpd.GeoDataFrame) and f.crs.to_epsg() == 4326 for f in layers.values())
    assert len(layers["problems"]) == 12 and len(layers["heat"]) == 5 and len(layers["negative_list"]) == 5
    assert layers["problems"]["overdue"].sum() == 2
    assert list(layers["negative_list"]["reported_at"]) == sorted(layers["negative_list"]["reported_at"])
    assert (
        len(layers["hotspots"]) >= 2
        and layers["hotspots"]["hotspot"].isin(["hot_99", "hot_95", "hot_90"]).any()
    )
    uncovered = layers["uncovered_buildings"]
    far = uncovered[uncovered["kind"] == "hydrant"]
    assert len(far) == 2  # the two buildings more than 150 m from the only hydrant
    assert (far["distance_m"] > 150).all()
    assert set(layers["coverage_gaps"]["kind"]) >= {"hydrant"}


def test_photos_travel_as_ids_before_photos_first(area):
    _, g = area
    problem = Problem.objects.filter(grid=g).order_by("pk").first()
    after = ProblemPhoto.objects.create(problem=problem, image="x/a.jpg", stage="after")
    before = ProblemPhoto.objects.create(problem=problem, image="x/b.jpg", stage="before")
    photos = area_layers([g])["problems"].set_index("id")["photos"]
    assert photos[problem.pk] == f"{before.pk},{after.pk}"


def test_analyses_are_cached_until_their_data_changes(area, monkeypatch):
    _, g = area
    calls = []
    real = analysis._hotspots
    monkeypatch.setattr(analysis, "_hotspots", lambda *a: calls.append(1) or real(*a))
    area_layers([g])
    area_layers([g])
    assert len(calls) == 1
    Problem.objects.filter(grid=g).update(status=Status.CLOSED)  # closed problems still count in Gi*
    area_layers([g])
    assert len(calls) == 1
    Problem.objects.filter(grid=g, description="p0").update(status=Status.REJECTED)  # no longer counted
    area_layers([g])
    assert len(calls) == 2
    Problem.objects.create(geom=Point(LON0 + 0.005, LAT0 + 0.003), grid=g, community=g.community,
                           category=EventCategory.objects.get(code="0101"))  # fmt: skip
    area_layers([g])
    assert len(calls) == 3


def test_figures_of_the_side_panel(area):
    _, g = area
    figures = area_figures([g])
    assert (figures["buildings"], figures["households"]) == (4, 5 + 6 + 7 + 8)
    assert (figures["open"], figures["overdue"], figures["closed"]) == (5, 2, 7)
    assert figures["closure_rate"] == pytest.approx(7 / 12)
    hydrant = next(c for c in figures["coverage"] if c["kind"] == "hydrant")
    assert hydrant["uncovered"] == 2 and hydrant["household_share"] == pytest.approx((5 + 6) / 26)


def test_communities_visible_to_follow_the_grids_a_user_sees(area):
    community, g = area
    from gridmap.accounts.models import Role

    assert list(communities_visible_to(user("a", Role.ADMIN))) == [community]
    assert list(communities_visible_to(user("h", Role.COMMUNITY_HEAD, community=community))) == [community]
    assert list(communities_visible_to(user("r", Role.REPORTER))) == []


def test_no_grid_gives_empty_layers(area):
    layers = area_layers([])
    assert set(layers) == KEYS and all(len(f) == 0 for f in layers.values())


def test_a_cached_analysis_reads_the_change_stamps_not_its_inputs(area):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gridmap.maps.selectors import area_layers_for_figures

    _, g = area
    first = area_layers_for_figures([g])
    with CaptureQueriesContext(connection) as again:
        assert area_layers_for_figures([g])["coverage"] == first["coverage"]
    assert not any(Facility._meta.db_table in q["sql"] for q in again.captured_queries)
    # a moved hydrant (same rows, same counts) is seen at once
    Facility.objects.update(geom=Point(LON0 + 0.0045, LAT0 + 0.0011))
    moved = area_layers_for_figures([g])["coverage"]
    hydrant = next(c for c in moved if c["kind"] == "hydrant")
    assert hydrant != next(c for c in first["coverage"] if c["kind"] == "hydrant")


def _negative_panel(html: str) -> dict:
    import json
    import re

    line = next(row for row in html.splitlines() if "gridmap.build(" in row)
    spec, _ = json.JSONDecoder().raw_decode(line[line.index("{") :])
    (layer,) = [s for s in spec["layers"] if s["key"] == "negative_list"]
    assert re.search(r'"n":\s*\d+', json.dumps(layer["data"]))
    return {"panel": spec["negative"], "n": layer["data"]["n"]}


def test_a_page_map_lists_the_oldest_open_cases_and_links_the_whole_list(area, monkeypatch):
    """A page's map rings at most NEGATIVE_ON_MAP of the oldest open cases and links the problem
    list of them all; a map file handed out keeps every one."""
    from django.utils import translation

    from gridmap.maps import builders
    from gridmap.maps.management.commands.export_maps import vendor_dir
    from layers.maps import MapAssets

    _, g = area
    monkeypatch.setattr(builders, "NEGATIVE_ON_MAP", 3)
    with translation.override("en"):
        page = (
            builders.area_map([g], assets=MapAssets(base_url="/static/vendor/"), tiles=None)
            .get_root()
            .render()
        )
        found = _negative_panel(page)
        assert found["n"] == 3
        more = found["panel"]["more"]
        assert more["text"] == "The oldest 3 of 5: see them all"
        assert more["url"] == f"/problems/?grid={g.code}&open=1&sort=reported"
        inline = MapAssets(inline_from=vendor_dir())
        whole = builders.area_map([g], assets=inline, tiles=None).get_root().render()
    assert _negative_panel(whole)["n"] == 5 and "more" not in _negative_panel(whole)["panel"]
