"""Year-round patrols (the seed's "365"): plans that say who walks which grids how often, the
tasks the scheduler makes from them (one per plan and period, never twice), and the records of
the walks (who, when, where — with the walked track when the phone gives one — and what was
found: the problems the walker reported during the walk carry the patrol)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.geography.models import Grid
from gridmap.problems.models import Problem


class Frequency(models.TextChoices):
    DAILY = "daily", _("daily")
    WEEKLY = "weekly", _("weekly")
    MONTHLY = "monthly", _("monthly")


class PatrolPlan(models.Model):
    name = models.CharField(_("name"), max_length=100)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    weekday = models.PositiveSmallIntegerField(
        _("weekday (0 = Monday)"),
        null=True,
        blank=True,
        help_text=_("For weekly plans: the day a week starts."),
    )
    monthday = models.PositiveSmallIntegerField(
        _("day of the month"), null=True, blank=True, help_text=_("For monthly plans: 1 to 28.")
    )
    grids = models.ManyToManyField(Grid, related_name="patrol_plans", verbose_name=_("grids"))
    walker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrol_plans",
                               verbose_name=_("walker"))  # fmt: skip
    starts_on = models.DateField(_("starts on"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("patrol plan")
        verbose_name_plural = _("patrol plans")
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__isnull=True) | models.Q(weekday__lte=6),
                                   name="patrols_weekday_range"),
            models.CheckConstraint(condition=models.Q(monthday__isnull=True)
                                   | models.Q(monthday__gte=1, monthday__lte=28), name="patrols_monthday_range"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class TaskStatus(models.TextChoices):
    OPEN = "open", _("to walk")
    DONE = "done", _("walked")
    MISSED = "missed", _("missed")


class PatrolTask(models.Model):
    """One period's walk of a plan: due from ``due_on`` to ``until`` (local days, inclusive)."""

    plan = models.ForeignKey(
        PatrolPlan, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("plan")
    )
    due_on = models.DateField(_("due from"))
    until = models.DateField(_("due until"))
    walker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrol_tasks",
                               verbose_name=_("walker"))  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("patrol task")
        verbose_name_plural = _("patrol tasks")
        constraints = [models.UniqueConstraint(fields=["plan", "due_on"], name="patrols_task_once")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.due_on}"


class PatrolRecord(models.Model):
    task = models.ForeignKey(PatrolTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="records",
                             verbose_name=_("task"))  # fmt: skip
    walker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrol_records",
                               verbose_name=_("walker"))  # fmt: skip
    client_id = models.UUIDField(_("client id"), unique=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    grids = models.ManyToManyField(Grid, related_name="patrol_records", verbose_name=_("grids walked"))
    track = models.LineStringField(_("track"), srid=4326, null=True, blank=True)
    notes = models.CharField(_("what was found"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("patrol record")
        verbose_name_plural = _("patrol records")
        constraints = [models.CheckConstraint(condition=models.Q(ended_at__gte=models.F("started_at")),
                                              name="patrols_record_ends_after_start")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.walker} · {self.started_at:%Y-%m-%d %H:%M}"


class PatrolFinding(models.Model):
    """A problem found on a patrol (reported by the walker during the walk)."""

    record = models.ForeignKey(PatrolRecord, on_delete=models.CASCADE, related_name="findings",
                               verbose_name=_("patrol record"))  # fmt: skip
    problem = models.OneToOneField(Problem, on_delete=models.CASCADE, related_name="patrol_finding",
                                   verbose_name=_("problem"))  # fmt: skip

    class Meta:
        verbose_name = _("patrol finding")
        verbose_name_plural = _("patrol findings")

    def __str__(self) -> str:
        return f"{self.record} · #{self.problem_id}"
