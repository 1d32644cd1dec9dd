"""The playground's pages. Thin: form -> client call -> Exchange -> page."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import client, results
from .forms import FlowForm
from .outbound import Outbound, OutboundError, Policy

bp = Blueprint("playground", __name__)
csrf = CSRFProtect()

FORM_PAGE = "playground.oauth2"


def outbound() -> Outbound:
    """The app's outbound policy (one pooled session per app)."""
    return current_app.extensions["playground"]["outbound"]


def defaults() -> dict[str, str]:
    """Pre-filled values: endpoints, and the demo client under `playground demo`."""
    config = current_app.config
    return {
        "token_endpoint": config["TOKEN_ENDPOINT"],
        "introspection_endpoint": config["INTROSPECTION_ENDPOINT"],
        "client_id": config["CLIENT_ID"],
        "client_secret": config["CLIENT_SECRET"],
    }


def skip_tls_verification(form: FlowForm) -> bool:
    """The person ticked Skip TLS verification, and this instance allows it."""
    return bool(current_app.config["ALLOW_INSECURE_TLS"] and form.insecure_tls.data)


def credentials(form: FlowForm) -> client.Credentials:
    """The client's credentials as the form gives them (secrets are not trimmed)."""
    return client.Credentials(form.value("client_id"), form.client_secret.data or "", form.client_auth.data)


def call(send: Callable[[], results.Outcome]) -> results.Outcome:
    """Run a client call; a transport failure becomes an Outcome with a problem."""
    try:
        return send()
    except OutboundError as err:
        return results.Outcome(err.exchange, problem=results.explain_transport(err))


def page(template: str, form: FlowForm, status: int = 200, **context):
    """Render a page of the flow; pages may hold tokens and secrets, so no-store."""
    return (
        render_template(
            template,
            form=form,
            now=time.time(),
            results=results,
            insecure=skip_tls_verification(form),
            allow_insecure=current_app.config["ALLOW_INSECURE_TLS"],
            **context,
        ),
        status,
    )


@bp.before_request
def only_web_forms():
    """The pages take application/x-www-form-urlencoded only: no file uploads into text fields."""
    if request.method == "POST" and request.mimetype != "application/x-www-form-urlencoded":
        abort(415)


@bp.get("/")
def index():
    """The walkthrough starts at WSO2's playground path."""
    return redirect(url_for(FORM_PAGE))


@bp.route("/playground2/oauth2.jsp", methods=["GET", "POST"])
def oauth2():
    """Step 1-2: the form; Authorize sends the token request (RFC 6749 §4.4.2)."""
    if request.method == "GET":
        return page("oauth2.html", FlowForm(data=defaults()))
    form = FlowForm()
    form.validate()  # each step then looks at the errors of its own fields
    if form.start_over.data:
        # Start over keeps the values, drops the results (and never puts the secret in a URL).
        return page("oauth2.html", form)
    if not form.check_token_step():
        return page("oauth2.html", form, 400)
    outcome = call(
        lambda: results.read_token_response(
            client.request_token(
                outbound(),
                form.value("token_endpoint"),
                credentials(form),
                scope=form.value("scope"),
                resource=form.value("resource"),
                audience=form.value("audience"),
                insecure=skip_tls_verification(form),
            )
        )
    )
    if outcome.data:
        form.access_token.data = outcome.data["access_token"]
        form.obtained.data = "1"
        if not form.introspection_endpoint.data:
            form.introspection_endpoint.data = current_app.config["INTROSPECTION_ENDPOINT"]
    return page("oauth2.html", form, token=outcome)


@bp.post("/playground2/tokeninfo")
def tokeninfo():
    """Step 3-4: Get TokenInfo sends the introspection request (RFC 7662 §2.1)."""
    form = FlowForm()
    form.validate()
    if not form.check_introspection_step():
        return page("oauth2.html", form, 400, introspection_invalid=True)
    auth = client.IntrospectionAuth(
        kind=form.introspection_auth.data,
        username=form.value("introspection_username"),
        password=form.introspection_password.data or "",
        bearer=form.value("introspection_bearer"),
    )
    outcome = call(
        lambda: results.read_introspection_response(
            client.introspect(
                outbound(),
                form.value("introspection_endpoint"),
                form.value("access_token"),
                auth,
                credentials(form),
                insecure=skip_tls_verification(form),
            )
        )
    )
    return page("tokeninfo.html", form, info=outcome)


def show(value) -> str:
    """A JSON value for a table cell: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def expired_form(error: CSRFError):
    """A friendly page when the form's CSRF token is missing or stale."""
    return render_template("error.html", title="This form has expired", error=error), 400


def init_app(app: Flask) -> None:
    """Register the pages, CSRF protection and the outbound policy."""
    allowed = app.config["ALLOWED_HOSTS"]
    if isinstance(allowed, str):
        allowed = allowed.replace(",", " ").split()
    policy = Policy(
        timeout=float(app.config["TIMEOUT"]),
        max_response_bytes=int(app.config["MAX_RESPONSE_BYTES"]),
        ca_bundle=app.config["CA_BUNDLE"] or None,
        allowed_hosts=tuple(allowed),
        block_private_networks=app.config["BLOCK_PRIVATE_NETWORKS"],
        allow_insecure_tls=app.config["ALLOW_INSECURE_TLS"],
    )
    # RESOLVER: tests may give a resolver to play DNS answers (e.g. rebinding) without DNS.
    resolver = app.config.get("RESOLVER") or socket.getaddrinfo
    try:
        outbound_policy = Outbound(policy, resolver)
    except ValueError as exc:  # an unreadable CA bundle
        from . import ConfigError

        raise ConfigError(f"PLAYGROUND_CA_BUNDLE: {exc}") from None
    app.extensions["playground"] = {"outbound": outbound_policy}
    csrf.init_app(app)
    app.register_error_handler(CSRFError, expired_form)
    app.add_template_filter(show)
    app.register_blueprint(bp)
