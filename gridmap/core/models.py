"""The change stamps: one row per kind of data and town, given a new random value by database
triggers whenever a row of that kind changes (``gridmap.core.stamps``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeStamp(models.Model):
    """``stamp`` of the rows of ``kind`` in ``town`` (0: rows of no town, and shared rows such as
    categories). Written only by the triggers; a cache compares the stamps it was built at."""

    kind = models.CharField(_("kind"), max_length=20)
    town = models.BigIntegerField(_("town"), default=0)
    stamp = models.BigIntegerField(_("stamp"))

    class Meta:
        verbose_name = _("change stamp")
        verbose_name_plural = _("change stamps")
        constraints = [models.UniqueConstraint(fields=["kind", "town"], name="core_changestamp_kind_town")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.town}"
