"""Finding 11, the Content-Security-Policy in a real browser: every kind of page — the pages of
each role, the map documents folium writes (in their iframes), the route, the planner, the API
docs and the admin's map widget — loads under the policy with no violation, in any frame. A
script from another origin is refused (the listener does hear violations)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from gridmap.problems.models import Problem
from tests.browser.test_pages import sign_in, town  # noqa: F401 -- the same small town

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# every frame records the violations it sees (the map pages hold their map in an iframe)
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
"""

PAGES = {
    "leader": ["/dashboard/", "/grids/", "/grids/{grid}/", "/problems/{pk}/", "/problems/report/", "/route/",
               "/evaluation/", "/evaluation/figures/"],
    "head": ["/communities/{community}/", "/planner/"],
    "admin": ["/api/v1/docs/", "/admin/", "/admin/geography/grid/{grid_pk}/change/"],
}  # fmt: skip


def violations(page) -> list[str]:
    found = []
    for frame in page.frames:
        try:
            found += frame.evaluate("() => window.__csp || []")
        except Exception as e:  # a frame that went away
            found.append(f"{frame.url}: {e}")
    return found


@pytest.mark.parametrize("who", list(PAGES))
def test_pages_and_maps_load_under_the_policy_with_no_violation(browser_page, live_server, town, who):  # noqa: F811 -- town
    page = browser_page.page
    page.context.add_init_script(LISTEN)
    person = town[who]
    if who == "admin":
        person.is_staff = person.is_superuser = True
        person.save()
    sign_in(browser_page, live_server, person)
    grid = town["grid"]
    values = {"grid": grid.code, "grid_pk": grid.pk, "community": grid.community.code,
              "pk": Problem.objects.filter(grid=grid).first().pk}  # fmt: skip
    for path in PAGES[who]:
        response = page.goto(live_server.url + path.format(**values))
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        for frame in page.frames[1:]:
            frame.wait_for_load_state("load")
        assert violations(page) == [], path
        assert browser_page.problems == {}, (path, browser_page.problems)


def test_a_script_from_another_origin_is_refused(browser_page, live_server, town):  # noqa: F811
    page = browser_page.page
    page.context.add_init_script(LISTEN)
    page.goto(live_server.url + "/login/")
    here = urlsplit(live_server.url)
    other_origin = f"http://{'127.0.0.1' if here.hostname == 'localhost' else 'localhost'}:{here.port}"
    page.evaluate(
        f"() => {{ const s = document.createElement('script'); s.src = '{other_origin}/static/x.js'; document.head.append(s); }}"
    )
    page.wait_for_function("() => window.__csp.length > 0")
    assert violations(page)[0].startswith("script-src")
    assert f"{other_origin}/static/x.js" not in browser_page.requests  # not even asked for
