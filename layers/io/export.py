"""Vector files out that every desktop GIS and GDAL tool reads whole.

- One layer per geometry family: a frame holding points, lines and polygons (facilities) becomes
  ``<name>_point``, ``<name>_line`` and ``<name>_polygon``; a frame of one family keeps its name.
  Single and multi parts of one family share a layer (promoted to multi), so formats that hold
  one geometry type per layer (Shapefile) take every feature: ``ogr2ogr -f "ESRI Shapefile"``
  converts them all.
- GeoPackage (``write_geopackage``) and zipped Shapefile (``write_shapefile_zip``) write the same
  layers; every Shapefile has a ``.cpg`` saying UTF-8, so Chinese text survives any reader.
- WGS84 (EPSG:4326); times in UTC; lists, dicts and decimals as text. Rows without a geometry
  are left out of the typed layers (counted under ``"<name>_empty"`` by ``split_by_geometry``).
"""

from __future__ import annotations

import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

FAMILIES = {
    "Point": "point", "MultiPoint": "point",
    "LineString": "line", "MultiLineString": "line", "LinearRing": "line",
    "Polygon": "polygon", "MultiPolygon": "polygon",
}  # fmt: skip
ORDER = ("point", "line", "polygon")


def layer_name(key: str, taken: dict[str, Any]) -> str:
    """A plain table name for a layer key (``facility:hydrant`` -> ``facility_hydrant``)."""
    base = re.sub(r"[^0-9A-Za-z_]", "_", str(key)).strip("_") or "layer"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def split_by_geometry(frames: dict[str, Any]) -> dict[str, gpd.GeoDataFrame]:
    """The GeoDataFrames of ``frames`` as layers of one geometry family each (see the module)."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    for key, frame in frames.items():
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        name = layer_name(key, layers)
        frame = plain_columns(frame)
        families = frame.geometry.geom_type.map(FAMILIES)
        present = [f for f in ORDER if (families == f).any()]
        if len(present) <= 1 and families.notna().all():
            layers[name] = frame
            continue
        for family in present:
            layers[layer_name(f"{name}_{family}", layers)] = frame[families == family]
    return layers


def plain_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """WGS84, times in UTC, object columns GeoPackage and dBase cannot type (lists, dicts,
    decimals) as text."""
    out = frame.to_crs(4326) if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame.copy()
    if out.crs is None:
        out = out.set_crs(4326)
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):  # stored in UTC ("Z")
            out[column] = values.dt.tz_convert("UTC")
        if column == out.geometry.name or values.dtype != object:
            continue
        if not values.map(lambda v: v is None or isinstance(v, str | bool | int | float)).all():
            out[column] = values.map(lambda v: None if v is None or v is pd.NA else str(v))
    return out


def _promote(frame: gpd.GeoDataFrame) -> bool:
    types = set(frame.geometry.geom_type.dropna())
    return any(t.startswith("Multi") for t in types) and len(types) > 1


def write_geopackage_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """``layers`` (from ``split_by_geometry``) as a new GeoPackage at ``path``; rows per layer."""
    import pyogrio

    counts: dict[str, int] = {}
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=bool(counts),
                                promote_to_multi=_promote(frame))  # fmt: skip
        counts[name] = len(frame)
    return counts


def _for_dbase(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """dBase has dates but no times: times as ISO 8601 text (UTC, ``Z``)."""
    out = frame.copy()
    for column in out.columns:
        if column != out.geometry.name and isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def write_shapefile_zip(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """``layers`` as Shapefiles (UTF-8, with ``.cpg``) in one zip at ``path``; rows per layer.
    Layers without rows are left out (a Shapefile needs a geometry type)."""
    import pyogrio

    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in layers.items():
            if frame.empty:
                continue
            target = Path(tmp) / f"{name}.shp"
            with warnings.catch_warnings():  # dBase names hold 10 characters: GDAL shortens them
                warnings.filterwarnings("ignore", "Normalized/laundered field name", RuntimeWarning)
                pyogrio.write_dataframe(
                    _for_dbase(frame),
                    target,
                    driver="ESRI Shapefile",
                    promote_to_multi=_promote(frame),
                    layer_options={"ENCODING": "UTF-8"},  # and a .cpg saying so
                )
            counts[name] = len(frame)
            for part in sorted(Path(tmp).glob(f"{name}.*")):
                archive.write(part, part.name)
    return counts
