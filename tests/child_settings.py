"""Settings for a second process in a test (another worker): the test settings, with the cache
key prefix the test chose, so that its keys are the test's own in a shared Redis."""

import os

from tests.settings import *  # noqa: F403

CACHES["default"]["KEY_PREFIX"] = os.environ.get("GRIDMAP_TEST_CACHE_PREFIX", "")  # noqa: F405
# A Celery worker or beat started by a test takes the broker the test gives it.
GRIDMAP_BROKER_URL = os.environ.get("GRIDMAP_BROKER_URL", "")
