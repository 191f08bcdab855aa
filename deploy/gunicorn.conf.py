"""gunicorn settings for gridmap in production (used by deploy/gridmap.service):

    .venv/bin/gunicorn --config deploy/gunicorn.conf.py gridmap.wsgi

The application is loaded once in the master (``preload_app``): a worker is forked ready in well
under a second instead of booting Django, GDAL and the analysis stack itself (8–11 s), so a lost
worker is replaced at once. Workers die with the master: each asks the kernel for SIGTERM when
its parent goes (``post_fork``), so a master killed with SIGKILL leaves no worker holding the
port and the next start binds it. ``kill -HUP <master>`` starts new workers and retires the old
ones gracefully; with the application preloaded it does not load new code: after an upgrade,
restart the service.

Read from the environment (the unit's EnvironmentFile): GRIDMAP_BIND (127.0.0.1:8000),
GRIDMAP_WORKERS (2), GRIDMAP_WORKER_CLASS (sync; gthread with GRIDMAP_THREADS), GRIDMAP_TIMEOUT
(30 s), GRIDMAP_ACCESS_LOG ("-": stdout, i.e. the journal; "" for none) and
GRIDMAP_TRUSTED_PROXIES (also gunicorn's forwarded_allow_ips).
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
chdir = str(ROOT)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")

from gridmap.core.gunicorn_log import ACCESS_FORMAT, RedactingLogger  # noqa: E402

wsgi_app = "gridmap.wsgi:application"
bind = [b.strip() for b in os.environ.get("GRIDMAP_BIND", "127.0.0.1:8000").split(",") if b.strip()]
workers = int(os.environ.get("GRIDMAP_WORKERS", "2"))
worker_class = os.environ.get("GRIDMAP_WORKER_CLASS", "sync")
threads = int(os.environ.get("GRIDMAP_THREADS", "4" if worker_class == "gthread" else "1"))
timeout = int(os.environ.get("GRIDMAP_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
preload_app = True
# a worker serves this many requests (± jitter), then is replaced: bounds slow memory growth
max_requests = int(os.environ.get("GRIDMAP_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("GRIDMAP_TRUSTED_PROXIES", "").strip() or "127.0.0.1,::1"

logger_class = RedactingLogger
accesslog = os.environ.get("GRIDMAP_ACCESS_LOG", "-") or None
access_log_format = ACCESS_FORMAT
errorlog = "-"
loglevel = os.environ.get("GRIDMAP_GUNICORN_LOG_LEVEL", "info")

PR_SET_PDEATHSIG = 1


def on_starting(server):
    if workers > 1 and not os.environ.get("GRIDMAP_CACHE_URL", "").strip():
        server.log.warning(
            "GRIDMAP_CACHE_URL is not set: each of the %d workers counts failed logins and rate "
            "limits on its own; point them all at one Redis (docs/operations.md)",
            workers,
        )


def post_fork(server, worker):
    """In the new worker: SIGTERM when the master dies, however it dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker's own parent check remains
        return
    if os.getppid() != server.pid:  # the master died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
