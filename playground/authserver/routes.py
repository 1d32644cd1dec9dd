"""HTTP routes of the demo server, at the paths WSO2 Identity Server uses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from .authorize import CODE_CHALLENGE_METHODS, PROMPTS, RESPONSE_MODES, RESPONSE_TYPES
from .context import issuer, public_base
from .device import device_authorization
from .endpoints import ADVERTISED_ENDPOINT_AUTH_METHODS, ADVERTISED_REVOCATION_AUTH_METHODS
from .grants.authorization_code import TOKEN_AUTH_METHODS
from .keys import public_jwks
from .models import GRANT_TYPES, ID_TOKEN_ALGS
from .oidc import userinfo as userinfo_response
from .server import basic_credentials
from .users import SCOPE_CLAIMS

bp = Blueprint("authserver", __name__)

#: One document at four paths, identical everywhere. The issuer is the token
#: endpoint URL (as WSO2 IS has it), so it has a path: by RFC 8414 §3.1 its
#: metadata lives at the path-inserted location, and a client that checks the
#: issuer against the location (§3.3) should use that or WSO2's path. The two
#: root documents stay, as they were asked for, but they name an issuer with a
#: path, which a strict §3.3 client rejects there.
DISCOVERY_PATHS = (
    "/oauth2/token/.well-known/openid-configuration",  # WSO2 IS
    "/.well-known/openid-configuration",  # OpenID Connect Discovery 1.0 §4
    "/.well-known/oauth-authorization-server",  # RFC 8414 §3
    "/.well-known/oauth-authorization-server/oauth2/token",  # RFC 8414 §3.1, issuer with a path
)


def server():
    """This app's Authlib server."""
    return current_app.extensions["demo_authserver"]["server"]


#: RFC 8707 §2 lets `resource` repeat; `audience` follows it here.
REPEATABLE = frozenset({"resource", "audience"})
OAUTH_PARAMETERS = frozenset(
    {
        "grant_type",
        "client_id",
        "client_secret",
        "scope",
        "token",
        "token_type_hint",
        "resource",
        "audience",
        "code",
        "code_verifier",
        "redirect_uri",
        "refresh_token",
        "username",
        "password",
        "device_code",
        "subject_token",
        "actor_token",
    }
)
#: The endpoints whose parameters are form-encoded in a POST body (UserInfo needs no body).
FORM_ENDPOINTS = frozenset(
    {"authserver.token", "authserver.introspect", "authserver.revoke", "authserver.device_authorize"}
)


@bp.before_request
def check_form_request():
    """Malformed requests get RFC 6749 §5.2 `invalid_request` before Authlib sees them."""
    if request.method != "POST" or request.endpoint not in FORM_ENDPOINTS:
        return None
    # RFC 6749 §4.4.2, RFC 7662 §2.1, RFC 7009 §2.1: parameters are form-urlencoded.
    if request.mimetype != "application/x-www-form-urlencoded":
        return invalid_request("Send the parameters as application/x-www-form-urlencoded.")
    # RFC 6749 §3.1, §3.2: parameters MUST NOT be included more than once.
    repeated = sorted(k for k, v in request.form.lists() if len(v) > 1 and k not in REPEATABLE)
    if repeated:
        return invalid_request(f"Parameters sent more than once: {', '.join(repeated)}.")
    if any("\x00" in v for values in request.form.lists() for v in values[1]):
        return invalid_request("Parameters must not contain NUL characters.")
    # RFC 6749 §3.2: parameters travel in the body; Authlib would also read the query.
    in_query = sorted(OAUTH_PARAMETERS & set(request.args))
    if in_query:
        return invalid_request(f"Send {', '.join(in_query)} in the request body, not the URL.")
    # RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    if "Authorization" in request.headers and "client_secret" in request.form:
        return invalid_request("Use one client authentication method: HTTP Basic or client_secret, not both.")
    # RFC 6749 §3.2.1: client_id in the body is for a client that does not authenticate;
    # one that names another client than its Basic credentials is malformed, not a second try.
    credentials = basic_credentials(request.headers.get("Authorization", ""))
    body_client_id = request.form.get("client_id")
    if credentials and body_client_id and body_client_id != credentials[0]:
        return invalid_request("The client_id in the body is not the client of the Basic credentials.")
    if request.endpoint == "authserver.token" and not request.form.get("grant_type"):
        return invalid_request("The grant_type parameter is required (RFC 6749 section 4.4.2).")
    if request.endpoint in ("authserver.introspect", "authserver.revoke") and not request.form.get("token"):
        return invalid_request("The token parameter is required.")
    return None


def invalid_request(description: str):
    """An RFC 6749 §5.2 `invalid_request` error response."""
    response = jsonify({"error": "invalid_request", "error_description": description})
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/oauth2/token")
def token():
    """RFC 6749 §3.2 token endpoint."""
    return server().create_token_response()


@bp.post("/oauth2/device_authorize")
def device_authorize():
    """RFC 8628 §3.1 device authorization endpoint (device.py)."""
    return device_authorization()


@bp.post("/oauth2/introspect")
def introspect():
    """RFC 7662 introspection endpoint."""
    return server().create_endpoint_response("introspection")


@bp.post("/oauth2/revoke")
def revoke():
    """RFC 7009 revocation endpoint."""
    return server().create_endpoint_response("revocation")


@bp.route("/oauth2/userinfo", methods=["GET", "POST"])
def userinfo():
    """OpenID Connect Core §5.3 UserInfo endpoint (oidc.py)."""
    return userinfo_response()


@bp.get("/oauth2/jwks")
def jwks():
    """The public keys that sign JWT access tokens (RFC 7517 JWK Set)."""
    return jsonify(public_jwks())


#: Claims this server can put in ID tokens and UserInfo (OpenID Connect Discovery §3).
CLAIMS = ["sub", "iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash"] + [
    claim for claims in SCOPE_CLAIMS.values() for claim in claims
]


def metadata() -> dict[str, Any]:
    """RFC 8414 §2 / OpenID Connect Discovery 1.0 §3 metadata, every URL on the issuer's origin."""
    base = public_base()
    return {
        "issuer": issuer(),
        "authorization_endpoint": base + url_for("pages.authorize"),
        "token_endpoint": base + url_for("authserver.token"),
        "userinfo_endpoint": base + url_for("authserver.userinfo"),
        "jwks_uri": base + url_for("authserver.jwks"),
        "end_session_endpoint": base + url_for("pages.logout"),
        "introspection_endpoint": base + url_for("authserver.introspect"),
        "revocation_endpoint": base + url_for("authserver.revoke"),
        "device_authorization_endpoint": base + url_for("authserver.device_authorize"),  # RFC 8628 §4
        "scopes_supported": ["openid", *SCOPE_CLAIMS, "offline_access"],
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "code_challenge_methods_supported": list(CODE_CHALLENGE_METHODS),
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ADVERTISED_ENDPOINT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": ADVERTISED_REVOCATION_AUTH_METHODS,
        "claims_supported": CLAIMS,
        "prompt_values_supported": list(PROMPTS),
        # RFC 9207 §3: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,  # Discovery §3: true when left out
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
        for name, value in exc.get_headers():  # e.g. Allow on a 405 (RFC 9110 §15.5.6)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        app.logger.exception("unexpected error")
        response = jsonify(
            {"error": "server_error", "error_description": "The server met an unexpected error."}
        )
        response.status_code = 500
        return response
