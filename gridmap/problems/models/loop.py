"""The audit trail of the closed loop, extension requests, and the positive list (正面清单) with
its own trail."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.core.boundary import storable_times


class ProblemEvent(models.Model):
    """One step of a problem's history, written in the same transaction as the step itself."""

    problem = models.ForeignKey("problems.Problem", on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    geom = models.PointField(_("where"), srid=4326, null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        constraints = [
            storable_times("problems_event_at_storable", "at"),
            # one look-back reminder per closing (problems.reminders, which writes the closing's
            # time in data.closed): two runs at once cannot both record the same one
            models.UniqueConstraint(
                F("problem"),
                KT("data__closed"),
                condition=Q(action="lookback_remind"),
                name="problems_lookback_remind_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ExtensionRequest(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    problem = models.ForeignKey("problems.Problem", on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    hours = models.PositiveIntegerField(_("extra hours"))
    reason = models.TextField(_("reason"), max_length=2000)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")


class PositiveSite(models.Model):
    """正面清单: an exemplary site or practice, geotagged, to be shown and spread."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    geom = models.PointField(_("location"), srid=4326)
    grid = models.ForeignKey(
        "geography.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("grid"),
    )  # fmt: skip
    community = models.ForeignKey(
        "geography.Community", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("community"),
    )  # fmt: skip
    photo = models.FileField(_("photo"), upload_to="positive/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("positive-list site")
        verbose_name_plural = _("positive list")

    def __str__(self) -> str:
        return self.name


class PositiveSiteEvent(models.Model):
    """One change to a positive-list site (created, photo set), written in the same transaction."""

    site = models.ForeignKey(
        PositiveSite, on_delete=models.CASCADE, related_name="events", verbose_name=_("positive-list site")
    )
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("actor"),
    )  # fmt: skip
    at = models.DateTimeField(_("at"), default=timezone.now)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("positive-list site event")
        verbose_name_plural = _("positive-list site events")

    def __str__(self) -> str:
        return f"{self.site_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
