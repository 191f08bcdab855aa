"""Which area holds each point, which facility is nearest: batch placement of points.

``assign_areas`` picks the STRtree path or, from ``FAST_MIN_POINTS`` points on, the raster path
(:class:`GridLocator`); both follow the same rule and give the same answer.
"""

from layers.assign.areas import FAST_MIN_POINTS, assign_areas, assign_areas_strtree, nearest_within
from layers.assign.raster import GridLocator, assign_areas_fast, locator_for

__all__ = [
    "FAST_MIN_POINTS",
    "GridLocator",
    "assign_areas",
    "assign_areas_fast",
    "assign_areas_strtree",
    "locator_for",
    "nearest_within",
]
