"""A service under load and a restored service, for tests/core/test_backup.py: run as its own
process (``python -m tests.core.backup_load <step> ...``) against the database of DATABASE_URL
and the media folder of GRIDMAP_MEDIA_ROOT, through the real API (views, intake, photo path).

  setup            a community with a grid, a reporter and an administrator (with API tokens),
                   one positive-list site
  write ACK STOP   until the file STOP exists: report a problem, add a photo to it, and every
                   tenth time replace the site's photo; each acknowledged write (201) is appended
                   to ACK as a line once answered ("report <id>", "photo <problem id> <photo id>"),
                   any other answer as "status <code> <path>"
  check IDS        as the administrator: GET every problem of IDS (one id a line) and each of its
                   photos; then every file field of every row, with the SHA-256 of its file, and
                   every problem photo's id and file name.
                   Prints one JSON object.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import uuid
from pathlib import Path

import django


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (seed % 256, (seed * 7) % 256, 90))
    buf = io.BytesIO()
    image.save(buf, "JPEG")
    return buf.getvalue()


def _client(username: str):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user__username=username).key}")
    return client


def setup() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.authtoken.models import Token

    from gridmap.accounts.models import Role
    from tests.factories import LAT0, LON0, grid, region_tree, user

    (community,) = region_tree()
    reporter, admin = user("reporter", Role.REPORTER), user("admin", Role.ADMIN)
    grid(community, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002))
    for u in (reporter, admin):
        Token.objects.create(user=u)
    client = _client("admin")
    site = client.post(
        "/api/v1/positive-sites/",
        {"lon": LON0 + 0.002, "lat": LAT0 + 0.001, "name": "示范点", "description": "整洁"},
        format="json",
    )
    assert site.status_code == 201, site.content
    pk = site.json()["id"]
    upload = SimpleUploadedFile("site.jpg", _jpeg(0), content_type="image/jpeg")
    answer = client.post(f"/api/v1/positive-sites/{pk}/photo/", {"image": upload}, format="multipart")
    assert answer.status_code == 200, answer.content


def write(ack: Path, stop: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gridmap.problems.models import PositiveSite
    from tests.factories import LAT0, LON0

    reporter, admin = _client("reporter"), _client("admin")
    site = PositiveSite.objects.get().pk
    with ack.open("a", encoding="utf-8") as out:

        def say(line: str) -> None:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

        i = 0
        while not stop.exists():
            i += 1
            body = {"lon": LON0 + 0.001 + (i % 50) * 0.00004, "lat": LAT0 + 0.001, "category": "0301",
                    "description": f"占道经营 {i}", "client_uuid": str(uuid.uuid4())}  # fmt: skip
            answer = reporter.post("/api/v1/problems/", body, format="json")
            if answer.status_code != 201:
                say(f"status {answer.status_code} /api/v1/problems/")
                continue
            pk = answer.json()["id"]
            say(f"report {pk}")
            photo = SimpleUploadedFile(f"p{i}.jpg", _jpeg(i), content_type="image/jpeg")
            answer = reporter.post(f"/api/v1/problems/{pk}/photos/", {"image": photo}, format="multipart")
            if answer.status_code != 201:
                say(f"status {answer.status_code} /api/v1/problems/{pk}/photos/")
            else:
                say(f"photo {pk} {answer.json()['id']}")
            if i % 10 == 0:
                photo = SimpleUploadedFile(f"s{i}.jpg", _jpeg(i + 1), content_type="image/jpeg")
                answer = admin.post(
                    f"/api/v1/positive-sites/{site}/photo/", {"image": photo}, format="multipart"
                )
                if answer.status_code != 200:
                    say(f"status {answer.status_code} /api/v1/positive-sites/{site}/photo/")


def check(ids: Path) -> None:
    from django.apps import apps
    from django.conf import settings
    from django.db.models import FileField

    client = _client("admin")
    problems = {}
    for pk in [int(line) for line in ids.read_text().split()]:
        answer = client.get(f"/api/v1/problems/{pk}/")
        photos = {}
        if answer.status_code == 200:
            for photo in answer.json()["photos"]:
                got = client.get(photo["url"])
                body = b"".join(got.streaming_content) if got.streaming else got.content
                photos[photo["url"]] = [got.status_code, hashlib.sha256(body).hexdigest()]
        problems[pk] = {"status": answer.status_code, "photos": photos}
    files = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, FileField):
                for name in model.objects.exclude(**{f.name: ""}).values_list(f.name, flat=True):
                    path = Path(settings.MEDIA_ROOT) / name
                    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
                    files.append([model._meta.label, name, sha])
    from gridmap.problems.models import ProblemPhoto

    photos = list(ProblemPhoto.objects.values_list("id", "image"))
    print(json.dumps({"problems": problems, "files": files, "photos": photos}))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    step, *args = sys.argv[1:]
    {"setup": setup, "write": write, "check": check}[step](*map(Path, args))
