"""A walk recorded on a 390×844 phone in Debian's Chromium (every non-local request blocked): the
walker takes the day's task, records the track from the phone's position, saves; the task is
walked, the track stored, and the map of grids not walked lately draws the other grid red."""

import os
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.patrols.models import Frequency, PatrolPlan, PatrolRecord, PatrolTask, TaskStatus
from gridmap.patrols.schedule import create_due_tasks
from tests.browser.test_fix_form import sign_in
from tests.factories import LAT0, LON0, grid, region_tree, user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_a_walk_with_its_track_on_a_phone_and_the_map_of_grids_not_walked(browser_page, live_server):
    (c1,) = region_tree()
    walker = user("walker", Role.INSPECTOR)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    plan = PatrolPlan.objects.create(name="每日巡查", frequency=Frequency.DAILY, walker=walker,
                                     starts_on=timezone.localdate() - timedelta(days=3))  # fmt: skip
    plan.grids.add(g1)
    create_due_tasks()
    page = browser_page.page
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"longitude": LON0 + 0.0005, "latitude": LAT0 + 0.001, "accuracy": 5})
    sign_in(browser_page, live_server, walker)
    page.goto(f"{live_server.url}/patrols/")
    page.click(".walk-task")
    page.click("#walk-track")
    page.wait_for_function("() => document.getElementById('walk-points').textContent === '1'")
    page.context.set_geolocation({"longitude": LON0 + 0.0015, "latitude": LAT0 + 0.001, "accuracy": 5})
    page.wait_for_function("() => document.getElementById('walk-points').textContent === '2'")
    started = (timezone.localtime() - timedelta(minutes=40)).strftime("%Y-%m-%d %H:%M:%S")
    page.fill("input[name=started_at]", started)
    page.fill("textarea[name=notes]", "路面有积水")
    with page.expect_navigation():
        page.click("#walk-form button[type=submit]")
    assert "saved=1" in page.url
    record = PatrolRecord.objects.get()
    assert PatrolTask.objects.get().status == TaskStatus.DONE
    assert (
        len(record.track.coords) == 2
        and record.notes == "路面有积水"
        and isinstance(record.client_id, uuid.UUID)
    )
    page.goto(f"{live_server.url}/patrols/not-walked/?days=7")
    page.wait_for_function("() => window.gridmapPointMap && window.gridmapPointMap.ready")
    red = page.evaluate("() => document.querySelectorAll('#point-map path[stroke=\"#b2182b\"]').length")
    green = page.evaluate("() => document.querySelectorAll('#point-map path[stroke=\"#1a9850\"]').length")
    assert (red, green) == (1, 1)
    assert browser_page.problems == {}
