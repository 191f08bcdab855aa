"""Where to put new facilities: street candidates chosen by set cover or maximal covering.

The problem is built in :mod:`layers.siting.sites`; the solvers (greedy, CBC through PuLP) live
in :mod:`layers.siting.solvers`.
"""

from layers.siting.sites import (
    METHODS,
    SitingProblem,
    SitingResult,
    siting_problem,
    street_candidates,
    suggest_best,
    suggest_cover_all,
)

__all__ = [
    "METHODS",
    "SitingProblem",
    "SitingResult",
    "siting_problem",
    "street_candidates",
    "suggest_best",
    "suggest_cover_all",
]
