"""What the management commands share: writing their output, checked values, JSON-ready cells."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from django.core.management.base import BaseCommand, CommandError
from shapely.geometry import Point

from gridmap.core.management.cli import emit, parse_when, plain, positive, records, write_output


def test_output_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    write_output(target, "新的\n")
    assert target.read_text(encoding="utf-8") == "新的\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_output_that_cannot_be_written_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot write .*no folder"):
        write_output(tmp_path / "missing" / "out.json", "x")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(CommandError, match="cannot write"):
        write_output(tmp_path / "dir.json", "x")  # a folder stands where the file would go
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json"]


def test_emit_prints_the_text_or_writes_it_and_says_so(tmp_path):
    command = BaseCommand(stdout=StringIO())
    emit(command, "a\n", None, "unused")
    emit(command, "b", None, "unused")
    emit(command, "c", str(tmp_path / "c.txt"), "wrote c")
    assert command.stdout._out.getvalue() == "a\nb\nwrote c\n"
    assert (tmp_path / "c.txt").read_text(encoding="utf-8") == "c"


def test_positive_and_dates_are_checked():
    assert positive(None, "--eps-m", 50.0) == 50.0
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(CommandError, match="--eps-m must be a positive number"):
            positive(bad, "--eps-m", 50.0)
    day = parse_when("2026-03-01", "--start")
    assert day.isoformat() == "2026-03-01T00:00:00+08:00"  # local midnight
    assert parse_when("2026-03-01T08:00:00+00:00", "--end") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert parse_when(None, "--end") is None
    with pytest.raises(CommandError, match="--start: '2026-13-01' is not a date"):
        parse_when("2026-13-01", "--start")


def test_plain_values_are_json_ready():
    value = {
        1: np.int64(3),
        "share": np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64(np.inf),
        "flag": np.bool_(True),
        "ids": np.array([1, 2]),
        "pair": (np.int32(1), None),
        "when": pd.Timestamp("2026-03-01T00:00:00Z"),
        "naive": datetime(2026, 3, 1, 0, 0),  # taken as UTC
        "never": pd.NaT,
    }
    assert json.dumps(plain(value)) == json.dumps(
        {
            "1": 3,
            "share": 0.5,
            "nan": None,
            "inf": None,
            "flag": True,
            "ids": [1, 2],
            "pair": [1, None],
            "when": "2026-03-01T08:00:00+08:00",
            "naive": "2026-03-01T08:00:00+08:00",
            "never": None,
        }
    )


def test_records_leave_out_the_geometry_whatever_its_name():
    frame = gpd.GeoDataFrame({"id": [1], "d_m": [np.nan]}, geometry=[Point(0, 0)]).rename_geometry("geom")
    assert records(frame) == [{"id": 1, "d_m": None}]
    assert records(pd.DataFrame({"geometry": ["x"], "n": [np.int64(2)]})) == [{"n": 2}]
