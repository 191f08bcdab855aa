"""Unit grids (单元网格): quality check and generation.

The public face of ``layers.grids.check`` (``check_grids``) and ``layers.grids.partition``
(``partition_community``), so callers import both from one place.
"""

from layers.grids.check import KINDS, check_grids, polsby_popper
from layers.grids.partition import partition_community

__all__ = ["KINDS", "check_grids", "partition_community", "polsby_popper"]
