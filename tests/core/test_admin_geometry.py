"""Geometry typed or drawn in the admin goes through the raw-number checks before GEOS.

Each case of the finding is posted through the real admin add or change form (Django's test
client): a polygon holding 1e308 (GEOS 3.11 aborts the process when such a value is written as
WKT: this test would take pytest down with it), a bow-tie, an empty multipolygon, longitude 200,
a GeoJSON ``crs`` member. A refusal is the form again (200) with a message; nothing is stored.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.gis.db.models import GeometryField
from django.test import RequestFactory
from django.urls import reverse

from gridmap.core.geofields import CheckedGeometryField
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Community, Grid, Subdistrict
from gridmap.problems.models import PositiveSite
from tests.factories import LAT0, LON0, grid, region_tree

pytestmark = pytest.mark.django_db

R = 6378137.0


def merc(lon: float, lat: float) -> list[float]:
    """lon/lat to the admin map's EPSG:3857, as the widget posts them."""
    return [math.radians(lon) * R, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * R]


def ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def wkt_box(x0: float, y0: float, x1: float, y1: float) -> str:
    return ",".join(f"{x} {y}" for x, y in ring(x0, y0, x1, y1))


BOX = (LON0 + 0.0005, LAT0 + 0.0005, LON0 + 0.0015, LAT0 + 0.0015)
GOOD_EWKT = f"SRID=4326;POLYGON(({wkt_box(*BOX)}))"
BOWTIE = (
    f"SRID=4326;MULTIPOLYGON((({BOX[0]} {BOX[1]},{BOX[2]} {BOX[3]},{BOX[2]} {BOX[1]},"
    f"{BOX[0]} {BOX[3]},{BOX[0]} {BOX[1]})))"
)
# Multipolygons, as the widget posts for these fields (Django's own field refused a Polygon by type).
HUGE_WKT = f"SRID=4326;MULTIPOLYGON((({BOX[0]} {BOX[1]},1e308 {BOX[1]},{BOX[2]} {BOX[3]},{BOX[0]} {BOX[1]})))"
HUGE_JSON = json.dumps(
    {"type": "MultiPolygon", "coordinates": [[[merc(*BOX[:2]), [1e308, 0], merc(*BOX[2:]), merc(*BOX[:2])]]]}
)
CRS_JSON = json.dumps(
    {
        "type": "Point",
        "coordinates": [LON0 + 0.001, LAT0 + 0.001],
        "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
    }
)

REFUSED_POLYGONS = {
    "1e308 in EWKT": HUGE_WKT,
    "1e308 in GeoJSON": HUGE_JSON,
    "bow-tie": BOWTIE,
    "empty multipolygon (WKT)": "MULTIPOLYGON EMPTY",
    "empty multipolygon (GeoJSON)": '{"type": "MultiPolygon", "coordinates": []}',
    "longitude 200": f"SRID=4326;MULTIPOLYGON((({wkt_box(199.0, 30.0, 200.0, 31.0)})))",
    # lon/lat numbers that Django's widget read as EPSG:3857 metres (a box near 0°, 0°)
    "crs member": json.dumps(
        {
            "type": "MultiPolygon",
            "coordinates": [[ring(*BOX)]],
            "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
        }
    ),  # fmt: skip
    "not a geometry": "hello",
    "hex WKB": "0101000020E6100000000000000000F03F000000000000F03F",
}


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.invalid", "pw"))
    return client


def management_forms(page: str) -> dict[str, str]:
    """The inline formsets' management fields of an admin form page, as the browser posts them."""
    found = re.findall(r'name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"', page)
    return dict(found)


def post_add(client, model, data: dict[str, str]):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    page = client.get(url).content.decode()
    return client.post(url, {**management_forms(page), **data})


def community_data(geom: str) -> dict[str, str]:
    sub = Subdistrict.objects.get(code="320581107")
    return {"code": "320581107099", "name": "新社区", "subdistrict": str(sub.pk), "geom": geom}


def assert_refused(response, model, before: int) -> None:
    assert response.status_code == 200, response.status_code
    assert response.context["adminform"].form.errors.get("geom"), response.context["adminform"].form.errors
    assert model.objects.count() == before


@pytest.mark.parametrize("case", sorted(REFUSED_POLYGONS))
def test_admin_refuses_hostile_boundary_and_stores_nothing(admin_client, case):
    region_tree()
    before = Community.objects.count()
    response = post_add(admin_client, Community, community_data(REFUSED_POLYGONS[case]))
    assert_refused(response, Community, before)


def test_admin_refusal_message_is_chinese_by_default(admin_client):
    region_tree()
    response = post_add(admin_client, Community, community_data(BOWTIE))
    assert "几何图形无效" in response.content.decode()


