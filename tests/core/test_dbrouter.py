"""gridmap.core.dbrouter's rules, in the process (the real primary and replica: test_replica.py):
which database a read uses, when a replica is left out, the read-after-write cookie, and the
settings of replicas and PgBouncer (gridmap.core.dbsettings)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from gridmap.core import dbrouter, dbsettings
from gridmap.core.dbrouter import PrimaryReplicaRouter, ReadRoutingMiddleware, Route

ROUTER = PrimaryReplicaRouter()


@pytest.fixture
def replica(monkeypatch, settings):
    """One replica named, its health decided by the test (``state['usable']``, ``state['lag']``)."""
    settings.GRIDMAP_REPLICAS = ["replica1"]
    settings.GRIDMAP_REPLICA_MAX_LAG_S = 5
    settings.GRIDMAP_REPLICA_CHECK_S = 10
    state = {"usable": True, "lag": 0.0, "checks": 0, "now": 1000.0}

    def lag(alias):
        state["checks"] += 1
        if isinstance(state["lag"], Exception):
            raise state["lag"]
        return state["lag"]

    monkeypatch.setattr(dbrouter, "_HEALTH", {})
    monkeypatch.setattr(dbrouter, "_clock", lambda: state["now"])
    monkeypatch.setattr(dbrouter, "replica_lag_s", lag)
    monkeypatch.setattr(dbrouter, "_answers", lambda alias: state["usable"])
    monkeypatch.setattr(dbrouter, "_close", lambda alias: None)
    return state


def in_request(route: Route):
    token = dbrouter._ROUTE.set(route)
    return token


def test_reads_outside_a_request_and_all_writes_use_the_primary(replica):
    assert ROUTER.db_for_read(object) == "default"
    token = in_request(Route(replica_ok=True))
    try:
        assert ROUTER.db_for_read(object) == "replica1"
        assert ROUTER.db_for_write(object) == "default"
    finally:
        dbrouter._ROUTE.reset(token)
    assert ROUTER.allow_migrate("default", "problems") and not ROUTER.allow_migrate("replica1", "problems")


def test_the_replica_is_chosen_once_per_request(replica):
    token = in_request(Route(replica_ok=True))
    try:
        assert ROUTER.db_for_read(object) == "replica1"
        replica["usable"], replica["now"] = False, 1001.0
        assert ROUTER.db_for_read(object) == "replica1"  # pinned: stamps and data from one place
    finally:
        dbrouter._ROUTE.reset(token)
    token = in_request(Route(replica_ok=True))  # the next request sees it gone
    try:
        assert ROUTER.db_for_read(object) == "default"
    finally:
        dbrouter._ROUTE.reset(token)


@pytest.mark.parametrize("lag", [6.0, None, DatabaseError("down")])
def test_a_lagging_unknown_or_unreachable_replica_is_left_out_until_the_next_check(replica, lag):
    replica["lag"] = lag
    assert dbrouter.choose_replica(["replica1"]) == "default"
    replica["lag"], replica["now"] = 0.5, 1009.0
    assert dbrouter.choose_replica(["replica1"]) == "default"  # not checked again before 10 s
    assert replica["checks"] == 1
    replica["now"] = 1010.0
    assert dbrouter.choose_replica(["replica1"]) == "replica1"
    assert replica["checks"] == 2


@pytest.mark.django_db(transaction=True)
def test_inside_an_atomic_block_reads_use_the_primary_and_stamps_the_request_replica(replica):
    token = in_request(Route(replica_ok=True))
    try:
        with transaction.atomic():
            assert ROUTER.db_for_read(object) == "default"
            assert dbrouter.request_read_alias() == "replica1"
    finally:
        dbrouter._ROUTE.reset(token)


@pytest.mark.django_db(transaction=True)  # no test transaction around it: it would count as atomic
def test_querysets_of_a_get_read_the_replica_and_locking_reads_the_primary(replica, settings):
    from gridmap.problems.models import Problem

    settings.DATABASE_ROUTERS = ["gridmap.core.dbrouter.PrimaryReplicaRouter"]
    token = in_request(Route(replica_ok=True))
    try:
        assert Problem.objects.filter(status="reported").db == "replica1"
        with transaction.atomic():
            assert Problem.objects.filter(status="reported").db == "default"
        assert Problem.objects.filter(status="reported").db == "replica1"
        assert Problem.objects.select_for_update().db == "default"  # a write: the request's reads follow
        assert Problem.objects.filter(status="reported").db == "default"
    finally:
        dbrouter._ROUTE.reset(token)
    assert Problem.objects.filter(status="reported").db == "default"  # outside a request


@pytest.mark.django_db(transaction=True)
def test_stamps_are_read_from_the_request_replica_even_in_an_atomic_block(replica, monkeypatch):
    from gridmap.core import stamps

    read_from = []
    monkeypatch.setattr(stamps, "_read", lambda kinds, town, using: read_from.append(using) or {})
    token = in_request(Route(replica_ok=True))
    try:
        with transaction.atomic():
            stamps.stamp_of("problems", 1)
        stamps.stamp_of("problems", 1)
    finally:
        dbrouter._ROUTE.reset(token)
    stamps.stamp_of("problems", 1)
    stamps.stamp_of("problems", 1, using="replica1")
    assert read_from == ["replica1", "replica1", "default", "replica1"]


def test_work_outside_a_request_may_read_a_replica_in_a_block(replica):
    with dbrouter.replica_reads():
        assert ROUTER.db_for_read(object) == "replica1"
        assert ROUTER.db_for_write(object) == "default"
    assert ROUTER.db_for_read(object) == "default"


def routed(request) -> tuple[Route, HttpResponse]:
    seen = {}

    def view(req):
        seen["route"] = dbrouter._ROUTE.get()
        return HttpResponse("ok")

    response = ReadRoutingMiddleware(view)(request)
    assert dbrouter._ROUTE.get() is None
    return seen["route"], response


def test_a_client_that_wrote_reads_the_primary_for_a_while(replica, settings, monkeypatch):
    settings.GRIDMAP_PRIMARY_AFTER_WRITE_S = 12
    factory = RequestFactory()
    route, _ = routed(factory.get("/problems/"))
    assert route.replica_ok
    route, response = routed(factory.post("/problems/"))
    assert not route.replica_ok
    cookie = response.cookies[dbrouter.COOKIE]
    assert cookie["max-age"] == 12 and cookie["httponly"]
    after = factory.get("/problems/")
    after.COOKIES[dbrouter.COOKIE] = cookie.value
    assert not routed(after)[0].replica_ok
    forged = factory.get("/problems/")
    forged.COOKIES[dbrouter.COOKIE] = "1"
    assert routed(forged)[0].replica_ok
    import django.core.signing

    later = django.core.signing.time.time() + 13
    monkeypatch.setattr(django.core.signing.time, "time", lambda: later)
    assert routed(after)[0].replica_ok  # the window has passed


def test_a_get_that_writes_reads_its_write_and_sets_the_cookie(replica):
    seen = []

    def view(request):
        seen.append(ROUTER.db_for_read(object))
        ROUTER.db_for_write(object)
        seen.append(ROUTER.db_for_read(object))
        return HttpResponse("ok")

    response = ReadRoutingMiddleware(view)(RequestFactory().get("/jobs/new"))
    assert seen == ["replica1", "default"] and dbrouter.COOKIE in response.cookies
    assert dbrouter.COOKIE not in routed(RequestFactory().get("/problems/"))[1].cookies


def test_a_streamed_answer_keeps_the_request_route(replica):
    def chunks():
        yield dbrouter.request_read_alias().encode()

    response = ReadRoutingMiddleware(lambda request: StreamingHttpResponse(chunks()))(
        RequestFactory().get("/x")
    )
    assert b"".join(response.streaming_content) == b"replica1"
    photo = FileResponse(io.BytesIO(b"jpeg"))  # a file keeps the server's sendfile: not wrapped
    assert ReadRoutingMiddleware(lambda request: photo)(RequestFactory().get("/x")).file_to_stream is not None


def test_replica_and_pgbouncer_settings():
    found = dbsettings.replica_databases(" postgis://u@h1:5433/db , postgis://u@h2:5434/db", conn_max_age=60)
    assert list(found) == ["replica1", "replica2"]
    assert found["replica2"]["HOST"] == "h2" and found["replica2"]["TEST"] == {"MIRROR": "default"}
    with pytest.raises(ImproperlyConfigured):
        dbsettings.replica_databases("spatialite:///x.sqlite3", conn_max_age=0)
    timeouts = {"connect_s": 5, "statement_s": 20, "idle_s": 300}
    direct: dict = {}
    dbsettings.postgis_options(direct, **timeouts, pgbouncer="")
    assert "-c statement_timeout=20000" in direct["OPTIONS"]["options"]
    assert not direct.get("DISABLE_SERVER_SIDE_CURSORS")
    pooled: dict = {}
    dbsettings.postgis_options(pooled, **timeouts, pgbouncer="transaction")
    assert "options" not in pooled["OPTIONS"] and pooled["DISABLE_SERVER_SIDE_CURSORS"]
    assert pooled["CONN_HEALTH_CHECKS"] and pooled["OPTIONS"]["connect_timeout"] == 5
    with pytest.raises(ImproperlyConfigured):
        dbsettings.postgis_options(
            {"OPTIONS": {"options": "-c work_mem=64MB"}}, **timeouts, pgbouncer="transaction"
        )
    with pytest.raises(ImproperlyConfigured):
        dbsettings.pgbouncer_mode("statement")
