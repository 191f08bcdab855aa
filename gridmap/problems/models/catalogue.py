"""The event catalogue: categories with codes, the facility kind they concern and their rules."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.core.language import local_name


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
    # Closed-loop rules (DOMAIN.md); every town sets its own.
    deadline_hours = models.PositiveIntegerField(_("deadline (hours from dispatch)"), default=72)
    lookback_days = models.PositiveIntegerField(_("look-back after closing (days)"), default=7)
    duplicate_radius_m = models.FloatField(_("duplicate search radius (m)"), default=30)
    recurrence_radius_m = models.FloatField(_("recurrence radius (m)"), default=30)
    recurrence_days = models.PositiveIntegerField(_("recurrence window (days)"), default=30)

    class Meta:
        ordering = ["code"]
        verbose_name = _("event category")
        verbose_name_plural = _("event categories")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def local_name(self) -> str:
        """The name in the active language (``gridmap.core.language``)."""
        return local_name(self.name, self.name_en)
