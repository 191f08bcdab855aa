"""gridmap: the Django project (settings, URLs and one app per part of the domain)."""

# pyproj's wheel carries its own PROJ and SQLite libraries. Loaded after Django has opened a
# SpatiaLite connection (the system SQLite with mod_spatialite), the process aborts at exit with
# "double free"; loaded first, the two coexist. Every entry point (manage.py, WSGI, tests)
# imports this package before settings, so this import comes first.
import pyproj  # noqa: F401

# shapely's wheel carries its own GEOS; if Django's ctypes load of the system GEOS comes first,
# shapely's WKB writer later refuses with "WKB output dimension must be 2 or 3". Load it first.
import shapely  # noqa: F401,E402
