"""Storage of the demo authorization server: clients, users, codes, tokens, keys.

Plain SQLAlchemy 2 so that any SQLAlchemy URL works: a SQLite file in the
instance folder by default, PostgreSQL when several instances share a store.
The tables are made and changed by the migrations in `migrations/` (see
store.py), never by `create_all`: each change here needs a revision there.
Client secrets, user passwords, codes and tokens are stored only as hashes; the
signing keys are not, so the default SQLite file and its folder are the owner's alone.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Boolean, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

#: PBKDF2 is enough for the random 256-bit secrets the server generates and keeps
#: a secret typed with --client-secret from being read back off the database.
SECRET_HASH_METHOD = "pbkdf2:sha256:60000"
TOKEN_FORMATS = ("opaque", "jwt")
INTROSPECT_SCOPE = "internal_oauth2_introspect"
#: The grants a client may be registered for (a plain list in its row, so adding one is easy).
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693 §2.1
GRANT_TYPES = (
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "implicit",
    "password",
    DEVICE_CODE_GRANT,
    TOKEN_EXCHANGE_GRANT,
)
#: RFC 6749 §4.2.1 and OpenID Connect Core §3.2.2.1: the response types of the implicit grant.
IMPLICIT_RESPONSE_TYPES = ("token", "id_token", "id_token token")
#: ID token signature algorithms (RS256 is OpenID Connect Core §15.1's must; the default).
ID_TOKEN_ALGS = ("RS256", "ES256", "EdDSA")


class Base(DeclarativeBase):
    """Declarative base of the demo server's tables."""


def now() -> int:
    """The current Unix time, in whole seconds."""
    return int(time.time())


def _list(text: str | None) -> list[str]:
    """A JSON array column as a list."""
    return list(json.loads(text)) if text else []


def check_redirect_uri(uri: str) -> None:
    """RFC 6749 §3.1.2: an absolute URI without a fragment; ValueError otherwise.

    A custom scheme (`com.example.app:/cb`, RFC 8252 §7.1) is an absolute URI too.
    Whitespace and control characters are refused: an exact match is the only rule.
    """
    parts = urlsplit(uri)
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        raise ValueError(f"{uri!r}: a redirect URI has no spaces or control characters")
    if not parts.scheme or parts.fragment or "#" in uri:
        raise ValueError(f"{uri!r}: a redirect URI is absolute and has no fragment (RFC 6749 section 3.1.2)")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"{uri!r}: an http(s) redirect URI names a host")
    if parts.scheme in ("javascript", "data", "vbscript", "file"):
        raise ValueError(f"{uri!r}: that scheme cannot be a redirect URI")


