"""The intake of problems: the only place a problem is inserted.

``problem_intake`` (one report: the API, the report page, Open311) and ``problems_place`` /
``problems_insert`` (files, through the import engine) decide where a problem belongs and what
it links to in Python (``nearby``), and write it with its ``report`` event by the writer the
database's features allow (``features``, ``write``).
"""

from gridmap.problems.intake.batch import Held, problems_held, problems_insert, problems_place
from gridmap.problems.intake.nearby import (
    Nearby,
    duplicates_of,
    nearest_facility,
    nearest_in_rows,
    nearest_within_m,
    possible_duplicates,
    problem_nearby,
    snap_distance_m,
)
from gridmap.problems.intake.service import Intake, problem_create, problem_intake

__all__ = [
    "Held",
    "Intake",
    "Nearby",
    "duplicates_of",
    "nearest_facility",
    "nearest_in_rows",
    "nearest_within_m",
    "possible_duplicates",
    "problem_create",
    "problem_intake",
    "problem_nearby",
    "problems_held",
    "problems_insert",
    "problems_place",
    "snap_distance_m",
]
