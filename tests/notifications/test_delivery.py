"""Deliveries outside the site, against real receivers the tests start: an SMTP server and an
HTTP webhook receiver. Each notification arrives exactly once per channel, a failed attempt is
retried after its wait, and running the task again sends nothing twice."""

from __future__ import annotations

import email
import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone

from gridmap.core import jobs
from gridmap.notifications.delivery import deliver_due
from gridmap.notifications.models import Delivery, Notification, Preference
from tests.notifications.conftest import SECRET, notify_settings, report, step

pytestmark = pytest.mark.django_db


def run_commit_hooks(callbacks):
    """What the commit starts: the delivery task (run here, as the worker would)."""
    for callback in callbacks:
        callback()


def test_email_reaches_a_real_smtp_server_exactly_once(
    town, settings, smtp_server, django_capture_on_commit_callbacks
):
    controller, sink = smtp_server
    notify_settings(settings, email=True, smtp=controller)
    t = town
    t["handler"].email, t["handler2"].email = "h1@example.org", "h2@example.org"
    t["handler"].save(), t["handler2"].save()
    with django_capture_on_commit_callbacks(execute=True):
        p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    # the reporter (file, dispatch) and both handlers (dispatch); the leader has no address
    rcpts = sorted(r for m in sink.messages for r in m.rcpt_tos)
    assert rcpts == ["h1@example.org", "h2@example.org", "reporter@example.org", "reporter@example.org"]
    delivered = {email.message_from_bytes(m.content)["X-Gridmap-Delivery"] for m in sink.messages}
    assert len(delivered) == 4  # four deliveries, each once
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SENT}
    body = email.message_from_bytes(sink.messages[-1].content).get_payload(decode=True).decode()
    assert f"https://gridmap.test/problems/{p.pk}/" in body

    # the task run again (a redelivered message, a second worker): nothing is sent twice
    jobs.run(
        "notifications.deliver", None, {"delivery_ids": list(Delivery.objects.values_list("pk", flat=True))}
    )
    deliver_due(timezone.now() + timedelta(days=1))
    assert len(sink.messages) == 4


