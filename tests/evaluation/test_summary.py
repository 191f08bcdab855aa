"""The daily summary: figures read from it equal the per-case reference (``metrics.unit_stats``
over ``selectors.metric_rows``) on every level, for city-wide users, several periods and random
cases; a refresh after changes rewrites what they touched, and equals a full rebuild."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from gridmap.dashboard.selectors import scope_totals
from gridmap.evaluation import summary
from gridmap.evaluation.metrics import LEVELS, Period
from gridmap.evaluation.models import DailyFigures, SummaryRun
from gridmap.evaluation.selectors import evaluation_for
from gridmap.evaluation.summary_figures import STALE_AFTER, city_totals, city_weeks, summary_as_of
from gridmap.evaluation.weekly import weekly_counts, weeks_between
from gridmap.problems.models import Problem, ProblemEvent
from gridmap.problems.selectors import problems_visible_to
from tests.evaluation.conftest import APRIL, MARCH, NOW, at
from tests.evaluation.test_aggregates import add_cases, reference, same
from tests.factories import user

pytestmark = pytest.mark.django_db

PERIODS = [MARCH, APRIL, Period(at(3, 10), at(3, 24)), Period(at(2, 1), at(5, 1))]


def rows():
    return sorted(DailyFigures.objects.values_list("day", "town", "level", "unit", *summary.FIGURES))


@pytest.mark.parametrize("period", PERIODS, ids=["march", "april", "weeks", "quarter"])
@pytest.mark.parametrize("seed", [13, 29])
def test_summary_figures_equal_the_per_case_reference(town, admin, period, seed):
    add_cases(town, 150, seed=seed)
    planner = user("planner", "planner")
    summary.refresh()
    for who in (admin, planner):
        assert summary_as_of(who, period) is not None
        tables = evaluation_for(who, period, NOW)
        scoped = problems_visible_to(who)
        for level in LEVELS:
            same(tables[level], reference(scoped, level, period))


def test_scope_totals_and_weeks_equal_the_grouped_ones(town, admin):
    add_cases(town, 150)
    summary.refresh()
    scoped = problems_visible_to(admin)
    for period in PERIODS:
        grouped = scope_totals(scoped, period, NOW)
        assert city_totals(period, summary.as_of()) == {
            k: grouped[k] for k in ("filed", "filed_closed", "closed")
        }
    mondays = weeks_between(date(2024, 2, 12), date(2024, 5, 6))
    assert city_weeks(mondays) == weekly_counts(scoped, mondays)


def test_a_period_of_part_days_a_narrower_scope_or_a_stale_summary_is_grouped_from_the_cases(town, admin):
    assert summary_as_of(admin, MARCH) is None  # never built
    summary.refresh()
    assert summary_as_of(admin, Period(at(3, 1, 6), at(4, 1))) is None
    assert summary_as_of(town["leader_a"], MARCH) is None
    assert summary_as_of(admin, MARCH) == summary.as_of()
    SummaryRun.objects.update(started_at=timezone.now() - STALE_AFTER - timedelta(minutes=1))
    assert summary_as_of(admin, MARCH) is None


def test_a_refresh_rewrites_what_changed_and_equals_a_full_rebuild(town, admin):
    add_cases(town, 120)
    summary.refresh()
    p = town["p"]
    # the loop's way: each change with its event; an old case closed now, a closing undone
    now = timezone.now()
    Problem.objects.filter(pk=p[6].pk).update(status="closed", closed_at=now, closed_on_time=False)
    ProblemEvent.objects.create(problem=p[6], action="verify_pass", at=now)
    Problem.objects.filter(pk=p[2].pk).update(status="dispatched", closed_at=None, closed_on_time=None)
    ProblemEvent.objects.create(problem=p[2], action="lookback_fail", at=now)
    add_cases(town, 30, seed=31)  # new ids, old times (an import)
    result = summary.refresh()
    assert result["days"] != "all"
    incremental = rows()
    summary.refresh(full=True)
    assert rows() == incremental
    for period in PERIODS:
        tables = evaluation_for(admin, period, NOW)
        for level in LEVELS:
            same(tables[level], reference(problems_visible_to(admin), level, period))


def test_an_edit_outside_the_loop_rebuilds_its_town(town, admin):
    summary.refresh()
    before = rows()
    Problem.objects.filter(pk=town["p"][3].pk).update(rework_count=5)  # no event: an admin edit
    result = summary.refresh()
    assert result["days"] == "all"
    assert rows() != before
    summary.refresh(full=True)
    after = rows()
    summary.refresh()
    assert rows() == after
    same(evaluation_for(admin, MARCH, NOW)["grid"], reference(problems_visible_to(admin), "grid", MARCH))


def test_nothing_changed_rewrites_nothing(town):
    summary.refresh()
    assert summary.refresh() == {"towns": 0, "days": 0, "rows": 0}


def test_days_too_scattered_are_rewritten_as_one_span(town, admin, monkeypatch):
    add_cases(town, 120)
    summary.refresh()
    monkeypatch.setattr(summary, "MAX_RANGES", 2)
    now = timezone.now()
    for case in Problem.objects.filter(status="dispatched").order_by("pk")[:6]:  # filed on scattered days
        Problem.objects.filter(pk=case.pk).update(status="closed", closed_at=now, closed_on_time=True)
        ProblemEvent.objects.create(problem=case, action="verify_pass", at=now)
    touched = summary.touched_cases(now, Problem.objects.count() + 10**6, 10**9)
    assert len(summary.day_ranges(summary.touched_days(touched))) == 1
    summary.refresh()
    incremental = rows()
    summary.refresh(full=True)
    assert rows() == incremental


def test_the_task_and_the_command_refresh_it(town):
    from io import StringIO

    from django.core.management import call_command

    from gridmap.evaluation.tasks import refresh_summary

    seen = []
    assert refresh_summary(lambda *a: seen.append(a))["days"] == "all"  # the first run builds it
    assert seen and refresh_summary(lambda *a: None) == {"towns": 0, "days": 0, "rows": 0}
    out = StringIO()
    call_command("refresh_evaluation_summary", "--full", stdout=out)
    assert out.getvalue().startswith("towns all, days all, rows ") and DailyFigures.objects.exists()
