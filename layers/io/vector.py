"""Reading vector files (GeoPackage, Shapefile or zipped Shapefile, GeoJSON, CSV) for import.

:func:`read_layer` returns one WGS84 (EPSG:4326) GeoDataFrame row per accepted feature and a
list of rejected rows with the reason, so an import can report every refused row instead of
failing the file. Checks follow the reliability design, on raw numbers first: geometry
present, supported type, vertex count, finite coordinates with ``abs <= 1e9`` in the source
CRS, then the transform, lon/lat range, the requested types and validity. Shapely's own
bundled GEOS builds the geometries here; Django's GEOS never sees an unchecked value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from layers.io.checks import RowChecks
from layers.io.csv_points import MAX_CSV_BYTES, read_csv_points
from layers.io.offline import gdal_offline
from layers.io.sources import LayerReadError, Source, check_file_size, guess_dbf_encoding, open_source
from layers.validate import GEOMETRY_DEPTH

__all__ = ["LayerReadError", "ReadResult", "read_layer"]


@dataclass
class ReadResult:
    """What :func:`read_layer` read.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        EPSG:4326, one row per accepted feature: the source's attribute columns (a source
        column named ``geometry`` or ``_row`` is renamed with a ``_src`` suffix), ``_row``
        (1-based feature number in the source; for CSV the data-row number, header not
        counted) and 2-D geometries of the source's type (Polygon stays Polygon).
    rejected : list of (int, str)
        ``(_row, reason)`` for every refused feature, in row order.
    source_crs : str
        The CRS the coordinates were read in, e.g. ``"EPSG:4549"`` (WKT when it has no code).
    layer : str
        The layer read (a shapefile's or CSV's file stem).
    crs_assumed : bool
        True when the file declared no CRS and EPSG:4326 was assumed from the coordinate ranges.
    """

    frame: gpd.GeoDataFrame
    rejected: list[tuple[int, str]] = field(default_factory=list)
    source_crs: str = "EPSG:4326"
    layer: str = ""
    crs_assumed: bool = False


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    srid: int | None = None,
    encoding: str | None = None,
    geometry_types: Iterable[str] | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> ReadResult:
    """Read one vector layer and transform it to WGS84 longitude/latitude (EPSG:4326).

    Parameters
    ----------
    path : str or Path
        ``.gpkg``, ``.shp``, ``.zip`` (holding a shapefile), ``.geojson``/``.json`` or ``.csv``.
    layer : str, optional
        Layer of a GeoPackage (required when it has several spatial layers) or shapefile stem
        inside a zip holding several.
    srid : int, optional
        EPSG code of the coordinates when the file declares none (a shapefile without .prj, a
        CSV). Ignored when the file has a CRS. Without either, EPSG:4326 is assumed only when
        every coordinate is within lon/lat range (or CSV columns are named lon/lat).
    encoding : str, optional
        Text encoding of a shapefile's DBF or of a CSV. By default a shapefile's .cpg decides;
        without one (and for CSV) UTF-8 is used when the bytes are valid UTF-8, else GB18030.
    geometry_types : iterable of str, optional
        Accepted geometry types, e.g. ``{"Polygon", "MultiPolygon"}``; others are rejected.
    lon_col, lat_col : str, optional
        CSV coordinate columns; by default lon/lng/longitude/经度/x and lat/latitude/纬度/y.

    Raises
    ------
    LayerReadError
        When the file as a whole cannot be read: unknown format, unsafe zip, missing or
        ambiguous layer, unknown CRS, missing CSV columns.
    """
    path = Path(path)
    allowed = _allowed_types(geometry_types)
    srid_crs = _srid_crs(srid)
    with open_source(path, layer=layer) as source, gdal_offline():
        if source.kind == "csv":
            check_file_size(path, MAX_CSV_BYTES)  # by its size on disk, before reading it
            points = read_csv_points(path.read_bytes(), encoding=encoding, lon_col=lon_col, lat_col=lat_col)
            ok = ~np.isnan(points.x)
            geoms = np.full(len(ok), None, dtype=object)
            geoms[ok] = shapely.points(points.x[ok], points.y[ok])
            degrees = CRS.from_epsg(4326) if points.columns_say_degrees else None
            checker = RowChecks(points.attributes, geoms, points.row_numbers, dict(points.rejected))
            return _result(checker.finish(srid_crs or degrees, allowed, path.name), path.stem)
        layer_name = _choose_layer(source, None if source.label else layer)  # a zip's layer is chosen
        read_encoding = _encoding(source, encoding)
        meta, wkb, field_data = read_raw(path.name, source.gdal_path, layer_name, read_encoding)
        checker = decode_block(meta, wkb, field_data, first_row=1)
        file_crs = _parse_crs(meta["crs"]) if meta.get("crs") else None
        return _result(checker.finish(file_crs or srid_crs, allowed, path.name), source.label or layer_name)


def read_raw(
    file_name: str, gdal_path: str, layer: str, encoding: str | None, **window: int | None
) -> tuple[dict, np.ndarray, list]:
    """pyogrio's raw read of ``layer`` (``window``: ``skip_features``/``max_features``)."""
    try:
        meta, _, wkb, field_data = pyogrio.raw.read(gdal_path, layer=layer, encoding=encoding, **window)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
    ) as exc:
        raise LayerReadError("read_failed", f"cannot read {file_name}: {exc}") from None
    return meta, wkb, field_data


