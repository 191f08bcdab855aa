"""Reads of GET requests go to a streaming replica; writes, and the next reads of the client that
wrote, go to the primary; a lagging or stopped replica is left out with no 5xx.

The test makes a primary and a streaming replica of its own (``tests/core/pgcluster.py``:
initdb, ``pg_basebackup -R``, free ports; never the shared server), migrates the primary, waits
for the replica to replay everything, then pauses its replay (``pg_wal_replay_pause()``) and
changes a problem on the primary: from then on the two answer differently, and what a request
shows says which one it read. Two gunicorns serve the app with the replica configured: one that
accepts any lag, one that accepts none (it must read the primary while replay is paused).
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.conf import settings

from tests.core.pgcluster import (
    Api,
    Cluster,
    app_env,
    cluster_of_our_own,
    manage_shell,
    own_dir,
    printed,
    serve,
)

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgis"),
    reason="PostGIS only: replicas are PostgreSQL streaming replicas",
)

DB = "gridmap_replica_test"
SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.authtoken.models import Token
from gridmap.accounts.models import Role
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, grid, region_tree, user
(community,) = region_tree()
grid(community, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002))
reporter = user("replica_reporter", Role.REPORTER)
problem, _ = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=EventCategory.objects.get(code="0301"),
                            reporter=reporter, description="as first reported")
print("TOKEN", Token.objects.create(user=reporter).key)
print("PROBLEM", problem.pk)
from django.test import Client
browser = Client()
browser.force_login(reporter)
print("SESSION", browser.cookies["sessionid"].value)
"""
CHANGED = "changed on the primary"


def wait_for(condition, what: str, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting until {what}"
        time.sleep(0.05)


def caught_up(primary: Cluster, replica: Cluster) -> bool:
    ((lsn,),) = primary.sql(DB, "SELECT pg_current_wal_lsn()::text")
    ((done,),) = replica.sql(DB, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
    return done


def description(api: Api, pk: int) -> str | int:
    status, body = api.call("GET", f"/api/v1/problems/{pk}/")
    return body["properties"]["description"] if status == 200 else status


def listed(api: Api) -> dict[int, str] | int:
    status, body = api.call("GET", "/api/v1/problems/")
    if status != 200:
        return status
    return {f["id"]: f["properties"]["description"] for f in body["features"]}


def test_reads_on_the_replica_writes_and_read_after_write_on_the_primary(tmp_path):
    with cluster_of_our_own("gridmap-primary-", "wal_level = replica\n") as primary:
        primary.createdb(DB)
        out = manage_shell(app_env(primary.url(DB), tmp_path), SETUP)
        token, pk, session = printed(out, "TOKEN"), int(printed(out, "PROBLEM")), printed(out, "SESSION")
        home = own_dir("gridmap-replica-")
        replica = primary.replica(home)
        try:
            replica.start()
            primary.sql(DB, "CREATE TABLE replayed_mark (id int)")  # a transaction the replica replays
            wait_for(lambda: caught_up(primary, replica), "the replica replayed the primary")
            replica.sql(DB, "SELECT pg_wal_replay_pause()")
            primary.sql(DB, "UPDATE problems_problem SET description = %s WHERE id = %s", (CHANGED, pk))
            ((written,),) = primary.sql(DB, "SELECT pg_current_wal_lsn()::text")
            wait_for(lambda: replica.sql(DB, "SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", (written,))[0][0],
                     "the replica received the change it does not replay")  # fmt: skip
            check_routing(primary, replica, tmp_path, token, pk, session)
        finally:
            replica.stop_quietly()
            shutil.rmtree(home, ignore_errors=True)


def page(base: str, path: str, session: str) -> tuple[int, str]:
    """A page as a browser logged in with ``session`` gets it (no other cookie)."""
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": f"sessionid={session}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def health(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/health/", timeout=60) as response:
        return json.loads(response.read())["replicas"]


def check_routing(primary: Cluster, replica: Cluster, tmp_path, token: str, pk: int, session: str) -> None:
    common = {"GRIDMAP_REPLICA_URLS": replica.url(DB), "GRIDMAP_REPLICA_CHECK_S": "60"}
    patient = app_env(primary.url(DB), tmp_path, GRIDMAP_REPLICA_MAX_LAG_S="86400", **common)
    strict = app_env(primary.url(DB), tmp_path, GRIDMAP_REPLICA_MAX_LAG_S="0", **common)
    with (
        serve(patient, tmp_path / "patient.log") as (base, _),
        serve(strict, tmp_path / "strict.log", 1) as (
            strict_base,
            _,
        ),
    ):
        # GET pages and lists read the replica (paused: it still has the first description) ...
        reader = Api(base, token)
        assert description(reader, pk) == "as first reported"
        assert listed(reader) == {pk: "as first reported"}
        status, html = page(base, f"/problems/{pk}/", session)
        assert status == 200 and "as first reported" in html and CHANGED not in html
        # ... unless it lags more than allowed: then the primary
        assert description(Api(strict_base, token), pk) == CHANGED
        assert health(base) == {"replica1": "ok"} and health(strict_base) == {"replica1": "lagging"}

        # A write goes to the primary (the replica does not replay it) ...
        writer = Api(base, token)
        status, body = writer.call("POST", "/api/v1/problems/", {
            "lon": 120.871, "lat": 31.621, "category": "0301", "description": "new report",
            "client_uuid": str(uuid.uuid4())})  # fmt: skip
        assert status == 201, body
        new = body["id"]
        assert primary.sql(DB, "SELECT description FROM problems_problem WHERE id = %s", (new,)) == [
            ("new report",)
        ]
        assert replica.sql(DB, "SELECT 1 FROM problems_problem WHERE id = %s", (new,)) == []
        # ... and the client that wrote reads the primary next: it sees its own change
        assert description(writer, new) == "new report"
        assert listed(writer) == {pk: CHANGED, new: "new report"}
        # another client (no cookie of that write) still reads the replica
        assert description(reader, new) == 404
        assert description(Api(base, token, cookies=False), pk) == "as first reported"

        # A stopped replica: every read falls back to the primary, no 5xx, in each worker
        replica.stop("fast")
        answers = [listed(Api(base, token)) for _ in range(8)]
        assert answers == [{pk: CHANGED, new: "new report"}] * 8
        assert description(reader, new) == "new report"
        assert health(base) == {"replica1": "unavailable"}
        status, html = page(base, f"/problems/{pk}/", session)
        assert status == 200 and CHANGED in html
