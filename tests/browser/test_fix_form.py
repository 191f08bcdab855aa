"""The fix form on a phone (390×844): "use my location" fills the position from the browser's
geolocation, a tap on the map moves it, a photo without GPS is sent with that position and the
case is fixed; and a dashboard count, followed in the browser, opens a list of as many rows."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString
from django.test import Client
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.geography.models import Street
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory, Problem, Status
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PICKER_READY = "() => window.gridmapPicker && window.gridmapPicker.ready === true"
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"
SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture
def town(catalogues):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    Street.objects.create(
        geom=LineString((LON0 - 0.001, LAT0 + 0.001), (LON0 + 0.003, LAT0 + 0.001)), name="街"
    )
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    handler = user("handler", Role.DEPARTMENT, department=dept)
    problem, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=category, reporter=leader)
    now = timezone.now()
    Problem.objects.filter(pk=problem.pk).update(status=Status.DISPATCHED, department=dept, filed_at=now,
                                                 dispatched_at=now, deadline=now + timedelta(hours=72))  # fmt: skip
    late, _ = problem_create(lon=SPOT[0] + 0.0002, lat=SPOT[1], category=category, reporter=leader)
    Problem.objects.filter(pk=late.pk).update(status=Status.DISPATCHED, department=dept, filed_at=now,
                                              dispatched_at=now, deadline=now - timedelta(hours=1))  # fmt: skip
    return {"problem": problem, "handler": handler, "leader": leader}


def sign_in(bp, live_server, who):
    client = Client()
    client.force_login(who)
    bp.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip


def test_the_fix_form_on_a_phone_takes_my_location_and_the_map(browser_page, live_server, town, tmp_path):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    here = (SPOT[0] + 0.00005, SPOT[1] + 0.00003)  # where the phone says it is, a few metres off
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"longitude": here[0], "latitude": here[1], "accuracy": 8})
    sign_in(browser_page, live_server, town["handler"])
    problem = town["problem"]
    page.goto(f"{live_server.url}/problems/{problem.pk}/")
    page.wait_for_function(PICKER_READY)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.locator("#step-handle").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fix-form-phone.png"))
    # use my location: the fields and the marker take the browser's position
    page.click("#locate")
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")
    lon, lat = float(page.input_value("#id_lon")), float(page.input_value("#id_lat"))
    assert (lon, lat) == pytest.approx(here, abs=1e-6)
    marker = page.evaluate("() => window.gridmapPicker.marker().getLatLng()")
    assert (marker["lng"], marker["lat"]) == pytest.approx(here, abs=1e-6)
    # a tap on the map moves it
    box = page.locator("#picker-map").bounding_box()
    page.locator("#picker-map").click(position={"x": box["width"] * 0.55, "y": box["height"] * 0.45})
    tapped = (float(page.input_value("#id_lon")), float(page.input_value("#id_lat")))
    assert tapped != pytest.approx((lon, lat), abs=1e-7)
    # back to my location, a photo without GPS, a note: the case is fixed
    page.click("#locate")
    page.wait_for_function(
        f"() => Math.abs(parseFloat(document.getElementById('id_lon').value) - {here[0]}) < 1e-6"
    )
    photo = tmp_path / "after.jpg"
    photo.write_bytes(jpeg().read())
    form = page.locator("#step-handle")
    form.locator("input[name=photos]").set_input_files(str(photo))
    form.locator("textarea[name=note]").fill("已清理")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    problem.refresh_from_db()
    assert problem.status == Status.HANDLED
    event = problem.events.get(action="handle")
    assert (event.geom.x, event.geom.y) == pytest.approx(here, abs=1e-6) and event.note == "已清理"
    assert browser_page.problems == {}, browser_page.problems


def test_a_refused_fix_keeps_the_note_and_the_marker(browser_page, live_server, town, tmp_path):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    sign_in(browser_page, live_server, town["handler"])
    page.goto(f"{live_server.url}/problems/{town['problem'].pk}/")
    page.wait_for_function(PICKER_READY)
    far = (SPOT[0] + 0.01, SPOT[1])
    page.evaluate(f"() => window.gridmapPicker.place({far[0]}, {far[1]})")
    photo = tmp_path / "after.jpg"
    photo.write_bytes(jpeg().read())
    form = page.locator("#step-handle")
    form.locator("input[name=photos]").set_input_files(str(photo))
    form.locator("textarea[name=note]").fill("已清理")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    page.wait_for_function(PICKER_READY)
    assert page.input_value("#step-handle textarea[name=note]") == "已清理"
    marker = page.evaluate("() => window.gridmapPicker.marker().getLatLng()")
    assert (marker["lng"], marker["lat"]) == pytest.approx(far, abs=1e-6)  # the marker is where it was
    assert "(lon, lat)" not in page.content()
    assert Problem.objects.get(pk=town["problem"].pk).status == Status.DISPATCHED


def test_a_photo_with_its_gps_position_moves_the_marker(browser_page, live_server, town, tmp_path):
    """The after-photo's EXIF GPS, read in the browser (the vendored exifr), sets the fields and
    the marker before anything is sent; the case is fixed at the photo's place."""
    page = browser_page.page
    page.set_viewport_size(PHONE)
    sign_in(browser_page, live_server, town["handler"])
    problem = town["problem"]
    page.goto(f"{live_server.url}/problems/{problem.pk}/")
    page.wait_for_function(PICKER_READY)
    taken = (SPOT[0] + 0.00012, SPOT[1] - 0.00008)  # about 14 m off the problem
    photo = tmp_path / "after-gps.jpg"
    photo.write_bytes(jpeg(lonlat=taken).read())
    assert page.input_value("#id_lon") == ""
    form = page.locator("#step-handle")
    form.locator("input[name=photos]").set_input_files(str(photo))
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")
    lon, lat = float(page.input_value("#id_lon")), float(page.input_value("#id_lat"))
    assert (lon, lat) == pytest.approx(taken, abs=2e-6)  # EXIF keeps seconds to 4 decimals
    marker = page.evaluate("() => window.gridmapPicker.marker().getLatLng()")
    assert (marker["lng"], marker["lat"]) == pytest.approx(taken, abs=2e-6)
    assert page.locator("#locate-status").inner_text() != ""  # it says why the marker moved
    # a photo without a position is passed over for the next one that has one
    plain = tmp_path / "after.jpg"
    plain.write_bytes(jpeg().read())
    page.evaluate("() => { document.getElementById('id_lon').value = ''; }")
    form.locator("input[name=photos]").set_input_files([str(plain), str(photo)])
    page.wait_for_function("() => document.getElementById('id_lon').value !== ''")  # the second one's
    form.locator("textarea[name=note]").fill("已清理")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    problem.refresh_from_db()
    assert problem.status == Status.HANDLED
    event = problem.events.get(action="handle")
    assert (event.geom.x, event.geom.y) == pytest.approx(taken, abs=2e-6)
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems


def test_a_dashboard_count_opens_a_list_of_as_many_rows(browser_page, live_server, town):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    sign_in(browser_page, live_server, town["handler"])
    for name in ("open", "overdue", "queue"):
        page.goto(f"{live_server.url}/dashboard/")
        link = page.locator(f"a[data-count={name}]")
        shown = int(link.inner_text())
        link.click()
        page.wait_for_load_state("load")
        assert int(page.locator("#list-count").get_attribute("data-count")) == shown, name
        assert len(page.locator("table.problems tbody tr").all()) == shown
        assert re.search(r"/problems/\?", page.url)
        if name == "open":
            page.screenshot(path=str(SHOTS / "department-list-phone.png"), full_page=True)
    assert browser_page.problems == {}, browser_page.problems
