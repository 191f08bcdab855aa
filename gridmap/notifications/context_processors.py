"""The unread count in the site header: counted only when a page shows it, once per page, and
never for someone not signed in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gridmap.notifications.selectors import unread_count


class _Unread:
    def __init__(self, user: Any) -> None:
        self.user = user
        self.value: int | None = None

    def __call__(self) -> int:
        if self.value is None:
            self.value = unread_count(self.user) if self.user.is_authenticated else 0
        return self.value


def unread(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notifications_unread": 0}
    return {"notifications_unread": _Unread(user)}