def test_webhook_receives_each_event_once_with_a_valid_signature(town, settings, receiver_factory,
                                                                  django_capture_on_commit_callbacks):  # fmt: skip
    receiver = receiver_factory()
    notify_settings(settings, webhook_url=receiver.url)
    t = town
    with django_capture_on_commit_callbacks(execute=True):
        p = report(t)
        step(p, "file", t["leader"])
    notes = list(Notification.objects.order_by("pk"))
    assert [(n.recipient.username, n.kind) for n in notes] == [
        ("leader", "new_report"),
        ("reporter", "report_news"),
    ]
    assert len(receiver.accepted) == 2
    for seen in receiver.accepted:
        expected = "sha256=" + hmac.new(SECRET.encode(), seen["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(seen["headers"]["X-Gridmap-Signature"], expected)
        assert seen["headers"]["X-Gridmap-Delivery"] == str(seen["json"]["delivery"])
    by_user = {s["json"]["recipient"]["username"]: s["json"] for s in receiver.accepted}
    assert by_user["reporter"]["recipient"]["phone"] == "13800000000"
    assert by_user["reporter"]["problem"] == p.pk and by_user["reporter"]["url"].endswith(
        f"/problems/{p.pk}/"
    )
    assert f"#{p.pk}" in by_user["leader"]["text"]

    ids = list(Delivery.objects.values_list("pk", flat=True))
    jobs.run("notifications.deliver", None, {"delivery_ids": ids})  # twice: nothing more
    jobs.run("notifications.deliver", None, {"delivery_ids": ids})
    assert len(receiver.requests) == 2


def test_a_forged_body_does_not_match_the_signature(
    town, settings, receiver_factory, django_capture_on_commit_callbacks
):
    receiver = receiver_factory()
    notify_settings(settings, webhook_url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        report(town)
    (seen,) = receiver.accepted
    forged = seen["body"].replace(b'"new_report"', b'"escalated"')
    assert forged != seen["body"]
    wrong = "sha256=" + hmac.new(SECRET.encode(), forged, hashlib.sha256).hexdigest()
    assert wrong != seen["headers"]["X-Gridmap-Signature"]


@pytest.mark.parametrize("failure", ["500", "slow:1.5"])
def test_a_receiver_that_fails_first_gets_it_on_retry(town, settings, receiver_factory, failure,
                                                      django_capture_on_commit_callbacks):  # fmt: skip
    receiver = receiver_factory([failure])
    notify_settings(settings, webhook_url=receiver.url, timeout_s=0.5)
    with django_capture_on_commit_callbacks(execute=True):
        report(town)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.PENDING and delivery.attempts == 1 and delivery.last_error
    assert receiver.accepted == [] or failure.startswith("slow")  # a slow answer came too late
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
    assert deliver_due(timezone.now())["sent"] == 0  # not yet due: nothing tried
    assert deliver_due(delivery.next_attempt_at + timedelta(seconds=1))["sent"] == 1
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and delivery.attempts == 2 and delivery.last_error == ""
    assert len(receiver.requests) == 2
    ids = {s["headers"]["X-Gridmap-Delivery"] for s in receiver.requests}
    assert ids == {str(delivery.pk)}  # the same delivery: a gateway can drop the repeat
    deliver_due(delivery.next_attempt_at + timedelta(days=1))
    assert len(receiver.requests) == 2


def test_retries_are_bounded_and_wait_longer_each_time(town, settings, receiver_factory,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
    receiver = receiver_factory(["500"] * 10)
    notify_settings(settings, webhook_url=receiver.url)  # at most 3 attempts
    with django_capture_on_commit_callbacks(execute=True):
        report(town)
    delivery = Delivery.objects.get()
    first_wait = delivery.next_attempt_at
    deliver_due(first_wait)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.state == Delivery.State.PENDING
    assert delivery.next_attempt_at - first_wait == timedelta(seconds=120)
    deliver_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.state == Delivery.State.FAILED
    assert "500" in delivery.last_error
    deliver_due(timezone.now() + timedelta(days=30))
    assert len(receiver.requests) == 3


def test_preferences_choose_channels_and_kinds(
    town, settings, receiver_factory, django_capture_on_commit_callbacks
):
    receiver = receiver_factory()
    notify_settings(settings, webhook_url=receiver.url)
    t = town
    Preference.objects.create(user=t["leader"], webhook=False)
    Preference.objects.create(user=t["reporter"], kinds=["report_news"])
    Preference.objects.create(user=t["handler"], kinds=["to_verify"])
    with django_capture_on_commit_callbacks(execute=True):
        p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    got = sorted((s["json"]["recipient"]["username"], s["json"]["kind"]) for s in receiver.accepted)
    assert got == [("handler2", "dispatched"), ("reporter", "report_news"), ("reporter", "report_news")]
    # the inbox has everything all the same
    assert Notification.objects.filter(recipient=t["leader"], problem=p).count() == 1
    assert Notification.objects.filter(recipient=t["handler"], problem=p).count() == 1


def test_a_delivery_left_sending_by_a_dead_worker_is_taken_again_later(town, settings, receiver_factory,
                                                                        django_capture_on_commit_callbacks):  # fmt: skip
    receiver = receiver_factory()
    notify_settings(settings, webhook_url=receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        report(town)
    now = timezone.now()
    Delivery.objects.update(state=Delivery.State.SENDING, attempts=1, claimed_at=now - timedelta(minutes=5))
    assert deliver_due(now)["sent"] == 0  # maybe still sending: left alone
    assert deliver_due(now + timedelta(minutes=6))["sent"] == 1  # claimed 11 minutes before: taken again
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.SENT and delivery.attempts == 2 and len(receiver.accepted) == 1
