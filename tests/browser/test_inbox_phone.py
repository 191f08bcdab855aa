"""The loop run through its pages, each next person finding the case in their inbox on a phone
(390×844): the unread count in the header, the row highlighted, a tap opens the case, marking all
read clears the count. Debian's Chromium, every non-local request blocked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from gridmap.accounts.models import Department, Role
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"
PHONE = {"width": 390, "height": 844}
SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture
def town(catalogues):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER, display_name="网格长")
    grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    return {"leader": leader, "head": user("head", Role.COMMUNITY_HEAD, community=community),
            "handler": user("handler", Role.DEPARTMENT, department=dept), "inspector": inspector,
            "reporter": user("reporter", Role.REPORTER), "category": category}  # fmt: skip


def take(who, problem, action, **fields):
    client = Client()
    client.force_login(who)
    response = client.post(f"/problems/{problem.pk}/transition/", {"action": action, **fields})
    assert response.status_code == 302, response.content[:800]


def sign_in(bp, live_server, who):
    bp.page.context.clear_cookies()
    client = Client()
    client.force_login(who)
    bp.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip


def finds_it(bp, live_server, who, problem, *, shot=None):
    """``who`` opens the inbox on a phone: the count shows, the case is the newest unread row,
    a tap opens the case; marking all read clears the count."""
    page = bp.page
    sign_in(bp, live_server, who)
    assert page.goto(f"{live_server.url}/inbox/").status == 200
    badge = page.locator("header .unread-count")
    assert badge.is_visible() and int(badge.inner_text()) >= 1
    box = badge.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]  # on the screen, not pushed off
    row = page.locator("ul.inbox li.unread").first
    assert f"#{problem.pk}" in row.inner_text()
    assert row.bounding_box()["width"] <= PHONE["width"]
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_url(f"**/problems/{problem.pk}/")
    page.goto(f"{live_server.url}/inbox/")
    page.locator("form[action$='/read-all/'] button").click()
    page.wait_for_load_state("load")
    assert page.locator("header .unread-count").count() == 0
    assert page.locator("ul.inbox li.unread").count() == 0
    assert bp.problems == {}, bp.problems


def test_the_loop_through_the_pages_reaches_each_next_inbox(browser_page, live_server, town):
    browser_page.page.set_viewport_size(PHONE)
    t = town
    p, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=t["category"], reporter=t["reporter"],
                          description="占道经营")  # fmt: skip
    finds_it(browser_page, live_server, t["leader"], p, shot="inbox-phone")
    take(t["leader"], p, "file")
    take(t["leader"], p, "dispatch")
    finds_it(browser_page, live_server, t["handler"], p)
    take(t["handler"], p, "request_extension", note="雨天", hours="24")
    finds_it(browser_page, live_server, t["head"], p)
    take(t["head"], p, "decide_extension", approve="yes")
    take(t["handler"], p, "handle", photos=jpeg(), lon=str(SPOT[0]), lat=str(SPOT[1]), note="已清理")
    finds_it(browser_page, live_server, t["inspector"], p)
    take(t["inspector"], p, "verify_pass")
    assert Problem.objects.get(pk=p.pk).status == "closed"
    # the reporter heard of every step of their report: filed, dispatched, fixed, closed
    finds_it(browser_page, live_server, t["reporter"], p)
    assert t["reporter"].notifications.count() == 4
    # the preferences page on the phone: the reporter turns email off
    page = browser_page.page
    page.goto(f"{live_server.url}/inbox/preferences/")
    page.locator("#id_email").uncheck()
    page.locator("form.preferences button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("form.preferences").bounding_box()["width"] <= PHONE["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-preferences-phone.png"), full_page=True)
    pref = t["reporter"].notification_preference
    assert pref.email is False and pref.webhook is True
    assert browser_page.problems == {}, browser_page.problems
    assert all(r.startswith(live_server.url) or r.startswith("data:") for r in browser_page.requests)
