"""What each step of the loop checks and changes besides the status (see lifecycle.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.accounts.models import Department, Profile, Role
from gridmap.accounts.selectors import role_of
from gridmap.core.boundary import BoundaryError, check_text, whole_number
from gridmap.core.geoinput import point_from_lonlat
from gridmap.problems.intake import nearest_within_m
from gridmap.problems.models import OPEN_STATUSES, ExtensionRequest, Problem, ProblemEvent
from gridmap.problems.photos import photo_check, problem_photo_attach
from gridmap.problems.selectors import problems_visible_to


@dataclass
class StepContext:
    problem: Problem
    actor: Any
    note: str
    lon: Any
    lat: Any
    photos: list[Any]
    params: dict[str, Any]
    now: datetime
    point: Point | None = None
    updates: dict[str, Any] = field(default_factory=dict)
    event_data: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    after_save: list[Callable[[ProblemEvent], None]] = field(default_factory=list)


def _need_note(ctx: StepContext) -> None:
    if not ctx.note.strip():
        raise ValidationError(_("A note saying why is required for this step."), code="note_required")


def _int_param(ctx: StepContext, name: str, lo: int, hi: int) -> int:
    try:
        return whole_number(ctx.params.get(name), lo=lo, hi=hi)
    except BoundaryError as exc:
        if exc.code == "out_of_range":
            raise ValidationError(
                _("%(name)s must be between %(lo)s and %(hi)s.") % {"name": name, "lo": lo, "hi": hi}
            ) from None
        raise ValidationError(
            _("%(name)s must be a whole number.") % {"name": name}, code="bad_param"
        ) from None


def _text_param(ctx: StepContext, name: str) -> str | None:
    """A code or user name among the params (as text), or None when not given."""
    raw = ctx.params.get(name)
    if raw is None:
        return None
    try:
        return check_text(str(raw), max_chars=150)
    except BoundaryError as exc:
        raise ValidationError(f"{name}: {exc.message}", code="bad_param") from None


def _not_the_fixer(ctx: StepContext) -> None:
    if ctx.problem.handled_by_id is not None and ctx.problem.handled_by_id == ctx.actor.pk:
        raise ValidationError(_("Whoever fixed a problem does not verify it."), code="own_fix")


def _deadline(ctx: StepContext) -> datetime:
    return ctx.now + timedelta(hours=ctx.problem.category.deadline_hours)


def _photos(ctx: StepContext, stage: str) -> list[Any]:
    """Check every photo now (400 before anything is written); store them after the update."""
    infos = [photo_check(f, size=getattr(f, "size", None)) for f in ctx.photos]

    def store(event: ProblemEvent) -> None:
        for upload, info in zip(ctx.photos, infos, strict=True):
            problem_photo_attach(ctx.problem, upload, event=event, user=ctx.actor, stage=stage, where=ctx.point,
                                 info=info)  # fmt: skip

    if ctx.photos:
        ctx.after_save.append(store)
    return infos


def check_common(ctx: StepContext, stage: str = "before") -> None:
    if ctx.lon is not None or ctx.lat is not None:
        ctx.point = point_from_lonlat(ctx.lon, ctx.lat)
    _photos(ctx, stage)


def step_file(ctx: StepContext) -> None:
    check_common(ctx)
    ctx.updates["filed_at"] = ctx.now


def step_reject(ctx: StepContext) -> None:
    _need_note(ctx)
    check_common(ctx)


def step_mark_duplicate(ctx: StepContext) -> None:
    check_common(ctx)
    target_id = _int_param(ctx, "duplicate_of", 1, 2**62)
    target = problems_visible_to(ctx.actor).filter(pk=target_id, status__in=OPEN_STATUSES).first()
    if target is None or target.pk == ctx.problem.pk or target.category_id != ctx.problem.category_id:
        raise ValidationError(_("duplicate_of must be another open problem of the same category."))
    ctx.updates["duplicate_of_id"] = target.pk
    ctx.event_data["duplicate_of"] = target.pk
    reporters = [
        u for u in [ctx.problem.reporter_id, *ctx.problem.co_reporters.values_list("pk", flat=True)] if u
    ]

    def merge(event: ProblemEvent) -> None:
        # Merging keeps every reporter: they all hear about the surviving case.
        target.co_reporters.add(*[u for u in reporters if u != target.reporter_id])
        ProblemEvent.objects.create(problem=target, action="merge", to_status=target.status, actor=ctx.actor,
                                    at=ctx.now, data={"merged": ctx.problem.pk})  # fmt: skip

    ctx.after_save.append(merge)


def step_dispatch(ctx: StepContext) -> None:
    check_common(ctx)
    category = ctx.problem.category
    department = None
    department_code, inspector_name = _text_param(ctx, "department"), _text_param(ctx, "inspector")
    if department_code is not None:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            raise ValidationError(_("Unknown department."), code="bad_param")
    else:
        department = Department.objects.filter(categories=category).order_by("code").first()
    inspector = None
    if inspector_name is not None:
        inspector = Profile.objects.filter(user__username=inspector_name, role=Role.INSPECTOR).first()
        if inspector is None:
            raise ValidationError(_("Unknown inspector."), code="bad_param")
    elif ctx.problem.community_id:
        inspector = Profile.objects.filter(
            role=Role.INSPECTOR, patrol_communities=ctx.problem.community_id
        ).first()
    ctx.updates.update(
        department=department,
        dispatched_at=ctx.now,
        deadline=_deadline(ctx),
        inspector_id=inspector.user_id if inspector else ctx.problem.inspector_id,
    )
    ctx.event_data.update(department=department.code if department else None,
                          inspector=inspector.user.username if inspector else None)  # fmt: skip


def _may_fix(ctx: StepContext) -> None:
    if role_of(ctx.actor) == Role.DEPARTMENT:
        own = ctx.actor.profile.department_id
        if ctx.problem.department_id not in (None, own):
            raise ValidationError(
                _("This problem was dispatched to another department."), code="other_department"
            )


def step_request_extension(ctx: StepContext) -> None:
    _need_note(ctx)
    _may_fix(ctx)
    check_common(ctx)
    hours = _int_param(ctx, "hours", 1, 24 * 30)
    if ctx.problem.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        raise ValidationError(_("An extension request is already waiting for a decision."), code="pending")
    ctx.event_data["hours"] = hours

    def create(event: ProblemEvent) -> None:
        ctx.extra["extension"] = ExtensionRequest.objects.create(
            problem=ctx.problem, requested_by=ctx.actor, hours=hours, reason=ctx.note, requested_at=ctx.now
        )

    ctx.after_save.append(create)


def step_decide_extension(ctx: StepContext) -> None:
    check_common(ctx)
    pending = ctx.problem.extensions.filter(decision=ExtensionRequest.Decision.PENDING).first()
    if pending is None:
        raise ValidationError(_("There is no extension request to decide."), code="no_request")
    approve = ctx.params.get("approve")
    if not isinstance(approve, bool):
        raise ValidationError(_("approve must be true or false."), code="bad_param")
    if approve:
        # Counted from the decision: an extension approved after the deadline passed must not
        # leave the case overdue at once. A deadline still ahead is never shortened.
        base = max(ctx.problem.deadline or ctx.now, ctx.now)
        ctx.updates.update(
            deadline=base + timedelta(hours=pending.hours), extension_count=F("extension_count") + 1
        )
    decision = ExtensionRequest.Decision.APPROVED if approve else ExtensionRequest.Decision.REFUSED
    ctx.event_data.update(request=pending.pk, approved=approve)
    ctx.after_save.append(
        lambda event: ExtensionRequest.objects.filter(pk=pending.pk).update(
            decision=decision, decided_by=ctx.actor, decided_at=ctx.now
        )
    )


def step_handle(ctx: StepContext) -> None:
    _may_fix(ctx)
    if ctx.lon is not None or ctx.lat is not None:
        ctx.point = point_from_lonlat(ctx.lon, ctx.lat)
    infos = _photos(ctx, "after")
    if not infos:
        raise ValidationError(_("Reporting a fix needs an after-photo."), code="photo_required")
    max_m = settings.GRIDMAP["AFTER_PHOTO_MAX_M"]
    where = next((Point(*i.lonlat, srid=4326) for i in infos if i.lonlat), ctx.point)
    if where is None:
        raise ValidationError(
            _(
                "Say where the after-photo was taken: tap the map, use your location, or send a photo carrying its GPS position."
            )
        )
    if not nearest_within_m(where, Problem.objects.filter(pk=ctx.problem.pk), max_m):
        raise ValidationError(
            _("The after-photo was taken more than %(m)s m from the problem.") % {"m": int(max_m)},
            code="photo_far",
        )
    ctx.updates.update(handled_at=ctx.now, handled_by=ctx.actor)


def step_verify_pass(ctx: StepContext) -> None:
    _not_the_fixer(ctx)
    check_common(ctx, "after")
    deadline = ctx.problem.deadline
    ctx.updates.update(
        closed_at=ctx.now,
        closed_on_time=deadline is None or ctx.now <= deadline,
        lookback_due=timezone.localdate(ctx.now) + timedelta(days=ctx.problem.category.lookback_days),
        lookback_done_at=None,
    )


def step_verify_fail(ctx: StepContext) -> None:
    _not_the_fixer(ctx)
    _need_note(ctx)
    check_common(ctx, "after")
    ctx.updates.update(rework_count=F("rework_count") + 1, handled_at=None, deadline=_deadline(ctx))


def _lookback_due(ctx: StepContext) -> None:
    due = ctx.problem.lookback_due
    if due is None or ctx.problem.lookback_done_at is not None:
        raise ValidationError(_("No look-back is due on this problem."), code="no_lookback")
    if timezone.localdate(ctx.now) < due:  # dates are the site's (Asia/Shanghai), not UTC
        raise ValidationError(
            _("The look-back is due on %(due)s.") % {"due": due.isoformat()}, code="too_early"
        )


def step_lookback_pass(ctx: StepContext) -> None:
    _lookback_due(ctx)
    check_common(ctx, "after")
    ctx.updates["lookback_done_at"] = ctx.now


def step_lookback_fail(ctx: StepContext) -> None:
    _lookback_due(ctx)
    _need_note(ctx)
    check_common(ctx, "after")
    ctx.updates.update(
        lookback_done_at=ctx.now,
        reopen_count=F("reopen_count") + 1,
        closed_at=None,
        closed_on_time=None,
        handled_at=None,
        dispatched_at=ctx.now,
        deadline=_deadline(ctx),
    )


STEP_CHECKS: dict[str, Callable[[StepContext], None]] = {
    "file": step_file,
    "reject": step_reject,
    "mark_duplicate": step_mark_duplicate,
    "dispatch": step_dispatch,
    "request_extension": step_request_extension,
    "decide_extension": step_decide_extension,
    "handle": step_handle,
    "verify_pass": step_verify_pass,
    "verify_fail": step_verify_fail,
    "lookback_pass": step_lookback_pass,
    "lookback_fail": step_lookback_fail,
}
