"""Login throttling: the one rule for every way a password is tried (the login page, the admin's
login, the API's token endpoint), kept in the shared cache so that every worker counts together.

Failed logins are counted three ways within a window (15 minutes by default):

* **this account from this address** (5): the attacker at one address guessing one password;
* **this account from anywhere** (20): guesses spread over many addresses;
* **this address, any account** (100): one address trying many accounts.

When a count reaches its limit, that key is refused until the window has passed since — the
right password included — with a message saying how long to wait. A refused attempt is not
counted again, so waiting always ends the refusal. A success clears the count of its own
account-and-address pair and remembers the pair as *known* for 30 days: a known pair is held
only by its own count, so neither an attacker elsewhere hammering the account nor one on the
same office address spraying other accounts locks out a user from where they usually log in.
Other users on a refused address are refused only once the address itself has reached its
(high) limit, and not at all where they have logged in from before.

IPv6 clients are counted per /64 (one host usually holds a whole /64). The cache is per process
unless ``GRIDMAP_CACHE_URL`` points at Redis; ``manage.py check --deploy`` warns when it does not.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

KNOWN_FOR = 30 * 86400
KINDS = ("pair", "account", "address")
DEFAULTS = {"pair": 5, "account": 20, "address": 100, "minutes": 15}


@dataclass(frozen=True)
class Limits:
    pair: int
    account: int
    address: int
    seconds: int

    def of(self, kind: str) -> int:
        return int(getattr(self, kind))


def parse_limits(text: str) -> Limits:
    """``"pair:5,account:20,address:100,minutes:15"`` (any subset) → Limits."""
    values = dict(DEFAULTS)
    for item in (i.strip() for i in (text or "").split(",")):
        if not item:
            continue
        name, _sep, number = item.partition(":")
        name = name.strip().lower()
        if name not in values or not number.strip().isascii() or not number.strip().isdigit():
            raise ImproperlyConfigured(
                f"GRIDMAP_LOGIN_LIMITS: {item!r}; use pair:N,account:N,address:N,minutes:N (positive integers)"
            )
        values[name] = int(number)
        if not 0 < values[name] <= 100_000:
            raise ImproperlyConfigured(f"GRIDMAP_LOGIN_LIMITS: {item!r} is out of range")
    return Limits(values["pair"], values["account"], values["address"], values["minutes"] * 60)


def limits() -> Limits:
    value = getattr(settings, "GRIDMAP_LOGIN_LIMITS", "")
    return value if isinstance(value, Limits) else parse_limits(value)


def _address_bucket(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _ids(address: str, username: str) -> dict[str, str]:
    user, where = _digest(username), _digest(_address_bucket(address))
    return {"pair": f"{user}:{where}", "account": user, "address": where}


def _counter(kind: str, ident: str) -> str:
    return f"login:fail:{kind}:{ident}"


def _lock(kind: str, ident: str) -> str:
    return f"login:lock:{kind}:{ident}"


def _known(ids: dict[str, str]) -> str:
    return f"login:known:{ids['pair']}"


def refusal(address: str, username: str) -> int | None:
    """Seconds this account must wait before trying again from this address, or None."""
    ids = _ids(address, username)
    locks = {kind: _lock(kind, ident) for kind, ident in ids.items()}
    found = cache.get_many([*locks.values(), _known(ids)])
    kinds = ("pair",) if found.get(_known(ids)) else KINDS
    now = time.time()
    waits = [float(found[locks[k]]) - now for k in kinds if locks[k] in found]
    waits = [w for w in waits if w > 0]
    return max(1, int(max(waits)) + 1) if waits else None


def failed(address: str, username: str) -> None:
    """Count a wrong password (or unknown account); lock each key that reaches its limit."""
    rule = limits()
    now = time.time()
    for kind, ident in _ids(address, username).items():
        key = _counter(kind, ident)
        cache.add(key, 0, timeout=rule.seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=rule.seconds)
            count = 1
        if count >= rule.of(kind):
            cache.set(_lock(kind, ident), now + rule.seconds, timeout=rule.seconds)


def succeeded(address: str, username: str) -> None:
    """A right password: this pair starts again from zero and is known from now on."""
    ids = _ids(address, username)
    cache.delete(_counter("pair", ids["pair"]))
    cache.set(_known(ids), 1, timeout=KNOWN_FOR)
