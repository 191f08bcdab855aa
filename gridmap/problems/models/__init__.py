"""Problems and the closed loop; one module per concern, re-exported here for Django."""

from gridmap.problems.models.catalogue import EventCategory, EventClass
from gridmap.problems.models.citizen import ProblemRating
from gridmap.problems.models.loop import ExtensionRequest, PositiveSite, PositiveSiteEvent, ProblemEvent
from gridmap.problems.models.problem import (
    DONE_STATUSES,
    OPEN_STATUSES,
    Problem,
    ProblemPhoto,
    Status,
    photo_path,
)

__all__ = [
    "DONE_STATUSES",
    "OPEN_STATUSES",
    "EventCategory",
    "EventClass",
    "ExtensionRequest",
    "PositiveSite",
    "PositiveSiteEvent",
    "Problem",
    "ProblemEvent",
    "ProblemPhoto",
    "ProblemRating",
    "Status",
    "photo_path",
]
