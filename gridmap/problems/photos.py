"""Checking uploaded photos (real images within size and pixel limits, and their EXIF position)
and attaching them to a problem: ``problem_photo_attach`` is the one way a problem's photo is
stored, by every door (the pages, the API, Open311, the lifecycle's steps).

A photo is refused unless Pillow recognises it as JPEG, PNG or WebP and it verifies; SVG or HTML
named .jpg, truncated files and decompression bombs are refused before they are stored. The
stored file name never comes from the client (``models.photo_path``).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, UnidentifiedImageError

from gridmap.core.boundary import BoundaryError, check_time
from gridmap.core.geoinput import service_area
from gridmap.problems.models import Problem, ProblemEvent, ProblemPhoto
from layers.validate import GeometryInputError, check_lonlat

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}  # by file suffix


@dataclass(frozen=True)
class PhotoInfo:
    format: str
    width: int
    height: int
    lonlat: tuple[float, float] | None  # from EXIF GPS, when present and sane
    taken_at: datetime | None  # from EXIF, when inside the boundary's window
    time_dropped: str = ""  # why an EXIF time was not used (the photo is still accepted)


def _rational(value: Any) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _dms(values: Any, ref: str) -> float | None:
    try:
        deg, minutes, seconds = (_rational(v) for v in values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    number = deg + minutes / 60 + seconds / 3600
    if not math.isfinite(number):
        return None
    return -number if ref in ("S", "W") else number


def exif_position(image: Image.Image) -> tuple[tuple[float, float] | None, datetime | None, str]:
    """The EXIF GPS position, the time taken, and why a time that was there is not used: a time
    outside the boundary's window (``gridmap.core.boundary.check_time``, e.g. year 1 or next year)
    is dropped, never stored; the photo itself is still accepted."""
    exif = image.getexif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo) if exif else {}
    lonlat = None
    if gps and 2 in gps and 4 in gps:
        lat = _dms(gps[2], str(gps.get(1, "N")))
        lon = _dms(gps[4], str(gps.get(3, "E")))
        try:  # the one rule for a position (range and service area); a bad one is dropped
            lonlat = (
                check_lonlat(lon, lat, area=service_area()) if lat is not None and lon is not None else None
            )
        except GeometryInputError as exc:
            log.info("photo accepted without its EXIF position: %s", exc)
    taken, dropped = None, ""
    raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) if exif else None
    if isinstance(raw, str):
        try:
            taken = check_time(timezone.make_aware(datetime.strptime(raw.strip(), "%Y:%m:%d %H:%M:%S")))
        except (ValueError, OverflowError) as exc:
            taken = None
            if isinstance(exc, BoundaryError):
                dropped = f"EXIF DateTimeOriginal {raw.strip()[:19]!r} not used: {exc}"
                log.info("photo accepted without its time: %s", dropped)
    return lonlat, taken, dropped


def photo_check(upload: IO[bytes], *, size: int | None = None) -> PhotoInfo:
    """Check an uploaded file is a real photo within limits; returns what it says about itself."""
    if size is not None and size > MAX_BYTES:
        raise ValidationError(_("The photo is larger than 10 MB."), code="photo_too_large")
    upload.seek(0)
    head = upload.read(512).lstrip()
    if head[:1] == b"<":
        raise ValidationError(_("SVG or HTML is not accepted as a photo."), code="photo_not_image")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as probe:
                fmt = probe.format
                width, height = probe.size
                if fmt not in FORMATS:
                    raise ValidationError(
                        _("Only JPEG, PNG or WebP photos are accepted."), code="photo_format"
                    )
                if width * height > MAX_PIXELS:
                    raise ValidationError(_("The photo has too many pixels."), code="photo_too_many_pixels")
                probe.verify()
            upload.seek(0)
            with Image.open(upload) as image:
                lonlat, taken, dropped = exif_position(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError):  # fmt: skip
        raise ValidationError(_("The file is not a readable photo."), code="photo_not_image") from None
    upload.seek(0)
    return PhotoInfo(fmt, width, height, lonlat, taken, dropped)


def problem_photo_attach(
    problem: Problem,
    upload: Any,
    *,
    event: ProblemEvent,
    user: Any,
    stage: str = ProblemPhoto.Stage.BEFORE,
    where: Point | None = None,
    info: PhotoInfo | None = None,
) -> ProblemPhoto:
    """Store ``upload`` as a photo of ``problem`` tied to ``event`` (the step it documents).

    ``info``: what ``photo_check`` said of this upload when the caller checked it before writing
    anything; checked here otherwise (a ValidationError for a file that is not a real photo).
    Where it was taken: its EXIF GPS position, else ``where``."""
    info = info or photo_check(upload, size=getattr(upload, "size", None))
    return ProblemPhoto.objects.create(
        problem=problem,
        image=upload,
        stage=stage,
        taken_at=info.taken_at,
        geom=Point(*info.lonlat, srid=4326) if info.lonlat else where,
        uploaded_by=user,
        event=event,
    )
