"""The authorization request (RFC 6749 §4.1.1, §4.2.1, OpenID Connect Core §3.1.2.1, §3.2.2.1): reading it,
and answering it: with a code, or (implicit) with the tokens themselves.

Written by hand rather than with Authlib's authorization endpoint, which reads
Flask's request itself (the login and consent steps carry the request in a
signed form field instead), answers only by query, and knows neither
response_mode nor RFC 9207's `iss`. Authlib's PKCE patterns are reused.

Two kinds of failure, in RFC 6749 §4.1.2.1's order: until the client and its
redirect URI are known good, the error is shown on this server's own page
(`PageError`) and never redirected to; after that, it goes back to the client
(`RedirectError`) as the request's response_mode says, with `state` and `iss`.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

from .context import get_db, issuer
from .grants.client_credentials import SCOPE_TOKEN
from .models import (
    IMPLICIT_RESPONSE_TYPES,
    AuthorizationCode,
    Client,
    Consent,
    User,
    find_client,
    hash_token,
    now,
    start_family,
)
from .oidc import make_id_token, verify_id_token
from .tokens import issue_token

RESPONSE_TYPES = ("code", *IMPLICIT_RESPONSE_TYPES)
RESPONSE_MODES = ("query", "fragment", "form_post")
CODE_CHALLENGE_METHODS = ("S256", "plain")
#: OpenID Connect Core §3.1.2.1 prompt values (select_account: the login page is where one picks).
PROMPTS = ("none", "login", "consent", "select_account")
#: OpenID Connect Core §3.1.2.1 max_age: seconds in ASCII digits (str.isdigit() also takes "²").
MAX_AGE = re.compile(r"[0-9]{1,10}")
#: RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
SINGLE = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "response_mode",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "code_challenge",
    "code_challenge_method",
)
#: How long the login and consent pages of one authorization request stay usable.
PENDING_LIFETIME = 600


class PageError(Exception):
    """An authorization request that cannot go back to the client: shown on our page."""


class RedirectError(Exception):
    """An RFC 6749 §4.1.2.1 / OpenID Connect Core §3.1.2.6 error, sent to the redirect URI."""

    def __init__(self, request: AuthorizationRequest, error: str, description: str):
        super().__init__(description)
        self.request, self.error, self.description = request, error, description


@dataclass
class AuthorizationRequest:
    """A validated authorization request: what the login, consent and response need."""

    client_id: str
    redirect_uri: str
    state: str | None = None
    #: `code`, or an implicit one, its values in a fixed order (`id_token token`).
    response_type: str = "code"
    response_mode: str = "query"
    scope: str = ""
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: list[str] = field(default_factory=list)
    max_age: int | None = None
    login_hint: str = ""
    id_token_hint: str | None = None
    #: Once the user has signed in during this request: that login session's id.
    login_sid: str | None = None

    @property
    def scopes(self) -> list[str]:
        """The requested scopes as a list."""
        return self.scope.split()

    def fail(self, error: str, description: str) -> RedirectError:
        """An error for the client, by its redirect URI."""
        return RedirectError(self, error, description)


def _one(params: MultiDict, name: str) -> str | None:
    """The parameter's value; empty counts as absent (OpenID Connect Core §3.1.2.1 treats it so)."""
    value = params.get(name)
    return value if value else None


