"""Questionnaires (residents' satisfaction, awareness of the campaign, …) answered by community:
collected on a phone page (idempotent on the phone's client id) or imported from a spreadsheet.
Results per community in ``results.py``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.core.language import local_name
from gridmap.geography.models import Community


class Survey(models.Model):
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    open = models.BooleanField(_("open for answers"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.local_title

    @property
    def local_title(self) -> str:
        return local_name(self.title, self.title_en)


class Question(models.Model):
    class Kind(models.TextChoices):
        RATING = "rating", _("rating 1 to 5")
        YES_NO = "yes_no", _("yes or no")
        TEXT = "text", _("free text")

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    text = models.CharField(_("question"), max_length=300)
    text_en = models.CharField(_("English question"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.RATING)
    required = models.BooleanField(_("required"), default=True)
    satisfaction = models.BooleanField(
        _("counts in satisfaction"),
        default=False,
        help_text=_("A rating question counted in the satisfaction score."),
    )

    class Meta:
        ordering = ["survey", "number"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="surveys_question_number")]

    def __str__(self) -> str:
        return f"Q{self.number} {self.local_text}"

    @property
    def local_text(self) -> str:
        return local_name(self.text, self.text_en)


class Response(models.Model):
    class Source(models.TextChoices):
        PHONE = "phone", _("phone page")
        IMPORT = "import", _("spreadsheet")

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", verbose_name=_("survey")
    )
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="survey_responses",
                                  verbose_name=_("community"))  # fmt: skip
    client_id = models.UUIDField(_("client id"), unique=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("collected by"))  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"{self.survey} · {self.community} · {self.pk}"


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response")
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question")
    )
    number = models.SmallIntegerField(_("value"), null=True, blank=True)  # rating 1-5; yes 1, no 0
    text = models.CharField(_("text"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="surveys_answer_once")]

    def __str__(self) -> str:
        return f"{self.question} = {self.number if self.number is not None else self.text}"
