"""What the three schemathesis tests share (tests/api, tests/ogcapi, tests/open311): every check
schemathesis 4 has, and a run of every operation of a loaded document as pytest subtests.

The operations are run through ``schemathesis.pytest.lazy.get_all_tests`` rather than the
lazy ``from_fixture`` loader: that loader sets ``Function._nodeid``, which pytest 9.2 no longer has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.result import Ok
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())  # what schemathesis 4 calls "all"
__all__ = ["ALL_CHECKS", "negative_data_rejection", "positive_data_acceptance", "run_every_operation"]


def run_every_operation(schema: Any, subtests: Any, unstated: Callable[[Any], list[Any]], **call: Any) -> int:
    """Every operation of ``schema`` with every check, less those ``unstated(case)`` names for a
    case (a rule the document can state only in words); the number of operations run. The
    examples are the same in every run (derandomized, no example database), so a pass repeats."""
    schema.config.generation.update(deterministic=True, database="none")

    def check(case: Any) -> None:
        case.call_and_validate(checks=ALL_CHECKS, excluded_checks=unstated(case), **call)

    found = 0
    settings = hsettings(deadline=None, suppress_health_check=list(HealthCheck))
    for result in get_all_tests(schema=schema, test_func=check, settings=settings, given_kwargs={}):
        assert isinstance(result, Ok), result.err()
        operation, test = result.ok()
        found += 1
        with subtests.test(operation.label):
            test()
    return found
