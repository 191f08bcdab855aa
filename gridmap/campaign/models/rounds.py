"""Mock evaluations: a round, the points it visits (with their inspector and walking order), the
answers per item and the findings each failed item turned into."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Round(models.Model):
    """One mock evaluation (模拟测评). Its points are chosen once (``rounds.round_create``):
    every active point, or a stratified sample (by type and community) drawn from ``seed``."""

    name = models.CharField(_("name"), max_length=100)
    held_on = models.DateField(_("held on"), default=timezone.localdate)
    seed = models.PositiveIntegerField(_("sample seed"), default=0)
    sample_share = models.FloatField(_("share sampled per type and community"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed = models.BooleanField(_("closed"), default=False)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("mock evaluation")
        verbose_name_plural = _("mock evaluations")

    def __str__(self) -> str:
        return f"{self.name} ({self.held_on})"


class RoundPoint(models.Model):
    """A point visited in a round, by whom and in which place of their planned walk."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="visits")
    point = models.ForeignKey("campaign.InspectionPoint", on_delete=models.CASCADE, related_name="visits")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="campaign_visits", verbose_name=_("inspector"))  # fmt: skip
    walk_order = models.PositiveIntegerField(_("order on the walk"), null=True, blank=True)

    class Meta:
        ordering = ["round", "inspector", "walk_order", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "point"], name="campaign_visit_unique")]


class Answer(models.Model):
    """The score of one item at one visited point. ``client_uuid`` is chosen by the phone: the same
    answer sent again (a retry on a poor connection) finds this row and writes nothing; one
    answer per item and visit."""

    visit = models.ForeignKey(RoundPoint, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey("campaign.ChecklistItem", on_delete=models.PROTECT, related_name="answers")
    client_uuid = models.UUIDField(_("client id"), unique=True, default=uuid.uuid4)
    findings = models.PositiveIntegerField(_("findings"), default=0)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    points = models.FloatField(_("points"))
    weight = models.FloatField(
        _("weight (points)")
    )  # the item's weight when answered: edits later change no past score
    failed = models.BooleanField(_("failed"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")  # fmt: skip
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="campaign_answer_unique")]


class Finding(models.Model):
    """A failed item and the problem it became in the closed loop; closed when that problem is
    verified (``hooks``), open again if its look-back fails."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="finding")
    problem = models.OneToOneField(
        "problems.Problem", on_delete=models.CASCADE, related_name="campaign_finding"
    )
    point = models.ForeignKey("campaign.InspectionPoint", on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey("campaign.ChecklistItem", on_delete=models.PROTECT, related_name="findings")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["point", "closed_at"])]
