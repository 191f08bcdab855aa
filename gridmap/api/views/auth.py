"""Tokens for API clients: ``POST auth/token/`` with a username and password gives the user's
token; ``DELETE auth/token/`` with that token revokes it (a lost phone, a leaver), so that the next
request with it is a 401. A new POST then issues a new key."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from gridmap.accounts.backends import refusal_message, retry_after
from gridmap.api import inputs
from gridmap.api.auth import AUTHENTICATION
from gridmap.api.openapi import STR, obj
from gridmap.api.renderers import json_response
from gridmap.api.schema import CREDENTIALS, responses
from gridmap.api.views.base import ApiView
from gridmap.core.jsonbody import BoundedJSONParser


@extend_schema(tags=["auth"])
class TokenView(ApiView):
    # POST logs in with a password (no other authentication, so no CSRF either); DELETE revokes
    # the token the request authenticates with
    authentication_classes = ()
    permission_classes = ()
    parser_classes = (BoundedJSONParser, FormParser, MultiPartParser)
    # passwords are throttled per account and address by the login rule (gridmap.core.throttle)
    throttle_classes = ()

    def initialize_request(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            self.authentication_classes = AUTHENTICATION
            self.permission_classes = (IsAuthenticated,)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={
            t: CREDENTIALS
            for t in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
        },
        responses=responses({200: obj({"token": STR})}, 413, 415, 429),
    )
    def post(self, request: Request) -> HttpResponse:
        """Your API token (send it as ``Authorization: Token <key>``)."""
        data = inputs.check_fields(request.data, ("username", "password"), ("username", "password"))
        username = inputs.text(data, "username", 150, required=True)
        password = inputs.text(data, "password", 1000, required=True, strip=False)
        user = authenticate(request._request, username=username, password=password)
        wait = retry_after(request._request)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail=refusal_message(wait))
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"detail": _("Unable to log in with the given username and password.")}
            )
        token, _created = Token.objects.get_or_create(user=user)
        return json_response({"token": token.key})

    @extend_schema(responses=responses({204: None}))
    def delete(self, request: Request) -> HttpResponse:
        """Revoke your API token: requests with it are refused from now on."""
        Token.objects.filter(user=request.user).delete()
        return HttpResponse(status=204)
