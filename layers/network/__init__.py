"""A walkable street graph in metres, and walking distances along it.

Street centre lines (EPSG:4326 in) are projected to the area's metric CRS
(:func:`layers.projection.metric_crs_for`), noded so that every crossing (or, with
``node_crossings=False``, every vertex two lines share) becomes a graph node, and stored as a
symmetric ``scipy.sparse`` CSR matrix of edge lengths in metres. Anything off the network (a
building, a facility, a stop) attaches to its nearest street point: the walk from it to the
street counts its straight snap distance, and the walk continues from the exact position on
the edge (not from the nearest node). Distances are therefore exact on the noded lines:

    d(a, b) = snap_a + min over the ends x of a's edge, y of b's edge
              (along_a(x) + graph(x, y) + along_b(y)),   or snap_a + |pos_a - pos_b| + snap_b
              when a and b lie on the same edge.

Multi-source searches add one virtual node per source, linked to the two ends of its edge
with the partial edge lengths, and run one scipy Dijkstra (``min_only=True``) over the
augmented CSR. Units: metres everywhere; geometry in and out is EPSG:4326 unless stated.

The code lives in :mod:`layers.network.graph` (building the graph, snapping) and
:mod:`layers.network.paths` (distances, nearest facilities, paths); this package's face is the one
place callers import from.
"""

from layers.network.graph import (
    NetworkUnreachableError,
    Snapped,
    StreetNetwork,
    build_network,
    snap,
    snap_metric,
    to_network_crs,
)
from layers.network.paths import (
    nearest_by_network,
    nearest_by_network_snapped,
    network_distance_matrix,
    shortest_path_line,
    shortest_path_through,
)
from layers.network.walks import WalkLeg, walk_legs

__all__ = [
    "NetworkUnreachableError",
    "Snapped",
    "StreetNetwork",
    "WalkLeg",
    "build_network",
    "nearest_by_network",
    "nearest_by_network_snapped",
    "network_distance_matrix",
    "shortest_path_line",
    "shortest_path_through",
    "snap",
    "snap_metric",
    "to_network_crs",
    "walk_legs",
]
