"""What every page of the playground shares: the blueprint, CSRF, the outbound policy, the form and
its transcript, rendering. The routes are in the modules beside this one."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import replace

from flask import Blueprint, Flask, abort, current_app, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from wtforms import SelectChoice

from .. import client, results, servers, tokens
from ..exchange import Exchange
from ..forms import BROWSER_GRANTS, GRANT_IDENTIFIERS, GRANT_TYPES, TRANSCRIPT, FlowForm
from ..outbound import Outbound, OutboundError, Policy, parse_allowed_hosts

bp = Blueprint("playground", __name__)
csrf = CSRFProtect()

FORM_PAGE = "playground.oauth2"
#: The steps of each grant, as the pages' header shows them.
CLIENT_CREDENTIALS_STEPS = [(1, "Request"), (2, "Token"), (3, "Introspect"), (4, "Token info")]
CODE_STEPS = [(1, "Request"), (2, "Authorize"), (3, "Callback"), (4, "Tokens"), (5, "UserInfo")]
#: Resource Owner and Token Exchange: the token request goes out from the form.
DIRECT_STEPS = [(1, "Request"), (2, "Tokens"), (3, "UserInfo")]
#: The device grant (RFC 8628): the codes are shown, the page polls, then the tokens.
DEVICE_STEPS = [(1, "Request"), (2, "Device code"), (3, "Tokens"), (4, "UserInfo")]


def steps_for(grant: str) -> list[tuple[int, str]]:
    """The steps a grant's pages are numbered by."""
    if grant in BROWSER_GRANTS:
        return CODE_STEPS
    if grant == "device_code":
        return DEVICE_STEPS
    return CLIENT_CREDENTIALS_STEPS if grant == "client_credentials" else DIRECT_STEPS


def step_sets() -> list[tuple[str, list[tuple[int, str]]]]:
    """For the form, where the grant can change: each list of steps with the grants it is for."""
    sets: dict[tuple, list[str]] = {}
    for grant in GRANT_TYPES:
        sets.setdefault(tuple(steps_for(grant)), []).append(grant)
    return [(" ".join(grants), list(steps)) for steps, grants in sets.items()]


def outbound(form: FlowForm | None = None) -> Outbound:
    """The outbound policy for the chosen server (its CA bundle), else the app's."""
    state = current_app.extensions["playground"]
    if form is not None and form.server.data in state["outbounds"]:
        return state["outbounds"][form.server.data]
    return state["outbound"]


def saved_servers() -> list[servers.Server]:
    """Built-in and file servers, in the order the select shows them."""
    return current_app.extensions["playground"]["servers"]


def new_form(**kwargs) -> FlowForm:
    """The flow's form, with the saved servers as choices."""
    form = FlowForm(**kwargs)
    form.server.choices = [SelectChoice("", "(none)")] + [
        SelectChoice(s.name, s.name) for s in saved_servers()
    ]
    return form


