"""The community's ten steps: the seed's catalogue, who sees and works which community, evidence
through the photo check (or a real PDF), and stage acceptances signed by the street office."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.accounts.models import Department, Role
from gridmap.tensteps.catalogue import STEPS
from gridmap.tensteps.models import Acceptance, Evidence, ItemProgress, ItemStatus, Signer, Step, StepItem
from gridmap.tensteps.selectors import communities_for_steps, progress_of
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002), leader=leader)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(c1)
    street = user("street", Role.REPORTER)
    Signer.objects.create(user=street, subdistrict=c1.subdistrict)
    dept = Department.objects.create(code="cg", name="城管")
    return {
        "c1": c1,
        "c2": c2,
        "head": user("head", Role.COMMUNITY_HEAD, community=c1),
        "head2": user("head2", Role.COMMUNITY_HEAD, community=c2),
        "leader": leader,
        "inspector": inspector,
        "street": street,
        "admin": user("admin", Role.ADMIN),
        "planner": user("planner", Role.PLANNER),
        "dept": user("dept", Role.DEPARTMENT, department=dept),
        "reporter": user("reporter"),
    }


def test_the_catalogue_holds_the_seeds_ten_steps_in_both_languages():
    steps = list(Step.objects.all())
    assert [s.number for s in steps] == list(range(1, 11))
    assert steps[0].name == "成立创建工作领导小组" and steps[9].name == "迎检准备"
    assert StepItem.objects.count() == sum(len(items) for _, _, items in STEPS) == 49
    assert not StepItem.objects.filter(name_en="").exists()


SEES = {
    "admin": {"c1", "c2"}, "planner": {"c1", "c2"}, "head": {"c1"}, "head2": {"c2"}, "leader": {"c2"},
    "inspector": {"c1"}, "street": {"c1", "c2"}, "dept": set(), "reporter": set(),
}  # fmt: skip


@pytest.mark.parametrize("who", sorted(SEES))
def test_each_role_sees_the_communities_of_its_scope(client, town, who):
    """The street's signer signs for its street: both test communities lie in it."""
    u = town[who]
    assert {c.code for c in communities_for_steps(u)} == {town[c].code for c in SEES[who]}
    client.force_login(u)
    assert client.get(reverse("tensteps")).status_code == 200
    for c in ("c1", "c2"):
        status = client.get(reverse("tensteps-community", args=[town[c].code])).status_code
        assert status == (200 if c in SEES[who] else 404)


def test_anonymous_is_sent_to_log_in(client, town):
    response = client.get(reverse("tensteps-community", args=[town["c1"].code]))
    assert response.status_code == 302 and "login" in response["Location"]


def _item(step=3, number=1):
    return StepItem.objects.get(step__number=step, number=number)


def post_item(client, town, who, status="done", note="清理完毕", community="c1", item=None):
    client.force_login(town[who])
    item = item or _item()
    url = reverse("tensteps-item", args=[town[community].code, item.pk])
    return client.post(url, {"status": status, "note": note})


def test_the_head_works_their_communitys_items_and_no_one_else_below_admin(client, town):
    assert post_item(client, town, "head").status_code == 302
    progress = ItemProgress.objects.get(community=town["c1"], item=_item())
    assert (
        progress.status == ItemStatus.DONE
        and progress.note == "清理完毕"
        and progress.updated_by == town["head"]
    )
    for who in ("inspector", "street", "planner"):  # they see c1 but do not work it
        assert post_item(client, town, who, status="in_progress").status_code == 403
    assert post_item(client, town, "head2").status_code == 404  # not theirs to see
    assert post_item(client, town, "admin", status="in_progress").status_code == 302
    assert ItemProgress.objects.get(community=town["c1"], item=_item()).status == ItemStatus.IN_PROGRESS


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.one_of(st.sampled_from(["done", "bogus", "", "DONE"]), st.text(max_size=30)),
    note=st.text(max_size=600),
)
def test_any_item_post_is_saved_whole_or_refused_with_a_400(client, town, status, note):
    ItemProgress.objects.all().delete()
    response = post_item(client, town, "head", status=status, note=note)
    valid = status in ItemStatus.values and len(note.strip()) <= 500 and "\x00" not in note
    assert response.status_code == (302 if valid else 400)
    assert ItemProgress.objects.exists() == valid


def add_evidence(client, town, upload, who="head", caption="现场照片"):
    client.force_login(town[who])
    url = reverse("tensteps-evidence-add", args=[town["c1"].code, _item().pk])
    return client.post(url, {"file": upload, "caption": caption})


