"""Background tasks of the notifications (``gridmap.core.jobs``)."""

from __future__ import annotations

from typing import Any

from gridmap.core.jobs import Progress, task
from gridmap.notifications import delivery, record


@task("notifications.deliver")
def deliver(progress: Progress, delivery_ids: list[int], **_: Any) -> dict[str, Any]:
    result = delivery.deliver(delivery_ids)
    progress(1, 1, f"{result['sent']} sent")
    return result


@task("notifications.retry_due")
def retry_due(progress: Progress, **_: Any) -> dict[str, Any]:
    result = delivery.deliver_due()
    progress(1, 1, f"{result['sent']} sent")
    return result


@task("notifications.lookback_reminders")
def lookback_reminders(progress: Progress, **_: Any) -> dict[str, int]:
    told = record.lookback_reminders()
    progress(1, 1, f"{told} told")
    return {"told": told}


@task("notifications.cleanup")
def cleanup(progress: Progress, **_: Any) -> dict[str, int]:
    removed = record.forget_old()
    progress(1, 1, f"{removed} removed")
    return {"removed": removed}
