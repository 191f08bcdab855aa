"""A PostgreSQL that stops or freezes under intake: no acknowledged report is lost or stored twice,
clients get JSON 503s with Retry-After meanwhile (no 500, no HTML, no request held past the
database deadlines), and the service recovers by itself when the database is back.

The test runs its own PostgreSQL cluster (``tests/core/pgcluster.py``: initdb and pg_ctl of the
installed server, a free port, a temporary directory; never the shared server), migrates a database in it and serves the app
with gunicorn (2 sync workers) pointed at it, with short database deadlines (connect 1 s,
statement 1 s: the client waits at most 3 s for an answer). A client thread sends reports with
distinct client_uuids and retries each one after a 503 with the same client_uuid, as the API docs
tell clients to, until it is acknowledged. Meanwhile the cluster is (a) stopped (``pg_ctl stop -m
fast``) for 3 s and started again, then (b) frozen (SIGSTOP to the postmaster and every backend)
for 5 s and thawed. The figures are printed (``-s``) for the record.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.conf import settings

from tests.core.pgcluster import (
    Cluster,
    app_env,
    cluster_of_our_own,
    gunicorn_workers,
    manage_shell,
    printed,
    serve,
)

IS_POSTGIS = settings.DATABASES["default"]["ENGINE"].endswith("postgis")
pytestmark = pytest.mark.skipif(
    not IS_POSTGIS,
    reason="PostGIS only: the fault is a PostgreSQL server stopped and frozen; SQLite is a file in the process",
)

CONNECT_S, STATEMENT_S = 1, 1
STOP_S, FREEZE_S = 3.0, 5.0
HANG_S = 15.0  # far above the 3 s deadline (statement 1 s + grace 2 s), far below gunicorn's --timeout
RETRY_PAUSE_S = 0.1  # the client's pause before repeating a report after a 503

SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.authtoken.models import Token
from gridmap.accounts.models import Role
from tests.factories import LAT0, LON0, grid, region_tree, user
(community,) = region_tree()
grid(community, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002))
print("TOKEN", Token.objects.create(user=user("outage_reporter", Role.REPORTER)).key)
"""


def stored_reports(cluster: Cluster, db: str) -> dict[str, int]:
    """Rows per client uuid, read from the cluster directly."""
    from gridmap.problems.models import Problem

    return dict(cluster.sql(db, f'SELECT uuid::text, count(*) FROM "{Problem._meta.db_table}" GROUP BY uuid'))


@dataclass
class Sent:
    start: float
    end: float
    status: int  # 0: no HTTP answer
    report: str
    json_error: bool = False
    retry_after: bool = False


