"""Self sign-up of reporters (市民 / 志愿者) by phone number or email, when the administrator
allows it (``core.models.PublicAccess.self_signup``; off by default).

A phone number (a mainland mobile number, 11 ASCII digits starting 1[3-9]) or an email address
is the account's user name and its contact; no message is sent to either. The password takes
the site's validators. Sign-ups are counted per client address in the shared cache (``LIMIT``
per ``WINDOW_S``) so that one address cannot make accounts in bulk.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.accounts.models import Profile, Role
from gridmap.core.boundary import BoundaryError, check_text

PHONE = re.compile(r"1[3-9][0-9]{9}")
LIMIT = 5
WINDOW_S = 3600


def contact_of(raw: Any) -> tuple[str, str]:
    """("phone" | "email", the normalised value) or ValidationError."""
    try:
        text = check_text(str(raw or ""), max_chars=150).strip()
    except BoundaryError as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    compact = text.replace(" ", "").replace("-", "")
    if compact.startswith("+86"):
        compact = compact[3:]
    if compact.isascii() and PHONE.fullmatch(compact):
        return "phone", compact
    if "@" in text and text.isascii():
        try:
            validate_email(text)
        except ValidationError:
            pass
        else:
            return "email", text.lower()
    raise ValidationError(_("Enter a mobile phone number or an email address."), code="bad_contact")


def signup_allowed_now(address: str) -> bool:
    """Counts this sign-up attempt for ``address``; False past ``LIMIT`` in the window."""
    key = f"signup:{address[:64]}:{int(timezone.now().timestamp()) // WINDOW_S}"
    cache.add(key, 0, timeout=WINDOW_S + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=WINDOW_S + 5)
        count = 1
    return count <= LIMIT


def reporter_signup(*, contact: Any, password: str, display_name: str = "") -> Any:
    """A new reporter account named by its phone or email; ValidationError for a bad or taken
    contact, a name that is not text, or a password the validators refuse."""
    kind, value = contact_of(contact)
    try:
        name = check_text(str(display_name or ""), max_chars=100).strip()
    except BoundaryError as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    User = get_user_model()
    taken = _("An account with this phone number or email exists already; log in instead.")
    if User.objects.filter(username__iexact=value).exists():
        raise ValidationError(taken, code="taken")
    candidate = User(username=value, email=value if kind == "email" else "")
    password_validation.validate_password(password, candidate)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=value, password=password, email=candidate.email)
            Profile.objects.create(user=user, role=Role.REPORTER, display_name=name,
                                   phone=value if kind == "phone" else "")  # fmt: skip
    except IntegrityError:
        raise ValidationError(taken, code="taken") from None
    return user
