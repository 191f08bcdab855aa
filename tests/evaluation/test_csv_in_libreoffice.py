"""The ledger CSV (and the hotspots command's) opened by a real spreadsheet: LibreOffice Calc (headless) imports the exported
file as a user's Text Import dialog would (comma, ``"``, UTF-8, "Detect special numbers" off as
by default, and on) and saves it as xlsx; openpyxl reads the cells back.

Codes (case numbers, grid codes) must stay text, character for character what the file holds
(``layers.io.code_text``: the code behind a tab), never ``3.20581107003004E+14`` or ``….0``; times
must keep their seconds. A control file with a bare code shows that the same import does turn
digits into a number, so the test could fail.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from gridmap.core.management.cli import CSV_CODE_COLUMNS
from gridmap.evaluation.exports import CODE_HEADERS
from gridmap.geography.models import Grid
from gridmap.problems.models import Problem
from layers.io import CODE_PREFIX
from tests.evaluation.conftest import MARCH_QUERY, at, signed_in

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        shutil.which("soffice") is None, reason="LibreOffice (libreoffice-calc-nogui) is not installed"
    ),
]

# CSV import options (LibreOffice's "Filter Options" tokens): field separator 44 (,), text
# delimiter 34 ("), character set 76 (UTF-8), from line 1, no column types, language 0 (the
# user's), quoted fields not forced to text, "Detect special numbers" (dates, times) as given
IMPORT = "CSV:44,34,76,1,,0,false,{detect}"
REPORTED = at(3, 2, 7) + timedelta(minutes=59, seconds=37)  # case 1, local: 2024-03-02 07:59:37


def libreoffice_cells(tmp_path, csv_files, detect: bool) -> dict[str, list[tuple]]:
    """Each CSV file imported by LibreOffice and saved as xlsx: its rows of cell values."""
    profile = tmp_path / "lo-profile"  # its own profile: no state shared with another run
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         f"--infilter={IMPORT.format(detect=str(detect).lower())}", "--convert-to", "xlsx",
         "--outdir", str(tmp_path), *map(str, csv_files)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {
        path.stem: list(load_workbook(tmp_path / f"{path.stem}.xlsx").active.iter_rows(values_only=True))
        for path in csv_files
    }


@pytest.mark.parametrize("detect", [False, True], ids=["default-import", "detect-special-numbers"])
def test_libreoffice_keeps_codes_as_text_and_times_to_the_second(client, town, admin, tmp_path, detect):
    Problem.objects.filter(pk=town["p"][1].pk).update(reported_at=REPORTED)
    response = signed_in(client, admin).get(reverse("evaluation-ledger-csv"), MARCH_QUERY)
    assert response.status_code == 200
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes(response.content)
    grid_code = Grid.objects.get(pk=town["ga"].pk).code
    bare = tmp_path / "bare.csv"  # the control: a code written without the prefix
    bare.write_text(f"网格\r\n{grid_code}\r\n", encoding="utf-8-sig")

    sheets = libreoffice_cells(tmp_path, [ledger, bare], detect)

    assert isinstance(sheets["bare"][1][0], int | float)  # this import does make numbers of digits
    written = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    read = sheets["ledger"]
    assert len(read) == len(written) == 15 and list(read[0]) == written[0]
    headers = written[0]
    codes = [i for i, h in enumerate(headers) if h in CODE_HEADERS]
    times = [i for i, h in enumerate(headers) if h.endswith("时间")]
    assert [headers[i] for i in codes] == ["编号", "网格"] and len(times) >= 5
    grids = set()
    for row_written, row_read in zip(written[1:], read[1:], strict=True):
        for i in codes:
            if row_written[i] == "":
                assert row_read[i] is None
                continue
            cell = row_read[i]
            assert isinstance(cell, str) and cell == row_written[i], (headers[i], cell)
            assert cell.startswith(CODE_PREFIX) and cell[len(CODE_PREFIX) :].isdigit()
        grids.add((row_read[codes[1]] or "").strip())
        for i in times:
            text, cell = row_written[i], row_read[i]
            if text == "":
                assert cell is None
            elif detect:  # a date-time cell, to the second
                assert cell == datetime.strptime(text, "%Y-%m-%d %H:%M:%S"), (headers[i], cell)
            else:
                assert cell == text
    assert grid_code in grids and grids - {""} <= set(Grid.objects.values_list("code", flat=True))
    by_case = {row[0].strip(): row for row in read[1:]}
    reported = by_case[str(town["p"][1].pk)][headers.index("上报时间")]
    assert reported == (datetime(2024, 3, 2, 7, 59, 37) if detect else "2024-03-02 07:59:37")


@pytest.mark.parametrize(
    "analysis", [("--gistar",), ("--clusters", "dbscan", "--eps-m", "20", "--min-samples", "15")]
)
def test_libreoffice_keeps_the_hotspot_csv_codes(demo_town, tmp_path, analysis):
    """``manage.py hotspots --format csv``: grid codes (``cell_id``) and category codes
    (``top_category``, ``0302``: a number would lose its zero) stay text; times keep their seconds."""
    out = tmp_path / "hotspots.csv"
    call_command("hotspots", *analysis, "--format", "csv", "--output", str(out))
    written = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    read = libreoffice_cells(tmp_path, [out], detect=True)["hotspots"]
    assert len(read) == len(written) > 1 and list(read[0]) == written[0]
    headers = written[0]
    codes = [i for i, h in enumerate(headers) if h in CSV_CODE_COLUMNS]
    times = [i for i, h in enumerate(headers) if h.endswith("_at")]
    assert codes and (times or analysis[0] == "--gistar")
    for row_written, row_read in zip(written[1:], read[1:], strict=True):
        for i in codes:
            assert isinstance(row_read[i], str) and row_read[i] == row_written[i], (headers[i], row_read[i])
            assert row_read[i].strip().isdigit() and len(row_read[i].strip()) in (4, 15)
        for i in times:  # ISO 8601 with the offset, to the second: kept as written
            assert row_read[i] == row_written[i] and len(row_written[i]) == len("2026-05-16T08:12:31+08:00")
