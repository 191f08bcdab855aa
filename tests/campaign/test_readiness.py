"""The readiness score: its formula (weighted mean of the parts present), each part from its
source (the latest mock round by then, the loop's last 30 days, the latest satisfaction survey),
the trend against 30 days earlier, and the ranking page per scope."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gridmap.campaign.models import ChecklistItem, ReadinessWeights
from gridmap.campaign.readiness_score import PARTS, ranking, weighted
from gridmap.campaign.rounds import round_create
from gridmap.surveys.models import Answer as SurveyAnswer
from gridmap.surveys.models import Question, Response, Survey
from tests.campaign.test_loop import _post

pytestmark = pytest.mark.django_db


def test_the_formula_is_the_weighted_mean_of_the_parts_present():
    w = ReadinessWeights()  # 50, 20, 10, 10, 10
    every = {"mock": 80.0, "on_time": 100.0, "no_rework": 50.0, "no_recurrence": 100.0, "satisfaction": 60.0}
    assert weighted(every, w) == round((50 * 80 + 20 * 100 + 10 * 50 + 10 * 100 + 10 * 60) / 100, 1)
    assert weighted({"mock": 80.0, "satisfaction": 60.0}, w) == round((50 * 80 + 10 * 60) / 60, 1)
    assert weighted(dict.fromkeys(PARTS), w) is None
    assert weighted({"mock": 80.0}, ReadinessWeights(mock=0)) is None


def _score_round(client, town, held_days_ago, failed):
    r = round_create(
        name=f"第{held_days_ago}天", created_by=town.people["admin"], inspectors=[town.people["inspector1"]]
    )
    r.held_on = timezone.localdate() - timedelta(days=held_days_ago)
    r.save()
    client.force_login(town.people["inspector1"])
    for visit in r.visits.filter(inspector=town.people["inspector1"]):
        for item in ChecklistItem.objects.filter(point_type=visit.point.type):
            assert _post(client, visit, item, 1 if failed and item.weight >= 10 else 0).status_code == 201
    return r


def test_a_community_ranks_by_its_round_its_loop_and_its_survey_with_a_trend(client, town):
    c1 = town.grids["A"].community
    _score_round(client, town, 40, failed=True)  # the round 30 days ago knew
    survey = Survey.objects.create(title="满意度")
    q = Question.objects.create(survey=survey, number=1, text="满意吗", kind="rating", satisfaction=True)
    response = Response.objects.create(survey=survey, community=c1, client_id="00000000-0000-0000-0000-000000000001",
                                       source="import")  # fmt: skip
    SurveyAnswer.objects.create(response=response, question=q, number=5)
    Survey.objects.filter(pk=survey.pk).update(created_at=timezone.now() - timedelta(days=45))
    before = {r.unit.pk: r for r in ranking("community", [c1], timezone.now())}[c1.pk]
    assert (
        before.parts["satisfaction"] == 100.0
        and before.parts["mock"] is not None
        and before.parts["mock"] < 100
    )
    _score_round(client, town, 0, failed=False)  # today's round: every item passes
    (now,) = ranking("community", [c1], timezone.now())
    assert now.parts["mock"] == 100.0 and now.score > before.score
    # 30 days ago: that round and the survey, and no case in the loop's window yet
    w = ReadinessWeights.current()
    assert now.before == weighted({"mock": before.parts["mock"], "satisfaction": 100.0}, w)
    assert now.trend == round(now.score - now.before, 1) and now.trend > 0
    assert now.rank == 1


def test_the_ranking_page_per_scope_states_its_formula(client, town):
    _score_round(client, town, 0, failed=True)
    client.force_login(town.people["head1"])
    page = client.get(reverse("campaign-ranking"))
    assert page.status_code == 200 and 'id="formula"' in page.content.decode()
    assert [r["code"] for r in page.context["rows"]] == [town.grids["A"].community.code]
    client.force_login(town.people["leaderA"])
    rows = client.get(reverse("campaign-ranking"), {"level": "grid"}).context["rows"]
    assert [r["code"] for r in rows] == [town.grids["A"].code]
    client.force_login(town.people["admin"])
    rows = client.get(reverse("campaign-ranking"), {"level": "grid"}).context["rows"]
    assert {r["code"] for r in rows} == {g.code for g in town.grids.values()}
    assert client.get(reverse("campaign-ranking"), {"level": "street"}).status_code == 400
    client.force_login(town.people["reporter"])
    assert client.get(reverse("campaign-ranking")).status_code == 403


def test_the_ranking_is_kept_and_marked_updating_after_a_change(client, town, settings):
    """At city scale the ranking takes seconds: a page answers what is kept ("current"), and
    after a change the kept ranking at once, marked "updating", while the workers compute it."""
    settings.GRIDMAP_TASKS_IN_PROCESS = "off"  # the refresh is asked for, not run here
    client.force_login(town.people["admin"])
    first = client.get(reverse("campaign-ranking"))
    assert first.context["kept"].state == "current"
    _score_round(client, town, 0, failed=True)  # new problems: the problems stamp moves
    client.force_login(town.people["admin"])
    again = client.get(reverse("campaign-ranking"))
    assert again.context["kept"].state == "updating" and again.context["rows"] == first.context["rows"]
    assert 'data-kept="updating"' in again.content.decode()
