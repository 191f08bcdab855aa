"""Running the coverage refresh in a test, in the test's transaction (what the schedule runs)."""

from __future__ import annotations

from typing import Any


def refresh_now(**kwargs: Any) -> dict[str, Any]:
    from gridmap.analysis.tasks import refresh_coverage

    return refresh_coverage(lambda *_, **__: None, **kwargs)
