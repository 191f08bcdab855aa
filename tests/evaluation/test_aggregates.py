"""The figures are grouped in the database: the rows fetched into Python do not grow with the
number of cases, and the grouped figures equal the per-case reference (``metrics.unit_stats``
over ``selectors.metric_rows``) on every level."""

import random
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models.sql import compiler
from django.test.utils import CaptureQueriesContext

from gridmap.dashboard.selectors import grid_figures, scope_totals, unit_figures
from gridmap.evaluation.aggregates import ratings_in, recurrences_in, unit_aggregates
from gridmap.evaluation.metrics import LEVELS, Period, UnitStats, rating_counts, recurrence_counts, unit_stats
from gridmap.evaluation.selectors import evaluation_by_rows, evaluation_for, metric_rows
from gridmap.evaluation.weekly import bucket, weekly_counts, weeks_between
from gridmap.geography.models import Grid
from gridmap.problems.models import Problem, ProblemRating
from gridmap.problems.selectors import problems_visible_to
from tests.evaluation.conftest import APRIL, MARCH, NOW, at
from tests.factories import user

pytestmark = pytest.mark.django_db

STATUSES = ("reported", "filed", "dispatched", "handled", "closed", "closed", "rejected", "duplicate")


def add_cases(town, n, seed=13):
    """``n`` more cases spread over the town's grids (and its fallback), departments and handlers,
    with filings, closings and deadlines around March and April."""
    rng = random.Random(seed)
    template = town["p"][1]
    places = [town["ga"], town["gb"], town["gc"], None]
    people = [(None, None), (town["dx"], town["h1"]), (town["dy"], town["h2"])]
    cases = []
    for _ in range(n):
        g = rng.choice(places)
        department, handler = rng.choice(people)
        # microseconds too: the time to close is summed and ordered exactly, to the microsecond
        filed = at(2, 20) + timedelta(minutes=rng.randrange(60 * 24 * 60), microseconds=rng.randrange(10**6))
        status = rng.choice(STATUSES)
        span = timedelta(
            minutes=rng.randrange(1, 60 * 24 * 20), microseconds=rng.choice((0, rng.randrange(10**6)))
        )
        closed = filed + span if status == "closed" else None
        cases.append(
            Problem(
                geom=template.geom, category=town["category"], grid=g,
                community=g.community if g else town["c1"], status=status,
                reported_at=filed - timedelta(hours=1), filed_at=None if status == "reported" else filed,
                closed_at=closed, closed_on_time=None if closed is None else rng.random() < 0.7,
                rework_count=rng.choice((0, 0, 1, 2)), extension_count=rng.choice((0, 0, 1)),
                deadline=filed + timedelta(days=rng.randrange(1, 30)) if rng.random() < 0.8 else None,
                department=department, handled_by=handler,
                recurrence_of=template if rng.random() < 0.05 else None,
            )
        )  # fmt: skip
    before = Problem.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    Problem.objects.bulk_create(cases)
    # satisfaction ratings on some of the new closed cases, given around March and April
    raters = [user(f"rater{seed}-{i}") for i in range(3)]
    closed = (
        Problem.objects.filter(status="closed", pk__gt=before).order_by("pk").values_list("pk", flat=True)
    )
    ProblemRating.objects.bulk_create(
        [
            ProblemRating(
                problem_id=pk,
                reporter=r,
                stars=rng.randint(1, 5),
                at=at(2, 25) + timedelta(hours=rng.randrange(24 * 60)),
            )
            for pk in closed
            for r in raters
            if rng.random() < 0.3
        ],  # fmt: skip
        ignore_conflicts=True,
    )


@contextmanager
def fetched_rows():
    """Counts the rows every many-row query hands to Python (a single-row ``aggregate()`` or
    ``first()`` counts as one query in the capture, not here)."""
    tally = {"rows": 0}
    original = compiler.cursor_iter

    def counting(*args, **kwargs):
        for chunk in original(*args, **kwargs):
            tally["rows"] += len(chunk)
            yield chunk

    compiler.cursor_iter = counting
    try:
        with CaptureQueriesContext(connection) as queries:
            yield tally, queries
    finally:
        compiler.cursor_iter = original


def cost(work):
    with fetched_rows() as (tally, queries):
        work()
    return tally["rows"], len(queries)


