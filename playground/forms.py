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

from .client import CLIENT_AUTH_METHODS, INTROSPECTION_AUTH
from .outbound import check_url

#: Only grants the playground can complete are listed.
GRANT_TYPES = {"client_credentials": "Client Credentials"}
SHORT, LONG, URL = 512, 4096, 2048
#: Large JWTs (many claims, x5c chains) stay well under this.
TOKEN = 65536
#: Each of the two transcript copies; both travel in every POST, URL-encoded (up to
#: three bytes a character), and must stay well inside MAX_CONTENT_LENGTH.
TRANSCRIPT = 120_000
#: RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
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
REVOCATION_STEP = (
    "client_id",
    "client_secret",
    "client_auth",
    "access_token",
    "revocation_endpoint",
    "insecure_tls",
)
INTROSPECTION_STEP = (
    "client_id",
    "client_secret",
    "client_auth",
    "access_token",
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
        "Authorization Grant Type", choices=choices(GRANT_TYPES), default="client_credentials"
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

    # Issue-5 fields: where the server is, and what to check tokens against.
    server = SelectField("Server", choices=[], validate_choice=False)
    discovery_url = StringField("Issuer or discovery URL", bounded(URL))
    issuer = StringField("Issuer", bounded(URL))
    revocation_endpoint = StringField("Revocation Endpoint", bounded(URL))
    jwks_uri = StringField("JWKS URI", bounded(URL))

    access_token = TextAreaField("Access Token", bounded(TOKEN))
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

    def check_token_step(self) -> bool:
        """What Authorize needs."""
        ok = self.step_ok(TOKEN_STEP)
        ok = self.require("client_id", "client_secret") and ok
        return self.require_url("token_endpoint") and ok

    def check_introspection_step(self) -> bool:
        """What Get TokenInfo needs."""
        ok = self.step_ok(INTROSPECTION_STEP)
        ok = self.require("access_token") and ok
        ok = self.require_url("introspection_endpoint") and ok
        kind = self.introspection_auth.data
        if kind == "client":
            ok = self.require("client_id", "client_secret") and ok
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
        ok = self.require("access_token", "client_id", "client_secret") and ok
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
