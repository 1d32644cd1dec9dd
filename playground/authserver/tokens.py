"""Issuing tokens: access tokens (opaque, or RFC 9068 JWTs), refresh and ID tokens, stored by their hash."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import current_app, request
from joserfc import jwt

from .context import get_db, issuer
from .keys import JWT_ALG, signing_key
from .models import Client, RefreshToken, Token, User, hash_token
from .oidc import make_id_token

#: Scopes about a user: a grant without one (client credentials) cannot carry them.
USER_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: a `resource` that is not an absolute URI without fragment."""

    error = "invalid_target"


def requested_audience(client: Client) -> list[str]:
    """`aud` of a new token: RFC 8707 `resource`s, then `audience`s, else the client.

    RFC 8707 §2: a resource must be an absolute URI without a fragment.
    """
    resources = request.form.getlist("resource")
    for resource in resources:
        parts = urlsplit(resource)
        if not parts.scheme or not parts.netloc or parts.fragment:
            raise InvalidTargetError(
                description="'resource' must be an absolute URI without a fragment (RFC 8707, section 2)."
            )
    audiences = resources + [a for a in request.form.getlist("audience") if a]
    return audiences or [client.client_id]


def issue_token(
    client: Client,
    scope: str,
    audience: list[str],
    user: User | None = None,
    family_id: str | None = None,
    commit: bool = True,
    *,
    act: dict[str, Any] | None = None,
    token_format: str | None = None,
    lifetime: int | None = None,
) -> dict[str, Any]:
    """Create and store an access token; the RFC 6749 §5.1 response members for it.

    It records its issuer (the issuer moves with the port; introspection after a
    restart elsewhere must still say who issued it), its user and its grant's family,
    and the actor of a token exchange (RFC 8693 §4.1 `act`). The format and lifetime
    are the client's unless given (a token exchange may ask for a JWT, and caps the lifetime).
    """
    now = int(time.time())
    lifetime = lifetime or client.token_lifetime
    token_format = token_format or client.token_format
    jti = secrets.token_hex(16)
    subject = user.sub if user else client.client_id
    if token_format == "jwt":
        # RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope when granted.
        claims = {
            "iss": issuer(),
            "exp": now + lifetime,
            "nbf": now,
            "aud": audience[0] if len(audience) == 1 else audience,
            "sub": subject,
            "client_id": client.client_id,
            "iat": now,
            "jti": jti,
        }
        if scope:
            claims["scope"] = scope
        if act:
            claims["act"] = act
        key = signing_key()
        # RFC 9068 §2.1: the header's typ is "at+jwt".
        header = {"alg": JWT_ALG, "typ": "at+jwt", "kid": key.kid}
        value = jwt.encode(header, claims, key)
    else:
        value = secrets.token_urlsafe(32)
    db = get_db()
    db.add(
        Token(
            token_hash=hash_token(value),
            client_id=client.client_id,
            token_type="Bearer",
            token_format=token_format,
            scope=scope,
            audience=" ".join(audience),
            jti=jti,
            issued_at=now,
            expires_in=lifetime,
            issuer=issuer(),
            user_id=user.id if user else None,
            family_id=family_id,
            act=json.dumps(act) if act else None,
        )
    )
    if commit:
        db.commit()
    body: dict[str, Any] = {"access_token": value, "token_type": "Bearer", "expires_in": lifetime}
    if scope:
        body["scope"] = scope
    return body


def gets_refresh_token(client: Client, scope: str) -> bool:
    """A refresh token comes with `offline_access` granted (OpenID Connect Core §11), or for a
    client set to always get one; either way only for a client registered for the grant."""
    return client.check_grant_type("refresh_token") and (
        "offline_access" in scope.split() or client.always_refresh_token
    )


def issue_refresh_token(client: Client, user: User, scope: str, family_id: str, auth_time: int) -> str:
    """Create and store (by its hash) a refresh token of the family; not committed."""
    value = secrets.token_urlsafe(32)
    get_db().add(
        RefreshToken(
            token_hash=hash_token(value),
            client_id=client.client_id,
            user_id=user.id,
            scope=scope,
            family_id=family_id,
            auth_time=auth_time,
            expires_at=int(time.time()) + int(current_app.config["REFRESH_TOKEN_LIFETIME"]),
            issuer=issuer(),
        )
    )
    return value


def issue_user_tokens(
    client: Client,
    user: User,
    scope: str,
    family_id: str,
    auth_time: int,
    *,
    refresh: bool,
    refresh_scope: str | None = None,
    nonce: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The token response of a grant for a user: access token, refresh token, ID token.

    The ID token comes when `openid` was granted (OpenID Connect Core §3.1.3.3),
    with `at_hash` and, for a code, `c_hash`. A refresh token keeps the scope of
    the original grant (RFC 6749 §6), whatever narrower scope was asked for now.
    """
    body = issue_token(client, scope, requested_audience(client), user, family_id, commit=False)
    if refresh:
        body["refresh_token"] = issue_refresh_token(
            client, user, refresh_scope or scope, family_id, auth_time
        )
    if "openid" in scope.split():
        body["id_token"] = make_id_token(
            client, user, scope, auth_time, nonce=nonce, access_token=body["access_token"], code=code
        )
    get_db().commit()
    return body
