"""WSGI entry point (gunicorn gridmap.wsgi).

Once the application and every view are loaded, the objects they made (about 170k: Django, DRF,
GDAL, numpy, pandas) are moved out of the cyclic garbage collector's sight with ``gc.freeze()``.
A full collection would otherwise walk all of them — about 80 ms on the machines here, during
which no request of the process moves — and those pauses made the slowest 1 % of intake
requests. Objects made while serving requests are collected as before. Under ``--preload`` the
freeze happens before the fork, so the workers also share those pages.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 -- imports every view now, before the freeze
gc.collect()
gc.freeze()
