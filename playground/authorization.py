"""The authorization request and its response, on the client's side. No Flask here.

Building the request of RFC 6749 §4.1.1 / OpenID Connect Core §3.1.2.1 (with a fresh
`state`, `nonce` and PKCE pair, RFC 7636), and checking what comes back to the
callback: `state` (RFC 6749 §10.12), RFC 9207's `iss` (the mix-up defence of RFC 9700
§4.4), and the error responses of RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .tokens import Check

RESPONSE_MODES = {
    "query": "query (in the URL's query)",
    "fragment": "fragment (after #, read by the page's script)",
    "form_post": "form_post (posted by the browser, OAuth 2.0 Form Post Response Mode)",
}
PKCE_METHODS = {"S256": "S256", "plain": "plain"}
#: Parameters the playground sets itself: an extra parameter may not replace them.
OWN_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
        "prompt",
        "max_age",
        "login_hint",
        "acr_values",
    }
)
#: Why each parameter of an authorization request is there, and where it is defined.
PARAMETER_NOTES = {
    "response_type": "What the server answers with: code (RFC 6749 §4.1.1), or tokens for the implicit grant "
    "(§4.2.1, OpenID Connect Core §3.2.2.1).",
    "client_id": "Which client asks (RFC 6749 §2.2).",
    "redirect_uri": "Where the answer goes; must equal a registered one exactly (RFC 6749 §3.1.2).",
    "scope": "What access is asked for; openid makes it an OpenID Connect request (OIDC Core §3.1.2.1).",
    "state": "Random, kept by the playground: the answer must bring it back (RFC 6749 §10.12, CSRF).",
    "nonce": "Random, must come back in the ID token: ties the token to this request (OIDC Core §3.1.2.1).",
    "code_challenge": "BASE64URL(SHA-256(code_verifier)), or the verifier itself for plain (RFC 7636 §4.2).",
    "code_challenge_method": "How the challenge was made from the verifier (RFC 7636 §4.3).",
    "response_mode": "How the answer travels back (OAuth 2.0 Multiple Response Types, Form Post).",
    "prompt": "Whether the server must ask the user again: none, login, consent (OIDC Core §3.1.2.1).",
    "max_age": "Seconds since the user last logged in, at most; else log in again (OIDC Core §3.1.2.1).",
    "login_hint": "Who is expected to log in: pre-fills the login page (OIDC Core §3.1.2.1).",
    "acr_values": "Authentication context classes asked for, in order of preference (OIDC Core §3.1.2.1).",
}
#: What to try for each error an authorization endpoint may send (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
AUTHORIZATION_ERROR_HINTS = {
    "access_denied": [
        "The user (or the server's policy) refused the request: on the demo server, Deny on the consent "
        "page.",
        "Authorize again and choose Allow, or ask for fewer scopes.",
    ],
    "invalid_request": [
        "A parameter is missing, repeated or malformed: the error_description should name it.",
        "A public client must send PKCE (Use PKCE); check the extra parameters.",
    ],
    "unauthorized_client": [
        "The client may not use this grant: allow the authorization code grant for it on the server.",
    ],
    "unsupported_response_type": ["The server does not offer response_type=code for this client."],
    "invalid_scope": [
        "Ask only for scopes registered for the client; the demo server needs at least one (e.g. openid).",
    ],
    "server_error": ["The server met an unexpected error: look at its logs, then try again."],
    "temporarily_unavailable": ["The server is overloaded or in maintenance: try again in a moment."],
    "login_required": [
        "prompt=none was sent and nobody is logged in at the server: Authorize again without prompt=none.",
    ],
    "consent_required": [
        "prompt=none was sent and the user has not consented to this client yet: Authorize without it.",
    ],
    "interaction_required": ["The server needs the user to act: Authorize again without prompt=none."],
    "account_selection_required": ["The user must choose an account: Authorize without prompt=none."],
    "invalid_request_uri": ["The request_uri is unknown or expired (RFC 9126 §2.2): push the request again."],
    "invalid_request_object": ["The request object is invalid: check its signature and claims (RFC 9101)."],
    "request_not_supported": ["The server does not take request objects (OIDC Core §6)."],
    "request_uri_not_supported": ["The server does not take request_uri (OIDC Core §6)."],
    "registration_not_supported": ["The server does not take the registration parameter (OIDC Core §7.2.1)."],
}


def random_value(nbytes: int = 24) -> str:
    """An unguessable value for `state` and `nonce` (RFC 6749 §10.10: at least 128 bits here 192)."""
    return secrets.token_urlsafe(nbytes)


def code_verifier() -> str:
    """RFC 7636 §4.1: 43 to 128 unreserved characters; 64 here, from 48 random bytes."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str, method: str = "S256") -> str:
    """RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), or the verifier for plain."""
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def parse_extra(text: str) -> tuple[list[tuple[str, str]], str | None]:
    """Extra parameters written `name=value&name=value` (or one a line); an error for a bad one."""
    pairs: list[tuple[str, str]] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip()
        if not line:
            continue
        try:
            found = parse_qsl(line, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            return [], f"{line!r} is not name=value."
        for name, value in found:
            if name in OWN_PARAMETERS:
                return [], f"{name} has a field of its own: set it there, not as an extra parameter."
            pairs.append((name, value))
    return pairs, None


@dataclass
class AuthorizationRequest:
    """One authorization request as sent: its URL, parameters, and the values kept to check the answer."""

    endpoint: str
    parameters: list[tuple[str, str]]
    state: str
    nonce: str = ""
    verifier: str = ""
    method: str = ""

    @property
    def url(self) -> str:
        """The URL the browser is sent to: the endpoint's own query kept (RFC 6749 §3.1)."""
        parts = urlsplit(self.endpoint)
        query = parse_qsl(parts.query, keep_blank_values=True) + self.parameters
        return urlunsplit(parts._replace(query=urlencode(query)))

    @property
    def challenge(self) -> str:
        return dict(self.parameters).get("code_challenge", "")


def build_request(
    endpoint: str,
    client_id: str,
    redirect_uri: str,
    scope: str = "",
    use_pkce: bool = True,
    pkce_method: str = "S256",
    response_mode: str = "",
    prompt: str = "",
    max_age: str = "",
    login_hint: str = "",
    acr_values: str = "",
    extra: list[tuple[str, str]] | None = None,
    response_type: str = "code",
    state: str = "",
    nonce: str = "",
    verifier: str = "",
) -> AuthorizationRequest:
    """The authorization request of RFC 6749 §4.1.1 with a fresh state, nonce (when the scope
    asks for OpenID Connect) and PKCE pair; or with those given (the request as it was sent)."""
    state = state or random_value()
    parameters = [("response_type", response_type), ("client_id", client_id), ("redirect_uri", redirect_uri)]
    if scope:
        parameters.append(("scope", scope))
    parameters.append(("state", state))
    nonce = (nonce or random_value()) if "openid" in scope.split() else ""
    if nonce:
        parameters.append(("nonce", nonce))  # OIDC Core §3.1.2.1; §15.5.2 for the code flow
    method = ""
    verifier = verifier if use_pkce else ""
    if use_pkce:
        verifier, method = verifier or code_verifier(), pkce_method
        parameters += [
            ("code_challenge", code_challenge(verifier, method)),
            ("code_challenge_method", method),
        ]
    for name, value in (
        ("response_mode", response_mode),
        ("prompt", prompt),
        ("max_age", max_age),
        ("login_hint", login_hint),
        ("acr_values", acr_values),
    ):
        if value:
            parameters.append((name, value))
    parameters += extra or []
    return AuthorizationRequest(endpoint, parameters, state, nonce, verifier, method)


@dataclass
class CallbackResult:
    """What came back to the callback, and the checks made on it."""

    params: dict[str, str]
    checks: list[Check] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        return self.params.get("error") or None

    @property
    def code(self) -> str | None:
        """The code, unless the answer is also an error: then it is not one to redeem (RFC 6749 §4.1.2.1)."""
        return None if self.error else (self.params.get("code") or None)

    @property
    def trusted(self) -> bool:
        """No check failed: the code may be redeemed."""
        return not any(c.ok is False for c in self.checks)


def check_callback(
    params: dict[str, str], state_sent: str, issuer: str, iss_supported: bool
) -> CallbackResult:
    """The checks RFC 6749 §10.12 and RFC 9207 §2.4 ask of a client, on what reached the callback."""
    result = CallbackResult(params)
    got = params.get("state")
    if got is None:
        result.checks.append(
            Check(
                "state",
                False,
                "The answer has no state, but one was sent: it must come back (RFC 6749 §4.1.2).",
            )
        )
    elif secrets.compare_digest(got.encode(), state_sent.encode()):
        result.checks.append(Check("state", True, "Equals the state sent with this authorization request."))
    else:
        result.checks.append(
            Check(
                "state",
                False,
                f"{got!r} is not the state sent ({state_sent!r}): the answer may be forged (CSRF, "
                "RFC 6749 §10.12) or belong to another request. The flow stops here.",
            )
        )
    iss = params.get("iss")
    if iss is not None:
        if not issuer:
            result.checks.append(
                Check(
                    "iss", None, f"The answer names issuer {iss!r}, but no issuer is known to compare with."
                )
            )
        elif iss == issuer:
            result.checks.append(
                Check("iss", True, f"{iss!r} is the issuer the request was sent to (RFC 9207).")
            )
        else:
            result.checks.append(
                Check(
                    "iss",
                    False,
                    f"{iss!r} is not the expected issuer {issuer!r}: the answer comes from another server "
                    "(a mix-up attack, RFC 9700 §4.4). The flow stops here.",
                )
            )
    elif iss_supported:
        result.checks.append(
            Check(
                "iss",
                False,
                "The server's metadata says it sends iss (authorization_response_iss_parameter_supported), "
                "but this answer has none: it may come from another server (RFC 9207 §2.4).",
            )
        )
    else:
        result.checks.append(
            Check("iss", None, "Not sent, and the server's metadata does not say it sends it (RFC 9207).")
        )
    return result


def unmatched_state(got: str, flows: int) -> Check:
    """The state check of an answer whose state is none of the authorizations in progress."""
    if not got:
        return Check(
            "state", False, "The answer has no state, but one was sent: it must come back (RFC 6749 §4.1.2)."
        )
    return Check(
        "state",
        False,
        f"{got!r} is not the state of the authorization{'s' if flows > 1 else ''} in progress in this "
        f"browser ({flows}): the answer may be forged (CSRF, RFC 6749 §10.12) or belong to another request. "
        "The flow stops here.",
    )


def fragment_parameters(fragment: str) -> list[tuple[str, str]]:
    """The parameters of a URL fragment (OAuth 2.0 Multiple Response Types §2), as a page's script read it."""
    try:
        return parse_qsl(fragment.removeprefix("#"), keep_blank_values=True)
    except ValueError:
        return []


def authorization_error_hints(error: str) -> list[str]:
    """What to try for an error the authorization endpoint sent."""
    return AUTHORIZATION_ERROR_HINTS.get(
        error, ["The server refused the authorization request: its error_description says why."]
    )
