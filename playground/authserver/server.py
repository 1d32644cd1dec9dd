"""The OAuth 2.0 machinery of the demo server, built on Authlib: client authentication and the server.

One `AuthorizationServer` per Flask app (Authlib's `register_grant` appends, so
a shared module-level server would collect grants from every `create_app`).
The grants live in `grants/`, introspection and revocation in `endpoints.py`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from urllib.parse import unquote_plus

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from .context import REALM, get_db
from .endpoints import DemoIntrospectionEndpoint, DemoRevocationEndpoint
from .grants.authorization_code import AuthorizationCodeGrant, code_challenge
from .grants.client_credentials import ClientCredentialsGrant
from .grants.device_code import DeviceCodeGrant
from .grants.password import ResourceOwnerPasswordGrant
from .grants.refresh_token import RefreshTokenGrant
from .grants.token_exchange import TokenExchangeGrant
from .models import INTROSPECT_SCOPE, SECRET_HASH_METHOD, Client, find_client, find_token

#: Compared against when a client ID is unknown (see verify_client).
UNKNOWN_CLIENT_HASH = generate_password_hash(secrets.token_urlsafe(16), method=SECRET_HASH_METHOD)


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


# -- client authentication -----------------------------------------------------


def basic_credentials(header: str) -> tuple[str, str] | None:
    """The client ID and secret of an HTTP Basic `Authorization` header, RFC 6749 §2.3.1-decoded.

    Authlib's own decoding uses `unquote`, which leaves a `+` (an encoded space)
    as it is; the RFC says application/x-www-form-urlencoded, so `unquote_plus`.
    """
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, not ASCII, or not UTF-8
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(username), unquote_plus(password)


def authenticate_client_secret_basic(query_client, oauth_request) -> Client | None:
    """`client_secret_basic`: HTTP Basic with form-urlencoded ID and secret (see basic_credentials)."""
    credentials = basic_credentials(oauth_request.headers.get("Authorization", ""))
    if credentials is None:
        return None
    return verify_client(query_client, *credentials)


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
    server.register_grant(AuthorizationCodeGrant, [code_challenge()])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ResourceOwnerPasswordGrant)
    server.register_grant(DeviceCodeGrant)
    server.register_grant(TokenExchangeGrant)
    server.register_endpoint(DemoIntrospectionEndpoint)
    server.register_endpoint(DemoRevocationEndpoint)
    return server
