"""Settings for the benchmarks: the project's settings, a throwaway database, the anchor views.

The database comes from DATABASE_URL as usual; the benchmarks create their own database next to
it (``gridmap_bench`` on PostGIS, a temporary file on SpatiaLite) and drop it afterwards, so a
dev database is never touched.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("GRIDMAP_MEDIA_ROOT", tempfile.mkdtemp(prefix="gridmap-bench-media-"))

from gridmap.settings import *  # noqa: E402,F403
from gridmap.settings import DATABASES  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.bench_urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = tempfile.mkdtemp(prefix="gridmap-bench-static-")  # whitenoise wants it to exist
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
if DATABASES["default"]["ENGINE"].endswith("postgis"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("GRIDMAP_BENCH_DB", "gridmap_bench")}
else:
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get(
            "GRIDMAP_BENCH_DB", os.path.join(tempfile.gettempdir(), "gridmap_bench.sqlite3")
        )
    }
