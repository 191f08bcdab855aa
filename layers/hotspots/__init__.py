"""Hotspots of problems: the public face of the ``layers.hotspots`` modules.

- density clusters in metres: ``density_clusters`` (DBSCAN / HDBSCAN, per-cluster summary),
  ``cluster_labels``, ``dbscan_labels`` (scikit-learn's DBSCAN labels, grid-bucketed, faster);
- cells: ``square_cells``, ``h3_cells``, ``count_points``, ``street_length_m``;
- weights (binary, scipy.sparse): ``queen_weights``, ``distance_band_weights``, ``knn_weights``;
- Getis-Ord Gi*: ``gistar`` (esda's ``G_Local(star=True, transform="B")`` z-scores),
  ``gistar_cells`` (per-area / per-street-km densities, two-sided p, 90/95/99 % classes);
- emerging hotspots, this period against the last: ``emerging_hotspots``.

All take and return EPSG:4326 and compute in the metric CRS of ``layers.projection``.

Names load on first use (``layers.faces``): Gi* alone does not import scikit-learn or h3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.faces import lazy_face

if TYPE_CHECKING:
    from layers.hotspots.cells import count_points, h3_cells, square_cells, street_length_m
    from layers.hotspots.clusters import (
        METHODS,
        OUTLINES,
        cluster_labels,
        density_clusters,
        summarise_clusters,
    )
    from layers.hotspots.dbscan import dbscan_labels
    from layers.hotspots.emerging import EMERGING_CLASSES, change_test, classify_emerging, emerging_hotspots
    from layers.hotspots.getis_ord import NORMALISE, gistar_cells
    from layers.hotspots.stats import HOTSPOT_LABELS, gi_bins, gistar, p_two_sided
    from layers.hotspots.weights import (
        WEIGHTS,
        distance_band_weights,
        knn_weights,
        nearest_neighbour_band_m,
        queen_weights,
    )

_HOMES = {
    "EMERGING_CLASSES": "emerging",
    "HOTSPOT_LABELS": "stats",
    "METHODS": "clusters",
    "NORMALISE": "getis_ord",
    "OUTLINES": "clusters",
    "WEIGHTS": "weights",
    "change_test": "emerging",
    "classify_emerging": "emerging",
    "cluster_labels": "clusters",
    "count_points": "cells",
    "dbscan_labels": "dbscan",
    "density_clusters": "clusters",
    "distance_band_weights": "weights",
    "emerging_hotspots": "emerging",
    "gi_bins": "stats",
    "gistar": "stats",
    "gistar_cells": "getis_ord",
    "h3_cells": "cells",
    "knn_weights": "weights",
    "nearest_neighbour_band_m": "weights",
    "p_two_sided": "stats",
    "queen_weights": "weights",
    "square_cells": "cells",
    "street_length_m": "cells",
    "summarise_clusters": "clusters",
}

__all__ = [
    "EMERGING_CLASSES",
    "HOTSPOT_LABELS",
    "METHODS",
    "NORMALISE",
    "OUTLINES",
    "WEIGHTS",
    "change_test",
    "classify_emerging",
    "cluster_labels",
    "count_points",
    "dbscan_labels",
    "density_clusters",
    "distance_band_weights",
    "emerging_hotspots",
    "gi_bins",
    "gistar",
    "gistar_cells",
    "h3_cells",
    "knn_weights",
    "nearest_neighbour_band_m",
    "p_two_sided",
    "queen_weights",
    "square_cells",
    "street_length_m",
    "summarise_clusters",
]

__getattr__, __dir__ = lazy_face(__name__, _HOMES)
