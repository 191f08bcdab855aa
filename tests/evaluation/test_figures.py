"""The figures page: weekly filed/closed and the ranking for the user's scope, equal to what the
metrics give on the same cases; 403 for reporters, 400 for bad periods or levels."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.evaluation.forms import local_midnight
from gridmap.evaluation.metrics import Period, unit_stats
from gridmap.evaluation.selectors import evaluation_for, metric_rows
from gridmap.evaluation.weekly import weeks_between
from gridmap.problems.selectors import problems_visible_to
from tests.factories import user

pytestmark = pytest.mark.django_db
MARCH_WEEKS = {"start": "2024-03-04", "end": "2024-04-01"}


def figures(client, who, expect=200, **query):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("evaluation-figures"), query)
    assert response.status_code == expect, response.content[:1500]
    return response


def scope_total(user_, period):
    """Filed and closed over the whole scope by the metrics' own rules (one unit for everything)."""
    rows = [{**r, "grid_id": 0} for r in metric_rows(problems_visible_to(user_), period)]
    units = unit_stats(rows, level="grid", period=period, now=timezone.now())
    return (units[0].filed, units[0].closed) if units else (0, 0)


@pytest.mark.parametrize("who", ["admin", "leader_a", "leader_b", "h2"])
def test_weekly_figures_equal_the_metrics_week_by_week(client, town, who):
    person = user("boss", Role.ADMIN) if who == "admin" else town[who]
    response = figures(client, person, **MARCH_WEEKS)
    rows = response.context["weeks"]["rows"]
    assert [w.start for w, _, _ in rows] == [date(2024, 3, 4) + timedelta(weeks=i) for i in range(4)]
    running = [0, 0]
    for week, filed_sum, closed_sum in rows:
        period = Period(local_midnight(week.start), local_midnight(week.start + timedelta(days=7)))
        assert (week.filed, week.closed) == scope_total(person, period), week
        running = [running[0] + week.filed, running[1] + week.closed]
        assert [filed_sum, closed_sum] == running
    whole = Period(local_midnight(date(2024, 3, 4)), local_midnight(date(2024, 4, 1)))
    assert (rows[-1][1], rows[-1][2]) == scope_total(person, whole)


def test_grid_a_by_hand(client, town):
    # grid A (tests/evaluation/conftest.py), weeks from Monday 03-04, 03-11, 03-18, 03-25:
    # filed: 2 (03-05) and 3 (Sunday 03-10) | 6, 7 | 9 | 4 (03-31 23:00); 8 is a duplicate,
    # 1 and 5 were filed before 03-04. closed: 2 (03-07) | 3 (03-14) | — | — (4 and 9: April).
    rows = figures(client, town["leader_a"], **MARCH_WEEKS).context["weeks"]["rows"]
    filed = [w.filed for w, _, _ in rows]
    closed = [w.closed for w, _, _ in rows]
    assert filed == [2, 2, 1, 1]
    assert closed == [1, 1, 0, 0]


def test_the_ranking_is_the_evaluation_ranking(client, town):
    admin = user("boss", Role.ADMIN)
    response = figures(client, admin, level="community", **MARCH_WEEKS)
    period = Period(local_midnight(date(2024, 3, 4)), local_midnight(date(2024, 4, 1)))
    expected = [u for u in evaluation_for(admin, period, timezone.now())["community"] if u.score is not None]
    shown = response.context["ranked"]
    assert [(u.code, u.rank, round(u.score, 6)) for u in shown] == [
        (u.code, u.rank, round(u.score, 6)) for u in expected
    ]
    body = response.content.decode()
    for u in shown:
        assert f"{u.rank}. {u.name}" in body and f"{u.score:.1f}" in body


def test_the_page_draws_svg_with_tables_and_nothing_external(client, town):
    town["ga"].name = '<script>alert("x")</script>'
    town["ga"].save()
    body = figures(client, town["leader_a"], **MARCH_WEEKS).content.decode()
    # weeks, ranking and the ten steps of the leader's communities: each chart beside its table
    assert body.count("<svg") == 4 and body.count('class="list figures-table all-columns"') == 3
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert "http://" not in body.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in body


def test_the_default_is_the_last_twelve_weeks(client, town):
    response = figures(client, town["leader_a"])
    rows = response.context["weeks"]["rows"]
    this_monday = weeks_between(timezone.localdate(), timezone.localdate() + timedelta(days=1))[0]
    assert len(rows) == 12 and rows[-1][0].start == this_monday


def test_reporters_may_not_see_figures(client, town):
    figures(client, user("someone", Role.REPORTER), expect=403)


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2024-02-30"},
        {"start": "2024-05-01", "end": "2024-04-01"},
        {"start": "2020-01-01", "end": "2024-01-01"},
        {"start": "1900-01-01", "end": "1900-02-01"},
        {"level": "handler; DROP TABLE"},
        {"end": "9999-12-31"},
    ],
)
def test_bad_queries_are_a_400_with_the_reason(client, town, query):
    body = figures(client, town["leader_a"], expect=400, **query).content.decode()
    assert 'class="error"' in body and "<svg" not in body
