"""OpenID Connect: ID tokens (Core §2, §3.1.3.6) and the UserInfo endpoint (Core §5.3, RFC 6750)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

from authlib.oidc.core.util import create_half_hash
from flask import current_app, jsonify, request
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet

from .context import REALM, get_db, issuer
from .keys import public_jwks, signing_key
from .models import ID_TOKEN_ALGS, Client, User, family_revoked, find_client, find_token, now
from .users import user_claims


@contextlib.contextmanager
def quiet_eddsa() -> Iterator[None]:
    """joserfc warns on every use of `EdDSA` since RFC 9864 deprecated that polymorphic name
    (for the fully specified `Ed25519`); OpenID Connect deployments still use EdDSA, which
    is what this server offers, so the warning is silenced around our own signing only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
        yield


def half_hash(value: str, alg: str) -> str:
    """`at_hash` / `c_hash` (OpenID Connect Core §3.1.3.6, §3.3.2.11): the left half of the
    hash of the ASCII value, base64url-encoded, with the hash of the ID token's `alg`.

    SHA-256 for RS256 and ES256. EdDSA names no hash; for Ed25519 it is SHA-512, the
    hash Ed25519 itself uses (RFC 8032 §5.1), as the OpenID Connect working group
    settled (openid/connect issue 1125) and Authlib's create_half_hash does.
    """
    return create_half_hash(value, alg).decode("ascii")


def make_id_token(
    client: Client,
    user: User,
    scope: str,
    auth_time: int,
    nonce: str | None = None,
    access_token: str | None = None,
    code: str | None = None,
) -> str:
    """A signed ID token for the client, with its `alg` (RS256 unless registered otherwise).

    The claims of the granted profile and email scopes ride along (Core §5.4 puts them
    at UserInfo; an ID token MAY carry more claims, and the playground shows both).
    """
    alg = client.id_token_signed_response_alg
    key = signing_key(alg)
    issued = now()
    claims: dict[str, Any] = {
        "iss": issuer(),
        "sub": user.sub,
        "aud": client.client_id,
        "azp": client.client_id,  # Core §2: the party the ID token was issued to
        "exp": issued + int(current_app.config["ID_TOKEN_LIFETIME"]),
        "iat": issued,
        "auth_time": auth_time,
    }
    if nonce:
        claims["nonce"] = nonce  # Core §3.1.3.6: the value sent in the authentication request
    if access_token:
        claims["at_hash"] = half_hash(access_token, alg)
    if code:
        claims["c_hash"] = half_hash(code, alg)
    claims.update({k: v for k, v in user_claims(user, scope).items() if k != "sub"})
    with quiet_eddsa():
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def verify_id_token(value: str) -> dict[str, Any] | None:
    """The claims of an ID token this server signed (expired or not: it is a hint), else None."""
    try:
        keys = KeySet.import_key_set(public_jwks())
        with quiet_eddsa():
            token = jwt.decode(value, keys, algorithms=list(ID_TOKEN_ALGS))
    except (JoseError, ValueError, TypeError):
        return None
    claims = dict(token.claims)
    return claims if isinstance(claims.get("sub"), str) and claims.get("aud") else None


# -- UserInfo ------------------------------------------------------------------------


def bearer_error(status: int, error: str | None, description: str, scope: str | None = None):
    """An RFC 6750 §3 answer: the WWW-Authenticate challenge, and the same as a JSON body."""
    params = [f'realm="{REALM}"']
    body: dict[str, str] = {}
    if error:
        params.append(f'error="{error}"')
        params.append(f'error_description="{description}"')
        body = {"error": error, "error_description": description}
    if scope:
        params.append(f'scope="{scope}"')
    response = jsonify(body) if body else current_app.response_class(status=status)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    response.headers["Cache-Control"] = "no-store"
    return response


def userinfo():
    """GET and POST /oauth2/userinfo: the signed-in user's claims for a Bearer access token.

    RFC 6750 §2.1 (header) and §2.2 (form body) are accepted, one at a time; §2.3
    (the URI query) is refused, since URLs end up in logs and histories.
    """
    header = request.headers.get("Authorization", "")
    from_header = header[7:].strip() if header[:7].lower() == "bearer " else None
    from_body = request.form.get("access_token") if request.method == "POST" else None
    if "access_token" in request.args:
        return bearer_error(400, "invalid_request", "Send the access token in the Authorization header.")
    if header and from_header is None:
        return bearer_error(401, "invalid_token", "The Authorization header is not a Bearer token.")
    if from_header and from_body:
        return bearer_error(
            400, "invalid_request", "Send the access token one way only (RFC 6750 section 2)."
        )
    value = from_header or from_body
    if not value:
        return bearer_error(401, None, "")  # RFC 6750 §3.1: no error code when no credentials came
    db = get_db()
    token = find_token(db, value)
    if (
        token is None
        or not token.is_active()
        or family_revoked(db, token.family_id)
        or find_client(db, token.client_id) is None
    ):
        return bearer_error(401, "invalid_token", "The access token is unknown, expired or revoked.")
    user = db.get(User, token.user_id) if token.user_id is not None else None
    if "openid" not in token.scope.split() or user is None:
        return bearer_error(
            403, "insufficient_scope", "The token was not issued with the openid scope for a user.", "openid"
        )
    response = jsonify(user_claims(user, token.scope))
    response.headers["Cache-Control"] = "no-store"
    return response
