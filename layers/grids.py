"""Unit grids (单元网格): quality check and generation.

A facade over ``layers.grid_check`` (``check_grids``) and ``layers.grid_partition``
(``partition_community``), so callers import both from one place.
"""

from layers.grid_check import KINDS, check_grids, polsby_popper
from layers.grid_partition import partition_community

__all__ = ["KINDS", "check_grids", "partition_community", "polsby_popper"]
