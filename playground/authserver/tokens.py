"""Issuing access tokens: opaque, or RFC 9068 JWTs, stored by their hash."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import request
from joserfc import jwt

from .context import get_db, issuer
from .keys import JWT_ALG, signing_key
from .models import Client, Token, hash_token


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


def issue_token(client: Client, scope: str, audience: list[str]) -> dict[str, Any]:
    """Create, store and return the token response of RFC 6749 §5.1."""
    now = int(time.time())
    lifetime = client.token_lifetime
    jti = secrets.token_hex(16)
    if client.token_format == "jwt":
        # RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope when granted.
        claims = {
            "iss": issuer(),
            "exp": now + lifetime,
            "nbf": now,
            "aud": audience[0] if len(audience) == 1 else audience,
            "sub": client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "jti": jti,
        }
        if scope:
            claims["scope"] = scope
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
            token_format=client.token_format,
            scope=scope,
            audience=" ".join(audience),
            jti=jti,
            issued_at=now,
            expires_in=lifetime,
        )
    )
    db.commit()
    body: dict[str, Any] = {"access_token": value, "token_type": "Bearer", "expires_in": lifetime}
    if scope:
        body["scope"] = scope
    return body