def every_figure_read(town, admin):
    scoped = problems_visible_to(admin)
    mondays = weeks_between(date(2024, 3, 4), date(2024, 4, 29))
    tables = evaluation_for(admin, MARCH, NOW)
    figures = [(u.score, u.mean_hours, u.median_hours) for units in tables.values() for u in units]
    grids = list(Grid.objects.order_by("pk"))
    return (
        figures,
        unit_figures(scoped, level="community", period=MARCH, now=NOW),
        grid_figures(scoped, grids, period=MARCH, now=NOW),
        scope_totals(scoped, MARCH, NOW),
        weekly_counts(scoped, mondays),
    )


def test_rows_fetched_do_not_grow_with_the_cases(town, admin):
    add_cases(town, 50)
    few = cost(lambda: every_figure_read(town, admin))
    add_cases(town, 350, seed=14)
    many = cost(lambda: every_figure_read(town, admin))
    assert Problem.objects.count() == 14 + 400
    units = sum(len(units) for units in evaluation_for(admin, MARCH, NOW).values())
    # the same queries; the same rows (one per unit), but for the median's middle rows, one or
    # two per unit as its count of closed cases is odd or even
    assert many[1] == few[1]
    assert abs(many[0] - few[0]) <= units, (few, many, units)


def reference(scoped, level, period):
    rows = metric_rows(scoped, period)
    recurrences = recurrence_counts(recurrences_in(scoped, period).values_list("recurrence_of_id", flat=True))
    ratings = rating_counts(ratings_in(scoped, period).values_list("problem_id", "stars"))
    return unit_stats(rows, level=level, period=period, now=NOW, recurrences=recurrences, ratings=ratings)


COUNTS = ("code", "name", "filed", "filed_closed", "closed", "closed_on_time", "reworked", "reworks",
          "extended", "open_now", "overdue_now", "recurrences", "rated", "rating_total", "satisfaction")  # fmt: skip


def same(grouped: list[UnitStats], expected: list[UnitStats]) -> None:
    got = {u.key: u for u in grouped}
    assert set(got) == {u.key for u in expected}
    for want in expected:
        unit = got[want.key]
        assert [getattr(unit, f) for f in COUNTS] == [getattr(want, f) for f in COUNTS], want.code
        assert unit.median_hours == want.median_hours
        if want.mean_hours is None:
            assert unit.mean_hours is None
        else:
            assert unit.mean_hours == pytest.approx(want.mean_hours, rel=1e-12)
        assert sorted(unit.hours_to_close) == sorted(want.hours_to_close)
        assert (unit.closure_rate, unit.on_time_rate, unit.rework_rate, unit.extension_rate) == (
            want.closure_rate, want.on_time_rate, want.rework_rate, want.extension_rate,
        )  # fmt: skip


@pytest.mark.parametrize(
    "period", [MARCH, APRIL, Period(at(3, 10), at(3, 24))], ids=["march", "april", "weeks"]
)
def test_grouped_figures_equal_the_per_case_reference(town, admin, period):
    add_cases(town, 150)
    for who in (admin, town["leader_a"], town["h2"]):
        scoped = problems_visible_to(who)
        for level in LEVELS:
            same(
                unit_aggregates(scoped, level=level, period=period, now=NOW), reference(scoped, level, period)
            )


def test_weekly_counts_equal_the_per_case_buckets(town, admin):
    add_cases(town, 150)
    mondays = weeks_between(date(2024, 2, 12), date(2024, 5, 6))
    for who in (admin, town["leader_b"], town["h1"]):
        scoped = problems_visible_to(who)
        # the id keeps apart identical rows of a distinct() scope
        rows = scoped.order_by().values_list("pk", "filed_at", "closed_at", "status")
        assert weekly_counts(scoped, mondays) == bucket([r[1:] for r in rows], mondays)


def test_the_ranked_tables_equal_the_per_case_path(town, admin):
    add_cases(town, 150)
    grouped, by_rows = evaluation_for(admin, MARCH, NOW), evaluation_by_rows(admin, MARCH, NOW)
    for level in LEVELS:
        assert [(u.key, u.rank, u.score) for u in grouped[level]] == [
            (u.key, u.rank, u.score if u.score is None else pytest.approx(u.score, rel=1e-12))
            for u in by_rows[level]
        ]
