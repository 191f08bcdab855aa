"""The one import core behind ``import_layer``, ``import_osm`` and ``load_demo``.

Flow: a reader from ``layers`` gives rows in EPSG:4326 with raw coordinates already checked →
each row is converted by its target (attributes checked, lookups resolved) or rejected with a
reason → places are derived in batch (``places``: grid, community; problems placed and later
inserted by the intake's batch entry, ``gridmap.problems.intake``) → the plan is counted
(create vs update, by key) and with ``commit`` written (``save``). The rows go through these
steps a batch at a time (``BATCH_ROWS``), all batches in one transaction: with ``commit`` every
batch is written or none is. Importing the same file again updates the rows it created.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from django.db import connection, transaction

from gridmap.core.geoinput import service_area
from gridmap.core.jobs import dispatch
from gridmap.geography.models import Community, District, Subdistrict
from gridmap.imports.ahead import ahead
from gridmap.imports.places import Areas, derive_places, place_problems
from gridmap.imports.save import write
from gridmap.imports.targets import KEY_COLUMNS, TARGETS, Lookups, Reject, Target, key_text
from layers.validate import GeometryInputError, check_lonlat

# Rows planned, placed and written at a time: bounds an import's memory whatever the file's size.
BATCH_ROWS = 20_000
Progress = Callable[..., None]  # progress(done, total, message): rows done, rows expected or None


# Exit codes of the import commands (README, "Importing real data").
EXIT_REFUSED = 1  # nothing written: refused by --strict, stopped (Ctrl-C) or the file cannot be read
EXIT_REJECTED = 3  # some rows rejected: with --commit every other row was written


@dataclass
class ImportReport:
    """What an import did. ``outcome``: "committed", "dry run", "refused" (--strict found rejected
    rows) or "stopped" (interrupted); only "committed" wrote anything."""

    committed: bool = False
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    rejected: list[tuple[str, Any, str]] = field(default_factory=list)
    outcome: str = "dry run"

    def reject(self, kind: str, row: Any, reason: str) -> None:
        self.counts[kind]["rejected"] += 1
        self.rejected.append((kind, row, reason))

    def merge(self, other: ImportReport) -> None:
        for kind, counts in other.counts.items():
            self.counts[kind].update(counts)
        self.rejected += other.rejected

    def stop(self) -> None:
        """Interrupted inside the import call: its transaction was rolled back, nothing written."""
        self.committed = False
        self.outcome = "stopped"

    def headline(self) -> str:
        n = len(self.rejected)
        if self.outcome == "committed":
            return "import committed" + (f"; {n} rejected rows were not written" if n else "")
        if self.outcome == "refused":
            return f"import refused by --strict ({n} rows rejected); nothing written"
        if self.outcome == "stopped":
            return "import stopped (interrupted) before the end; nothing written"
        return "dry run (nothing written; add --commit)"

    def lines(self) -> list[str]:
        out = [self.headline()]
        done = self.outcome == "committed"
        create, update = ("created", "updated") if done else ("would create", "would update")
        for kind, c in sorted(self.counts.items()):
            out.append(
                f"  {kind}: read {c['read']}, {create} {c['created']}, {update} {c['updated']}, "
                f"unchanged {c['unchanged']}, rejected {c['rejected']}"
            )
        if self.outcome == "stopped":
            out.append("  (counted before the stop)")
        out += [f"  rejected {kind} row {row}: {reason}" for kind, row, reason in self.rejected]
        return out

    def exit_code(self) -> int:
        if self.outcome in ("refused", "stopped"):
            return EXIT_REFUSED
        return EXIT_REJECTED if self.rejected else 0


@dataclass
class Planned:
    kind: str
    row: Any
    key: str
    model: type
    fields: dict[str, Any]
    geom: Any  # shapely, EPSG:4326


def geometry_key(geom: Any) -> str:
    # Rounded to ~1 cm so a re-export with other float noise keeps its key.
    rounded = shapely.set_precision(geom, 1e-7)
    return "g" + hashlib.sha1(shapely.to_wkb(rounded)).hexdigest()[:16]


def shape_geometry(geom: Any, target: Target, fields: dict[str, Any]) -> list[Any]:
    """The parts to store: polygons are kept whole (stored as MultiPolygon); multi-part lines,
    points and facility polygons are split into one stored feature per part."""
    if target.name in {"regions", "grids", "buildings"}:
        return [geom]
    want = fields.pop("_geom_type", None)
    parts = list(getattr(geom, "geoms", [geom]))
    if want and parts[0].geom_type != want:
        raise Reject(f"this kind takes {want} geometry, not {geom.geom_type}")
    return parts


def _row_key(row: dict[str, Any], key_column: str | None) -> str | None:
    columns = [key_column] if key_column else KEY_COLUMNS
    for col in columns:
        value = row.get(col)
        if value is not None and str(value).strip() and str(value) != "nan":
            return key_text(str(value).strip().removesuffix(".0"))
    return None


def plan_rows(
    target: Target,
    frame: gpd.GeoDataFrame,
    *,
    kind: str,
    source: str,
    key_column: str | None,
    options: dict[str, Any],
    lookups: Lookups,
    report: ImportReport,
    seen: set[str] | None = None,
) -> list[Planned]:
    """The rows of ``frame`` converted by ``target``, or rejected into ``report``; ``seen`` holds
    the keys planned by earlier batches of the same import (a repeated key is rejected)."""
    planned: list[Planned] = []
    seen = set() if seen is None else seen
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    area = service_area()
    for rec, geom in zip(records, frame.geometry.values, strict=True):
        row = rec.get("_row", "?")
        report.counts[kind]["read"] += 1
        try:
            if area is not None:
                _check_in_area(geom, area)
            fields = target.convert(rec, lookups, options)
            model = fields.pop("_model", target.model)
            parts = shape_geometry(geom, target, fields)
            base = fields["code"] if target.key_field == "code" else _row_key(rec, key_column)
            for i, part in enumerate(parts):
                key = base or geometry_key(part)
                if target.key_field != "code":
                    key = (f"{source}:{key}" if source else key) + (f"#{i + 1}" if len(parts) > 1 else "")
                if key in seen:
                    raise Reject(f"duplicate key {key!r} in this file")
                seen.add(key)
                planned.append(Planned(kind, row, key, model, dict(fields), part))
        except Reject as exc:
            report.reject(kind, row, str(exc))
        if target.name == "regions" and planned and planned[-1].row == row:
            _remember_region(planned[-1], lookups)
    return planned


def _check_in_area(geom: Any, area: Any) -> None:
    """The configured service area holds every door's positions, imported rows' too."""
    x0, y0, x1, y1 = geom.bounds
    try:
        check_lonlat(x0, y0, area=area)
        check_lonlat(x1, y1, area=area)
    except GeometryInputError as exc:
        raise Reject(str(exc)) from None


def _remember_region(p: Planned, lookups: Lookups) -> None:
    # Lets a community row name a street/town planned earlier in the same file (dry runs too).
    table = {District: lookups.districts, Subdistrict: lookups.subdistricts, Community: lookups.communities}
    table[p.model].setdefault(p.key, -1)


class ImportRefused(Exception):
    """--strict and some rows were rejected: nothing was written."""


# The layers the coverage sets are computed from (``analysis.precompute``: the buildings' and
# grids' stamps per town, the facilities' and streets' whole; regions move grids between towns).
# Problems and inspection points change no coverage set: their import asks for no refresh.
COVERAGE_INPUTS = frozenset({"regions", "grids", "buildings", "facilities", "streets"})


def import_frames(
    target_name: str,
    frames: Mapping[str, gpd.GeoDataFrame | Iterable[Any]],
    *,
    source: str,
    commit: bool,
    strict: bool = False,
    key_column: str | None = None,
    options: dict[str, Any] | None = None,
    report: ImportReport | None = None,
    progress: Progress | None = None,
    total: int | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import frames into a target in batches, all or nothing.

    ``frames`` maps a kind label to rows in EPSG:4326: a whole frame (taken ``batch_rows`` rows
    at a time) or an iterable of read batches (``layers.io.open_layer``'s, each with ``frame``
    and ``rejected``, the rows its reader refused). Each batch is planned (rows converted or
    rejected, keys checked against every earlier batch), placed, counted and, with ``commit``,
    written, all inside one transaction: a failure, a Ctrl-C or ``strict`` with any rejected row
    rolls every batch back. ``progress(done, total, message)`` hears of each batch (``total``:
    the rows expected, when known).
    """
    target = TARGETS[target_name]
    report = report or ImportReport()
    run = _Run(target, Lookups.load(), Areas(), source=source, key_column=key_column, progress=progress)
    if target.name == "problems":
        run.areas.hold_for_problems(run.lookups.categories.values())
    jobs = (
        (kind, run.options(kind, options), batch)
        for kind, batches in frames.items()
        for batch in _batches(batches, batch_rows)
    )
    with transaction.atomic(), _constraints_per_batch():
        for step in ahead(jobs, run.plan):  # the next batch is read and planned meanwhile
            report.merge(step.report)
            writing = commit and not (strict and report.rejected)
            run.place_and_write(step, report, commit=writing, total=total)
        refused = strict and bool(report.rejected)
        if refused:
            transaction.set_rollback(True)  # batches written before the first rejection
    report.rejected.sort(key=_rejection_order(list(frames)))
    commit = commit and not refused
    if commit and target_name in COVERAGE_INPUTS:
        dispatch("analysis.refresh_coverage")  # recompute the coverage sets this import made stale
    report.committed = commit
    report.outcome = "committed" if commit else "refused" if refused else "dry run"
    if refused:
        raise ImportRefused(f"{len(report.rejected)} rows rejected with --strict; nothing was written")
    return report


