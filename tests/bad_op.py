"""A small real OpenID provider that gets one thing wrong on purpose, for tests.

    with bad_op() as op:                  # or the `bad_op_server` fixture of conftest.py
        op.set("wrong_nonce")             # the next tokens carry that one defect
        requests.get(op.authorization_endpoint, params=..., allow_redirects=False)
        requests.post(op.token_endpoint, data=...)

It serves discovery, /authorize, /token, /jwks, /userinfo and /logout on 127.0.0.1 (port 0,
shut down afterwards) as a Flask app over real HTTP. There is no sign-in and no client check:
/authorize answers at once to the redirect_uri it is given (a fixture may trust it) and /token
records whatever client authentication came. DEFECTS is the one table of what each defect alters;
`op.set(defect=None, **options)` picks one (see OPTIONS) for every token issued after it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import json
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from authlib.oidc.core.util import create_half_hash
from flask import Flask, Response, jsonify, redirect, request
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey

from .servers import live_server

CLIENT_ID = "bad-op-client"
CLIENT_SECRET = "bad-op-client-secret-of-more-than-32-bytes"  # HS256 needs 32 octets (OIDC Core §16.19)
OTHER_CLIENT = "another-client"
SUB, OTHER_SUB = "user-0001", "someone-else"
ID_TOKEN_LIFETIME = 600
SIGNING_ALGS = ["RS256", "ES256", "EdDSA", "HS256"]
RESPONSE_TYPES = ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"]
#: What op.set() takes besides the defect.
OPTIONS = {
    "alg": "the ID token's alg: RS256 (default), ES256, EdDSA or HS256 (MACed with CLIENT_SECRET)",
    "azp": "True: add azp (the client_id)",
    "c_hash": "True: add c_hash to ID tokens of the token endpoint too",
    "claims": "a dict of claims to set on every ID token, after the defect (e.g. a changed sub on refresh)",
}
DROP = object()  # in a Defect's claims or response: remove that member


@dataclass(frozen=True)
class Defect:
    """One thing wrong. A value in `claims`, `header` or `response` may be a function of the Draft."""

    what: str
    claims: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    sign: str = "good"  # good | impostor | rotated | none | public-pem
    response: dict[str, Any] = field(default_factory=dict)  # the authorization response's parameters
    userinfo: dict[str, Any] = field(default_factory=dict)


@dataclass
class Draft:
    """An ID token (or an authorization response) about to be sent."""

    values: dict[str, Any]
    now: int
    alg: str = "RS256"


def _hash_of(value: str) -> Callable[[Draft], str]:
    """at_hash / c_hash of another value, by the alg of the token being made."""
    return lambda d: create_half_hash(value, d.alg).decode("ascii")


#: The one table: each defect and what it alters. Every other claim stays as a good token has it.
DEFECTS: dict[str, Defect] = {
    "bad_signature": Defect("signed with another key under the JWKS key's kid", sign="impostor"),
    "unknown_kid": Defect("a kid the JWKS never has", header={"kid": "no-such-kid"}),
    "rotated_kid": Defect(
        "signed with a new key the JWKS publishes from its second fetch on (key rotation)",
        header={"kid": "rsa-2"},
        sign="rotated",
    ),
    "alg_none": Defect(
        "unsigned: alg none, empty signature", header={"alg": "none", "kid": DROP}, sign="none"
    ),
    "hs256_public_key": Defect(
        "alg HS256, MACed with the PEM of the JWKS's RSA public key (algorithm confusion)",
        header={"alg": "HS256"},
        sign="public-pem",
    ),
    "wrong_iss": Defect("iss of another issuer", claims={"iss": "https://issuer.invalid"}),
    "wrong_aud": Defect("aud of another client", claims={"aud": OTHER_CLIENT}),
    "several_aud_no_azp": Defect(
        "aud with the client and another, no azp",
        claims={"aud": lambda d: [d.values["aud"], OTHER_CLIENT], "azp": DROP},
    ),
    "azp_other": Defect("azp of another client", claims={"azp": OTHER_CLIENT}),
    "expired": Defect(
        "expired two minutes ago",
        claims={
            "exp": lambda d: d.now - 120,
            "iat": lambda d: d.now - 120 - ID_TOKEN_LIFETIME,
            "auth_time": lambda d: d.now - 120 - ID_TOKEN_LIFETIME,
        },
    ),
    "iat_future": Defect(
        "issued ten minutes from now",
        claims={"iat": lambda d: d.now + 600, "exp": lambda d: d.now + 600 + ID_TOKEN_LIFETIME},
    ),
    "missing_nonce": Defect("no nonce", claims={"nonce": DROP}),
    "wrong_nonce": Defect("another nonce", claims={"nonce": lambda d: "not-" + str(d.values.get("nonce"))}),
    "wrong_at_hash": Defect("at_hash of another access token", claims={"at_hash": _hash_of("another-token")}),
    "missing_at_hash": Defect("no at_hash", claims={"at_hash": DROP}),
    "wrong_c_hash": Defect("c_hash of another code", claims={"c_hash": _hash_of("another-code")}),
    "missing_sub": Defect("no sub", claims={"sub": DROP}),
    "auth_time_too_old": Defect("signed in an hour ago", claims={"auth_time": lambda d: d.now - 3600}),
    "auth_time_missing": Defect("no auth_time", claims={"auth_time": DROP}),
    "userinfo_other_sub": Defect("UserInfo answers for another user", userinfo={"sub": OTHER_SUB}),
    "wrong_state": Defect("the authorization response's state changed", response={"state": "not-the-state"}),
    "missing_state": Defect("no state in the authorization response", response={"state": DROP}),
    "wrong_iss_param": Defect(
        "the authorization response's iss (RFC 9207) of another issuer",
        response={"iss": "https://issuer.invalid"},
    ),
    "missing_iss_param": Defect("no iss in the authorization response (RFC 9207)", response={"iss": DROP}),
}


def _alter(values: dict[str, Any], changes: dict[str, Any], now: int, alg: str = "RS256") -> None:
    """Apply a Defect's changes to a header, claims or response, in place."""
    draft = Draft(values, now, alg)
    for name, change in changes.items():
        value = change(draft) if callable(change) else change
        if value is DROP:
            values.pop(name, None)
        else:
            values[name] = value


