"""Recording an inspector's answer for one item at one visited point: scored by ``scores``,
idempotent by the phone's client id, and a failed item turned into a problem through the one
intake, filed and dispatched to the point's department, with its photos on the one photo path.
Everything is written in one transaction, or nothing is."""

from __future__ import annotations

import uuid as uuid_mod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gridmap.campaign.models import Answer, ChecklistItem, Finding, RoundPoint
from gridmap.campaign.points import representative_point
from gridmap.campaign.scores import item_score
from gridmap.campaign.selectors import may_manage
from gridmap.core.boundary import BoundaryError, check_text
from gridmap.problems.intake import problem_intake
from gridmap.problems.lifecycle import TransitionConflict, TransitionForbidden, problem_transition
from gridmap.problems.models import Problem, ProblemEvent
from gridmap.problems.photos import photo_check, problem_photo_attach

MAX_FINDINGS = 1000
MAX_PHOTOS = 5
PROBLEM_UUIDS = uuid_mod.UUID("6f1c2d8e-4b7a-4c1e-9a53-2f0d8b6e7c10")  # namespace: answer → its problem


class AnswerRefused(Exception):
    """The answer cannot be taken: ``status`` 400 (bad input), 403 (not this user's visit) or
    409 (the item was answered already under another client id, or the round is closed)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Recorded:
    answer: Answer
    created: bool  # False: the same client id was seen before; nothing was written


def _checked(findings: Any, note: Any, not_applicable: bool, photos: Sequence[Any]) -> tuple[int, str, list]:
    if isinstance(findings, bool) or not isinstance(findings, int) or not 0 <= findings <= MAX_FINDINGS:
        raise AnswerRefused(_("Findings must be a whole number from 0 to %(n)s.") % {"n": MAX_FINDINGS})
    if not isinstance(note, str) or len(note) > 500:
        raise AnswerRefused(_("The note must be text of at most 500 characters."))
    try:
        note = check_text(note)
    except BoundaryError as exc:
        raise AnswerRefused(str(exc.message)) from None
    if not_applicable and findings:
        raise AnswerRefused(_("An item that does not apply has no findings."))
    if len(photos) > MAX_PHOTOS:
        raise AnswerRefused(_("At most %(n)s photos per item.") % {"n": MAX_PHOTOS})
    infos = []
    for upload in photos:
        try:
            infos.append(photo_check(upload, size=getattr(upload, "size", None)))
        except ValidationError as exc:
            raise AnswerRefused(" ".join(exc.messages)) from None
    return findings, note, infos


def answer_record(
    *,
    visit: RoundPoint,
    item: ChecklistItem,
    client_uuid: uuid_mod.UUID,
    findings: Any,
    user: Any,
    not_applicable: bool = False,
    note: Any = "",
    photos: Sequence[Any] = (),
) -> Recorded:
    """Record one answer. A client id seen before returns its answer unchanged (a retry); see
    ``AnswerRefused`` for what is refused. Photos go with a failed item to its problem."""
    seen = Answer.objects.filter(client_uuid=client_uuid).first()
    if seen is not None:
        if seen.visit_id != visit.pk or seen.item_id != item.pk:
            raise AnswerRefused(_("This client id belongs to another answer."), 409)
        return Recorded(seen, False)
    if visit.inspector_id != getattr(user, "pk", None) and not may_manage(user):
        raise AnswerRefused(_("This point is not on your walk."), 403)
    if visit.round.closed:
        raise AnswerRefused(_("This mock evaluation is closed."), 409)
    if item.point_type_id != visit.point.type_id or not item.active:
        raise AnswerRefused(_("This item is not on the point's checklist."))
    findings, note, infos = _checked(findings, note, not_applicable, photos)
    score = item_score(weight=item.weight, rule=item.rule, deduction=item.deduction, fail_at=item.fail_at,
                       findings=findings)  # fmt: skip
    if photos and not score.failed:
        raise AnswerRefused(_("Photos are the evidence of a failed item; this item passed."))
    try:
        with transaction.atomic():
            answer = Answer.objects.create(
                visit=visit, item=item, client_uuid=client_uuid, findings=findings, points=score.points, weight=item.weight,
                failed=score.failed, not_applicable=not_applicable, note=note, answered_by=user,
            )  # fmt: skip
            if score.failed:
                _to_problem(answer, user, list(zip(photos, infos, strict=True)))
    except ValidationError as exc:  # the intake refused the point's position: nothing was written
        raise AnswerRefused(" ".join(exc.messages)) from None
    except IntegrityError:
        seen = Answer.objects.filter(client_uuid=client_uuid).first()
        if seen is not None and seen.visit_id == visit.pk and seen.item_id == item.pk:
            return Recorded(seen, False)  # the same answer, sent twice at once
        raise AnswerRefused(_("This item was answered already."), 409) from None
    return Recorded(answer, True)


def _to_problem(answer: Answer, user: Any, photos: list[tuple[Any, Any]]) -> Problem:
    visit, item = answer.visit, answer.item
    point = visit.point
    where = representative_point(point.geom)
    text = f"[{visit.round.name}] {point.name}: {item.code} {item.text}"
    if answer.note:
        text += f" — {answer.note}"
    problem = problem_intake(
        lon=where.x, lat=where.y, category=item.category, description=text[:4000], reporter=user,
        client_uuid=uuid_mod.uuid5(PROBLEM_UUIDS, str(answer.client_uuid)),
    ).problem  # fmt: skip
    Finding.objects.create(answer=answer, problem=problem, point=point, item=item)
    report = ProblemEvent.objects.filter(problem=problem, action="report").order_by("pk").first()
    for upload, info in photos:
        problem_photo_attach(problem, upload, event=report, user=user, where=where, info=info)
    _file_and_dispatch(problem, visit.round.created_by, point.department.code if point.department else None)
    return problem


def _file_and_dispatch(problem: Problem, office: Any, department: str | None) -> None:
    """Filed and dispatched to the point's department by the campaign office that ran the round;
    if the office may not (no longer an administrator), the report waits for the loop's leads."""
    if office is None:
        return
    params = {"department": department} if department else {}
    try:
        problem_transition(problem_id=problem.pk, action="file", actor=office)
        problem_transition(problem_id=problem.pk, action="dispatch", actor=office, params=params)
    except (TransitionForbidden, TransitionConflict, ValidationError, Problem.DoesNotExist):
        return
