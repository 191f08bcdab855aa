"""Shared fixtures. Transactional tests (the browser ones) flush the database after each test,
which also removes the catalogues the data migrations seeded; ``catalogues`` puts them back."""

import pytest


@pytest.fixture
def catalogues(db):
    from gridmap.facilities.catalogue import seed_kinds
    from gridmap.facilities.models import FacilityKind
    from gridmap.problems.catalogue import seed_categories
    from gridmap.problems.models import EventCategory

    seed_kinds(FacilityKind)
    seed_categories(EventCategory, FacilityKind)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (rate-limit counters live there)."""
    from django.conf import settings

    if settings.configured:
        from django.core.cache import cache

        cache.clear()
    yield
