"""A small town with one person per role (and some outside it), and the real receivers the
tests start: an SMTP server (aiosmtpd) and an HTTP webhook receiver (http.server on a thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from gridmap.accounts.models import Department, Role
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, grid, region_tree, user

SPOT = (LON0 + 0.001, LAT0 + 0.001)
SECRET = "gateway-secret-for-tests"


@pytest.fixture
def town(db):
    here, there = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER, display_name="网格长")
    other_leader = user("other_leader", Role.GRID_LEADER)
    head = user("head", Role.COMMUNITY_HEAD, community=here)
    other_head = user("other_head", Role.COMMUNITY_HEAD, community=there)
    g = grid(here, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    grid(there, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002), leader=other_leader)
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    other_dept = Department.objects.create(code="sw", name="水务")
    handler = user("handler", Role.DEPARTMENT, department=dept)
    handler2 = user("handler2", Role.DEPARTMENT, department=dept)
    other_handler = user("other_handler", Role.DEPARTMENT, department=other_dept)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(here)
    other_inspector = user("other_inspector", Role.INSPECTOR)
    other_inspector.profile.patrol_communities.add(there)
    reporter = user("reporter", Role.REPORTER, phone="13800000000")
    reporter.email = "reporter@example.org"
    reporter.save()
    co_reporter = user("co_reporter", Role.REPORTER)
    stranger = user("stranger", Role.REPORTER)
    return {
        "here": here, "grid": g, "leader": leader, "other_leader": other_leader, "head": head,
        "other_head": other_head, "category": category, "dept": dept, "handler": handler,
        "handler2": handler2, "other_handler": other_handler, "inspector": inspector,
        "other_inspector": other_inspector, "reporter": reporter, "co_reporter": co_reporter,
        "stranger": stranger,
    }  # fmt: skip


def report(t, reporter=None):
    problem, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=t["category"],
                                reporter=reporter or t["reporter"])  # fmt: skip
    return problem


def step(problem, action, actor, **kw):
    return problem_transition(problem_id=problem.pk, action=action, actor=actor, **kw).problem


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, sink
    finally:
        controller.stop()


class Receiver:
    """Answers each POST as ``script`` says in turn ("ok", "500", "slow:<s>"), then "ok"."""

    def __init__(self, script=()) -> None:
        self.script = list(script)
        self.requests: list[dict] = []  # every request that arrived
        self.accepted: list[dict] = []  # those answered 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                with receiver.lock:
                    receiver.requests.append(seen)
                    what = receiver.script.pop(0) if receiver.script else "ok"
                if what.startswith("slow:"):
                    time.sleep(float(what.split(":")[1]))
                    what = "ok"
                if what == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.accepted.append(seen)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(script=()):
        r = Receiver(script)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def notify_settings(settings, *, webhook_url="", email=False, smtp=None, timeout_s=2.0):
    settings.GRIDMAP_NOTIFY = {
        "EMAIL": email, "WEBHOOK_URL": webhook_url, "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TIMEOUT_S": timeout_s, "MAX_ATTEMPTS": 3, "RETRY_BASE_S": 60,
        "SITE_URL": "https://gridmap.test",
    }  # fmt: skip
    if smtp is not None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.hostname, smtp.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
