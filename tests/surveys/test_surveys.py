"""Surveys: answers from the phone page (checked, idempotent on the client id) and from a real
.xlsx file (all or nothing, the same file twice adds nothing), results per community with the
satisfaction score's formula, pages scoped to the communities the user follows."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from gridmap.accounts.models import Role
from gridmap.surveys.models import Answer, Question, Response, Survey
from gridmap.surveys.results import satisfaction_score, survey_results
from tests.factories import region_tree, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    survey = Survey.objects.create(title="居民满意度调查", title_en="Residents' satisfaction")
    Question.objects.create(
        survey=survey, number=1, text="对社区环境卫生满意吗", kind="rating", satisfaction=True
    )
    Question.objects.create(
        survey=survey, number=2, text="对停车秩序满意吗", kind="rating", satisfaction=True
    )
    Question.objects.create(survey=survey, number=3, text="知道创建文明城市吗", kind="yes_no")
    Question.objects.create(survey=survey, number=4, text="建议", kind="text", required=False)
    return {"c1": c1, "c2": c2, "survey": survey, "head": user("head", Role.COMMUNITY_HEAD, community=c1),
            "admin": user("admin", Role.ADMIN), "dept": user("dept", Role.DEPARTMENT)}  # fmt: skip


def answer(client, town, who="head", community="c1", client_id=None, **answers):
    client.force_login(town[who])
    data = {"client_id": str(client_id or uuid.uuid4()), "community": town[community].code}
    data.update({"q1": "4", "q2": "5", "q3": "yes", "q4": ""} | answers)
    return client.post(reverse("survey-answer", args=[town["survey"].pk]), data)


def test_the_formula_of_satisfaction():
    assert (
        satisfaction_score(1.0) == 0.0
        and satisfaction_score(5.0) == 100.0
        and satisfaction_score(4.0) == 75.0
    )
    assert satisfaction_score(None) is None


def test_a_phone_answer_is_saved_once_and_counted(client, town):
    key = uuid.uuid4()
    assert answer(client, town, client_id=key).status_code == 302
    assert answer(client, town, client_id=key).status_code == 302  # a retry
    assert (
        Response.objects.count() == 1 and Answer.objects.count() == 3
    )  # the empty optional one is not stored
    (c1, c2) = survey_results(town["survey"], [town["c1"], town["c2"]])
    assert (c1.responses, c1.satisfaction, c2.responses, c2.satisfaction) == (1, 87.5, 0, None)  # mean 4.5
    q3 = Question.objects.get(number=3)
    assert c1.by_question[q3.pk] == 1.0


@pytest.mark.parametrize(
    "bad",
    [{"q1": "6"}, {"q1": "0"}, {"q1": "3.5"}, {"q1": ""}, {"q3": "maybe"}, {"q4": "x" * 1001}, {"q2": "１"}],
)
def test_a_bad_answer_is_refused_whole(client, town, bad):
    assert answer(client, town, **bad).status_code == 400
    assert not Response.objects.exists()


def test_only_the_communities_followed(client, town):
    assert answer(client, town, community="c2").status_code == 400  # not the head's
    assert answer(client, town, who="dept").status_code == 403
    client.force_login(town["head"])
    page = client.get(reverse("survey-results", args=[town["survey"].pk]))
    assert [r.community for r, _ in page.context["table"]] == [town["c1"]]
    client.force_login(town["dept"])
    assert client.get(reverse("surveys")).status_code == 403


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.text(max_size=8), st.integers(-3, 9).map(str)), min_size=4, max_size=4))
def test_any_answer_is_saved_whole_or_refused(client, town, values):
    Response.objects.all().delete()
    q = dict(zip(("q1", "q2", "q3", "q4"), values, strict=True))
    response = answer(client, town, **q)
    assert response.status_code in (302, 400)
    assert Response.objects.exists() == (response.status_code == 302)


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def upload(client, town, content, who="admin", name="answers.xlsx"):
    client.force_login(town[who])
    return client.post(
        reverse("survey-import", args=[town["survey"].pk]), {"file": SimpleUploadedFile(name, content)}
    )


def test_a_spreadsheet_is_imported_once_and_refused_whole_when_a_row_is_bad(client, town):
    c1, c2 = town["c1"].code, town["c2"].code
    good = xlsx(
        [
            ["community", "Q1", "Q2", "Q3", "Q4"],
            [c1, 5, 5, "是", "好"],
            [c2, 2, 3, "否", None],
            [int(c2), 3, 3, "yes"],
        ]
    )
    load_workbook(io.BytesIO(good))  # a real workbook
    response = upload(client, town, good)
    assert response.status_code == 200 and response.context["outcome"] == {"rows": 3, "written": 3}
    assert upload(client, town, good).context["outcome"] == {"rows": 3, "written": 0}  # the same file again
    assert Response.objects.filter(source="import").count() == 3
    (r1, r2) = survey_results(town["survey"], [town["c1"], town["c2"]])
    assert r1.satisfaction == 100.0 and r2.satisfaction == pytest.approx(satisfaction_score(2.75))
    bad = xlsx([["community", "Q1", "Q2", "Q3"], [c1, 5, 5, "是"], ["999", 5, 5, "是"], [c1, 7, 5, "是"]])
    response = upload(client, town, bad)
    assert response.status_code == 400 and len(response.context["errors"]) == 2
    first, second = response.context["errors"]
    assert "3" in first and "999" in first and "4" in second  # each bad row named
    assert Response.objects.count() == 3


@pytest.mark.parametrize("content", [b"not a workbook", b"PK\x03\x04broken", b""])
def test_a_file_that_is_not_a_workbook_is_refused(client, town, content):
    assert upload(client, town, content).status_code == 400
    assert not Response.objects.exists()


def test_only_an_administrator_imports(client, town):
    assert upload(client, town, xlsx([["community", "Q1"]]), who="head").status_code == 403


def test_the_figures_rank_communities_with_their_satisfaction_beside_the_score(client, town):
    from datetime import timedelta

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from gridmap.problems.models import EventCategory, Problem
    from tests.factories import LAT0, LON0

    now = timezone.now()
    for c in ("c1", "c2"):  # a filed case in each community this week, so both are ranked
        Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001), community=town[c], status="filed",
                               category=EventCategory.objects.get(code="0301"), filed_at=now - timedelta(hours=1),
                               reported_at=now - timedelta(hours=2))  # fmt: skip
    answer(client, town, q1="5", q2="4")  # c1: mean 4.5 -> 87.5
    client.force_login(town["admin"])
    page = client.get(reverse("evaluation-figures"), {"level": "community"})
    assert page.status_code == 200 and page.context["satisfaction"]["survey"] == town["survey"]
    scores = {u.key: u.survey_satisfaction for u in page.context["ranked"]}
    assert scores == {town["c1"].pk: 87.5, town["c2"].pk: None}
    assert "87.5" in page.content.decode()
