"""Reading point tables (CSV with longitude/latitude or x/y columns) for import.

The coordinate cells are parsed as raw numbers with :func:`layers.validate.to_number`; a bad
cell rejects its row, never the file. Coordinates are returned in the file's own units (the
CRS is decided by :func:`layers.io.vector.read_layer`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.io.sources import LayerReadError, decode_text_file
from layers.validate import MAX_ABS_PROJECTED, GeometryInputError, to_number

# Candidate header names, best first; compared case-insensitively after stripping spaces.
LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "y")
DEGREE_NAMES = frozenset(LON_NAMES[:-1] + LAT_NAMES[:-1])  # names that say "degrees"
MAX_CSV_BYTES = 512 * 1024**2


@dataclass
class CsvPoints:
    """Rows of a CSV: attributes as text, raw x/y numbers and the rows refused on parsing."""

    attributes: pd.DataFrame  # one row per non-blank data row, every column as text
    row_numbers: np.ndarray  # 1-based data-row numbers (the header is not counted)
    x: np.ndarray  # float64, NaN where the row was rejected
    y: np.ndarray
    rejected: dict[int, str]  # 0-based position in ``attributes`` -> reason
    columns_say_degrees: bool  # the coordinate columns are named lon/lat (not x/y)


def _find_column(headers: list[str], wanted: str | None, candidates: tuple[str, ...], what: str) -> int:
    folded = [h.strip().lower() for h in headers]
    if wanted is not None:
        if wanted.strip().lower() not in folded:
            raise LayerReadError(
                "csv_columns", f"no {what} column named {wanted!r}; columns: {', '.join(headers)}"
            )
        return folded.index(wanted.strip().lower())
    for name in candidates:
        if name in folded:
            return folded.index(name)
    raise LayerReadError(
        "csv_columns",
        f"no {what} column found (looked for {', '.join(candidates)}); columns: {', '.join(headers)}",
    )


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(headers):
        name = raw.strip() or f"field_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _coordinate(cell: str, what: str) -> float:
    if cell.strip() == "":
        raise GeometryInputError("missing", f"{what} is empty")
    value = to_number(cell, what=what)
    if abs(value) > MAX_ABS_PROJECTED:
        raise GeometryInputError("out_of_range", f"{what} {value:.6g} is out of range")
    return value


@dataclass(frozen=True)
class CsvLayout:
    """What the header says: column names, the coordinate columns and whether they are degrees."""

    headers: list[str]
    ix: int
    iy: int
    names_say_degrees: bool


def delimiter_of(first_line: str) -> str:
    return "," if "," in first_line else ("\t" if "\t" in first_line else (";" if ";" in first_line else ","))


def csv_layout(header: list[str], *, lon_col: str | None, lat_col: str | None) -> CsvLayout:
    headers = _unique_headers(header)
    ix = _find_column(headers, lon_col, LON_NAMES, "longitude")
    iy = _find_column(headers, lat_col, LAT_NAMES, "latitude")
    if ix == iy:
        raise LayerReadError("csv_columns", "longitude and latitude must be different columns")
    names_say_degrees = (lon_col is not None or lat_col is not None) or (
        headers[ix].strip().lower() in DEGREE_NAMES and headers[iy].strip().lower() in DEGREE_NAMES
    )
    return CsvLayout(headers, ix, iy, names_say_degrees)


def read_csv_points(
    raw: bytes, *, encoding: str | None = None, lon_col: str | None = None, lat_col: str | None = None
) -> CsvPoints:
    """Parse CSV bytes into attribute rows and raw coordinate arrays.

    Parameters
    ----------
    raw : bytes
        The file's content; UTF-8 (BOM allowed) unless ``encoding`` is given, falling back to
        GB18030 (what Excel writes on Chinese Windows).
    encoding : str, optional
        Text encoding to use instead of detection.
    lon_col, lat_col : str, optional
        Coordinate column names; by default the first of ``LON_NAMES`` / ``LAT_NAMES`` found.

    Returns
    -------
    CsvPoints
        ``x``/``y`` are in the file's units (degrees for lon/lat, metres for projected x/y).
    """
    if len(raw) > MAX_CSV_BYTES:
        raise LayerReadError("too_large", "CSV file is larger than 512 MiB")
    text = decode_text_file(raw, encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text.split("\n", 1)[0])))
    if not rows:
        raise LayerReadError("csv_empty", "the CSV file is empty")
    layout = csv_layout(rows[0], lon_col=lon_col, lat_col=lat_col)
    return csv_rows(list(enumerate(rows[1:], start=1)), layout)


def csv_rows(rows: list[tuple[int, list[str]]], layout: CsvLayout) -> CsvPoints:
    """``(data-row number, cells)`` rows (blank ones are dropped) parsed by ``layout``."""
    headers, ix, iy = layout.headers, layout.ix, layout.iy
    numbered = [(i, r) for i, r in rows if any(cell.strip() for cell in r)]
    data = [r for _, r in numbered]
    n = len(data)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    rejected: dict[int, str] = {}
    cells: list[list[str]] = []
    for i, row in enumerate(data):
        if len(row) > len(headers):
            rejected[i] = f"row has {len(row)} fields but the header has {len(headers)}"
        row = (row + [""] * len(headers))[: len(headers)]
        cells.append(row)
        if i in rejected:
            continue
        try:
            x[i] = _coordinate(row[ix], "longitude" if layout.names_say_degrees else "x")
            y[i] = _coordinate(row[iy], "latitude" if layout.names_say_degrees else "y")
        except GeometryInputError as exc:
            x[i] = y[i] = np.nan
            rejected[i] = str(exc)
    attributes = pd.DataFrame(cells, columns=headers, dtype=object)
    row_numbers = np.array([i for i, _ in numbered], dtype=np.int64)
    return CsvPoints(attributes, row_numbers, x, y, rejected, layout.names_say_degrees)
