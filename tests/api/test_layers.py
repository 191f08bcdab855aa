"""GeoJSON layers: scoping by role, filters, paging and details."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Problem
from tests.api.conftest import SPOT, SPOT2, SPOT3, report
from tests.factories import LAT0, LON0

pytestmark = pytest.mark.django_db


def ids(response) -> list:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return [f["id"] for f in response.json()["features"]]


def test_grids_are_scoped_by_role(town, as_user):
    t = town
    codes = lambda u: [f["properties"]["code"] for f in as_user(u).get("/api/v1/grids/").json()["features"]]  # noqa: E731
    assert codes(t["admin"]) == [t["g1"].code, t["g2"].code, t["g3"].code]
    assert codes(t["leader"]) == [t["g1"].code]
    assert codes(t["head2"]) == [t["g3"].code]
    assert codes(t["reporter"]) == []
    body = as_user(t["leader"]).get("/api/v1/grids/").json()
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"] == {"code": t["g1"].code, "name": "第1网格", "community": t["c1"].code,
                                     "community_name": "社区1", "area_m2": None, "leader": "leader"}  # fmt: skip
    assert body["numberMatched"] == 1 and body["numberReturned"] == 1 and body["links"] == []


def test_grid_detail_of_another_grid_is_404(town, as_user):
    t = town
    assert as_user(t["leader"]).get(f"/api/v1/grids/{t['g1'].pk}/").json()["id"] == t["g1"].pk
    response = as_user(t["leader"]).get(f"/api/v1/grids/{t['g2'].pk}/")
    assert response.status_code == 404 and "detail" in response.json()


def in_chinese(client):
    """The client with Chinese chosen (the language cookie, as the site's language switch sets)."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def test_buildings_and_facilities(town, as_user):
    t = town
    body = as_user(t["leader"]).get("/api/v1/buildings/").json()
    assert [f["properties"]["address"] for f in body["features"]] == ["古里镇1号"]
    assert as_user(t["leader2"]).get("/api/v1/buildings/").json()["features"] == []
    facilities = as_user(t["admin"]).get("/api/v1/facilities/").json()["features"]
    assert {f["properties"]["kind"] for f in facilities} == {"hydrant", "fire_lane"}
    lane = next(f for f in facilities if f["properties"]["kind"] == "fire_lane")
    assert lane["geometry"]["type"] == "LineString"
    only = as_user(t["admin"]).get("/api/v1/facilities/?kind=hydrant").json()["features"]
    assert [f["properties"]["name"] for f in only] == ["H1"] and only[0]["properties"]["attrs"] == {"pn": 1}
    assert only[0]["properties"]["kind_name"] == "fire hydrant"  # the request's language
    chinese = in_chinese(as_user(t["admin"])).get("/api/v1/facilities/?kind=hydrant").json()
    assert chinese["features"][0]["properties"]["kind_name"] == "消火栓"
    assert [
        f["properties"]["name"] for f in as_user(t["leader"]).get("/api/v1/facilities/").json()["features"]
    ] == ["H1"]
    fid = only[0]["id"]
    assert as_user(t["leader2"]).get(f"/api/v1/facilities/{fid}/").status_code == 404


def test_problem_features_carry_the_loop_state(town, as_user):
    t = town
    p = report(t, description="<script>alert(1)</script> 占道 🍉")
    feature = as_user(t["leader"]).get(f"/api/v1/problems/{p.pk}/").json()
    props = feature["properties"]
    assert feature["geometry"] == {
        "type": "Point",
        "coordinates": [pytest.approx(SPOT[0]), pytest.approx(SPOT[1])],
    }
    assert props["description"] == "<script>alert(1)</script> 占道 🍉"  # text stays text
    assert props["category"] == "0301" and props["category_name"] == "street vending"  # asked in English
    chinese = in_chinese(as_user(t["leader"])).get(f"/api/v1/problems/{p.pk}/").json()
    assert chinese["properties"]["category_name"] == "占道经营"
    assert (
        props["status"] == "reported" and props["grid"] == t["g1"].code and props["community"] == t["c1"].code
    )
    assert props["actions"] == ["file", "reject", "mark_duplicate"] and props["overdue"] is False
    assert props["uuid"] == str(p.uuid) and props["reported_at"].endswith("Z")
    assert feature["photos"] == []
    # the reporter sees it without actions; another reporter does not see it at all
    assert as_user(t["reporter"]).get(f"/api/v1/problems/{p.pk}/").json()["properties"]["actions"] == []
    assert as_user(t["reporter2"]).get(f"/api/v1/problems/{p.pk}/").status_code == 404


def test_problems_are_scoped_and_filtered(town, as_user):
    t = town
    a = report(t)
    b = report(t, spot=SPOT2)
    c = report(t, spot=SPOT3, reporter="reporter2", category=t["category"].__class__.objects.get(code="0302"))
    admin = as_user(t["admin"])
    assert ids(admin.get("/api/v1/problems/")) == [c.pk, b.pk, a.pk]  # newest first
    assert ids(as_user(t["leader"]).get("/api/v1/problems/")) == [a.pk]
    assert ids(as_user(t["head"]).get("/api/v1/problems/")) == [b.pk, a.pk]
    assert ids(as_user(t["handler"]).get("/api/v1/problems/")) == [b.pk, a.pk]  # category 0301 only
    assert ids(as_user(t["reporter2"]).get("/api/v1/problems/")) == [c.pk]
    box = f"{LON0},{LAT0},{LON0 + 0.0015},{LAT0 + 0.002}"
    assert ids(admin.get(f"/api/v1/problems/?bbox={box}")) == [a.pk]
    assert ids(admin.get("/api/v1/problems/?category=0302,0101")) == [c.pk]
    assert ids(admin.get(f"/api/v1/problems/?grid={t['g2'].code}")) == [b.pk]
    assert ids(admin.get(f"/api/v1/problems/?community={t['c2'].code}")) == [c.pk]
    problem_transition(problem_id=a.pk, action="reject", actor=t["leader"], note="不属实")
    assert ids(admin.get("/api/v1/problems/?status=rejected")) == [a.pk]
    assert ids(admin.get("/api/v1/problems/?open=1")) == [c.pk, b.pk]
    assert ids(admin.get("/api/v1/problems/?open=0")) == [a.pk]


def test_reported_times_filter_with_and_without_offset(town, as_user):
    t = town
    at = timezone.make_aware(timezone.datetime(2024, 5, 1, 8, 0), timezone.get_default_timezone())
    old = report(t, reported_at=at)  # 08:00 Shanghai = 00:00 UTC
    new = report(t)
    admin = as_user(t["admin"])
    assert ids(admin.get("/api/v1/problems/?reported_before=2024-05-01T08:30")) == [old.pk]  # naive: Shanghai
    assert ids(admin.get("/api/v1/problems/?reported_before=2024-05-01T00:30:00Z")) == [old.pk]
    assert ids(admin.get("/api/v1/problems/?reported_before=2024-05-01T07:59:00%2B08:00")) == []
    assert ids(admin.get("/api/v1/problems/?reported_before=2024-05-01T08:01:00+08:00")) == [
        old.pk
    ]  # '+' as ' '
    assert ids(admin.get("/api/v1/problems/?reported_after=2024-05-02")) == [new.pk]
    feature = admin.get(f"/api/v1/problems/{old.pk}/").json()
    assert feature["properties"]["reported_at"] == "2024-05-01T00:00:00Z"


def test_overdue_filter_and_flag(town, as_user):
    t = town
    p = report(t)
    report(t, spot=SPOT2)
    problem_transition(problem_id=p.pk, action="file", actor=t["leader"])
    problem_transition(problem_id=p.pk, action="dispatch", actor=t["leader"])
    Problem.objects.filter(pk=p.pk).update(deadline=timezone.now() - timedelta(hours=1))
    admin = as_user(t["admin"])
    body = admin.get("/api/v1/problems/?overdue=1").json()
    assert [f["id"] for f in body["features"]] == [p.pk] and body["features"][0]["properties"][
        "overdue"
    ] is True
    assert p.pk not in ids(admin.get("/api/v1/problems/?overdue=0"))


def test_paging_counts_and_links(town, as_user):
    t = town
    made = [report(t, spot=(SPOT[0] + i * 0.0001, SPOT[1])).pk for i in range(5)][::-1]
    admin = as_user(t["admin"])
    first = admin.get("/api/v1/problems/?page_size=2&category=0301").json()
    assert [f["id"] for f in first["features"]] == made[:2]
    assert first["numberMatched"] == 5 and first["numberReturned"] == 2
    assert [link["rel"] for link in first["links"]] == ["next"]
    nxt = first["links"][0]["href"]
    assert (
        nxt.startswith("http://testserver/api/v1/problems/?") and "page=2" in nxt and "category=0301" in nxt
    )
    second = admin.get(nxt).json()
    assert [f["id"] for f in second["features"]] == made[2:4]
    assert {link["rel"] for link in second["links"]} == {"prev", "next"}
    last = admin.get("/api/v1/problems/?page_size=2&page=3").json()
    assert [f["id"] for f in last["features"]] == made[4:] and last["numberMatched"] == 5
    assert [link["rel"] for link in last["links"]] == ["prev"]
    beyond = admin.get("/api/v1/problems/?page_size=2&page=9").json()
    assert beyond["features"] == [] and beyond["numberMatched"] == 5 and beyond["numberReturned"] == 0
    whole = admin.get("/api/v1/problems/?page_size=10").json()
    assert whole["numberMatched"] == 5 and whole["numberReturned"] == 5 and whole["links"] == []
    none = admin.get("/api/v1/problems/?page_size=10&category=0101").json()
    assert none["numberMatched"] == 0 and none["features"] == []


def test_a_leader_listed_twice_on_a_grid_sees_each_problem_once(town, as_user):
    t = town
    t["g1"].direct_responsible.add(t["leader"])
    t["g2"].direct_responsible.add(t["leader"])
    made = {report(t, spot=(SPOT[0] + i * 0.0001, SPOT[1])).pk for i in range(3)} | {report(t, spot=SPOT2).pk}
    body = as_user(t["leader"]).get("/api/v1/problems/?page_size=3").json()
    assert body["numberMatched"] == 4 and body["numberReturned"] == 3
    rest = as_user(t["leader"]).get("/api/v1/problems/?page_size=3&page=2").json()
    assert {f["id"] for f in body["features"] + rest["features"]} == made


def test_renamed_codes_show_at_once_however_they_are_written(town, as_user):
    from django.db import connection

    from gridmap.geography.models import Grid
    from gridmap.problems.models import EventCategory

    t = town
    p = report(t)
    admin = as_user(t["admin"])
    assert admin.get(f"/api/v1/problems/{p.pk}/").json()["properties"]["grid"] == t["g1"].code
    t["g1"].code = "320581107001099"
    t["g1"].save()
    assert admin.get(f"/api/v1/problems/{p.pk}/").json()["properties"]["grid"] == "320581107001099"
    Grid.objects.filter(pk=t["g1"].pk).update(code="320581107001098")  # no signal: the stamp moves
    assert admin.get(f"/api/v1/problems/{p.pk}/").json()["properties"]["grid"] == "320581107001098"
    with connection.cursor() as cursor:  # raw SQL, as another process could write
        table = connection.ops.quote_name(EventCategory._meta.db_table)
        cursor.execute(f"UPDATE {table} SET name_en = %s WHERE id = %s", ["new name", p.category_id])
    assert admin.get(f"/api/v1/problems/{p.pk}/").json()["properties"]["category_name"] == "new name"


def test_the_books_keep_their_codes_while_nothing_changes(town, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gridmap.api.codebook import book

    t = town
    p = report(t)
    admin = as_user(t["admin"])
    admin.get(f"/api/v1/problems/{p.pk}/")
    with CaptureQueriesContext(connection) as again:
        assert book("grid").get_many([p.grid_id]) == {p.grid_id: t["g1"].code}
    assert len(again.captured_queries) == 1  # the stamp only
    report(t)  # a new problem does not touch the codes
    with CaptureQueriesContext(connection) as after_report:
        assert book("category").get_many([p.category_id])[p.category_id][0] == p.category.code
    assert len(after_report.captured_queries) == 1


def test_a_page_that_holds_everything_makes_no_count_query(town, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t = town
    for i in range(3):
        report(t, spot=(SPOT[0] + i * 0.0001, SPOT[1]))
    admin = as_user(t["admin"])
    with CaptureQueriesContext(connection) as fits:
        assert admin.get("/api/v1/problems/").json()["numberMatched"] == 3
    with CaptureQueriesContext(connection) as full:
        assert admin.get("/api/v1/problems/?page_size=2").json()["numberMatched"] == 3
    assert not any("COUNT(" in q["sql"].upper() for q in fits.captured_queries)
    assert any("COUNT(" in q["sql"].upper() for q in full.captured_queries)


def test_a_category_turned_off_in_another_process_is_refused_at_once(town):
    from gridmap.api.codebook import CATEGORIES
    from gridmap.problems.models import EventCategory

    assert CATEGORIES.get("0601") is not None
    EventCategory.objects.filter(code="0601").update(active=False)  # no signal, as another process
    assert CATEGORIES.get("0601") is None
