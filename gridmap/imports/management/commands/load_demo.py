"""Load the synthetic demo town and its demo users (idempotent)."""

from django.conf import settings

from gridmap.core.management.cli import NoWebCommand


class Command(NoWebCommand):
    help = "Load fixtures/demo_town (synthetic) and create a demo user for each role."

    def handle(self, *args, **opts):
        from gridmap.imports.demo import demo_load

        report, entries = demo_load()
        self.stdout.write("\n".join(report.lines()))
        from gridmap.analysis.tasks import refresh_coverage
        from gridmap.core.jobs import wait_in_process

        wait_in_process(timeout_s=600)  # a refresh the import asked for, if it runs in this process
        refreshed = refresh_coverage(lambda *_, **__: None)  # the first planner view has figures
        self.stdout.write(f"Coverage sets computed: {refreshed['refreshed']}")
        from gridmap.imports.demo_news import demo_news_send

        # a few live reports and steps, told through the notifications' own hook: inboxes to read
        self.stdout.write(f"Live demo steps taken: {demo_news_send()}")
        password = settings.GRIDMAP["DEMO_PASSWORD"]
        self.stdout.write(f"\nDemo logins (password for all: {password}):")
        seen = set()
        for entry in entries:
            role = "street signer" if entry.get("signs_for") else entry["role"]  # signs stage acceptances
            if role in seen and role not in {"admin", "planner"}:
                continue
            seen.add(role)
            self.stdout.write(f"  {role:<15} {entry['username']:<14} {entry.get('display_name', '')}")
