#!/usr/bin/env python
"""Django's command-line utility for gridmap."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    if sys.argv[1:2] != ["runserver"]:
        # A command (migrate, imports, backup, analyses) may rightly run long statements: it takes
        # its own statement timeout (none unless set), not the web's (gridmap/settings.py).
        os.environ["GRIDMAP_DB_STATEMENT_TIMEOUT"] = os.environ.get(
            "GRIDMAP_DB_COMMAND_STATEMENT_TIMEOUT", "0"
        )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