def defaults() -> dict[str, str]:
    """Pre-filled values: endpoints, the callback as the browser reaches this playground, and the
    demo client under `playground demo`. (The page's script fills the code grant's scope.)"""
    config = current_app.config
    # Under `playground demo`, what the demo server's metadata says, as Discover would fill it.
    demo = saved_servers()[0] if config["DEMO_BASE"] else servers.Server("")
    return {
        "iss_supported": demo.iss_supported,
        "id_token_algs": demo.id_token_algs,
        "authorization_endpoint": config["AUTHORIZATION_ENDPOINT"],
        "callback_url": url_for("playground.callback", _external=True),
        "userinfo_endpoint": config["USERINFO_ENDPOINT"],
        "logout_endpoint": config["LOGOUT_ENDPOINT"],
        "token_endpoint": config["TOKEN_ENDPOINT"],
        "device_authorization_endpoint": config["DEVICE_AUTHORIZATION_ENDPOINT"],
        "introspection_endpoint": config["INTROSPECTION_ENDPOINT"],
        "revocation_endpoint": config["REVOCATION_ENDPOINT"],
        "discovery_url": config["DISCOVERY_URL"],
        "issuer": config["ISSUER"],
        "jwks_uri": config["JWKS_URI"],
        "client_id": config["CLIENT_ID"],
        "client_secret": config["CLIENT_SECRET"],
        "ro_username": config["RESOURCE_OWNER"],
        "ro_password": config["RESOURCE_OWNER_PASSWORD"],
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


def record(form: FlowForm, exchange: Exchange | None, title: str) -> None:
    """Add the exchange to the transcript the form carries (masked, and as revealed).

    The masked copy, the one for tickets, hides every token too (access, refresh, ID: a
    bearer token is a credential to whoever holds it, RFC 6750 §5.3).
    """
    if exchange is None:
        return
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    held = tuple(form.value(name) for name in TOKEN_VALUES if form.value(name))
    masked = exchange.with_secrets(*held).masked(tokens=True)
    add_to_transcript(form, masked.markdown(f"{title} ({stamp})"), exchange.markdown(f"{title} ({stamp})"))


#: Form fields whose values the transcript for tickets never shows.
TOKEN_VALUES = (
    "access_token",
    "refresh_token",
    "id_token",
    "original_id_token",
    "code",
    "code_verifier",
    "device_code",
)


def add_to_transcript(form: FlowForm, masked: str, revealed: str) -> None:
    """Append a section to both transcripts the form carries, keeping the latest steps."""
    for name, section in (("transcript", masked), ("transcript_revealed", revealed)):
        text = (form[name].data or "") + section + "\n"
        if len(text) > TRANSCRIPT:
            text = "… (earlier steps left out)\n\n" + text[-(TRANSCRIPT - 100) :]
        form[name].data = text


def fetch_jwks(form: FlowForm) -> results.Outcome:
    """The JWKS at the form's JWKS URI, fetched now."""
    return call(
        lambda: results.read_jwks_response(
            client.get_json(outbound(form), form.value("jwks_uri"), insecure=skip_tls_verification(form))
        )
    )


def token_view(
    form: FlowForm, token: str, fetched: results.Outcome | None = None
) -> tuple[tokens.TokenView, results.Outcome | None]:
    """Decode the token; for a JWT, verify it against the JWKS or the client secret. The JWKS is
    `fetched` when the page has it already (the ID token's), else fetched now."""
    view = tokens.inspect(token)
    if not view.is_jwt:
        return view, None
    jwks = None
    if form.value("jwks_uri") and view.header.get("alg") in tokens.ASYMMETRIC:
        fetched = fetched or fetch_jwks(form)
        jwks = fetched.data
    else:
        fetched = None
    view = tokens.verify(
        token,
        jwks=jwks,
        client_secret=form.client_secret.data or None,
        issuer=form.value("issuer") or None,
        audience=form.value("audience") or form.value("resource") or None,
    )
    if fetched is not None and fetched.data is None:
        reason = fetched.problem.title if fetched.problem else "the JWKS could not be fetched"
        view.checks[0] = tokens.Check(
            "Signature", False, f"Not verified: {reason} ({form.value('jwks_uri')})."
        )
    return view, fetched


def page(template: str, form: FlowForm, status: int = 200, **context):
    """Render a page of the flow; pages may hold tokens and secrets, so no-store."""
    state = current_app.extensions["playground"]
    return (
        render_template(
            template,
            form=form,
            now=time.time(),
            results=results,
            insecure=skip_tls_verification(form),
            allow_insecure=current_app.config["ALLOW_INSECURE_TLS"],
            servers=saved_servers(),
            servers_error=state["servers_error"],
            code_scope=current_app.config["CODE_SCOPE"],
            **context,
        ),
        status,
    )


@bp.before_request
def only_web_forms():
    """The pages take application/x-www-form-urlencoded only: no file uploads into text fields."""
    if request.method == "POST" and request.mimetype != "application/x-www-form-urlencoded":
        abort(415)


def show(value) -> str:
    """A JSON value for a table cell: strings as they are, the rest as JSON; a long one cut
    (the whole body is one click away, in the exchange panel)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > results.CELL_LIMIT:
        return text[: results.CELL_LIMIT] + f" … ({len(text):,} characters in all)"
    return text


def text(value) -> Markup:
    """Text for the content of an element such as <pre>, escaped as HTML requires there: `&`,
    `<` and `>` (quotes need escaping only inside attributes). The JSON and curl of a large
    answer are mostly quotes, which autoescaping would make five characters each."""
    return Markup(str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def expired_form(error: CSRFError):
    """A friendly page when the form's CSRF token is missing or stale."""
    return render_template("error.html", title="This form has expired", error=error), 400


def init_app(app: Flask) -> None:
    """Register the pages, CSRF protection and the outbound policy."""
    from .. import ConfigError

    allowed = app.config["ALLOWED_HOSTS"]
    try:
        allowed = parse_allowed_hosts(allowed if isinstance(allowed, str) else " ".join(allowed))
    except ValueError as exc:
        raise ConfigError(f"PLAYGROUND_ALLOWED_HOSTS: {exc}") from None
    policy = Policy(
        timeout=float(app.config["TIMEOUT"]),
        max_response_bytes=int(app.config["MAX_RESPONSE_BYTES"]),
        ca_bundle=app.config["CA_BUNDLE"] or None,
        allowed_hosts=allowed,
        block_private_networks=app.config["BLOCK_PRIVATE_NETWORKS"],
        allow_insecure_tls=app.config["ALLOW_INSECURE_TLS"],
    )
    # RESOLVER: tests may give a resolver to play DNS answers (e.g. rebinding) without DNS.
    resolver = app.config.get("RESOLVER") or socket.getaddrinfo
    try:
        outbound_policy = Outbound(policy, resolver)
    except ValueError as exc:  # an unreadable CA bundle
        raise ConfigError(f"PLAYGROUND_CA_BUNDLE: {exc}") from None
    state = {
        "outbound": outbound_policy,
        "outbounds": {},
        "servers": servers.builtin(app.config),
        "servers_error": None,
    }
    if app.config["SERVERS_FILE"]:
        try:
            loaded = servers.load(app.config["SERVERS_FILE"], frozenset(s.name for s in state["servers"]))
            for server in loaded:
                if server.ca_bundle:  # its own pool, trusting its CA as well
                    state["outbounds"][server.name] = Outbound(
                        replace(policy, server_ca_bundle=server.ca_bundle), resolver
                    )
            state["servers"] = state["servers"] + loaded
        except (servers.ServersFileError, ValueError) as exc:
            # The playground still starts: the page says what is wrong with the file.
            state["servers_error"] = f"PLAYGROUND_SERVERS_FILE: {exc}"
            app.logger.warning("%s", state["servers_error"])
    app.extensions["playground"] = state
    csrf.init_app(app)
    app.register_error_handler(CSRFError, expired_form)
    app.jinja_env.globals.update(
        cc_steps=CLIENT_CREDENTIALS_STEPS,
        code_steps=CODE_STEPS,
        steps_for=steps_for,
        step_sets=step_sets,
        grant_identifiers=GRANT_IDENTIFIERS,
    )
    app.add_template_filter(show)
    app.add_template_filter(text)
    app.register_blueprint(bp)