@dataclass
class Client:
    """Sends reports one after another; repeats a report after a 503 with the same client_uuid."""

    base: str
    token: str
    log: list[Sent] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    success: threading.Condition = field(default_factory=threading.Condition)

    def post(self, report: str, n: int) -> Sent:
        body = json.dumps({"lon": 120.871 + (n % 30) * 0.0001, "lat": 31.621, "category": "0301",
                           "description": f"outage {n}", "client_uuid": report}).encode()  # fmt: skip
        request = urllib.request.Request(f"{self.base}/api/v1/problems/", data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Token {self.token}"})  # fmt: skip
        start = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, content = error.code, error.headers, error.read()
        except OSError:
            return Sent(start, time.monotonic(), 0, report)
        sent = Sent(start, time.monotonic(), status, report)
        if status >= 400:
            try:
                sent.json_error = headers.get("Content-Type", "").startswith("application/json") and bool(
                    json.loads(content)["detail"]
                )
            except (ValueError, KeyError, TypeError):
                sent.json_error = False
            sent.retry_after = (headers.get("Retry-After") or "").isdigit()
        return sent

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            report = str(uuid.uuid4())
            while True:  # the same report until it is acknowledged (or refused for good)
                sent = self.post(report, n)
                self.log.append(sent)
                if sent.status in (200, 201):
                    self.acknowledged[report] = sent.status
                    with self.success:
                        self.success.notify_all()
                    break
                if sent.status != 503:
                    break
                time.sleep(RETRY_PAUSE_S)

    def wait_success_after(self, moment: float, timeout: float = 30) -> float:
        """Seconds from ``moment`` to the end of the first acknowledged request that started after it."""

        def first() -> Sent | None:
            return next((s for s in self.log if s.start >= moment and s.status in (200, 201)), None)

        with self.success:
            assert self.success.wait_for(first, timeout), (
                "no report acknowledged after the database came back"
            )
        return first().end - moment


def test_intake_survives_a_database_stopped_and_frozen(tmp_path):
    figures: dict[str, object] = {}
    with cluster_of_our_own("gridmap-outage-") as cluster:
        t0 = time.monotonic()
        cluster.createdb("gridmap_outage")
        env = app_env(cluster.url("gridmap_outage"), tmp_path)
        token = printed(manage_shell(env, SETUP), "TOKEN")
        figures["setup_s"] = round(time.monotonic() - t0, 1)

        env.update(GRIDMAP_DB_CONNECT_TIMEOUT=str(CONNECT_S), GRIDMAP_DB_STATEMENT_TIMEOUT=str(STATEMENT_S))
        with serve(env, tmp_path / "gunicorn.log") as (base, server):
            workers = gunicorn_workers(server.pid)
            figures["ready_s"] = round(time.monotonic() - t0, 1)

            client = Client(base, token)
            thread = threading.Thread(target=client.run, daemon=True)
            thread.start()
            client.wait_success_after(time.monotonic())

            # (a) stopped for a few seconds, then started
            stop_at = time.monotonic()
            cluster.stop("fast")
            time.sleep(STOP_S)  # the outage itself
            cluster.start()
            back = time.monotonic()
            figures["recovery_after_start_s"] = round(client.wait_success_after(back), 2)
            stop_window = (stop_at, back)

            # (b) frozen: the postmaster and every backend stopped by SIGSTOP, then continued
            pids = cluster.pids()
            freeze_at = time.monotonic()
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            time.sleep(FREEZE_S)  # the outage itself
            for pid in reversed(pids):
                os.kill(pid, signal.SIGCONT)
            thawed = time.monotonic()
            figures["recovery_after_thaw_s"] = round(client.wait_success_after(thawed), 2)

            client.stopping.set()
            thread.join(timeout=60)
            assert not thread.is_alive(), "the client's last report was never acknowledged"
            assert gunicorn_workers(server.pid) == workers, (
                "a worker was replaced (killed by a hang or a crash)"
            )

        stored = stored_reports(cluster, "gridmap_outage")

    log = client.log
    codes = Counter(s.status for s in log)
    during_stop = [s for s in log if s.start < stop_window[1] and s.end > stop_window[0]]
    during_freeze = [s for s in log if s.start < thawed and s.end > freeze_at]
    replays = sum(1 for v in client.acknowledged.values() if v == 200)
    figures.update(
        requests=len(log),
        codes=dict(sorted(codes.items())),
        acknowledged=len(client.acknowledged),
        stored=sum(stored.values()),
        acknowledged_on_retry_as_already_stored=replays,
        longest_request_s=round(max(s.end - s.start for s in log), 2),
        longest_request_during_freeze_s=round(max(s.end - s.start for s in during_freeze), 2),
        codes_during_stop=dict(Counter(s.status for s in during_stop)),
        codes_during_freeze=dict(Counter(s.status for s in during_freeze)),
    )
    print("\ndatabase outage:", json.dumps(figures))

    # no acknowledged report lost, none stored twice, nothing stored that was not acknowledged
    assert set(stored) == set(client.acknowledged)
    assert set(stored.values()) == {1}
    # only acknowledgements and JSON 503s with Retry-After: no 500, no HTML, no dropped connection
    assert set(codes) <= {200, 201, 503}, codes
    assert all(s.json_error and s.retry_after for s in log if s.status == 503)
    assert any(s.status == 503 for s in during_stop) and any(s.status == 503 for s in during_freeze)
    # nothing held a worker until gunicorn's timeout: every answer came within the deadlines
    assert figures["longest_request_s"] < HANG_S
