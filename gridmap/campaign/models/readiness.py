"""The weights of the readiness score (one row, edited in the admin; see ``readiness_score``)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

WEIGHT = [MinValueValidator(0.0), MaxValueValidator(100.0)]


class ReadinessWeights(models.Model):
    mock = models.FloatField(_("mock evaluation score"), default=50.0, validators=WEIGHT)
    on_time = models.FloatField(_("closed on time"), default=20.0, validators=WEIGHT)
    no_rework = models.FloatField(_("closed without rework"), default=10.0, validators=WEIGHT)
    no_recurrence = models.FloatField(_("no recurrence"), default=10.0, validators=WEIGHT)
    satisfaction = models.FloatField(_("residents' satisfaction"), default=10.0, validators=WEIGHT)

    class Meta:
        verbose_name = _("readiness weights")
        verbose_name_plural = _("readiness weights")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> ReadinessWeights:
        return cls.objects.order_by("pk").first() or cls()
