"""Look-back reminders (回头看提醒): once a closed case's look-back day has come, the schedule
records one ``lookback_remind`` event on it for whoever does the look-back.

The rule. A case closed after verification gets a look-back day (``lookback_due``). From that
day (in the site's time) until the look-back is done, it is "due" (``queues.lookback_due_q``:
the same cases the dashboards count and the case page offers the look-back on). Each due case
gets one reminder per closing: "already reminded" is a ``lookback_remind`` event at or after the
case's ``closed_at`` (a failed look-back reopens the case; when it is closed again it gets a new
look-back day and a new reminder). Two runs at the same moment may both read a case as due; the
database keeps one event per case and closing (the unique constraint
``problems_lookback_remind_once`` on the event's ``problem`` and ``data.closed``, the closing's
time), and the run that comes second leaves that case out of what it returns.

The event is the hook for delivery: ``data`` holds the day due and ``to``, the usernames of the
inspectors who do it (the case's own inspector, else those patrolling its community), as the
escalation event does. A notification helper reads new ``lookback_remind`` events (or calls
``problems_remind_lookbacks`` and reads what it returns) and delivers them; nothing here sends.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from gridmap.accounts.models import Profile, Role
from gridmap.problems.models import Problem, ProblemEvent
from gridmap.problems.queues import lookback_due_q

ACTION = "lookback_remind"
REMIND_CHUNK = 2000


def lookback_reminders_due(now: datetime | None = None) -> QuerySet[Problem]:
    """Cases whose look-back is due and not yet reminded since they were last closed."""
    today = timezone.localdate(now or timezone.now())
    reminded = ProblemEvent.objects.filter(
        problem=OuterRef("pk"), action=ACTION, at__gte=OuterRef("closed_at")
    )
    return Problem.objects.filter(lookback_due_q(today)).exclude(Exists(reminded))


def problems_remind_lookbacks(now: datetime | None = None) -> list[ProblemEvent]:
    """Record one reminder event on every case ``lookback_reminders_due``; returns the events.
    In chunks by id, each in its own transaction (a stop halfway keeps what was done)."""
    now = now or timezone.now()
    due = lookback_reminders_due(now).order_by("pk")
    made: list[ProblemEvent] = []
    after = 0
    while True:
        chunk = list(due.filter(pk__gt=after).values("pk", "status", "lookback_due", "closed_at",
                                                       "inspector__username", "community_id")[:REMIND_CHUNK])  # fmt: skip
        if not chunk:
            return made
        patrols = _patrols({c["community_id"] for c in chunk if not c["inspector__username"]})
        events = [
            ProblemEvent(
                problem_id=c["pk"],
                action=ACTION,
                from_status=c["status"],
                to_status=c["status"],
                at=now,
                data={
                    "due": c["lookback_due"].isoformat(),
                    "closed": c["closed_at"] and c["closed_at"].isoformat(),  # which closing: one each
                    "to": [c["inspector__username"]]
                    if c["inspector__username"]
                    else patrols.get(c["community_id"], []),
                },
            )  # fmt: skip
            for c in chunk
        ]
        made += _record(events)
        if len(chunk) < REMIND_CHUNK:
            return made
        after = chunk[-1]["pk"]


def _record(events: list[ProblemEvent]) -> list[ProblemEvent]:
    """Insert ``events``; those another run recorded since they were read (the constraint
    ``problems_lookback_remind_once``: one per case and closing) are left out. Returns
    the events inserted here."""
    try:
        with transaction.atomic():
            return ProblemEvent.objects.bulk_create(events)
    except IntegrityError:  # another run got some of them first: one by one, keeping what is new
        made = []
        for event in events:
            try:
                with transaction.atomic():
                    event.save(force_insert=True)
            except IntegrityError:
                continue
            made.append(event)
        return made


def _patrols(communities: set[int | None]) -> dict[int, list[str]]:
    """{community id: usernames of the inspectors patrolling it}."""
    rows = Profile.patrol_communities.through.objects.filter(
        community_id__in=[c for c in communities if c], profile__role=Role.INSPECTOR
    ).values_list("community_id", F("profile__user__username"))
    found: dict[int, list[str]] = {}
    for community, username in rows.order_by("community_id", "profile__user__username"):
        found.setdefault(community, []).append(username)
    return found
