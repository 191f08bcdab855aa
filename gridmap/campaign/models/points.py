"""Inspection points by type, and each type's checklist of items with their weight and rule."""

from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from gridmap.core.language import local_name


class PointType(models.Model):
    """A kind of place the assessors visit (market, back street, school surroundings ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    color = models.CharField(_("map colour"), max_length=7, default="#7b3294")
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("inspection point type")
        verbose_name_plural = _("inspection point types")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def local_name(self) -> str:
        return local_name(self.name, self.name_en)


class InspectionPoint(models.Model):
    """A place assessors visit: a point (a bus stop) or an area (a market, a compound).

    ``grid`` and ``community`` follow the location rule from a point on its surface (set by the
    import engine in batch, or by ``points.point_place`` on save); ``department`` is the line
    department that answers for it (条): its failures are dispatched there."""

    type = models.ForeignKey(
        PointType, on_delete=models.PROTECT, related_name="points", verbose_name=_("type")
    )
    source_key = models.CharField(_("source key"), max_length=120, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=200, blank=True)
    geom = models.GeometryField(_("geometry"), srid=4326)
    grid = models.ForeignKey(
        "geography.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="inspection_points",
        verbose_name=_("grid"),
    )  # fmt: skip
    community = models.ForeignKey(
        "geography.Community", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="inspection_points", verbose_name=_("community"),
    )  # fmt: skip
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="inspection_points", verbose_name=_("department"),
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inspection point")
        verbose_name_plural = _("inspection points")
        indexes = [models.Index(fields=["type", "community"]), models.Index(fields=["grid"])]

    def __str__(self) -> str:
        return self.name


class Rule(models.TextChoices):
    ALL_OR_NOTHING = "all", _("full marks or none")
    PER_FINDING = "per_finding", _("deduction per finding")


class ChecklistItem(models.Model):
    """One line of a point type's checklist. Scoring (``campaign.scores``): with no finding the
    item earns its ``weight``; ``all``: any finding earns 0; ``per_finding``: ``deduction`` per
    finding, never below 0. The item fails at ``fail_at`` findings or more, and a failure
    becomes a problem of ``category``."""

    point_type = models.ForeignKey(PointType, on_delete=models.CASCADE, related_name="items",
                                   verbose_name=_("type"))  # fmt: skip
    code = models.SlugField(_("code"), max_length=20)
    text = models.CharField(_("item"), max_length=200)
    text_en = models.CharField(_("English text"), max_length=200, blank=True)
    weight = models.FloatField(
        _("weight (points)"), validators=[MinValueValidator(0.1), MaxValueValidator(100)]
    )
    rule = models.CharField(
        _("deduction rule"), max_length=12, choices=Rule.choices, default=Rule.ALL_OR_NOTHING
    )
    deduction = models.FloatField(
        _("deduction per finding"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    fail_at = models.PositiveSmallIntegerField(
        _("fails at findings"), default=1, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    category = models.ForeignKey(
        "problems.EventCategory", on_delete=models.PROTECT, related_name="checklist_items",
        verbose_name=_("problem category"),
    )  # fmt: skip
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["point_type", "order", "code"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(fields=["point_type", "code"], name="campaign_item_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    @property
    def local_text(self) -> str:
        return local_name(self.text, self.text_en)
