"""The demo server's users: stored with a hashed password, checked in constant time, their claims by scope."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import User, delete_grants, now

#: People choose passwords: OWASP's 2023 figure for PBKDF2-HMAC-SHA256 (a third of a
#: second per check here), not the cheaper one that is enough for random client secrets.
PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"
#: Checked against when the user name is unknown, so that timing does not tell which names exist.
UNKNOWN_USER_HASH = generate_password_hash(secrets.token_urlsafe(16), method=PASSWORD_HASH_METHOD)
#: OpenID Connect Core §5.4: the claims each scope asks for (those this server has).
SCOPE_CLAIMS = {
    "profile": ("name", "given_name", "family_name", "preferred_username", "updated_at"),
    "email": ("email", "email_verified"),
}


def find_user(session: Session, username: str) -> User | None:
    """The user with that name, or None."""
    return session.scalar(select(User).where(User.username == username))


def save_user(
    session: Session,
    username: str,
    password: str,
    *,
    name: str = "",
    given_name: str = "",
    family_name: str = "",
    email: str = "",
    email_verified: bool = True,
) -> User:
    """Create the user, or update the one with that name (keeping its `sub`), and commit."""
    if not username or any(c.isspace() for c in username) or len(username) > 255:
        raise ValueError("a user name is 1 to 255 characters, without spaces")
    if not password:
        raise ValueError("a user needs a password")
    user = find_user(session, username) or User(username=username)
    user.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
    user.name, user.given_name, user.family_name = name, given_name, family_name
    user.email, user.email_verified = email, email_verified and bool(email)
    user.updated_at = now()
    session.add(user)
    session.commit()
    return user


def remove_user(session: Session, username: str) -> bool:
    """Delete the user and every code, token and consent of theirs, and commit; False if none."""
    user = find_user(session, username)
    if user is None:
        return False
    delete_grants(session, ("user_id", user.id))
    session.delete(user)
    session.commit()
    return True


def authenticate_user(session: Session, username: str, password: str) -> User | None:
    """The user, if the password is theirs. An unknown name costs the same hash as a known one."""
    user = find_user(session, username) if username else None
    if user is None:
        check_password_hash(UNKNOWN_USER_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def check_password(user: User, password: str) -> bool:
    """Is this the user's password?"""
    return check_password_hash(user.password_hash, password)


def user_claims(user: User, scope: str) -> dict[str, Any]:
    """`sub` and the claims the granted scopes ask for (OpenID Connect Core §5.4), those with a value."""
    values = {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.username,
        "updated_at": user.updated_at,
        "email": user.email,
        "email_verified": user.email_verified,
    }
    claims: dict[str, Any] = {"sub": user.sub}
    for granted in scope.split():
        for name in SCOPE_CLAIMS.get(granted, ()):
            value = values[name]
            if value not in ("", None) and not (name == "email_verified" and not user.email):
                claims[name] = value
    return claims
