"""The intake's fast path (``gridmap.api.intake_fast``) answers as the DRF view does.

Each request runs twice on the same rows, rolled back in between: once as the service runs it
(token-authenticated plain reports take the fast path on PostGIS) and once with the fast path
switched off, so that the DRF view answers. Status, headers, body and the rows written must be
the same; every request the fast path must not answer reaches the view with nothing written.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.api import auth, intake_fast
from gridmap.geography import locator
from gridmap.problems.models import Problem, ProblemEvent
from tests.api.conftest import SPOT
from tests.factories import user
from tests.problems.test_services_intake import make_town, spot

pytestmark = [pytest.mark.django_db, pytest.mark.skipif("connection.vendor != 'postgresql'")]
URL = "/api/v1/problems/"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def taken(monkeypatch):
    """Counts the requests the fast path answered."""
    answered = []
    real = intake_fast.report

    def report(request, allow):
        response = real(request, allow)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(intake_fast, "report", report)
    return answered


def _rows(problem_ids: set[int]) -> list[tuple[dict, list[dict]]]:
    out = []
    for p in Problem.objects.filter(pk__in=problem_ids).order_by("pk"):
        values = {k: v for k, v in model_to_dict(p).items() if k != "id"}
        values["geom"] = p.geom.ewkb.hex()
        events = [{k: v for k, v in model_to_dict(e).items() if k not in {"id", "problem"}} | {"geom": e.geom.ewkb.hex()}
                  for e in ProblemEvent.objects.filter(problem=p)]  # fmt: skip
        out.append((values, events))
    return out


def _answer(client: APIClient, data: bytes, content_type: str) -> tuple:
    """(status, content type, Allow, body without the new id, rows written, recurrence counts)."""
    before = set(Problem.objects.values_list("pk", flat=True))
    response = client.generic("POST", URL, data, content_type=content_type)
    written = set(Problem.objects.values_list("pk", flat=True)) - before
    body = orjson.loads(response.content)
    if isinstance(body, dict) and body.get("type") == "Feature" and response.status_code == 201:
        assert body["id"] in written
        del body["id"]
    counts = sorted(Problem.objects.filter(recurrence_count__gt=0).values_list("pk", "recurrence_count"))
    return (
        response.status_code,
        response["Content-Type"],
        response.get("Allow"),
        body,
        _rows(written),
        counts,
    )


def _both(monkeypatch, taken: list, client: APIClient, data: bytes, content_type: str = "application/json"):
    """The answer with the fast path and the DRF view's, each rolled back; and whether the fast path answered."""
    answers = []
    for fast in (True, False):
        with transaction.atomic():
            if not fast:
                monkeypatch.setattr(intake_fast, "report", lambda request, allow: None)
            answers.append(_answer(client, data, content_type))
            transaction.set_rollback(True)
    monkeypatch.undo()
    return answers[0], answers[1], taken[-1] if taken else None


def _client(u) -> APIClient:
    c = APIClient()
    token, _ = Token.objects.get_or_create(user=u)
    c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return c


