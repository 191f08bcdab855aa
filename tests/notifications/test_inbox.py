"""The inbox page, the unread count in the header, marking read, preferences, scoping, and a
page that tells someone does not wait on the delivery."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gridmap.core import jobs
from gridmap.notifications.models import Delivery, Notification, Preference
from tests.notifications.conftest import notify_settings, report, step

pytestmark = pytest.mark.django_db


def unread_badge(html: str) -> str | None:
    found = re.search(r'class="unread-count"[^>]*>(\d+)<', html)
    return found.group(1) if found else None


@pytest.fixture
def news(town):
    """The reporter's report filed then dispatched: two notifications for the reporter."""
    p = step(step(report(town), "file", town["leader"]), "dispatch", town["leader"])
    Notification.objects.filter(action="dispatch").update(created_at=timezone.now() + timedelta(minutes=1))
    return p


def test_inbox_lists_newest_first_with_unread_marked_and_links_to_the_case(client, town, news):
    client.force_login(town["reporter"])
    response = client.get(reverse("inbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert unread_badge(html) == "2"
    rows = re.findall(r'<li class="(unread|read)">\s*<a href="([^"]+)">([^<]+)</a>', html)
    assert [r[1] for r in rows] == [f"/problems/{news.pk}/"] * 2
    assert [r[0] for r in rows] == ["unread", "unread"]
    assert "已派遣" in rows[0][2] and "已立案" in rows[1][2]  # newest first, in Chinese by default
    assert client.get(rows[0][1]).status_code == 200  # the link opens the case


def test_mark_one_and_all_read(client, town, news):
    client.force_login(town["reporter"])
    first, second = Notification.objects.filter(recipient=town["reporter"])
    response = client.post(reverse("notification-read", args=[first.pk]), {"next": reverse("inbox")})
    assert response.status_code == 302 and response["Location"] == reverse("inbox")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    html = client.get(reverse("inbox")).content.decode()
    assert unread_badge(html) == "1" and html.count('<li class="read">') == 1
    client.post(reverse("notification-read-all"))
    assert not Notification.objects.filter(recipient=town["reporter"], read_at__isnull=True).exists()
    assert unread_badge(client.get(reverse("inbox")).content.decode()) is None
    # a GET changes nothing
    assert client.get(reverse("notification-read-all")).status_code == 405


def test_nobody_reads_or_marks_another_persons_notifications(client, town, news):
    theirs = Notification.objects.filter(recipient=town["reporter"]).first()
    client.force_login(town["stranger"])
    assert client.post(reverse("notification-read", args=[theirs.pk])).status_code == 404
    client.post(reverse("notification-read-all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None
    html = client.get(reverse("inbox")).content.decode()
    assert f"/problems/{news.pk}/" not in html and '<ul class="inbox">' not in html
    assert unread_badge(html) is None


def test_marking_read_needs_the_csrf_token(town, news):
    client = Client(enforce_csrf_checks=True)
    client.force_login(town["reporter"])
    note = Notification.objects.filter(recipient=town["reporter"]).first()
    assert client.post(reverse("notification-read", args=[note.pk])).status_code == 403
    note.refresh_from_db()
    assert note.read_at is None


def test_anonymous_sees_no_count_and_is_sent_to_log_in(client, db):
    assert client.get(reverse("inbox")).status_code == 302
    assert client.post(reverse("notification-read-all")).status_code == 302
    html = client.get(reverse("login")).content.decode()
    assert "unread-count" not in html and reverse("inbox") not in html


def test_the_header_count_is_one_query(client, town, news, django_assert_num_queries):
    from django.test import RequestFactory

    from gridmap.notifications.context_processors import unread

    request = RequestFactory().get("/")
    request.user = town["reporter"]
    count = unread(request)["notifications_unread"]
    with django_assert_num_queries(1):
        assert count() == 2 and count() == 2


def test_preferences_page_saves_the_choice(client, town):
    client.force_login(town["handler"])
    page = client.get(reverse("notification-preferences"))
    assert page.status_code == 200
    offered = [value for value, _ in page.context["form"].fields["kinds"].choices]
    assert offered == ["dispatched", "rework", "extension_decided", "report_news"]  # a department's kinds
    response = client.post(
        reverse("notification-preferences"), {"webhook": "on", "kinds": ["dispatched", "rework"]}
    )
    assert response.status_code == 302
    pref = Preference.objects.get(user=town["handler"])
    assert pref.email is False and pref.webhook is True and pref.kinds == ["dispatched", "rework"]
    bad = client.post(reverse("notification-preferences"), {"kinds": ["nonsense"]})
    assert client.post(reverse("notification-preferences"), {"kinds": ["to_verify"]}).status_code == 200
    assert bad.status_code == 200 and Preference.objects.get(user=town["handler"]).kinds == [
        "dispatched",
        "rework",
    ]


def test_english_inbox(client, town, news):
    client.force_login(town["reporter"])
    client.cookies["django_language"] = "en"
    html = client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Your report #{news.pk}" in html and "Mark all as read" in html


def test_a_page_that_tells_someone_does_not_wait_on_the_gateway(client, town, settings, receiver_factory,
                                                                 django_capture_on_commit_callbacks):  # fmt: skip
    """The step commits and answers; the delivery is a task started by the commit (here run
    afterwards, as a worker would) and the slow gateway is reached only there."""
    receiver = receiver_factory(["slow:2"])
    notify_settings(settings, webhook_url=receiver.url, timeout_s=10)
    p = report(town)
    client.force_login(town["leader"])
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        started = time.monotonic()
        response = client.post(reverse("problem-transition", args=[p.pk]), {"action": "file"})
        took = time.monotonic() - started
    assert response.status_code == 302 and took < 1.5
    assert receiver.requests == []
    delivery = Delivery.objects.get(notification__recipient=town["reporter"])
    assert delivery.state == Delivery.State.PENDING and delivery.attempts == 0
    started = time.monotonic()
    for callback in after_commit:
        callback()
    assert time.monotonic() - started >= 2  # the wait is the worker's
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and len(receiver.accepted) == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_background_thread_the_page_answers_before_the_gateway(
    catalogues, settings, receiver_factory
):
    """The in-process runner of a service with no broker (a thread): the page answers while the
    thread still waits on the slow gateway; the delivery arrives afterwards, once."""
    from gridmap.accounts.models import Role
    from gridmap.problems.intake import problem_create
    from gridmap.problems.models import EventCategory
    from tests.factories import LAT0, LON0, grid, region_tree, user

    receiver = receiver_factory(["slow:2"])
    notify_settings(settings, webhook_url=receiver.url, timeout_s=10)
    settings.GRIDMAP_TASKS_IN_PROCESS = "thread"
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    Preference.objects.create(user=leader, webhook=False)  # the report itself sends nothing out
    grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    reporter = user("reporter", Role.REPORTER)
    category = EventCategory.objects.get(code="0301")
    p, _ = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category, reporter=reporter)
    client = Client()
    client.force_login(leader)
    started = time.monotonic()
    response = client.post(reverse("problem-transition", args=[p.pk]), {"action": "file"})
    took = time.monotonic() - started
    assert response.status_code == 302 and took < 1.5
    assert Notification.objects.filter(recipient=reporter, kind="report_news").count() == 1
    jobs.wait_in_process(30)
    assert len(receiver.accepted) == 1 and receiver.accepted[0]["json"]["recipient"]["username"] == "reporter"
    assert Delivery.objects.get().state == Delivery.State.SENT


@pytest.mark.parametrize("action", ["report", "file", "dispatch", "handle", "verify_fail", "escalate",
                                    "request_extension", "decide_extension", "lookback_due"])  # fmt: skip
def test_every_kind_reads_in_both_languages(town, news, action):
    from django.utils import translation

    from gridmap.notifications.models import Kind
    from gridmap.notifications.text import notification_text

    for kind in Kind.values:
        note = Notification(recipient=town["stranger"], kind=kind, action=action, problem=news,
                            data={"hours": 24, "approved": True})  # fmt: skip
        with translation.override("en"):
            english = notification_text(note)
        with translation.override("zh-hans"):
            chinese = notification_text(note)
        assert f"#{news.pk}" in english and f"#{news.pk}" in chinese
        assert not re.search(r"[A-Za-z]{3,}", chinese.replace(news.category.name_en or "-", "")), chinese
        assert english != chinese


def test_read_notifications_are_forgotten_after_the_keeping_time(town, news):
    from gridmap.core import jobs as core_jobs
    from gridmap.notifications.record import forget_old

    old, recent = Notification.objects.filter(recipient=town["reporter"])
    now = timezone.now()
    Notification.objects.filter(pk=old.pk).update(read_at=now - timedelta(days=181))
    Notification.objects.filter(pk=recent.pk).update(read_at=now - timedelta(days=179))
    unread = Notification.objects.filter(read_at__isnull=True).count()
    assert unread >= 1  # the leader's, never read
    assert forget_old(now) == 1
    assert set(Notification.objects.filter(recipient=town["reporter"])) == {recent}
    assert Notification.objects.filter(read_at__isnull=True).count() == unread
    assert core_jobs.run("notifications.cleanup", None, {}) == {"removed": 0}