class Client(Base):
    """A registered client (RFC 6749 §2): confidential, or public (no secret, §2.1)."""

    __tablename__ = "oauth2_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    client_secret_hash: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(Text, default="")
    token_format: Mapped[str] = mapped_column(String(16), default="opaque")
    token_lifetime: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    # Revision 0002.
    client_name: Mapped[str] = mapped_column(String(255), default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=False)
    grant_types: Mapped[str] = mapped_column(Text, default='["client_credentials"]')
    redirect_uris: Mapped[str] = mapped_column(Text, default="[]")
    post_logout_redirect_uris: Mapped[str] = mapped_column(Text, default="[]")
    id_token_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    always_refresh_token: Mapped[bool] = mapped_column(Boolean, default=False)

    # -- authlib.oauth2.rfc6749.ClientMixin -------------------------------------
    def get_client_id(self) -> str:
        """The client's identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """None: every authorization request names its redirect URI (OpenID Connect Core §3.1.2.1)."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scope to grant: the requested one, or every scope of the client.

        RFC 6749 §3.3: when the request omits scope the server uses a
        pre-defined default; here the client's registered scopes.
        """
        if not scope:
            return self.scope
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """RFC 6749 §3.1.2.3, RFC 9700 §4.1.1: exactly one of the registered URIs, character for character."""
        return redirect_uri in self.redirect_uri_list

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare against the stored hash (constant time inside werkzeug); a public client has none."""
        if self.public or not self.client_secret_hash:
            return False
        return check_password_hash(self.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Which client authentication methods this client may use where.

        A public client sends only its client_id (`none`), at the token endpoint,
        the device authorization endpoint (RFC 8628 §3.1) and to revoke its own
        tokens; it has nothing to introspect with.
        """
        if self.public:
            return method == "none" and endpoint in ("token", "revocation", "device_authorization")
        if method == "bearer_introspect":
            return endpoint in ("introspection", "revocation")
        return method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        """Is the client registered for this grant?"""
        return grant_type in self.grant_list

    def check_response_type(self, response_type: str) -> bool:
        """`code` (RFC 6749 §4.1.1) for a client registered for the authorization code grant;
        `token`, `id_token`, `id_token token` (§4.2.1, OpenID Connect Core §3.2.2.1) for implicit."""
        if response_type == "code":
            return "authorization_code" in self.grant_list
        return response_type in IMPLICIT_RESPONSE_TYPES and "implicit" in self.grant_list

    # -- helpers -------------------------------------------------------------
    @property
    def scopes(self) -> list[str]:
        """The client's registered scopes as a list."""
        return self.scope.split()

    @property
    def grant_list(self) -> list[str]:
        """The grants the client is registered for."""
        return _list(self.grant_types)

    @property
    def redirect_uri_list(self) -> list[str]:
        """The registered redirect URIs."""
        return _list(self.redirect_uris)

    @property
    def post_logout_redirect_uri_list(self) -> list[str]:
        """The registered post-logout redirect URIs (OpenID Connect RP-Initiated Logout §3)."""
        return _list(self.post_logout_redirect_uris)

    @property
    def display_name(self) -> str:
        """What the login and consent pages call the client."""
        return self.client_name or self.client_id

    @property
    def id_token_signed_response_alg(self) -> str:
        """OpenID Connect Dynamic Client Registration §2's name for the ID token algorithm."""
        return self.id_token_alg or "RS256"

    def set_secret(self, secret: str | None) -> None:
        """Store only a salted hash of the secret (none for a public client)."""
        self.client_secret_hash = generate_password_hash(secret, method=SECRET_HASH_METHOD) if secret else ""

    def describe(self) -> dict[str, Any]:
        """What `clients list` shows: everything but the secret."""
        return {
            "client_id": self.client_id,
            "client_name": self.client_name,
            "type": "public" if self.public else "confidential",
            "scope": self.scope,
            "grant_types": self.grant_list,
            "redirect_uris": self.redirect_uri_list,
            "post_logout_redirect_uris": self.post_logout_redirect_uri_list,
            "require_pkce": self.require_pkce or self.public,
            "id_token_alg": self.id_token_signed_response_alg,
            "always_refresh_token": self.always_refresh_token,
            "token_format": self.token_format,
            "token_lifetime": self.token_lifetime,
        }


class Token(Base):
    """An issued access token, stored by the SHA-256 of its value."""

    __tablename__ = "oauth2_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    token_type: Mapped[str] = mapped_column(String(40), default="Bearer")
    token_format: Mapped[str] = mapped_column(String(16), default="opaque")
    scope: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(Text, default="")
    jti: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    issued_at: Mapped[int] = mapped_column(Integer)
    expires_in: Mapped[int] = mapped_column(Integer)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Revision 0002: who issued it (the issuer may move with the port), for whom, from which grant.
    issuer: Mapped[str | None] = mapped_column(Text, default=None)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    family_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # Revision 0003: a token from a token exchange with an actor: its RFC 8693 §4.1 `act` claim, as JSON.
    act: Mapped[str | None] = mapped_column(Text, default=None)

    # -- authlib.oauth2.rfc6749.TokenMixin ---------------------------------
    def check_client(self, client: Client) -> bool:
        """Was this token issued to that client?"""
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope

    def get_expires_in(self) -> int:
        """Lifetime in seconds."""
        return self.expires_in

    @property
    def expires_at(self) -> int:
        """Expiry as a Unix time."""
        return self.issued_at + self.expires_in

    def is_expired(self) -> bool:
        """Past its expiry?"""
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        """Revoked through RFC 7009 (its grant's revocation is checked by find_live_token)?"""
        return self.revoked

    def is_active(self) -> bool:
        """Neither expired nor revoked."""
        return not (self.is_expired() or self.is_revoked())

    def get_user(self) -> None:
        """Not used: the user is looked up by user_id where needed."""
        return None

    def get_client(self) -> None:
        """Not needed by the endpoints used here."""
        return None


class SigningKey(Base):
    """A private JWK the server signs with: JWT access tokens (RFC 9068) and ID tokens."""

    __tablename__ = "oauth2_signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    # Revision 0002: RS256 (the keys made before), ES256 or EdDSA.
    alg: Mapped[str] = mapped_column(String(16), default="RS256")


class User(Base):
    """A resource owner who signs in at the authorization endpoint."""

    __tablename__ = "oauth2_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: OpenID Connect Core §2: locally unique and never reassigned, so not the username.
    sub: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_hex(16))
    name: Mapped[str] = mapped_column(String(255), default="")
    given_name: Mapped[str] = mapped_column(String(255), default="")
    family_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(Integer, default=now)
    updated_at: Mapped[int] = mapped_column(Integer, default=now)


