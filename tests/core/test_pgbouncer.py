"""The app behind PgBouncer in transaction mode, with the PgBouncer settings on
(``GRIDMAP_PGBOUNCER=transaction``): the intake (API POST), a step of the loop and the lists work.

The test starts its own cluster and Debian's ``pgbouncer`` on free ports (``tests/core/pgcluster.py``)
with ONE server connection in the pool, in front of two gunicorn workers: consecutive transactions
of a worker run in whichever session is free, and both workers share that one session, so any
session state left between transactions (a prepared statement, a held cursor, a ``SET``) would
show. Migrations run on the database directly, as docs/operations.md says. The server timeouts are
set on the role in that database (PgBouncer 1.18 refuses the ``options`` startup parameter), and
a connection through the pool has them.
"""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from django.conf import settings

from tests.core.pgcluster import Api, app_env, cluster_of_our_own, manage_shell, pgbouncer, printed, serve

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgis"),
    reason="PostGIS only: PgBouncer pools PostgreSQL connections",
)

DB = "gridmap_pgbouncer_test"
SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.authtoken.models import Token
from gridmap.accounts.models import Role
from tests.factories import LAT0, LON0, grid, region_tree, user
(community,) = region_tree()
leader = user("pool_leader", Role.GRID_LEADER)
grid(community, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=leader)
print("REPORTER", Token.objects.create(user=user("pool_reporter", Role.REPORTER)).key)
print("LEADER", Token.objects.create(user=leader).key)
"""
ROLE_SETTINGS = (
    f"ALTER ROLE postgres IN DATABASE {DB} SET statement_timeout = '20s'",
    f"ALTER ROLE postgres IN DATABASE {DB} SET idle_in_transaction_session_timeout = '300s'",
)


def test_intake_a_transition_and_lists_through_pgbouncer_in_transaction_mode(tmp_path):
    with cluster_of_our_own("gridmap-pool-") as cluster:
        cluster.createdb(DB)
        out = manage_shell(app_env(cluster.url(DB), tmp_path), SETUP)
        reporter_token, leader_token = printed(out, "REPORTER"), printed(out, "LEADER")
        for statement in ROLE_SETTINGS:
            cluster.sql(DB, statement)
        with pgbouncer(cluster, DB, pool_size=1) as port:
            with psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=DB) as conn:
                with conn.cursor() as cursor:
                    cursor.execute("SHOW statement_timeout")
                    assert cursor.fetchone() == ("20s",)  # the role's setting, through the pool
            conn.close()
            env = app_env(
                f"postgis://postgres@127.0.0.1:{port}/{DB}", tmp_path, GRIDMAP_PGBOUNCER="transaction"
            )
            with serve(env, tmp_path / "gunicorn.log") as (base, _):
                exercise(Api(base, reporter_token), Api(base, leader_token))


def exercise(reporter: Api, leader: Api) -> None:
    created = []
    for n in range(12):  # enough requests that both workers serve some
        report = {"lon": 120.871 + n * 0.0001, "lat": 31.621, "category": "0301",
                  "description": f"pooled {n}", "client_uuid": str(uuid.uuid4())}  # fmt: skip
        status, body = reporter.call("POST", "/api/v1/problems/", report)
        assert status == 201, body
        created.append(body["id"])
        assert reporter.call("POST", "/api/v1/problems/", report) == (200, body)  # a replay: the first answer
    for pk in created[:4]:
        status, body = leader.call("POST", f"/api/v1/problems/{pk}/transitions/", {"action": "file"})
        assert status == 200, body
        assert body["properties"]["status"] == "filed"
    for _ in range(4):
        status, body = leader.call("GET", "/api/v1/problems/?status=filed")
        assert status == 200, body
        assert sorted(f["id"] for f in body["features"]) == sorted(created[:4])
        status, body = reporter.call("GET", "/api/v1/problems/")
        assert status == 200 and {f["id"] for f in body["features"]} == set(created)