def read_request(params: MultiDict) -> tuple[AuthorizationRequest, Client]:
    """Validate an authorization request: PageError or RedirectError, else the request and its client."""
    db = get_db()
    for name in ("client_id", "redirect_uri"):
        if len(params.getlist(name)) > 1:
            raise PageError(f"The request names more than one {name} (RFC 6749 section 3.1).")
    client_id = _one(params, "client_id")
    if client_id is None:
        raise PageError("The request has no client_id, so it cannot be sent back to any application.")
    client = find_client(db, client_id)
    if client is None:
        raise PageError(f"There is no client {client_id!r} on this server.")
    redirect_uri = _one(params, "redirect_uri")
    if redirect_uri is None:
        raise PageError(
            f"The request of {client_id!r} has no redirect_uri: this server needs it in every request "
            "(OpenID Connect Core section 3.1.2.1), to match it against the registered ones."
        )
    if not client.check_redirect_uri(redirect_uri):
        raise PageError(
            f"The redirect_uri {redirect_uri!r} is not registered for {client_id!r}. It must equal a "
            "registered one exactly (RFC 6749 section 3.1.2.3), so the answer is not sent there."
        )

    # From here on, errors go back to the client.
    state = params.get("state") or None
    request = AuthorizationRequest(client_id=client_id, redirect_uri=redirect_uri, state=state)
    # OAuth 2.0 Multiple Response Type Encoding Practices §5 and RFC 6749 §4.2.2: a response with
    # tokens is never in the query, so its default is the fragment, its errors too.
    response_type = " ".join(sorted(set((_one(params, "response_type") or "").split()))) or None
    with_tokens = bool({"token", "id_token"} & set((response_type or "").split()))
    request.response_mode = "fragment" if with_tokens else "query"
    response_mode = _one(params, "response_mode") or request.response_mode
    if response_mode not in RESPONSE_MODES or len(params.getlist("response_mode")) > 1:
        raise request.fail("invalid_request", f"response_mode must be one of {', '.join(RESPONSE_MODES)}.")
    if with_tokens and response_mode == "query":
        raise request.fail(
            "invalid_request",
            "Tokens are never sent in the query (OAuth 2.0 Multiple Response Types section 5): "
            "use response_mode fragment or form_post.",
        )
    if response_mode == "form_post" and urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise request.fail("invalid_request", "form_post needs an http or https redirect_uri.")
    request.response_mode = response_mode
    repeated = [name for name in SINGLE if len(params.getlist(name)) > 1]
    if repeated:
        raise request.fail("invalid_request", f"Parameters sent more than once: {', '.join(repeated)}.")
    if any("\x00" in v for _, v in params.items(multi=True)):
        raise request.fail("invalid_request", "Parameters must not contain NUL characters.")

    if response_type is None:
        raise request.fail("invalid_request", "The response_type parameter is required.")
    if response_type not in RESPONSE_TYPES:
        raise request.fail(
            "unsupported_response_type", f"The response types here are: {', '.join(RESPONSE_TYPES)}."
        )
    if not client.check_response_type(response_type):
        grant = "authorization code" if response_type == "code" else "implicit"
        raise request.fail("unauthorized_client", f"The client is not registered for the {grant} grant.")
    request.response_type = response_type
    # OpenID Connect Core §6: request objects are not supported here.
    if "request" in params:
        raise request.fail("request_not_supported", "Request objects are not supported.")
    if "request_uri" in params:
        raise request.fail("request_uri_not_supported", "request_uri is not supported.")

    scope = _one(params, "scope")
    if scope is None:
        # RFC 6749 §3.3 lets the server fail instead of guessing: a default would
        # silently turn a plain OAuth request into an OpenID Connect one.
        raise request.fail("invalid_scope", "Name the scopes to ask for (e.g. openid profile).")
    requested = list(dict.fromkeys(scope.split()))
    if not all(SCOPE_TOKEN.fullmatch(s) for s in requested):
        raise request.fail("invalid_scope", "The scope has characters RFC 6749 section 3.3 does not allow.")
    unknown = [s for s in requested if s not in client.scopes]
    if unknown:
        raise request.fail("invalid_scope", f"The client may not request: {' '.join(unknown)}.")
    request.scope = " ".join(requested)
    if "id_token" in response_type.split() and "openid" not in requested:
        raise request.fail("invalid_scope", f"response_type={response_type} needs the openid scope.")

    # RFC 7636 §4.3, §4.4.1: PKCE; required for public clients and clients registered to need it.
    # Only a code has a verifier to check it against (an implicit request's challenge is ignored).
    challenge, method = _one(params, "code_challenge"), _one(params, "code_challenge_method")
    if response_type != "code":
        challenge = method = None
    elif method and not challenge:
        raise request.fail("invalid_request", "code_challenge_method without a code_challenge.")
    if challenge:
        method = method or "plain"  # RFC 7636 §4.3: "defaults to plain if not present"
        if method not in CODE_CHALLENGE_METHODS:
            raise request.fail("invalid_request", "code_challenge_method must be S256 or plain.")
        if not CODE_CHALLENGE_PATTERN.fullmatch(challenge):
            raise request.fail(
                "invalid_request",
                "code_challenge must be 43 to 128 unreserved characters (RFC 7636 section 4.2).",
            )
        request.code_challenge, request.code_challenge_method = challenge, method
    elif response_type == "code" and (client.public or client.require_pkce):
        raise request.fail(
            "invalid_request", "This client must send a code_challenge (PKCE, RFC 7636 section 4.4.1)."
        )

    prompt = (params.get("prompt") or "").split()
    if any(p not in PROMPTS for p in prompt):
        raise request.fail("invalid_request", f"prompt values are {', '.join(PROMPTS)}.")
    if "none" in prompt and len(prompt) > 1:
        raise request.fail("invalid_request", "prompt=none cannot be combined with other values.")
    request.prompt = prompt
    max_age = _one(params, "max_age")
    if max_age is not None:
        if not MAX_AGE.fullmatch(max_age):  # not str.isdigit(): "²" and "٣" are digits to it
            raise request.fail(
                "invalid_request",
                "max_age is a number of seconds in the digits 0-9 (OpenID Connect Core section 3.1.2.1).",
            )
        request.max_age = int(max_age)
    request.nonce = _one(params, "nonce")
    if request.nonce and len(request.nonce) > 512:
        raise request.fail("invalid_request", "The nonce is longer than 512 characters.")
    if "id_token" in response_type.split() and not request.nonce:
        # OpenID Connect Core §3.2.2.1: an ID token in the front channel must be bound to the request.
        raise request.fail("invalid_request", "A nonce is required with an ID token in the response.")
    request.login_hint = (params.get("login_hint") or "")[:255]
    hint = _one(params, "id_token_hint")
    if hint:
        request.id_token_hint = hint
        if id_token_hint_subject(hint) is None:
            raise request.fail("invalid_request", "id_token_hint is not an ID token issued by this server.")
    return request, client


