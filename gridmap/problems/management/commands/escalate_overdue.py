"""Escalate overdue problems, once per missed deadline (run from cron, e.g. every 15 minutes)."""

from gridmap.core.management.cli import NoWebCommand
from gridmap.problems.escalation import problems_escalate_overdue


class Command(NoWebCommand):
    help = (
        "Escalate every open problem whose deadline has passed, once for that deadline: the first "
        "missed deadline goes to the community head, each later one (after rework, a failed "
        "look-back or an extension gave the case a new deadline) one level higher: the street "
        "office (街道), then the district (区). A second run, or two at once, escalates nothing twice."
    )

    def handle(self, *args, **opts):
        self.stdout.write(f"escalated {problems_escalate_overdue()} problems")