class TokenFamily(Base):
    """Everything issued from one authorization code: its access and refresh tokens.

    Revoked as a whole when the code is used twice (RFC 6749 §4.1.2), a rotated
    refresh token comes back (RFC 9700 §4.14.2), or a refresh token is revoked
    (RFC 7009 §2.1). A flag here, so tokens issued after the revocation are void too.
    """

    __tablename__ = "oauth2_token_family"

    family_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(Integer, default=now)


class AuthorizationCode(Base):
    """An authorization code (RFC 6749 §4.1.2), stored by its hash, single-use, short-lived."""

    __tablename__ = "oauth2_authorization_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    nonce: Mapped[str | None] = mapped_column(Text, default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(16), default=None)
    auth_time: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[int] = mapped_column(Integer, default=now)
    expires_at: Mapped[int] = mapped_column(Integer)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    issuer: Mapped[str] = mapped_column(Text)

    # -- authlib.oauth2.rfc6749.AuthorizationCodeMixin (and rfc7636.CodeChallenge) --
    def get_redirect_uri(self) -> str:
        """The redirect URI of the authorization request (RFC 6749 §4.1.3)."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The scope the user granted."""
        return self.scope

    def is_expired(self) -> bool:
        """Past its lifetime?"""
        return time.time() >= self.expires_at


class RefreshToken(Base):
    """A refresh token (RFC 6749 §1.5), stored by its hash; rotated on use."""

    __tablename__ = "oauth2_refresh_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    auth_time: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[int] = mapped_column(Integer, default=now)
    expires_at: Mapped[int] = mapped_column(Integer)
    #: Rotated: exchanged once already. Presented again, it ends its family.
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    issuer: Mapped[str] = mapped_column(Text)

    def check_client(self, client: Client) -> bool:
        """Was this token issued to that client?"""
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        """The scope of the original grant (RFC 6749 §6)."""
        return self.scope

    def is_expired(self) -> bool:
        """Past its lifetime?"""
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        """Rotated already (its family's revocation is checked by find_live_token)."""
        return self.used


class DeviceCode(Base):
    """A device authorization (RFC 8628 §3.2), its device and user codes stored by their hashes.

    `status`: pending until the user answers at the verification page, then approved
    or denied; approved becomes used when the device redeems it (once, RFC 8628 §3.5).
    """

    __tablename__ = "oauth2_device_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    user_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    auth_time: Mapped[int | None] = mapped_column(Integer, default=None)
    family_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Seconds the device must wait between polls; grows by 5 with each slow_down (RFC 8628 §3.5).
    interval: Mapped[int] = mapped_column(Integer, default=5)
    last_polled_at: Mapped[int | None] = mapped_column(Integer, default=None)
    issued_at: Mapped[int] = mapped_column(Integer, default=now)
    expires_at: Mapped[int] = mapped_column(Integer)
    issuer: Mapped[str] = mapped_column(Text)

    def is_expired(self) -> bool:
        """Past its lifetime (RFC 8628 §3.2 expires_in)?"""
        return time.time() >= self.expires_at