def decode_block(meta: dict, wkb: np.ndarray, field_data: list, *, first_row: int) -> RowChecks:
    """The checks of a block of raw features whose first is feature number ``first_row``."""
    attributes = pd.DataFrame({name: values for name, values in zip(meta["fields"], field_data, strict=True)})
    n = len(wkb)
    attributes.index = pd.RangeIndex(n)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    problems = {i: "no geometry" for i in range(n) if wkb[i] is None}
    problems.update(
        {i: "geometry could not be decoded" for i in range(n) if wkb[i] is not None and geoms[i] is None}
    )
    return RowChecks(attributes, geoms, np.arange(first_row, first_row + n), problems)


def _result(checked: tuple[gpd.GeoDataFrame, list[tuple[int, str]], str, bool], layer: str) -> ReadResult:
    frame, rejected, source_crs, assumed = checked
    return ReadResult(frame, rejected, source_crs, layer, crs_assumed=assumed)


def _allowed_types(geometry_types: Iterable[str] | None) -> frozenset[str] | None:
    if geometry_types is None:
        return None
    allowed = frozenset(geometry_types)
    unknown = allowed - set(GEOMETRY_DEPTH)
    if unknown:
        raise ValueError(f"unknown geometry types {sorted(unknown)}")
    return allowed


def _srid_crs(srid: int | None) -> CRS | None:
    if srid is None:
        return None
    if isinstance(srid, bool) or not isinstance(srid, int) or srid <= 0:
        raise LayerReadError("srid_invalid", f"srid must be a positive EPSG code, not {srid!r}")
    try:
        return CRS.from_epsg(srid)
    except CRSError:
        raise LayerReadError("srid_invalid", f"EPSG:{srid} is not a known coordinate system") from None


def _parse_crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise LayerReadError("crs_unusable", f"the file's coordinate system cannot be used: {exc}") from None


def _choose_layer(source: Source, layer: str | None) -> str:
    try:
        layers = pyogrio.list_layers(source.gdal_path)
    except pyogrio.errors.DataSourceError as exc:
        raise LayerReadError("read_failed", f"cannot open the file: {exc}") from None
    names = [str(name) for name, _ in layers]
    spatial = [str(name) for name, gtype in layers if gtype is not None]
    if layer is not None:
        if layer not in names:
            raise LayerReadError("layer_missing", f"no layer {layer!r}; layers: {', '.join(names)}")
        return layer
    if len(spatial) == 1:
        return spatial[0]
    if not spatial:
        raise LayerReadError("no_spatial_layer", "the file holds no layer with geometries")
    raise LayerReadError(
        "layer_choice", f"the file holds several layers; choose one of: {', '.join(spatial)}"
    )


def _encoding(source: Source, encoding: str | None) -> str | None:
    if source.kind != "shapefile" or source.has_cpg:
        return None  # GDAL reads the .cpg; GeoPackage and GeoJSON are UTF-8 by definition
    if encoding is not None:
        return encoding
    return guess_dbf_encoding(source.dbf_bytes or b"")
