"""The campaign's own tables: inspection points (测评点位) and their checklists, and the mock
evaluations (模拟测评) scored on them. See docs/architecture.md, "The campaign"."""

from gridmap.campaign.models.points import ChecklistItem, InspectionPoint, PointType, Rule
from gridmap.campaign.models.rounds import Answer, Finding, Round, RoundPoint

__all__ = [
    "Answer",
    "ChecklistItem",
    "Finding",
    "InspectionPoint",
    "PointType",
    "Round",
    "RoundPoint",
    "Rule",
]
