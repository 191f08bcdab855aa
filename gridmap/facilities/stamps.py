"""The tables behind the ``facilities`` change stamp (gridmap.core.stamps): facilities by the
town of their grid, and their kinds (radii, names), which every town shares.

Readers that take facilities by distance (coverage across a town's edge) read the whole kind's
stamp, not a town's.
"""

from gridmap.core.stamps import watch
from gridmap.facilities.models import Facility, FacilityKind

watch("facilities", FacilityKind)
watch("facilities", Facility, towns=("grid__community__subdistrict",))
