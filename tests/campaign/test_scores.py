"""The formulas of campaign.scores, sampling and the inspectors' shares: no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.campaign.rounds import assign_inspectors, sample_points
from gridmap.campaign.scores import PASS_SCORE, ItemScore, compared, group_scores, item_score, point_score


def test_all_or_nothing_item():
    assert item_score(weight=10, rule="all", deduction=0, fail_at=1, findings=0) == ItemScore(10.0, False)
    assert item_score(weight=10, rule="all", deduction=0, fail_at=1, findings=1) == ItemScore(0.0, True)


def test_per_finding_item_deducts_and_fails_at_threshold():
    s = lambda n: item_score(weight=10, rule="per_finding", deduction=2, fail_at=3, findings=n)  # noqa: E731
    assert [s(n).points for n in range(7)] == [10, 8, 6, 4, 2, 0, 0]
    assert [s(n).failed for n in range(5)] == [False, False, False, True, True]


def test_negative_findings_refused():
    with pytest.raises(ValueError):
        item_score(weight=10, rule="all", deduction=0, fail_at=1, findings=-1)


@given(
    weight=st.floats(0.1, 100), deduction=st.floats(0, 100), fail_at=st.integers(1, 1000),
    findings=st.integers(0, 1000), rule=st.sampled_from(["all", "per_finding"]),
)  # fmt: skip
def test_item_never_above_weight_or_below_zero(weight, deduction, fail_at, findings, rule):
    s = item_score(weight=weight, rule=rule, deduction=deduction, fail_at=fail_at, findings=findings)
    assert 0 <= s.points <= weight + 1e-9
    assert s.failed == (findings >= fail_at)


def test_point_score_leaves_out_not_applicable():
    assert point_score([(10, 10, False), (0, 10, False), (0, 30, True)]) == 50.0
    assert point_score([(0, 30, True)]) is None
    assert point_score([]) is None


def test_group_score_is_the_mean_of_points_each_counted_once():
    g = group_scores([("a", 100.0), ("a", 60.0), ("b", None), ("b", 90.0)])
    assert g["a"].score == 80.0 and g["a"].points == 2 and g["a"].passed == 1
    assert g["b"].score == 90.0 and g["b"].points == 1
    assert g["a"].pass_rate == 0.5
    assert PASS_SCORE == 80.0


def test_compared():
    assert compared(0.1, 0.3, lower_is_better=True) == "better"
    assert compared(0.3, 0.1, lower_is_better=True) == "worse"
    assert compared(90, 80) == "better"
    assert compared(0.2, 0.2) == "same"
    assert compared(0.2, None) == "new"


POINTS = [(i, i % 3, i % 2) for i in range(1, 61)]  # 60 points, 3 types × 2 communities


def test_sample_is_reproducible_and_stratified():
    a = sample_points(POINTS, share=0.25, seed=7)
    assert a == sample_points(POINTS, share=0.25, seed=7)
    assert a != sample_points(POINTS, share=0.25, seed=8)
    strata = {(t, c) for _, t, c in POINTS}
    for t, c in strata:
        members = [p for p, tt, cc in POINTS if (tt, cc) == (t, c)]
        assert len([p for p in a if p in members]) == 3  # ceil(0.25 × 10)
    assert sample_points(POINTS, share=None, seed=0) == list(range(1, 61))
    with pytest.raises(ValueError):
        sample_points(POINTS, share=1.5, seed=0)


def test_inspectors_get_whole_communities_and_even_loads():
    who = assign_inspectors([(1, 10), (2, 10), (3, 20), (4, 30), (5, 30)], [100, 200])
    assert who[1] == who[2] and who[4] == who[5]
    assert sorted([list(who.values()).count(100), list(who.values()).count(200)]) == [2, 3]
    assert assign_inspectors([(1, None)], []) == {1: None}
