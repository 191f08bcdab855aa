"""The change stamps: one row per kind of data and town, given a new random value by database
triggers whenever a row of that kind changes (``gridmap.core.stamps``)."""

from django.conf import settings
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


class Job(models.Model):
    """A piece of background work someone started and follows (``gridmap.core.jobs.submit``):
    its state, how far it got, and what it produced (a result and, for exports, a file)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True)
    task = models.CharField(_("task"), max_length=80)
    label = models.CharField(_("label"), max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(_("message"), max_length=300, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="jobs/%Y/%m/", max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="core_job_user_created")]

    def __str__(self) -> str:
        return f"{self.task} ({self.state})"

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None


class PublicAccess(models.Model):
    """What the administrator opens to the public (one row, edited in the admin; no row: all
    off): self sign-up of reporters, and the anonymous map of reports."""

    self_signup = models.BooleanField(_("reporters may sign up themselves"), default=False)
    public_map = models.BooleanField(_("public map of reports"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("public access")
        verbose_name_plural = _("public access")

    def __str__(self) -> str:
        return str(_("public access"))

    @classmethod
    def current(cls) -> "PublicAccess":
        """The row in force (an unsaved all-off one when the administrator set none)."""
        return cls.objects.order_by("pk").first() or cls()
