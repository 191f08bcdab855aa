"""No network while a file is read: GDAL and PROJ are kept from fetching anything.

A file can name URLs that GDAL would fetch while merely opening it (a GeoJSON ``crs`` of type
``link``: a request to any address the server can reach, even on a dry run). Such members are
refused before GDAL opens the file (:func:`layers.io.sources.check_geojson_crs`); this is the
second wall, for whatever that check does not know. GDAL 3.6 (Debian 12) has no switch that
turns its HTTP client off, so every request it would make is sent to a proxy that cannot be
reached: ``GDAL_HTTP_PROXY``/``GDAL_HTTPS_PROXY`` point at a closed local port, with no retry
and a one-second timeout. libcurl skips a proxy for the hosts in ``no_proxy``, so that
variable is cleared while the file is read. PROJ's own network (transformation grids from its
CDN) is switched off with ``PROJ_NETWORK=OFF`` and, for pyproj, ``set_network_enabled(False)``.

The settings are process-wide for the duration of the read (imports run in their own command
process), and the previous values are put back afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pyogrio
import pyproj.network

# Port 1 on the loopback address: nothing listens there, so a connection is refused at once.
DEAD_PROXY = "http://127.0.0.1:1"
GDAL_OFFLINE = {
    "GDAL_HTTP_PROXY": DEAD_PROXY,
    "GDAL_HTTPS_PROXY": DEAD_PROXY,
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".none",
}
CLEARED_ENV = ("no_proxy", "NO_PROXY")
SET_ENV = {"PROJ_NETWORK": "OFF"}


@contextmanager
def gdal_offline() -> Iterator[None]:
    """Within the block GDAL and PROJ make no network requests (see the module's note)."""
    saved_config = {name: pyogrio.get_gdal_config_option(name) for name in GDAL_OFFLINE}
    saved_env = {name: os.environ.get(name) for name in (*CLEARED_ENV, *SET_ENV)}
    saved_proj = pyproj.network.is_network_enabled()
    pyogrio.set_gdal_config_options(GDAL_OFFLINE)
    for name in CLEARED_ENV:
        os.environ.pop(name, None)
    os.environ.update(SET_ENV)
    pyproj.network.set_network_enabled(False)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(saved_config)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        pyproj.network.set_network_enabled(saved_proj)
