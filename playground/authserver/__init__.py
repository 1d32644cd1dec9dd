"""The demo authorization server: WSO2 IS's paths, Authlib's machinery."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..redact import install_log_redaction
from .context import close_db
from .routes import bp, register_error_handlers
from .server import VerifiedSecrets, create_server
from .store import default_database_url, make_session_factory


def create_app(test_config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the demo authorization server app.

    Configuration: defaults, then `AUTHSERVER_*` environment variables, then
    `test_config` last.
    """
    install_log_redaction()
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE_URL=None,  # default: a SQLite file in the instance folder
        ISSUER=None,  # default: this server's token endpoint URL
        # Requests beyond this get a §5.2 `invalid_request` instead of being read.
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
    )
    app.config.from_prefixed_env("AUTHSERVER", loads=str)  # values as the strings they are
    if test_config:
        app.config.from_mapping(test_config)
    url = app.config["DATABASE_URL"]
    # The default store is this instance's own: it is upgraded as it opens. A store
    # named by URL may be shared, so it is upgraded only on request (store.py).
    upgrade = not url
    if not url:
        url = app.config["DATABASE_URL"] = default_database_url(app.instance_path)
    app.extensions["demo_authserver"] = {
        "sessions": make_session_factory(url, upgrade=upgrade),
        "server": create_server(app),
        "key": None,
        "verified": VerifiedSecrets(),
    }
    app.teardown_appcontext(close_db)
    app.register_blueprint(bp)
    register_error_handlers(app)
    return app
