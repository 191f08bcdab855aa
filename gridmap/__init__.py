"""gridmap: the Django project (settings, URLs and one app per part of the domain)."""

# pyproj's wheel carries its own PROJ and SQLite libraries. Loaded after Django has opened a
# SpatiaLite connection (the system SQLite with mod_spatialite), the process aborts at exit with
# "double free"; loaded first, the two coexist. Every entry point (manage.py, WSGI, tests)
# imports this package before settings, so this import comes first.
import pyproj  # noqa: F401
