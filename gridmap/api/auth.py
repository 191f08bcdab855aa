"""Authentication for the API: DRF tokens (one query for token, user and profile) and sessions.

Every API request authenticates, so the token lookup is the one query written out by hand: the
ORM's ``Token.objects.select_related("user__profile").get(key=...)`` spends about 0.55 ms building
the query and its three objects, against under 0.1 ms for the query itself. The SQL is built once
from the models' metadata (no table or column name is written here) and the objects are made
with ``Model.from_db``, as the ORM does; a test holds the result equal to the ORM's. On
PostgreSQL it runs as a prepared statement (``gridmap.core.prepared``): planned once per session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token

from gridmap.accounts.models import Profile
from gridmap.core import prepared

TOKEN_KEY = re.compile(r"[0-9a-fA-F]{1,40}")


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    names: list[str]  # attribute names, in column order
    converters: list[list[tuple[Callable[..., Any], Any]]]  # the backend's and the field's, per column

    def make(self, values: Sequence[Any]) -> Model:
        values = list(values)
        for i, converters in enumerate(self.converters):
            for convert, expression in converters:
                values[i] = convert(values[i], expression, connection)
        return self.model.from_db(connection.alias, self.names, values)


@lru_cache(maxsize=4)
def _token_query(vendor: str) -> tuple[str, list[_Part]]:
    """SELECT token, user and (optional) profile columns for one key, and how to make the objects."""
    q = connection.ops.quote_name
    user_model = get_user_model()
    parts, columns = [], []
    for model, alias in ((Token, "t"), (user_model, "u"), (Profile, "p")):
        fields = model._meta.concrete_fields
        cols = [f.get_col(alias) for f in fields]
        converters = [
            [(c, col) for c in connection.ops.get_db_converters(col) + col.get_db_converters(connection)]
            for col in cols
        ]
        parts.append(_Part(model, [f.attname for f in fields], converters))
        columns += [f"{alias}.{q(f.column)}" for f in fields]
    user_pk = q(user_model._meta.pk.column)
    sql = (
        f"SELECT {', '.join(columns)} FROM {q(Token._meta.db_table)} t "
        f"INNER JOIN {q(user_model._meta.db_table)} u ON u.{user_pk} = t.{q(Token._meta.get_field('user').column)} "
        f"LEFT OUTER JOIN {q(Profile._meta.db_table)} p ON p.{q(Profile._meta.get_field('user').column)} = u.{user_pk} "
        f"WHERE t.{q(Token._meta.pk.column)} = %s"
    )
    return sql, parts


def token_with_user(key: str) -> Token | None:
    """The token ``key`` with its user and the user's profile (or a cached "no profile")."""
    sql, (token_part, user_part, profile_part) = _token_query(connection.vendor)
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    n_token, n_user = len(token_part.names), len(user_part.names)
    token = token_part.make(row[:n_token])
    user = user_part.make(row[n_token : n_token + n_user])
    profile_values = row[n_token + n_user :]
    to_profile = Profile.user.field.remote_field  # the user → profile side of the one-to-one
    if profile_values[0] is None:
        to_profile.set_cached_value(user, None)
    else:
        profile = profile_part.make(profile_values)
        to_profile.set_cached_value(user, profile)
        Profile.user.field.set_cached_value(profile, user)
    Token.user.field.set_cached_value(token, user)
    return token


class ProfileTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``. The user's profile comes in the same query (every scope
    check reads the role), and a key that cannot be a token is refused before the database."""

    def authenticate(self, request: Any) -> tuple[Any, Token] | None:
        try:
            return super().authenticate(request)
        except UnicodeError:  # a header that is not Latin-1 (only possible in-process, not over HTTP)
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        if not TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = token_with_user(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


AUTHENTICATION = (ProfileTokenAuthentication, SessionAuthentication)
