"""The login session: who is signed in at this browser, and since when.

Kept in the demo server's own signed cookie (`authserver_session`, HttpOnly,
SameSite=Lax, Secure over HTTPS), signed with a key kept in the store so that it
survives restarts and is shared by instances sharing a store. It also holds the
CSRF token of the login and consent forms. It is named apart from the
playground's cookie: browsers do not keep cookies apart by port.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from .context import get_db
from .models import User, now

COOKIE_NAME = "authserver_session"


class LoginSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        """Secure over HTTPS (the default demo); not over --http, where it would never come back."""
        return request.is_secure or bool(app.config["SESSION_COOKIE_SECURE"])


def current_login() -> dict[str, Any] | None:
    """The signed-in user with the session's `auth_time` and `sid`, or None.

    None too when the user has been removed, or the login is older than
    LOGIN_SESSION_LIFETIME seconds.
    """
    data = session.get("login")
    if not isinstance(data, dict):
        return None
    user = get_db().get(User, data.get("uid"))
    if user is None or now() - int(data.get("auth_time", 0)) > int(
        current_app.config["LOGIN_SESSION_LIFETIME"]
    ):
        return None
    return {"user": user, "sub": user.sub, "auth_time": int(data["auth_time"]), "sid": data["sid"]}


def start_login(user: User) -> dict[str, Any]:
    """Sign the user in at this browser: a new session (a new `sid`), auth_time now."""
    # Nothing of an earlier login carries over; the CSRF token does, since this
    # request's forms were (or will be) given the one Flask-WTF has cached for it.
    csrf_token = session.get("csrf_token")
    session.clear()
    if csrf_token:
        session["csrf_token"] = csrf_token
    session.permanent = True
    session["login"] = {"uid": user.id, "auth_time": now(), "sid": secrets.token_urlsafe(16)}
    login = current_login()
    assert login is not None
    return login


def end_login() -> None:
    """Sign out at this browser."""
    session.pop("login", None)
