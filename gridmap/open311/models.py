"""Open311 GeoReport v2: API keys, service attributes and what a POSTed request brought along.

An API key is shown once when it is made and stored only as its SHA-256 (keys are 256 random bits,
so a fast hash is enough); requests are made in the name of the key's owner. A service attribute
is one extra question of a category's service definition. A ``Submission`` keeps the Open311
details of a problem that came in through the API (address, attributes, client ids), never the
reporter's name, e-mail or phone.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiKey(models.Model):
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="open311_keys",
        verbose_name=_("owner"),
        help_text=_("requests are reported in this user's name and GETs see what this user may see"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("the client application using the key"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def set_new_key(self) -> str:
        """Give this key a fresh random value; returns it (the only time it is seen in clear)."""
        raw = secrets.token_urlsafe(32)
        self.key_hash = hash_key(raw)
        self.prefix = raw[:8]
        return raw

    @classmethod
    def create_for(cls, owner: object, name: str) -> tuple[ApiKey, str]:
        key = cls(owner=owner, name=name)
        raw = key.set_new_key()
        key.save()
        return key, raw


class ServiceAttribute(models.Model):
    """An extra question of a category's Open311 service definition."""

    class Datatype(models.TextChoices):
        STRING = "string", _("string")
        NUMBER = "number", _("number")
        DATETIME = "datetime", _("date and time")
        TEXT = "text", _("text")
        SINGLE = "singlevaluelist", _("one of a list")
        MULTI = "multivaluelist", _("several of a list")

    category = models.ForeignKey(
        "problems.EventCategory",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("event category"),
    )
    code = models.SlugField(_("code"), max_length=40)
    variable = models.BooleanField(_("asks the reporter"), default=True)
    datatype = models.CharField(_("datatype"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.CharField(_("question"), max_length=300)
    description_en = models.CharField(_("question in English"), max_length=300, blank=True)
    datatype_description = models.CharField(_("datatype description"), max_length=300, blank=True)
    values = models.JSONField(
        _("values"),
        default=list,
        blank=True,
        help_text=_('for lists: [["key", "name", "English name"], ...]'),
    )

    class Meta:
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_code")]
        verbose_name = _("Open311 service attribute")
        verbose_name_plural = _("Open311 service attributes")

    def __str__(self) -> str:
        return f"{self.category.code} {self.code}"

    @property
    def is_list(self) -> bool:
        return self.datatype in (self.Datatype.SINGLE, self.Datatype.MULTI)

    def value_keys(self) -> list[str]:
        return [str(v[0]) for v in self.values if isinstance(v, list) and v]


class Submission(models.Model):
    """The Open311 side of a problem reported through ``POST requests``."""

    problem = models.OneToOneField(
        "problems.Problem", on_delete=models.CASCADE, related_name="open311", verbose_name=_("problem")
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, on_delete=models.SET_NULL, related_name="submissions", verbose_name=_("API key")
    )
    content_hash = models.CharField(_("content hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    address_string = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(
        "geography.Building",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("building"),
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    # Pseudonymous ids of the client's own systems; never shown by GET.
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["api_key", "content_hash", "created_at"])]
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")

    def __str__(self) -> str:
        return f"#{self.problem_id}"
