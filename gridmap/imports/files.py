"""One file into one target, streamed in batches: what ``import_layer`` runs, and what a
background job runs (``tasks.import_layer_file``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridmap.imports.core import ImportReport, Progress, import_frames
from gridmap.imports.targets import TARGETS


def import_file(
    path: Path,
    *,
    target: str,
    report: ImportReport,
    commit: bool = False,
    strict: bool = False,
    layer: str | None = None,
    srid: int | None = None,
    encoding: str | None = None,
    kind: str | None = None,
    key: str | None = None,
    source: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    progress: Progress | None = None,
    opened: Callable[[Any], None] | None = None,
) -> ImportReport:
    """Import ``path`` into ``target`` (all or nothing, see ``import_frames``). ``opened`` hears
    of the open layer (name, CRS, feature count) before the first batch. Raises
    ``layers.validate.GeometryInputError`` (the file or a batch cannot be read), ``ValueError``
    or ``OSError`` when the file cannot be imported at all; nothing is written then."""
    from layers.io import open_layer

    label = kind or target
    with open_layer(
        path,
        layer=layer,
        srid=srid,
        encoding=encoding,
        geometry_types=set(TARGETS[target].geom_types),
        lon_col=lon_col,
        lat_col=lat_col,
    ) as stream:
        if opened is not None:
            opened(stream)
        return import_frames(
            target,
            {label: stream.batches},
            source=source if source is not None else path.stem,
            commit=commit,
            strict=strict,
            key_column=key,
            options={"kind": kind} if kind else {},
            report=report,
            progress=progress,
            total=stream.total,
        )
