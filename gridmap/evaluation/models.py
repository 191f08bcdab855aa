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


class DailyFigures(models.Model):
    """The additive figures of one unit on one local day, among the cases of one town (街道/镇,
    0: cases with none). Kept by ``evaluation.refresh_summary`` (see ``gridmap.evaluation.summary``);
    the evaluation pages of a city-wide scope sum these rows instead of grouping the cases.

    ``level`` is "all" (the scope's totals, ``unit`` 0), "grid", "community", "department" or
    "handler"; the leader level is read through the grid rows (a grid's leader may change).
    ``day`` is the local day of ``filed_at`` for ``filed`` / ``duplicates``, of ``closed_at`` for
    the closing figures, of the new report's ``reported_at`` for ``recurrences``, of the rating's
    ``at`` for ``rated`` / ``rating_total``."""

    day = models.DateField()
    town = models.BigIntegerField(default=0)
    level = models.CharField(max_length=12)
    unit = models.BigIntegerField()
    filed = models.IntegerField(default=0)
    duplicates = models.IntegerField(default=0)  # filed that day but merged away (not "filed")
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    reworks = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    hours_count = models.IntegerField(default=0)  # closed cases that were filed (timed)
    span_us = models.BigIntegerField(default=0)  # their time to close, summed, in microseconds
    recurrences = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)  # satisfaction ratings given that day
    rating_total = models.IntegerField(default=0)  # their stars summed

    class Meta:
        verbose_name = _("daily evaluation figures")
        verbose_name_plural = _("daily evaluation figures")
        constraints = [
            models.UniqueConstraint(fields=["day", "town", "level", "unit"], name="evaluation_daily_unique")
        ]
        indexes = [models.Index(fields=["level", "day"], name="evaluation_daily_level_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.level} {self.unit} (town {self.town})"


class SummaryRun(models.Model):
    """One row: where the last refresh of ``DailyFigures`` left off (the ``problems`` stamp of each
    town it saw, the time it read the cases, the highest case and event ids it had seen)."""

    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    stamps = models.JSONField(default=dict)
    max_problem_id = models.BigIntegerField(default=0)
    max_event_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("evaluation summary run")
        verbose_name_plural = _("evaluation summary runs")

    def __str__(self) -> str:
        return f"summary as of {self.started_at}"
