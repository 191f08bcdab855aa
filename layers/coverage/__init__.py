"""Coverage of buildings and streets by facilities.

- within a service radius, straight or walking: ``building_coverage``, per-grid ``gap_table``,
  ``nearest_straight_metric`` (:mod:`layers.coverage.buildings`);
- the uncovered part of each grid as polygons: ``uncovered_area`` (:mod:`layers.coverage.area`);
- spacing along streets: ``spacing_gaps`` (:mod:`layers.coverage.spacing`);
- curb ramps, tactile paving, accessible parking (:mod:`layers.coverage.access`).
"""

from layers.coverage.access import accessible_parking, curb_ramp_gaps, tactile_defects
from layers.coverage.area import uncovered_area
from layers.coverage.buildings import (
    METRICS,
    building_coverage,
    gap_table,
    nearest_straight,
    nearest_straight_metric,
)
from layers.coverage.spacing import BIN_SPACING_M, spacing_gaps

__all__ = [
    "BIN_SPACING_M",
    "METRICS",
    "accessible_parking",
    "building_coverage",
    "curb_ramp_gaps",
    "gap_table",
    "nearest_straight",
    "nearest_straight_metric",
    "spacing_gaps",
    "tactile_defects",
    "uncovered_area",
]
