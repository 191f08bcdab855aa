"""An inspector scores a mock evaluation on a phone (390×844): the walk page lists their points in
the planned order, a failed item sent with a photo becomes a problem dispatched to the point's
department, the same form sent again scores nothing twice, and the round's page shows the
point's score. Debian's Chromium, every non-local request blocked."""

from __future__ import annotations

import os

import pytest

from gridmap.campaign.models import Answer, ChecklistItem, Finding
from gridmap.campaign.rounds import round_create
from tests.browser.test_inbox_phone import PHONE, SHOTS, sign_in
from tests.browser.test_phone_maps import map_frame
from tests.campaign.conftest import town  # noqa: F401  (a fixture)
from tests.photos import jpeg

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_inspector_scores_on_a_phone(browser_page, live_server, town, tmp_path):  # noqa: F811
    page = browser_page.page
    page.set_viewport_size(PHONE)
    round_ = round_create(name="一月模拟测评", created_by=town.people["admin"],
                          inspectors=[town.people["inspector1"]], points=None)  # fmt: skip
    market = round_.visits.get(point=town.points["market"])
    sign_in(browser_page, live_server, town.people["inspector1"])
    assert page.goto(f"{live_server.url}/campaign/rounds/{round_.pk}/walk/").status == 200
    titles = page.locator("section.stop h2").all_inner_texts()
    assert len(titles) == 4 and [t.split(".")[0] for t in titles] == ["1", "2", "3", "4"]
    item = ChecklistItem.objects.get(point_type=market.point.type, code="zones")
    form = page.locator(f"#visit-{market.pk} .item[data-item='zones'] form")
    assert form.bounding_box()["width"] <= PHONE["width"]
    stale = form.evaluate("f => f.outerHTML")  # the form as a page kept open would send it again
    form.locator("input[name=findings]").fill("2")
    photo = tmp_path / "finding.jpg"
    lon, lat = market.point.geom.point_on_surface.coords
    photo.write_bytes(jpeg(lonlat=(lon, lat)).read())
    form.locator("input[name=photo]").set_input_files(str(photo))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    answered = page.locator(f"#visit-{market.pk} .item[data-item='zones'] .answered")
    assert answered.is_visible() and "不合格" in answered.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "campaign-walk-phone.png"), full_page=True)
    finding = Finding.objects.get(answer__visit=market, item=item)
    assert finding.problem.department == town.departments["scjg"] and finding.problem.photos.count() == 1
    # the same form sent again from a page kept open (a retry): its client id scores nothing twice
    page.evaluate("html => { const d = document.createElement('div'); d.id = 'stale'; d.innerHTML = html;"
                  " document.querySelector('main').append(d); }", stale)  # fmt: skip
    page.locator("#stale input[name=findings]").fill("2")
    page.locator("#stale button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/walk/#visit-{market.pk}")
    assert Answer.objects.filter(visit=market, item=item).count() == 1 and Finding.objects.count() == 1
    page.goto(f"{live_server.url}/campaign/rounds/{round_.pk}/")
    score = page.locator(f"#point-scores tr[data-point='{market.point.pk}'] td.score").inner_text()
    assert float(score) == 0.0  # its one answered item failed with every point lost
    assert browser_page.problems == {}, browser_page.problems
    assert all(r.startswith(live_server.url) or r.startswith("data:") for r in browser_page.requests)


ON_MAP = "() => Object.keys(gridmap.layers).filter(k => gridmap.map.hasLayer(gridmap.layers[k]))"


def test_inspection_points_off_on_a_phone_on_on_a_wide_screen(browser_page, live_server, town):  # noqa: F811
    page = browser_page.page
    code = town.grids["A"].code
    sign_in(browser_page, live_server, town.people["leaderA"])
    for viewport, shown in ((PHONE, False), ({"width": 1280, "height": 900}, True)):
        page.set_viewport_size(viewport)
        assert page.goto(f"{live_server.url}/grids/{code}/").status == 200
        frame = map_frame(browser_page, f"/grids/{code}/map/")
        assert frame.evaluate("() => 'inspection_points' in gridmap.layers")
        assert ("inspection_points" in frame.evaluate(ON_MAP)) is shown, viewport
        assert (
            frame.evaluate("() => gridmap.layers.inspection_points.getLayers().length") == 2
        )  # market, stop
    assert browser_page.problems == {}, browser_page.problems
