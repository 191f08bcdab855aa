"""Where a problem belongs: its grid, else its community (属地兜底), else the unassigned queue."""

import geopandas as gpd
import pytest
import shapely
from django.core.exceptions import ValidationError

from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Grid
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory, Problem
from layers.assign import assign_areas
from tests.factories import LAT0, LON0, grid, region_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    (community,) = region_tree()
    # Two grids share the edge lon = LON0 + 0.002; the east half of the community has a gap
    # strip at its top where no grid is.
    west = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    east = grid(community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.0015))
    return community, west, east


def category(code="0601"):
    return EventCategory.objects.get(code=code)


def test_inside_a_grid(town):
    community, west, _ = town
    p, created = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category())
    assert created and p.grid == west and p.community == community


def test_on_a_shared_edge_goes_to_exactly_one_grid_deterministically(town):
    _, west, east = town
    point = (LON0 + 0.002, LAT0 + 0.001)
    results = {problem_create(lon=point[0], lat=point[1], category=category())[0].grid for _ in range(3)}
    assert results == {west}  # the smaller code of the two grids touching the point
    # The batch rule in layers gives the same answer on the same data.
    grids = to_gdf(Grid.objects.all(), ["code"])
    batch = assign_areas(gpd.GeoSeries([shapely.Point(*point)], crs="EPSG:4326"), grids)
    assert batch.iloc[0] == west.code


def test_outside_every_grid_falls_to_the_community(town):
    community, _, _ = town
    p, _ = problem_create(lon=LON0 + 0.003, lat=LAT0 + 0.0018, category=category())
    assert p.grid is None and p.community == community and not p.unassigned


def test_outside_every_community_is_unassigned(town):
    p, _ = problem_create(lon=LON0 - 0.01, lat=LAT0 - 0.01, category=category())
    assert p.grid is None and p.community is None and p.unassigned


def test_batch_assignment_equals_the_database_on_a_lattice_of_points(town):
    grids = to_gdf(Grid.objects.all(), ["code"])
    xs = [LON0 - 0.0005 + i * 0.0005 for i in range(11)]  # includes both outer edges and the shared edge
    ys = [LAT0 - 0.0005 + j * 0.0005 for j in range(7)]
    pts = [(x, y) for x in xs for y in ys]
    batch = assign_areas(gpd.GeoSeries([shapely.Point(p) for p in pts], crs="EPSG:4326"), grids)
    for (x, y), code in zip(pts, batch, strict=True):
        p, _ = problem_create(lon=x, lat=y, category=category())
        assert (p.grid.code if p.grid else None) == code, (x, y)


@pytest.mark.parametrize(
    "lon,lat",
    [
        (1e308, 31.6),
        (float("nan"), 31.6),
        (120.8, float("inf")),
        ("abc", 31.6),
        (True, 31.6),
        (181, 31.6),
        (120.8, -91),
        (None, 31.6),
        ("1e308", "31"),
    ],
)
def test_bad_coordinates_are_refused_before_any_geometry_and_nothing_is_written(town, lon, lat):
    with pytest.raises(ValidationError):
        problem_create(lon=lon, lat=lat, category=category())
    assert Problem.objects.count() == 0


def test_links_the_nearest_facility_of_the_categorys_kind_within_the_distance(town):
    hydrant = FacilityKind.objects.get(code="hydrant")
    bin_kind = FacilityKind.objects.get(code="litter_bin")
    near = Facility.objects.create(kind=hydrant, geom=shapely_point(LON0 + 0.0011, LAT0 + 0.001))  # ~10 m
    Facility.objects.create(kind=hydrant, geom=shapely_point(LON0 + 0.0013, LAT0 + 0.001))  # ~29 m
    Facility.objects.create(
        kind=bin_kind, geom=shapely_point(LON0 + 0.00101, LAT0 + 0.001)
    )  # closer, wrong kind
    p, _ = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category("0602"))
    assert p.facility == near
    far, _ = problem_create(lon=LON0 + 0.0005, lat=LAT0 + 0.001, category=category("0602"))  # ~58 m
    assert far.facility is None
    no_kind, _ = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category("0601"))
    assert no_kind.facility is None


def test_a_replayed_client_uuid_returns_the_first_problem(town):
    import uuid

    key = uuid.uuid4()
    first, created = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category(), client_uuid=key)
    again, created_again = problem_create(
        lon=LON0 + 0.003, lat=LAT0 + 0.001, category=category(), client_uuid=key
    )
    assert created and not created_again and again.pk == first.pk
    assert Problem.objects.count() == 1


def shapely_point(x, y):
    from django.contrib.gis.geos import Point

    return Point(x, y, srid=4326)
