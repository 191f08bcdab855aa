"""Settings for the test suite: the project's settings with a fixed key and media in a temp dir."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("GRIDMAP_MEDIA_ROOT", tempfile.mkdtemp(prefix="gridmap-media-"))

from gridmap.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files come from the app folders through the finders (no collectstatic in tests).
STATIC_ROOT = tempfile.mkdtemp(prefix="gridmap-static-")
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"].endswith("spatialite"):  # noqa: F405
    # in memory, as Django's default for SQLite; said explicitly because pytest-django would
    # otherwise give each pytest-xdist worker a test database named after the file's path
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405

# Background tasks run in the caller (after its transaction commits) unless a test starts a real
# Celery worker (tests/core/test_celery_worker.py) or asks for the in-process thread.
GRIDMAP_TASKS_IN_PROCESS = "inline"
GRIDMAP_BROKER_URL = ""
