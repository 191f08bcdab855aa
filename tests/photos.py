"""Real image files for tests, made with Pillow (optionally with EXIF GPS)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image


def _dms(value: float) -> tuple[float, float, float]:
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60, 4)
    return (float(deg), float(minutes), float(seconds))


def jpeg(
    name: str = "after.jpg",
    *,
    lonlat: tuple[float, float] | None = None,
    size=(64, 48),
    taken: str | None = None,
) -> SimpleUploadedFile:
    """``taken``: EXIF DateTimeOriginal as written in the file (``YYYY:MM:DD HH:MM:SS``)."""
    image = Image.new("RGB", size, (120, 160, 90))
    exif = Image.Exif()
    if taken is not None:
        exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: taken}
    if lonlat is not None:
        lon, lat = lonlat
        exif[ExifTags.IFD.GPSInfo] = {1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)),
                                      3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))}  # fmt: skip
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")
