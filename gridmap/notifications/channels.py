"""Channels outside the site, behind one interface: ``send(note, text, url)`` returns when the
message was accepted and raises ``DeliveryFailed`` (or any error) when it was not.

- email: Django's mail settings (``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_HOST_USER``/``_PASSWORD``,
  ``EMAIL_USE_TLS``/``_SSL``, ``EMAIL_TIMEOUT``, ``DEFAULT_FROM_EMAIL``), to the user's address;
- webhook: a JSON POST to ``GRIDMAP_NOTIFY_WEBHOOK_URL`` signed with HMAC-SHA256 of the body under
  ``GRIDMAP_NOTIFY_WEBHOOK_SECRET`` (header ``X-Gridmap-Signature: sha256=<hex>``), bounded by a
  timeout; a messaging gateway (企业微信, 钉钉, an SMS platform) turns it into its own message and
  reaches the person by the username, phone or address in it. ``X-Gridmap-Delivery`` names the
  delivery: a retry after a timeout repeats it, and a gateway can drop what it has seen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from django.core.mail import EmailMessage, get_connection

from gridmap.notifications.models import Channel, Delivery


class DeliveryFailed(Exception):
    pass


class Sender(Protocol):
    def send(self, delivery: Delivery, text: str, url: str) -> None: ...


class EmailSender:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, delivery: Delivery, text: str, url: str) -> None:
        to = delivery.notification.recipient.email
        if not to:
            raise DeliveryFailed("the user has no email address")
        body = f"{text}\n\n{url}\n"
        with get_connection(fail_silently=False) as connection:
            sent = EmailMessage(subject=text[:200], body=body, to=[to], connection=connection,
                                headers={"X-Gridmap-Delivery": str(delivery.pk)}).send()  # fmt: skip
        if sent != 1:
            raise DeliveryFailed("the mail server took no message")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, config: dict[str, Any]) -> None:
        self.url = config["WEBHOOK_URL"]
        self.secret = config.get("WEBHOOK_SECRET", "")
        self.timeout_s = float(config.get("WEBHOOK_TIMEOUT_S", 5))

    def payload(self, delivery: Delivery, text: str, url: str) -> dict[str, Any]:
        note = delivery.notification
        person = note.recipient
        profile = getattr(person, "profile", None)
        return {
            "delivery": delivery.pk,
            "notification": note.pk,
            "kind": note.kind,
            "action": note.action,
            "problem": note.problem_id,
            "text": text,
            "url": url,
            "created_at": note.created_at.isoformat(),
            "recipient": {
                "username": person.get_username(),
                "name": getattr(profile, "display_name", "") or person.get_username(),
                "phone": getattr(profile, "phone", ""),
                "email": person.email,
            },
        }

    def send(self, delivery: Delivery, text: str, url: str) -> None:
        body = json.dumps(self.payload(delivery, text, url), ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Gridmap-Signature": signature(self.secret, body),
            "X-Gridmap-Delivery": str(delivery.pk),
        })  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"the gateway answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryFailed(f"the gateway did not answer ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"the gateway answered {status}")


def sender(channel: str, config: dict[str, Any]) -> Sender:
    if channel == Channel.EMAIL:
        return EmailSender(config)
    if channel == Channel.WEBHOOK:
        return WebhookSender(config)
    raise ValueError(f"unknown channel {channel!r}")
