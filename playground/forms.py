"""The playground's one form: every step's fields travel in it, so no step keeps server-side state."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import PasswordInput

from .authorization import PKCE_METHODS, RESPONSE_MODES, parse_extra
from .client import CLIENT_AUTH_METHODS, INTROSPECTION_AUTH, SECRET_METHODS, TOKEN_TYPES
from .outbound import check_url

#: Only grants the playground can complete are listed; Authorization Code first, as in playground2.
GRANT_TYPES = {
    "authorization_code": "Authorization Code",
    "implicit": "Implicit",
    "client_credentials": "Client Credentials",
    "password": "Resource Owner",
    "device_code": "Device Authorization",
    "token_exchange": "Token Exchange",
}
#: The identifier of each grant in the server's metadata (grant_types_supported, RFC 8414 §2).
GRANT_IDENTIFIERS = {
    "authorization_code": "authorization_code",
    "implicit": "implicit",
    "client_credentials": "client_credentials",
    "password": "password",
    "device_code": "urn:ietf:params:oauth:grant-type:device_code",  # RFC 8628 §3.4
    "token_exchange": "urn:ietf:params:oauth:grant-type:token-exchange",  # RFC 8693 §2.1
}
#: The browser's trip to the authorization endpoint: the code grant and the implicit grant.
BROWSER_GRANTS = ("authorization_code", "implicit")
#: playground2's Implicit Response Type (OpenID Connect Core §3.2.2.1; `token` is RFC 6749 §4.2.1).
IMPLICIT_RESPONSE_TYPES = {
    "id_token token": "id_token token (an ID token and an access token)",
    "id_token": "id_token (only an ID token)",
    "token": "token (only an access token, plain OAuth 2.0)",
}
#: The grants whose token request the playground sends at once (no browser trip).
DIRECT_GRANTS = ("client_credentials", "password", "token_exchange")
#: Where Token Exchange's subject token comes from.
SUBJECT_SOURCES = {
    "access_token": "The current access token",
    "id_token": "The current ID token",
    "pasted": "Pasted below",
}
#: OpenID Connect Core §3.1.2.1 prompt values, as the select offers them ("" sends none).
PROMPTS = {
    "": "(not sent)",
    "none": "none: no page at the server; fail if the user must act",
    "login": "login: log in again",
    "consent": "consent: ask for consent again",
    "select_account": "select_account",
    "login consent": "login consent",
}
#: Which token Get TokenInfo and Revoke act on (RFC 7662 §2.1, RFC 7009 §2.1 token_type_hint).
TOKEN_CHOICES = {"access_token": "The access token", "refresh_token": "The refresh token"}
SHORT, LONG, URL = 512, 4096, 2048
#: Large JWTs (many claims, x5c chains) stay well under this.
TOKEN = 65536
#: Each of the two transcript copies; both travel in every POST, URL-encoded (up to
#: three bytes a character), and must stay well inside MAX_CONTENT_LENGTH.
TRANSCRIPT = 120_000
#: RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: max_age (OpenID Connect Core §3.1.2.1): ASCII digits; str.isdigit() also takes "²", which int() refuses.
SECONDS = re.compile(r"[0-9]{1,10}")
#: The fields each step reads; an error elsewhere does not hold a step up.
TOKEN_STEP = (
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "token_endpoint",
    "client_auth",
    "resource",
    "audience",
    "insecure_tls",
)
AUTHORIZATION_STEP = (
    "grant_type",
    "implicit_response_type",
    "client_id",
    "client_auth",
    "scope",
    "authorization_endpoint",
    "callback_url",
    "use_pkce",
    "pkce_method",
    "response_mode",
    "prompt",
    "max_age",
    "login_hint",
    "acr_values",
    "extra_params",
)
#: What the device authorization response gave, carried from poll to poll.
DEVICE_FIELDS = (
    "device_code",
    "user_code",
    "verification_uri",
    "verification_uri_complete",
    "device_expires_at",
    "poll_interval",
    "device_polls",
    "poll_stopped",
)
REVOCATION_STEP = (
    "client_id",
    "client_secret",
    "client_auth",
    "access_token",
    "refresh_token",
    "token_choice",
    "revocation_endpoint",
    "insecure_tls",
)
INTROSPECTION_STEP = (
    "client_id",
    "client_secret",
    "client_auth",
    "access_token",
    "refresh_token",
    "token_choice",
    "introspection_endpoint",
    "introspection_auth",
    "introspection_username",
    "introspection_password",
    "introspection_bearer",
    "insecure_tls",
)


def choices(options: dict[str, str]) -> list[SelectChoice]:
    """Select options from a value -> label mapping."""
    return [SelectChoice(value, label) for value, label in options.items()]


def bounded(limit: int) -> list:
    """Optional, and no longer than `limit` characters."""
    return [Optional(), Length(max=limit, message=f"At most {limit} characters.")]


class FlowForm(FlaskForm):
    """The token request, the introspection request, and the token in between."""

    grant_type = SelectField(
        "Authorization Grant Type", choices=choices(GRANT_TYPES), default="authorization_code"
    )
    client_id = StringField("Client ID", bounded(SHORT))
    # hide_value=False: the secret must survive from step to step in the POSTed form.
    client_secret = PasswordField("Client Secret", bounded(SHORT), widget=PasswordInput(hide_value=False))
    scope = StringField("Scope", bounded(LONG))
    token_endpoint = StringField("Access Token Endpoint", bounded(URL))
    client_auth = SelectField(
        "Client Authentication", choices=choices(CLIENT_AUTH_METHODS), default="client_secret_basic"
    )
    resource = StringField("Resource", bounded(URL))
    audience = StringField("Audience", bounded(SHORT))

    # The authorization code grant (RFC 6749 §4.1) and OpenID Connect, with playground2's labels.
    authorization_endpoint = StringField("Authorize Endpoint", bounded(URL))
    callback_url = StringField("Callback URL", bounded(URL))
    implicit_response_type = SelectField(
        "Implicit Response Type", choices=choices(IMPLICIT_RESPONSE_TYPES), default="id_token token"
    )
    use_pkce = BooleanField("Use PKCE", default=True)
    pkce_method = SelectField("PKCE Challenge Method", choices=choices(PKCE_METHODS), default="S256")
    response_mode = SelectField("Response Mode", choices=choices(RESPONSE_MODES), default="query")
    userinfo_endpoint = StringField("UserInfo Endpoint", bounded(URL))
    logout_endpoint = StringField("Logout Endpoint", bounded(URL))
    prompt = SelectField("prompt", choices=choices(PROMPTS), default="")
    max_age = StringField("max_age", bounded(10))
    login_hint = StringField("login_hint", bounded(SHORT))
    acr_values = StringField("acr_values", bounded(SHORT))
    extra_params = TextAreaField("Extra parameters", bounded(LONG))
    #: From the server's metadata (Discover): it sends RFC 9207's iss, and the ID token algorithms.
    iss_supported = HiddenField(validators=bounded(8))
    id_token_algs = HiddenField(validators=bounded(SHORT))

    # The resource owner password credentials grant (RFC 6749 §4.3), with playground2's labels. The
    # password is handled like the client secret: masked, never logged, in no URL or cookie.
    ro_username = StringField("Resource Owner User Name", bounded(SHORT))
    ro_password = PasswordField(
        "Resource Owner Password", bounded(SHORT), widget=PasswordInput(hide_value=False)
    )
    # Token Exchange (RFC 8693 §2.1).
    subject_source = SelectField("Subject Token", choices=choices(SUBJECT_SOURCES), default="access_token")
    subject_token = TextAreaField("Pasted Subject Token", bounded(TOKEN))
    subject_token_type = SelectField(
        "Subject Token Type",
        choices=choices(TOKEN_TYPES),
        default="urn:ietf:params:oauth:token-type:access_token",
    )
    actor_token = TextAreaField("Actor Token", bounded(TOKEN))
    actor_token_type = SelectField(
        "Actor Token Type",
        choices=choices(TOKEN_TYPES),
        default="urn:ietf:params:oauth:token-type:access_token",
    )
    requested_token_type = SelectField(
        "Requested Token Type",
        choices=choices({"": "(not sent: the server's default)", **TOKEN_TYPES}),
        default="",
    )

    # The device authorization grant (RFC 8628): the endpoint, then what its answer gave (§3.2),
    # carried by the device page's form from poll to poll. The device code is a credential: it
    # travels only in the POSTed form, masked on screen and in the transcript.
    device_authorization_endpoint = StringField("Device Authorization Endpoint", bounded(URL))
    device_code = HiddenField(validators=bounded(LONG))
    user_code = HiddenField(validators=bounded(SHORT))
    verification_uri = HiddenField(validators=bounded(URL))
    verification_uri_complete = HiddenField(validators=bounded(URL))
    device_expires_at = HiddenField(validators=bounded(16))  # Unix time, from expires_in
    poll_interval = HiddenField(validators=bounded(8))  # seconds (§3.5: slow_down adds 5)
    device_polls = HiddenField(validators=bounded(LONG))  # one line a poll, for the page's list
    poll_stopped = HiddenField(validators=bounded(8))
    #: From the server's metadata (Discover): its grant_types_supported, space-separated.
    grant_types_supported = HiddenField(validators=bounded(LONG))

    # Issue-5 fields: where the server is, and what to check tokens against.
    server = SelectField("Server", choices=[], validate_choice=False)
    discovery_url = StringField("Issuer or discovery URL", bounded(URL))
    issuer = StringField("Issuer", bounded(URL))
    revocation_endpoint = StringField("Revocation Endpoint", bounded(URL))
    jwks_uri = StringField("JWKS URI", bounded(URL))

    access_token = TextAreaField("Access Token", bounded(TOKEN))
    #: What the code flow obtained and sent, carried from step to step (masked on screen until revealed).
    refresh_token = HiddenField(validators=bounded(TOKEN))
    id_token = HiddenField(validators=bounded(TOKEN))
    original_id_token = HiddenField(validators=bounded(TOKEN))  # of the login, for refreshed ones (§12.2)
    nonce = HiddenField(validators=bounded(SHORT))
    code = HiddenField(validators=bounded(LONG))
    code_verifier = HiddenField(validators=bounded(SHORT))
    sent_max_age = HiddenField(validators=bounded(10))
    token_choice = SelectField("Token", choices=choices(TOKEN_CHOICES), default="access_token")
    introspection_endpoint = StringField("Introspection Endpoint", bounded(URL))
    introspection_auth = SelectField(
        "Authenticate with", choices=choices(INTROSPECTION_AUTH), default="client"
    )
    introspection_username = StringField("Username", bounded(SHORT))
    introspection_password = PasswordField("Password", bounded(SHORT), widget=PasswordInput(hide_value=False))
    introspection_bearer = PasswordField(
        "Bearer token", bounded(TOKEN), widget=PasswordInput(hide_value=False)
    )
    #: Offered only when PLAYGROUND_ALLOW_INSECURE_TLS=true; ignored otherwise.
    insecure_tls = BooleanField("Skip TLS verification (insecure)")
    #: Set when the playground obtained the token, so the pages can say so.
    obtained = HiddenField(validators=bounded(8))

    #: The flow so far as Markdown, twice: as shown (masked) and with secrets (for a revealed download).
    transcript = HiddenField(validators=bounded(TRANSCRIPT))
    transcript_revealed = HiddenField(validators=bounded(TRANSCRIPT))
    reveal = HiddenField(validators=bounded(8))

    authorize = SubmitField("Authorize")
    get_access_token = SubmitField("Get Access Token")
    get_userinfo = SubmitField("Get UserInfo")
    refresh = SubmitField("Refresh")
    exchange = SubmitField("Exchange this token")
    poll = SubmitField("Poll now")
    logout = SubmitField("Logout")
    discover = SubmitField("Discover")
    use_server = SubmitField("Use server")
    revoke = SubmitField("Revoke")
    download = SubmitField("Download transcript")
    get_tokeninfo = SubmitField("Get TokenInfo")
    start_over = SubmitField("Start over")

    def require(self, *names: str) -> bool:
        """Add 'required' errors to the named fields that are empty; True if none were."""
        ok = True
        for name in names:
            field = self[name]
            if not (field.data or "").strip():
                field.errors = [*field.errors, "Required."]
                ok = False
        return ok

    def require_url(self, name: str) -> bool:
        """The named field holds an http(s) URL we may call."""
        if not self.require(name):
            return False
        problem = check_url(self[name].data.strip())
        if problem:
            self[name].errors = [*self[name].errors, problem]
            return False
        return True

    def step_ok(self, names: tuple[str, ...]) -> bool:
        """No validation error in the fields a step reads."""
        return not any(self[name].errors for name in names)

    def require_secret(self) -> bool:
        """The client secret, when the chosen client authentication sends one."""
        if self.client_auth.data in SECRET_METHODS:
            return self.require("client_secret")
        return True

    def check_token_step(self) -> bool:
        """What Authorize needs for the client credentials grant."""
        ok = self.step_ok(TOKEN_STEP)
        ok = self.require("client_id") and ok
        if self.client_auth.data == "none":
            self.client_auth.errors = [
                "The client credentials grant is for confidential clients: choose how it authenticates "
                "(RFC 6749 §4.4.2)."
            ]
            ok = False
        ok = self.require_secret() and ok
        return self.require_url("token_endpoint") and ok

    def check_password_step(self) -> bool:
        """What Authorize needs for the resource owner grant (RFC 6749 §4.3.2)."""
        ok = self.step_ok(TOKEN_STEP + ("ro_username", "ro_password"))
        ok = self.require("client_id", "ro_username", "ro_password") and ok
        ok = self.require_secret() and ok
        return self.require_url("token_endpoint") and ok

    def subject_token_value(self) -> str:
        """Token Exchange's subject token: the current access or ID token, or the pasted one."""
        source = self.subject_source.data
        return self.value("subject_token" if source == "pasted" else source)

    def check_token_exchange_step(self) -> bool:
        """What Authorize needs for Token Exchange (RFC 8693 §2.1)."""
        ok = self.step_ok(
            TOKEN_STEP + ("subject_source", "subject_token", "subject_token_type", "actor_token")
        )
        ok = self.require("client_id") and ok
        if not self.subject_token_value():
            where = self.subject_source
            if where.data == "pasted":
                self.subject_token.errors = [*self.subject_token.errors, "Required: paste the subject token."]
            else:
                where.errors = [
                    f"There is no {where.data.replace('_', ' ')} yet: get one with another grant first, "
                    "or paste one (Pasted below)."
                ]
            ok = False
        ok = self.require_secret() and ok
        return self.require_url("token_endpoint") and ok

    def check_device_step(self) -> bool:
        """What Authorize needs for the device grant: the device authorization request (RFC 8628 §3.1)."""
        ok = self.step_ok(TOKEN_STEP + ("device_authorization_endpoint",))
        ok = self.require("client_id") and ok
        ok = self.require_secret() and ok
        ok = self.require_url("device_authorization_endpoint") and ok
        return self.require_url("token_endpoint") and ok

    def check_poll_step(self) -> bool:
        """What Poll now needs: the device code, and the grant's client authentication (RFC 8628 §3.4)."""
        ok = self.step_ok(TOKEN_STEP + DEVICE_FIELDS)
        ok = self.require("client_id", "device_code") and ok
        ok = self.require_secret() and ok
        return self.require_url("token_endpoint") and ok

    def check_authorization_step(self) -> bool:
        """What Authorize needs for the authorization code grant: the browser goes to the server."""
        ok = self.step_ok(AUTHORIZATION_STEP)
        ok = self.require("client_id") and ok
        ok = self.require_url("authorization_endpoint") and ok
        ok = self.require_url("callback_url") and ok
        needs_secret = self.client_auth.data in SECRET_METHODS and not (self.client_secret.data or "").strip()
        if self.grant_type.data == "authorization_code" and needs_secret:
            # Else the code would come back and only Get Access Token would fail (RFC 6749 §4.1.3).
            self.client_secret.errors = [
                f"{self.client_auth.data} sends the client secret with the code: enter it, or choose "
                "Client Authentication None for a public client."
            ]
            ok = False
        max_age = self.value("max_age")
        if max_age and not SECONDS.fullmatch(max_age):
            self.max_age.errors = [
                "A number of seconds (0 or more) in the digits 0-9: OpenID Connect Core §3.1.2.1."
            ]
            ok = False
        if self.grant_type.data == "implicit" and "id_token" in self.implicit_response_type.data.split():
            if "openid" not in self.value("scope").split():
                # OpenID Connect Core §3.2.2.1: an ID token is asked for with the openid scope.
                self.scope.errors = [
                    *self.scope.errors,
                    "An ID token needs openid in the scope (OIDC Core §3.2.2.1).",
                ]
                ok = False
        _pairs, problem = parse_extra(self.extra_params.data or "")
        if problem:
            self.extra_params.errors = [problem]
            ok = False
        return ok

    def check_code_step(self) -> bool:
        """What Get Access Token needs: the code and where to redeem it (RFC 6749 §4.1.3)."""
        ok = self.step_ok(TOKEN_STEP + ("code", "code_verifier", "callback_url"))
        ok = self.require("client_id", "code") and ok
        ok = self.require_secret() and ok
        return self.require_url("token_endpoint") and ok

    def check_refresh_step(self) -> bool:
        """What Refresh needs (RFC 6749 §6): the refresh token, and the grant's own client authentication."""
        ok = self.step_ok(TOKEN_STEP + ("refresh_token",))
        ok = self.require("client_id", "refresh_token") and ok
        ok = self.require_secret() and ok
        return self.require_url("token_endpoint") and ok

    def check_userinfo_step(self) -> bool:
        """What Get UserInfo needs (OpenID Connect Core §5.3)."""
        ok = self.step_ok(("access_token", "userinfo_endpoint", "insecure_tls"))
        ok = self.require("access_token") and ok
        if not self.value("userinfo_endpoint"):
            self.userinfo_endpoint.errors = [
                "No UserInfo endpoint: the server's metadata names none. Enter it in the form if it has one."
            ]
            return False
        return self.require_url("userinfo_endpoint") and ok

    def check_logout_step(self) -> bool:
        """What Logout needs (OpenID Connect RP-Initiated Logout 1.0 §2)."""
        ok = self.step_ok(("logout_endpoint", "callback_url", "id_token"))
        if not self.value("logout_endpoint"):
            self.logout_endpoint.errors = [
                "No logout endpoint: the server's metadata names no end_session_endpoint. Enter it if it "
                "has one."
            ]
            return False
        return self.require_url("logout_endpoint") and ok

    def check_introspection_step(self) -> bool:
        """What Get TokenInfo needs."""
        ok = self.step_ok(INTROSPECTION_STEP)
        ok = self.require(self.chosen_token_field()) and ok
        ok = self.require_url("introspection_endpoint") and ok
        kind = self.introspection_auth.data
        if kind == "client":
            ok = self.require("client_id") and self.require_secret() and ok
        elif kind == "basic":
            ok = self.require("introspection_username", "introspection_password") and ok
        elif kind == "bearer":
            ok = self.require("introspection_bearer") and ok
            if ok and not B64TOKEN.fullmatch(self.value("introspection_bearer")):
                self.introspection_bearer.errors = [
                    "A Bearer token has only letters, digits and - . _ ~ + / (then = signs): RFC 6750 §2.1."
                ]
                ok = False
        return ok

    def check_revocation_step(self) -> bool:
        """What Revoke needs: the token, the endpoint, and the client's credentials (RFC 7009 §2.1)."""
        ok = self.step_ok(REVOCATION_STEP)
        ok = self.require(self.chosen_token_field(), "client_id") and self.require_secret() and ok
        if not self.value("revocation_endpoint"):
            self.revocation_endpoint.errors = [
                "No revocation endpoint: the server's metadata names none, so it may not support "
                "revocation (RFC 7009). Enter it under Issuer, revocation and JWKS if it does."
            ]
            return False
        return self.require_url("revocation_endpoint") and ok

    def check_discovery_step(self) -> bool:
        """What Discover needs."""
        return self.require_url("discovery_url")

    def value(self, name: str) -> str:
        """A field's value with surrounding white space removed."""
        return (self[name].data or "").strip()

    def chosen_token_field(self) -> str:
        """The field holding the token Get TokenInfo and Revoke act on."""
        if self.token_choice.data == "refresh_token" and self.value("refresh_token"):
            return "refresh_token"
        return "access_token"
