"""Citizen reporting besides the intake itself: what is already reported near a place (offered
before a new report is sent), joining an open case as a co-reporter ("is it this one?") instead
of making a new one, the deadline a new report is promised, and the reporter's satisfaction
rating after closing.

What a reporter is shown of a case they did not report is the public part only: number,
category, status, distance and the day it was reported (``NearbyReport``) — never the
description, photos or who reported it. Joining a case (which then shows it to the joiner, as
to every co-reporter) needs the place the reporter picked to lie within ``NEARBY_M`` of it, so a
case cannot be opened by guessing its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.core.boundary import BoundaryError, check_text
from gridmap.core.geoinput import point_from_lonlat
from gridmap.problems.intake import nearest_within_m, possible_duplicates
from gridmap.problems.lifecycle import TransitionConflict, TransitionForbidden
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem, ProblemEvent, ProblemRating, Status
from gridmap.problems.models.citizen import STARS
from gridmap.problems.selectors import metre_box, problems_visible_to

# Open reports this near the picked place are shown; the category's duplicate radius marks the
# likely duplicates among them.
NEARBY_M = 150.0
NEARBY_MAX = 10
COMMENT_MAX = 1000


@dataclass(frozen=True)
class NearbyReport:
    id: int
    category: str
    event_class: str
    status: str
    status_label: str
    distance_m: float
    reported_on: date
    likely_duplicate: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "event_class": self.event_class,
                "status": self.status, "status_label": self.status_label, "distance_m": self.distance_m,
                "reported_on": self.reported_on.isoformat(), "likely_duplicate": self.likely_duplicate}  # fmt: skip


def nearby_reports(*, lon: Any, lat: Any, category: EventCategory | None = None) -> list[NearbyReport]:
    """Open reports within ``NEARBY_M`` of the place (of ``category`` when given), nearest
    first, at most ``NEARBY_MAX``: the intake's duplicates of the category first (its
    ``possible_duplicates``, marked), then the others by distance. Raises ValidationError for
    a place that is not a checked position."""
    point = point_from_lonlat(lon, lat)
    duplicates = dict((p.pk, d) for p, d in possible_duplicates(point, category)) if category else {}
    candidates = Problem.objects.filter(status__in=OPEN_STATUSES, geom__intersects=metre_box(point, NEARBY_M))
    if category is not None:
        candidates = candidates.filter(category=category)
    found = nearest_within_m(point, candidates, NEARBY_M)
    ordered = [(i, d) for i, d in duplicates.items()] + [(i, d) for i, d in found if i not in duplicates]
    ordered = ordered[:NEARBY_MAX]
    rows = Problem.objects.select_related("category").in_bulk([i for i, _d in ordered])
    labels = dict(Status.choices)
    return [
        NearbyReport(
            id=i,
            category=rows[i].category.local_name,
            event_class=rows[i].category.event_class,
            status=rows[i].status,
            status_label=str(labels.get(rows[i].status, rows[i].status)),
            distance_m=round(d, 1),
            reported_on=timezone.localdate(rows[i].reported_at),
            likely_duplicate=i in duplicates,
        )  # fmt: skip
        for i, d in ordered
        if i in rows
    ]


def problem_co_report(*, problem_id: Any, user: Any, lon: Any, lat: Any) -> Problem:
    """Add ``user`` to an open case as a co-reporter (the merge's model: they follow the case
    and hear of it), with a ``co_report`` event. The picked place must lie within ``NEARBY_M``
    of the case. ValidationError (400) for a bad place or id or a case too far; Problem.DoesNotExist
    (404) for no open case with that number; joining one's own case changes nothing."""
    point = point_from_lonlat(lon, lat)
    text = str(problem_id).strip()
    pk = int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0
    if not 0 < pk < 2**62:
        raise ValidationError(_("Not a case number."), code="bad_id")
    problem = Problem.objects.get(pk=pk, status__in=OPEN_STATUSES)
    if not nearest_within_m(point, Problem.objects.filter(pk=pk), NEARBY_M):
        raise ValidationError(_("This case is not near the place you picked."), code="too_far")
    if problem.reporter_id == user.pk:
        return problem
    with transaction.atomic():
        if not problem.co_reporters.filter(pk=user.pk).exists():
            problem.co_reporters.add(user)
            ProblemEvent.objects.create(problem=problem, action="co_report", to_status=problem.status,
                                        actor=user, geom=point)  # fmt: skip
    return problem


def promised_deadline(problem: Problem) -> tuple[int, datetime | None]:
    """The category's rule (hours from dispatch) and the deadline itself once dispatched."""
    return problem.category.deadline_hours, problem.deadline


def may_rate(problem: Problem, user: Any) -> bool:
    """A closed case may be rated by whoever reported it or joined it, once."""
    if not user.is_authenticated or problem.status != Status.CLOSED:
        return False
    if problem.reporter_id != user.pk and not problem.co_reporters.filter(pk=user.pk).exists():
        return False
    return not ProblemRating.objects.filter(problem=problem, reporter=user).exists()


def _stars(value: Any) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 1 and STARS[0] <= int(text) <= STARS[1]):
        raise ValidationError(_("The rating must be a whole number from 1 to 5."), code="bad_stars")
    return int(text)


def problem_rate(*, problem_id: int, user: Any, stars: Any, comment: Any = "") -> ProblemRating:
    """The reporter's (or a co-reporter's) satisfaction with a closed case: 1–5 and a comment,
    once. Problem.DoesNotExist (404) for a case out of sight, TransitionForbidden (403) for one
    the user did not report, TransitionConflict (409) before closing or when already rated,
    ValidationError (400) for a bad rating or comment."""
    problem = problems_visible_to(user).get(pk=problem_id)
    if problem.reporter_id != user.pk and not problem.co_reporters.filter(pk=user.pk).exists():
        raise TransitionForbidden(_("Only whoever reported a case may rate it."))
    value = _stars(stars)
    try:
        text = check_text(str(comment or ""), max_chars=COMMENT_MAX).strip()
    except BoundaryError as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    if problem.status != Status.CLOSED:
        raise TransitionConflict("only a closed case is rated", status=problem.status, allowed=[])
    try:
        with transaction.atomic():
            rating = ProblemRating.objects.create(problem=problem, reporter=user, stars=value, comment=text)
            # the trail says it too (and the evaluation's daily summary sees the day as touched)
            ProblemEvent.objects.create(problem=problem, action="rate", from_status=problem.status,
                                        to_status=problem.status, actor=user, at=rating.at,
                                        data={"stars": value})  # fmt: skip
            return rating
    except IntegrityError:
        raise TransitionConflict("already rated", status=problem.status, allowed=[]) from None


def rating_state(problem: Problem, user: Any) -> dict[str, Any]:
    """For the case page: whether ``user`` may rate it now, and their rating if given."""
    mine = (
        ProblemRating.objects.filter(problem=problem, reporter_id=user.pk).first()
        if user.is_authenticated
        else None
    )
    return {"may": mine is None and may_rate(problem, user), "mine": mine}
