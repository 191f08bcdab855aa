"""Reads of notifications: a user reads their own and nobody else's."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from gridmap.notifications.models import Notification


def notifications_of(user: Any) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_count(user: Any) -> int:
    """One COUNT on the (recipient, read_at) index."""
    return notifications_of(user).filter(read_at__isnull=True).count()
