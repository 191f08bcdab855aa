"""Recording notifications: the one hook of the loop (``event_recorded``, called for every
``ProblemEvent`` written, in the transaction that wrote it) and the reminders that no event
starts (look-backs due). Deliveries outside the site are started after the commit, on the
background workers (``jobs.dispatch``): no page waits on a mail server or a gateway."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from gridmap.core import jobs
from gridmap.notifications.models import Channel, Delivery, Kind, Notification, Preference
from gridmap.notifications.recipients import NEWS_ACTIONS, event_recipients, inspectors, scoped
from gridmap.problems.models import Problem, ProblemEvent

# the steps that tell someone something (recipients.py); other events (photos, merges) tell nobody
TOLD_ACTIONS = NEWS_ACTIONS | {"report", "escalate", "request_extension", "decide_extension"}
# what the text needs from an event's details
DATA_KEYS = ("hours", "approved", "level")
# what the recipients' rules read of a problem
PROBLEM_FIELDS = ("pk", "grid_id", "community_id", "department_id", "inspector_id", "reporter_id", "status")


def config() -> dict[str, Any]:
    return settings.GRIDMAP_NOTIFY


def channels_on() -> list[str]:
    """The channels the operator configured (the inbox is always on)."""
    on = []
    if config().get("EMAIL"):
        on.append(Channel.EMAIL)
    if config().get("WEBHOOK_URL"):
        on.append(Channel.WEBHOOK)
    return on


def event_recorded(event: ProblemEvent) -> list[Notification]:
    """Tell everyone ``event`` concerns (``recipients.event_recipients``)."""
    if event.action not in TOLD_ACTIONS:
        return []
    with transaction.atomic(savepoint=False):
        # as the step left it (the step's own copy was read before its UPDATE)
        problem = Problem.objects.only(*PROBLEM_FIELDS).get(pk=event.problem_id)
        people = event_recipients(event, problem)
        data = {k: event.data[k] for k in DATA_KEYS if k in (event.data or {})}
        return record(problem, people, source=f"event:{event.pk}", action=event.action, event=event,
                      data=data, at=event.at)  # fmt: skip


def record(
    problem: Problem,
    people: list[tuple[Any, str]],
    *,
    source: str,
    action: str,
    event: ProblemEvent | None = None,
    data: dict[str, Any] | None = None,
    at: Any = None,
) -> list[Notification]:
    """One notification per person for ``source`` (a second call adds none; two at the same
    moment: the unique constraint fails one), with a delivery per channel the operator configured
    and the person wants; the deliveries start after commit."""
    if not people:
        return []
    with transaction.atomic(savepoint=False):  # the caller's transaction when there is one
        told = set(
            Notification.objects.filter(source=source, recipient__in=[p.pk for p, _ in people]).values_list(
                "recipient_id", flat=True
            )
        )
        made = [
            Notification(recipient=person, kind=kind, action=action, problem=problem, event=event,
                         data=data or {}, created_at=at or timezone.now(), source=source)
            for person, kind in people
            if person.pk not in told
        ]  # fmt: skip
        if not made:
            return []
        made = Notification.objects.bulk_create(made)
        if any(n.pk is None for n in made):  # a backend that returns no ids from a bulk insert
            by_user = dict(Notification.objects.filter(source=source).values_list("recipient_id", "pk"))
            for note in made:
                note.pk = by_user[note.recipient_id]
        deliveries = _deliveries(made)
        if deliveries:
            ids = [d.pk for d in Delivery.objects.bulk_create(deliveries)]
            if None in ids:
                ids = list(Delivery.objects.filter(notification__in=made).values_list("pk", flat=True))
            jobs.dispatch("notifications.deliver", delivery_ids=ids)
    return made


def _deliveries(notes: list[Notification]) -> list[Delivery]:
    on = channels_on()
    if not notes or not on:
        return []
    prefs = {p.user_id: p for p in Preference.objects.filter(user__in=[n.recipient_id for n in notes])}
    out = []
    for note in notes:
        pref = prefs.get(note.recipient_id) or Preference(user_id=note.recipient_id)
        for channel in on:
            if channel == Channel.EMAIL and not note.recipient.email:
                continue
            if pref.wants(note.kind, channel):
                out.append(Delivery(notification=note, channel=channel))
    return out


def lookback_reminders(today: date | None = None) -> int:
    """Tell the inspectors of each closed case whose look-back has come: the loop records one
    ``lookback_remind`` event per closing (``problems.reminders``, the one rule of when a
    reminder is due; its timeline shows it) and each new event is told once per due date (the
    source key holds the date). Returns how many were told."""
    from gridmap.problems.reminders import problems_remind_lookbacks

    now = None if today is None else timezone.make_aware(datetime.combine(today, time(12)))
    events = problems_remind_lookbacks(now)
    problems = Problem.objects.in_bulk([e.problem_id for e in events])
    count = 0
    for event in events:
        problem = problems[event.problem_id]
        people = scoped(problem, [(Kind.LOOKBACK_DUE, inspectors(problem))], actor_id=None)
        key = f"lookback:{problem.pk}:{problem.lookback_due.isoformat()}"
        try:
            with transaction.atomic():  # a second run at the same moment: its insert fails here alone
                count += len(record(problem, people, source=key, action="lookback_due",
                                    data={"due": problem.lookback_due.isoformat()}))  # fmt: skip
        except IntegrityError:
            continue
    return count


def forget_old(now: Any = None) -> int:
    """Delete notifications read more than ``KEEP_DAYS`` ago (with their deliveries); unread ones
    stay whatever their age. Returns how many went."""
    now = now or timezone.now()
    keep_days = int(config().get("KEEP_DAYS", 180))
    old = Notification.objects.filter(read_at__lt=now - timedelta(days=keep_days))
    deleted, per_model = old.delete()
    return per_model.get(Notification._meta.label, 0)