@functools.cache
def keys() -> dict[str, Any]:
    """The provider's keys (made once per test session: RSA keys take a while on a busy machine)."""
    sig = {"use": "sig"}
    return {
        "RS256": RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "alg": "RS256", **sig}, private=True),
        "ES256": ECKey.generate_key("P-256", parameters={"kid": "ec-1", "alg": "ES256", **sig}, private=True),
        "EdDSA": OKPKey.generate_key(
            "Ed25519", parameters={"kid": "ed-1", "alg": "EdDSA", **sig}, private=True
        ),
        "impostor": RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "alg": "RS256"}, private=True),
        "rotated": RSAKey.generate_key(
            2048, parameters={"kid": "rsa-2", "alg": "RS256", **sig}, private=True
        ),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(header: dict[str, Any], claims: dict[str, Any], how: str) -> str:
    """The compact JWS, signed as `how` says (see Defect.sign)."""
    if how in ("none", "public-pem"):
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        if how == "none":
            return signing_input + "."
        # The classic attack: the server's public key, as PEM text, used as an HMAC secret
        # (joserfc refuses to make this token, hence by hand).
        public_pem = keys()["RS256"].as_pem(private=False)
        return (
            signing_input + "." + _b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
        )
    alg = header["alg"]
    if alg == "HS256":
        key: Any = OctKey.import_key(CLIENT_SECRET.encode())
    else:
        key = keys()[{"good": alg, "impostor": "impostor", "rotated": "rotated"}[how]]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
        return jwt.encode(header, claims, key, algorithms=[alg])


@dataclass
class Seen:
    """One request the provider received."""

    method: str
    path: str
    args: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


