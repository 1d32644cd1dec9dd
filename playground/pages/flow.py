"""The client credentials walkthrough and the steps every grant shares: the form, Discover, Get
TokenInfo, Revoke and the transcript. Thin: form -> client call -> Exchange -> page."""

from __future__ import annotations

import time

from flask import Response, current_app, redirect, request, url_for

from .. import client, discovery, results
from . import code, device
from .common import (
    FORM_PAGE,
    bp,
    call,
    credentials,
    defaults,
    new_form,
    outbound,
    page,
    record,
    saved_servers,
    skip_tls_verification,
    token_view,
)


@bp.get("/")
def index():
    """The walkthrough starts at WSO2's playground path."""
    return redirect(url_for(FORM_PAGE))


@bp.route("/playground2/oauth2.jsp", methods=["GET", "POST"])
def oauth2():
    """Step 1-2: the form; Authorize sends the token request (RFC 6749 §4.4.2)."""
    if request.method in ("GET", "HEAD"):  # HEAD: load balancers' health checks
        return page("oauth2.html", new_form(data=defaults()), fresh=True)
    form = new_form()
    form.validate()  # each step then looks at the errors of its own fields
    if form.use_server.data:
        chosen = next((s for s in saved_servers() if s.name == form.server.data), None)
        for name, value in (chosen.fills() if chosen else {}).items():
            form[name].data = value
        return page("oauth2.html", form)
    if form.start_over.data:
        # Start over keeps the values, drops the results and the tokens (and never puts the secret in a URL).
        for name in code.FLOW_RESULTS:
            form[name].data = ""
        return page("oauth2.html", form)
    if form.exchange.data:  # from a tokens page: the form, set for Token Exchange, the tokens kept
        form.grant_type.data = "token_exchange"
        return page("oauth2.html", form)
    if form.grant_type.data in ("authorization_code", "implicit"):
        return code.authorize(form)
    if form.grant_type.data == "device_code":
        return device.start(form)
    if form.grant_type.data in code.DIRECT_TITLES:
        return code.direct_grant(form)
    if not form.check_token_step():
        return page("oauth2.html", form, 400)
    outcome = call(
        lambda: results.read_token_response(
            client.request_token(
                outbound(form),
                form.value("token_endpoint"),
                credentials(form),
                scope=form.value("scope"),
                resource=form.value("resource"),
                audience=form.value("audience"),
                insecure=skip_tls_verification(form),
            )
        )
    )
    view, jwks = None, None
    if outcome.data:
        form.access_token.data = outcome.data["access_token"]
        form.obtained.data = "1"
    record(form, outcome.exchange, "Token request (client credentials, RFC 6749 §4.4)")
    if outcome.data:
        if not form.introspection_endpoint.data:
            form.introspection_endpoint.data = current_app.config["INTROSPECTION_ENDPOINT"]
        view, jwks = token_view(form, outcome.data["access_token"])
    return page("oauth2.html", form, token=outcome, view=view, jwks=jwks)


@bp.post("/playground2/discover")
def discover():
    """Fill the endpoints from the server's metadata (RFC 8414, OpenID Connect Discovery)."""
    form = new_form()
    form.validate()
    if not form.check_discovery_step():
        return page("oauth2.html", form, 400)
    found = discovery.discover(
        outbound(form), form.value("discovery_url"), insecure=skip_tls_verification(form)
    )
    for name, value in found.fills.items():
        form[name].data = value
    record(form, found.attempts[-1].exchange if found.attempts else None, "Discovery (RFC 8414)")
    return page("oauth2.html", form, discovered=found)


@bp.post("/playground2/revoke")
def revoke():
    """Revoke the token (RFC 7009 §2.1) with the same client authentication."""
    form = new_form()
    form.validate()
    if not form.check_revocation_step():
        return page("oauth2.html", form, 400)
    outcome = call(
        lambda: results.read_revocation_response(
            client.revoke(
                outbound(form),
                form.value("revocation_endpoint"),
                form.value(form.chosen_token_field()),
                credentials(form),
                token_type_hint=form.chosen_token_field(),
                insecure=skip_tls_verification(form),
            )
        )
    )
    record(form, outcome.exchange, "Revocation (RFC 7009)")
    return page("revoked.html", form, revoked=outcome)


@bp.post("/playground2/transcript")
def transcript():
    """The flow so far as a Markdown file: secrets masked, unless the person revealed them."""
    form = new_form()
    form.validate()
    reveal = form.reveal.data == "1"
    body = (form.transcript_revealed.data if reveal else form.transcript.data) or ""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    head = (
        f"# OAuth 2.0 Playground transcript\n\nWritten {stamp}. "
        + ("Secrets are included (they were revealed)." if reveal else "Secrets are masked.")
        + "\n\n"
    )
    if not body:
        body = "Nothing has been sent yet.\n"
    filename = time.strftime("oauth-playground-%Y%m%d-%H%M%S.md", time.gmtime())
    return Response(
        head + body,
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/playground2/tokeninfo")
def tokeninfo():
    """Step 3-4: Get TokenInfo sends the introspection request (RFC 7662 §2.1)."""
    form = new_form()
    form.validate()
    if not form.check_introspection_step():
        return page("oauth2.html", form, 400)
    auth = client.IntrospectionAuth(
        kind=form.introspection_auth.data,
        username=form.value("introspection_username"),
        password=form.introspection_password.data or "",
        bearer=form.value("introspection_bearer"),
    )
    outcome = call(
        lambda: results.read_introspection_response(
            client.introspect(
                outbound(form),
                form.value("introspection_endpoint"),
                form.value(form.chosen_token_field()),
                auth,
                credentials(form),
                token_type_hint=form.chosen_token_field(),
                insecure=skip_tls_verification(form),
            )
        )
    )
    record(form, outcome.exchange, "Introspection (RFC 7662)")
    view, jwks = token_view(form, form.value(form.chosen_token_field()))
    return page("tokeninfo.html", form, info=outcome, view=view, jwks=jwks)
