"""What the import commands share: run one import, print its report, exit with its code.

Exit codes: 0 every row accepted; 1 nothing written (refused by --strict, stopped by Ctrl-C, or
the file cannot be read); 3 some rows rejected (with --commit every other row was written).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError

from gridmap.imports.core import EXIT_REFUSED, EXIT_REJECTED, ImportRefused, ImportReport


@contextmanager
def import_outcome(command: BaseCommand) -> Iterator[ImportReport]:
    """Run the block (reading, then one all-or-nothing import into the report it is given), then
    print the report under a headline that says what happened, and end with the exit code.

    Ctrl-C anywhere in the block rolls the import's transaction back on its way out, so the
    report says "stopped … nothing written" (exit 1), never "dry run" or "create".
    """
    report = ImportReport()
    try:
        yield report
    except ImportRefused as exc:
        command.stdout.write("\n".join(report.lines()))
        raise CommandError(str(exc), returncode=EXIT_REFUSED) from None
    except KeyboardInterrupt:
        report.stop()
        command.stdout.write("\n".join(report.lines()))
        raise CommandError("import stopped (interrupted); nothing written", returncode=EXIT_REFUSED) from None
    command.stdout.write("\n".join(report.lines()))
    if report.rejected:
        done = "the other rows were written" if report.committed else "dry run, nothing written"
        raise CommandError(f"{len(report.rejected)} rows rejected ({done})", returncode=EXIT_REJECTED)
