"""The demo authorization server: WSO2 IS's paths, Authlib's machinery."""

from __future__ import annotations

from typing import Any

from flask import Flask

from .. import asset_folder
from ..redact import install_log_redaction
from ..security import BoundedBody
from . import device_pages, pages
from .context import close_db
from .keys import server_secret
from .login import COOKIE_NAME, LoginSessionInterface
from .routes import bp, register_error_handlers
from .server import VerifiedSecrets, create_server
from .store import default_database_url, make_session_factory


def create_app(test_config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the demo authorization server app.

    Configuration: defaults, then `AUTHSERVER_*` environment variables, then
    `test_config` last.
    """
    install_log_redaction()
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=asset_folder("templates"),
        static_folder=asset_folder("static"),
    )
    app.config.from_mapping(
        DATABASE_URL=None,  # default: a SQLite file in the instance folder
        ISSUER=None,  # default: this server's token endpoint URL
        # Requests beyond this get a §5.2 `invalid_request` instead of being read.
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        # Seconds. RFC 6749 §4.1.2: a code "MUST expire shortly after it is issued".
        AUTHORIZATION_CODE_LIFETIME=60,
        REFRESH_TOKEN_LIFETIME=14 * 24 * 3600,
        ID_TOKEN_LIFETIME=3600,
        LOGIN_SESSION_LIFETIME=8 * 3600,
        # RFC 8628 §3.2: expires_in and interval of a device authorization.
        DEVICE_CODE_LIFETIME=600,
        DEVICE_CODE_INTERVAL=5,
        # The login session's cookie (login.py), apart from the playground's: cookies
        # are not kept apart by port, and both run on localhost.
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # and Secure anyway for a request over HTTPS
        # The pages send Referrer-Policy: no-referrer, so Flask-WTF's HTTPS Referer check
        # would refuse every form; the token in the SameSite=Lax session cookie is the check.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the pending authorization request has its own limit
    )
    app.config.from_prefixed_env("AUTHSERVER", loads=str)  # values as the strings they are
    if test_config:
        app.config.from_mapping(test_config)
    app.config["PERMANENT_SESSION_LIFETIME"] = int(app.config["LOGIN_SESSION_LIFETIME"])
    url = app.config["DATABASE_URL"]
    # The default store is this instance's own: it is upgraded as it opens. A store
    # named by URL may be shared, so it is upgraded only on request (store.py).
    upgrade = not url
    if not url:
        url = app.config["DATABASE_URL"] = default_database_url(app.instance_path)
    app.extensions["demo_authserver"] = {
        "sessions": make_session_factory(url, upgrade=upgrade),
        "server": create_server(app),
        "keys": {},  # alg -> signing key (keys.py)
        "verified": VerifiedSecrets(),
    }
    app.teardown_appcontext(close_db)
    # Signs the login session and the pages' forms; kept in the store, so it is
    # the same after a restart and for every instance sharing the store.
    session = app.extensions["demo_authserver"]["sessions"]()
    try:
        app.secret_key = server_secret(session, "session-key")
    finally:
        session.close()
    app.session_interface = LoginSessionInterface()
    # A chunked body over MAX_CONTENT_LENGTH is refused, not read cut short (security.py).
    app.wsgi_app = BoundedBody(app.wsgi_app, app)  # type: ignore[method-assign]
    app.register_blueprint(bp)
    pages.init_app(app)
    device_pages.init_app(app)
    register_error_handlers(app)
    return app
