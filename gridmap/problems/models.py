"""Problems (事件): geotagged reports, with a category from an extendable event catalogue.

Where a problem belongs (grid, else community, else the unassigned queue) and which facility it
concerns are decided by ``problem_create`` / ``problems_locate`` (services), not in ``save()``.
"""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventClass(models.TextChoices):
    CITY_APPEARANCE = "01", _("city appearance and environment")
    ADVERTISING = "02", _("publicity and advertising")
    STREET_ORDER = "03", _("street order")
    CONSTRUCTION = "04", _("construction management")
    EMERGENCY = "05", _("emergencies")
    OTHER = "06", _("other")


class EventCategory(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    event_class = models.CharField(_("class"), max_length=2, choices=EventClass.choices)
    facility_kind = models.ForeignKey(
        "facilities.FacilityKind",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="event_categories",
        verbose_name=_("facility kind concerned"),
    )
    snap_distance_m = models.FloatField(
        _("facility link distance (m)"), null=True, blank=True, help_text=_("empty: the site default")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("event category")
        verbose_name_plural = _("event categories")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Status(models.TextChoices):
    REPORTED = "reported", _("reported")
    FILED = "filed", _("filed")
    REJECTED = "rejected", _("rejected")
    DUPLICATE = "duplicate", _("duplicate")
    DISPATCHED = "dispatched", _("dispatched")
    HANDLED = "handled", _("handled")
    CLOSED = "closed", _("closed")


OPEN_STATUSES = (Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.HANDLED)


class Problem(models.Model):
    uuid = models.UUIDField(_("client id"), default=uuid.uuid4, unique=True, editable=False)
    source_key = models.CharField(_("source key"), max_length=120, unique=True, null=True, blank=True)
    geom = models.PointField(_("location"), srid=4326)
    category = models.ForeignKey(
        EventCategory, on_delete=models.PROTECT, related_name="problems", verbose_name=_("event category")
    )
    description = models.TextField(_("description"), blank=True, max_length=4000)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("reporter"),
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    grid = models.ForeignKey(
        "geography.Grid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        verbose_name=_("grid"),
    )
    # Set whenever the problem lies in a community; with no grid this is 属地兜底 (fallback).
    community = models.ForeignKey(
        "geography.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        verbose_name=_("community"),
    )
    facility = models.ForeignKey(
        "facilities.Facility",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        verbose_name=_("facility"),
    )

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["reported_at"]),
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["community", "status"]),
            models.Index(fields=["category", "reported_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.category.name} #{self.pk}"

    @property
    def unassigned(self) -> bool:
        return self.grid_id is None and self.community_id is None


def photo_path(instance: "ProblemPhoto", filename: str) -> str:
    # The stored name never comes from the client (path traversal); only the extension is kept.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    suffix = suffix if suffix in {"jpg", "jpeg", "png", "webp"} else "jpg"
    return f"problems/{instance.problem_id}/{uuid.uuid4().hex}.{suffix}"


class ProblemPhoto(models.Model):
    class Stage(models.TextChoices):
        BEFORE = "before", _("before")
        AFTER = "after", _("after")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("image"), upload_to=photo_path)
    stage = models.CharField(_("stage"), max_length=6, choices=Stage.choices, default=Stage.BEFORE)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    geom = models.PointField(_("taken where"), srid=4326, null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
