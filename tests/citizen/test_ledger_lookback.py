"""The ledger's look-back columns (回头看到期日, 回头看完成时间, 回头看结果), read from cases taken
through the one lifecycle, in both the CSV and the Excel file."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gridmap.evaluation.exports import LEDGER_HEADERS, ledger_row
from gridmap.problems.models import Problem
from tests.citizen.conftest import close, report, step
from tests.factories import user

pytestmark = pytest.mark.django_db
COLUMNS = ["回头看到期日", "回头看完成时间", "回头看结果"]


@pytest.fixture
def cases(town):
    t = town
    now = timezone.now()
    later = now + timedelta(days=t["category"].lookback_days)
    passed = step(close(t, report(t)), "lookback_pass", t["inspector"], now=later)
    failed = step(close(t, report(t)), "lookback_fail", t["inspector"], note="又出摊了", now=later)
    waiting = close(t, report(t))
    overdue = close(t, report(t), now=now - timedelta(days=30))
    open_case = report(t)
    return {"passed": passed, "failed": failed, "waiting": waiting, "overdue": overdue, "open": open_case}


def test_headers_end_with_the_lookback_columns():
    assert LEDGER_HEADERS[-3:] == COLUMNS


def test_each_lookback_result_is_stated(cases):
    rows = {name: ledger_row(Problem.objects.get(pk=p.pk))[-3:] for name, p in cases.items()}
    assert rows["passed"][2] == "通过" and rows["passed"][1] is not None
    assert rows["failed"][2] == "不通过（重新派遣）" and rows["failed"][1] is not None
    assert rows["waiting"][2] == "待回头看" and rows["waiting"][1] is None
    assert rows["waiting"][0] == timezone.localdate() + timedelta(
        days=cases["waiting"].category.lookback_days
    )
    assert rows["overdue"][2] == "已超期"
    assert rows["open"] == [None, None, ""]


def test_csv_and_xlsx_carry_the_columns(client, cases):
    admin = user("boss", "admin")
    client.force_login(admin)
    today = timezone.localdate()
    query = {
        "start": (today - timedelta(days=40)).isoformat(),
        "end": (today + timedelta(days=1)).isoformat(),
    }
    response = client.get(reverse("evaluation-ledger-csv"), query)
    assert response.status_code == 200, response.content[:300]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-3:] == COLUMNS
    by_id = {int(r[0]): r[-3:] for r in rows[1:]}
    assert by_id[cases["passed"].pk][2] == "通过"
    assert by_id[cases["waiting"].pk][0] == cases["waiting"].lookback_due.isoformat()
    assert by_id[cases["open"].pk] == ["", "", ""]
    response = client.get(reverse("evaluation-ledger-xlsx"), query)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["台账"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0][-3:]) == COLUMNS
    xlsx = {r[0]: r[-3:] for r in values[1:]}
    assert xlsx[cases["failed"].pk][2] == "不通过（重新派遣）"
    assert xlsx[cases["failed"].pk][1] is not None  # a time cell
