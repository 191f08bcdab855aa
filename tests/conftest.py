"""Shared fixtures. Transactional tests (the browser ones) flush the database after each test,
which also removes the catalogues the data migrations seeded; ``catalogues`` puts them back.

``demo_town`` is the demo town (fixtures/demo_town, through ``load_demo``), loaded once per test
session inside a transaction that stays open while the tests that use it run, each in its own
savepoint rolled back after it (pytest-django's ``db``). Those tests are run one after another
(``pytest_collection_modifyitems``) and the town is rolled back as soon as the next test does not
use it (``pytest_runtest_teardown``), so every other test still starts from an empty database.
Transactional tests cannot use it: they commit and flush. Under pytest-xdist each worker that
gets some of these tests loads the town once (the order within a worker is kept).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests (hostile inputs): "ci" is the suite's default, a fixed sequence so that a pass is
# repeatable; HYPOTHESIS_PROFILE=thorough tries many more inputs (for the figures in a closing note).
_PROFILE = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile("ci", max_examples=40, derandomize=True, database=None, **_PROFILE)
hypothesis_settings.register_profile("thorough", max_examples=1000, **_PROFILE)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DEMO_SESSION = "_demo_town_session"


class DemoTown:
    """The demo town of this session: ``output`` is what ``load_demo`` printed."""

    def __init__(self) -> None:
        self.output = ""
        self._outer: Any = None
        self._blocker: Any = None

    @property
    def loaded(self) -> bool:
        return self._outer is not None

    def load(self, blocker: Any) -> None:
        from django.core.management import call_command
        from django.db import transaction

        self._blocker = blocker
        with blocker.unblock():
            self._outer = transaction.atomic()
            self._outer.__enter__()
            out = io.StringIO()
            try:
                call_command("load_demo", stdout=out)
            except BaseException:
                self.unload()
                raise
            self.output = out.getvalue()
            _network_cache_clear()

    def unload(self) -> None:
        if self._outer is None:
            return
        from django.db import transaction

        outer, self._outer = self._outer, None
        with self._blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            _network_cache_clear()


def _network_cache_clear() -> None:
    # the street network is cached in process memory; the demo's streets come and go with it
    from gridmap.analysis.network_cache import network_cache_clear

    network_cache_clear()


_DEMO = DemoTown()


@pytest.fixture(scope="session")
def _demo_town_session(django_db_setup: None, django_db_blocker: Any) -> Iterator[DemoTown]:
    _DEMO.load(django_db_blocker)
    yield _DEMO
    _DEMO.unload()


@pytest.fixture
def demo_town(request: pytest.FixtureRequest, _demo_town_session: DemoTown, db: None) -> DemoTown:
    """The demo town, shared by every test that asks for it; what a test writes is rolled back."""
    marker = request.node.get_closest_marker("django_db")
    if {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker and marker.kwargs.get("transaction")
    ):
        pytest.fail("demo_town is loaded inside a transaction: a transactional test cannot use it")
    if not _demo_town_session.loaded:
        pytest.fail("demo_town was rolled back already: its tests must run one after another")
    return _demo_town_session


def uses_demo_town(item: pytest.Item) -> bool:
    return DEMO_SESSION in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests on the demo town move together, to where the first of them was (pytest-django has
    already put the database tests first), so the town is loaded once."""
    demo = [item for item in items if uses_demo_town(item)]
    if not demo:
        return
    first = items.index(demo[0])
    rest = [item for item in items if not uses_demo_town(item)]
    items[:] = rest[:first] + demo + rest[first:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield  # the test's own fixtures are torn down first (its savepoint rolled back)
    if _DEMO.loaded and (nextitem is None or not uses_demo_town(nextitem)):
        _DEMO.unload()
    return result


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


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """Django as a WSGI application on the test database for an in-process client (schemathesis):
    the connection is not closed at each request's end (it holds the test's transaction), each
    response is closed as a WSGI server closes it, and the test fails if a request it made was
    left unfinished (``tests.wsgi_server``). The request logs of thousands of requests are left
    unwritten (a quarter of a schemathesis run)."""
    import logging

    from django.core.handlers.wsgi import WSGIHandler

    from tests.wsgi_server import ServedWSGI, requests_in_the_test_transaction

    quiet = [logging.getLogger(name) for name in ("gridmap.request", "django.request")]
    with requests_in_the_test_transaction():
        for logger in quiet:
            logger.disabled = True
        try:
            yield ServedWSGI(WSGIHandler())
        finally:
            for logger in quiet:
                logger.disabled = False
