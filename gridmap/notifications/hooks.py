"""The one hook point: every ``ProblemEvent`` written (the loop's steps, the intake's report, the
escalation) is handed to ``record.event_recorded`` in the transaction that wrote it. The intake's
one-statement writer sends the same signal after its statement (``problems/intake/write.py``).
Bulk imports send none: an import of a thousand old cases tells nobody."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from gridmap.problems.models import ProblemEvent


def _event_saved(sender: Any, instance: ProblemEvent, created: bool, raw: bool = False, **_: Any) -> None:
    if created and not raw:
        from gridmap.notifications.record import event_recorded

        event_recorded(instance)


def connect() -> None:
    post_save.connect(_event_saved, sender=ProblemEvent, dispatch_uid="notifications-event-recorded")
