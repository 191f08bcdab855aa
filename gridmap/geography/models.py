"""Areas of responsibility (块): district → street/town → community → unit grid, and buildings.

Geometry is WGS84 lon/lat (EPSG:4326); areas and distances are computed in metres in a
projected CRS (layers.projection). Every geometry field has a spatial index (GeoDjango's default).
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

digits = RegexValidator(r"^[0-9]+$", _("digits only"))


class Region(models.Model):
    """Common fields of the administrative levels; codes follow GB/T 2260 plus 3 + 3 digits."""

    name = models.CharField(_("name"), max_length=100)
    geom = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class District(Region):
    """区县, 6-digit GB/T 2260 code."""

    code = models.CharField(_("code"), max_length=6, unique=True, validators=[digits])

    class Meta(Region.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")


class Subdistrict(Region):
    """街道/镇: the district's code plus 3 digits."""

    code = models.CharField(_("code"), max_length=9, unique=True, validators=[digits])
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="subdistricts", verbose_name=_("district")
    )

    class Meta(Region.Meta):
        verbose_name = _("street / town")
        verbose_name_plural = _("streets / towns")


class Community(Region):
    """社区/村: the street's code plus 3 digits. Its head is escalated to when grids fall behind."""

    code = models.CharField(_("code"), max_length=12, unique=True, validators=[digits])
    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street / town")
    )

    class Meta(Region.Meta):
        verbose_name = _("community")
        verbose_name_plural = _("communities")


class Grid(models.Model):
    """单元网格: about 10,000 m², tiling its community; code = community code + 3-digit sequence."""

    code = models.CharField(_("code"), max_length=15, unique=True, validators=[digits])
    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    geom = models.MultiPolygonField(_("boundary"), srid=4326)
    first_responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_grids",
        verbose_name=_("first responsible person"),
    )
    direct_responsible = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="direct_grids",
        verbose_name=_("direct responsible people"),
    )
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def leader_name(self) -> str:
        """The first responsible person's display name ("" when the grid has none)."""
        user = self.first_responsible
        if user is None:
            return ""
        profile = getattr(user, "profile", None)
        return (profile.display_name if profile else "") or user.get_username()


class Building(models.Model):
    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("residential")
        COMMERCIAL = "commercial", _("commercial")
        PUBLIC = "public", _("public")
        INDUSTRIAL = "industrial", _("industrial")
        OTHER = "other", _("other")

    source_key = models.CharField(_("source key"), max_length=120, unique=True, null=True, blank=True)
    geom = models.MultiPolygonField(_("footprint"), srid=4326)
    address = models.CharField(_("address"), max_length=200, blank=True)
    use = models.CharField(_("use"), max_length=20, choices=Use.choices, default=Use.OTHER)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    population = models.PositiveIntegerField(_("population"), default=0)
    # Assigned from the footprint's representative point when saved through the services.
    grid = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
        verbose_name=_("grid"),
    )
    community = models.ForeignKey(
        Community,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
        verbose_name=_("community"),
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self) -> str:
        return self.address or self.source_key or f"#{self.pk}"


class Street(models.Model):
    """A street segment of the walkable network (OSM highway=* or an imported road layer)."""

    source_key = models.CharField(_("source key"), max_length=120, unique=True, null=True, blank=True)
    geom = models.LineStringField(_("centreline"), srid=4326)
    name = models.CharField(_("name"), max_length=200, blank=True)
    highway = models.CharField(_("road class"), max_length=40, blank=True, db_index=True)
    length_m = models.FloatField(_("length (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("street segment")
        verbose_name_plural = _("street segments")

    def __str__(self) -> str:
        return self.name or self.source_key or f"#{self.pk}"


class AreaStamp(models.Model):
    """The area stamp, one row whose ``stamp`` takes a new value whenever grids or communities
    change where a point falls: a database view of the change stamp of kind ``areas``.

    Database triggers renew it (``gridmap.core.stamps``, ``gridmap.geography.stamps``), so every
    way of changing an area counts: the admin, imports, bulk updates, raw SQL, another process.
    Processes that keep the areas in memory (``gridmap.geography.locator``) compare it with the
    stamp they were built at.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    stamp = models.BigIntegerField(_("stamp"))

    class Meta:
        managed = False  # a view (migration 0004)
        verbose_name = _("area stamp")
        verbose_name_plural = _("area stamps")
