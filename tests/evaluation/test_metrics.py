"""Every formula of gridmap.evaluation.metrics against hand-computed values (see conftest)."""

import pytest

from gridmap.evaluation.metrics import (
    Period,
    UnitStats,
    clean_weights,
    composite_score,
    rank_units,
    unit_stats,
)
from gridmap.evaluation.models import ScoreWeights
from gridmap.evaluation.selectors import evaluation_for
from tests.evaluation.conftest import APRIL, MARCH, NOW, at

pytestmark = pytest.mark.django_db


def by_code(units: list[UnitStats]) -> dict[str, UnitStats]:
    return {u.code: u for u in units}


def test_grid_a_in_march_every_formula(town, admin):
    a = by_code(evaluation_for(admin, MARCH, NOW)["grid"])[town["ga"].code]
    # filed: 1, 2, 3, 4 (03-31 23:00), 6, 7, 9; not 5 (February) nor 8 (duplicate)
    assert (a.filed, a.filed_closed, a.closed) == (7, 3, 4)
    assert a.closure_rate == pytest.approx(3 / 7)
    # closed in March: 1, 2, 3 and 5 (closed exactly at 03-01 00:00); not 4 nor 9 (April)
    assert a.on_time_rate == pytest.approx(3 / 4)
    assert (a.reworked, a.reworks, a.rework_rate) == (2, 3, pytest.approx(0.5))
    assert a.extension_rate == pytest.approx(0.25)
    assert sorted(a.hours_to_close) == [24, 36, 48, 96]
    assert a.mean_hours == pytest.approx(51.0)
    assert a.median_hours == pytest.approx(42.0)  # even count: mean of 36 and 48
    assert (a.open_now, a.overdue_now, a.overdue_share) == (2, 1, pytest.approx(0.5))
    assert a.recurrences == 1  # case 12 reported 03-20 recurs case 1
    # 100 × (0.3·3/7 + 0.3·0.75 + 0.2·(1−0.5) + 0.1·(1−0.25) + 0.1·(1−0.5))
    assert a.score == pytest.approx(100 * (0.3 * 3 / 7 + 0.225 + 0.1 + 0.075 + 0.05))
    assert round(a.score, 3) == 57.857


def test_grid_b_and_the_default_ranking(town, admin):
    grids = evaluation_for(admin, MARCH, NOW)["grid"]
    b = by_code(grids)[town["gb"].code]
    assert (b.filed, b.closed, b.closure_rate, b.on_time_rate) == (2, 2, 1.0, 0.5)
    assert (b.mean_hours, b.median_hours) == (36.0, 36.0)
    assert (b.open_now, b.overdue_now, b.recurrences) == (1, 0, 0)  # case 12 is open, not overdue
    assert b.score == pytest.approx(85.0)  # 100 × (0.3 + 0.15 + 0.2 + 0.1 + 0.1)
    c = by_code(grids)[town["gc"].code]
    # grid C: one case filed, still open, no deadline; nothing closed → closure 0 and
    # "not overdue" 1 are defined: 100 × (0.3·0 + 0.1·1) / (0.3 + 0.1)
    assert (c.filed, c.closed, c.closure_rate, c.score) == (1, 0, 0.0, pytest.approx(25.0))
    assert [u.code for u in grids] == [town["gb"].code, town["ga"].code, town["gc"].code]
    assert [u.rank for u in grids] == [1, 2, 3]


def test_april_counts_the_cases_that_crossed_the_boundary(town, admin):
    a = by_code(evaluation_for(admin, APRIL, NOW)["grid"])[town["ga"].code]
    assert (a.filed, a.closed, a.closure_rate) == (0, 2, None)  # 4 and 9 closed in April
    assert sorted(a.hours_to_close) == [2, 288]
    assert a.median_hours == pytest.approx(145.0)
    assert a.recurrences == 0


