"""WSGI entry point (gunicorn gridmap.wsgi).

Once the application and every view are loaded, the objects they made (about 170k: Django, DRF,
GDAL, numpy, pandas) are moved out of the cyclic garbage collector's sight with ``gc.freeze()``.
A full collection would otherwise walk all of them — about 80 ms on the machines here, during
which no request of the process moves — and those pauses made the slowest 1 % of intake
requests. Objects made while serving requests are collected as before. Under ``--preload`` the
freeze happens before the fork, so the workers also share those pages. The street network is
built first (``network_warm``), so no worker's first route request builds it.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 -- imports every view now, before the freeze

from gridmap.analysis.network_cache import network_warm  # noqa: E402

network_warm()  # under --preload, every worker forks with the street network built
gc.collect()
gc.freeze()
