"""HTTP routes of the demo server, at the paths WSO2 Identity Server uses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from .server import ENDPOINT_AUTH_METHODS, TOKEN_AUTH_METHODS, issuer, public_jwks

bp = Blueprint("authserver", __name__)

DISCOVERY_PATHS = (
    "/oauth2/token/.well-known/openid-configuration",  # WSO2 IS
    "/.well-known/openid-configuration",  # OpenID Connect Discovery 1.0 §4
    "/.well-known/oauth-authorization-server",  # RFC 8414 §3
    "/.well-known/oauth-authorization-server/oauth2/token",  # RFC 8414 §3.1, issuer with a path
)


def server():
    """This app's Authlib server."""
    return current_app.extensions["demo_authserver"]["server"]


@bp.post("/oauth2/token")
def token():
    """RFC 6749 §3.2 token endpoint."""
    return server().create_token_response()


@bp.post("/oauth2/introspect")
def introspect():
    """RFC 7662 introspection endpoint."""
    return server().create_endpoint_response("introspection")


@bp.post("/oauth2/revoke")
def revoke():
    """RFC 7009 revocation endpoint."""
    return server().create_endpoint_response("revocation")


@bp.get("/oauth2/jwks")
def jwks():
    """The public keys that sign JWT access tokens (RFC 7517 JWK Set)."""
    return jsonify(public_jwks())


def metadata() -> dict[str, Any]:
    """RFC 8414 §2 authorization server metadata."""
    return {
        "issuer": issuer(),
        "token_endpoint": url_for("authserver.token", _external=True),
        "introspection_endpoint": url_for("authserver.introspect", _external=True),
        "revocation_endpoint": url_for("authserver.revoke", _external=True),
        "jwks_uri": url_for("authserver.jwks", _external=True),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ENDPOINT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": ENDPOINT_AUTH_METHODS,
        "access_token_signing_alg_values_supported": ["RS256"],
    }


def discovery():
    """The metadata document, at each of the well-known paths."""
    return jsonify(metadata())


for _path in DISCOVERY_PATHS:
    bp.add_url_rule(_path, "discovery", discovery)


@bp.get("/")
def index():
    """Where to start: the discovery document's location."""
    return jsonify(
        {
            "service": "playground demo authorization server",
            "discovery": request.host_url + DISCOVERY_PATHS[0][1:],
        }
    )


def register_error_handlers(app: Flask) -> None:
    """Every error as an RFC 6749 §5.2-shaped JSON body, never an HTML page."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        error = "invalid_request" if exc.code in (400, 405, 411, 413, 415) else "not_found"
        if exc.code and exc.code >= 500:
            error = "server_error"
        response = jsonify({"error": error, "error_description": exc.description})
        response.status_code = exc.code or 500
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        app.logger.exception("unexpected error")
        response = jsonify(
            {"error": "server_error", "error_description": "The server met an unexpected error."}
        )
        response.status_code = 500
        return response
