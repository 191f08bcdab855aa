"""In-app notifications, what each user wants sent elsewhere, and one delivery per notification and
channel.

One event tells one person at most once (``source`` and ``recipient`` are unique together: the
source is the problem event, or a reminder's own key), and one notification is delivered at most
once per channel (``notification`` and ``channel`` unique together): a task run twice, or two
workers at once, find the delivery taken (see ``delivery.deliver_one``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What a notification means for the one who gets it (work first, news last)."""

    NEW_REPORT = "new_report", _("new report in my grid")
    DISPATCHED = "dispatched", _("case dispatched to my department")
    TO_VERIFY = "to_verify", _("fix to verify")
    REWORK = "rework", _("case sent back for rework")
    ESCALATED = "escalated", _("overdue case escalated to me")
    EXTENSION_REQUESTED = "extension_requested", _("extension to decide")
    EXTENSION_DECIDED = "extension_decided", _("decision on my extension request")
    LOOKBACK_DUE = "lookback_due", _("look-back falling due")
    REPORT_NEWS = "report_news", _("news of my reports")


class Channel(models.TextChoices):
    EMAIL = "email", _("email")
    WEBHOOK = "webhook", _("messaging gateway")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # the step it tells of (a ProblemEvent's action, or "lookback_due"); the text is built from
    # kind, action, data and the problem when it is read, in the reader's language
    action = models.CharField(_("action"), max_length=30)
    problem = models.ForeignKey("problems.Problem", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        "problems.ProblemEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=80)  # "event:<id>" or a reminder's key
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["source", "recipient"], name="notifications_once_per_source"),
        ]
        indexes = [
            # the header's unread count and the inbox, newest first
            models.Index(fields=["recipient", "read_at"], name="notifications_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notifications_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} #{self.problem_id}"


class Preference(models.Model):
    """What a user wants sent outside the site. The inbox always gets every notification (work
    is never hidden); ``kinds`` and the channels choose what goes out by email or gateway."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    kinds = models.JSONField(_("kinds sent out"), default=list, blank=True)  # empty: every kind
    email = models.BooleanField(_("by email"), default=True)
    webhook = models.BooleanField(_("by the messaging gateway"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id} email={self.email} webhook={self.webhook}"

    def wants(self, kind: str, channel: str) -> bool:
        return bool(getattr(self, channel, False)) and (not self.kinds or kind in self.kinds)


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="notifications_once_per_channel"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notifications_due")]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.state}"
