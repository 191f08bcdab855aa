"""Who a user is in the campaign: a role, and the community or department it is tied to.

Area responsibility (块) is held on the grids themselves (first and direct responsible people);
line responsibility (条) is a department with the event categories it handles.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("administrator")
    PLANNER = "planner", _("planner")
    COMMUNITY_HEAD = "community_head", _("community head")
    GRID_LEADER = "grid_leader", _("grid leader")
    DEPARTMENT = "department", _("department handler")
    INSPECTOR = "inspector", _("inspector")
    REPORTER = "reporter", _("reporter")


class Department(models.Model):
    """A line department (职能部门) that handles the problems of some categories."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    categories = models.ManyToManyField(
        "problems.EventCategory", blank=True, related_name="departments", verbose_name=_("categories")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REPORTER)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    community = models.ForeignKey(
        "geography.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
        verbose_name=_("community"),
        help_text=_("for community heads: the community they are responsible for"),
    )
    patrol_communities = models.ManyToManyField(
        "geography.Community",
        blank=True,
        related_name="inspectors",
        verbose_name=_("patrol communities"),
        help_text=_("for inspectors: the communities whose problems they verify and look back on"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("department"),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.display_name or self.user.get_username()} [{self.get_role_display()}]"
