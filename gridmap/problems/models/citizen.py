"""What a reporter says about the handling of their report after it was closed: a satisfaction
rating (1–5) and a comment, once per reporter per case (counted in the evaluation)."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.core.boundary import storable_times

STARS = (1, 5)


class ProblemRating(models.Model):
    problem = models.ForeignKey("problems.Problem", on_delete=models.CASCADE, related_name="ratings")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stars = models.PositiveSmallIntegerField(_("satisfaction (1–5)"))
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    at = models.DateTimeField(_("rated at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "pk"]
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.UniqueConstraint(fields=["problem", "reporter"], name="problems_rating_once_per_reporter"),
            models.CheckConstraint(condition=Q(stars__gte=STARS[0], stars__lte=STARS[1]),
                                   name="problems_rating_stars_1_5"),
            storable_times("problems_rating_at_storable", "at"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.problem_id} {self.stars}"
