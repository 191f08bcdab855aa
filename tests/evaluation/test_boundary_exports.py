"""Writers cope with what is stored: control characters (stored before the input boundary, or
through the ORM) and times a spreadsheet cannot hold never fail an export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from hypothesis import given
from openpyxl import load_workbook

from gridmap.problems.models import Problem, ProblemEvent
from tests.evaluation.conftest import MARCH_QUERY, signed_in
from tests.hostile import hostile_text, print_tally, reads_ok, tally  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]


def test_a_control_character_in_a_description_does_not_break_the_spreadsheets(client, town, admin):
    """openpyxl's IllegalCharacterError failed ledger.xlsx and negative-list.xlsx."""
    Problem.objects.filter(pk=town["p"][6].pk).update(description="摊点\x01占道\x1b[31m\x0b\x85完")
    Problem.objects.filter(pk=town["p"][3].pk).update(description="=cmd\x07|' /C calc'!A0")
    p1 = town["p"][1]
    ProblemEvent.objects.create(problem=p1, action="verify_pass", note="核查\x02通过")
    client = signed_in(client, admin)
    for name in ("evaluation-ledger-xlsx", "evaluation-negative-list"):
        response = client.get(reverse(name), {**MARCH_QUERY, "grid": town["ga"].code})
        assert response.status_code == 200, (name, response.content[:300])
        cells = [c for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
                 for c in row]  # fmt: skip
        assert "摊点占道[31m完" in cells
    assert "核查通过" in cells  # the negative list's evidence too
    response = client.get(reverse("evaluation-ledger-csv"), MARCH_QUERY)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any("摊点占道[31m完" in row for row in rows)
    assert any("'=cmd|' /C calc'!A0" in row for row in rows)  # still neutralised as a formula


def test_times_a_spreadsheet_cannot_hold_leave_the_cell_empty(client, town, admin):
    Problem.objects.filter(pk=town["p"][6].pk).update(deadline=datetime(1, 1, 2, tzinfo=UTC))
    Problem.objects.filter(pk=town["p"][7].pk).update(deadline=datetime(9999, 12, 30, tzinfo=UTC))
    client = signed_in(client, admin)
    for name in ("evaluation-ledger-xlsx", "evaluation-negative-list", "evaluation-ledger-csv"):
        response = client.get(reverse(name), {**MARCH_QUERY, "grid": town["ga"].code})
        assert response.status_code == 200, name


@given(text=hostile_text, note=hostile_text)
def test_stored_text_never_breaks_a_read_property(town, admin, text, note):
    """Whatever text the ORM can store, the problem's page, API, Open311 and the files answer."""
    problem = town["p"][6]
    try:
        with transaction.atomic():
            Problem.objects.filter(pk=problem.pk).update(description=text[:4000])
            problem.events.update(note=note[:2000])
    except (DatabaseError, ValueError) as exc:  # NUL on PostgreSQL, a lone surrogate anywhere
        tally("stored text → reads", f"not storable ({type(exc).__name__})")
        return
    reads_ok(problem, admin)
    tally("stored text → reads", "all 200")
