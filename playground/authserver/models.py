"""Storage of the demo authorization server: clients, tokens and signing keys.

Plain SQLAlchemy 2 so that any SQLAlchemy URL works: a SQLite file in the
instance folder by default, PostgreSQL when several instances share a store.
The tables are made and changed by the migrations in `migrations/` (see
store.py), never by `create_all`: each change here needs a revision there.
Client secrets and access tokens are stored only as hashes; the signing key is
not, so the default SQLite file and its folder are the owner's alone.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

#: PBKDF2 is enough for the random 256-bit secrets the server generates and keeps
#: a secret typed with --client-secret from being read back off the database.
SECRET_HASH_METHOD = "pbkdf2:sha256:60000"
TOKEN_FORMATS = ("opaque", "jwt")
INTROSPECT_SCOPE = "internal_oauth2_introspect"


class Base(DeclarativeBase):
    """Declarative base of the demo server's tables."""


class Client(Base):
    """A registered confidential client (RFC 6749 §2.1)."""

    __tablename__ = "oauth2_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    client_secret_hash: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(Text, default="")
    token_format: Mapped[str] = mapped_column(String(16), default="opaque")
    token_lifetime: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[int] = mapped_column(Integer, default=lambda: int(time.time()))

    # -- authlib.oauth2.rfc6749.ClientMixin -------------------------------------
    def get_client_id(self) -> str:
        """The client's identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """No redirect-based grants on this server."""
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
        """No redirect-based grants on this server."""
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare against the stored hash (constant time inside werkzeug)."""
        return check_password_hash(self.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Which client authentication methods this client may use where."""
        if method == "bearer_introspect":
            return endpoint in ("introspection", "revocation")
        return method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        """Only the client credentials grant (RFC 6749 §4.4) is offered."""
        return grant_type == "client_credentials"

    def check_response_type(self, response_type: str) -> bool:
        """No authorization endpoint on this server."""
        return False

    # -- helpers -------------------------------------------------------------
    @property
    def scopes(self) -> list[str]:
        """The client's registered scopes as a list."""
        return self.scope.split()

    def set_secret(self, secret: str) -> None:
        """Store only a salted hash of the secret."""
        self.client_secret_hash = generate_password_hash(secret, method=SECRET_HASH_METHOD)

    def describe(self) -> dict[str, Any]:
        """What `clients list` shows: everything but the secret."""
        return {
            "client_id": self.client_id,
            "scope": self.scope,
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
        """Revoked through RFC 7009?"""
        return self.revoked

    def is_active(self) -> bool:
        """Neither expired nor revoked."""
        return not (self.is_expired() or self.is_revoked())

    def get_user(self) -> None:
        """Client credentials tokens have no resource owner."""
        return None

    def get_client(self) -> None:
        """Not needed by the endpoints used here."""
        return None


class SigningKey(Base):
    """A private JWK the server signs JWT access tokens with (RFC 9068)."""

    __tablename__ = "oauth2_signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(Integer, default=lambda: int(time.time()))


def hash_token(value: str) -> str:
    """The lookup key of a token: its SHA-256, so a database dump yields no tokens."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def find_client(session: Session, client_id: str) -> Client | None:
    """The client with that ID, or None."""
    return session.scalar(select(Client).where(Client.client_id == client_id))


def find_token(session: Session, value: str) -> Token | None:
    """The token with that value, or None."""
    return session.scalar(select(Token).where(Token.token_hash == hash_token(value)))


def save_client(
    session: Session,
    client_id: str,
    secret: str,
    scope: str = "",
    token_format: str = "opaque",
    token_lifetime: int = 3600,
) -> Client:
    """Create the client, or update the one with that ID, and commit."""
    if token_format not in TOKEN_FORMATS:
        raise ValueError(f"token format must be one of {', '.join(TOKEN_FORMATS)}")
    client = find_client(session, client_id) or Client(client_id=client_id)
    client.set_secret(secret)
    client.scope = " ".join(scope.split())
    client.token_format = token_format
    client.token_lifetime = token_lifetime
    session.add(client)
    session.commit()
    return client


def remove_client(session: Session, client_id: str) -> bool:
    """Delete the client and every token issued to it, and commit; False if there was none.

    Its tokens go too: left behind they would stay active for their lifetime.
    """
    client = find_client(session, client_id)
    if client is None:
        return False
    session.execute(delete(Token).where(Token.client_id == client_id))
    session.delete(client)
    session.commit()
    return True
