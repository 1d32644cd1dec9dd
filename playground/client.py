"""The outgoing OAuth calls. No Flask here: inputs in, Exchange records out.

OAuth error responses are results to show; only transport failures raise
(`OutboundError`, from the outbound policy).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

from .exchange import Exchange
from .outbound import Outbound

#: Client authentication methods (RFC 6749 §2.3.1; names as in RFC 7591 §2).
CLIENT_AUTH_METHODS = {
    "client_secret_basic": "HTTP Basic",
    "client_secret_post": "Request body (client_secret_post)",
    "client_secret_basic_raw": "HTTP Basic without URL-encoding (non-standard)",
    "none": "None (a public client: client_id only)",
}
#: Methods that send the client secret.
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post", "client_secret_basic_raw"})
#: How to authenticate at the introspection endpoint (RFC 7662 §2.1 leaves it open).
INTROSPECTION_AUTH = {
    "client": "The client's credentials (as chosen above)",
    "basic": "Another Basic username and password",
    "bearer": "Bearer token",
    "none": "None",
}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


@dataclass(frozen=True)
class Credentials:
    """A client's ID and secret, and how to present them."""

    client_id: str
    client_secret: str
    method: str = "client_secret_basic"


def basic_authorization(username: str, password: str, urlencode: bool = True) -> str:
    """An HTTP Basic header value.

    RFC 6749 §2.3.1: the client ID and secret are encoded with the
    application/x-www-form-urlencoded algorithm before Basic (RFC 7617) joins
    them with `:`. Some servers expect them unencoded: `urlencode=False`.
    """
    if urlencode:
        username, password = quote_plus(username), quote_plus(password)
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def client_authentication(credentials: Credentials) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and body fields that authenticate the client.

    The one function for every call to the token, introspection and revocation
    endpoints, so that the chosen method is never ignored on one of them.
    """
    if credentials.method == "client_secret_post":
        # RFC 6749 §2.3.1: client_id and client_secret in the request body.
        return {}, {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
    if credentials.method == "none":
        # A public client (RFC 6749 §2.1) names itself in the body (§3.2.1, RFC 7591 §2 "none").
        return {}, {"client_id": credentials.client_id}
    if credentials.method not in CLIENT_AUTH_METHODS:
        raise ValueError(f"unknown client authentication method {credentials.method!r}")
    urlencode = credentials.method == "client_secret_basic"
    header = basic_authorization(credentials.client_id, credentials.client_secret, urlencode)
    return {"Authorization": header}, {}


def given(**parameters: str) -> dict[str, str]:
    """A request's parameters, in order, leaving out the empty ones (optional ones not sent)."""
    return {name: value for name, value in parameters.items() if value}


def request_token(
    outbound: Outbound,
    endpoint: str,
    credentials: Credentials,
    scope: str = "",
    resource: str = "",
    audience: str = "",
    insecure: bool = False,
) -> Exchange:
    """The client credentials grant: RFC 6749 §4.4.2 token request."""
    # resource: RFC 8707 §2; audience: not standard, asked for by Auth0, Okta, Keycloak (token exchange)
    data = {"grant_type": "client_credentials", **given(scope=scope, resource=resource, audience=audience)}
    return send_token_request(outbound, endpoint, credentials, data, insecure)


def send_token_request(
    outbound: Outbound,
    endpoint: str,
    credentials: Credentials,
    data: dict[str, str],
    insecure: bool = False,
    secrets: tuple[str, ...] = (),
) -> Exchange:
    """POST a token request (RFC 6749 §3.2) with the client's authentication, whatever the grant;
    `secrets` are the request's other credentials, masked like the client secret."""
    headers, auth_fields = client_authentication(credentials)
    return outbound.send(
        "POST",
        endpoint,
        {**FORM_HEADERS, **headers},
        {**data, **auth_fields},
        (credentials.client_secret, *secrets),
        insecure=insecure,
    )


