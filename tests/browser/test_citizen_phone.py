"""Citizen reporting on a 390×844 phone in Debian's Chromium (every non-local request blocked):
a reporter picks a category by its name, taps the place on the map, sees the open report there
marked as likely the same, sends a new report with a photo anyway and gets the confirmation
(case number, grid, community, promised deadline); the case is then closed through the loop
(the test's setup) and the reporter rates it on the case page. Screenshots go to
docs/screenshots/citizen-*.png."""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Problem, ProblemRating, Status
from tests.browser.test_pages import PICKER_READY, sign_in, town, visit  # noqa: F401
from tests.factories import LAT0, LON0
from tests.photos import jpeg

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# the test writes its shots under data/ (a run must not change tracked files); scripts/screenshots.py
# or a copy by hand refreshes docs/screenshots/citizen-*.png
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"
PHONE = {"width": 390, "height": 844}
PLACE = (LON0 + 0.0016, LAT0 + 0.0016)


def shot(page, name):
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / f"citizen-{name}.png"), full_page=True)


def close_case(t, problem):
    """File, dispatch, fix with an after-photo taken there, verify: the loop's own steps."""
    now = timezone.now()
    for action, who, extra in (
        ("file", "leader", {}),
        ("dispatch", "leader", {}),
        ("handle", "handler", {"photos": [jpeg(lonlat=(problem.geom.x, problem.geom.y))]}),
        ("verify_pass", "inspector", {}),
    ):
        problem_transition(problem_id=problem.pk, action=action, actor=t[who], now=now, **extra)


def test_report_confirm_and_rate_on_a_phone(browser_page, live_server, town, tmp_path):  # noqa: F811
    page = browser_page.page
    page.set_viewport_size(PHONE)
    earlier, _ = problem_create(lon=PLACE[0] + 0.00002, lat=PLACE[1], category=town["category"],
                                reporter=town["leader"], description="不公开的描述")  # fmt: skip
    sign_in(browser_page, live_server, town["reporter"])
    visit(browser_page, f"{live_server.url}/problems/report/")
    page.wait_for_function(PICKER_READY)
    assert "WGS84" not in page.inner_text("form#report-form")
    assert "问题位置" in page.inner_text("form#report-form")
    category = page.locator(f"label.category-choice:has(input[value='{town['category'].pk}'])")
    assert "0301" not in category.inner_text() and category.locator("img").count() == 1
    category.click()
    page.evaluate(f"() => window.gridmapPicker.map.setView([{PLACE[1]}, {PLACE[0]}], 18, {{animate: false}})")
    target = page.evaluate(f"() => window.gridmapPicker.map.latLngToContainerPoint([{PLACE[1]}, {PLACE[0]}])")
    page.locator("#picker-map").click(position={"x": target["x"], "y": target["y"]})
    item = page.locator(f"#nearby li[data-id='{earlier.pk}']")
    item.wait_for(timeout=10_000)
    assert "likely" in (item.get_attribute("class") or "") and "不公开" not in page.inner_text("#nearby")
    assert item.locator("button.join").is_visible()
    page.fill("textarea[name=description]", "路边占道经营，手机上报")
    photo = tmp_path / "scene.jpg"
    photo.write_bytes(jpeg(size=(320, 240)).read())
    page.set_input_files("input[name=photos]", str(photo))
    shot(page, "report")
    with page.expect_navigation():
        page.click("#report-submit")
    created = Problem.objects.order_by("-pk").first()
    assert created.pk != earlier.pk and created.reporter == town["reporter"]
    assert page.url.endswith(f"/problems/{created.pk}/reported/")
    assert page.inner_text("dd.case-number").strip() == str(created.pk)
    assert town["grid"].code in page.inner_text("dd.case-grid")
    assert created.community.name in page.inner_text("dd.case-community")
    assert str(town["category"].deadline_hours) in page.inner_text("dd.case-deadline")
    shot(page, "confirmation")

    close_case(town, created)
    assert Problem.objects.get(pk=created.pk).status == Status.CLOSED
    visit(browser_page, f"{live_server.url}/problems/{created.pk}/")
    form = page.locator("form.rate-form")
    form.scroll_into_view_if_needed()
    form.locator("input[name=stars][value='4']").check()
    form.locator("textarea[name=comment]").fill("处理及时，谢谢")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    rating = ProblemRating.objects.get(problem=created)
    assert (rating.stars, rating.comment, rating.reporter) == (4, "处理及时，谢谢", town["reporter"])
    assert page.locator("section#rating .stars .on").count() == 4
    assert page.locator("form.rate-form").count() == 0  # once
    page.locator("section#rating").scroll_into_view_if_needed()
    shot(page, "rating")
    assert browser_page.problems == {}, browser_page.problems