def test_admin_change_form_keeps_the_stored_boundary_on_refusal(admin_client):
    (community,) = region_tree()
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    stored = g.geom.wkb
    url = reverse("admin:geography_grid_change", args=[g.pk])
    for geom in (BOWTIE, HUGE_WKT, "MULTIPOLYGON EMPTY"):
        response = admin_client.post(
            url, {"code": g.code, "name": g.name, "community": str(community.pk), "geom": geom}
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors.get("geom")
    g.refresh_from_db()
    assert bytes(g.geom.wkb) == bytes(stored)


def test_admin_stores_what_the_map_widget_posts(admin_client):
    """The widget posts GeoJSON in the map's EPSG:3857; it is stored as lon/lat (EPSG:4326)."""
    region_tree()
    drawn = {"type": "Polygon", "coordinates": [ring(*merc(*BOX[:2]), *merc(*BOX[2:]))]}
    response = post_add(admin_client, Community, community_data(json.dumps(drawn)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Community.objects.get(code="320581107099").geom
    assert stored.geom_type == "MultiPolygon" and stored.srid == 4326
    assert stored.extent == pytest.approx(BOX, abs=1e-9)


def test_admin_stores_ewkt_lonlat(admin_client):
    region_tree()
    response = post_add(admin_client, Community, community_data(GOOD_EWKT))
    assert response.status_code == 302
    assert Community.objects.get(code="320581107099").geom.extent == pytest.approx(BOX, abs=1e-12)


@pytest.mark.parametrize(
    "geom",
    [
        "SRID=4326;POINT(200 30)",
        "SRID=4326;POINT(120.9 1e308)",
        "POINT(nan 3700000)",
        json.dumps({"type": "Point", "coordinates": [1e308, 0]}),
        CRS_JSON,
        "SRID=4326;LINESTRING(120.9 31.6, 120.91 31.61)",
    ],
)
def test_admin_point_fields_refuse(admin_client, geom):
    user = get_user_model().objects.get(username="root")
    before = PositiveSite.objects.count()
    data = {"name": "示范点", "geom": geom, "created_by": str(user.pk),
            "created_at_0": "2026-01-05", "created_at_1": "10:00:00"}  # fmt: skip
    assert_refused(post_add(admin_client, PositiveSite, data), PositiveSite, before)


def test_admin_point_field_stores_a_checked_point(admin_client):
    user = get_user_model().objects.get(username="root")
    data = {"name": "示范点", "geom": f"SRID=4326;POINT({LON0} {LAT0})", "created_by": str(user.pk),
            "created_at_0": "2026-01-05", "created_at_1": "10:00:00"}  # fmt: skip
    assert post_add(admin_client, PositiveSite, data).status_code == 302
    assert PositiveSite.objects.get().geom.coords == pytest.approx((LON0, LAT0))


@pytest.mark.parametrize(
    ("geom", "stored"),
    [
        (f"SRID=4326;POINT({LON0} {LAT0})", True),
        (f"SRID=4326;LINESTRING({LON0} {LAT0}, {LON0 + 0.001} {LAT0})", True),
        (f"SRID=4326;LINESTRING({LON0} {LAT0}, 200 {LAT0})", False),
        ("SRID=4326;GEOMETRYCOLLECTION(POINT(1 2))", False),
        (f"SRID=4326;LINESTRING({LON0} {LAT0})", False),
    ],
)
def test_admin_facility_geometry(admin_client, geom, stored):
    kind = FacilityKind.objects.get(code="hydrant")
    data = {"kind": str(kind.pk), "geom": geom, "condition": "good", "attrs": "{}"}
    response = post_add(admin_client, Facility, data)
    if stored:
        assert response.status_code == 302
        assert Facility.objects.count() == 1
    else:
        assert_refused(response, Facility, 0)


def test_every_admin_geometry_field_is_checked():
    """Every geometry field of every admin form (inlines too) is the checked field: no admin can
    forget it."""
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.create_superuser("root2", "r2@example.invalid", "pw")
    seen = []
    for model_admin in admin.site._registry.values():
        admins = [model_admin, *model_admin.get_inline_instances(request)]
        for one in admins:
            form = one.get_form(request) if one is model_admin else one.get_formset(request).form
            exclude = set(one.get_readonly_fields(request))
            for f in one.model._meta.get_fields():
                if isinstance(f, GeometryField) and f.name in form.base_fields:
                    seen.append(f"{one.model._meta.label}.{f.name}")
                    assert isinstance(form.base_fields[f.name], CheckedGeometryField), one.model
                elif isinstance(f, GeometryField):
                    assert f.name in exclude or f.name not in form.base_fields
    assert {"geography.Grid.geom", "geography.Building.geom", "facilities.Facility.geom",
            "problems.Problem.geom", "problems.PositiveSite.geom"} <= set(seen)  # fmt: skip


def test_stored_invalid_boundary_never_breaks_the_grid_map(admin_client):
    """A bow-tie stored before these checks (or by SQL) is repaired on reading, not a 500."""
    from django.contrib.gis.geos import GEOSGeometry

    (community,) = region_tree()
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    grid(community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    Grid.objects.filter(pk=g.pk).update(
        geom=GEOSGeometry(BOWTIE.replace("0.0005", "0.0").replace("0.0015", "0.002"))
    )
    urls = [f"/grids/{g.code}/map/", f"/grids/{g.code}/", f"/communities/{community.code}/",
            f"/communities/{community.code}/map/", "/grids/"]  # fmt: skip
    for url in urls:
        assert admin_client.get(url).status_code == 200, url
