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


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
BOOL_SETTINGS = ("BLOCK_PRIVATE_NETWORKS", "ALLOW_INSECURE_TLS", "SESSION_COOKIE_SECURE")
NUMBER_SETTINGS = {"TIMEOUT": float, "MAX_RESPONSE_BYTES": int, "MAX_CONTENT_LENGTH": int}


class ConfigError(ValueError):
    """A PLAYGROUND_* setting that cannot be used; the message names it."""


def as_bool(name: str, value: Any) -> bool:
    """A boolean setting: true/yes/on/1 or false/no/off/0, case-insensitive."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ConfigError(f"PLAYGROUND_{name} must be true or false, not {value!r}.")


def as_number(name: str, value: Any, kind: type) -> float | int:
    """A positive number setting."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"PLAYGROUND_{name} must be a number, not {value!r}.") from None
    if number <= 0:
        raise ConfigError(f"PLAYGROUND_{name} must be greater than 0, not {value!r}.")
    return number


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
        AUTHORIZATION_ENDPOINT="https://localhost:9443/oauth2/authorize",
        USERINFO_ENDPOINT="https://localhost:9443/oauth2/userinfo",
        LOGOUT_ENDPOINT="https://localhost:9443/oidc/logout",
        DEVICE_AUTHORIZATION_ENDPOINT="https://localhost:9443/oauth2/device_authorize",  # RFC 8628 §3.1
        # The scope pre-filled for the authorization code grant (client credentials starts empty).
        CODE_SCOPE="openid profile email",
        INTROSPECTION_ENDPOINT="https://localhost:9443/oauth2/introspect",
        REVOCATION_ENDPOINT="https://localhost:9443/oauth2/revoke",
        DISCOVERY_URL="",
        ISSUER="",
        JWKS_URI="",
        SERVERS_FILE="",  # TOML of saved servers (playground/servers.py)
        DEMO_BASE="",  # set by `playground demo`: the demo server's https://host:port
        CLIENT_ID="",
        CLIENT_SECRET="",
        # Pre-fill the Resource Owner grant's user (`playground demo` sets the demo user).
        RESOURCE_OWNER="",
        RESOURCE_OWNER_PASSWORD="",
        CA_BUNDLE=None,
        # The outbound policy (playground/outbound.py); see "Hosting it for a team" in the README.
        TIMEOUT=15.0,
        MAX_RESPONSE_BYTES=1024 * 1024,
        ALLOWED_HOSTS="",
        BLOCK_PRIVATE_NETWORKS=False,
        ALLOW_INSECURE_TLS=False,
        # A request carries the flow's state: tokens (forms.TOKEN) and two transcripts (forms.TRANSCRIPT).
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # set true when served over HTTPS
        WTF_CSRF_TIME_LIMIT=8 * 3600,  # a form stays usable for a working day
        # Proxies in front that set X-Forwarded-For/-Proto/-Host/-Port (0: trust none of them).
        TRUSTED_PROXIES=0,
    )
    # Every PLAYGROUND_* value is taken as the string it is (Flask would parse JSON:
    # a secret "12345" would become a number, '"abc"' would lose its quotes).
    app.config.from_prefixed_env("PLAYGROUND", loads=str)
    if test_config:
        app.config.from_mapping(test_config)
    for name in BOOL_SETTINGS:
        app.config[name] = as_bool(name, app.config[name])
    for name, kind in NUMBER_SETTINGS.items():
        app.config[name] = as_number(name, app.config[name], kind)
    try:
        app.config["TRUSTED_PROXIES"] = int(str(app.config["TRUSTED_PROXIES"]).strip() or 0)
    except ValueError:
        app.config["TRUSTED_PROXIES"] = -1
    if not 0 <= app.config["TRUSTED_PROXIES"] <= 10:
        raise ConfigError("PLAYGROUND_TRUSTED_PROXIES must be a number of proxies from 0 to 10.")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    from . import pages, security
    from .redact import install_log_redaction

    install_log_redaction()
    pages.init_app(app)
    security.init_app(app)
    return app
