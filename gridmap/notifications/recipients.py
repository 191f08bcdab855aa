"""Who is told of a step of the loop, and as what (``Kind``).

Each rule names the people whom the step gives work or news; every one of them is then checked
against the one scoping of problems (``problems_visible_to``): nobody is told of a case they may
not open. The actor is never told of their own step, and one person gets one notification per
event (the first kind that applies: work before news).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from gridmap.accounts.models import Profile, Role
from gridmap.geography.models import Grid
from gridmap.notifications.models import Kind
from gridmap.problems.models import ExtensionRequest, Problem, ProblemEvent
from gridmap.problems.selectors import problems_visible_to

# Steps that are news of a report for whoever reported it (or was merged into it).
NEWS_ACTIONS = frozenset(
    {"file", "reject", "mark_duplicate", "dispatch", "handle", "verify_pass", "verify_fail",
     "lookback_pass", "lookback_fail"}
)  # fmt: skip


def _users(ids: Iterable[Any]) -> list[Any]:
    wanted = {i for i in ids if i}
    if not wanted:
        return []
    return list(get_user_model().objects.filter(pk__in=wanted, is_active=True).select_related("profile"))


def grid_leaders(problem: Problem) -> list[int]:
    """The grid's first and direct responsible people; a problem with no grid (the community
    fallback): the community's head(s)."""
    if problem.grid_id is None:
        return community_heads(problem)
    first = Grid.objects.filter(pk=problem.grid_id).values("first_responsible_id")
    direct = Grid.direct_responsible.through.objects.filter(grid_id=problem.grid_id).values("user_id")
    leaders = get_user_model().objects.filter(Q(pk__in=first) | Q(pk__in=direct))  # one query
    return list(leaders.values_list("pk", flat=True))


def community_heads(problem: Problem) -> list[int]:
    if problem.community_id is None:
        return []
    heads = Profile.objects.filter(role=Role.COMMUNITY_HEAD, community_id=problem.community_id)
    return list(heads.values_list("user_id", flat=True))


def department_users(problem: Problem) -> list[int]:
    if problem.department_id is None:
        return []
    members = Profile.objects.filter(role=Role.DEPARTMENT, department_id=problem.department_id)
    return list(members.values_list("user_id", flat=True))


def inspectors(problem: Problem) -> list[int]:
    """The inspector assigned at dispatch; with none, the inspectors who patrol the community
    (the dispatch rule's candidates)."""
    if problem.inspector_id:
        return [problem.inspector_id]
    if problem.community_id is None:
        return []
    patrol = Profile.objects.filter(role=Role.INSPECTOR, patrol_communities=problem.community_id)
    return list(patrol.values_list("user_id", flat=True))


def deciders(problem: Problem) -> list[int]:
    """Who decides an extension: the community's head(s); with none, the administrators."""
    heads = community_heads(problem)
    if heads:
        return heads
    admins = Profile.objects.filter(role=Role.ADMIN).values_list("user_id", flat=True)
    return list(admins)


def reporters(problem: Problem) -> list[int]:
    co = Problem.co_reporters.through.objects.filter(problem_id=problem.pk).values_list("user_id", flat=True)
    return [problem.reporter_id, *co]


def _requester(event: ProblemEvent) -> list[int]:
    request_id = (event.data or {}).get("request")
    if not request_id:
        return []
    return list(ExtensionRequest.objects.filter(pk=request_id).values_list("requested_by_id", flat=True))


def _work(event: ProblemEvent, problem: Problem) -> list[tuple[str, list[int]]]:
    action = event.action
    if action == "report":
        return [(Kind.NEW_REPORT, grid_leaders(problem))]
    if action == "dispatch":
        return [(Kind.DISPATCHED, department_users(problem))]
    if action == "handle":
        return [(Kind.TO_VERIFY, inspectors(problem))]
    if action in ("verify_fail", "lookback_fail"):
        return [(Kind.REWORK, department_users(problem))]
    if action == "escalate" and (event.data or {}).get("office") == "community":
        return [(Kind.ESCALATED, community_heads(problem))]
    if action == "request_extension":
        return [(Kind.EXTENSION_REQUESTED, deciders(problem))]
    if action == "decide_extension":
        return [(Kind.EXTENSION_DECIDED, _requester(event))]
    return []


def event_recipients(event: ProblemEvent, problem: Problem | None = None) -> list[tuple[Any, str]]:
    """(user, kind) for everyone ``event`` gives work or news, each once, each able to see the
    problem, never the actor."""
    problem = problem or Problem.objects.get(pk=event.problem_id)
    rules = _work(event, problem)
    if event.action in NEWS_ACTIONS:
        rules.append((Kind.REPORT_NEWS, reporters(problem)))
    return scoped(problem, rules, actor_id=event.actor_id)


def scoped(
    problem: Problem, rules: list[tuple[str, list[int]]], *, actor_id: int | None
) -> list[tuple[Any, str]]:
    kind_of: dict[int, str] = {}
    for kind, ids in rules:
        for uid in ids:
            if uid and uid != actor_id:
                kind_of.setdefault(uid, kind)
    out = []
    for person in _users(kind_of):
        if problems_visible_to(person).filter(Q(pk=problem.pk)).exists():
            out.append((person, kind_of[person.pk]))
    return sorted(out, key=lambda pair: pair[0].pk)
