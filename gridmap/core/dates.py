"""Calendar helpers every room uses: months and the local midnight that starts a day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the active time zone (aware)."""
    return timezone.make_aware(datetime.combine(day, time.min))
