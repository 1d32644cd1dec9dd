"""What every part of the demo server needs from the request: its database session and its issuer."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request
from sqlalchemy.orm import Session

#: RFC 7617 §2 and RFC 6750 §3: the realm of the server's Basic and Bearer challenges.
REALM = "playground-demo"


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
