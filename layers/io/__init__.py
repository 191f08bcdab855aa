"""Files in: vector layers (GeoPackage, Shapefile, GeoJSON, CSV) and OpenStreetMap extracts.

- ``read_layer`` (:mod:`layers.io.vector`, with :mod:`~layers.io.sources`,
  :mod:`~layers.io.checks` and :mod:`~layers.io.csv_points`): accepted rows in WGS84 and every
  refused row with its reason;
- ``read_osm`` (:mod:`layers.io.osm`, tag rules in :mod:`layers.io.osm_tags`): one frame per
  facility kind.
"""

from layers.io.osm import OsmReadError, OsmResult, read_osm
from layers.io.sources import LayerReadError
from layers.io.vector import ReadResult, read_layer

__all__ = ["LayerReadError", "OsmReadError", "OsmResult", "ReadResult", "read_layer", "read_osm"]
