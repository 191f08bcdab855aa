"""The input boundary on import rows: a time outside the window or text the boundary refuses is a
rejected row with its reason, the same on the dry run and the commit; the row conversion never
raises anything but a rejection."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.boundary import check_text
from gridmap.imports.targets import TARGETS, Lookups, Reject
from gridmap.problems.models import Problem
from tests.factories import LAT0, LON0
from tests.hostile import hostile_number, hostile_text, hostile_time, print_tally, tally  # noqa: F401
from tests.imports.test_import_layer import gbk_grid_shapefile, regions, run  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]


def problems_file(tmp_path, rows):
    path = tmp_path / "problems.geojson"
    features = [
        {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [LON0 + 0.001, LAT0 + 0.001]}}
        for props in rows
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_a_year_1_report_time_is_a_rejected_row_on_the_dry_run_and_the_commit(tmp_path, regions):  # noqa: F811
    """``reported_at`` 0001-01-01 was stored (a BC date on PostGIS) and the grid's map page failed."""
    run("import_layer", "grids", str(gbk_grid_shapefile(tmp_path)), "--commit")
    path = problems_file(tmp_path, [
        {"id": "old", "category": "0201", "reported_at": "0001-01-01"},
        {"id": "late", "category": "0201", "reported_at": "2999-01-01T00:00:00+08:00"},
        {"id": "good", "category": "0201", "reported_at": "2024-05-01T08:00:00+08:00"},
    ])  # fmt: skip
    for mode in ([], ["--commit"]):
        out = run("import_layer", "problems", str(path), *mode, code=3)  # 3: rows rejected
        assert "rejected 2" in out, out
        assert "row 1: reported time 0001-01-01" in out and "row 2: reported time 2999-01-01" in out
    assert list(Problem.objects.values_list("source_key", flat=True)) == ["problems:good"]


def test_a_nul_in_imported_text_is_a_rejected_row_on_the_dry_run_and_the_commit(tmp_path, regions):  # noqa: F811
    """A NUL passed the dry run and crashed the commit on PostGIS."""
    run("import_layer", "grids", str(gbk_grid_shapefile(tmp_path)), "--commit")
    path = tmp_path / "problems.csv"  # CSV is read by Python: a NUL survives (GDAL would cut it)
    x, y = LON0 + 0.001, LAT0 + 0.001
    path.write_text(
        f"id,category,description,经度,纬度\nnul,0201,a\x00b,{x},{y}\nesc,0201,a\x1bb,{x},{y}\n"
        f"good,0201,小广告,{x},{y}\n",
        encoding="utf-8",
    )
    for mode in ([], ["--commit"]):
        out = run("import_layer", "problems", str(path), *mode, code=3)  # 3: rows rejected
        assert "rejected 2" in out, out
    assert list(Problem.objects.values_list("description", flat=True)) == ["小广告"]


ROW_FIELDS = ["code", "name", "level", "address", "use", "floors", "households", "population", "kind",
              "condition", "last_inspected", "capacity", "category", "description", "reported_at", "status",
              "highway", "reporter"]  # fmt: skip


@given(target=st.sampled_from(sorted(TARGETS)),
       row=st.dictionaries(st.sampled_from(ROW_FIELDS), st.one_of(hostile_text, hostile_number, hostile_time),
                           max_size=6))  # fmt: skip
def test_row_conversion_property(target, row):
    """Every target's conversion either rejects a row with a reason or gives clean values."""
    lookups = Lookups.load()
    try:
        fields = TARGETS[target].convert(row, lookups, {})
    except Reject as exc:
        tally("import rows", "rejected")
        assert str(exc)
        return
    tally("import rows", "accepted")
    for value in fields.values():
        if isinstance(value, str):
            check_text(value)
        if isinstance(value, datetime):
            assert datetime(2000, 1, 1, tzinfo=UTC) <= value
