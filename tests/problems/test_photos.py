"""Photos: real images only, within limits; EXIF GPS read when present."""

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from gridmap.problems.photos import photo_check
from tests.photos import jpeg


def test_a_jpeg_with_gps_gives_its_position():
    info = photo_check(jpeg(lonlat=(120.8712, 31.6206)))
    assert info.format == "JPEG" and info.lonlat is not None
    assert abs(info.lonlat[0] - 120.8712) < 1e-5 and abs(info.lonlat[1] - 31.6206) < 1e-5
    assert photo_check(jpeg()).lonlat is None


def test_an_exif_position_outside_the_service_area_is_dropped(settings):
    """The photo's position is stored as its geometry: it takes the one position rule (range and
    service area) like every other door; a position that fails it is dropped, the photo kept."""
    settings.GRIDMAP = {**settings.GRIDMAP, "SERVICE_AREA": "120.5,31.3,121.2,31.9"}
    assert photo_check(jpeg(lonlat=(120.8712, 31.6206))).lonlat is not None
    far = photo_check(jpeg(lonlat=(116.39, 39.91)))  # Beijing
    swapped = photo_check(jpeg(lonlat=(31.6206, 120.8712 - 90)))  # latitude in range, far away
    assert far.format == "JPEG" and far.lonlat is None and swapped.lonlat is None


@pytest.mark.parametrize(
    "content",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"  <html><body>hi</body></html>",
        b"GIF89a not really",
        b"\xff\xd8\xff\xe0 truncated jpeg",
        b"",
    ],
)
def test_things_that_are_not_photos_are_refused(content):
    with pytest.raises(ValidationError):
        photo_check(io.BytesIO(content))


def test_a_decompression_bomb_and_an_oversized_file_are_refused():
    buf = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buf, "PNG")  # 81 Mpx, a few kB on disk
    with pytest.raises(ValidationError):
        photo_check(buf)
    with pytest.raises(ValidationError):
        photo_check(jpeg(), size=50 * 1024 * 1024)
