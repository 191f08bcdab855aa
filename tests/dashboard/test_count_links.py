"""Every count on every dashboard links to the list it counts: following the link gives a list
of exactly that many rows (same filter, same number), for every role."""

import html
import re

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

COUNT_LINK = re.compile(r'<a data-count="([^"]+)" href="([^"]+)">(\d+)</a>')
LIST_COUNT = re.compile(r'id="list-count" data-count="(\d+)"')
ROLES = ["leader", "head", "handler", "inspector", "planner", "admin"]


def links_on_dashboard(client, who):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return [
        (name, html.unescape(href), int(n)) for name, href, n in COUNT_LINK.findall(response.content.decode())
    ]


def rows_of_list(client, href):
    response = client.get(href)
    assert response.status_code == 200, href
    found = LIST_COUNT.search(response.content.decode())
    if found is None:  # no page at all means a bad filter, which would be a bug in the link
        raise AssertionError(f"no count on {href}")
    return int(found.group(1))


@pytest.mark.parametrize("who", ROLES)
def test_every_dashboard_count_equals_the_rows_of_its_list(client, town, who):
    links = links_on_dashboard(client, town[who])
    assert links, "the dashboard shows no linked count"
    for name, href, n in links:
        assert rows_of_list(client, href) == n, (who, name, href)


def test_the_counts_that_matter_are_linked_per_role(client, town):
    names = {who: {name for name, _, _ in links_on_dashboard(client, town[who])} for who in ROLES}
    assert {"queue", "grid-open", "grid-overdue", "grid-closed"} <= names["leader"]
    assert {"open", "overdue", "escalated", "filed", "closed", "late", "extensions"} <= names["head"]
    assert {"open", "overdue", "queue"} <= names["handler"]
    assert {"open", "verify", "lookbacks"} <= names["inspector"]
    assert {"open", "overdue", "unit-open", "unit-filed"} <= names["planner"]
    assert {"unassigned", "late", "status-reported", "extensions"} <= names["admin"]


def test_the_counts_are_not_all_zero(client, town):
    """The fixture gives each role some cases: a link test over zeros would prove little."""
    for who in ROLES:
        assert any(n for _, _, n in links_on_dashboard(client, town[who])), who


def test_the_leaders_queue_link_lists_the_queue_in_its_order(client, town):
    client.force_login(town["leader"])
    response = client.get(reverse("problem-list") + "?queue=1")
    listed = [p.pk for p in response.context["page"].object_list]
    items, total = client.get(reverse("dashboard")).context["queue"]
    assert listed == [p.pk for p in items] and len(listed) == total
    assert listed[0] == town["p"]["reported"].pk  # the new report comes first


@pytest.mark.parametrize("who", ["planner", "admin"])
def test_figures_from_the_daily_summary_link_to_lists_as_of_then(client, town, who):
    from datetime import timedelta

    from django.utils import timezone

    from gridmap.evaluation import summary
    from gridmap.problems.models import Problem

    summary.refresh()
    # filed after the summary was read: the summary's figure does not count it, nor does its list
    p = town["p"]["reported"]
    Problem.objects.filter(pk=p.pk).update(status="filed", filed_at=timezone.now() + timedelta(seconds=1))
    links = links_on_dashboard(client, town[who])
    assert any("asof=" in href for _, href, _ in links)
    for name, href, n in links:
        assert rows_of_list(client, href) == n, (who, name, href)


def test_the_heads_queue_holds_what_waits_on_the_head(client, town):
    """New and filed reports, fixes to verify, look-backs due, and of the dispatched cases only
    the one with an extension request waiting (the others wait on a department)."""
    p = town["p"]
    client.force_login(town["head"])
    items, total = client.get(reverse("dashboard")).context["queue"]
    # new first, then by deadline, then the rest (the look-back due first, then the oldest report)
    expected = ["reported", "soon", "closed", "filed", "handled", "fallback"]
    assert [i.pk for i in items] == [p[k].pk for k in expected] and total == len(expected)