def test_reports_answer_and_write_as_the_view_does(monkeypatch, taken):
    rng = random.Random(11)
    town = make_town(rng)
    client = _client(town["reporter"])
    seen = set()
    for i in range(40):
        x, y = spot(rng)
        data = {"lon": x, "lat": y, "category": town["categories"][i % 2].code, "description": f"第{i}号",
                "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4))}  # fmt: skip
        if i % 4 != 1:  # else the time of the request, which differs between the two runs
            data["reported_at"] = f"2026-01-05T08:{i:02d}:00.{i}+08:00"
        fast, view, answered = _both(monkeypatch, taken, client, orjson.dumps(data))
        assert answered is True
        if "reported_at" not in data:
            for answer in (fast, view):
                _drop_now(answer)
        assert fast == view, (x, y)
        assert fast[0] == 201 and fast[2] == "GET, POST, HEAD, OPTIONS"
        properties = fast[3]["properties"]
        seen |= {k for k in ("grid", "community", "facility") if properties[k]}
        seen |= {"duplicates"} if fast[3]["possible_duplicates"] else set()
        seen |= {"recurrence"} if fast[4][0][0]["recurrence_of"] else set()
    assert seen == {"grid", "community", "facility", "duplicates", "recurrence"}  # every case was met


def _drop_now(answer: tuple) -> None:
    """Takes the time of the request out of an answer, once checked to be now."""
    now = timezone.now()
    stamp = datetime.fromisoformat(answer[3]["properties"].pop("reported_at"))
    ((values, events),) = answer[4]
    times = [stamp, values.pop("reported_at"), *(e.pop("at") for e in events)]
    assert all(abs((now - t).total_seconds()) < 60 for t in times), times


def _town_and_client():
    town = make_town(random.Random(3))
    return town, _client(town["reporter"])


@pytest.mark.parametrize(
    "case",
    ["bad token", "no such token", "inactive", "no role", "not json", "bad json", "latin-1", "unknown field",
     "unknown category", "outside", "swapped", "nan", "big int", "replay", "replay by another"],
)  # fmt: skip
def test_what_the_fast_path_does_not_answer_the_view_does(monkeypatch, taken, case):
    town, client = _town_and_client()
    x, y = SPOT
    data = {"lon": x, "lat": y, "category": "0301", "description": "占道", "client_uuid": str(uuid.uuid4())}
    raw, content_type = None, "application/json"
    if case == "bad token":
        client.credentials(HTTP_AUTHORIZATION="Token not-a-key!")
    elif case == "no such token":
        client.credentials(HTTP_AUTHORIZATION="Token " + "ab" * 20)
    elif case == "inactive":
        town["reporter"].is_active = False
        town["reporter"].save()
    elif case == "no role":
        client = _client(get_user_model().objects.create_user("nobody"))
    elif case == "not json":
        raw, content_type = b"lon=1", "application/x-www-form-urlencoded"
    elif case == "bad json":
        raw = b'{"lon": 1,'
    elif case == "latin-1":
        raw, content_type = orjson.dumps(data), "application/json; charset=latin-1"
    elif case == "unknown field":
        data["colour"] = "red"
    elif case == "unknown category":
        data["category"] = "9999"
    elif case == "outside":
        data["lat"] = 91
    elif case == "swapped":
        data["lon"], data["lat"] = y, x
    elif case == "nan":
        raw = b'{"lon": NaN, "lat": 31.6, "category": "0301"}'
    elif case == "big int":
        raw = b'{"lon": 1' + b"0" * 30 + b', "lat": 31.6, "category": "0301"}'
    elif case in ("replay", "replay by another"):
        data["client_uuid"] = key = str(uuid.uuid4())
        assert client.post(URL, data, format="json").status_code == 201
        if case == "replay by another":
            client = _client(user("someone", Role.REPORTER))
        data = {**data, "client_uuid": key, "description": "again"}
    before = (Problem.objects.count(), ProblemEvent.objects.count())
    fast, view, answered = _both(monkeypatch, taken, client, raw if raw is not None else orjson.dumps(data),
                                 content_type)  # fmt: skip
    assert answered is False  # the fast path stepped aside
    if fast[0] == 201:  # a body in another charset: the view reads it as that charset
        for answer in (fast, view):
            _drop_now(answer)
    assert fast == view
    assert fast[0] in {200, 201, 400, 401, 403, 409, 415}, fast
    assert (Problem.objects.count(), ProblemEvent.objects.count()) == before


def test_areas_changed_since_they_were_read_go_to_the_view(monkeypatch, taken):
    town, client = _town_and_client()
    stale = locator.areas_now()
    assert stale is not None
    from gridmap.geography.models import Grid

    # A new grid code: the stamp changes, the areas this process read are stale.
    g1 = Grid.objects.order_by("pk").first()
    g1.code = g1.code[:-3] + "999"
    g1.save()
    monkeypatch.setattr(intake_fast, "areas_cached", lambda: stale)
    with transaction.atomic():
        response = client.post(URL, {"lon": SPOT[0], "lat": SPOT[1], "category": "0301"}, format="json")
        transaction.set_rollback(True)
    assert response.status_code == 201 and taken == [False]
    assert response.json()["properties"]["grid"] == g1.code


def test_the_identity_query_is_what_the_token_and_role_checks_decide(db):
    people = [user(f"u_{r}", r) for r in Role.values] + [get_user_model().objects.create_user("nobody")]
    boss = get_user_model().objects.create_user("boss")
    boss.is_superuser = True
    boss.save()
    gone = user("gone", Role.REPORTER)
    gone.is_active = False
    gone.save()
    for u in [*people, boss, gone]:
        key = Token.objects.create(user=u).key
        sql, params = auth.identity_query(key)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = auth.token_with_user(key)
        expected = [] if not found.user.is_active else [(u.pk, role_of(found.user))]
        assert rows == expected, u.username
    sql, params = auth.identity_query("0" * 40)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchall() == []