def test_community_department_handler_and_leader_levels(town, admin):
    tables = evaluation_for(admin, MARCH, NOW)
    c1 = by_code(tables["community"])[town["c1"].code]
    # grid A (7 filed, 4 closed) + grid B (2, 2) + the fallback case 13 (1, 1)
    assert (c1.filed, c1.filed_closed, c1.closed, c1.open_now) == (10, 6, 7, 3)
    x = by_code(tables["department"])["x"]
    assert (x.filed, x.closed, x.on_time_rate, x.reworks) == (3, 3, pytest.approx(2 / 3), 3)
    h2 = by_code(tables["handler"])["h2"]
    assert (h2.closed, h2.median_hours, h2.mean_hours) == (3, 48.0, 56.0)  # cases 3, 10, 11
    leader_a = by_code(tables["leader"])["leader_a"]
    grid_a = by_code(tables["grid"])[town["ga"].code]
    assert (leader_a.filed, leader_a.closed, leader_a.score) == (grid_a.filed, grid_a.closed, grid_a.score)


def test_weights_change_the_ranking(town, admin):
    def order() -> list[str]:
        return [u.code for u in evaluation_for(admin, MARCH, NOW)["grid"] if u.code != town["gc"].code]

    assert order() == [town["gb"].code, town["ga"].code]  # 85 vs 57.9
    ScoreWeights.objects.create(closure=0, on_time=1, rework=0, extension=0, overdue=0)
    assert order() == [town["ga"].code, town["gb"].code]  # on time: 75 % vs 50 %


def test_settings_weights_apply_without_a_row(town, admin, settings):
    settings.GRIDMAP = {**settings.GRIDMAP, "SCORE_WEIGHTS": {"on_time": 1, "closure": 0, "rework": 0,
                                                              "extension": 0, "overdue": 0}}  # fmt: skip
    a = by_code(evaluation_for(admin, MARCH, NOW)["grid"])[town["ga"].code]
    assert a.score == pytest.approx(75.0)


def test_scoping_a_grid_leader_sees_only_their_grid(town):
    tables = evaluation_for(town["leader_a"], MARCH, NOW)
    assert [u.code for u in tables["grid"]] == [town["ga"].code]
    assert [u.code for u in tables["community"]] == [town["c1"].code]
    assert tables["community"][0].filed == 7  # grid A only, not B nor the fallback case
    assert {u.code for u in tables["handler"]} == {"h1", "h2"}  # who fixed grid A's cases


def test_scoping_a_department_sees_its_cases(town):
    tables = evaluation_for(town["h1"], MARCH, NOW)
    assert [u.code for u in tables["department"]] == ["x"]
    assert sum(u.filed for u in tables["grid"]) == 3


def test_ties_are_broken_by_closed_count_then_code():
    period = Period(at(3, 1), at(4, 1))

    def row(pk: int, grid: str, closed: bool) -> dict:
        return {"id": pk, "status": "closed" if closed else "filed", "filed_at": at(3, 2),
                "closed_at": at(3, 3) if closed else None, "closed_on_time": True if closed else None,
                "rework_count": 0, "extension_count": 0, "deadline": None, "grid_id": grid,
                "grid__code": grid, "grid__name": grid}  # fmt: skip

    rows = [row(1, "b", True), row(2, "a", True), row(3, "c", True), row(4, "c", True)]
    units = rank_units(unit_stats(rows, level="grid", period=period, now=at(4, 2)), clean_weights(None))
    assert [(u.code, u.rank, u.score) for u in units] == [("c", 1, 100.0), ("a", 2, 100.0), ("b", 3, 100.0)]


def test_a_unit_with_nothing_defined_has_no_score_and_no_rank():
    empty = UnitStats("grid", 1, "g", "g", recurrences=2)
    assert composite_score(empty, clean_weights(None)) is None
    assert rank_units([empty], clean_weights(None))[0].rank is None


def test_clean_weights_ignores_junk():
    weights = clean_weights({"closure": -1, "on_time": float("nan"), "rework": True, "extension": 2, "x": 9})
    assert weights == {"closure": 0.3, "on_time": 0.3, "rework": 0.2, "extension": 2.0, "overdue": 0.1,
                       "satisfaction": 0.0}  # fmt: skip


def test_metrics_open_statuses_follow_the_model():
    from gridmap.evaluation.metrics import OPEN
    from gridmap.problems.models import OPEN_STATUSES

    assert OPEN == {str(s) for s in OPEN_STATUSES}
