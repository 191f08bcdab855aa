"""The closed loop as a table of allowed transitions (发现 → 立案 → 派遣 → 处置 → 核查 → 结案 → 回头看).

Every step goes through ``problem_transition``: the actor must see the problem and hold a role the
step allows; the step's own checks run; then one conditional UPDATE (status and version as read)
changes the row, so of two people acting at once exactly one wins on either database (SpatiaLite
has no row locks) and the other gets ``TransitionConflict`` (409). The audit event, photos and
extension rows are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.problems.lifecycle_steps import STEP_CHECKS, StepContext
from gridmap.problems.models import ExtensionRequest, Problem, ProblemEvent, Status
from gridmap.problems.selectors import problems_in_role_scope, problems_visible_to

S = Status

LEADS = frozenset({Role.ADMIN, Role.COMMUNITY_HEAD, Role.GRID_LEADER})
FIXERS = frozenset({Role.ADMIN, Role.DEPARTMENT, Role.GRID_LEADER})
CHECKERS = frozenset({Role.ADMIN, Role.COMMUNITY_HEAD, Role.INSPECTOR})
APPROVERS = frozenset({Role.ADMIN, Role.COMMUNITY_HEAD})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (a step recorded on the case)
    roles: frozenset[str]
    label: Any  # a lazy translation


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("file", (S.REPORTED,), S.FILED, LEADS, pgettext_lazy("loop step", "File")),
        Transition("reject", (S.REPORTED,), S.REJECTED, LEADS, pgettext_lazy("loop step", "Reject")),
        Transition(
            "mark_duplicate",
            (S.REPORTED, S.FILED),
            S.DUPLICATE,
            LEADS,
            pgettext_lazy("loop step", "Merge as a duplicate"),
        ),
        Transition("dispatch", (S.FILED,), S.DISPATCHED, LEADS, pgettext_lazy("loop step", "Dispatch")),
        Transition(
            "request_extension",
            (S.DISPATCHED,),
            None,
            FIXERS,
            pgettext_lazy("loop step", "Request an extension"),
        ),
        Transition(
            "decide_extension",
            (S.DISPATCHED,),
            None,
            APPROVERS,
            pgettext_lazy("loop step", "Decide on the extension"),
        ),
        Transition(
            "handle", (S.DISPATCHED,), S.HANDLED, FIXERS, pgettext_lazy("loop step", "Report the fix")
        ),
        Transition(
            "verify_pass", (S.HANDLED,), S.CLOSED, CHECKERS, pgettext_lazy("loop step", "Verified: fixed")
        ),
        Transition(
            "verify_fail",
            (S.HANDLED,),
            S.DISPATCHED,
            CHECKERS,
            pgettext_lazy("loop step", "Verified: not fixed (rework)"),
        ),
        Transition(
            "lookback_pass", (S.CLOSED,), None, CHECKERS, pgettext_lazy("loop step", "Look-back: still fixed")
        ),
        Transition(
            "lookback_fail",
            (S.CLOSED,),
            S.DISPATCHED,
            CHECKERS,
            pgettext_lazy("loop step", "Look-back: recurred (dispatch again)"),
        ),
    )
}


class TransitionConflict(Exception):
    """The step is not allowed from the problem's current status (or someone acted first)."""

    def __init__(self, message: str, *, status: str, allowed: Sequence[str]) -> None:
        super().__init__(message)
        self.status = status
        self.allowed = list(allowed)


class TransitionForbidden(Exception):
    """The actor's role or relation to the problem does not allow this step."""


@dataclass
class Outcome:
    problem: Problem
    event: ProblemEvent
    extra: dict[str, Any] = field(default_factory=dict)


def allowed_actions(problem: Problem, user: Any) -> list[str]:
    """The steps ``user`` could take on ``problem`` now (status and role; not the step checks)."""
    role = role_of(user)
    return [a for a, t in TRANSITIONS.items() if problem.status in t.sources and role in t.roles]


