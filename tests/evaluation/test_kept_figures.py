"""The evaluation of a part of the city (a grid leader, a department, ...) is grouped from its
cases once and kept: the page and the figures say as of when, a change in the cases answers the
kept figures marked as being updated while one refresh runs, and the ledger's evaluation sheet
holds the same figures."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from gridmap.evaluation.selectors import evaluation_for
from gridmap.problems.models import Problem
from tests.evaluation.conftest import MARCH, MARCH_QUERY, signed_in


def filed_of(response, code):
    units = {u.code: u for units in response.context["tables"].values() for u in units}
    return units[code].filed


def test_kept_then_updating_then_refreshed(client, town, django_capture_on_commit_callbacks):
    leader = signed_in(client, town["leader_a"])
    code = town["ga"].code
    first = leader.get(reverse("evaluation"), MARCH_QUERY)
    assert first.status_code == 200 and first.context["kept"].state == "current"
    assert 'data-kept="current"' in first.content.decode()
    assert filed_of(first, code) == 7
    figures_query = {**MARCH_QUERY, "level": "grid"}
    assert leader.get(reverse("evaluation-figures"), figures_query).context["kept"].state == "current"

    Problem.objects.filter(pk=town["p"][8].pk).update(status="closed")  # the duplicate counts as filed now
    with django_capture_on_commit_callbacks(execute=False) as refreshes:
        stale = leader.get(reverse("evaluation"), MARCH_QUERY)
        figures = leader.get(reverse("evaluation-figures"), figures_query)
    assert stale.context["kept"].state == "updating" and filed_of(stale, code) == 7
    assert 'data-kept="updating"' in stale.content.decode()
    assert figures.status_code == 200 and figures.context["kept"].state == "updating"
    # the page's tables, and the figures' tables and weeks (its period runs Monday to Monday)
    assert len(refreshes) == 3
    for refresh in refreshes:
        refresh()
    fresh = leader.get(reverse("evaluation"), MARCH_QUERY)
    assert fresh.context["kept"].state == "current" and filed_of(fresh, code) == 8
    # the kept figures are the figures computed now (open and overdue at the real now)
    now_tables = evaluation_for(town["leader_a"], MARCH, fresh.context["kept"].computed)
    assert [(u.code, u.filed, u.closed, u.score) for u in fresh.context["tables"]["grid"]] == [
        (u.code, u.filed, u.closed, u.score) for u in now_tables["grid"]
    ]


def test_the_ledger_sheet_holds_the_kept_figures(client, town):
    department = signed_in(client, town["h1"])
    page = department.get(reverse("evaluation"), MARCH_QUERY)
    response = department.get(reverse("evaluation-ledger-xlsx"), MARCH_QUERY)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["综合评价"]
    in_file = {(row[2], row[5], row[6]) for row in sheet.iter_rows(min_row=2, values_only=True)}
    on_page = {(u.code, u.filed, u.closed) for units in page.context["tables"].values() for u in units}
    assert in_file and in_file == on_page


def test_a_large_scope_is_computed_by_the_workers_the_first_time(
    client, town, monkeypatch, django_capture_on_commit_callbacks
):
    from gridmap.problems import selectors

    monkeypatch.setattr(selectors, "LARGE_SCOPE", 5)  # grid A's leader sees 9 cases: "large"
    leader = signed_in(client, town["leader_a"])
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = leader.get(reverse("evaluation"), MARCH_QUERY)
        again = leader.get(reverse("evaluation"), MARCH_QUERY)
    body = first.content.decode()
    assert first.status_code == 200 and first.context["kept"].state == "computing"
    assert 'data-kept="computing"' in body and 'http-equiv="refresh"' in body
    assert town["ga"].code not in body  # no figures yet
    assert again.context["kept"].state == "computing" and len(sent) == 1  # asked once
    sent[0]()
    done = leader.get(reverse("evaluation"), MARCH_QUERY)
    assert done.context["kept"].state == "current" and filed_of(done, town["ga"].code) == 7
    assert 'http-equiv="refresh"' not in done.content.decode()

    with django_capture_on_commit_callbacks(execute=False) as sent:
        charts = leader.get(reverse("evaluation-figures"), {**MARCH_QUERY, "level": "grid"})
    assert charts.status_code == 200 and charts.context["computing"] and len(sent) == 2  # tables, weeks


def test_a_large_scope_ledger_is_direct_once_its_sheet_is_kept(
    client, town, monkeypatch, django_capture_on_commit_callbacks
):
    from gridmap.problems import selectors

    monkeypatch.setattr(selectors, "LARGE_SCOPE", 5)
    leader = signed_in(client, town["leader_a"])
    with django_capture_on_commit_callbacks(execute=True):  # the workers compute the figures
        assert leader.get(reverse("evaluation"), MARCH_QUERY).context["kept"].state == "computing"
    response = leader.get(reverse("evaluation-ledger-xlsx"), MARCH_QUERY)
    sheet = load_workbook(io.BytesIO(response.content))["综合评价"]
    assert any(row[2] == town["ga"].code for row in sheet.iter_rows(min_row=2, values_only=True))


def test_a_large_scope_ledger_waits_for_no_sheet_in_the_request(
    client, town, monkeypatch, settings, tmp_path
):
    from gridmap.core.models import Job
    from gridmap.problems import selectors

    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(selectors, "LARGE_SCOPE", 5)
    leader = signed_in(client, town["leader_a"])
    started = leader.get(reverse("evaluation-ledger-xlsx"), MARCH_QUERY)  # nothing kept: a job
    assert started.status_code == 302 and Job.objects.get().task == "evaluation.export_ledger"
    assert leader.get(reverse("evaluation-ledger-csv"), MARCH_QUERY).status_code == 200  # no sheet in a csv


def test_city_wide_figures_are_kept_too(client, town, admin, django_capture_on_commit_callbacks):
    page = signed_in(client, admin).get(reverse("evaluation"), MARCH_QUERY)
    assert page.status_code == 200
    Problem.objects.filter(pk=town["p"][8].pk).update(status="closed")
    with django_capture_on_commit_callbacks(execute=False) as sent:
        again = client.get(reverse("evaluation"), MARCH_QUERY)
    assert (
        len(sent) == 1 and again.context["tables"]["grid"][0].code == page.context["tables"]["grid"][0].code
    )
