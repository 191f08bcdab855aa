"""The dashboard per role: the right sections, only the user's scope, figures equal to the
evaluation metrics, and a number of queries that does not grow with the grids or cases."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from gridmap.dashboard.selectors import month_period, scope_totals
from gridmap.evaluation import summary
from gridmap.evaluation.metrics import unit_stats
from gridmap.evaluation.selectors import metric_rows
from gridmap.problems.selectors import problems_in_role_scope, problems_visible_to
from tests.dashboard.conftest import make_case
from tests.factories import LAT0, LON0, grid

pytestmark = pytest.mark.django_db


def page(client, who, language="en"):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response


def ids(items):
    return [p.pk for p in items]


def test_home_redirects_to_the_dashboard(client, town):
    client.force_login(town["leader"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_anonymous_users_are_sent_to_log_in(client, town):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_grid_leader_sees_their_grids_and_queue_new_reports_then_by_deadline(client, town):
    p = town["p"]
    response = page(client, town["leader"])
    rows = response.context["grid_rows"]
    assert [r["grid"].code for r in rows] == [town["g1"].code]
    stats = rows[0]["stats"]
    # g1: reported, filed, 3 dispatched (one overdue), handled are open; one closed this month
    assert (stats.open_now, stats.overdue_now, stats.closed) == (6, 1, 1)
    assert stats.closure_rate == pytest.approx(1 / 5)  # filed this month: filed, late, soon, handled, closed
    items, total = response.context["queue"]
    # the new report first, then by deadline (the overdue one, then the soonest), then the rest
    assert ids(items) == [p[k].pk for k in ("reported", "late", "other_dept", "soon", "filed")]
    assert set(ids(items)) == {p[k].pk for k in ("late", "soon", "other_dept", "reported", "filed")}
    assert total == 5
    deadlines = [i.deadline for i in items[1:] if i.deadline]
    assert deadlines == sorted(deadlines)
    body = response.content.decode()
    assert reverse("grid-detail", args=[town["g1"].code]) in body
    assert town["g2"].code not in body and town["g3"].code not in body


def test_another_leaders_dashboard_holds_none_of_my_cases(client, town):
    response = page(client, town["other_leader"])
    assert [r["grid"].code for r in response.context["grid_rows"]] == [town["g2"].code]
    assert ids(response.context["queue"][0]) == [town["p"]["g2_open"].pk]


def test_community_head_sees_ranked_grids_late_cases_and_extension_requests(client, town):
    p = town["p"]
    response = page(client, town["head"])
    codes = [r["grid"].code for r in response.context["grid_rows"]]
    assert sorted(codes) == [town["g1"].code, town["g2"].code]
    ranks = [r["stats"].rank for r in response.context["grid_rows"]]
    assert ranks == sorted(ranks, key=lambda r: (r is None, r or 0))
    late, _ = response.context["late"]
    assert set(ids(late)) == {p["late"].pk, p["g2_open"].pk}
    extensions, n = response.context["extensions"]
    assert n == 1 and extensions[0].problem_id == p["soon"].pk
    assert p["g3_open"].pk not in ids(late)


def test_community_figures_equal_the_evaluation_metrics(client, town):
    response = page(client, town["head"])
    totals = response.context["totals"]
    period = month_period(town["now"])
    scoped = problems_in_role_scope(town["head"])
    (unit,) = unit_stats(metric_rows(scoped, period), level="community", period=period, now=town["now"])
    assert (totals["filed"], totals["closed"], totals["open"]) == (unit.filed, unit.closed, unit.open_now)
    assert totals["overdue"] == unit.overdue_now and totals["closure_rate"] == unit.closure_rate


def test_city_totals_equal_the_sum_over_communities_plus_the_unassigned(client, town):
    totals = page(client, town["planner"]).context["totals"]
    period = month_period(town["now"])
    rows = metric_rows(problems_visible_to(town["planner"]), period)
    units = unit_stats(rows, level="community", period=period, now=town["now"])
    assert totals["open"] == sum(u.open_now for u in units) + totals["unassigned"] == 11
    assert totals["filed"] == sum(u.filed for u in units)
    assert totals == scope_totals(problems_visible_to(town["admin"]), period, town["now"])


def test_department_queue_is_what_was_dispatched_to_it(client, town):
    p = town["p"]
    response = page(client, town["handler"])
    items, total = response.context["queue"]
    # both overdue ones first, the longer overdue before; then the next deadline
    assert ids(items) == [p["g2_open"].pk, p["late"].pk, p["soon"].pk] and total == 3
    assert p["other_dept"].pk not in ids(items)
    assert "Deadline" in response.content.decode()


def test_inspector_sees_cases_to_verify_and_look_backs_due(client, town):
    p = town["p"]
    response = page(client, town["inspector"])
    assert ids(response.context["verify"][0]) == [p["handled"].pk]
    assert ids(response.context["lookbacks"][0]) == [p["closed"].pk]


def test_planner_sees_city_figures_and_links_to_the_evaluation(client, town):
    response = page(client, town["planner"])
    body = response.content.decode()
    assert reverse("evaluation") in body and reverse("evaluation-figures") in body
    codes = [u.code for u in response.context["ranking"]]
    assert sorted(codes) == [town["c1"].code, town["c2"].code]


def test_admin_sees_everything_summarised(client, town):
    response = page(client, town["admin"])
    ctx = response.context
    assert ids(ctx["unassigned"][0]) == [town["p"]["unassigned"].pk]
    assert dict((s, n) for s, _, n in ctx["statuses"])["dispatched"] == 4
    assert ctx["totals"]["unassigned"] == 1 and ctx["totals"]["escalated"] == 1


def test_reporter_sees_their_reports_and_the_report_button(client, town):
    response = page(client, town["reporter"])
    assert ids(response.context["reports"][0]) == [town["p"]["own"].pk]
    body = response.content.decode()
    assert 'class="button big"' in body and reverse("problem-report") in body
    assert "queue" not in response.context and "totals" not in response.context


def test_the_page_is_chinese_by_default_and_english_by_choice(client, town):
    client.force_login(town["leader"])
    chinese = client.get(reverse("dashboard")).content.decode()
    # strings already in the catalogue (new ones are translated when the catalogue is rebuilt)
    assert '<html lang="zh-hans">' in chinese and "我的网格" in chinese and "My grids" not in chinese
    english = page(client, town["leader"]).content.decode()
    assert '<html lang="en">' in english and "My grids" in english and "My queue" in english


def _grow(town, n_grids=4, n_cases=30):
    """More grids for the leader and the head, and more cases of every kind in them (enough to
    fill every list, so both measurements page the same way)."""
    c1, category, now = town["c1"], town["category"], town["now"]
    for _ in range(n_grids):
        seq = c1.grids.count() + 1
        x0 = LON0 + 0.01 * seq
        g = grid(c1, seq, (x0, LAT0, x0 + 0.002, LAT0 + 0.002), leader=town["leader"])
        for j in range(n_cases):
            make_case(g, c1, category, ("reported", "filed", "dispatched", "handled", "closed")[j % 5],
                      filed_at=now - timedelta(hours=j), deadline=now - timedelta(hours=1 + j),
                      department=town["dept"], lookback_due=now.date(),
                      closed_at=now - timedelta(minutes=j) if j % 5 == 4 else None)  # fmt: skip
    for _ in range(n_cases):
        make_case(g, c1, category, "reported", reporter=town["reporter"])


@pytest.mark.parametrize("who", ["leader", "head", "handler", "inspector", "planner", "admin", "reporter"])
def test_the_number_of_queries_does_not_grow_with_the_scope(client, town, who):
    client.force_login(town[who])
    _grow(town)
    client.get(reverse("dashboard"))  # warm caches (content types)
    with CaptureQueriesContext(connection) as before:
        assert client.get(reverse("dashboard")).status_code == 200
    _grow(town, n_grids=2)
    with CaptureQueriesContext(connection) as after:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    # The queue reads its parts until its page is full (``queues.first_by_need``): a larger scope
    # may fill it with fewer reads, never more.
    assert len(after.captured_queries) <= len(before.captured_queries), [
        q["sql"][:120] for q in after.captured_queries
    ]
    # with the unread count, the scope's id lists, the totals' two reads, the queue's three parts
    # and the ten steps' progress (steps, items, done, acceptances, in progress)
    assert len(before.captured_queries) <= 23


def test_links_go_to_the_map_pages_of_the_role(client, town):
    head = page(client, town["head"]).content.decode()
    assert f'href="{reverse("community-detail", args=[town["c1"].code])}"' in head
    planner = page(client, town["planner"]).content.decode()
    assert f'href="{reverse("planner")}"' in planner
    assert f'href="{reverse("community-detail", args=[town["c2"].code])}"' in planner
    leader = page(client, town["leader"]).content.decode()
    assert f'href="{reverse("route")}"' in leader and f'href="{reverse("problem-report")}"' in leader


def test_a_user_without_a_profile_gets_the_reporters_page(client, town, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="pw-for-tests-only")
    response = page(client, stranger)
    assert response.context["reports"] == ([], 0)
    assert "queue" not in response.context


def test_a_head_without_a_community_and_a_handler_without_a_department_see_nothing(client, town):
    from tests.factories import user

    head = page(client, user("lost_head", "community_head"))
    assert head.context["totals"]["open"] == 0 and head.context["grid_rows"] == []
    handler = page(client, user("lost_handler", "department"))
    assert handler.context["queue"] == ([], 0)


@pytest.mark.parametrize("who", ["planner", "admin"])
def test_city_figures_from_the_daily_summary_equal_the_grouped_ones(
    client, town, who, django_capture_on_commit_callbacks
):
    grouped = page(client, town[who]).context
    assert grouped["figures_as_of"] is None  # no summary yet: grouped from the cases
    summary.refresh()
    with django_capture_on_commit_callbacks(execute=True):  # the kept figures: refreshed by a worker
        assert page(client, town[who]).context["kept"].state == "updating"
    summed = page(client, town[who])
    assert summed.context["figures_as_of"] == summary.as_of()
    assert summed.context["totals"] == grouped["totals"]
    figures = ("code", "rank", "score", "filed", "filed_closed", "closed", "open_now", "overdue_now")
    assert [[getattr(u, f) for f in figures] for u in summed.context["ranking"]] == [
        [getattr(u, f) for f in figures] for u in grouped["ranking"]
    ]
    assert 'class="muted as-of"' in summed.content.decode()


@pytest.mark.parametrize("who", ["planner", "admin"])
def test_the_summary_path_costs_as_many_queries_whatever_the_scope(client, town, who):
    client.force_login(town[who])
    _grow(town)
    summary.refresh()
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as before:
        assert client.get(reverse("dashboard")).status_code == 200
    _grow(town, n_grids=2)
    summary.refresh()
    with CaptureQueriesContext(connection) as after:
        assert client.get(reverse("dashboard")).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(before.captured_queries) <= 18
