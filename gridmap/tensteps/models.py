"""The community's ten steps (创建全国文明城市工作步骤（社区版）): the seed's ten steps and their
sub-items as a catalogue (``Step``, ``StepItem``), each community's progress on every sub-item
with its evidence (``ItemProgress``, ``Evidence``), and the stage acceptance of each step signed
off by the street office (``Acceptance``, by the users named in ``Signer`` for a street)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.core.language import local_name
from gridmap.geography.models import Community, Subdistrict


class Step(models.Model):
    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self) -> str:
        return f"{self.number}. {self.local_name}"

    @property
    def local_name(self) -> str:
        return local_name(self.name, self.name_en)


class StepItem(models.Model):
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="items", verbose_name=_("step"))
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)

    class Meta:
        ordering = ["step__number", "number"]
        verbose_name = _("sub-item")
        verbose_name_plural = _("sub-items")
        constraints = [models.UniqueConstraint(fields=["step", "number"], name="tensteps_item_number")]

    def __str__(self) -> str:
        return f"{self.step.number}.{self.number} {self.local_name}"

    @property
    def local_name(self) -> str:
        return local_name(self.name, self.name_en)


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("not started")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")


class ItemProgress(models.Model):
    """One community's state of one sub-item (no row: not started)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="step_items",
                                  verbose_name=_("community"))  # fmt: skip
    item = models.ForeignKey(
        StepItem, on_delete=models.CASCADE, related_name="progress", verbose_name=_("sub-item")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.NOT_STARTED
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("updated by"))  # fmt: skip

    class Meta:
        verbose_name = _("sub-item progress")
        verbose_name_plural = _("sub-item progress")
        constraints = [models.UniqueConstraint(fields=["community", "item"], name="tensteps_progress_once")]

    def __str__(self) -> str:
        return f"{self.community} · {self.item} · {self.get_status_display()}"


def evidence_path(instance: Evidence, filename: str) -> str:
    """Stored under a name of our own (never the client's): ``steps/<community>/<uuid>.<ext>``."""
    import uuid

    return f"steps/{instance.progress.community_id}/{uuid.uuid4().hex}.{instance.extension}"


class Evidence(models.Model):
    """A photo or a document (PDF) showing a sub-item's work."""

    progress = models.ForeignKey(ItemProgress, on_delete=models.CASCADE, related_name="evidence",
                                 verbose_name=_("sub-item progress"))  # fmt: skip
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    extension = models.CharField(_("type"), max_length=8)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("uploaded by"))  # fmt: skip

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.caption or f"{self.extension} #{self.pk}"

    @property
    def is_photo(self) -> bool:
        return self.extension in {"jpg", "png", "webp"}


class Signer(models.Model):
    """A user who signs the stage acceptances of a street office (街道) for its communities."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="step_signer",
                             verbose_name=_("user"))  # fmt: skip
    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.CASCADE, related_name="step_signers",
                                    verbose_name=_("street / town"))  # fmt: skip

    class Meta:
        verbose_name = _("acceptance signer")
        verbose_name_plural = _("acceptance signers")
        constraints = [models.UniqueConstraint(fields=["user", "subdistrict"], name="tensteps_signer_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.subdistrict}"


class Acceptance(models.Model):
    """A stage acceptance decision on one step of one community; the latest one stands."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        RETURNED = "returned", _("returned for more work")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="step_acceptances",
                                  verbose_name=_("community"))  # fmt: skip
    step = models.ForeignKey(
        Step, on_delete=models.CASCADE, related_name="acceptances", verbose_name=_("step")
    )
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    remarks = models.CharField(_("remarks"), max_length=500, blank=True)
    signed_at = models.DateTimeField(_("signed at"), auto_now_add=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("signed by"))  # fmt: skip

    class Meta:
        ordering = ["-signed_at", "-pk"]
        verbose_name = _("stage acceptance")
        verbose_name_plural = _("stage acceptances")

    def __str__(self) -> str:
        return f"{self.community} · {self.step} · {self.get_decision_display()}"
