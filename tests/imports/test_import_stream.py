"""Imports in batches: the streamed path (``open_layer`` batches, several batches per file, the
backend's batch writer, placing run ahead) writes what the whole-file path wrote (``read_layer``,
one batch, the ORM's bulk insert) — the same rows, places, events and rejections — on a real file
with hostile and edge rows; a failure in a later batch leaves nothing; progress is reported."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from gridmap.facilities.models import Facility
from gridmap.imports import core, save
from gridmap.imports.core import ImportRefused, ImportReport, import_frames
from gridmap.problems.intake import batch as intake_batch
from gridmap.problems.intake import bulk, problems_insert
from gridmap.problems.intake.features import BASE
from gridmap.problems.models import EventCategory, Problem, ProblemEvent
from layers.io import open_layer, read_layer
from tests.factories import LAT0, LON0
from tests.imports.test_import_layer import gbk_grid_shapefile, regions, run  # noqa: F401

pytestmark = pytest.mark.django_db

T = "2026-10-01T09:00:00+08:00"
IN_GRID = (LON0 + 0.001, LAT0 + 0.001)
ON_EDGE = (LON0 + 0.002, LAT0 + 0.001)  # the two grids' shared edge
OUTSIDE = (LON0 - 0.005, LAT0 + 0.001)  # in the street/town, in no community
BIN = (LON0 + 0.003, LAT0 + 0.001)
ROWS = [
    ({"id": "a1", "category": "0201", "reporter": "alice", "description": 'quote " back \\ slash'}, IN_GRID),
    ({"id": "a2", "category": "0102", "status": "closed", "description": "{braces,commas}"}, BIN),
    ({"id": "dup", "category": "0201", "description": "NULL"}, ON_EDGE),
    ({"id": "a4", "category": "9999"}, IN_GRID),  # not in the catalogue
    ({"id": "a5", "category": "0201", "status": "weird"}, IN_GRID),
    ({"id": "a6", "category": "0201", "reported_at": "0001-01-01"}, IN_GRID),  # outside the window
    ({"id": "a7", "category": "0201", "description": "tab\there\nnew line\r\n"}, OUTSIDE),
    ({"id": "a8", "category": "0201", "reporter": "nobody"}, IN_GRID),  # not a user
    ({"id": "dup", "category": "0302"}, IN_GRID),  # the same key in a later batch
    ({"id": "a10", "category": "0201", "description": "a\x1bb"}, IN_GRID),  # refused by the boundary
    ({"id": "a11", "category": "0201", "description": "", "reporter": "bob"}, None),  # no geometry
    ({"id": "a12", "category": "0201", "reported_at": "2026-10-01 09:00"}, (LON0 + 0.0039, LAT0 + 0.0019)),
    ({"id": "a13", "category": "0102", "description": "小广告 🚧 'single'"}, (LON0 + 0.00301, LAT0 + 0.001)),
    (
        {"id": "", "category": "0201", "description": "no key: keyed by its geometry"},
        (LON0 + 0.0011, LAT0 + 0.0011),
    ),
    ({"id": "a15", "category": "0201", "status": "handled"}, (200.0, LAT0)),  # not lon/lat
]


@pytest.fixture
def town(tmp_path: Path, regions) -> None:  # noqa: F811
    run("import_layer", "grids", str(gbk_grid_shapefile(tmp_path)), "--commit")
    users = get_user_model()
    for name in ("alice", "bob"):
        users.objects.create(username=name)
    bins = core.frame_from_records([{"id": "b1"}], [Point(*BIN)])
    import_frames("facilities", {"litter_bin": bins}, source="bins", commit=True)


def problems_gpkg(tmp_path: Path, rows=ROWS) -> Path:
    records = [{"reported_at": T, "status": "", "reporter": None, "description": "", **p} for p, _ in rows]
    frame = gpd.GeoDataFrame(records, geometry=[Point(*c) if c else None for _, c in rows], crs="EPSG:4326")
    path = tmp_path / "problems.gpkg"
    pyogrio.write_dataframe(frame, path, driver="GPKG")
    return path


def whole_file(path: Path, *, commit: bool) -> ImportReport:
    """The path before streaming: the whole file read, one batch, rejections from reading first."""
    result = read_layer(path, geometry_types={"Point"})
    report = ImportReport()
    for row, reason in result.rejected:
        report.counts["problems"]["read"] += 1
        report.reject("problems", row, reason)
    return import_frames(
        "problems", {"problems": result.frame}, source="f", commit=commit, report=report, batch_rows=10**6
    )


def streamed(
    path: Path, *, commit: bool, batch_rows: int = 4, strict: bool = False, progress=None
) -> ImportReport:
    with open_layer(path, geometry_types={"Point"}, batch_rows=batch_rows) as layer:
        return import_frames(
            "problems", {"problems": layer.batches}, source="f", commit=commit, strict=strict,
            batch_rows=batch_rows, progress=progress, total=layer.total,
        )  # fmt: skip


def stored() -> tuple[list[dict], list[dict]]:
    """Every problem and event column but ids and the random uuid, by source key."""
    skip = {"id", "uuid"}
    names = [f.attname for f in Problem._meta.concrete_fields if f.attname not in skip]
    problems = [
        {**row, "geom": row["geom"].ewkt} for row in Problem.objects.order_by("source_key").values(*names)
    ]
    event_names = [
        f.attname for f in ProblemEvent._meta.concrete_fields if f.attname not in {"id", "problem_id"}
    ]
    events = [
        {**row, "geom": row["geom"].ewkt}
        for row in ProblemEvent.objects.order_by("problem__source_key").values(
            "problem__source_key", *event_names
        )
    ]
    return problems, events


def counted(report: ImportReport) -> tuple[dict, list]:
    return {k: dict(v) for k, v in report.counts.items()}, [(k, r, why) for k, r, why in report.rejected]


def test_the_streamed_path_writes_what_the_whole_file_path_wrote(tmp_path, town, monkeypatch):
    path = problems_gpkg(tmp_path)
    with monkeypatch.context() as orm_only:
        orm_only.setattr(intake_batch, "features", lambda: BASE)  # the ORM's bulk insert
        before = whole_file(path, commit=True)
    old_rows = stored()
    Problem.objects.all().delete()
    dry = streamed(path, commit=False)
    assert Problem.objects.count() == 0
    monkeypatch.setattr(bulk, "STATEMENT_ROWS", 3)  # several statements per batch on PostGIS
    now = streamed(path, commit=True)  # 4 rows a batch: the duplicate key is in a later batch
    assert stored() == old_rows
    assert counted(now) == counted(before) == counted(dry)
    rejected = {r: why for _, r, why in now.rejected}
    assert sorted(rejected) == [4, 5, 6, 8, 9, 10, 11, 15], rejected
    assert "duplicate key 'f:dup'" in rejected[9] and "no geometry" in rejected[11]
    assert Problem.objects.get(source_key="f:a2").facility_id == Facility.objects.get().pk
    assert Problem.objects.get(source_key="f:a7").community_id is None
    assert Problem.objects.get(source_key="f:a1").description == 'quote " back \\ slash'
    assert ProblemEvent.objects.filter(action="report").count() == Problem.objects.count() == 7


def test_a_second_streamed_import_updates_and_keeps_the_unchanged(tmp_path, town):
    path = problems_gpkg(tmp_path)
    streamed(path, commit=True)
    first = stored()
    again = streamed(path, commit=True, batch_rows=3)
    assert again.counts["problems"]["unchanged"] == 7 and again.counts["problems"]["created"] == 0
    assert stored() == first
    changed = [({**p, "description": "changed"} if p["id"] == "a1" else p, c) for p, c in ROWS]
    third = streamed(problems_gpkg(tmp_path, changed), commit=True, batch_rows=2)
    assert third.counts["problems"]["updated"] == 1
    assert Problem.objects.get(source_key="f:a1").description == "changed"


def test_strict_refuses_on_a_rejection_in_a_later_batch_and_writes_nothing(tmp_path, town):
    path = problems_gpkg(tmp_path, ROWS[:3] + [ROWS[3]])  # the bad row is alone in the 2nd batch
    with pytest.raises(ImportRefused):
        streamed(path, commit=True, batch_rows=3, strict=True)
    assert Problem.objects.count() == 0 and ProblemEvent.objects.count() == 0


def test_a_failure_in_a_later_batch_leaves_nothing_and_stops_the_reader(tmp_path, town, monkeypatch):
    real, calls = save._save, {"n": 0}

    def fail_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(save, "_save", fail_on_third)
    with pytest.raises(KeyboardInterrupt):
        streamed(problems_gpkg(tmp_path), commit=True, batch_rows=2)
    assert calls["n"] == 3 and Problem.objects.count() == 0 and ProblemEvent.objects.count() == 0
    assert not [t for t in threading.enumerate() if t.name == "import-ahead"]


def test_progress_is_told_of_every_batch(tmp_path, town):
    heard = []
    streamed(problems_gpkg(tmp_path), commit=False, batch_rows=4, progress=lambda *a: heard.append(a))
    assert [(done, total) for done, total, _ in heard] == [(4, 15), (8, 15), (12, 15), (15, 15)]
    assert "rejected" in heard[-1][2]


def test_the_command_streams_and_keeps_its_exit_codes(tmp_path, town):
    path = problems_gpkg(tmp_path)
    out = run("import_layer", "problems", str(path), "--commit", code=3)
    assert "created 7" in out and "rejected 8" in out
    Problem.objects.all().delete()
    out = run("import_layer", "problems", str(path), "--commit", "--strict", code=1)
    assert "import refused by --strict (8 rows rejected); nothing written" in out
    assert Problem.objects.count() == 0


text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    descriptions=st.lists(text, min_size=1, max_size=6),
    keys=st.lists(text, min_size=6, max_size=6, unique=True),
)
def test_both_writers_store_any_text_alike(town, descriptions, keys):
    """The batch writer's array literals keep every character the ORM keeps (quotes, backslashes,
    braces, commas, "NULL", spaces at the ends, control characters)."""
    category = EventCategory.objects.get(code="0201")
    rows = [
        {
            "source_key": f"k:{keys[i]}",
            "description": d,
            "category_id": category.pk,
            "geom": Point(*IN_GRID),
            "reported_at": datetime(2026, 10, 1, 1, tzinfo=UTC),
        }
        for i, d in enumerate(descriptions)
    ]
    results = []
    for writer in ("backend", "orm"):
        Problem.objects.all().delete()
        if writer == "orm":
            real = intake_batch.features
            intake_batch.features = lambda: BASE
        try:
            problems_insert([dict(r) for r in rows])
        finally:
            if writer == "orm":
                intake_batch.features = real
        results.append(stored())
    assert results[0] == results[1]
    assert sorted(p["description"] for p in results[0][0]) == sorted(descriptions)


def test_the_import_as_a_background_task_reports_progress_and_its_outcome(tmp_path, town):
    from gridmap.imports.tasks import import_layer_file

    heard = []
    result = import_layer_file(
        lambda done, total, message="": heard.append((done, total)),
        target="problems", path=str(problems_gpkg(tmp_path)), commit=True, source="f",
    )  # fmt: skip
    assert result["outcome"] == "committed" and result["exit_code"] == 3 and result["rejected"] == 8
    assert heard[-1] == (15, 15) and Problem.objects.count() == 7
    refused = import_layer_file(lambda *a, **k: None, target="problems", path=str(problems_gpkg(tmp_path)),
                                commit=True, strict=True, source="g")  # fmt: skip
    assert refused["outcome"] == "refused" and refused["exit_code"] == 1 and Problem.objects.count() == 7
