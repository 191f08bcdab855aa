"""Public facilities (部件): a kind from an extendable catalogue, and the objects on the ground.

A kind fixes the geometry type of its objects, so one table holds points, lines and polygons;
the type is enforced by ``facility_save`` (services) before anything is written.
"""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.core.language import local_name


class GeomType(models.TextChoices):
    POINT = "Point", _("point")
    LINE = "LineString", _("line")
    POLYGON = "Polygon", _("polygon")


class ComponentClass(models.TextChoices):
    """The six classes of GB/T 30428.2 components."""

    PUBLIC_UTILITY = "01", _("public utilities")
    ROAD_TRAFFIC = "02", _("roads and traffic")
    CITY_ENVIRONMENT = "03", _("city appearance and environment")
    GREENERY = "04", _("parks and greenery")
    HOUSING_LAND = "05", _("housing and land")
    OTHER = "06", _("other")


class FacilityKind(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    component_class = models.CharField(_("component class"), max_length=2, choices=ComponentClass.choices)
    class_code = models.CharField(
        _("class code"), max_length=8, unique=True, help_text=_("GB/T 30428-style: class + item, e.g. 0103")
    )
    geom_type = models.CharField(_("geometry type"), max_length=12, choices=GeomType.choices)
    color = models.CharField(_("map colour"), max_length=7, default="#3388ff")
    # Planning standards (DOMAIN.md); None where the kind has no such rule.
    service_radius_m = models.FloatField(_("service radius (m)"), null=True, blank=True)
    max_spacing_m = models.FloatField(_("maximum spacing along streets (m)"), null=True, blank=True)

    class Meta:
        ordering = ["class_code"]
        verbose_name = _("facility kind")
        verbose_name_plural = _("facility kinds")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def local_name(self) -> str:
        """The name in the active language (``gridmap.core.language``)."""
        return local_name(self.name, self.name_en)


class Facility(models.Model):
    class Condition(models.TextChoices):
        GOOD = "good", _("good")
        DAMAGED = "damaged", _("damaged")
        BROKEN = "broken", _("broken")
        BLOCKED = "blocked", _("blocked")
        MISSING = "missing", _("missing")

    kind = models.ForeignKey(
        FacilityKind, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("facility kind")
    )
    source_key = models.CharField(_("source key"), max_length=120, unique=True, null=True, blank=True)
    geom = models.GeometryField(_("geometry"), srid=4326)
    name = models.CharField(_("name"), max_length=200, blank=True)
    condition = models.CharField(_("condition"), max_length=10, choices=Condition.choices, default="good")
    last_inspected = models.DateField(_("last inspection"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    accessible_spaces = models.PositiveIntegerField(_("accessible spaces"), null=True, blank=True)
    attrs = models.JSONField(_("other attributes"), default=dict, blank=True)
    grid = models.ForeignKey(
        "geography.Grid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilities",
        verbose_name=_("grid"),
    )

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        indexes = [models.Index(fields=["kind", "grid"])]

    def __str__(self) -> str:
        return f"{self.kind.name} {self.name or self.source_key or self.pk}"
