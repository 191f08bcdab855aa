"""Row-by-row checks of a read vector layer, raw numbers first (used by :mod:`layers.io.vector`).

Order follows the reliability design: geometry present and of a supported type, vertex count,
finite coordinates with ``abs <= 1e9`` in the source CRS, the CRS decision, the transform to
EPSG:4326, lon/lat range, the requested types, then validity (repaired only when the type
stays). Geometries are built by shapely's bundled GEOS, never Django's.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from layers.io.sources import LayerReadError
from layers.validate import (
    GEOMETRY_DEPTH,
    MAX_VERTICES,
    GeometryInputError,
    check_coordinate_array,
    check_lonlat,
    check_valid,
)

WGS84 = CRS.from_epsg(4326)


def crs_label(crs: CRS) -> str:
    """``"EPSG:<code>"`` when ``crs`` has an EPSG code, else its WKT."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else crs.to_wkt()


class RowChecks:
    """Row-by-row checks of one read; ``problems`` maps a row position to its rejection reason."""

    def __init__(
        self, attributes: pd.DataFrame, geoms: np.ndarray, row_numbers: np.ndarray, problems: dict[int, str]
    ) -> None:
        self.attributes = attributes
        self.geoms = np.asarray(geoms, dtype=object)
        self.row_numbers = row_numbers
        self.problems = problems

    def _live(self) -> np.ndarray:
        live = np.ones(len(self.geoms), dtype=bool)
        live[list(self.problems)] = False
        return live

    def _reject(self, mask: np.ndarray, reason_for: str | Callable[[int], str]) -> None:
        """Reject the still-live rows in ``mask``, with a fixed reason or one per row position."""
        for i in np.flatnonzero(mask & self._live()):
            self.problems[int(i)] = reason_for(int(i)) if callable(reason_for) else reason_for

    def _raw_checks(self) -> None:
        geoms = self.geoms
        live = self._live()
        gtype = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
        self._reject(
            live & ~np.isin(gtype, list(GEOMETRY_DEPTH)), lambda i: f"unsupported geometry type {gtype[i]}"
        )
        self._reject(self._live() & shapely.is_empty(geoms), "geometry is empty")
        self._reject(
            self._live() & (shapely.get_num_coordinates(geoms) > MAX_VERTICES),
            f"more than {MAX_VERTICES} vertices",
        )
        live = self._live()
        self.geoms[live] = shapely.force_2d(geoms[live])
        coords, index = shapely.get_coordinates(self.geoms[live], return_index=True)
        bad = np.zeros(len(geoms), dtype=bool)
        bad[np.flatnonzero(live)[np.unique(index[~check_coordinate_array(coords)])]] = True
        self._reject(bad, "coordinates must be finite numbers no larger than 1e9 in absolute value")

    def _decide_crs(self, crs: CRS | None, file_name: str) -> tuple[CRS, bool]:
        if crs is not None:
            return crs, False
        coords = shapely.get_coordinates(self.geoms[self._live()])
        outside = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
        if outside.any():
            x, y = coords[np.flatnonzero(outside)[0]]
            raise LayerReadError(
                "crs_missing",
                f"{file_name} declares no coordinate system and its coordinates are not longitude/latitude "
                f"(e.g. x={x:.10g}, y={y:.10g}); give the EPSG code with --srid "
                "(e.g. 4549 for CGCS2000 3-degree Gauss-Kruger CM 120E)",
            )
        return WGS84, True

    def _transform(self, crs: CRS) -> None:
        live = self._live()
        if crs.to_epsg() == 4326 or not live.any():
            return
        try:
            transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
        except (CRSError, ProjError) as exc:
            raise LayerReadError("crs_unusable", f"cannot transform from {crs_label(crs)}: {exc}") from None

        def to_lonlat(xy: np.ndarray) -> np.ndarray:
            lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
            return np.column_stack([lon, lat])

        self.geoms[live] = shapely.transform(self.geoms[live], to_lonlat)

    def _lonlat_checks(self, crs: CRS) -> None:
        live = self._live()
        coords, index = shapely.get_coordinates(self.geoms[live], return_index=True)
        with np.errstate(invalid="ignore"):
            bad_coord = ~(
                np.isfinite(coords).all(axis=1) & (np.abs(coords[:, 0]) <= 180) & (np.abs(coords[:, 1]) <= 90)
            )
        positions = np.flatnonzero(live)
        first_bad: dict[int, int] = {}
        for k in np.flatnonzero(bad_coord):
            first_bad.setdefault(int(positions[index[k]]), int(k))
        suffix = "" if crs.to_epsg() == 4326 else f" after transforming from {crs_label(crs)}"

        def reason(i: int) -> str:
            lon, lat = coords[first_bad[i]]
            try:
                check_lonlat(float(lon), float(lat))
            except GeometryInputError as exc:
                return f"{exc}{suffix}"
            return f"coordinates out of range{suffix}"  # pragma: no cover - check_lonlat always raises here

        mask = np.zeros(len(self.geoms), dtype=bool)
        mask[list(first_bad)] = True
        self._reject(mask, reason)

    def _type_and_validity(self, allowed: frozenset[str] | None) -> None:
        if allowed is not None:
            gtype = np.array([g.geom_type if g is not None else "" for g in self.geoms], dtype=object)
            expected = ", ".join(sorted(allowed))
            self._reject(
                ~np.isin(gtype, list(allowed)), lambda i: f"{gtype[i]} is not accepted; expected {expected}"
            )
        live = self._live()
        invalid = np.zeros(len(self.geoms), dtype=bool)
        invalid[live] = ~shapely.is_valid(self.geoms[live])
        for i in np.flatnonzero(invalid):
            try:
                self.geoms[i] = check_valid(self.geoms[i])
            except GeometryInputError as exc:
                self.problems[int(i)] = str(exc)

    def finish(
        self, crs: CRS | None, allowed: frozenset[str] | None, file_name: str
    ) -> tuple[gpd.GeoDataFrame, list[tuple[int, str]], str, bool]:
        """Run every check; return the EPSG:4326 frame, ``(row, reason)`` rejections, the source
        CRS label and whether EPSG:4326 was assumed. ``crs`` None means the file declares none."""
        self._raw_checks()
        crs, assumed = self._decide_crs(crs, file_name)
        self._transform(crs)
        self._lonlat_checks(crs)
        self._type_and_validity(allowed)
        live = self._live()
        renames = {c: f"{c}_src" for c in ("geometry", "_row") if c in self.attributes.columns}
        attributes = self.attributes.rename(columns=renames).loc[live].reset_index(drop=True)
        attributes["_row"] = self.row_numbers[live]
        frame = gpd.GeoDataFrame(attributes, geometry=list(self.geoms[live]), crs="EPSG:4326")
        rejected = sorted((int(self.row_numbers[i]), reason) for i, reason in self.problems.items())
        return frame, rejected, crs_label(crs), assumed
