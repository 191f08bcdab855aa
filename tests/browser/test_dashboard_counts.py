"""Every role's dashboard on a phone (390×844): each linked count, clicked, opens a list of as
many rows (the list's own count and its table agree with the number clicked)."""

import os

import pytest
from django.conf import settings
from django.test import Client

from tests.dashboard.conftest import town  # noqa: F401  (the dashboard's small town)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
ROLES = ["leader", "head", "handler", "inspector", "planner", "admin"]


def sign_in(bp, live_server, who):
    client = Client()
    client.force_login(who)
    bp.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip


def test_every_count_clicked_opens_a_list_of_as_many_rows(browser_page, live_server, catalogues, town):  # noqa: F811
    page = browser_page.page
    page.set_viewport_size(PHONE)
    followed = 0
    for who in ROLES:
        page.context.clear_cookies()
        sign_in(browser_page, live_server, town[who])
        page.goto(f"{live_server.url}/dashboard/")
        links = page.eval_on_selector_all(
            "a[data-count]", "as => as.map(a => [a.dataset.count, a.href, parseInt(a.textContent, 10)])"
        )
        assert links, who
        for name, href, shown in links:
            page.goto(href)
            listed = int(page.locator("#list-count").get_attribute("data-count"))
            rows = page.locator("table.problems tbody tr").count()
            assert listed == shown and rows == min(shown, 50), (who, name, href)
            followed += 1
    assert followed >= 30
    assert browser_page.problems == {}, browser_page.problems
