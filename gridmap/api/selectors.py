"""Reads the API needs beyond the apps' own selectors. Every one starts from a scoping selector
(``*_visible_to(user)``): photos, events and closure evidence are read only through a problem the
user may see (positive-list sites: ``problems.selectors.positive_sites_visible_to``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from orjson import Fragment

from gridmap.api.features import problem_photo_url
from gridmap.core.geojson import geojson_column
from gridmap.problems.models import Problem, ProblemEvent, ProblemPhoto, Status
from gridmap.problems.selectors import problems_visible_to

User = AbstractBaseUser | AnonymousUser


def problem_visible(user: User, problem_id: int) -> Problem:
    """The problem if ``user`` may see it; ``Problem.DoesNotExist`` (a 404) otherwise."""
    return problems_visible_to(user).select_related("category").get(pk=problem_id)


def _photo(row: dict[str, Any]) -> dict[str, Any]:
    url = problem_photo_url(row["problem_id"], row["id"]) if row["image"] else None
    return {"id": row["id"], "stage": row["stage"], "taken_at": row["taken_at"], "event": row["event_id"],
            "url": url}  # fmt: skip


def photos_of(problems: QuerySet[Problem], *, stage: str | None = None) -> dict[int, list[dict[str, Any]]]:
    """Photos of the given (already scoped) problems, by problem id."""
    photos = ProblemPhoto.objects.filter(problem__in=problems.values("pk"))
    if stage:
        photos = photos.filter(stage=stage)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in photos.order_by("pk").values("id", "problem_id", "stage", "taken_at", "event_id", "image"):
        out[row["problem_id"]].append(_photo(row))
    return out


def events_of(problem: Problem) -> list[dict[str, Any]]:
    """The audit timeline of one problem the caller has already been allowed to see."""
    rows = (
        ProblemEvent.objects.filter(problem=problem)
        .annotate(_geojson=geojson_column())
        .order_by("at", "pk")
        .values(
            "id",
            "action",
            "from_status",
            "to_status",
            "at",
            "note",
            "data",
            "_geojson",
            "actor__username",
            "actor__profile__display_name",
        )[:1000]  # fmt: skip
    )
    photo_ids: dict[int, list[int]] = defaultdict(list)
    for pid, event_id in problem.photos.filter(event__isnull=False).values_list("pk", "event_id"):
        photo_ids[event_id].append(pid)
    return [
        {
            "id": r["id"],
            "action": r["action"],
            "from_status": r["from_status"] or None,
            "to_status": r["to_status"] or None,
            "at": r["at"],
            "actor": r["actor__profile__display_name"] or r["actor__username"],
            "note": r["note"],
            "data": r["data"],
            "geometry": Fragment(r["_geojson"]) if r["_geojson"] else None,
            "photos": photo_ids.get(r["id"], []),
        }
        for r in rows
    ]


def closure_evidence(problems: QuerySet[Problem], closed_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """For the closed problems ``closed_ids`` (of the scoped ``problems``): who verified the fix,
    when, with what note, and the after-photos (销号 evidence)."""
    ids = list(closed_ids)
    if not ids:
        return {}
    closed = problems.filter(pk__in=ids, status=Status.CLOSED)
    evidence: dict[int, dict[str, Any]] = {}
    events = (
        ProblemEvent.objects.filter(problem__in=closed.values("pk"), action="verify_pass")
        .order_by("problem_id", "-at", "-pk")
        .values("problem_id", "at", "note", "actor__username", "actor__profile__display_name")
    )
    for e in events:
        evidence.setdefault(e["problem_id"], {"verified_at": e["at"], "note": e["note"],
                            "verified_by": e["actor__profile__display_name"] or e["actor__username"]})  # fmt: skip
    photos = photos_of(closed, stage=ProblemPhoto.Stage.AFTER)
    for pid in ids:
        item = evidence.setdefault(pid, {"verified_at": None, "note": "", "verified_by": None})
        item["photos"] = photos.get(pid, [])
    return evidence
