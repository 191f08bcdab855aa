"""Who is asking (API key, session or nobody), how often, in which language and jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from gridmap.core.client import client_address
from gridmap.geography.models import District
from gridmap.open311.formats import Open311Error
from gridmap.open311.models import ApiKey, hash_key

MAX_KEY_LENGTH = 200
PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def public_read() -> bool:
    return bool(setting("GRIDMAP_OPEN311_PUBLIC_READ", False))


@dataclass(frozen=True)
class Caller:
    key: ApiKey | None
    user: Any  # the key's owner, the session user, or AnonymousUser

    @property
    def anonymous(self) -> bool:
        return not self.user.is_authenticated


def param(request: HttpRequest, name: str) -> str:
    """A GET or POST parameter as stripped text ('' when absent)."""
    value = request.POST.get(name) if request.method == "POST" and name in request.POST else None
    if value is None:
        value = request.GET.get(name, "")
    return value.strip()


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/min' → (120, 60)."""
    count, _sep, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower() or "min"]


def throttle(bucket: str, rate: str) -> None:
    """A fixed-window counter in the cache; raises 429 past the rate. The default cache is per
    process: with several workers, GRIDMAP_CACHE_URL points every one at the same Redis."""
    limit, seconds = parse_rate(rate)
    window = int(timezone.now().timestamp()) // seconds
    cache_key = f"open311:rate:{bucket}:{window}"
    cache.add(cache_key, 0, timeout=seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=seconds + 5)
        count = 1
    if count > limit:
        raise Open311Error(429, _("Too many requests; try again in a minute."))


def client_ip(request: HttpRequest) -> str:
    return client_address(request)  # the one rule for the client address (trusted proxies)


def identify(request: HttpRequest, *, key_required: bool) -> Caller:
    """The caller, rate-limited per key (or per address without a valid key).

    Raises 403 without a key where one is required and for a wrong or inactive key."""
    raw = param(request, "api_key")
    if not raw or len(raw) > MAX_KEY_LENGTH:
        throttle(f"ip:{client_ip(request)}", setting("GRIDMAP_OPEN311_ANON_RATE", "30/min"))
        if raw:
            raise Open311Error(403, _("Invalid api_key."))
        if key_required:  # GeoReport v2: "403 - api_key was not provided or invalid"
            raise Open311Error(403, _("An api_key is required to submit a request."))
        return Caller(None, request.user)
    key = ApiKey.objects.select_related("owner").filter(key_hash=hash_key(raw), active=True).first()
    if key is None or not key.owner.is_active:
        throttle(f"ip:{client_ip(request)}", setting("GRIDMAP_OPEN311_ANON_RATE", "30/min"))
        raise Open311Error(403, _("Invalid api_key."))
    throttle(f"key:{key.pk}", setting("GRIDMAP_OPEN311_RATE", "120/min"))
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return Caller(key, key.owner)


def language(request: HttpRequest, *, read_body: bool = True) -> str:
    """English when asked by ``lang`` or Accept-Language, Chinese otherwise."""
    chosen = (param(request, "lang") if read_body else request.GET.get("lang", "")).strip().lower()
    if not chosen:
        header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:200]
        codes = [code.lower() for code, _q in parse_accept_lang_header(header)]
        chosen = next((c for c in codes if c.startswith(("en", "zh"))), "")
    return "en" if chosen.startswith("en") else settings.LANGUAGE_CODE


def jurisdiction(request: HttpRequest) -> District | None:
    """The district asked for. Optional while there is at most one district (then ``None``: no
    filter); unknown codes are 404."""
    code = param(request, "jurisdiction_id")
    several = District.objects.count() > 1
    if not code:
        if several:
            raise Open311Error(400, _("jurisdiction_id is required: this endpoint serves several districts."))
        return None
    district = District.objects.filter(code=code).first() if code.isdigit() and len(code) <= 6 else None
    if district is None:
        raise Open311Error(404, _("Unknown jurisdiction_id."))
    return district if several else None