def password_grant(
    outbound: Outbound,
    endpoint: str,
    credentials: Credentials,
    username: str,
    password: str,
    scope: str = "",
    insecure: bool = False,
) -> Exchange:
    """The resource owner password credentials grant: RFC 6749 §4.3.2 (deprecated, RFC 9700 §2.4)."""
    data = {"grant_type": "password", "username": username, "password": password, **given(scope=scope)}
    return send_token_request(outbound, endpoint, credentials, data, insecure, secrets=(password,))


TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
#: RFC 8693 §3: token type identifiers.
TOKEN_TYPES = {
    "urn:ietf:params:oauth:token-type:access_token": "access_token",
    "urn:ietf:params:oauth:token-type:refresh_token": "refresh_token",
    "urn:ietf:params:oauth:token-type:id_token": "id_token",
    "urn:ietf:params:oauth:token-type:jwt": "jwt",
    "urn:ietf:params:oauth:token-type:saml2": "saml2",
    "urn:ietf:params:oauth:token-type:saml1": "saml1",
}


def exchange_token(
    outbound: Outbound,
    endpoint: str,
    credentials: Credentials,
    subject_token: str,
    subject_token_type: str,
    *,
    actor_token: str = "",
    actor_token_type: str = "",
    requested_token_type: str = "",
    audience: str = "",
    resource: str = "",
    scope: str = "",
    insecure: bool = False,
) -> Exchange:
    """Token Exchange: RFC 8693 §2.1, the optional parameters only when given."""
    data = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": subject_token_type,
    } | given(
        actor_token=actor_token,
        # §2.1: actor_token_type is required when actor_token is present, and must not be otherwise.
        actor_token_type=actor_token_type if actor_token else "",
        requested_token_type=requested_token_type,
        resource=resource,
        audience=audience,
        scope=scope,
    )
    return send_token_request(
        outbound,
        endpoint,
        credentials,
        data,
        insecure,
        secrets=tuple(t for t in (subject_token, actor_token) if t),
    )


DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def device_authorization(
    outbound: Outbound, endpoint: str, credentials: Credentials, scope: str = "", insecure: bool = False
) -> Exchange:
    """The device authorization request (RFC 8628 §3.1): client_id and scope, with the client's
    authentication as at the token endpoint (a public client names itself in the body)."""
    return send_token_request(outbound, endpoint, credentials, given(scope=scope), insecure)


def poll_device(
    outbound: Outbound, endpoint: str, credentials: Credentials, device_code: str, insecure: bool = False
) -> Exchange:
    """One poll of the token endpoint (RFC 8628 §3.4); the device code is masked like a secret."""
    data = {"grant_type": DEVICE_CODE, "device_code": device_code}
    return send_token_request(outbound, endpoint, credentials, data, insecure, secrets=(device_code,))


def redeem_code(
    outbound: Outbound,
    endpoint: str,
    credentials: Credentials,
    code: str,
    redirect_uri: str,
    code_verifier: str = "",
    insecure: bool = False,
) -> Exchange:
    """The authorization code grant's token request: RFC 6749 §4.1.3, RFC 7636 §4.5."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    data |= given(code_verifier=code_verifier)
    return send_token_request(outbound, endpoint, credentials, data, insecure)


def refresh(
    outbound: Outbound,
    endpoint: str,
    credentials: Credentials,
    refresh_token: str,
    scope: str = "",
    insecure: bool = False,
) -> Exchange:
    """RFC 6749 §6: a new access token for the refresh token, with the grant's own client authentication."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **given(scope=scope)}
    return send_token_request(outbound, endpoint, credentials, data, insecure)


def userinfo(outbound: Outbound, endpoint: str, access_token: str, insecure: bool = False) -> Exchange:
    """OpenID Connect Core §5.3.1: GET with the access token as a Bearer token (RFC 6750 §2.1)."""
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    return outbound.send("GET", endpoint, headers, None, (access_token,), insecure=insecure)


