"""Problem pages: report (idempotent, raw coordinate checks), my reports, the scoped detail page
with its history and photos, and the step forms (403 / 409 / 400)."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path, reverse

import gridmap.urls
from gridmap.accounts.models import Department, Role
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory, Problem, ProblemEvent, ProblemPhoto, Status
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

# Until gridmap/urls.py includes the problem pages, these tests mount them themselves.
urlpatterns = [path("problems/", include("gridmap.problems.urls")), *gridmap.urls.urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
SPOT = (LON0 + 0.001, LAT0 + 0.001)
OTHER_SPOT = (LON0 + 0.003, LAT0 + 0.001)


@pytest.fixture
def town():
    (community,) = region_tree()
    leader, other_leader = user("leader", Role.GRID_LEADER), user("other", Role.GRID_LEADER)
    g1 = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    grid(community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=other_leader)
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    return {"grid": g1, "leader": leader, "other_leader": other_leader, "category": category,
            "handler": user("handler", Role.DEPARTMENT, department=dept), "inspector": inspector,
            "reporter": user("reporter", Role.REPORTER), "dept": dept}  # fmt: skip


def as_user(client, who):
    client.force_login(who)
    return client


def form_data(town, **kw):
    data = {"category": town["category"].pk, "description": "路口占道经营", "lon": str(SPOT[0]),
            "lat": str(SPOT[1]), "client_uuid": str(uuid.uuid4())}  # fmt: skip
    data.update(kw)
    return data


def reported(town, spot=SPOT, who="reporter"):
    problem, _ = problem_create(lon=spot[0], lat=spot[1], category=town["category"], reporter=town[who])
    return problem


def test_report_page_has_a_client_id_and_a_location_button(client, town):
    response = as_user(client, town["reporter"]).get(reverse("problem-report"))
    body = response.content.decode()
    assert response.status_code == 200
    # the location button is wired by the page's script file (no inline script)
    assert 'name="client_uuid"' in body and 'id="locate"' in body and "gridmap/picker.js" in body
    uuid.UUID(response.context["form"].initial["client_uuid"])
    assert "http://" not in body and "https://" not in body  # no external assets


def test_report_creates_a_problem_with_its_photo(client, town):
    c = as_user(client, town["reporter"])
    response = c.post(reverse("problem-report"), form_data(town, photos=jpeg("scene.jpg", lonlat=SPOT)))
    assert response.status_code == 302 and response["Location"] == reverse(
        "problem-reported", args=[Problem.objects.get().pk]
    )
    problem = Problem.objects.get()
    assert (problem.reporter, problem.grid, problem.status) == (
        town["reporter"],
        town["grid"],
        Status.REPORTED,
    )
    photo = ProblemPhoto.objects.get()
    assert photo.stage == "before" and photo.problem == problem and photo.event.action == "report"
    assert photo.image.name.endswith(".jpg") and "scene" not in photo.image.name
    mine = c.get(reverse("problem-mine"))
    assert f'href="{reverse("problem-detail", args=[problem.pk])}"' in mine.content.decode()
    assert str(Status.REPORTED.label) in mine.content.decode() or "已上报" in mine.content.decode()


def test_a_double_submit_returns_the_first_problem(client, town):
    c = as_user(client, town["reporter"])
    data = form_data(town)
    first = c.post(reverse("problem-report"), {**data, "photos": jpeg()})
    again = c.post(reverse("problem-report"), {**data, "photos": jpeg(), "description": "改了"})
    assert first.status_code == again.status_code == 302
    assert Problem.objects.count() == 1 and ProblemPhoto.objects.count() == 1
    assert Problem.objects.get().description == "路口占道经营"


@pytest.mark.parametrize(
    "lon,lat",
    [("1e308", str(SPOT[1])), ("NaN", str(SPOT[1])), ("inf", "31.6"), ("东经120度", "31.6"),
     (str(SPOT[0]), "91"), ("", "31.6")],
)  # fmt: skip
def test_bad_coordinates_are_a_400_and_write_nothing(client, town, lon, lat):
    c = as_user(client, town["reporter"])
    response = c.post(reverse("problem-report"), form_data(town, lon=lon, lat=lat, photos=jpeg()))
    assert response.status_code == 400
    assert response.context["form"].errors["lon"]
    assert 'class="error"' in response.content.decode()
    assert not Problem.objects.exists() and not ProblemPhoto.objects.exists()


def test_a_file_that_is_not_a_photo_is_a_400(client, town):
    fake = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
    response = as_user(client, town["reporter"]).post(reverse("problem-report"), form_data(town, photos=fake))
    assert response.status_code == 400 and response.context["form"].errors["photos"]
    assert not Problem.objects.exists()


def test_unknown_category_is_a_400(client, town):
    response = as_user(client, town["reporter"]).post(
        reverse("problem-report"), form_data(town, category=999999)
    )
    assert response.status_code == 400 and not Problem.objects.exists()


def test_anonymous_users_are_sent_to_login(client, town):
    assert client.get(reverse("problem-report")).status_code == 302
    assert client.post(reverse("problem-report"), form_data(town)).status_code == 302
    assert not Problem.objects.exists()


def test_my_reports_lists_only_my_own(client, town):
    mine = reported(town)
    someone = user("someone", Role.REPORTER)
    theirs, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=town["category"], reporter=someone)
    body = as_user(client, town["reporter"]).get(reverse("problem-mine")).content.decode()
    assert reverse("problem-detail", args=[mine.pk]) in body
    assert reverse("problem-detail", args=[theirs.pk]) not in body


def test_detail_is_scoped_and_shows_history_and_photos(client, town):
    problem = reported(town)
    ProblemPhoto.objects.create(problem=problem, image=jpeg("a.jpg"), stage="before")
    c = as_user(client, town["leader"])
    response = c.get(reverse("problem-detail", args=[problem.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "timeline" in body and 'value="file"' in body  # history and the allowed step
    photo = problem.photos.get()
    assert reverse("problem-photo", args=[problem.pk, photo.pk]) in body
    assert c.get(reverse("problem-photo", args=[problem.pk, photo.pk]))["Content-Type"] == "image/jpeg"
    other = as_user(client, town["other_leader"])
    assert other.get(reverse("problem-detail", args=[problem.pk])).status_code == 404
    assert other.get(reverse("problem-photo", args=[problem.pk, photo.pk])).status_code == 404
    assert other.get(reverse("problem-detail", args=[987654])).status_code == 404


def test_a_reporter_sees_no_step_forms(client, town):
    problem = reported(town)
    body = (
        as_user(client, town["reporter"]).get(reverse("problem-detail", args=[problem.pk])).content.decode()
    )
    assert 'name="action"' not in body


def post_step(client, problem, action, **data):
    return client.post(reverse("problem-transition", args=[problem.pk]), {"action": action, **data})


def test_step_forms_round_trip_with_403_409_and_400(client, town):
    problem = reported(town)
    leader = as_user(client, town["leader"])
    assert post_step(leader, problem, "reject").status_code == 400  # a rejection needs a note
    response = post_step(leader, problem, "file")
    assert response.status_code == 302 and response["Location"] == reverse(
        "problem-detail", args=[problem.pk]
    )
    problem.refresh_from_db()
    assert problem.status == Status.FILED and problem.filed_at is not None
    conflict = post_step(leader, problem, "file")  # filing twice
    assert conflict.status_code == 409
    body = conflict.content.decode()
    assert "派遣" in body and "重复合并" in body  # the steps allowed now are listed
    assert post_step(leader, problem, "dispatch", department="nope").status_code == 400
    reporter = as_user(client, town["reporter"])
    assert post_step(reporter, problem, "dispatch").status_code == 403
    leader = as_user(client, town["leader"])
    assert post_step(leader, problem, "dispatch", department="cg").status_code == 302
    handler = as_user(client, town["handler"])
    response = client.post(
        reverse("problem-transition", args=[problem.pk]),
        {"action": "handle", "note": "已清理", "photos": [jpeg(lonlat=SPOT)]},
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Status.HANDLED and problem.handled_by == town["handler"]
    assert problem.photos.filter(stage="after").count() == 1
    assert post_step(handler, problem, "verify_pass").status_code == 403
    inspector = as_user(client, town["inspector"])
    assert post_step(inspector, problem, "verify_pass", note="核查通过").status_code == 302
    problem.refresh_from_db()
    assert problem.status == Status.CLOSED
    actions = list(ProblemEvent.objects.filter(problem=problem).values_list("action", flat=True))
    assert actions == ["report", "file", "dispatch", "handle", "verify_pass"]
    page = inspector.get(reverse("problem-detail", args=[problem.pk])).content.decode()
    assert "核查通过" in page and "已清理" in page


def test_steps_on_a_problem_out_of_scope_are_a_404(client, town):
    problem = reported(town)
    other = as_user(client, town["other_leader"])
    assert post_step(other, problem, "file").status_code == 404
    assert Problem.objects.get(pk=problem.pk).status == Status.REPORTED


def test_an_unknown_step_is_a_409(client, town):
    problem = reported(town)
    assert post_step(as_user(client, town["leader"]), problem, "explode").status_code == 409


def test_steps_are_post_only(client, town):
    problem = reported(town)
    assert (
        as_user(client, town["leader"]).get(reverse("problem-transition", args=[problem.pk])).status_code
        == 405
    )