@contextmanager
def _constraints_per_batch() -> Iterator[None]:
    """On PostgreSQL, foreign keys checked at each batch's statements instead of at the commit:
    the server keeps no queue of a million pending checks, and the commit does not stall after
    the last batch. Put back to Django's deferred checking for the rest of an enclosing
    transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield  # after an error the transaction (or its savepoint) is rolled back anyway
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _batches(batches: gpd.GeoDataFrame | Iterable[Any], batch_rows: int) -> Iterator[Any]:
    if isinstance(batches, gpd.GeoDataFrame):
        for lo in range(0, max(len(batches), 1), batch_rows):
            yield batches.iloc[lo : lo + batch_rows]
        return
    yield from batches


def _rejection_order(kinds: list[str]) -> Callable[[tuple[str, Any, str]], tuple]:
    """Kinds in their order, rows by number: the same list whatever the batch size."""
    rank = {k: i for i, k in enumerate(kinds)}
    return lambda r: (rank.get(r[0], len(rank)), *((0, int(r[1])) if isinstance(r[1], Integral) else (1, 0)))


@dataclass
class _Run:
    """What one import keeps across its batches: lookups, areas and the keys planned so far."""

    target: Target
    lookups: Lookups
    areas: Areas
    source: str
    key_column: str | None
    progress: Progress | None
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # keys by kind
    done: int = 0

    def options(self, kind: str, options: dict[str, Any] | None) -> dict[str, Any]:
        opts = dict(options or {})
        if self.target.name == "facilities" and kind in self.lookups.kinds:
            opts.setdefault("kind", kind)
        return opts

    def plan(self, job: tuple[str, dict[str, Any], Any]) -> _Step:
        """Read rejections and planned rows of one batch, counted in a report of its own (runs
        ahead, in a thread: no database here)."""
        kind, opts, batch = job
        frame = batch if isinstance(batch, gpd.GeoDataFrame) else batch.frame
        own = ImportReport()
        for row, reason in getattr(batch, "rejected", ()):
            own.counts[kind]["read"] += 1
            own.reject(kind, row, reason)
        planned = plan_rows(
            self.target, frame, kind=kind, source=self.source, key_column=self.key_column, options=opts,
            lookups=self.lookups, report=own, seen=self.seen[kind],
        )  # fmt: skip
        placed = self.areas.held is not None
        if placed:
            place_problems(planned, self.areas.held)
        return _Step(kind, own, planned, len(frame) + len(getattr(batch, "rejected", ())), placed)

    def place_and_write(self, step: _Step, report: ImportReport, *, commit: bool, total: int | None) -> None:
        if not step.placed:
            derive_places(self.target, step.planned, self.areas)
        write(self.target, step.planned, report, commit=commit)
        self.done += step.rows
        if self.progress is not None:
            c = report.counts[step.kind]
            self.progress(
                self.done, total, f"{step.kind}: {self.done:,} rows read, {c['rejected']:,} rejected"
            )


@dataclass
class _Step:
    kind: str
    report: ImportReport  # the batch's read and planning counts and rejections
    planned: list[Planned]
    rows: int
    placed: bool  # problems placed ahead, from what the import holds


def frame_from_records(records: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    """A frame in the shape the readers give (used by tests and by load_demo's users)."""
    frame = pd.DataFrame(records)
    frame["_row"] = range(1, len(records) + 1)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
