"""The tables behind the geography kinds of change stamp (gridmap.core.stamps).

``areas``: where a point falls (the codes, boundaries and community of grids and communities),
for the in-memory locator; one stamp for the whole database. ``grids``: every change of the
administrative areas and grids, including their responsible people. ``buildings`` and
``streets``: their rows. Towns are subdistricts (街道/镇); streets have none (one stamp).
"""

from gridmap.core.stamps import watch
from gridmap.geography.models import Building, Community, District, Grid, Street, Subdistrict
from gridmap.geography.stamp import KIND as AREAS
from gridmap.geography.stamp import LOCATING_COLUMNS

GRID_TOWN = "community__subdistrict"

watch(AREAS, Grid, columns=(*LOCATING_COLUMNS, "community"))
watch(AREAS, Community, columns=LOCATING_COLUMNS)
watch("grids", District)
watch("grids", Subdistrict, towns=("pk",))
watch("grids", Community, towns=("subdistrict",))
watch("grids", Grid, towns=(GRID_TOWN,))
watch("grids", Grid.direct_responsible.through, towns=(f"grid__{GRID_TOWN}",))
watch("buildings", Building, towns=("community__subdistrict", f"grid__{GRID_TOWN}"))
watch("streets", Street)
