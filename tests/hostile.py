"""Hostile numbers, times and text for the property tests of the input boundary, a tally of what
each entry point answered, and the reads a stored problem must never break.

The tally is printed at the end of the session (``-s`` shows it); with
``HYPOTHESIS_PROFILE=thorough`` it gives the per-door figures of how many generated inputs were
tried and what they got.
"""

from __future__ import annotations

import io
import string
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import strategies as st
from openpyxl import load_workbook

from gridmap.core.boundary import check_text
from gridmap.evaluation.exports import (
    LEDGER_HEADERS,
    NEGATIVE_HEADERS,
    csv_bytes,
    ledger_row,
    negative_row,
    xlsx_bytes,
)
from gridmap.problems.models import Problem

TALLY: dict[str, Counter[str]] = defaultdict(Counter)


def tally(door: str, outcome: Any) -> None:
    TALLY[door][str(outcome)] += 1


def report_tally() -> str:
    return "\n".join(
        f"{door}: {sum(c.values())} inputs → {dict(sorted(c.items()))}" for door, c in TALLY.items()
    )


# -- text --------------------------------------------------------------------------------------
NASTY_TEXT = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\x1b[31mred", "\x7f", "\x85next line", "\x9f",
              "\x0b\x0c", "\u2028\u2029", "\ufeffbom", "<script>alert(1)</script>", "=HYPERLINK(\"x\")",
              "+1 @SUM -2", "'; DROP TABLE problems_problem; --", "😀🏳️‍🌈", "\t\r\n", "长" * 4001, ""]  # fmt: skip
hostile_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=40),
    st.text(st.characters(categories=["Cc", "Cs", "Zl", "Zp", "Cf"]), min_size=1, max_size=8),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=40),
)

# -- numbers -----------------------------------------------------------------------------------
NASTY_NUMBERS = [10**400, -(10**400), 10**4000, "9" * 401, "²", "١٢٣", "Ⅻ", "𝟙", "1e308", "-1e309", "nan",
                 "inf", "0x10", "1_0", " 12 ", "", "12.5", True, False, None, [], {}, [1, 2], 1e308, -0.0]  # fmt: skip
hostile_number = st.one_of(
    st.sampled_from(NASTY_NUMBERS),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=string.digits + "²³¹⁴٣۴߄০੦๓໒༣၃-+.eE ", max_size=30),
)


# -- times -------------------------------------------------------------------------------------
def _iso(moment: datetime, offset_minutes: int, style: int) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    if style == 0:
        return moment.replace(tzinfo=zone).isoformat()
    if style == 1:
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")  # naive: the site's time


NASTY_TIMES = ["0001-01-01", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00", "1969-12-31",
               "1999-12-31T23:59:59+00:00", "2999-01-01", "2024-02-30", "2024-13-01", "yesterday",
               "2024-05-01T08:30:00+25:00", "+002024-05-01", "2024-05-01T08:30:00.123456789+08:00"]  # fmt: skip
hostile_time = st.one_of(
    st.sampled_from(NASTY_TIMES),
    st.builds(
        _iso,
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        st.integers(min_value=-23 * 60, max_value=23 * 60),
        st.integers(0, 2),
    ),
    st.builds(
        _iso,
        st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2030, 1, 1)),
        st.integers(min_value=-12 * 60, max_value=14 * 60),
        st.integers(0, 2),
    ),
)
# EXIF DateTimeOriginal as a camera writes it (and as a hostile file may)
hostile_exif_time = st.one_of(
    st.sampled_from(
        [
            "0001:01:01 00:00:00",
            "9999:12:31 23:59:59",
            "1999:12:31 23:59:59",
            "0000:00:00 00:00:00",
            "2024:02:30 10:00:00",
            "    :  :     :  :  ",
            "2024:05:01 08:00:00\x00",
        ]
    ),  # fmt: skip
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y:%m:%d %H:%M:%S").rjust(19, "0")
    ),
)


# -- what a stored problem must never break -------------------------------------------------------
def stored_is_clean(problem: Problem) -> None:
    """What the doors let through: text the boundary accepts and times inside the window."""
    problem.refresh_from_db()
    check_text(problem.description)
    assert problem.reported_at >= datetime(2000, 1, 1, tzinfo=UTC)
    for photo in problem.photos.all():
        assert photo.taken_at is None or photo.taken_at >= datetime(2000, 1, 1, tzinfo=UTC)


def reads_ok(problem: Problem, viewer: Any) -> None:
    """The problem's page, API detail, Open311 request and the spreadsheets all answer."""
    cache.clear()  # the Open311 rate counters
    client = Client()
    client.force_login(viewer)
    for url in (f"/problems/{problem.pk}/", f"/api/v1/problems/{problem.pk}/",
                f"/open311/v2/requests/{problem.pk}.json", f"/open311/v2/requests/{problem.pk}.xml"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    problem = Problem.objects.select_related("category", "grid", "community", "department").get(pk=problem.pk)
    notes = {"fix_note": problem.description, "check_note": problem.description}
    now = datetime.now(UTC)
    book = xlsx_bytes([("台账", LEDGER_HEADERS, [ledger_row(problem)]),
                       ("负面清单", NEGATIVE_HEADERS, [negative_row(problem, notes, now)])])  # fmt: skip
    load_workbook(io.BytesIO(book))
    csv_bytes(LEDGER_HEADERS, [ledger_row(problem)]).decode("utf-8-sig")


@pytest.fixture(scope="module", autouse=False)
def print_tally():
    """Import into a test module (``from tests.hostile import print_tally``) and name it with
    ``pytestmark = pytest.mark.usefixtures("print_tally")`` to print the tally after the module."""
    yield
    print("\n" + report_tally())


# -- query parameters of the paged analysis answers ---------------------------------------------
NASTY_BBOX = ["", ",,,", "1,2,3", "1,2,3,4,5", "200,0,201,1", "0,100,1,101", "3,2,1,0", "nan,0,1,1",
              "inf,0,1,1", "1e400,0,1,1", "120.5,31.1,120.4,31.2", "a,b,c,d", "120,31,120,31"]  # fmt: skip
hostile_bbox = st.one_of(
    st.sampled_from(NASTY_BBOX),
    st.lists(hostile_number.map(str), min_size=0, max_size=6).map(",".join),
    hostile_text,
)
hostile_page = st.one_of(hostile_number.map(str), hostile_text, st.sampled_from(["0", "-1", "1001", "1e3"]))
