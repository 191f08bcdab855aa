"""What the management commands share: help shown as written, the output options (--format,
--output) and writing the output, --metric, checked numbers and dates, and JSON-ready cells.

A command is its arguments, one service call and its output; these are the parts of the first
and the last that several commands have in common.

A command that does no web work starts in well under a second (``NoWebCommand``): it runs no
system checks, and its module imports only Django and light modules; the service it calls, and
the heavy libraries that service needs (geopandas, scipy, scikit-learn, folium, pyrosm), are
imported inside ``handle`` when the work starts (``coverage``, ``hotspots`` and ``suggest_sites``
load their analysis module, whose choices their ``--help`` lists). ``tests/core/test_command_start.py``
holds both.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

if TYPE_CHECKING:
    import pandas as pd

METRICS = ("straight", "network")
# columns of the commands' CSV files that hold codes (grid, community, cell, category): written
# with ``layers.io.code_text`` so that spreadsheets keep them as text (``0302`` stays ``0302``)
CSV_CODE_COLUMNS = frozenset({"grid", "code", "community", "cell_id", "top_category"})


class NoWebCommand(BaseCommand):
    """A command that serves no web request: it runs no system checks.

    Django's checks look at what serves the web (every URLconf and the views behind it, the
    admin, templates, security settings) and at model definitions; importing every view pulls in
    the whole site (folium, geopandas, scikit-learn …), over a second before the command does
    anything. They are unchanged by what a command like this does and stay where they belong:
    ``manage.py check`` (``check --deploy`` in the tests and before a deployment), ``runserver``
    and ``migrate`` run them, so code that fails them never reaches a server or a database. A
    model that does not load still fails here, at ``django.setup()``.
    """

    requires_system_checks: list[str] | tuple[str, ...] = []


class DocumentedCommand(BaseCommand):
    """A command whose ``help`` is printed as written (paragraphs and indented lists kept)."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser


def add_output_arguments(parser: CommandParser, formats: Sequence[str], *, default: str) -> None:
    parser.add_argument("--format", choices=formats, default=default)
    parser.add_argument("--output", help="file to write (default: standard output)")


def add_metric_argument(parser: CommandParser, **kwargs: Any) -> None:
    parser.add_argument("--metric", choices=METRICS, default="straight", **kwargs)


def emit(command: BaseCommand, text: str, output: str | None, done: str) -> None:
    """``text`` to standard output, or into the file ``output`` and the line ``done`` to standard output."""
    if output:
        write_output(output, text)
        command.stdout.write(done)
    else:
        command.stdout.write(text, ending="" if text.endswith("\n") else "\n")


def write_output(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (:func:`atomic_write`); failures are command errors."""
    target = Path(path)
    if not target.parent.is_dir():
        raise CommandError(f"cannot write {path}: no folder {target.parent}")
    try:
        atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from exc


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Run ``write`` on a temporary file beside ``path``, flush it to disk, then rename it to
    ``path``: a reader sees the old file or the whole new one, never half of it."""
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")  # suffix: GDAL's driver
    try:
        write(tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())  # the bytes reach the disk before the name does
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def positive(value: float | None, name: str, default: float) -> float:
    """``value`` (``default`` when not given), which must be a finite number above zero."""
    value = default if value is None else value
    if not (math.isfinite(value) and value > 0):
        raise CommandError(f"{name} must be a positive number")
    return value


def parse_when(raw: str | None, name: str) -> datetime | None:
    """A date (local midnight) or an ISO date-time (local when it has no offset)."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw) if "T" in raw or " " in raw.strip() else None
        if value is None:
            day = date.fromisoformat(raw)
            value = datetime(day.year, day.month, day.day)
    except ValueError as exc:
        raise CommandError(f"{name}: {raw!r} is not a date (YYYY-MM-DD) or ISO date-time") from exc
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def plain(value: Any) -> Any:
    """A JSON-ready value: NaN/NaT/inf → None, numpy → Python, times → local ISO 8601 to the second,
    sequences → lists and mappings → dicts of plain values."""
    return _plain_function()(value)


@functools.cache
def _plain_function() -> Callable[[Any], Any]:
    """``plain``, made on first use: numpy and pandas are imported then, not with this module
    (every command's), and once, not per value."""
    import numpy as np
    import pandas as pd

    def plain(value: Any) -> Any:
        if value is None or value is pd.NaT:
            return None
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple | np.ndarray):
            return [plain(v) for v in value]
        if isinstance(value, datetime):
            stamp = pd.Timestamp(value)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            return stamp.tz_convert(settings.TIME_ZONE).isoformat(timespec="seconds")
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return plain


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` without its geometry, as dicts of plain values."""
    geometry = getattr(frame, "_geometry_column_name", None) or "geometry"
    columns = [c for c in frame.columns if c != geometry]
    plain = _plain_function()
    return [
        {c: plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame[columns].itertuples(index=False)
    ]
