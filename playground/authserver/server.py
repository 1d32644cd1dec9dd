"""The OAuth 2.0 machinery of the demo server, built on Authlib.

One `AuthorizationServer` per Flask app (Authlib's `register_grant` appends, so
a shared module-level server would collect grants from every `create_app`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app, g, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import (
    INTROSPECT_SCOPE,
    SECRET_HASH_METHOD,
    Client,
    SigningKey,
    Token,
    find_client,
    find_token,
    hash_token,
)

#: Client authentication accepted at the introspection and revocation endpoints,
#: as WSO2 IS does: the client's own credentials, or a Bearer token with the
#: `internal_oauth2_introspect` scope.
ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "bearer_introspect"]
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
JWT_ALG = "RS256"
#: RFC 7617 §2: a Basic challenge must name a realm.
REALM = "playground-demo"
#: Compared against when a client ID is unknown (see verify_client).
UNKNOWN_CLIENT_HASH = generate_password_hash(secrets.token_urlsafe(16), method=SECRET_HASH_METHOD)
#: RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: a `resource` that is not an absolute URI without fragment."""

    error = "invalid_target"


class BasicChallengeError(InvalidClientError):
    """RFC 6749 §5.2 `invalid_client` as a 401 whose Basic challenge names a realm (RFC 7617 §2).

    Authlib's own challenge is `Basic error=...`, without the realm RFC 7617 requires.
    """

    status_code = 401

    def get_headers(self):
        headers = super(InvalidClientError, self).get_headers()  # all but Authlib's challenge
        description = self.get_error_description().replace('"', "'")
        headers.append(
            (
                "WWW-Authenticate",
                f'Basic realm="{REALM}", error="{self.error}", error_description="{description}"',
            )
        )
        return headers