@dataclass(frozen=True)
class IntrospectionAuth:
    """How the introspection call authenticates: see INTROSPECTION_AUTH."""

    kind: str = "client"
    username: str = ""
    password: str = ""
    bearer: str = ""


def introspect(
    outbound: Outbound,
    endpoint: str,
    token: str,
    auth: IntrospectionAuth,
    credentials: Credentials | None = None,
    token_type_hint: str = "access_token",
    insecure: bool = False,
) -> Exchange:
    """RFC 7662 §2.1 introspection request."""
    data = {"token": token}
    if token_type_hint:
        data["token_type_hint"] = token_type_hint
    headers: dict[str, str] = {}
    secrets: tuple[str, ...] = ()
    if auth.kind == "client" and credentials is not None:
        headers, auth_fields = client_authentication(credentials)
        data.update(auth_fields)
        secrets = (credentials.client_secret,)
    elif auth.kind == "basic":
        # WSO2 IS's default: a user's name and password, plain Basic (RFC 7617).
        headers = {"Authorization": basic_authorization(auth.username, auth.password, urlencode=False)}
        secrets = (auth.password,)
    elif auth.kind == "bearer":
        headers = {"Authorization": f"Bearer {auth.bearer}"}  # RFC 6750 §2.1
    return outbound.send("POST", endpoint, {**FORM_HEADERS, **headers}, data, secrets, insecure=insecure)


def revoke(
    outbound: Outbound,
    endpoint: str,
    token: str,
    credentials: Credentials,
    token_type_hint: str = "access_token",
    insecure: bool = False,
) -> Exchange:
    """RFC 7009 §2.1 revocation request, with the same client authentication as the token request."""
    data = {"token": token}
    if token_type_hint:
        data["token_type_hint"] = token_type_hint
    return send_token_request(outbound, endpoint, credentials, data, insecure)


def get_json(outbound: Outbound, url: str, insecure: bool = False, timeout: float | None = None) -> Exchange:
    """GET a JSON document (metadata, JWKS); `timeout` shortens the policy's."""
    return outbound.send(
        "GET", url, {"Accept": "application/json"}, None, (), insecure=insecure, timeout=timeout
    )


def discovery_urls(given: str) -> list[str]:
    """Where to look for the metadata of `given` (a metadata URL or an issuer), in order.

    - a URL that names a `.well-known` document: that URL alone;
    - else the URL itself (some servers serve metadata there), then
    - RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted before the issuer's path;
    - OpenID Connect Discovery 1.0 §4: `/.well-known/openid-configuration` appended to the issuer;
    - RFC 8414 §5: `/.well-known/openid-configuration` inserted before the path (some servers);
    - `/.well-known/oauth-authorization-server` appended to the issuer (Okta's custom servers);
    - WSO2 IS: `/oauth2/token/.well-known/openid-configuration` on the origin.
    """
    given = given.strip()
    parts = urlsplit(given)
    if "/.well-known/" in parts.path:
        return [given]
    origin = f"{parts.scheme}://{parts.netloc}"
    # Both RFCs: a terminating "/" of the issuer is removed before the well-known part goes in.
    path = parts.path.rstrip("/")
    urls = [
        given,
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}{path}/.well-known/openid-configuration",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/oauth-authorization-server",
        f"{origin}/oauth2/token/.well-known/openid-configuration",
    ]
    return list(dict.fromkeys(urls))


def issuer_of(metadata_url: str) -> str:
    """The issuer whose metadata may live at `metadata_url` (RFC 8414 §3.3, OIDC Discovery §4.3).

    The inverse of building the URL: the well-known segment is taken out, whether it
    was inserted before the issuer's path (RFC 8414) or appended to it (OIDC), and a
    URL without one is the issuer itself.
    """
    parts = urlsplit(metadata_url.strip())
    path = parts.path
    if "/.well-known/" in path:
        before, _, after = path.partition("/.well-known/")
        path = before + after[len(after.split("/", 1)[0]) :]
    return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")