def test_evidence_is_a_checked_photo_or_a_real_pdf_served_only_within_the_scope(client, town):
    assert add_evidence(client, town, jpeg("photo.jpg")).status_code == 302
    assert (
        add_evidence(client, town, SimpleUploadedFile("plan.pdf", PDF, "application/pdf")).status_code == 302
    )
    photo, pdf = Evidence.objects.order_by("pk")
    assert (photo.extension, pdf.extension) == ("jpg", "pdf")
    assert "photo" not in photo.file.name and photo.file.name.startswith(f"steps/{town['c1'].pk}/")
    progress = ItemProgress.objects.get()
    assert progress.status == ItemStatus.IN_PROGRESS  # evidence starts a sub-item not started
    response = client.get(reverse("tensteps-evidence", args=[pdf.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    client.force_login(town["inspector"])  # patrols c1
    assert client.get(reverse("tensteps-evidence", args=[photo.pk])).status_code == 200
    for who in ("head2", "dept", "reporter"):
        client.force_login(town[who])
        assert client.get(reverse("tensteps-evidence", args=[photo.pk])).status_code == 404


@pytest.mark.parametrize(
    "name, content",
    [
        ("x.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("x.pdf", PDF[:-7]),  # cut before its end
        ("x.jpg", jpeg().read()[:200]),  # a truncated photo
        ("x.docx", b"PK\x03\x04 not a photo"),
        ("x.pdf", b""),
    ],
)
def test_a_refused_file_writes_nothing(client, town, name, content):
    response = add_evidence(client, town, SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert not Evidence.objects.exists() and not ItemProgress.objects.exists()


def test_others_cannot_add_evidence(client, town):
    assert add_evidence(client, town, jpeg(), who="inspector").status_code == 403
    assert not Evidence.objects.exists()


def sign(client, town, who, number, decision, remarks=""):
    client.force_login(town[who])
    url = reverse("tensteps-acceptance", args=[town["c1"].code, number])
    return client.post(url, {"decision": decision, "remarks": remarks})


def test_the_street_signs_a_step_only_when_every_sub_item_is_done(client, town):
    step = Step.objects.get(number=6)  # one sub-item: 文化广场、晨练点完善
    (item,) = step.items.all()
    assert sign(client, town, "street", 6, "accepted").status_code == 400
    assert sign(client, town, "street", 6, "returned").status_code == 400  # returning says why
    assert sign(client, town, "street", 6, "returned", "晨练点缺少照明").status_code == 302
    assert not Acceptance.objects.filter(decision="accepted").exists()
    post_item(client, town, "head", item=item)
    for who in ("head", "admin", "planner", "inspector"):  # not the street office's signer
        assert sign(client, town, who, 6, "accepted").status_code == 403
    assert sign(client, town, "street", 6, "accepted").status_code == 302
    (c1,) = progress_of([town["c1"]])
    assert (c1.items_done, c1.items_total, c1.steps_accepted, c1.accepted_steps) == (1, 49, 1, [step.pk])
    page = client.get(reverse("tensteps-community", args=[town["c1"].code])).content.decode()
    assert "晨练点缺少照明" in page
    post_item(client, town, "head", status="in_progress", item=item)  # set back: the step reopens
    (c1,) = progress_of([town["c1"]])
    assert c1.steps_accepted == 0 and c1.items_done == 0


def test_the_index_shows_every_communitys_progress_in_a_fixed_number_of_queries(
    client, town, django_assert_max_num_queries
):
    for n in (1, 2, 3):
        post_item(client, town, "admin", item=_item(3, n), community="c1")
    post_item(client, town, "admin", item=_item(4, 1), community="c2", status="in_progress")
    client.force_login(town["planner"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("tensteps")).content.decode()
    assert "3 / 49" in page and "0 / 49" in page


def test_the_pages_speak_english_when_asked(client, town):
    from django.conf import settings as django_settings

    client.force_login(town["head"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("tensteps-community", args=[town["c1"].code])).content.decode()
    assert "Set up the campaign&#x27;s leading group" in page or "Set up the campaign's leading group" in page
    assert "成立创建工作领导小组" not in page


def test_a_photo_stream_is_stored_from_its_start(town):
    """The service reads the upload's type and stores it whole (the read position is rewound)."""
    from gridmap.tensteps.services import add_evidence as add

    upload = jpeg()
    upload.read(10)
    evidence = add(town["head"], town["c1"], _item(), upload, "")
    with evidence.file.open("rb") as f:
        assert f.read() == jpeg().read()
    assert io.BytesIO  # noqa: B018 - io kept for clarity of the stream's type


def test_the_dashboards_show_the_progress(client, town):
    for n in (1, 2):
        post_item(client, town, "head", item=_item(3, n))
    client.force_login(town["head"])
    head = client.get(reverse("dashboard")).content.decode()
    assert "已完成 2 / 49 个子项；已验收 0 / 10 个步骤" in head
    assert reverse("tensteps-community", args=[town["c1"].code]) in head
    client.force_login(town["planner"])
    planner = client.get(reverse("dashboard"))
    assert planner.context["steps"] == {"communities": 2, "all_accepted": 0, "share": 2}  # 2 of 98
    assert reverse("tensteps") in planner.content.decode()


def test_the_figures_page_draws_the_progress_of_the_users_communities(client, town):
    for n in (1, 2, 3):
        post_item(client, town, "admin", item=_item(3, n), community="c2")
    client.force_login(town["planner"])
    page = client.get(reverse("evaluation-figures")).content.decode()
    assert 'id="ten-steps"' in page and "3 / 49" in page
    assert page.index(town["c2"].name, page.index('id="ten-steps"')) < page.index(
        town["c1"].name, page.index('id="ten-steps"')
    )  # the furthest first
    client.force_login(town["head"])
    head = client.get(reverse("evaluation-figures")).content.decode()
    section = head[head.index('id="ten-steps"') :]
    assert town["c1"].name in section and town["c2"].name not in section
