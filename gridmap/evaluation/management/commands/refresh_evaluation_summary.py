"""Bring the evaluation's daily summary up to date now (the workers do it every 5 minutes);
``--full`` rebuilds it whole, for repair or after an import that wrote cases with old times."""

from gridmap.core.management.cli import NoWebCommand
from gridmap.evaluation.summary import refresh


class Command(NoWebCommand):
    help = (
        "Rewrite the daily evaluation summary for the towns and days whose cases changed since the "
        "last refresh; with --full, for every town and day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every town and day")

    def handle(self, *args, **opts):
        result = refresh(full=opts["full"])
        self.stdout.write(f"towns {result['towns']}, days {result['days']}, rows {result['rows']}")
