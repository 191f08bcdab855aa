"""Escalate overdue problems to their community head (run from cron, e.g. every 15 minutes)."""

from django.core.management.base import BaseCommand

from gridmap.problems.escalation import problems_escalate_overdue


class Command(BaseCommand):
    help = "Escalate every overdue open problem, once, to the head of its community."

    def handle(self, *args, **opts):
        self.stdout.write(f"escalated {problems_escalate_overdue()} problems")