def offered_actions(problem: Problem, user: Any, now: Any = None) -> list[str]:
    """The steps to offer ``user`` on ``problem``'s page: ``allowed_actions`` minus those whose
    own check would refuse them whatever is typed in — a look-back before its day or after it
    was done, an extension decision with no request waiting (or a second request while one
    waits), the verification of one's own fix. The step checks still decide (a race, a form
    posted from an old page)."""
    actions = allowed_actions(problem, user)
    today = timezone.localdate(now or timezone.now())
    pending = None
    if {"request_extension", "decide_extension"} & set(actions):
        pending = problem.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists()
    lookback_due = (
        problem.lookback_due is not None
        and problem.lookback_done_at is None
        and problem.lookback_due <= today
    )
    own_fix = problem.handled_by_id is not None and problem.handled_by_id == user.pk
    refused = {
        "lookback_pass": not lookback_due,
        "lookback_fail": not lookback_due,
        "decide_extension": pending is False,
        "request_extension": pending is True,
        "verify_pass": own_fix,
        "verify_fail": own_fix,
    }
    return [a for a in actions if not refused.get(a, False)]


LOOP_ROLES = frozenset().union(*(t.roles for t in TRANSITIONS.values()))  # roles with some step


def photo_may_add(problem: Problem, user: Any) -> None:
    """Who may add a photo to an open ``problem`` (the one rule, for every door that adds one to
    an existing case): whoever reported it (or was merged into it as a co-reporter), and whoever
    acts on it through their role — a role that takes some step of the loop, on a problem in that
    role's scope (``problems_in_role_scope``). Seeing a problem is not enough: the planner, who
    sees the whole city and takes no step, may add none. TransitionForbidden (a 403) otherwise."""
    if user.is_authenticated and (
        problem.reporter_id == user.pk or problem.co_reporters.filter(pk=user.pk).exists()
    ):
        return
    if role_of(user) in LOOP_ROLES and problems_in_role_scope(user).filter(pk=problem.pk).exists():
        return
    raise TransitionForbidden(_("You may add photos only to problems you reported or act on."))


def problem_transition(
    *,
    problem_id: int,
    action: str,
    actor: Any,
    note: str = "",
    lon: Any = None,
    lat: Any = None,
    photos: Sequence[Any] = (),
    params: dict[str, Any] | None = None,
    now: Any = None,
) -> Outcome:
    """Take one step of the loop. Raises Problem.DoesNotExist when the actor may not see the
    problem, TransitionForbidden (403), TransitionConflict (409) or ValidationError (400)."""
    problem = problems_visible_to(actor).select_related("category", "grid", "community").get(pk=problem_id)
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionConflict(f"unknown action {action!r}", status=problem.status,
                                 allowed=allowed_actions(problem, actor))  # fmt: skip
    if problem.status not in transition.sources:
        raise TransitionConflict(
            f"{action} is not allowed from {problem.status}",
            status=problem.status,
            allowed=allowed_actions(problem, actor),
        )
    if role_of(actor) not in transition.roles:
        raise TransitionForbidden(f"your role may not {action}")
    if not problems_in_role_scope(actor).filter(pk=problem.pk).exists():
        raise TransitionForbidden("this problem is outside the area or categories you act on")
    ctx = StepContext(problem=problem, actor=actor, note=note, lon=lon, lat=lat, photos=list(photos),
                      params=params or {}, now=now or timezone.now())  # fmt: skip
    check: Callable[[StepContext], None] = STEP_CHECKS.get(action, lambda c: None)
    check(ctx)  # validates and fills ctx.updates / ctx.after_save
    with transaction.atomic():
        updates = {**ctx.updates, "version": F("version") + 1}
        if transition.target is not None:
            updates["status"] = transition.target
        won = Problem.objects.filter(pk=problem.pk, status=problem.status, version=problem.version).update(
            **updates
        )
        if not won:
            problem.refresh_from_db()
            raise TransitionConflict(
                "someone else changed this problem first; reload it",
                status=problem.status,
                allowed=allowed_actions(problem, actor),
            )
        event = ProblemEvent.objects.create(
            problem=problem,
            action=action,
            from_status=problem.status,
            to_status=transition.target or problem.status,
            actor=actor,
            at=ctx.now,
            geom=ctx.point,
            note=note[:2000],
            data=ctx.event_data,
        )
        for hook in ctx.after_save:
            hook(event)
    problem.refresh_from_db()
    return Outcome(problem, event, ctx.extra)