class BadOP:
    """The running provider: its issuer (base URL), the defect of the moment, what it saw."""

    def __init__(self) -> None:
        self.issuer = ""
        self.defect: str | None = None
        self.options: dict[str, Any] = {}
        self.requests: list[Seen] = []
        self.jwks_fetches = 0  # since the last set()
        self._lock = threading.Lock()
        self._codes: dict[str, dict[str, Any]] = {}
        self._refresh_tokens: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, str] = {}  # access token -> sub

    def set(self, defect: str | None = None, **options: Any) -> None:
        """Choose the defect (a name of DEFECTS, or None: all good) and options for what comes next."""
        if defect is not None and defect not in DEFECTS:
            raise ValueError(f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
        if set(options) - set(OPTIONS):
            raise ValueError(f"unknown options {sorted(set(options) - set(OPTIONS))}; known: {list(OPTIONS)}")
        self.defect, self.options, self.jwks_fetches = defect, options, 0

    @property
    def authorization_endpoint(self) -> str:
        return self.issuer + "/authorize"

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "/token"

    @property
    def jwks_uri(self) -> str:
        return self.issuer + "/jwks"

    @property
    def userinfo_endpoint(self) -> str:
        return self.issuer + "/userinfo"

    def current(self) -> Defect:
        """The defect of the moment (a no-op Defect when all is good)."""
        return DEFECTS[self.defect] if self.defect else Defect("none")

    def metadata(self) -> dict[str, Any]:
        """OpenID Connect Discovery 1.0 §3 / RFC 8414 §2."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": self.userinfo_endpoint,
            "jwks_uri": self.jwks_uri,
            "end_session_endpoint": self.issuer + "/logout",
            "response_types_supported": RESPONSE_TYPES,
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token", "implicit"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": SIGNING_ALGS,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "authorization_response_iss_parameter_supported": True,
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "email"],
        }

    def jwks(self) -> dict[str, Any]:
        """The public keys; with rotated_kid, the new key only from the second fetch on."""
        with self._lock:
            self.jwks_fetches += 1
            fetches = self.jwks_fetches
        names = ["RS256", "ES256", "EdDSA"]
        if self.defect == "rotated_kid" and fetches >= 2:
            names.append("rotated")
        return KeySet([keys()[n] for n in names]).as_dict(private=False)

    def id_token(
        self,
        client_id: str,
        nonce: str | None,
        auth_time: int,
        access_token: str | None = None,
        code: str | None = None,
    ) -> str:
        """An ID token as a good provider makes it (OIDC Core §2, §3.1.3.6), then the defect."""
        alg, now = self.options.get("alg", "RS256"), int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": SUB,
            "aud": client_id,
            "exp": now + ID_TOKEN_LIFETIME,
            "iat": now,
            "auth_time": auth_time,
            "name": "Alice Example",
        }
        if self.options.get("azp"):
            claims["azp"] = client_id
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["at_hash"] = create_half_hash(access_token, alg).decode("ascii")
        if code:
            claims["c_hash"] = create_half_hash(code, alg).decode("ascii")
        header: dict[str, Any] = {"alg": alg}
        if alg != "HS256":
            header["kid"] = keys()[alg].kid
        defect = self.current()
        _alter(header, defect.header, now, alg)
        _alter(claims, defect.claims, now, alg)
        claims.update(self.options.get("claims", {}))
        return _sign(header, claims, defect.sign)

    def new_access_token(self, sub: str) -> str:
        value = "at-" + secrets.token_urlsafe(16)
        with self._lock:
            self._access_tokens[value] = sub
        return value

    def new_refresh_token(self, grant: dict[str, Any]) -> str:
        value = "rt-" + secrets.token_urlsafe(16)
        with self._lock:
            self._refresh_tokens[value] = grant
        return value

    def new_code(self, grant: dict[str, Any]) -> str:
        value = "code-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[value] = grant
        return value

    def take_code(self, code: str) -> dict[str, Any] | None:
        with self._lock:
            return self._codes.pop(code, None)

    def refresh_grant(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            return self._refresh_tokens.pop(token, None)

    def user_of(self, access_token: str) -> str | None:
        with self._lock:
            return self._access_tokens.get(access_token)


def create_app(op: BadOP) -> Flask:
    """The provider's endpoints over `op`'s state."""
    app = Flask(__name__)

    @app.before_request
    def record() -> None:
        op.requests.append(
            Seen(request.method, request.path, dict(request.args), dict(request.form), dict(request.headers))
        )

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(op.metadata())

    @app.get("/jwks")
    def jwks():
        return jsonify(op.jwks())

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        params = request.values
        redirect_uri, client_id = params.get("redirect_uri"), params.get("client_id", CLIENT_ID)
        if not redirect_uri:
            return Response("redirect_uri is required here", 400, mimetype="text/plain")
        response_type = " ".join(sorted(params.get("response_type", "").split()))
        kinds = set(response_type.split())
        answer: dict[str, Any] = {}
        now = int(time.time())
        if response_type not in {" ".join(sorted(t.split())) for t in RESPONSE_TYPES}:
            answer["error"] = "unsupported_response_type"
        else:
            grant = {"client_id": client_id, "nonce": params.get("nonce"), "auth_time": now, "sub": SUB}
            code = op.new_code(grant) if "code" in kinds else None
            access = op.new_access_token(SUB) if "token" in kinds else None
            if code:
                answer["code"] = code
            if access:
                answer.update(access_token=access, token_type="Bearer", expires_in=3600)
            if "id_token" in kinds:  # implicit or hybrid: at_hash with a token, c_hash with a code
                answer["id_token"] = op.id_token(client_id, grant["nonce"], now, access, code)
        if "state" in params:
            answer["state"] = params["state"]
        answer["iss"] = op.issuer  # RFC 9207
        _alter(answer, op.current().response, now)
        mode = params.get("response_mode") or ("query" if kinds <= {"code"} else "fragment")
        if mode == "form_post":
            return _form_post(redirect_uri, answer)
        separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        return redirect(redirect_uri + separator + urlencode(answer), 302)

    @app.post("/token")
    def token():
        form = request.form
        client_id = (request.authorization.username if request.authorization else None) or form.get(
            "client_id"
        )
        if form.get("grant_type") == "authorization_code":
            grant = op.take_code(form.get("code", ""))
            hashed = op.options.get("c_hash") or op.defect == "wrong_c_hash"
            code = form.get("code") if hashed else None  # c_hash is optional here (OIDC Core §3.3.3.6)
        elif form.get("grant_type") == "refresh_token":
            grant = op.refresh_grant(form.get("refresh_token", ""))
            code = None
            if grant is not None:
                grant = {**grant, "nonce": None}  # OIDC Core §12.2: a refreshed ID token SHOULD NOT have one
        else:
            return _token_error("unsupported_grant_type")
        if grant is None:
            return _token_error("invalid_grant")
        access = op.new_access_token(grant["sub"])
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": op.new_refresh_token(grant),
            "id_token": op.id_token(
                client_id or grant["client_id"], grant["nonce"], grant["auth_time"], access, code
            ),
        }
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        header = request.headers.get("Authorization", "")
        sub = op.user_of(header[7:]) if header[:7].lower() == "bearer " else None
        if sub is None:
            response = jsonify(error="invalid_token")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        claims = {"sub": sub, "name": "Alice Example", "email": "alice@example.com"}
        _alter(claims, op.current().userinfo, int(time.time()))
        return jsonify(claims)

    @app.get("/logout")
    def logout():
        target = request.args.get("post_logout_redirect_uri")
        if target:
            state = request.args.get("state")
            return redirect(target + (("?" + urlencode({"state": state})) if state else ""), 302)
        return Response("You are logged out.", 200, mimetype="text/plain")

    return app


def _token_error(error: str) -> Response:
    response = jsonify(error=error)
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_post(redirect_uri: str, answer: dict[str, Any]) -> Response:
    """OAuth 2.0 Form Post Response Mode §2: a page whose form posts the answer to the client."""
    fields = "\n".join(
        f'    <input type="hidden" name="{escape(str(k))}" value="{escape(str(v))}">'
        for k, v in answer.items()
    )
    page = (
        "<!doctype html>\n<html><head><title>Submit this form</title></head>\n"
        '<body onload="document.forms[0].submit()">\n'
        f'  <form method="post" action="{escape(redirect_uri)}">\n{fields}\n'
        '    <button type="submit">Continue</button>\n  </form>\n</body></html>\n'
    )
    return Response(page, 200, mimetype="text/html")


@contextlib.contextmanager
def bad_op() -> Iterator[BadOP]:
    """The provider on 127.0.0.1 with a free port; shut down when the block ends."""
    op = BadOP()
    with live_server(create_app(op)) as url:
        op.issuer = url
        yield op
