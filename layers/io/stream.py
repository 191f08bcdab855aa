"""Reading a vector file in batches, for imports larger than memory.

:func:`open_layer` gives the same rows and rejections as :func:`layers.io.vector.read_layer`
(the same :class:`~layers.io.checks.RowChecks` run on each batch, row numbers counted across the
file), a batch of ``batch_rows`` features at a time:

- GeoPackage and Shapefile: pyogrio reads windows of the layer (``skip_features`` /
  ``max_features``; pyarrow's batch reader is not installed);
- GeoJSON: GDAL parses the whole document on opening it, so it is read once and checked in
  batches;
- CSV: the encoding is decided on a first pass over the bytes (UTF-8 with or without BOM, else
  GB18030, as for a whole read), then rows are parsed from the open file a batch at a time.

A file without a coordinate system is taken as lon/lat only while every batch is in lon/lat
range: a later batch that is not raises :class:`LayerReadError` where it is found (the import
reading it writes nothing, as it writes nothing for a file refused on opening).
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS

from layers.io.checks import RowChecks
from layers.io.csv_points import MAX_CSV_BYTES, csv_layout, csv_rows, delimiter_of
from layers.io.offline import gdal_offline
from layers.io.sources import FALLBACK_ENCODING, LayerReadError, check_file_size, open_source
from layers.io.vector import (
    ReadResult,
    _allowed_types,
    _choose_layer,
    _encoding,
    _parse_crs,
    _srid_crs,
    decode_block,
    read_raw,
)

__all__ = ["BATCH_ROWS", "LayerStream", "open_layer"]

BATCH_ROWS = 20_000
BYTES_CHUNK = 4 * 1024**2


@dataclass
class LayerStream:
    """An open layer: its name, CRS and feature count (None when the format cannot tell without
    reading it all, as for CSV) and its batches (each a :class:`ReadResult`, at least one)."""

    layer: str
    source_crs: str
    crs_assumed: bool
    total: int | None
    batches: Iterator[ReadResult]


@contextmanager
def open_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    srid: int | None = None,
    encoding: str | None = None,
    geometry_types: Iterable[str] | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[LayerStream]:
    """Open one layer for reading in batches, valid inside the block (arguments as
    :func:`~layers.io.vector.read_layer`'s). The first batch is read on opening, so a file that
    cannot be read as a whole raises :class:`LayerReadError` here, before any row is used."""
    path = Path(path)
    allowed = _allowed_types(geometry_types)
    srid_crs = _srid_crs(srid)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    with open_source(path, layer=layer) as source, gdal_offline():
        if source.kind == "csv":
            check_file_size(path, MAX_CSV_BYTES)
            with _csv_text(path, encoding) as text:
                batches, total = (
                    _csv_batches(text, path.name, srid_crs, allowed, lon_col, lat_col, batch_rows),
                    None,
                )
                yield _stream(batches, path.stem, total)
            return
        name = _choose_layer(source, None if source.label else layer)
        read_encoding = _encoding(source, encoding)
        info = _info(path.name, source.gdal_path, name, read_encoding)
        total = int(info["features"]) if int(info["features"]) >= 0 else None
        file_crs = _parse_crs(info["crs"]) if info.get("crs") else None
        window = None if source.kind == "geojson" else batch_rows
        blocks = _vector_blocks(path.name, source.gdal_path, name, read_encoding, window, total)
        checked = _checked(blocks, file_crs or srid_crs, allowed, path.name, batch_rows)
        yield _stream(checked, source.label or name, total)


def _stream(batches: Iterator[ReadResult], layer: str, total: int | None) -> LayerStream:
    first = next(batches)
    rest = itertools.chain([first], batches)
    return LayerStream(layer, first.source_crs, first.crs_assumed, total, rest)


def _info(file_name: str, gdal_path: str, layer: str, encoding: str | None) -> dict:
    try:
        return pyogrio.read_info(gdal_path, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError("read_failed", f"cannot read {file_name}: {exc}") from None


def _vector_blocks(
    file_name: str, gdal_path: str, layer: str, encoding: str | None, window: int | None, total: int | None
) -> Iterator[tuple[dict, np.ndarray, list, int]]:
    """Raw blocks ``(meta, wkb, fields, first row number)`` of ``window`` features (all at once
    when None); always at least one, maybe empty, so the columns are known."""
    start = 0
    while True:
        meta, wkb, fields = read_raw(
            file_name, gdal_path, layer, encoding, skip_features=start, max_features=window
        )
        yield meta, wkb, fields, start + 1
        start += len(wkb)
        if window is None or len(wkb) < window or (total is not None and start >= total):
            return


def _checked(
    blocks: Iterator[tuple[dict, np.ndarray, list, int]],
    crs: CRS | None,
    allowed: frozenset[str] | None,
    file_name: str,
    batch_rows: int,
) -> Iterator[ReadResult]:
    for meta, wkb, fields, first_row in blocks:
        for lo in range(0, max(len(wkb), 1), batch_rows):
            part = [column[lo : lo + batch_rows] for column in fields]
            checker = decode_block(meta, wkb[lo : lo + batch_rows], part, first_row=first_row + lo)
            yield _result(checker, crs, allowed, file_name)


def _result(
    checker: RowChecks, crs: CRS | None, allowed: frozenset[str] | None, file_name: str
) -> ReadResult:
    frame, rejected, source_crs, assumed = checker.finish(crs, allowed, file_name)
    return ReadResult(frame, rejected, source_crs, crs_assumed=assumed)


@contextmanager
def _csv_text(path: Path, encoding: str | None) -> Iterator[TextIO]:
    """The CSV open as text in the encoding a whole read would use (decided on a first pass)."""
    chosen, errors = _csv_encoding(path, encoding)
    with open(path, encoding=chosen, errors=errors, newline="") as text:
        yield text


def _csv_encoding(path: Path, encoding: str | None) -> tuple[str, str]:
    wanted = encoding or "utf-8-sig"
    try:
        decoder = codecs.getincrementaldecoder(wanted)()
    except LookupError as exc:
        raise LayerReadError("encoding", f"the file cannot be decoded as {encoding}: {exc}") from None
    try:
        with open(path, "rb") as raw:
            while chunk := raw.read(BYTES_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        if encoding is not None:
            raise LayerReadError("encoding", f"the file cannot be decoded as {encoding}: {exc}") from None
        return FALLBACK_ENCODING, "replace"
    return wanted, "strict"


def _first_line(text: TextIO) -> list[str]:
    """The lines up to the first ``\\n`` (a whole read splits its first line there)."""
    lines: list[str] = []
    while line := text.readline():
        lines.append(line)
        if line.endswith("\n"):
            break
    return lines


def _csv_batches(
    text: TextIO,
    file_name: str,
    srid_crs: CRS | None,
    allowed: frozenset[str] | None,
    lon_col: str | None,
    lat_col: str | None,
    batch_rows: int,
) -> Iterator[ReadResult]:
    head = _first_line(text)
    reader = csv.reader(itertools.chain(head, text), delimiter=delimiter_of("".join(head).split("\n", 1)[0]))
    header = next(reader, None)
    if header is None:
        raise LayerReadError("csv_empty", "the CSV file is empty")
    layout = csv_layout(header, lon_col=lon_col, lat_col=lat_col)
    degrees = CRS.from_epsg(4326) if layout.names_say_degrees else None
    numbered = enumerate(reader, start=1)
    while True:
        rows = list(itertools.islice(numbered, batch_rows))
        points = csv_rows(rows, layout)
        ok = ~np.isnan(points.x)
        geoms = np.full(len(ok), None, dtype=object)
        geoms[ok] = shapely.points(points.x[ok], points.y[ok])
        checker = RowChecks(points.attributes, geoms, points.row_numbers, dict(points.rejected))
        yield _result(checker, srid_crs or degrees, allowed, file_name)
        if len(rows) < batch_rows:
            return
