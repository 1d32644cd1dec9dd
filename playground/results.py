"""Reading responses into what the pages show, and explaining what went wrong.

A response is one of: a result (a token, token information), an OAuth error
(RFC 6749 §5.2, RFC 7662 §2.3, RFC 6750 §3), or a problem (an answer that is not
what the RFCs describe). Transport failures become problems too.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from .exchange import MAX_JSON_DEPTH, Exchange
from .outbound import OutboundError
from .tokens import inspect


@dataclass
class Problem:
    """Something went wrong: what happened, and what to try."""

    title: str
    detail: str
    hints: list[str] = field(default_factory=list)
    technical: str = ""


@dataclass
class OAuthError:
    """An error response of the server, as RFC 6749 §5.2 shapes it."""

    error: str
    description: str
    uri: str | None
    status: int
    www_authenticate: str | None
    hints: list[str]


@dataclass
class Outcome:
    """What a call came to: data (a result), an OAuth error, or a problem."""

    exchange: Exchange | None
    data: dict[str, Any] | None = None
    error: OAuthError | None = None
    problem: Problem | None = None
    note: str = ""

    @property
    def shown(self) -> dict[str, Any] | None:
        """`data` as the page shows it: a secret the server echoed back is masked, whether
        `data` is the JSON body (then the masked copy's) or was read otherwise (a signed
        UserInfo response's claims)."""
        if self.data is None or self.exchange is None:
            return self.data
        if self.data is self.exchange.json():
            masked = self.exchange.masked().json()
            if isinstance(masked, dict):
                return masked
        return self.exchange.mask_value(self.data)


OAUTH_HINTS = {
    "invalid_client": [
        "Check the client ID and the client secret (copy them again; watch for spaces at either end).",
        "Try the other client authentication method: some servers accept only HTTP Basic, others only "
        "the request body (client_secret_post).",
        "If the ID or secret contains characters such as : @ % + /, try HTTP Basic without URL-encoding: "
        "some servers do not decode it as RFC 6749 §2.3.1 says.",
    ],
    "invalid_scope": [
        "Ask only for scopes registered for this client, or leave Scope empty to get its default scopes.",
    ],
    "unauthorized_client": [
        "The client may not use this grant: allow the Client Credentials grant for it on the server "
        "(in WSO2 IS: the application's protocol settings).",
    ],
    "unsupported_grant_type": [
        "The server does not offer this grant at this endpoint. Check the endpoint URL and that the "
        "grant is enabled on the server.",
    ],
    "invalid_request": [
        "A parameter is missing, repeated or malformed: the error description should name it.",
    ],
    "invalid_grant": [
        "The grant or token is invalid, expired, revoked, or was issued to another client.",
    ],
    "invalid_target": [
        "Resource must be an absolute URI without a fragment (RFC 8707 §2), one the server knows.",
    ],
    "invalid_token": [
        "The Bearer token used to authenticate is invalid or expired: get a new one.",
    ],
    "insufficient_scope": [
        "The Bearer token lacks the scope this endpoint needs (for WSO2 IS introspection: "
        "internal_oauth2_introspect).",
    ],
    "server_error": ["The server met an error it did not expect: look at its logs."],
    "temporarily_unavailable": ["The server is overloaded or in maintenance: try again in a moment."],
    "access_denied": ["The server refused the request: check the client's permissions on the server."],
    "unsupported_token_type": ["The server cannot handle this kind of token here (RFC 7009 §2.2.1)."],
}

TRANSPORT_HINTS = {
    "invalid_url": ["Enter a full URL such as https://localhost:9443/oauth2/token."],
    "refused": [
        "Nothing is listening at {origin}. Is the server running, and on this port?",
        "WSO2 Identity Server listens on 9443 by default; `playground demo` prints its endpoints.",
        "Inside a container, localhost is the container itself, not your machine.",
    ],
    "dns": [
        "Check the spelling of the host name {host}.",
        "If the name is only in your hosts file (e.g. wso2is.local), add it on the machine "
        "the playground runs on.",
    ],
    "timeout": [
        "The server may be overloaded, or a firewall may silently drop the packets.",
        "Try again; if the server is just slow, raise PLAYGROUND_TIMEOUT (seconds).",
    ],
    "reset": [
        "The server may speak HTTPS where you wrote http://, or the other way round: try the other scheme.",
        "A proxy or load balancer in between may have cut the connection: look at its logs.",
    ],
    "too_large": [
        "This is not what an OAuth endpoint sends: check the URL. If it is right, raise "
        "PLAYGROUND_MAX_RESPONSE_BYTES.",
    ],
    "network": ["Check the URL and that the server is reachable from the machine the playground runs on."],
    "protocol": [
        "Something between the playground and the server (a proxy, a gateway) may be mangling the answer, "
        "or the URL points at something that is not an HTTP server. Check the URL and the server's logs.",
    ],
    "invalid_request": [
        "Remove line breaks and characters outside Latin-1 from the values that become headers "
        "(Bearer token, user name, password).",
    ],
    "blocked": [
        "The playground checks every address it connects to, so that it cannot be used to reach "
        "services behind it. Link-local and cloud metadata addresses are never allowed.",
        "If this is an authorization server you need, ask whoever runs this playground to add it to "
        "PLAYGROUND_ALLOWED_HOSTS (or to unset PLAYGROUND_BLOCK_PRIVATE_NETWORKS for private ones).",
    ],
}

TLS_HINTS = {
    "verify": [
        "The server's certificate is not signed by a CA the playground trusts (self-signed, "
        "or a private CA).",
        "Set PLAYGROUND_CA_BUNDLE to the server's CA certificate in PEM form. For WSO2 IS, export "
        "the wso2carbon certificate: keytool -export -alias wso2carbon -keystore wso2carbon.jks "
        "-rfc -file wso2carbon.pem (keystore password: wso2carbon).",
        "Under `playground demo` the demo server's CA is trusted already.",
    ],
    "expired": [
        "The server's certificate has expired (or the clock of one machine is wrong): renew the certificate.",
    ],
    "hostname": [
        "The certificate is for another host name: use the name the certificate was issued for "
        "(often localhost), or issue one with this name in its Subject Alternative Names.",
    ],
    "protocol": [
        "The server does not speak TLS on this port: try http:// instead of https://, or the TLS port.",
    ],
}


#: An error or error_description longer than this is cut on the page, saying how much is left
#: out; the exchange panel below it has the whole answer.
ERROR_LIMIT = 200
DESCRIPTION_LIMIT = 2000


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and how many more there are."""
    return text if len(text) <= limit else f"{text[:limit]} … {len(text) - limit:,} more characters"


def safe_link(uri: Any) -> str | None:
    """An `error_uri` to show as a link only when it is http(s): never javascript: or data:."""
    if not isinstance(uri, str):
        return None
    parts = urlsplit(uri)
    return uri if parts.scheme in ("http", "https") and parts.netloc else None


def explain_transport(err: OutboundError) -> Problem:
    """A page's worth of explanation for a transport failure."""
    parts = urlsplit(err.exchange.request.url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else err.exchange.request.url
    hints = [h.format(origin=origin, host=parts.hostname or "") for h in TRANSPORT_HINTS.get(err.kind, [])]
    title = err.message
    if err.kind == "tls":
        detail = err.detail.lower()
        if "certificate has expired" in detail:
            title, hints = "The server's TLS certificate has expired.", TLS_HINTS["expired"]
        elif "hostname mismatch" in detail or "doesn't match" in detail or "ip address mismatch" in detail:
            title, hints = "The server's TLS certificate is for another host name.", TLS_HINTS["hostname"]
        elif "certificate verify failed" in detail:
            title, hints = "The server's TLS certificate is not trusted.", TLS_HINTS["verify"]
        elif (
            "wrong version number" in detail or "record layer failure" in detail or "unexpected eof" in detail
        ):
            title, hints = "The server did not answer with TLS.", TLS_HINTS["protocol"]
    detail = f"{err.exchange.request.method} {err.exchange.request.url}"
    if err.kind == "blocked":  # the reason is for the person, not a technical footnote
        return Problem(title=title, detail=f"{detail}: {err.detail}", hints=hints)
    return Problem(title=title, detail=detail, hints=hints, technical=err.detail)


def _bad_body_problem(exchange: Exchange, expected: str) -> Problem:
    """The response is not the JSON the RFC calls for: say what it is instead (read from the
    masked copy: a Location or Content-Type may echo a credential)."""
    exchange = exchange.masked()
    response = exchange.response
    assert response is not None
    content_type = (response.header("Content-Type") or "").lower()
    where = f"HTTP {response.status} from {exchange.request.url}"
    if response.truncated:
        return Problem("The response is too large.", where, TRANSPORT_HINTS["too_large"])
    if 300 <= response.status < 400:
        location = response.header("Location") or "(no Location header)"
        return Problem(
            "The server answered with a redirect.",
            f"{where} points to {location}",
            [
                "The playground does not follow redirects: a token request must go straight to the "
                "endpoint (RFC 6749 §3.2). Use the final URL if it is the right one.",
                "A redirect to a login page usually means the URL is a web page, not an OAuth endpoint.",
            ],
        )
    if not response.body.strip():
        return Problem(
            "The server answered with an empty body.",
            where,
            [f"{expected} should be a JSON object. Check the endpoint URL and the server's logs."],
        )
    if "html" in content_type or response.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        return Problem(
            "The server answered with an HTML page instead of JSON.",
            where,
            [
                "The URL probably points at a web page (a login page, a console, a proxy's error page) "
                "rather than the OAuth endpoint. Check the path.",
                "Typical token endpoints: WSO2 IS /oauth2/token; Keycloak /realms/REALM/protocol/"
                "openid-connect/token; Okta /oauth2/default/v1/token.",
            ],
        )
    if response.status >= 500:
        return Problem(
            f"The server failed with HTTP {response.status}.",
            where,
            ["The server met an internal error and gave no OAuth error: look at its logs, then try again."],
        )
    if response.status == 404:
        return Problem(
            "There is no endpoint at this URL (HTTP 404).",
            where,
            ["Check the path; the server's discovery document lists its endpoints."],
        )
    if exchange.json_too_deep:
        return Problem(
            "The server's answer is JSON nested too deep to read.",
            f"{where}: more than {MAX_JSON_DEPTH} levels of arrays or objects.",
            [f"{expected} is a flat JSON object. Check the endpoint URL; the raw body is shown below."],
        )
    data = exchange.json()
    if data is None:
        return Problem(
            "The server's answer is not valid JSON.",
            f"{where}, Content-Type: {content_type or '(none)'}",
            [f"{expected} must be JSON. The raw body is shown below."],
        )
    return Problem(
        "The server's answer is not what the RFC describes.",
        where,
        [f"{expected} must be a JSON object with the members the RFC lists. See the body below."],
    )


def _oauth_error(exchange: Exchange, expected: Expectation) -> OAuthError:
    """The error response as the page shows it (from the masked copy: no echoed secret)."""
    response = exchange.masked().response
    assert response is not None
    data = exchange.masked().json()
    error = str(data.get("error"))
    hints = list(expected.error_hints.get(error, OAUTH_HINTS.get(error, [])))
    challenges = response.headers_named("WWW-Authenticate")
    if response.status == 401 and not challenges:
        hints.append("The server sent 401 without a WWW-Authenticate header, which RFC 6749 §5.2 asks for.")
    return OAuthError(
        error=cut(error, ERROR_LIMIT),
        description=cut(str(data.get("error_description") or ""), DESCRIPTION_LIMIT),
        uri=safe_link(data.get("error_uri")),
        status=response.status,
        www_authenticate=cut("\n".join(challenges), DESCRIPTION_LIMIT) or None,
        hints=hints,
    )


@dataclass(frozen=True)
class Expectation:
    """What a successful answer of an endpoint looks like, and what to say when it is not."""

    name: str  # e.g. "A token response (RFC 6749 §5.1)"
    required: str  # the member that makes a 200 a result
    required_type: type
    missing: str  # the problem's title when a 200 lacks it
    missing_hint: str
    refused_hints: tuple[str, ...]  # for a 401/403 without an OAuth error body
    error_hints: dict[str, tuple[str, ...]] = field(default_factory=dict)  # instead of OAUTH_HINTS


TOKEN_RESPONSE = Expectation(
    name="A token response (RFC 6749 §5.1)",
    required="access_token",
    required_type=str,
    missing="The server answered 200 but sent no access_token.",
    missing_hint="RFC 6749 §5.1 requires access_token and token_type. Is this the token endpoint?",
    refused_hints=tuple(OAUTH_HINTS["invalid_client"]),
)
INTROSPECTION_REFUSED = (
    "RFC 7662 §2.1: the introspection endpoint needs authentication. Try another choice under "
    "'Authenticate with': the client's credentials, a user's Basic credentials (WSO2 IS: e.g. admin), "
    "or a Bearer token with the internal_oauth2_introspect scope.",
)
INTROSPECTION_RESPONSE = Expectation(
    name="An introspection response (RFC 7662 §2.2)",
    required="active",
    required_type=bool,
    missing="The answer has no boolean 'active' member.",
    missing_hint="RFC 7662 §2.2 requires a boolean 'active'. Is this the introspection endpoint?",
    refused_hints=INTROSPECTION_REFUSED,
    error_hints={"invalid_client": INTROSPECTION_REFUSED + tuple(OAUTH_HINTS["invalid_client"][:1])},
)


def read_response(exchange: Exchange, expected: Expectation) -> Outcome:
    """A result, an OAuth error (RFC 6749 §5.2), or a problem naming what is wrong."""
    data = exchange.json()
    status = exchange.response.status if exchange.response else 0
    if isinstance(data, dict):
        if status == 200 and isinstance(data.get(expected.required), expected.required_type):
            return Outcome(exchange, data=data)
        if status >= 400 and isinstance(data.get("error"), str):
            return Outcome(exchange, error=_oauth_error(exchange, expected))
    shown = exchange.masked().response  # what the page says of the answer: no echoed credential
    if status in (401, 403) and shown is not None:
        challenges = shown.headers_named("WWW-Authenticate")
        bearer = bearer_error(challenges)
        if bearer is not None:  # RFC 6750 §3: a resource server's error is in its challenge
            error, description = bearer
            return Outcome(
                exchange,
                error=OAuthError(
                    error=cut(error, ERROR_LIMIT),
                    description=cut(description, DESCRIPTION_LIMIT),
                    uri=None,
                    status=status,
                    www_authenticate=cut("\n".join(challenges), DESCRIPTION_LIMIT),
                    hints=list(expected.error_hints.get(error, OAUTH_HINTS.get(error, []))),
                ),
            )
        # Refused without the JSON error body RFC 6749 §5.2 asks for (e.g. a gateway in front).
        return Outcome(
            exchange,
            error=OAuthError(
                error="unauthorized" if status == 401 else "forbidden",
                description="The endpoint refused the caller's authentication (no OAuth error body).",
                uri=None,
                status=status,
                www_authenticate=cut("\n".join(challenges), DESCRIPTION_LIMIT) or None,
                hints=list(expected.refused_hints),
            ),
        )
    if isinstance(data, dict) and status == 200:
        problem = Problem(expected.missing, f"HTTP 200 from {exchange.request.url}", [expected.missing_hint])
        return Outcome(exchange, problem=problem)
    return Outcome(exchange, problem=_bad_body_problem(exchange, expected.name))


#: RFC 7235 §2.1 auth-param: name = token / quoted-string.
_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def bearer_error(challenges: list[str]) -> tuple[str, str] | None:
    """The error and error_description of a Bearer challenge (RFC 6750 §3), or None."""
    for challenge in challenges:
        scheme, _, params = challenge.strip().partition(" ")
        if scheme.lower() != "bearer":
            continue
        found = {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _AUTH_PARAM.finditer(params)}
        if found.get("error"):
            return found["error"], found.get("error_description", "")
    return None


CODE_GRANT_HINTS = {
    "invalid_grant": (
        "An authorization code is single-use and short-lived (RFC 6749 §4.1.2, 10 minutes at most): if it "
        "was sent before (a second click, a reload, a shared link), the server refuses it and should revoke "
        "the tokens the first use issued. Authorize again for a fresh code.",
        "The redirect_uri sent with the code must equal the one in the authorization request (§4.1.3): "
        "check the Callback URL.",
        "With PKCE, the code_verifier must match the code_challenge sent (RFC 7636 §4.6); a verifier from "
        "another authorization fails.",
        "The code is bound to the client it was issued to: the Client ID must be the same.",
    ),
}
REFRESH_HINTS = {
    "invalid_grant": (
        "The refresh token is expired, revoked, or was issued to another client (RFC 6749 §6).",
        "Servers that rotate refresh tokens accept each one once: reusing a replaced one is refused, and "
        "may end every token of its family (RFC 9700 §4.14.2). Use the latest refresh token.",
        "Authorize again for new tokens.",
    ),
}
PASSWORD_HINTS = {
    "invalid_grant": (
        "The user name or password is wrong, or the account cannot sign in this way (RFC 6749 §4.3.2). "
        "A careful server does not say which.",
        "The server may require a user's login in the browser (multi-factor, consent): use Authorization "
        "Code instead, as RFC 9700 §2.4 says.",
    ),
    "unauthorized_client": (
        "This client is not allowed the password grant: enable it in the client's registration (most "
        "servers, the demo server included, allow it only per client).",
    ),
    "unsupported_grant_type": (
        "The server does not offer the password grant at all (RFC 9700 §2.4 says it must not be used; "
        "OAuth 2.1 drops it). Use Authorization Code with PKCE.",
    ),
}
EXCHANGE_HINTS = {
    "invalid_grant": (
        "The subject token (or the actor token) is invalid, expired or revoked, or not one this server "
        "accepts for exchange (RFC 8693 §2.2.2). Its error_description says which.",
        "Check the Subject Token Type: it must say what the token is (an access token, an ID token, a JWT).",
    ),
    "invalid_target": ("The server will not issue a token for this audience or resource (RFC 8693 §2.2.2).",),
    "invalid_scope": ("The scope asked for is more than the subject token has: ask for a subset.",),
    "invalid_request": (
        "A parameter is missing or wrong: subject_token and subject_token_type are required, and "
        "actor_token_type goes with actor_token (RFC 8693 §2.1).",
    ),
    "unauthorized_client": ("This client is not allowed token exchange: enable it in its registration.",),
    "unsupported_grant_type": (
        "The server does not support Token Exchange (urn:ietf:params:oauth:grant-type:token-exchange).",
    ),
}
DEVICE_HINTS = {
    "authorization_pending": (
        "The user has not answered yet: open the verification URI, enter the code, and allow.",
    ),
    "slow_down": ("Polled too soon: the playground now waits 5 seconds more between polls (RFC 8628 §3.5).",),
    "access_denied": ("The user denied the request at the verification page. Start again for a new code.",),
    "expired_token": (
        "The device code expired before the user answered (expires_in). Start again for a new code.",
    ),
    "invalid_grant": (
        "The device code is unknown, was issued to another client, or was redeemed already: a device "
        "code gives tokens once (RFC 8628 §3.5). Start again for a new code.",
    ),
    "unauthorized_client": (
        "This client is not allowed the device authorization grant: enable it in the client's registration "
        "(urn:ietf:params:oauth:grant-type:device_code).",
    ),
    "unsupported_grant_type": (
        "The server does not support the device authorization grant (RFC 8628) at this token endpoint.",
    ),
    "invalid_scope": ("Ask only for scopes registered for this client; many servers want a scope here.",),
}
CODE_TOKEN_RESPONSE = replace(TOKEN_RESPONSE, error_hints=CODE_GRANT_HINTS)
PASSWORD_TOKEN_RESPONSE = replace(TOKEN_RESPONSE, error_hints=PASSWORD_HINTS)
EXCHANGE_TOKEN_RESPONSE = replace(TOKEN_RESPONSE, error_hints=EXCHANGE_HINTS)
REFRESH_TOKEN_RESPONSE = replace(TOKEN_RESPONSE, error_hints=REFRESH_HINTS)
DEVICE_TOKEN_RESPONSE = replace(TOKEN_RESPONSE, error_hints=DEVICE_HINTS)
DEVICE_AUTHORIZATION_RESPONSE = Expectation(
    name="A device authorization response (RFC 8628 §3.2)",
    required="device_code",
    required_type=str,
    missing="The server answered 200 but sent no device_code.",
    missing_hint="RFC 8628 §3.2 requires device_code, user_code, verification_uri and expires_in. "
    "Is this the device authorization endpoint?",
    refused_hints=tuple(OAUTH_HINTS["invalid_client"]),
    error_hints=DEVICE_HINTS,
)
#: RFC 8628 §3.2: what a device authorization response must have besides device_code.
DEVICE_REQUIRED = {"user_code": str, "verification_uri": str, "expires_in": int}


def read_device_authorization_response(exchange: Exchange) -> Outcome:
    """RFC 8628 §3.2 success (the required members, verification_uri a web link), §3.3 error, or a problem."""
    outcome = read_response(exchange, DEVICE_AUTHORIZATION_RESPONSE)
    data = outcome.data
    if data is None:
        return outcome
    wrong = [
        name
        for name, kind in DEVICE_REQUIRED.items()
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool) or data.get(name) == ""
    ]
    if not wrong and not safe_link(data["verification_uri"]):
        wrong = ["verification_uri (an http(s) URL)"]
    if wrong:
        return Outcome(
            exchange,
            problem=Problem(
                "The device authorization response lacks what RFC 8628 §3.2 requires.",
                f"Missing or not usable: {', '.join(wrong)}.",
                [
                    "RFC 8628 §3.2: device_code, user_code, verification_uri (a URL) and expires_in "
                    "(seconds) are required; interval and verification_uri_complete are optional.",
                    "The body is shown below. Is this the device authorization endpoint?",
                ],
            ),
        )
    return outcome


def read_token_response(exchange: Exchange, expected: Expectation = TOKEN_RESPONSE) -> Outcome:
    """RFC 6749 §5.1 success or §5.2 error, or a problem."""
    return read_response(exchange, expected)


def read_introspection_response(exchange: Exchange) -> Outcome:
    """RFC 7662 §2.2 response (needs a boolean `active`), an error, or a problem."""
    return read_response(exchange, INTROSPECTION_RESPONSE)


USERINFO_RESPONSE = Expectation(
    name="A UserInfo response (OpenID Connect Core §5.3.2)",
    required="sub",
    required_type=str,
    missing="The UserInfo answer has no sub.",
    missing_hint="OpenID Connect Core §5.3.2: sub MUST always be returned. Is this the UserInfo endpoint?",
    refused_hints=(
        "The access token was refused: it may be expired or revoked, or lack the openid scope.",
        "Refresh the token, or Authorize again with the openid scope.",
    ),
    error_hints={
        "invalid_token": (
            "The access token is expired, revoked, or not one this server issued (RFC 6750 §3.1): Refresh, "
            "or Authorize again.",
        ),
        "insufficient_scope": (
            "The access token lacks the scope UserInfo needs: ask for openid (and profile, email).",
        ),
    },
)


def read_userinfo_response(exchange: Exchange) -> Outcome:
    """OpenID Connect Core §5.3.2: JSON claims with sub (or a signed JWT, application/jwt), or an error."""
    response = exchange.response
    if response is not None and response.status == 200:
        content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type == "application/jwt":
            view = inspect(response.text)  # a signed UserInfo response: its claims, decoded
            if view.is_jwt and isinstance(view.claims.get("sub"), str):
                return Outcome(
                    exchange,
                    data=view.claims,
                    note="A signed UserInfo response (application/jwt): its claims are decoded here; "
                    "its signature is not checked.",
                )
    return read_response(exchange, USERINFO_RESPONSE)


@dataclass
class Revocation(Outcome):
    """A revocation's outcome; `caution` when a 200 does not look like an OAuth server's."""

    caution: Problem | None = None


def revocation_caution(exchange: Exchange) -> Problem | None:
    """Why a 200 from a revocation endpoint may not be one, or None when it looks right.

    RFC 7009 §2.2 lets the client ignore the body of a 200, so an empty body or any
    JSON is fine; an HTML page, a body cut at the size cap or broken JSON is what a
    login page, a console or a proxy sends, and then "revoked" may not be true.
    """
    response = exchange.response
    if response is None or response.status != 200:
        return None
    content_type = (exchange.masked().response.header("Content-Type") or "").lower()  # shown: masked
    if response.truncated:
        what = "an answer larger than PLAYGROUND_MAX_RESPONSE_BYTES (cut there)"
    elif not response.body.strip():
        return None
    elif "html" in content_type or response.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        what = "an HTML page"
    elif exchange.json_too_deep:
        what = f"JSON nested too deep to read (more than {MAX_JSON_DEPTH} levels)"
    elif "json" in content_type and exchange.json() is None:
        what = "a body that claims to be JSON but is not valid JSON"
    else:
        return None
    return Problem(
        "This answer does not look like an OAuth server's: check the revocation endpoint URL.",
        f"HTTP 200 from {exchange.request.url} with {what}, Content-Type: {content_type or '(none)'}",
        [
            "RFC 7009 §2.2: a revocation endpoint answers 200 with an empty body (or JSON the client "
            "may ignore). A web page at this URL (a login page, a console, a proxy's page) also answers "
            "200 without revoking anything.",
            "Check the URL against the server's discovery document (revocation_endpoint), then press "
            "Get TokenInfo: a revoked token is inactive.",
        ],
    )


def read_revocation_response(exchange: Exchange) -> Outcome:
    """RFC 7009 §2.2: 200 means revoked (or never valid: the server need not say); else why not.

    A 200 that does not look like an OAuth server's stays "revoked", with a caution.
    """
    response = exchange.response
    status = response.status if response else 0
    data = exchange.json()
    if status == 200:
        return Revocation(exchange, data={}, caution=revocation_caution(exchange))
    if status == 503 and isinstance(data, dict) and data.get("error") == "unsupported_token_type":
        return Outcome(exchange, error=_oauth_error(exchange, TOKEN_RESPONSE))
    if isinstance(data, dict) and isinstance(data.get("error"), str) and status >= 400:
        return Outcome(exchange, error=_oauth_error(exchange, TOKEN_RESPONSE))
    if status in (404, 405, 501):
        return Outcome(
            exchange,
            problem=Problem(
                "This server does not seem to support revocation.",
                f"HTTP {status} from {exchange.request.url}",
                [
                    "RFC 7009 is optional: not every server offers it. Its discovery document names "
                    "revocation_endpoint when it does.",
                    "WSO2 IS: https://localhost:9443/oauth2/revoke; Keycloak: "
                    ".../protocol/openid-connect/revoke; Okta: .../v1/revoke.",
                ],
            ),
        )
    return read_response(exchange, TOKEN_RESPONSE)


def read_jwks_response(exchange: Exchange) -> Outcome:
    """A JWK Set (RFC 7517 §5): a JSON object with a `keys` array."""
    data = exchange.json()
    status = exchange.response.status if exchange.response else 0
    if status == 200 and isinstance(data, dict) and isinstance(data.get("keys"), list):
        return Outcome(exchange, data=data)
    if status == 200:
        return Outcome(
            exchange,
            problem=Problem(
                "The JWKS URI did not answer with a JWK Set.",
                exchange.request.url,
                ["RFC 7517 §5: a JSON object with a keys array."],
            ),
        )
    return Outcome(exchange, problem=_bad_body_problem(exchange, "A JWK Set (RFC 7517 §5)"))


# -- times -----------------------------------------------------------------------

TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")
#: Tables of fields and claims show this many rows, and a cell this many characters: a
#: megabyte answer must not become a page many times its size. The whole body is in the
#: exchange panel (once, as received).
MAX_ROWS = 100
CELL_LIMIT = 2000


def utc(ts: float) -> str:
    """A Unix time as an ISO-like UTC date-time."""
    try:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "(out of range)"


def relative(ts: float, now: float | None = None) -> str:
    """'in 59 min 12 s' or '3 h 2 min ago'."""
    now = time.time() if now is None else now
    delta = int(round(ts - now))
    span = abs(delta)
    if span < 1:
        return "now"
    units = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    parts = []
    for name, size in units:
        if span >= size:
            parts.append(f"{span // size} {name}")
            span %= size
        if len(parts) == 2:
            break
    text = " ".join(parts)
    return f"in {text}" if delta > 0 else f"{text} ago"


def is_time(value: Any) -> bool:
    """A plausible Unix time (a number, not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e11


def lifetime_left(data: dict[str, Any], now: float | None = None) -> int | None:
    """Percent of the token's lifetime (iat or nbf to exp) still left, or None."""
    now = time.time() if now is None else now
    start, end = data.get("iat", data.get("nbf")), data.get("exp")
    if not (is_time(start) and is_time(end)) or end <= start:
        return None
    return max(0, min(100, round(100 * (end - now) / (end - start))))
