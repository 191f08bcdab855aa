"""Sending a notification's deliveries on the workers, each at most once.

A delivery is taken with one conditional UPDATE (waiting and due → sending, one more attempt):
of two runs of the task, or two workers, exactly one takes it, and a delivery sent is never
taken again. A failed attempt is recorded (its error, its count) and the delivery waits
``RETRY_BASE_S × 2^(attempts-1)`` (at most six hours) for ``deliver_due``, which the schedule
runs every minute; after ``MAX_ATTEMPTS`` it stays failed. A worker that died while sending leaves
the delivery "sending": after ``STALE_S`` it is taken again (the receiver may then see it twice;
``X-Gridmap-Delivery`` lets it tell).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation

from gridmap.notifications.channels import sender
from gridmap.notifications.models import Delivery
from gridmap.notifications.record import config
from gridmap.notifications.text import notification_text

log = logging.getLogger("gridmap.notifications")
STALE_S = 600
MAX_DELAY_S = 6 * 3600


def _due(now: datetime) -> Q:
    stale = now - timedelta(seconds=STALE_S)
    return Q(state=Delivery.State.PENDING, next_attempt_at__lte=now) | Q(
        state=Delivery.State.SENDING, claimed_at__lt=stale
    )


def deliver_one(delivery_id: int, now: datetime | None = None) -> str | None:
    """Send one delivery if it is due and nobody else took it; its state after, or None."""
    now = now or timezone.now()
    taken = (
        Delivery.objects.filter(_due(now), pk=delivery_id)
        .update(state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )  # fmt: skip
    if not taken:
        return None
    delivery = Delivery.objects.select_related(
        "notification__recipient__profile", "notification__problem__category"
    ).get(pk=delivery_id)
    cfg = config()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            text = notification_text(delivery.notification)
        url = cfg.get("SITE_URL", "").rstrip("/") + reverse(
            "problem-detail", args=[delivery.notification.problem_id]
        )
        sender(delivery.channel, cfg).send(delivery, text, url)
    except Exception as exc:  # recorded on the delivery; tried again later
        log.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.channel, exc)
        return _failed(delivery, str(exc) or type(exc).__name__, now)
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.SENT, sent_at=timezone.now(),
                                                   last_error="")  # fmt: skip
    return Delivery.State.SENT


def _failed(delivery: Delivery, error: str, now: datetime) -> str:
    cfg = config()
    if delivery.attempts >= int(cfg.get("MAX_ATTEMPTS", 6)):
        state, next_at = Delivery.State.FAILED, now
    else:
        delay = min(MAX_DELAY_S, float(cfg.get("RETRY_BASE_S", 60)) * 2 ** (delivery.attempts - 1))
        state, next_at = Delivery.State.PENDING, now + timedelta(seconds=delay)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=state, last_error=error[:300], next_attempt_at=next_at
    )
    return state


def deliver(delivery_ids: list[int], now: datetime | None = None) -> dict[str, Any]:
    states = [deliver_one(int(i), now) for i in delivery_ids]
    return {"sent": states.count(Delivery.State.SENT), "skipped": states.count(None)}


def deliver_due(now: datetime | None = None, limit: int = 500) -> dict[str, Any]:
    """Try again every delivery that is due (a failed attempt's wait is over)."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(_due(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver(ids, now)
