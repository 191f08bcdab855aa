"""The API tests' small town (``tests.api.conftest``), with problems and a street, for the OGC API."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString

from gridmap.geography.models import Street
from tests.api.conftest import SPOT, SPOT2, SPOT3, as_user, english, fresh_code_books, report, town  # noqa: F401
from tests.factories import LAT0, LON0


@pytest.fixture
def ogc_town(town):  # noqa: F811
    """``town`` with seven problems (five in grid 1: a hotspot; one in grid 2, one in community 2)
    and a street."""
    for _ in range(5):
        report(town, SPOT)
    report(town, SPOT2)
    report(town, SPOT3)
    Street.objects.create(
        geom=LineString((LON0, LAT0 + 0.001), (LON0 + 0.008, LAT0 + 0.001), srid=4326),
        name="古里路", highway="residential", length_m=700.0,
    )  # fmt: skip
    return town
