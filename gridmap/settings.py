"""Settings for gridmap, read from the environment.

DATABASE_URL   spatialite:///path (default: data/gridmap.sqlite3) or postgis://user@host:port/db
SECRET_KEY     required unless DEBUG is on (then one is generated into data/.secret_key)
DEBUG          1/true to turn on; off by default
ALLOWED_HOSTS  comma-separated; defaults to localhost names when DEBUG is on
GRIDMAP_SERVICE_AREA  "minlon,minlat,maxlon,maxlat": positions outside it are refused
GRIDMAP_CACHE_URL  redis://host:6379/0 for a cache shared by every worker (rate limits); default:
               per-process memory, right for one process (runserver) only
GRIDMAP_TRUSTED_PROXIES  reverse proxies whose X-Forwarded-For/-Proto are believed (see docs/operations.md)
GRIDMAP_LOGIN_LIMITS  failed logins before a wait, "pair:5,account:20,address:100,minutes:15"
GRIDMAP_BROKER_URL  redis://host:6379/1: background work (analysis refreshes, exports, imports,
               the schedule) on Celery workers; default: none, tasks run in the serving process
GRIDMAP_SCHEDULE  "entry=seconds,...": change how often a periodic job runs (0: never)
GRIDMAP_NOTIFY_WEBHOOK_URL  a messaging gateway that notifications are POSTed to (signed with
               GRIDMAP_NOTIFY_WEBHOOK_SECRET); EMAIL_HOST (and Django's EMAIL_* settings) for email
GRIDMAP_REPLICA_URLS  comma-separated postgis:// URLs of streaming replicas: GET/HEAD reads go there
               (GRIDMAP_REPLICA_MAX_LAG_S, GRIDMAP_REPLICA_CHECK_S, GRIDMAP_PRIMARY_AFTER_WRITE_S)
GRIDMAP_PGBOUNCER  "transaction" behind PgBouncer in transaction mode (GRIDMAP_DB_PREPARED=0 then)
GRIDMAP_TILES  tile source for maps: "none" (default), an XYZ URL template, "tianditu:KEY",
               "folder:/path", "mbtiles:/path.mbtiles", "gcj02:<source>" (see gridmap/core/basemap.py)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from gridmap.core.env import env_flag

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("GRIDMAP_DATA_DIR", BASE_DIR / "data"))


DEBUG = env_flag("DEBUG")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    path = DATA_DIR / ".secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "gridmap.core",
    "gridmap.accounts",
    "gridmap.geography",
    "gridmap.facilities",
    "gridmap.problems",
    "gridmap.imports",
    "gridmap.maps",
    "gridmap.api",
    "gridmap.open311",
    "gridmap.evaluation",
    "gridmap.analysis",
    "gridmap.dashboard",
    "gridmap.notifications",
    "gridmap.tensteps",
    "gridmap.patrols",
    "gridmap.surveys",
    "gridmap.campaign",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gridmap.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gridmap.urls"
# A failed CSRF check answers in the format of what was asked (API JSON, Open311, a page).
CSRF_FAILURE_VIEW = "gridmap.urls.csrf_failure"
WSGI_APPLICATION = "gridmap.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gridmap" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gridmap.notifications.context_processors.unread",
            ],
        },
    },
]

_default_db = f"spatialite:///{DATA_DIR / 'gridmap.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("spatialite"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # -- SpatiaLite under concurrent use (readers and writers at once) ---------------------------
    # journal_mode=WAL (kept in the file once set): readers never block a writer and a writer
    # never blocks readers, so a slow page no longer makes another user's login or 立案 fail.
    # timeout (the busy timeout, seconds): a writer waits for the one other writer instead of
    # failing at once with "database is locked". transaction_mode IMMEDIATE: every atomic() block
    # (each one here writes) takes the write lock at its BEGIN and waits there within the busy
    # timeout; with the default DEFERRED a block that read first fails at once when its read must
    # become a write while another writer is at work, whatever the timeout. SpatiaLite loads its
    # extension after these run (its backend's get_new_connection); synchronous stays FULL.
    # Backups must copy the database with SQLite's backup API (or the -wal file with it).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL",
        "transaction_mode": "IMMEDIATE",
    }
elif not DATABASES["default"]["ENGINE"].endswith("postgis"):
    raise ImproperlyConfigured("DATABASE_URL must use spatialite:// or postgis://")

# -- PostGIS: timeouts, keepalives and reconnection ----------------------------------------------
# A database that is down, frozen or too slow must not hold a worker: connecting gives up after
# GRIDMAP_DB_CONNECT_TIMEOUT seconds, PostgreSQL cancels a statement after
# GRIDMAP_DB_STATEMENT_TIMEOUT (below gunicorn's 30 s worker timeout; 0 = no limit; manage.py
# commands other than runserver take GRIDMAP_DB_COMMAND_STATEMENT_TIMEOUT instead, none unless set,
# so a long migration or import is not cancelled), and a session left idle inside
# a transaction ends after GRIDMAP_DB_IDLE_IN_TRANSACTION_TIMEOUT (its locks freed). The client
# keeps the same deadlines itself (gridmap/core/dbwait.py: a frozen server sends no cancel) and
# the request answers 503 with Retry-After (gridmap/core/faults.py). TCP keepalives notice a
# vanished server on an idle connection; a connection is checked before each request reuses it
# (CONN_HEALTH_CHECKS), so the service recovers by itself when the database is back. They are set
# as startup parameters (connection options), not by a SET, and behind PgBouncer on the role.
GRIDMAP_DB_CONNECT_TIMEOUT = int(os.environ.get("GRIDMAP_DB_CONNECT_TIMEOUT", "5"))
GRIDMAP_DB_STATEMENT_TIMEOUT = float(os.environ.get("GRIDMAP_DB_STATEMENT_TIMEOUT", "20"))
GRIDMAP_DB_IDLE_IN_TRANSACTION_TIMEOUT = float(
    os.environ.get("GRIDMAP_DB_IDLE_IN_TRANSACTION_TIMEOUT", "300")
)
# -- Replicas and PgBouncer (gridmap/core/dbrouter.py, gridmap/core/dbsettings.py) ---------------
# GRIDMAP_REPLICA_URLS: streaming replicas of the primary (DATABASE_URL), comma-separated postgis://
# URLs. Reads of GET/HEAD requests go to one of them (pinned for the request) when it answers and
# lags at most GRIDMAP_REPLICA_MAX_LAG_S seconds (checked once per GRIDMAP_REPLICA_CHECK_S seconds
# per process); everything else, any atomic block, and the next reads of a client that wrote
# within GRIDMAP_PRIMARY_AFTER_WRITE_S seconds (a signed cookie) use the primary. Migrations run on
# the primary only. GRIDMAP_PGBOUNCER=transaction: connections go through PgBouncer in transaction
# mode (no session state between transactions: no prepared statements unless GRIDMAP_DB_PREPARED=1,
# no server-side cursors, no startup options: set the timeouts on the role, docs/operations.md).
from gridmap.core import dbsettings  # noqa: E402

GRIDMAP_PGBOUNCER = dbsettings.pgbouncer_mode(os.environ.get("GRIDMAP_PGBOUNCER", ""))
GRIDMAP_DB_PREPARED = env_flag("GRIDMAP_DB_PREPARED", GRIDMAP_PGBOUNCER != "transaction")
GRIDMAP_REPLICA_MAX_LAG_S = float(os.environ.get("GRIDMAP_REPLICA_MAX_LAG_S", "5"))
GRIDMAP_REPLICA_CHECK_S = float(os.environ.get("GRIDMAP_REPLICA_CHECK_S", "5"))
GRIDMAP_PRIMARY_AFTER_WRITE_S = int(
    os.environ.get(
        "GRIDMAP_PRIMARY_AFTER_WRITE_S", str(int(GRIDMAP_REPLICA_MAX_LAG_S + GRIDMAP_REPLICA_CHECK_S + 2))
    )
)
GRIDMAP_REPLICAS: list[str] = []
if DATABASES["default"]["ENGINE"].endswith("postgis"):
    DATABASES.update(
        dbsettings.replica_databases(os.environ.get("GRIDMAP_REPLICA_URLS", ""), conn_max_age=60)
    )
    GRIDMAP_REPLICAS = [alias for alias in DATABASES if alias != "default"]
    for _db in DATABASES.values():
        dbsettings.postgis_options(
            _db,
            connect_s=GRIDMAP_DB_CONNECT_TIMEOUT,
            statement_s=GRIDMAP_DB_STATEMENT_TIMEOUT,
            idle_s=GRIDMAP_DB_IDLE_IN_TRANSACTION_TIMEOUT,
            pgbouncer=GRIDMAP_PGBOUNCER,
        )
elif os.environ.get("GRIDMAP_REPLICA_URLS", "").strip():
    raise ImproperlyConfigured("GRIDMAP_REPLICA_URLS needs a postgis:// DATABASE_URL")
if GRIDMAP_REPLICAS:
    DATABASE_ROUTERS = ["gridmap.core.dbrouter.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(0, "gridmap.core.dbrouter.ReadRoutingMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gridmap" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "gridmap" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("GRIDMAP_MEDIA_ROOT", DATA_DIR / "media"))

# Uploads: bounded so a hostile body is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest layer the import page accepts (MB); larger files: manage.py import_layer.
GRIDMAP_IMPORT_MAX_MB = int(os.environ.get("GRIDMAP_IMPORT_MAX_MB", "1024"))

if not DEBUG:
    SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Operations: proxies, login throttling, request log, security headers -------------------
# (docs/operations.md). X-Forwarded-For/-Proto count only from GRIDMAP_TRUSTED_PROXIES
# (addresses or networks, comma-separated; none by default): gridmap.core.client strips them from
# every other request, and only then is SECURE_PROXY_SSL_HEADER set.
from gridmap.core.client import parse_proxies  # noqa: E402
from gridmap.core.throttle import parse_limits  # noqa: E402

GRIDMAP_TRUSTED_PROXIES = [str(n) for n in parse_proxies(os.environ.get("GRIDMAP_TRUSTED_PROXIES", ""))]
if GRIDMAP_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # a local health probe speaks plain HTTP
# Failed logins per account+address, account and address within a window (gridmap.core.throttle),
# counted in the cache: GRIDMAP_CACHE_URL must name a Redis when more than one worker runs.
GRIDMAP_LOGIN_LIMITS = parse_limits(os.environ.get("GRIDMAP_LOGIN_LIMITS", ""))
AUTHENTICATION_BACKENDS = ["gridmap.accounts.backends.ThrottledModelBackend"]
# "on" (default), "report-only" or "off" (gridmap.core.csp)
GRIDMAP_CSP = os.environ.get("GRIDMAP_CSP", "on").strip().lower()
if GRIDMAP_CSP not in {"on", "report-only", "off"}:
    raise ImproperlyConfigured("GRIDMAP_CSP must be on, report-only or off")
MIDDLEWARE = [
    "gridmap.core.requestlog.RequestLogMiddleware",  # outermost: times and logs every request
    "gridmap.core.client.ForwardedHeadersMiddleware",  # before anything reads X-Forwarded-*
    "gridmap.core.csp.ContentSecurityPolicyMiddleware",
    *MIDDLEWARE,
]
# One JSON line per request on stderr (gridmap.core.requestlog), secrets redacted; off with
# GRIDMAP_REQUEST_LOG=0.
LOGGING["formatters"] = {"bare": {"format": "%(message)s"}}
LOGGING["handlers"]["requests"] = {"class": "logging.StreamHandler", "formatter": "bare"}
LOGGING["loggers"] = {
    "gridmap.request": {
        "handlers": ["requests"],
        "level": "INFO" if env_flag("GRIDMAP_REQUEST_LOG", True) else "WARNING",
        "propagate": False,
    }
}
# --- end of operations ------------------------------------------------------------------------

# Open311 GeoReport v2: anonymous readers see requests only when this is on (no photos, never
# the reporter); POSTs need an api_key. Rates are per minute, in the shared cache.
GRIDMAP_OPEN311_PUBLIC_READ = env_flag("GRIDMAP_OPEN311_PUBLIC_READ")
GRIDMAP_OPEN311_DEDUP_SECONDS = int(os.environ.get("GRIDMAP_OPEN311_DEDUP_SECONDS", "120"))
# OGC API - Features: collections a request without a user may read whole (comma list, e.g.
# "streets"); none by default: anonymous clients see nothing.
OGCAPI_PUBLIC_COLLECTIONS = [
    c.strip() for c in os.environ.get("GRIDMAP_OGCAPI_PUBLIC", "").split(",") if c.strip()
]

# The shared cache, background work (broker, tasks, the schedule) and notifications (email, a
# gateway): gridmap/core/worksettings.py reads them from the environment.
from gridmap.core.worksettings import (  # noqa: E402, F401 (settings Django reads)
    CACHES,
    DEFAULT_FROM_EMAIL,
    EMAIL_HOST,
    EMAIL_HOST_PASSWORD,
    EMAIL_HOST_USER,
    EMAIL_PORT,
    EMAIL_TIMEOUT,
    EMAIL_USE_SSL,
    EMAIL_USE_TLS,
    GRIDMAP_BROKER_URL,
    GRIDMAP_NOTIFY,
    GRIDMAP_SCHEDULE,
    GRIDMAP_TASKS_IN_PROCESS,
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON bodies bounded in depth and size (a 400/413, never a RecursionError): gridmap.core.jsonbody
    "DEFAULT_PARSER_CLASSES": ["gridmap.core.jsonbody.BoundedJSONParser"],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gridmap API",
    "DESCRIPTION": (
        "Grids, buildings, facilities and problems of the closed loop (GeoJSON, EPSG:4326).\n\n"
        '**Errors.** Every error, 4xx and 5xx alike, is JSON `{"detail": "..."}` (a 400 may add '
        "`errors`, the messages per field). A 503 with `Retry-After` (seconds) means the database was "
        "unavailable or too slow to answer; a 500 is a fault of the server, logged there.\n\n"
        "**Retrying a report.** Give each report its own `client_uuid` (one per report, not per "
        "attempt) and, after a 503, a timeout or a broken connection, send the same body with the same "
        "`client_uuid` again after `Retry-After`. The first attempt may have been stored although you "
        "got no acknowledgement; then the retry answers 200 with that problem as it was first stored "
        "(whatever the retry's body says), otherwise 201 with the new problem. A report is never stored "
        "twice under one `client_uuid`; another user's `client_uuid` is a 409. Other writes carry no "
        "client id: before repeating a step of the loop or a photo upload, read the problem again (a "
        "step already taken answers 409 with the current status)."
    ),
    "VERSION": "1",
    # Swagger UI and ReDoc from the sidecar package's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # the GeoJSON and error schemas the views point at (gridmap.api.openapi)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gridmap.api.openapi.add_components",
    ],
}

GRIDMAP = {
    # Positions outside this lon/lat box are refused on every input path (None: anywhere).
    "SERVICE_AREA": os.environ.get("GRIDMAP_SERVICE_AREA") or None,
    # A problem links to the nearest facility of its category's kind within this many metres,
    # unless the category sets its own distance.
    "SNAP_DISTANCE_M": float(os.environ.get("GRIDMAP_SNAP_DISTANCE_M", "30")),
    "TILES": os.environ.get("GRIDMAP_TILES", "none"),
    "TILES_ATTRIBUTION": os.environ.get("GRIDMAP_TILES_ATTRIBUTION", ""),
    "TILES_SUBDOMAINS": os.environ.get("GRIDMAP_TILES_SUBDOMAINS", "abc"),
    "TILES_MAX_ZOOM": os.environ.get("GRIDMAP_TILES_MAX_ZOOM") or None,
    # A reported fix needs an after-photo taken within this many metres of the problem.
    "AFTER_PHOTO_MAX_M": float(os.environ.get("GRIDMAP_AFTER_PHOTO_MAX_M", "50")),
    "DEMO_PASSWORD": "gridmap-demo",
    # Where an empty admin map opens (lon, lat): the demo town unless configured.
    "MAP_CENTER": tuple(float(v) for v in os.environ.get("GRIDMAP_MAP_CENTER", "120.88,31.625").split(",")),
}

# A tile setting that cannot work stops the start here, naming what is wrong.
from gridmap.core.basemap import check_tiles_setting  # noqa: E402

check_tiles_setting(GRIDMAP)

# GDAL before 3.9 cannot forbid file/network access while parsing a spatial reference. We never
# hand user text to GDAL as an SRS: API input must be EPSG:4326 (a GeoJSON "crs" member is
# refused) and imports take an integer --srid only.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
