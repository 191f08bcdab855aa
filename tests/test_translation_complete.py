"""Every page, for every role, in both languages: no Chinese left on an English page outside the
data this test put in the database, no English UI text on a Chinese page (issue 14, item 7).

The world is the role matrix's (tests/test_role_matrix.py) with a case in every state of the loop
(reported, filed, dispatched, handled, closed with its look-back due, looked back), an extension
request, a positive-list site, notifications, a background job and a satisfaction rating, so that
the pages show their steps, forms and tables. How a page is read: tests/language_check.py.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone, translation

from gridmap.accounts.models import Department, Role
from gridmap.core.models import Job
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory, ExtensionRequest, PositiveSite, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.language_check import MO, catalogue, chinese_left, english_left, shown_texts
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
ROLES = ["admin", "planner", "head1", "leaderA", "dept_cg", "inspector1", "reporter"]
# English words a Chinese page may show: names, units and formats that are the same in Chinese
ALLOWED = {"gridmap", "English", "OpenStreetMap", "Leaflet", "WGS84", "GPX", "CSV", "Excel", "GeoJSON"}


@pytest.fixture
def world(django_capture_on_commit_callbacks, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    c1, c2 = region_tree(n=2)
    people = {
        "admin": user("admin", Role.ADMIN),
        "planner": user("planner", Role.PLANNER),
        "head1": user("head1", Role.COMMUNITY_HEAD, community=c1),
        "leaderA": user("leaderA", Role.GRID_LEADER),
        "inspector1": user("inspector1", Role.INSPECTOR),
        "reporter": user("reporter", Role.REPORTER),
    }
    people["admin"].is_staff = people["admin"].is_superuser = True
    people["admin"].save()
    people["inspector1"].profile.patrol_communities.add(c1)
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    people["dept_cg"] = user("dept_cg", Role.DEPARTMENT, department=dept)
    grids = {
        "A": grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=people["leaderA"]),
        "B": grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002)),
    }
    spot = grids["A"].geom.centroid
    now = timezone.now()

    def problem(description):
        return Problem.objects.create(
            geom=spot.clone(), grid=grids["A"], community=c1, category=category, description=description,
            reporter=people["reporter"], reported_at=now, filed_at=now, deadline=now + timezone.timedelta(days=2),
        )  # fmt: skip

    def steps(p, *actions):
        for action, who, extra in actions:
            with django_capture_on_commit_callbacks(execute=True):
                problem_transition(problem_id=p.pk, action=action, actor=people[who], **extra)

    fix = {"note": "已清理", "photos": [jpeg(lonlat=(spot.x, spot.y))]}
    verify = {"lon": spot.x, "lat": spot.y}
    cases = {"reported": problem("路边暴露垃圾")}
    steps(cases.setdefault("filed", problem("垃圾堆放")), ("file", "leaderA", {}))
    steps(
        cases.setdefault("dispatched", problem("占道堆物")),
        ("file", "leaderA", {}),
        ("dispatch", "leaderA", {}),
    )
    steps(cases.setdefault("handled", problem("乱堆杂物")), ("file", "leaderA", {}), ("dispatch", "leaderA", {}),
          ("handle", "dept_cg", fix))  # fmt: skip
    for name in ("closed", "looked_back"):
        steps(cases.setdefault(name, problem(f"{name}的垃圾")), ("file", "leaderA", {}),
              ("dispatch", "leaderA", {}), ("handle", "dept_cg", fix), ("verify_pass", "inspector1", verify))  # fmt: skip
        Problem.objects.filter(pk=cases[name].pk).update(lookback_due=timezone.localdate())
    steps(cases["looked_back"], ("lookback_pass", "inspector1", {"note": "未复发"}))
    ExtensionRequest.objects.create(problem=cases["dispatched"], requested_by=people["dept_cg"], hours=24,
                                    reason="需要协调")  # fmt: skip
    PositiveSite.objects.create(name="示范街巷", description="干净整洁", geom=spot.clone(), grid=grids["A"],
                                community=c1, created_by=people["leaderA"])  # fmt: skip
    for who in ROLES:
        Job.objects.create(id=uuid.uuid4(), task="evaluation_export", label="台账导出", user=people[who],
                           state=Job.State.DONE, done=1, total=1)  # fmt: skip
    return people, grids, cases


def pages(people, grids, cases, who):
    a, b = grids["A"], grids["B"]
    urls = [
        "/dashboard/", "/dashboard/jobs/", "/problems/", "/problems/?status=dispatched", "/problems/report/",
        "/problems/mine/", "/problems/positive/", "/problems/public-map/", "/inbox/", "/inbox/preferences/",
        "/grids/", f"/grids/{a.code}/", f"/grids/{a.code}/map/", f"/grids/{b.code}/map/",
        f"/communities/{a.community.code}/", f"/communities/{a.community.code}/map/", "/planner/",
        "/planner/map/", "/route/", "/evaluation/", "/evaluation/figures/", "/imports/", "/admin/",
        "/admin/problems/positivesite/", "/admin/problems/positivesite/add/",
        "/campaign/", "/campaign/readiness/", "/campaign/readiness/ranking/", "/steps/", "/patrols/",
        "/patrols/not-walked/", "/surveys/",
    ]  # fmt: skip
    urls += [f"/problems/{p.pk}/" for p in cases.values()]
    urls += [f"/problems/{cases['reported'].pk}/reported/", f"/problems/{cases['closed'].pk}/rate/"]
    urls += [f"/dashboard/jobs/{job.pk}/" for job in Job.objects.filter(user=people[who])]
    return urls


def data_strings() -> list[str]:
    """Every text the database holds (what the pages may show as data), longest first; a catalogue
    entry's own Chinese name only when it has no English one (else the English page must use that)."""
    found: set[str] = set()
    for model in apps.get_models():
        fields = [  # a field with choices holds codes, named on the page in the reader's language
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        if not fields:
            continue
        translated = "name_en" in fields
        for row in model.objects.values(*fields):
            for name, value in row.items():
                if not value or (translated and name == "name" and row["name_en"]):
                    continue
                found.add(str(value))
    return sorted(found, key=len, reverse=True)


def render(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    if response.status_code in (302, 403, 404, 405) or not response.get("Content-Type", "").startswith(
        "text/html"
    ):
        return None
    assert response.status_code == 200, (url, language, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("who", ROLES)
def test_every_page_speaks_one_language(client, world, who):
    people, grids, cases = world
    client.force_login(people[who])
    data = data_strings()
    msgids = catalogue().keys()
    wrong: dict[tuple[str, str], set[str]] = {}
    seen = 0
    for url in pages(people, grids, cases, who):
        english = render(client, url, "en")
        chinese = render(client, url, "zh-hans")
        if english is None:
            continue
        seen += 1
        if left := chinese_left(shown_texts(english), data):
            wrong[("en", url)] = left
        if left := english_left(shown_texts(chinese), data, msgids, ALLOWED):
            wrong[("zh-hans", url)] = left
    assert seen >= 10, f"only {seen} pages rendered for {who}"
    assert not wrong, "\n".join(f"{lang} {url}: {sorted(texts)}" for (lang, url), texts in wrong.items())
    translation.activate(settings.LANGUAGE_CODE)


# -- the check itself: it must see a translation taken away, and Chinese left on an English page --
def _forget(monkeypatch, key: str) -> None:
    """Take ``key`` (a msgid, or "context\\x04msgid") out of the active Chinese catalogue."""
    catalogs = translation.trans_real.translation("zh-hans")._catalog._catalogs
    assert any(key in cat for cat in catalogs), key
    for cat in catalogs:
        if key in cat:
            monkeypatch.delitem(cat, key)


@pytest.mark.parametrize(
    "key, who, url",
    [
        ("Inbox", "leaderA", lambda cases: "/dashboard/"),  # the header, on every page
        ("loop step\x04Dispatch", "leaderA", lambda cases: f"/problems/{cases['filed'].pk}/"),  # a button
        ("Overdue", "admin", lambda cases: "/dashboard/"),  # a heading of the kept city sections
    ],
)
def test_a_translation_taken_away_is_found(client, world, monkeypatch, key, who, url):
    people, _, cases = world
    client.force_login(people[who])
    page = url(cases)
    texts = list(shown_texts(render(client, page, "zh-hans")))
    assert not english_left(texts, data_strings(), catalogue().keys(), ALLOWED)
    _forget(monkeypatch, key)
    found = english_left(
        shown_texts(render(client, page, "zh-hans")), data_strings(), catalogue().keys(), ALLOWED
    )
    assert key.split("\x04")[-1] in found


def test_chinese_left_on_an_english_page_is_found(client, world, monkeypatch):
    from gridmap.problems import lifecycle

    people, _, cases = world
    client.force_login(people["leaderA"])
    page = f"/problems/{cases['filed'].pk}/"
    assert not chinese_left(shown_texts(render(client, page, "en")), data_strings())
    step = lifecycle.TRANSITIONS["dispatch"]
    monkeypatch.setitem(lifecycle.TRANSITIONS, "dispatch", dataclasses.replace(step, label="派遣"))
    assert "派遣" in chinese_left(shown_texts(render(client, page, "en")), data_strings())


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext's msgfmt")
def test_the_catalogue_is_complete_and_compiled(tmp_path):
    """No entry untranslated or fuzzy, and the compiled catalogue is the one the pages read."""
    po = MO.with_suffix(".po")
    stats = subprocess.run(["msgfmt", "--statistics", "-c", "-o", str(tmp_path / "new.mo"), str(po)],
                           capture_output=True, text=True, check=True).stderr  # fmt: skip
    assert "fuzzy" not in stats and "untranslated" not in stats, stats
    assert catalogue(tmp_path / "new.mo", contexts=True) == catalogue(MO, contexts=True), (
        "django.mo is older than django.po: run msgfmt"
    )


def test_the_fix_forms_errors_speak_the_readers_language(client, world):
    """A fix sent without a position comes back with its error (a POST, so not in the walk above)."""
    people, _, cases = world
    client.force_login(people["dept_cg"])
    url = f"/problems/{cases['dispatched'].pk}/transition/"
    for language in ("en", "zh-hans"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.post(url, {"action": "handle", "note": "已清理", "photos": jpeg()})
        assert response.status_code == 400, response.status_code
        texts = list(shown_texts(response.content.decode()))
        if language == "en":
            assert any("after-photo" in t for t, _ in texts)
            assert not chinese_left(texts, data_strings())
        else:
            assert any("整改后照片" in t for t, _ in texts)
            assert not english_left(texts, data_strings(), catalogue().keys(), ALLOWED)