def id_token_hint_subject(value: str) -> str | None:
    """The `sub` of an ID token this server signed, expired or not (a hint, not a credential)."""
    claims = verify_id_token(value)
    return claims["sub"] if claims else None


# -- the request across the login and consent pages ------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="authorization-request")


def seal(request: AuthorizationRequest) -> str:
    """The request as a signed form field, so the login and consent steps cannot alter it."""
    return _serializer().dumps(asdict(request))


def unseal(value: str) -> AuthorizationRequest:
    """The request a form carried; PageError if it was altered or is too old."""
    try:
        data = _serializer().loads(value, max_age=PENDING_LIFETIME)
    except SignatureExpired:
        raise PageError(
            "This sign-in page has expired. Go back to the application and start again."
        ) from None
    except BadSignature:
        raise PageError("This form was altered or does not come from this server.") from None
    return AuthorizationRequest(**data)


def revalidate(request: AuthorizationRequest) -> tuple[AuthorizationRequest, Client]:
    """Check a carried request again: its client may have changed since the first page."""
    params = MultiDict(
        {
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "response_type": request.response_type,
            "response_mode": request.response_mode,
            "scope": request.scope,
            "prompt": " ".join(request.prompt),
        }
    )
    for name in ("state", "nonce", "code_challenge", "code_challenge_method", "id_token_hint"):
        if getattr(request, name):
            params[name] = getattr(request, name)
    if request.max_age is not None:
        params["max_age"] = str(request.max_age)
    if request.login_hint:
        params["login_hint"] = request.login_hint
    checked, client = read_request(params)
    checked.login_sid = request.login_sid
    return checked, client


# -- decisions ------------------------------------------------------------------


def needs_login(request: AuthorizationRequest, login: dict | None, hint_sub: str | None) -> bool:
    """Must the user sign in (again) for this request? OpenID Connect Core §3.1.2.1.

    A sign-in during this very request satisfies prompt=login, max_age and
    select_account; otherwise max_age counts from the session's auth_time
    (max_age=0 is prompt=login), and an id_token_hint for someone else asks again.
    """
    if login is None:
        return True
    if request.login_sid is not None and request.login_sid == login["sid"]:
        return False
    if "login" in request.prompt or "select_account" in request.prompt:
        return True
    if request.max_age is not None and (request.max_age == 0 or now() - login["auth_time"] > request.max_age):
        return True
    return hint_sub is not None and hint_sub != login["sub"]


