"""Background tasks of the closed loop (``gridmap.core.jobs``)."""

from __future__ import annotations

from gridmap.core.jobs import Progress, task
from gridmap.problems.escalation import problems_escalate_overdue
from gridmap.problems.reminders import problems_remind_lookbacks


@task("problems.escalate_overdue")
def escalate_overdue(progress: Progress) -> dict[str, int]:
    """The schedule's escalation run (every 15 minutes by default): see problems/escalation.py."""
    escalated = problems_escalate_overdue()
    progress(1, 1, f"escalated {escalated}")
    return {"escalated": escalated}


@task("problems.remind_lookbacks")
def remind_lookbacks(progress: Progress) -> dict[str, int]:
    """The schedule's look-back reminders (hourly by default): see problems/reminders.py."""
    reminded = len(problems_remind_lookbacks())
    progress(1, 1, f"reminded {reminded}")
    return {"reminded": reminded}
