"""Problems (事件): geotagged reports and their photos.

Where a problem belongs (grid, else community, else the unassigned queue) and which facility it
concerns are decided by the services, not in ``save()``; its status changes only through
``gridmap.problems.lifecycle`` (a table of allowed transitions and conditional updates).
"""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.core.boundary import storable_times
from gridmap.problems.models.catalogue import EventCategory


class Status(models.TextChoices):
    REPORTED = "reported", _("reported")
    FILED = "filed", _("filed")
    REJECTED = "rejected", _("rejected")
    DUPLICATE = "duplicate", _("duplicate")
    DISPATCHED = "dispatched", _("dispatched")
    HANDLED = "handled", _("handled")
    CLOSED = "closed", _("closed")


OPEN_STATUSES = (Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.HANDLED)
DONE_STATUSES = (Status.CLOSED, Status.REJECTED, Status.DUPLICATE)


NULLABLE_TIMES = ("filed_at", "dispatched_at", "deadline", "handled_at", "closed_at", "escalated_at",
                  "lookback_done_at")  # fmt: skip


class Problem(models.Model):
    uuid = models.UUIDField(_("client id"), default=uuid.uuid4, unique=True, editable=False)
    source_key = models.CharField(_("source key"), max_length=120, unique=True, null=True, blank=True)
    geom = models.PointField(_("location"), srid=4326)
    category = models.ForeignKey(
        EventCategory,
        on_delete=models.PROTECT,
        related_name="problems",
        verbose_name=_("event category"),
        db_index=False,
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
        db_index=False,
    )
    # Set whenever the problem lies in a community; with no grid this is 属地兜底 (fallback).
    community = models.ForeignKey(
        "geography.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        verbose_name=_("community"),
        db_index=False,
    )
    # -- the closed loop (set by gridmap.problems.lifecycle only) --------------------------------
    version = models.PositiveIntegerField(default=0, editable=False)  # conditional updates
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        verbose_name=_("department"),
        db_index=False,
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections",
        verbose_name=_("inspector"),
        db_index=False,
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("handled by"),
        db_index=False,
    )
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    lookback_due = models.DateField(_("look-back due"), null=True, blank=True)
    lookback_done_at = models.DateTimeField(_("look-back done at"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("rework"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    recurrence_count = models.PositiveSmallIntegerField(_("recurrences"), default=0)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
        db_index=False,
    )
    recurrence_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recurrences",
        verbose_name=_("recurrence of"),
        db_index=False,
    )
    co_reporters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="co_reports", verbose_name=_("other reporters")
    )
    facility = models.ForeignKey(
        "facilities.Facility",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
        verbose_name=_("facility"),
        db_index=False,
    )

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        constraints = [storable_times("problems_problem_times_storable", "reported_at", *NULLABLE_TIMES,
                                      nullable=NULLABLE_TIMES)]  # fmt: skip
        # Intake writes every index a new row has an entry in: foreign keys covered by a composite
        # index have none of their own, and columns empty at intake are indexed only where set
        # (a comparison on them implies "is not null", so queries still use these indexes).
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["reported_at"]),
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["community", "status"]),
            models.Index(fields=["category", "reported_at"]),
            *(
                models.Index(
                    fields=fields, name=f"problems_{name}_set", condition=Q(**{f"{fields[0]}__isnull": False})
                )
                for name, fields in (
                    # a department's cases by status, and its queue's dispatched cases by deadline
                    ("department_due", ["department", "status", "deadline"]),
                    ("inspector_status", ["inspector", "status"]),  # an inspector's cases to verify
                    ("handled_by", ["handled_by"]),
                    ("duplicate_of", ["duplicate_of"]),
                    ("recurrence_of", ["recurrence_of"]),
                    ("facility", ["facility"]),
                    ("deadline", ["deadline"]),
                    ("closed_at", ["closed_at"]),
                    ("lookback_due", ["lookback_due"]),
                    ("filed_at", ["filed_at"]),  # the period's counts: filed in a month
                )
            ),
            # Open cases oldest first (the negative list's order): walked in order for a large
            # scope, where sorting every open case of the scope took most of a second at city scale.
            models.Index(
                fields=["reported_at", "id"],
                name="problems_open_reported",
                condition=Q(status__in=OPEN_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category.name} #{self.pk}"

    @property
    def unassigned(self) -> bool:
        return self.grid_id is None and self.community_id is None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.deadline is not None and self.deadline < timezone.now()


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
    event = models.ForeignKey(
        "problems.ProblemEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        constraints = [storable_times("problems_photo_taken_at_storable", "taken_at", nullable=("taken_at",))]
