"""Photos of Open311 requests, behind the same scope as the requests themselves.

A request's ``media_url`` names ``/open311/v2/requests/<id>/media/<photo>``: the API's scoped photo
view (``gridmap.api.views.media.ProblemPhotoFile``), reached with the credentials an Open311
client holds: its ``api_key`` (query string, as on every Open311 call), or a session or API token.
Whoever may not see the request gets a 404; no credentials, or an unknown or inactive key, a 401. Nothing is served from ``/media/``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from gridmap.api.auth import AUTHENTICATION
from gridmap.api.views.media import ProblemPhotoFile
from gridmap.open311.access import identify
from gridmap.open311.formats import Open311Error


class ApiKeyAuthentication(BaseAuthentication):
    """The Open311 ``api_key`` (rate-limited as on every Open311 call); no key: the next class."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        if not request.query_params.get("api_key"):
            return None
        try:
            caller = identify(request._request, key_required=False)
        except Open311Error as exc:
            if exc.status == 429:
                raise exceptions.Throttled(detail=str(exc.description)) from None
            raise exceptions.AuthenticationFailed(str(exc.description)) from None
        return caller.user, caller.key


class RequestPhoto(ProblemPhotoFile):
    """The API's photo view under Open311 (not a path of the REST API's OpenAPI document)."""

    # the API's classes first: a 401 names the token scheme, as the API's own photo URLs do
    authentication_classes = (*AUTHENTICATION, ApiKeyAuthentication)
    schema = None


photo = RequestPhoto.as_view()


def photo_url(request: HttpRequest, problem_id: int, photo_id: int) -> str:
    """The absolute ``media_url`` of one photo of a request."""
    return request.build_absolute_uri(reverse("open311-photo", args=[problem_id, photo_id]))
