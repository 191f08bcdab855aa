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
"""

from layers.io.export import layer_name, split_by_geometry, write_shapefile_zip
from layers.io.export import write_geopackage as write_geopackage_layers
from layers.io.geojson import (
    Features,
    collection,
    dumps,
    frame_features,
    geometry_mapping,
    geometry_texts,
    right_hand,
)
from layers.io.osm import OsmReadError, OsmResult, read_osm
from layers.io.sources import LayerReadError
from layers.io.stream import BATCH_ROWS, LayerStream, open_layer
from layers.io.tables import CODE_PREFIX, code_text
from layers.io.vector import ReadResult, read_layer

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
    "layer_name",
    "open_layer",
    "read_layer",
    "read_osm",
    "right_hand",
    "split_by_geometry",
    "write_geopackage_layers",
    "write_shapefile_zip",
]
