"""The tables behind the ``campaign`` change stamp (gridmap.core.stamps): inspection points by
the town of their grid (else of their community), and the point types and checklists every town
shares."""

from gridmap.campaign.models import ChecklistItem, InspectionPoint, PointType
from gridmap.core.stamps import watch

watch("campaign", PointType)
watch("campaign", ChecklistItem)
watch("campaign", InspectionPoint, towns=("grid__community__subdistrict", "community__subdistrict"))