def consented(user_id: int, request: AuthorizationRequest) -> bool:
    """Has the user allowed this client every scope asked for, and not asked to be asked again?"""
    if "consent" in request.prompt:
        return False
    consent = get_db().query(Consent).filter_by(user_id=user_id, client_id=request.client_id).one_or_none()
    return consent is not None and set(request.scopes) <= set(consent.scope.split())


def remember_consent(user_id: int, request: AuthorizationRequest) -> None:
    """Keep what the user allowed (adding to what they allowed before), so prompt=none can work later."""
    db = get_db()
    consent = db.query(Consent).filter_by(user_id=user_id, client_id=request.client_id).one_or_none()
    if consent is None:
        consent = Consent(user_id=user_id, client_id=request.client_id, scope="")
        db.add(consent)
    consent.scope = " ".join(dict.fromkeys(consent.scope.split() + request.scopes))
    consent.granted_at = now()
    db.commit()


def issue_code(request: AuthorizationRequest, user_id: int, auth_time: int) -> str:
    """A new authorization code, stored by its hash with everything it is bound to.

    It starts a token family: whatever is issued from it can be revoked as one
    (RFC 6749 §4.1.2 when the code is used twice).
    """
    db = get_db()
    code = secrets.token_urlsafe(32)
    family_id = start_family(db, request.client_id, user_id)
    db.add(
        AuthorizationCode(
            code_hash=hash_token(code),
            client_id=request.client_id,
            user_id=user_id,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            auth_time=auth_time,
            expires_at=int(time.time()) + int(current_app.config["AUTHORIZATION_CODE_LIFETIME"]),
            family_id=family_id,
            issuer=issuer(),
        )
    )
    db.commit()
    return code


def issue_implicit(request: AuthorizationRequest, client: Client, user: User, auth_time: int) -> list:
    """The implicit grant's answer (RFC 6749 §4.2.2, OpenID Connect Core §3.2.2.5): the tokens themselves.

    An access token for `token`, an ID token for `id_token` (with `nonce`, and `at_hash`
    when an access token comes with it, Core §3.2.2.10). Never a refresh token (RFC 6749
    §4.2.2). They start a family, so that they can be revoked as one grant.
    """
    db = get_db()
    family_id = start_family(db, client.client_id, user.id)
    types = request.response_type.split()
    values: list[tuple[str, str]] = []
    access_token = None
    if "token" in types:
        body = issue_token(client, request.scope, [client.client_id], user, family_id, commit=False)
        access_token = body["access_token"]
        values += [("access_token", access_token), ("token_type", body["token_type"])]
        values += [("expires_in", str(body["expires_in"])), ("scope", request.scope)]
    if "id_token" in types:
        id_token = make_id_token(
            client, user, request.scope, auth_time, nonce=request.nonce, access_token=access_token
        )
        values.append(("id_token", id_token))
    db.commit()
    return values


# -- the response -----------------------------------------------------------------


def response_parameters(
    request: AuthorizationRequest, values: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """What goes back: the values, `state` as received (RFC 6749 §4.1.2), and `iss` (RFC 9207 §2)."""
    params = list(values)
    if request.state is not None:
        params.append(("state", request.state))
    params.append(("iss", issuer()))
    return params


def redirect_location(redirect_uri: str, params: list[tuple[str, str]], mode: str) -> str:
    """The redirect URI with the parameters in its query (keeping its own, RFC 6749 §3.1.2) or fragment."""
    parts = urlsplit(redirect_uri)
    encoded = urlencode(params)
    if mode == "fragment":
        return urlunsplit(parts._replace(fragment=encoded))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return urlunsplit(parts._replace(query=query))


def target_origin(uri: str) -> str:
    """A CSP source for where the answer goes: its origin, or `scheme:` for a custom scheme.

    Only the origin (no path), so nothing from a registered URI can break the header's syntax.
    """
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.hostname:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"
    return f"{parts.scheme}:"
