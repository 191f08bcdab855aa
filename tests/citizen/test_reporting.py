"""Citizen reporting through the pages: several photos through the one photo path, the
confirmation with case number, grid, community and promised deadline, what is reported nearby
(the API the page asks) and "is it this one?", the rating after closing, the positive list and
the public map behind the administrator's switch, and self sign-up."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gridmap.core.models import PublicAccess
from gridmap.problems.models import PositiveSite, Problem, ProblemEvent, ProblemPhoto, ProblemRating
from tests.citizen.conftest import SPOT, close, report
from tests.factories import LAT0, LON0
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


def signed_in(client, who):
    client.force_login(who)
    return client


def form(t, **kw):
    data = {"category": t["category"].pk, "description": "路口占道经营", "lon": str(SPOT[0]), "lat": str(SPOT[1]),
            "client_uuid": str(uuid.uuid4())}  # fmt: skip
    data.update(kw)
    return data


# -- the report form -------------------------------------------------------------------------------
def test_the_form_speaks_plainly(client, town):
    body = signed_in(client, town["reporter"]).get(reverse("problem-report")).content.decode()
    assert "WGS84" not in body and "0301 " not in body
    assert "问题位置" in body or "Where is the problem" in body
    assert "gridmap/icons/class-03.svg" in body and 'name="photos"' in body and "multiple" in body


def test_several_photos_are_kept_and_the_confirmation_says_where_and_when(client, town):
    c = signed_in(client, town["reporter"])
    photos = [jpeg(f"p{i}.jpg", lonlat=SPOT) for i in range(3)]
    response = c.post(reverse("problem-report"), form(town, photos=photos))
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "problem-reported", args=[problem.pk]
    )
    assert ProblemPhoto.objects.filter(problem=problem, event__action="report").count() == 3
    page = c.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert f'<dd class="case-number">{problem.pk}</dd>' in body
    assert town["grid"].code in body and town["community"].name in body
    assert str(town["category"].deadline_hours) in body  # the promise: hours from dispatch


def test_more_than_six_photos_or_a_fake_one_writes_nothing(client, town):
    c = signed_in(client, town["reporter"])
    response = c.post(reverse("problem-report"), form(town, photos=[jpeg(f"p{i}.jpg") for i in range(7)]))
    assert response.status_code == 400 and response.context["form"].errors["photos"]
    fake = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
    response = c.post(reverse("problem-report"), form(town, photos=[jpeg(), fake]))
    assert response.status_code == 400
    assert not Problem.objects.exists() and not ProblemPhoto.objects.exists()


def test_the_confirmation_is_only_for_who_reported_it(client, town):
    problem = report(town)
    assert (
        signed_in(client, town["other"]).get(reverse("problem-reported", args=[problem.pk])).status_code
        == 404
    )
    assert (
        signed_in(client, town["leader"]).get(reverse("problem-reported", args=[problem.pk])).status_code
        == 404
    )


# -- nearby and "is it this one?" -----------------------------------------------------------------
def test_nearby_lists_open_reports_with_the_public_part_only(client, town):
    first = report(town, description="私密描述 13800000000")
    far = report(town, spot=(LON0 + 0.0035, LAT0 + 0.001))
    c = signed_in(client, town["other"])
    url = reverse("api:problems-nearby")
    answer = c.get(url, {"lon": SPOT[0] + 0.0001, "lat": SPOT[1], "category": town["category"].code})
    assert answer.status_code == 200, answer.content
    found = answer.json()["reports"]
    assert [r["id"] for r in found] == [first.pk] and found[0]["likely_duplicate"] is True
    assert set(found[0]) == {"id", "category", "event_class", "status", "status_label", "distance_m",
                             "reported_on", "likely_duplicate"}  # fmt: skip
    assert "私密" not in answer.content.decode() and far.pk not in [r["id"] for r in found]
    assert c.get(url, {"lon": "1e308", "lat": "31"}).status_code == 400
    assert c.get(url, {"lon": SPOT[0], "lat": SPOT[1], "category": "9999"}).status_code == 404  # no such
    assert c.get(url, {"lon": SPOT[0], "lat": SPOT[1], "x": "1"}).status_code == 400
    client.logout()
    assert client.get(url, {"lon": SPOT[0], "lat": SPOT[1]}).status_code in (401, 403)


def test_is_it_this_one_adds_the_reporter_instead_of_a_new_case(client, town):
    first = report(town)
    c = signed_in(client, town["other"])
    response = c.post(reverse("problem-join"), {"problem": first.pk, "lon": SPOT[0], "lat": SPOT[1]})
    assert response.status_code == 302 and response["Location"] == reverse(
        "problem-reported", args=[first.pk]
    )
    assert Problem.objects.count() == 1 and first.co_reporters.filter(pk=town["other"].pk).exists()
    assert ProblemEvent.objects.filter(problem=first, action="co_report").count() == 1
    c.post(reverse("problem-join"), {"problem": first.pk, "lon": SPOT[0], "lat": SPOT[1]})  # twice: once
    assert ProblemEvent.objects.filter(problem=first, action="co_report").count() == 1
    body = c.get(reverse("problem-mine")).content.decode()
    assert reverse("problem-detail", args=[first.pk]) in body


def test_joining_needs_the_place_near_the_case(client, town):
    first = report(town)
    c = signed_in(client, town["other"])
    far = {"problem": first.pk, "lon": LON0 + 0.0035, "lat": LAT0 + 0.001}
    assert c.post(reverse("problem-join"), far).status_code == 400
    assert c.post(reverse("problem-join"), {**far, "problem": 10**9, "lon": SPOT[0]}).status_code == 404
    assert c.post(reverse("problem-join"), {**far, "problem": "١", "lon": SPOT[0]}).status_code == 400
    assert not first.co_reporters.exists()


# -- the rating -------------------------------------------------------------------------------------
def test_the_reporter_rates_a_closed_case_once(client, town):
    problem = report(town)
    c = signed_in(client, town["reporter"])
    url = reverse("problem-rate", args=[problem.pk])
    assert c.post(url, {"stars": "5"}).status_code == 409  # not closed yet
    assert 'name="stars"' not in c.get(reverse("problem-detail", args=[problem.pk])).content.decode()
    close(town, problem)
    assert 'name="stars"' in c.get(reverse("problem-detail", args=[problem.pk])).content.decode()
    for bad in ("0", "6", "4.5", "٥", "", "1" * 30):
        assert c.post(url, {"stars": bad}).status_code == 400
    assert c.post(url, {"stars": "4", "comment": "a\x00b"}).status_code == 400
    response = c.post(url, {"stars": "4", "comment": "处理及时"})
    assert response.status_code == 302
    rating = ProblemRating.objects.get()
    assert (rating.stars, rating.comment, rating.reporter) == (4, "处理及时", town["reporter"])
    assert c.post(url, {"stars": "1"}).status_code == 409 and ProblemRating.objects.count() == 1
    assert ProblemEvent.objects.filter(problem=problem, action="rate").count() == 1
    assert signed_in(client, town["leader"]).post(url, {"stars": "1"}).status_code == 403


# -- positive list and public map ----------------------------------------------------------------
def test_the_positive_list_page_shows_sites_in_scope_with_their_photo(client, town):
    from django.contrib.gis.geos import Point

    site = PositiveSite.objects.create(name="文明示范街", geom=Point(*SPOT, srid=4326), grid=town["grid"],
                                       community=town["community"], photo=jpeg("s.jpg"))  # fmt: skip
    body = signed_in(client, town["leader"]).get(reverse("positive-list")).content.decode()
    assert "文明示范街" in body and reverse("api:positive-site-photo", args=[site.pk]) in body
    assert "gridmap/pointmap.js" in body
    body = signed_in(client, town["reporter"]).get(reverse("positive-list")).content.decode()
    assert "文明示范街" not in body  # reporters see no site (the selector's scope)


def test_the_public_map_is_off_by_default_and_withholds_personal_data(client, town):
    report(town, description="张三 13800000000 家门口")
    assert client.get(reverse("public-map")).status_code == 404
    PublicAccess.objects.create(public_map=True)
    response = client.get(reverse("public-map"))
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "张三" not in body and "13800000000" not in body and "reporter" not in body.split("point-config")[1]
    )
    assert f"[{round(SPOT[0], 3)}, {round(SPOT[1], 3)}]" in body.replace(",", ", ").replace(",  ", ", ")


# -- sign-up --------------------------------------------------------------------------------------------
def test_sign_up_only_when_allowed_then_as_a_reporter(client, town):
    data = {
        "contact": "138 0013 8000",
        "password1": "a-long-pass-phrase-1",
        "password2": "a-long-pass-phrase-1",
    }
    assert client.get(reverse("signup")).status_code == 404
    assert client.post(reverse("signup"), data).status_code == 404
    PublicAccess.objects.create(self_signup=True)
    assert "signup" in client.get(reverse("login")).content.decode()
    response = client.post(reverse("signup"), data)
    assert response.status_code == 302 and response["Location"] == reverse("problem-report")
    made = get_user_model().objects.get(username="13800138000")
    assert made.profile.role == "reporter" and made.profile.phone == "13800138000"
    client.logout()
    assert client.post(reverse("signup"), data).status_code == 400  # taken
    weak = {"contact": "a@example.org", "password1": "123", "password2": "123"}
    assert client.post(reverse("signup"), weak).status_code == 400
    assert client.post(reverse("signup"), {**weak, "contact": "not a contact"}).status_code == 400
    assert get_user_model().objects.filter(username="a@example.org").count() == 0


def test_sign_up_is_counted_per_address(client, town):
    PublicAccess.objects.create(self_signup=True)
    codes = [client.post(reverse("signup"), {"contact": f"1380013800{i}", "password1": "x", "password2": "x"}).status_code
             for i in range(7)]  # fmt: skip
    assert codes[:5] == [400] * 5 and codes[5:] == [429, 429]


def test_sign_up_needs_csrf(town):
    from django.test import Client

    PublicAccess.objects.create(self_signup=True)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("signup"), {"contact": "13800138001", "password1": "p", "password2": "p"})
    assert (
        response.status_code == 403 and not get_user_model().objects.filter(username="13800138001").exists()
    )


def test_nearby_is_rate_limited_per_user(client, town):
    c = signed_in(client, town["other"])
    url = reverse("api:problems-nearby")
    codes = [c.get(url, {"lon": SPOT[0], "lat": SPOT[1]}).status_code for _ in range(62)]
    assert codes[:60] == [200] * 60 and codes[60:] == [429, 429]


def test_my_reports_offer_the_rating_of_a_closed_case_until_given(client, town):
    problem = close(town, report(town))
    c = signed_in(client, town["reporter"])
    link = f'href="{reverse("problem-detail", args=[problem.pk])}#rating"'
    assert link in c.get(reverse("problem-mine")).content.decode()
    c.post(reverse("problem-rate", args=[problem.pk]), {"stars": "3"})
    assert link not in c.get(reverse("problem-mine")).content.decode()


def test_the_positive_lists_admin_labels_are_chinese(client, town):
    from django.utils import translation

    from gridmap.problems.models import PositiveSiteEvent

    with translation.override("zh-hans"):
        names = [
            str(PositiveSite._meta.get_field(f).verbose_name) for f in ("grid", "community", "created_by")
        ]
        assert names == ["网格", "社区", "创建人"]
        assert str(PositiveSiteEvent._meta.get_field("actor").verbose_name) == "操作人"
        assert str(PositiveSite._meta.verbose_name_plural) == "正面清单"
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    client.force_login(admin)
    body = client.get(
        reverse("admin:problems_positivesite_add"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "创建人" in body and "Created by" not in body
