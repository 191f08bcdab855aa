"""The deliveries on a real Celery worker (a process the test starts, against a real Redis and
the test's PostGIS database): a step taken in the web process reaches the webhook receiver from
the worker, once, even when the task is sent to the worker twice."""

from __future__ import annotations

import pytest
from django.conf import settings

from gridmap.core import jobs
from gridmap.notifications.models import Delivery
from tests.core.test_celery_worker import broker, start, stop, wait_for, worker_args  # noqa: F401
from tests.notifications.conftest import SECRET, notify_settings

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgis"),
    reason="PostGIS only: a worker process cannot open the in-memory SQLite test database",
)


def test_a_worker_delivers_each_notification_once(transactional_db, catalogues, settings, broker,  # noqa: F811
                                                  receiver_factory):  # fmt: skip
    from gridmap.accounts.models import Role
    from gridmap.problems.intake import problem_create
    from gridmap.problems.models import EventCategory
    from tests.factories import LAT0, LON0, grid, region_tree, user

    receiver = receiver_factory()
    notify_settings(settings, webhook_url=receiver.url)
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    worker = start(worker_args(), broker, GRIDMAP_NOTIFY_WEBHOOK_URL=receiver.url,
                   GRIDMAP_NOTIFY_WEBHOOK_SECRET=SECRET)  # fmt: skip
    try:
        category = EventCategory.objects.get(code="0301")
        problem_create(
            lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category, reporter=user("r", Role.REPORTER)
        )
        delivery = Delivery.objects.get()
        wait_for(lambda: Delivery.objects.filter(state=Delivery.State.SENT).exists(), timeout_s=60,
                 what="the delivery", procs=[worker])  # fmt: skip
        jobs.dispatch("notifications.deliver", delivery_ids=[delivery.pk])  # sent again
        jobs.dispatch("notifications.deliver", delivery_ids=[delivery.pk])
        marker = jobs.submit("core.jobs_cleanup")  # runs after them on the one worker
        wait_for(lambda: type(marker).objects.filter(pk=marker.pk, state="done").exists(), timeout_s=60,
                 what="the marker job", procs=[worker])  # fmt: skip
    finally:
        output = stop(worker)
    assert len(receiver.accepted) == 1, output[-3000:]
    seen = receiver.accepted[0]
    assert seen["json"]["recipient"]["username"] == "leader" and seen["json"]["delivery"] == delivery.pk
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.state == Delivery.State.SENT
