"""Files in: vector layers (GeoPackage, Shapefile, GeoJSON, CSV) and OpenStreetMap extracts.

- ``read_layer`` (:mod:`layers.io.vector`, with :mod:`~layers.io.sources`,
  :mod:`~layers.io.checks` and :mod:`~layers.io.csv_points`): accepted rows in WGS84 and every
  refused row with its reason; ``open_layer`` (:mod:`~layers.io.stream`): the same, a batch at
  a time, for files larger than memory;
- ``frame_features``, ``geometry_texts``, ``collection``, ``dumps`` (:mod:`layers.io.geojson`):
  GeoJSON out, RFC 7946 (right-hand winding, no null geometry), the one writer;
- ``split_by_geometry``, ``write_geopackage_layers``, ``write_shapefile_zip``
  (:mod:`layers.io.export`): exports with one layer per geometry type, Shapefiles in UTF-8;
- ``code_text`` (:mod:`layers.io.tables`): code cells of CSV files kept as text by spreadsheets;
- ``read_osm`` (:mod:`layers.io.osm`, tag rules in :mod:`layers.io.osm_tags`): one frame per
  facility kind.

Names load on first use (``layers.faces``): writing GeoJSON or a CSV cell does not import pyrosm
or pyogrio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.faces import lazy_face

if TYPE_CHECKING:
    from layers.io.export import layer_name, split_by_geometry, write_geopackage_layers, write_shapefile_zip
    from layers.io.geojson import (
        Features,
        collection,
        dumps,
        frame_features,
        geometry_mapping,
        geometry_texts,
        iso_time,
        right_hand,
    )
    from layers.io.osm import OsmReadError, OsmResult, read_osm
    from layers.io.sources import LayerReadError
    from layers.io.stream import BATCH_ROWS, LayerStream, open_layer
    from layers.io.tables import CODE_PREFIX, code_text
    from layers.io.vector import ReadResult, read_layer

_HOMES = {
    "BATCH_ROWS": "stream",
    "CODE_PREFIX": "tables",
    "Features": "geojson",
    "LayerReadError": "sources",
    "LayerStream": "stream",
    "OsmReadError": "osm",
    "OsmResult": "osm",
    "ReadResult": "vector",
    "code_text": "tables",
    "collection": "geojson",
    "dumps": "geojson",
    "frame_features": "geojson",
    "geometry_mapping": "geojson",
    "geometry_texts": "geojson",
    "iso_time": "geojson",
    "layer_name": "export",
    "open_layer": "stream",
    "read_layer": "vector",
    "read_osm": "osm",
    "right_hand": "geojson",
    "split_by_geometry": "export",
    "write_geopackage_layers": "export",
    "write_shapefile_zip": "export",
}

__all__ = [
    "BATCH_ROWS",
    "CODE_PREFIX",
    "Features",
    "LayerReadError",
    "LayerStream",
    "OsmReadError",
    "OsmResult",
    "ReadResult",
    "code_text",
    "collection",
    "dumps",
    "frame_features",
    "geometry_mapping",
    "geometry_texts",
    "iso_time",
    "layer_name",
    "open_layer",
    "read_layer",
    "read_osm",
    "right_hand",
    "split_by_geometry",
    "write_geopackage_layers",
    "write_shapefile_zip",
]

__getattr__, __dir__ = lazy_face(__name__, _HOMES)
