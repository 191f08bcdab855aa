"""Run the periodic jobs in this process: the schedule for a service with no Celery broker."""

from __future__ import annotations

import signal
import time

from gridmap.core.management.cli import NoWebCommand


class Command(NoWebCommand):
    help = (
        "Run the periodic jobs of GRIDMAP_SCHEDULE (escalation, analysis refreshes, ...) in this "
        "process, each at its interval, until stopped. For a service without GRIDMAP_BROKER_URL "
        "(the demo starts it beside the server); with a broker, run `celery -A gridmap.celery beat` "
        "instead. --once runs every entry once and stops."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every entry once, then stop")

    def handle(self, *args, once: bool = False, **opts):
        from django.conf import settings

        from gridmap.core.schedule import Schedule

        schedule = Schedule(settings.GRIDMAP_SCHEDULE, report=self.stdout.write)
        if once:
            schedule.run_due(now=float("inf"))
            return
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        self.stdout.write(f"running {len(schedule.entries)} periodic jobs: {', '.join(schedule.entries)}")
        try:
            while not stop:
                wait_s = schedule.run_due(now=time.monotonic())
                deadline = time.monotonic() + wait_s
                while not stop and time.monotonic() < deadline:
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        except KeyboardInterrupt:
            pass
