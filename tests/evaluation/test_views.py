"""Evaluation page and exports: scoped, Chinese headers, injection-safe, 400 on bad input."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gridmap.accounts.models import Role
from gridmap.evaluation.exports import EVALUATION_HEADERS, LEDGER_HEADERS, NEGATIVE_HEADERS
from gridmap.evaluation.selectors import ledger_problems
from gridmap.geography.models import Grid
from gridmap.problems.models import Problem, ProblemEvent, ProblemPhoto
from tests.evaluation.conftest import MARCH, MARCH_QUERY, signed_in  # noqa: E402
from tests.factories import user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


def workbook(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def test_page_shows_every_level_ranked(client, town, admin):
    response = signed_in(client, admin).get(reverse("evaluation"), MARCH_QUERY)
    assert response.status_code == 200
    body = response.content.decode()
    for code in (town["ga"].code, town["gb"].code, town["c1"].code, "leader_a", "h2"):
        assert code in body
    # the page measures "overdue" at the real now: both of grid A's open cases are past due
    # → 57.857 − 0.1 × 50 = 52.857
    assert "85.0" in body and "52.9" in body
    assert body.index(town["gb"].code) < body.index(town["ga"].code)  # B ranks first


def test_page_defaults_to_this_month(client, town, admin):
    response = signed_in(client, admin).get(reverse("evaluation"))
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["start"].day == 1


@pytest.mark.parametrize(
    "query",
    [{"start": "2024-13-01"}, {"start": "abc"}, {"start": "1e308"}, {"start": "NaN"},
     {"start": "2024-03-10", "end": "2024-03-01"}, {"start": "2024-03-01", "end": "2024-03-01"},
     {"start": "9999-01-01"}, {"start": "2000-01-01", "end": "2024-01-01"}, {"end": "0001-01-01"}],
)  # fmt: skip
def test_bad_periods_are_a_400(client, town, admin, query):
    c = signed_in(client, admin)
    for name in ("evaluation", "evaluation-ledger-csv", "evaluation-ledger-xlsx"):
        response = c.get(reverse(name), query)
        assert response.status_code == 400, (name, query)
        assert 'class="error"' in response.content.decode()


def test_reporters_may_not_evaluate(client, town):
    c = signed_in(client, user("someone", Role.REPORTER))
    assert c.get(reverse("evaluation")).status_code == 403
    assert c.get(reverse("evaluation-ledger-csv")).status_code == 403


def test_anonymous_is_sent_to_login(client, town):
    assert client.get(reverse("evaluation-ledger-xlsx")).status_code == 302


def test_ledger_xlsx_has_chinese_headers_and_the_scoped_rows(client, town, admin):
    book = workbook(signed_in(client, town["leader_a"]).get(reverse("evaluation-ledger-xlsx"), MARCH_QUERY))
    assert book.sheetnames == ["台账", "综合评价"]
    rows = list(book["台账"].iter_rows(values_only=True))
    assert list(rows[0]) == LEDGER_HEADERS
    ids = {r[0] for r in rows[1:]}
    assert ids == {town["p"][i].pk for i in range(1, 10)}  # grid A's nine cases, nothing else
    assert len(rows) - 1 == ledger_problems(town["leader_a"], MARCH).count() == 9
    assert all(r[3] == town["ga"].code for r in rows[1:])
    evaluation = list(book["综合评价"].iter_rows(values_only=True))
    assert list(evaluation[0]) == EVALUATION_HEADERS
    assert {r[2] for r in evaluation[1:] if r[0] == "网格"} == {town["ga"].code}


def test_admin_ledger_has_every_case_of_the_period(client, town, admin):
    book = workbook(signed_in(client, admin).get(reverse("evaluation-ledger-xlsx"), MARCH_QUERY))
    assert book["台账"].max_row - 1 == 14 == ledger_problems(admin, MARCH).count()


def test_xlsx_cells_are_not_formulas(client, town, admin):
    book = workbook(signed_in(client, admin).get(reverse("evaluation-ledger-xlsx"), MARCH_QUERY))
    by_id = {row[0].value: row for row in book["台账"].iter_rows(min_row=2)}
    cell = by_id[town["p"][1].pk][2]
    assert cell.value == "'=HYPERLINK(1)" and cell.data_type == "s"
    assert by_id[town["p"][2].pk][2].value == "'+1 @SUM -2"


def test_ledger_csv_has_a_bom_and_neutralised_formulas(client, town, admin):
    response = signed_in(client, admin).get(reverse("evaluation-ledger-csv"), MARCH_QUERY)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == LEDGER_HEADERS and len(rows) - 1 == 14
    by_id = {r[0]: r for r in rows[1:]}
    first = by_id["\t" + str(town["p"][1].pk)]  # case numbers and grid codes: text for spreadsheets
    assert first[2] == "'=HYPERLINK(1)"
    assert by_id["\t" + str(town["p"][2].pk)][2] == "'+1 @SUM -2"
    assert first[5] == "2024-03-02 08:00:00"  # local time, to the second
    assert by_id["\t" + str(town["p"][2].pk)][12] == "否"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    grids = {r[3] for r in rows[1:]}
    assert grids and all(g == "" or (g.startswith("\t") and g[1:].isdigit() and len(g) == 16) for g in grids)


def test_codes_in_the_ledger_csv_stay_text_for_pandas(client, town, admin):
    """The issue's case: read as text, a grid code stays the code (never 320581107003004.0)."""
    import pandas as pd

    response = signed_in(client, admin).get(reverse("evaluation-ledger-csv"), MARCH_QUERY)
    frame = pd.read_csv(io.BytesIO(response.content), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    codes = {code.strip() for code in frame["网格"] if code}
    assert codes and codes <= {g.code for g in Grid.objects.all()}
    assert all(n.startswith("\t") and n.strip().isdigit() for n in frame["编号"])


def test_grid_leader_csv_only_has_their_grid(client, town):
    response = signed_in(client, town["leader_b"]).get(reverse("evaluation-ledger-csv"), MARCH_QUERY)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert sorted(int(r[0]) for r in rows) == sorted(town["p"][i].pk for i in (10, 11, 12))  # int() strips


def test_negative_list_has_open_items_and_closed_out_ones_with_evidence(client, town):
    p1 = town["p"][1]
    ProblemEvent.objects.create(problem=p1, action="handle", note="已清理完毕")
    ProblemEvent.objects.create(problem=p1, action="verify_pass", note="现场核查通过")
    photo = ProblemPhoto.objects.create(problem=p1, image=jpeg("fixed.jpg"), stage="after")
    ProblemPhoto.objects.create(problem=p1, image=SimpleUploadedFile("b.jpg", b"x"), stage="before")
    Problem.objects.filter(pk=town["p"][7].pk).update(deadline=timezone.now() + timedelta(days=1))
    query = {**MARCH_QUERY, "grid": town["ga"].code}
    book = workbook(signed_in(client, town["leader_a"]).get(reverse("evaluation-negative-list"), query))
    rows = list(book["负面清单"].iter_rows(values_only=True))
    assert list(rows[0]) == NEGATIVE_HEADERS
    by_id = {r[0]: r for r in rows[1:]}
    # open: 6, 7; closed out in March: 1, 2, 3, 5 (not 4 and 9, closed in April; not 8, a duplicate)
    assert set(by_id) == {town["p"][i].pk for i in (1, 2, 3, 5, 6, 7)}
    assert by_id[p1.pk][11:] == ("已清理完毕", "现场核查通过", photo.image.name.rsplit("/", 1)[-1])
    assert by_id[town["p"][6].pk][9] == "是" and by_id[town["p"][7].pk][9] == "否"


def test_negative_list_scoping_and_bad_input(client, town):
    c = signed_in(client, town["leader_a"])
    url = reverse("evaluation-negative-list")
    assert c.get(url, {**MARCH_QUERY, "grid": town["gb"].code}).status_code == 404
    assert c.get(url, {**MARCH_QUERY, "community": town["c2"].code}).status_code == 404
    assert c.get(url, MARCH_QUERY).status_code == 400
    assert c.get(url, {"grid": town["ga"].code, "community": town["c1"].code}).status_code == 400
    assert c.get(url, {"grid": "../../etc"}).status_code == 400
    # the community holds their grid: allowed, but only their grid's cases are listed
    book = workbook(c.get(url, {**MARCH_QUERY, "community": town["c1"].code}))
    ids = {r[0] for r in book.active.iter_rows(min_row=2, values_only=True)}
    assert ids == {town["p"][i].pk for i in (1, 2, 3, 5, 6, 7)}


def test_community_head_negative_list_includes_fallback_cases(client, town):
    head = user("head", Role.COMMUNITY_HEAD, community=town["c1"])
    book = workbook(signed_in(client, head).get(reverse("evaluation-negative-list"),
                                                 {**MARCH_QUERY, "community": town["c1"].code}))  # fmt: skip
    ids = {r[0] for r in book.active.iter_rows(min_row=2, values_only=True)}
    assert town["p"][13].pk in ids and town["p"][12].pk in ids and town["p"][14].pk not in ids


def test_score_weights_are_one_row_in_the_admin(client, town):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-only")
    c = signed_in(client, root)
    add = reverse("admin:evaluation_scoreweights_add")
    assert c.get(add).status_code == 200
    data = {"closure": "1", "on_time": "1", "rework": "1", "extension": "1", "overdue": "1"}
    assert c.post(add, data).status_code == 302
    assert c.get(add).status_code == 403
    assert c.post(reverse("admin:evaluation_scoreweights_add"), {**data, "closure": "-1"}).status_code == 403
