"""The tables behind the ``problems`` change stamp (gridmap.core.stamps): problems by the town of
their community and of their grid, and the event categories every town shares. ``categories``
alone is the stamp of the categories (the code books and the intake's active categories), so
that reports do not renew it.
"""

from gridmap.core.stamps import watch
from gridmap.problems.models import EventCategory, Problem, ProblemRating

watch("problems", EventCategory)
watch("problems", Problem, towns=("community__subdistrict", "grid__community__subdistrict"))
watch("categories", EventCategory)
# a satisfaction rating moves the evaluation of the rated case's town
watch(
    "problems",
    ProblemRating,
    towns=("problem__community__subdistrict", "problem__grid__community__subdistrict"),
)
