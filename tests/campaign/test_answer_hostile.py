"""Hostile answers to the answer POST: never a 5xx, nothing stored on a refusal, and whatever was
stored still reads back on the pages and in the workbook."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.campaign.models import Answer, ChecklistItem
from gridmap.campaign.rounds import round_create
from tests.hostile import hostile_number, hostile_text, tally

pytestmark = pytest.mark.django_db


def _text(value):
    return "" if value is None else str(value).encode("utf-8", "replace").decode()


NOT_PHOTOS = [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\xff\xd8\xff\xe0 truncated", b"GIF89a", b""]


@given(findings=st.one_of(hostile_number, hostile_text), note=hostile_text,
       item=st.one_of(hostile_number, st.just("own")), cid=st.one_of(hostile_text, st.just("uuid")),
       na=st.sampled_from(["", "on", "yes", "\x00"]), photo=st.one_of(st.none(), st.sampled_from(NOT_PHOTOS)))  # fmt: skip
def test_hostile_answer(client, town, findings, note, item, cid, na, photo):
    round_ = round_create(
        name="测评", created_by=town.people["admin"], inspectors=[town.people["inspector1"]]
    )
    visit = round_.visits.get(point=town.points["stop"])
    own = ChecklistItem.objects.filter(point_type=visit.point.type).first()
    data = {
        "item": str(own.pk) if item == "own" else _text(item),
        "client_uuid": str(uuid.uuid4()) if cid == "uuid" else _text(cid),
        "findings": _text(findings), "note": _text(note), "not_applicable": na,
    }  # fmt: skip
    if photo is not None:
        data["photo"] = SimpleUploadedFile("x.jpg", photo, content_type="image/jpeg")
    client.force_login(town.people["inspector1"])
    before = Answer.objects.count()
    reply = client.post(reverse("campaign-answer", args=[visit.pk]), data, HTTP_ACCEPT="application/json")
    tally("campaign answer", reply.status_code)
    assert reply.status_code in (200, 201, 400, 409), reply.content[:300]
    if reply.status_code >= 400:
        assert Answer.objects.count() == before
        assert "error" in reply.json()
    else:
        assert client.get(reverse("campaign-round", args=[round_.pk])).status_code == 200
        assert client.get(reverse("campaign-walk", args=[round_.pk])).status_code == 200
        client.force_login(town.people["admin"])
        assert client.get(reverse("campaign-report", args=[round_.pk])).status_code == 200


@pytest.mark.parametrize("findings", ["١٢", "1e3", "-1", "1001", "9" * 40, " ", "1.5"])
def test_findings_must_be_ascii_whole_numbers(client, town, findings):
    round_ = round_create(
        name="测评", created_by=town.people["admin"], inspectors=[town.people["inspector1"]]
    )
    visit = round_.visits.get(point=town.points["stop"])
    item = ChecklistItem.objects.filter(point_type=visit.point.type).first()
    client.force_login(town.people["inspector1"])
    data = {"item": str(item.pk), "client_uuid": str(uuid.uuid4()), "findings": findings}
    reply = client.post(reverse("campaign-answer", args=[visit.pk]), data, HTTP_ACCEPT="application/json")
    assert reply.status_code == (200 if findings == " " else 400) or reply.status_code == 201
    if findings != " ":
        assert reply.status_code == 400 and not Answer.objects.exists()
