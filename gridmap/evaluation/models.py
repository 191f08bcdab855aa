"""The composite score's weights (综合评价权重), edited in the admin; see ``metrics`` for the formula."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

WEIGHT_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(100.0)]


class ScoreWeights(models.Model):
    """One row: the weights the evaluation pages and exports use. With no row, the settings'
    ``GRIDMAP["SCORE_WEIGHTS"]`` apply, else ``metrics.DEFAULT_WEIGHTS``. Weights are relative:
    the score divides by their sum, so 3/3/2/1/1 means the same as 0.3/0.3/0.2/0.1/0.1."""

    closure = models.FloatField(_("closure rate"), default=0.3, validators=WEIGHT_VALIDATORS)
    on_time = models.FloatField(_("on-time closure rate"), default=0.3, validators=WEIGHT_VALIDATORS)
    rework = models.FloatField(_("no rework (1 − rework rate)"), default=0.2, validators=WEIGHT_VALIDATORS)
    extension = models.FloatField(
        _("no extension (1 − extension rate)"), default=0.1, validators=WEIGHT_VALIDATORS
    )
    overdue = models.FloatField(
        _("not overdue (1 − overdue share of open cases)"), default=0.1, validators=WEIGHT_VALIDATORS
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("score weights")
        verbose_name_plural = _("score weights")

    def __str__(self) -> str:
        return " / ".join(f"{k} {v:g}" for k, v in self.as_dict().items())

    def as_dict(self) -> dict[str, float]:
        return {
            "closure": self.closure,
            "on_time": self.on_time,
            "rework": self.rework,
            "extension": self.extension,
            "overdue": self.overdue,
        }
