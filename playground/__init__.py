"""The OAuth 2.0 Playground web app."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

HERE = Path(__file__).resolve().parent


def asset_folder(name: str) -> str:
    """`templates/` or `static/`: inside the package in a wheel, beside it in a checkout."""
    inside = HERE / name
    return str(inside if inside.is_dir() else HERE.parent / name)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the playground app.

    Configuration: defaults, then `PLAYGROUND_*` environment variables
    (`PLAYGROUND_TOKEN_ENDPOINT` sets `TOKEN_ENDPOINT`), then `test_config`.
    """
    app = Flask(
        __name__,
        template_folder=asset_folder("templates"),
        static_folder=asset_folder("static"),
        instance_relative_config=True,
    )
    app.config.from_mapping(
        # One shared SECRET_KEY lets any number of instances serve behind a load
        # balancer; without one, each process makes its own.
        SECRET_KEY=None,
        TOKEN_ENDPOINT="https://localhost:9443/oauth2/token",
        INTROSPECTION_ENDPOINT="https://localhost:9443/oauth2/introspect",
        REVOCATION_ENDPOINT="https://localhost:9443/oauth2/revoke",
        DISCOVERY_URL="",
        CLIENT_ID="",
        CLIENT_SECRET="",
        CA_BUNDLE=None,
        TIMEOUT=15.0,
        MAX_RESPONSE_BYTES=1024 * 1024,
        MAX_CONTENT_LENGTH=256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.from_prefixed_env("PLAYGROUND")
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    from . import security, views

    views.init_app(app)
    security.init_app(app)
    return app
