"""Entry point of the Celery worker and beat (``gridmap.core.celery_app`` builds the app):

celery -A gridmap.celery worker --concurrency 2     # deploy/gridmap-worker.service
celery -A gridmap.celery beat                       # deploy/gridmap-beat.service
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
django.setup()

from gridmap.core.celery_app import celery_app  # noqa: E402

app = celery_app()