class Consent(Base):
    """The scopes a user has allowed a client, so that a later request (or prompt=none) need not ask."""

    __tablename__ = "oauth2_consent"
    __table_args__ = (Index("ix_oauth2_consent_user_client", "user_id", "client_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[int] = mapped_column(Integer, default=now)


class ServerSecret(Base):
    """A secret of the server itself (the key of its login session cookie), shared by instances."""

    __tablename__ = "oauth2_server_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(Integer, default=now)


def hash_token(value: str) -> str:
    """The lookup key of a token or code: its SHA-256, so a database dump yields none."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def find_client(session: Session, client_id: str) -> Client | None:
    """The client with that ID, or None."""
    return session.scalar(select(Client).where(Client.client_id == client_id))


def find_token(session: Session, value: str) -> Token | None:
    """The token with that value, or None."""
    return session.scalar(select(Token).where(Token.token_hash == hash_token(value)))


def find_refresh_token(session: Session, value: str) -> RefreshToken | None:
    """The refresh token with that value, or None."""
    return session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(value)))


def family_revoked(session: Session, family_id: str | None) -> bool:
    """Has the grant these tokens came from been revoked? (No family: a client credentials token.)"""
    if not family_id:
        return False
    family = session.get(TokenFamily, family_id)
    return family is None or family.revoked


def start_family(session: Session, client_id: str, user_id: int) -> str:
    """A new family for what a grant issues to a user, to be revoked as one; not committed."""
    family_id = secrets.token_hex(16)
    session.add(TokenFamily(family_id=family_id, client_id=client_id, user_id=user_id))
    return family_id


def revoke_family(session: Session, family_id: str) -> None:
    """End a grant: its access and refresh tokens, issued or still to be issued. Commits."""
    family = session.get(TokenFamily, family_id)
    if family is not None:
        family.revoked = True
        session.commit()


def save_client(
    session: Session,
    client_id: str,
    secret: str | None,
    scope: str = "",
    token_format: str = "opaque",
    token_lifetime: int = 3600,
    *,
    client_name: str = "",
    public: bool = False,
    grant_types: list[str] | tuple[str, ...] | None = None,
    redirect_uris: list[str] | tuple[str, ...] = (),
    post_logout_redirect_uris: list[str] | tuple[str, ...] = (),
    require_pkce: bool = False,
    id_token_alg: str = "RS256",
    always_refresh_token: bool = False,
) -> Client:
    """Create the client, or replace the one with that ID, and commit; ValueError if it cannot be."""
    if token_format not in TOKEN_FORMATS:
        raise ValueError(f"token format must be one of {', '.join(TOKEN_FORMATS)}")
    if id_token_alg not in ID_TOKEN_ALGS:
        raise ValueError(f"the ID token algorithm must be one of {', '.join(ID_TOKEN_ALGS)}")
    if grant_types is None:
        grant_types = ["authorization_code"] if public else ["client_credentials"]
    grants = list(dict.fromkeys(grant_types))
    unknown = [g for g in grants if g not in GRANT_TYPES]
    if unknown:
        raise ValueError(f"unknown grant {', '.join(unknown)}: the grants are {', '.join(GRANT_TYPES)}")
    if public and "client_credentials" in grants:
        raise ValueError("a public client cannot use client_credentials (RFC 6749 section 4.4)")
    if public and secret:
        raise ValueError("a public client has no secret")
    if not public and not secret:
        raise ValueError("a confidential client needs a secret")
    for grant in ("authorization_code", "implicit"):
        if grant in grants and not redirect_uris:
            raise ValueError(f"the {grant} grant needs at least one redirect URI")
    for uri in [*redirect_uris, *post_logout_redirect_uris]:
        check_redirect_uri(uri)
    client = find_client(session, client_id) or Client(client_id=client_id)
    client.set_secret(secret)
    client.scope = " ".join(scope.split())
    client.token_format = token_format
    client.token_lifetime = token_lifetime
    client.client_name = client_name
    client.public = public
    client.require_pkce = require_pkce
    client.grant_types = json.dumps(grants)
    client.redirect_uris = json.dumps(list(dict.fromkeys(redirect_uris)))
    client.post_logout_redirect_uris = json.dumps(list(dict.fromkeys(post_logout_redirect_uris)))
    client.id_token_alg = id_token_alg
    client.always_refresh_token = always_refresh_token
    session.add(client)
    session.commit()
    return client


def register_redirect_uris(
    session: Session,
    client_id: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    replacing: list[str] | tuple[str, ...] = (),
) -> bool:
    """Add redirect and post-logout redirect URIs to a client, keeping the others, and commit.

    `replacing` names URIs added this way before (e.g. by an earlier `playground
    demo` on another port) that are to go; any URI registered by hand stays.
    False if there is no such client.
    """
    client = find_client(session, client_id)
    if client is None:
        return False
    for uri in [*redirect_uris, *post_logout_redirect_uris]:
        check_redirect_uri(uri)
    stale = set(replacing) - set(redirect_uris) - set(post_logout_redirect_uris)
    kept = [u for u in client.redirect_uri_list if u not in stale]
    kept_logout = [u for u in client.post_logout_redirect_uri_list if u not in stale]
    client.redirect_uris = json.dumps(list(dict.fromkeys(kept + redirect_uris)))
    client.post_logout_redirect_uris = json.dumps(
        list(dict.fromkeys(kept_logout + post_logout_redirect_uris))
    )
    session.commit()
    return True


def delete_grants(session: Session, *conditions) -> None:
    """Delete codes, refresh tokens, families, consents and access tokens matching `conditions`.

    Each condition is (column name, value), e.g. ("client_id", "svc"); every
    table named here has both client_id and user_id (device codes too).
    """
    for model in (Token, AuthorizationCode, RefreshToken, TokenFamily, Consent, DeviceCode):
        statement = delete(model)
        for column, value in conditions:
            statement = statement.where(getattr(model, column) == value)
        session.execute(statement)


def remove_client(session: Session, client_id: str) -> bool:
    """Delete the client and everything issued to it, and commit; False if there was none.

    Its tokens go too: left behind they would stay active for their lifetime.
    """
    client = find_client(session, client_id)
    if client is None:
        return False
    delete_grants(session, ("client_id", client_id))
    session.delete(client)
    session.commit()
    return True