class InvalidBearerError(OAuth2Error):
    """RFC 6750 §3.1: a Bearer token that does not authenticate gets a Bearer challenge."""

    error = "invalid_token"
    status_code = 401

    def get_headers(self):
        headers = super().get_headers()
        headers.append(
            ("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{self.description}"')
        )
        return headers


def check_token_param(oauth_request) -> None:
    """RFC 7662 §2.1 and RFC 7009 §2.1: `token` is required; an unknown
    `token_type_hint` is no error, the search simply covers every token type."""
    if not oauth_request.form.get("token"):
        raise InvalidRequestError(description="The token parameter is required.")


def get_db() -> Session:
    """The request's database session, closed at teardown."""
    if "authserver_db" not in g:
        g.authserver_db = current_app.extensions["demo_authserver"]["sessions"]()
    return g.authserver_db


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's session, if one was opened."""
    session = g.pop("authserver_db", None)
    if session is not None:
        session.close()


def find_live_token(value: str) -> Token | None:
    """The token, unless its client has been removed since it was issued.

    `clients remove` deletes a client's tokens too; this also covers a client
    deleted from the store some other way. RFC 7662 §2.2: such a token is
    reported only as inactive.
    """
    db = get_db()
    token = find_token(db, value)
    if token is None or find_client(db, token.client_id) is None:
        return None
    return token


def public_base() -> str:
    """scheme://host:port the server is known by: the configured issuer's, else the request's."""
    configured = current_app.config.get("ISSUER")
    if configured:
        parts = urlsplit(configured)
        return f"{parts.scheme}://{parts.netloc}"
    return request.host_url.rstrip("/")


def issuer() -> str:
    """The issuer identifier: configured, or this server's token endpoint URL.

    WSO2 IS uses its token endpoint URL as issuer, which is why its discovery
    document lives at `/oauth2/token/.well-known/openid-configuration`.
    """
    return current_app.config.get("ISSUER") or public_base() + "/oauth2/token"


# -- client authentication -----------------------------------------------------


def authenticate_client_secret_basic(query_client, oauth_request) -> Client | None:
    """`client_secret_basic` with RFC 6749 §2.3.1's form-urlencoding of ID and secret.

    Authlib's built-in one decodes with `unquote`, which leaves a `+` (an encoded
    space) as it is; the RFC says application/x-www-form-urlencoded, so
    `unquote_plus` is right.
    """
    scheme, _, value = oauth_request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, not ASCII, or not UTF-8
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return verify_client(query_client, unquote_plus(username), unquote_plus(password))


def authenticate_client_secret_post(query_client, oauth_request) -> Client | None:
    """`client_secret_post` (RFC 6749 §2.3.1): client_id and client_secret in the body."""
    form = oauth_request.form
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not client_secret:
        return None
    return verify_client(query_client, client_id, client_secret)


class VerifiedSecrets:
    """Secrets that already passed the slow PBKDF2 check, remembered as HMACs.

    PBKDF2 protects secrets at rest, but costs ~40 ms of CPU per check, twice a
    flow. A secret that passed once is remembered as HMAC(process-random key,
    stored hash + secret): nothing reversible, forgotten on restart, and void as
    soon as the stored hash changes. Wrong secrets always pay the full PBKDF2 cost.
    """

    def __init__(self, size: int = 1024):
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def _mac(self, client: Client, secret: str) -> bytes:
        message = client.client_secret_hash.encode() + b"\0" + secret.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def check(self, client: Client, secret: str) -> bool:
        """Is `secret` the client's? Constant-time comparisons either way."""
        mac = self._mac(client, secret)
        with self._lock:
            known = self._entries.get(client.client_id)
        if known is not None and hmac.compare_digest(known, mac):
            return True
        if not client.check_client_secret(secret):
            return False
        with self._lock:
            self._entries[client.client_id] = mac
            self._entries.move_to_end(client.client_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return True


def verify_client(query_client, client_id: str, client_secret: str) -> Client | None:
    """The client, if the secret is its own.

    An unknown client costs the same hash as a known one, so that timing does
    not tell which client IDs exist; the comparison itself is constant-time.
    """
    client = query_client(client_id)
    if client is None:
        check_password_hash(UNKNOWN_CLIENT_HASH, client_secret)
        return None
    verified: VerifiedSecrets = current_app.extensions["demo_authserver"]["verified"]
    return client if verified.check(client, client_secret) else None


def authenticate_bearer_introspect(query_client, oauth_request) -> Client | None:
    """A Bearer access token carrying `internal_oauth2_introspect` (WSO2 IS style)."""
    scheme, _, value = oauth_request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    token = find_token(get_db(), value.strip())
    if token is None or not token.is_active() or INTROSPECT_SCOPE not in token.scope.split():
        return None
    client = query_client(token.client_id)
    if client is not None:
        oauth_request.may_see_all_tokens = True
    return client


def may_see_all_tokens(client: Client, oauth_request) -> bool:
    """Holds the introspection scope, by registration or by the Bearer token used."""
    return getattr(oauth_request, "may_see_all_tokens", False) or INTROSPECT_SCOPE in client.scopes


# -- the grant -----------------------------------------------------------------


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


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """RFC 6749 §4.4 with per-client scopes and RFC 8707 resources."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """RFC 6749 §5.2 `invalid_scope` for any scope the client is not registered for."""
        requested = (self.request.payload.scope or "").split()
        if not all(SCOPE_TOKEN.fullmatch(s) for s in requested):
            raise InvalidScopeError(
                description="The scope has characters RFC 6749 section 3.3 does not allow."
            )
        unknown = [s for s in requested if s not in self.client.scopes]
        if unknown:
            raise InvalidScopeError(description=f"The client may not request: {' '.join(unknown)}.")

    def create_token_response(self):
        """Issue the token (opaque or RFC 9068 JWT, as the client is set)."""
        client = self.client
        scope = client.get_allowed_scope(self.request.payload.scope)
        body = issue_token(client, scope, requested_audience(client))
        return 200, body, self.TOKEN_RESPONSE_HEADER


# -- introspection and revocation ---------------------------------------------


class DemoIntrospectionEndpoint(IntrospectionEndpoint):
    """RFC 7662 with WSO2 IS's authentication choices."""

    CLIENT_AUTH_METHODS = ENDPOINT_AUTH_METHODS

    def check_params(self, oauth_request, client) -> None:
        """See check_token_param."""
        check_token_param(oauth_request)

    def query_token(self, token_string, token_type_hint):
        """Look the token up by its hash; refresh tokens are never issued here."""
        return find_live_token(token_string)

    def check_permission(self, token, client, oauth_request) -> bool:
        """A client sees its own tokens; the introspection scope sees all.

        RFC 7662 §2.2: a token the caller may not see is reported only as inactive.
        """
        return token.check_client(client) or may_see_all_tokens(client, oauth_request)

    def introspect_token(self, token: Token) -> dict[str, Any]:
        """RFC 7662 §2.2 members of an active token."""
        audience = token.audience.split()
        return {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "token_type": token.token_type,
            "exp": token.expires_at,
            "iat": token.issued_at,
            "nbf": token.issued_at,
            "sub": token.client_id,
            "aud": audience[0] if len(audience) == 1 else audience,
            "iss": issuer(),
            "jti": token.jti,
        }


class DemoRevocationEndpoint(RevocationEndpoint):
    """RFC 7009 revocation; the token is kept, marked revoked."""

    CLIENT_AUTH_METHODS = ENDPOINT_AUTH_METHODS

    def check_params(self, oauth_request, client) -> None:
        """See check_token_param."""
        check_token_param(oauth_request)

    def authenticate_token(self, oauth_request, client):
        """Only the client's own tokens, unless it holds the introspection scope."""
        self.check_params(oauth_request, client)
        token = self.query_token(oauth_request.form["token"], oauth_request.form.get("token_type_hint"))
        if token and not (token.check_client(client) or may_see_all_tokens(client, oauth_request)):
            raise InvalidGrantError(description="The token was issued to another client.")
        return token

    def query_token(self, token_string, token_type_hint):
        """Look the token up by its hash (RFC 7009 §2.2: an unknown one still gets 200)."""
        return find_live_token(token_string)

    def revoke_token(self, token: Token, oauth_request) -> None:
        """RFC 7009 §2.2: mark revoked; introspection then reports inactive."""
        token.revoked = True
        get_db().commit()


# -- keys ----------------------------------------------------------------------


def signing_key() -> RSAKey:
    """The current signing key, generated and stored on first use.

    Kept in the database, so instances sharing a store share the key and
    tokens verify across restarts.
    """
    cache = current_app.extensions["demo_authserver"]
    if cache.get("key") is None:
        cache["key"] = load_or_create_key(get_db())
    return cache["key"]


def load_or_create_key(db: Session) -> RSAKey:
    """The stored RSA key, or a new one saved for the next start.

    Instances that start together may each store a key; all of them pick the
    same one (oldest, then by kid), and the JWKS publishes every stored key.
    """
    row = db.scalar(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    if row is None:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": JWT_ALG}, private=True)
        kid = key.thumbprint()
        key = RSAKey.import_key({**key.as_dict(private=True), "kid": kid})
        db.add(SigningKey(kid=kid, private_jwk=json.dumps(key.as_dict(private=True))))
        try:
            db.commit()
        except IntegrityError:  # another instance won the race: use its key
            db.rollback()
        row = db.scalar(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    return RSAKey.import_key(json.loads(row.private_jwk))


def public_jwks() -> dict[str, Any]:
    """The JWKS document: every stored key, public parts only."""
    signing_key()  # make sure there is one
    rows = get_db().scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)).all()
    return KeySet([RSAKey.import_key(json.loads(r.private_jwk)) for r in rows]).as_dict(private=False)


# -- the server ---------------------------------------------------------------


class DemoAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server with a plainer `invalid_client` description."""

    def authenticate_client(self, oauth_request, methods, endpoint="token"):
        """RFC 6749 §5.2 `invalid_client`, always 401 with `WWW-Authenticate`.

        A failed Bearer becomes RFC 6750 §3.1 `invalid_token` only where a Bearer
        token is a way to authenticate (introspection, revocation). The token
        endpoint does not take one, and §5.2 allows it only `invalid_client`.
        """
        try:
            return super().authenticate_client(oauth_request, methods, endpoint)
        except InvalidClientError:
            scheme = oauth_request.headers.get("Authorization", "").partition(" ")[0].lower()
            if scheme == "bearer" and "bearer_introspect" in methods:
                raise InvalidBearerError(
                    description="The Bearer token is unknown, expired, or lacks internal_oauth2_introspect."
                ) from None
            raise BasicChallengeError(
                description="Client authentication failed: unknown client, wrong secret, "
                f"or no credentials. Accepted here: {', '.join(methods)}.",
            ) from None


def create_server(app) -> AuthorizationServer:
    """A new Authlib server for `app`, with this module's grant and endpoints."""

    def query_client(client_id: str) -> Client | None:
        return find_client(get_db(), client_id)

    def save_token(token, oauth_request) -> None:  # tokens are saved by issue_token
        return None

    server = DemoAuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_client_auth_method("client_secret_basic", authenticate_client_secret_basic)
    server.register_client_auth_method("client_secret_post", authenticate_client_secret_post)
    server.register_client_auth_method("bearer_introspect", authenticate_bearer_introspect)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(DemoIntrospectionEndpoint)
    server.register_endpoint(DemoRevocationEndpoint)
    return server
