"""A notification's words, built when it is read, in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from gridmap.notifications.models import Kind, Notification


def step_name(action: str) -> str:
    names = {
        "file": _("filed"),
        "reject": _("not filed"),
        "mark_duplicate": _("merged into another case"),
        "dispatch": _("dispatched"),
        "handle": _("reported fixed"),
        "verify_pass": _("verified and closed"),
        "verify_fail": _("sent back for rework"),
        "lookback_pass": _("look-back passed"),
        "lookback_fail": _("look-back failed, dispatched again"),
    }
    return names.get(action) or _("updated")


def notification_text(note: Notification) -> str:
    problem = note.problem
    values = {"id": problem.pk, "category": problem.category.local_name, **(note.data or {})}
    kind = note.kind
    if kind == Kind.NEW_REPORT:
        return _("New report #%(id)s in your grid: %(category)s") % values
    if kind == Kind.DISPATCHED:
        return _("Case #%(id)s (%(category)s) was dispatched to your department") % values
    if kind == Kind.TO_VERIFY:
        return _("Case #%(id)s (%(category)s) was reported fixed: please verify it") % values
    if kind == Kind.REWORK:
        return _("Case #%(id)s (%(category)s) was sent back to your department for rework") % values
    if kind == Kind.ESCALATED:
        return _("Case #%(id)s (%(category)s) is overdue and was escalated to you") % values
    if kind == Kind.EXTENSION_REQUESTED:
        return _("An extension of %(hours)s h was requested for case #%(id)s (%(category)s)") % {
            "hours": "?",
            **values,
        }
    if kind == Kind.EXTENSION_DECIDED:
        if values.get("approved"):
            return _("Your extension request for case #%(id)s (%(category)s) was approved") % values
        return _("Your extension request for case #%(id)s (%(category)s) was refused") % values
    if kind == Kind.LOOKBACK_DUE:
        return _("The look-back of case #%(id)s (%(category)s) is due") % values
    return _("Your report #%(id)s (%(category)s): %(step)s") % {**values, "step": step_name(note.action)}
