"""Suggested sites the API answers, kept in the shared cache and refreshed by the workers
(``gridmap.core.kept``).

Choosing sites for a grid or community (candidates along the streets, set cover or maximal
covering) takes about a second at city scale and depends on the buildings, facilities, streets
and areas, not on who asks: once the view has checked that the user may see the area, the kept
result of the area and parameters is everyone's. After an edit of those data the last result is
answered ("updating", with its time) while a worker chooses again.
"""

from __future__ import annotations

from typing import Any

from gridmap.analysis.siting import sites_suggest
from gridmap.core.kept import Kept, keeper
from layers.siting import SitingResult

STAMP_KINDS = ("buildings", "facilities", "streets", "grids")
TIME_LIMIT_S = 20.0


def _any_user(user: Any) -> str:
    return "area checked by the caller"


@keeper("analysis.suggestions", scope=_any_user, stamps=STAMP_KINDS)
def kept_suggestions(user: Any, params: dict[str, Any]) -> SitingResult:
    return sites_suggest(user=user, time_limit_s=TIME_LIMIT_S, **params)


def suggestion_result(*, user: Any, params: dict[str, Any]) -> Kept[SitingResult]:
    """The sites for ``params`` (kind, grid or community, best, metric, radius_m), checked by
    the caller, which has also checked that ``user`` may see the area."""
    return kept_suggestions.get(user, params)
