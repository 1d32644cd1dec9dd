"""The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636) and OpenID Connect: the
authorization request, the callback and its checks, the code exchange, the ID token's checks,
UserInfo, refresh and RP-initiated logout. Thin: form -> client call -> Exchange -> page."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import current_app, request, url_for

from .. import authorization, client, idtoken, pending, results, tokens
from ..exchange import MASK
from ..forms import DEVICE_FIELDS, SECONDS, FlowForm
from ..security import CONTENT_SECURITY_POLICY
from .common import (
    add_to_transcript,
    bp,
    call,
    credentials,
    csrf,
    fetch_jwks,
    new_form,
    outbound,
    page,
    record,
    skip_tls_verification,
    token_view,
)

#: What a flow obtained: dropped by Start over, and by a new authorization.
FLOW_RESULTS = (
    "obtained",
    "access_token",
    "refresh_token",
    "id_token",
    "original_id_token",
    "code",
    "code_verifier",
    "nonce",
    "sent_max_age",
    *DEVICE_FIELDS,
)
#: Form fields that do not travel in the pending authorization's cookie: the transcripts (too
#: large; rebuilt from the authorization request on), an earlier flow's results, and Token
#: Exchange's pasted tokens (up to forms.TOKEN each; the code flow never reads them).
NOT_CARRIED = frozenset(
    {
        "csrf_token",
        "transcript",
        "transcript_revealed",
        "reveal",
        "subject_token",
        "actor_token",
        *FLOW_RESULTS,
    }
)


def secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def cookie_options() -> dict:
    """The pending authorization's cookie: see playground/pending.py."""
    return {
        "max_age": pending.LIFETIME,
        "path": pending.COOKIE_PATH,
        "httponly": True,
        "samesite": "Lax",
        "secure": current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure,
    }


def authorize(form: FlowForm):
    """Authorize with the code grant: show the authorization request, then send the browser there.

    The state, nonce and verifier are made fresh here; what the callback needs travels in a
    cookie of its own (pending.py), never in the URL.
    """
    if not form.check_authorization_step():
        return page("oauth2.html", form, 400)
    scope_defaulted = not form.value("scope")
    if scope_defaulted:  # said on the next page: the demo server, like many, wants a scope here
        form.scope.data = current_app.config["CODE_SCOPE"]
    sent = authorization_request(form)
    carried = {
        f.name: f.data
        for f in form
        if f.name not in NOT_CARRIED and f.type != "SubmitField" and (f.data not in ("", None) or f.default)
    }
    data = {
        "kind": "authorization",
        "created": time.time(),
        "state": sent.state,
        "nonce": sent.nonce,
        "verifier": sent.verifier,
        "method": sent.method,
        "form": carried,
    }
    try:
        name, value = pending.seal(secret_key(), data)
    except pending.TooLarge as exc:
        form.extra_params.errors = [
            f"The set-up is too large to carry through the authorization server in a cookie ({exc}): "
            "shorten the scope, the extra parameters or the endpoints."
        ]
        return page("oauth2.html", form, 400)
    add_to_transcript(form, *authorization_note(sent, data["created"]))
    response = current_app.make_response(
        page(
            "authorize.html",
            form,
            sent=sent,
            notes=authorization.PARAMETER_NOTES,
            scope_defaulted=scope_defaulted,
        )
    )
    set_pending(response, name, value)
    return response


def authorization_request(
    form: FlowForm, state: str = "", nonce: str = "", verifier: str = ""
) -> authorization.AuthorizationRequest:
    """The authorization request the form asks for: with a fresh state, nonce and verifier, or,
    at the callback, the ones sent (the same form then gives the same request back)."""
    extra, _problem = authorization.parse_extra(form.extra_params.data or "")
    mode = form.response_mode.data
    implicit = form.grant_type.data == "implicit"
    if implicit and mode == "query":
        # Tokens never go in the query (OAuth 2.0 Multiple Response Types §5): not sent, the fragment
        # is this response type's default (§2.1); the authorization request page says so.
        mode = "fragment"
    return authorization.build_request(
        form.value("authorization_endpoint"),
        form.value("client_id"),
        form.value("callback_url"),
        scope=form.value("scope"),
        use_pkce=bool(form.use_pkce.data) and not implicit,  # PKCE protects a code (RFC 7636)
        pkce_method=form.pkce_method.data,
        # query is the default of response_type=code (OAuth 2.0 Multiple Response Types §2.1)
        response_mode="" if mode == "query" or (implicit and mode == "fragment") else mode,
        prompt=form.prompt.data or "",
        max_age=form.value("max_age"),
        login_hint=form.value("login_hint"),
        acr_values=form.value("acr_values"),
        extra=extra,
        response_type=form.implicit_response_type.data if implicit else "code",
        state=state,
        nonce=nonce,
        verifier=verifier,
    )


def set_pending(response, name: str, value: str) -> None:
    """Set a pending cookie, first dropping the expired and the oldest ones so that all of them
    stay inside pending.MAX_TOTAL: a Cookie header too large for the server locks the user out."""
    for old in pending.stale(secret_key(), request.cookies, adding=len(name) + len(value)):
        response.delete_cookie(old, path=pending.COOKIE_PATH)
    response.set_cookie(name, value, **cookie_options())


#: The transcript at the callback starts with the authorization request: the steps before it do
#: not travel through the authorization server (they would not fit in a cookie).
LEFT_OUT = (
    "… (the steps before the authorization request are in the transcript of the page that sent it: "
    "they do not travel through the authorization server)\n\n"
)


def authorization_note(sent: authorization.AuthorizationRequest, when: float) -> tuple[str, str]:
    """The authorization request for the transcript (masked, revealed): a URL to open, and its parameters."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
    rows = "\n".join(f"| `{name}` | `{value}` |" for name, value in sent.parameters)
    text = (
        f"## Authorization request (RFC 6749 §4.1.1) ({stamp})\n\n"
        "The browser is sent to this URL (open it in a browser to repeat the step):\n\n"
        f"```\n{sent.url}\n```\n\n| Parameter | Value |\n|---|---|\n{rows}\n"
    )
    if not sent.verifier:
        return text, text
    text += f"\nThe PKCE code_verifier, kept by the playground until the code exchange: `{sent.verifier}`\n"
    # With plain, the code_challenge is the verifier itself (RFC 7636 §4.2): masked wherever it is.
    return text.replace(sent.verifier, MASK), text


@csrf.exempt  # the answer of another site: `state` is its CSRF check (RFC 6749 §10.12)
@bp.route("/playground2/oauth2client", methods=["GET", "POST"])
def callback():
    """Where the authorization server sends the browser back: query (GET), form_post (POST),
    or fragment (a page whose script posts it here)."""
    if request.method == "GET":
        params = {k: v for k, v in request.args.items()}
    elif "fragment" in request.form:  # our own page's script, with what followed the '#'
        params = dict(authorization.fragment_parameters(request.form.get("fragment", "")))
    else:
        params = {k: v for k, v in request.form.items() if k != "relayed"}
    flows = [
        f for f in pending.in_progress(secret_key(), request.cookies) if f.data.get("kind") == "authorization"
    ]
    if not params:
        # The answer is in the fragment, which only the page's script can read (or nothing came).
        return page("callback_fragment.html", new_form(), flows=flows)
    if request.method == "POST" and not flows and "relayed" not in request.form:
        # A form_post from another site comes without our SameSite=Lax cookie: post it again
        # from this site, where the cookie comes along (the page's script, or its button).
        return page("callback_relay.html", new_form(), params=params)
    if not flows:
        return page("callback_unknown.html", new_form(), 400, params=masked_params(params))
    got = str(params.get("state", ""))
    match = next((f for f in flows if secrets.compare_digest(f.state.encode(), got.encode())), None)
    flow = match or flows[-1]
    form = new_form(data=flow.data["form"])
    form.validate()
    # The request as sent, for the transcript: the carried form and values give it back.
    sent = authorization_request(
        form, flow.state, str(flow.data.get("nonce", "")), str(flow.data.get("verifier", ""))
    )
    note, note_revealed = authorization_note(sent, float(flow.data.get("created", 0)))
    add_to_transcript(form, LEFT_OUT + note, LEFT_OUT + note_revealed)
    if match is not None:
        result = authorization.check_callback(
            params, flow.state, form.value("issuer"), iss_supported=form.iss_supported.data == "true"
        )
    else:  # RFC 6749 §10.12: an answer whose state is none of ours must not be used
        result = authorization.CallbackResult(params, [authorization.unmatched_state(got, len(flows))])
    if result.trusted and result.code:
        form.code.data = result.code
        form.code_verifier.data = flow.data.get("verifier", "")
        form.nonce.data = flow.data.get("nonce", "")
        form.sent_max_age.data = form.value("max_age")
    note_callback(form, params, result)
    if form.grant_type.data == "implicit" and result.trusted and not result.error:
        response = current_app.make_response(implicit_tokens(form, params, flow, result))
        response.delete_cookie(flow.name, path=pending.COOKIE_PATH)
        return response
    error = None
    if result.error:
        error = results.OAuthError(
            error=result.error,
            description=params.get("error_description", ""),
            uri=results.safe_link(params.get("error_uri")),
            status=0,
            www_authenticate=None,
            hints=authorization.authorization_error_hints(result.error),
        )
    response = current_app.make_response(
        page(
            "callback.html",
            form,
            400 if not result.trusted else 200,
            result=result,
            error=error,
            shown=masked_params(params),
            sent_url=sent.url,
            mode="GET (query)" if request.method == "GET" else "POST",
        )
    )
    if match is not None:  # used: a reload of this page is not a second answer
        response.delete_cookie(match.name, path=pending.COOKIE_PATH)
    return response


def implicit_tokens(form: FlowForm, params: dict[str, str], flow, result: authorization.CallbackResult):
    """The implicit grant's answer (RFC 6749 §4.2.2, OpenID Connect Core §3.2.2.5): the tokens came
    with the browser, no token request follows; the ID token is held to the nonce, and with
    `id_token token` to at_hash (§3.2.2.10, §3.2.2.11)."""
    for name in FLOW_RESULTS:
        form[name].data = ""
    form.nonce.data = flow.data.get("nonce", "")
    form.sent_max_age.data = form.value("max_age")
    data = {k: v for k, v in params.items() if k not in ("state", "iss", "session_state")}
    in_query = request.method == "GET" and "fragment" not in request.args
    return token_page(
        form,
        results.Outcome(None, data=data),
        "Implicit",
        implicit=form.implicit_response_type.data,
        callback=result,
        in_query=in_query,
    )


def masked_params(params: dict[str, str]) -> dict[str, str]:
    """What came to the callback, for the page: the code masked (revealed by its own button)."""
    return {
        k: (MASK if k in ("code", "access_token", "id_token", "refresh_token") else v)
        for k, v in params.items()
    }


def note_callback(form: FlowForm, params: dict[str, str], result: authorization.CallbackResult) -> None:
    """The authorization response in the transcript, with the checks made on it."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    def section(values: dict[str, str]) -> str:
        rows = "\n".join(f"| `{k}` | `{v}` |" for k, v in values.items())
        checks = "\n".join(
            f"- {'pass' if c.ok else 'FAIL' if c.ok is False else 'not checked'}: {c.name}: {c.detail}"
            for c in result.checks
        )
        return (
            f"## Authorization response at the callback ({stamp})\n\n| Parameter | Value |\n|---|---|\n"
            f"{rows}\n\n{checks}\n"
        )

    add_to_transcript(form, section(masked_params(params)), section(params))


@bp.post("/playground2/token")
def get_access_token():
    """Get Access Token: redeem the code (RFC 6749 §4.1.3) with the verifier (RFC 7636 §4.5)."""
    form = new_form()
    form.validate()
    if not form.check_code_step():
        return page("tokens.html", form, 400, outcome=None)
    outcome = call(
        lambda: results.read_token_response(
            client.redeem_code(
                outbound(form),
                form.value("token_endpoint"),
                credentials(form),
                form.value("code"),
                form.value("callback_url"),
                form.value("code_verifier"),
                insecure=skip_tls_verification(form),
            ),
            results.CODE_TOKEN_RESPONSE,
        )
    )
    return token_page(form, outcome, "Token request (authorization code, RFC 6749 §4.1.3)")


@bp.post("/playground2/refresh")
def refresh():
    """Refresh (RFC 6749 §6) with the grant's own client authentication, and what changed."""
    form = new_form()
    form.validate()
    if not form.check_refresh_step():
        return page("tokens.html", form, 400, outcome=None)
    before = {
        "access_token": form.value("access_token"),
        "refresh_token": form.value("refresh_token"),
        "id_token": form.value("id_token"),
    }
    outcome = call(
        lambda: results.read_token_response(
            client.refresh(
                outbound(form),
                form.value("token_endpoint"),
                credentials(form),
                form.value("refresh_token"),
                insecure=skip_tls_verification(form),
            ),
            results.REFRESH_TOKEN_RESPONSE,
        )
    )
    return token_page(form, outcome, "Refresh (RFC 6749 §6)", before=before)


#: The token request of each grant sent from the form at once, and its title in the transcript.
DIRECT_TITLES = {
    "password": "Token request (resource owner password credentials, RFC 6749 §4.3.2)",
    "token_exchange": "Token request (token exchange, RFC 8693 §2.1)",
}


def direct_grant(form: FlowForm):
    """Authorize with a grant whose token request goes out at once: Resource Owner (RFC 6749 §4.3)
    or Token Exchange (RFC 8693); then the tokens page, as after the code exchange."""
    grant = form.grant_type.data
    check = form.check_password_step if grant == "password" else form.check_token_exchange_step
    if not check():
        return page("oauth2.html", form, 400)
    subject = form.subject_token_value()
    for name in FLOW_RESULTS:  # nothing of an earlier flow is checked against this one's tokens
        form[name].data = ""
    if grant == "password":
        send = lambda: client.password_grant(  # noqa: E731
            outbound(form),
            form.value("token_endpoint"),
            credentials(form),
            form.value("ro_username"),
            form.ro_password.data or "",
            scope=form.value("scope"),
            insecure=skip_tls_verification(form),
        )
    else:
        send = lambda: client.exchange_token(  # noqa: E731
            outbound(form),
            form.value("token_endpoint"),
            credentials(form),
            subject,
            form.subject_token_type.data,
            actor_token=form.value("actor_token"),
            actor_token_type=form.actor_token_type.data,
            requested_token_type=form.requested_token_type.data or "",
            audience=form.value("audience"),
            resource=form.value("resource"),
            scope=form.value("scope"),
            insecure=skip_tls_verification(form),
        )
    expected = results.PASSWORD_TOKEN_RESPONSE if grant == "password" else results.EXCHANGE_TOKEN_RESPONSE
    outcome = call(lambda: results.read_token_response(send(), expected))
    return token_page(form, outcome, DIRECT_TITLES[grant])


def token_page(
    form: FlowForm,
    outcome: results.Outcome,
    title: str,
    before: dict | None = None,
    implicit: str = "",
    **shown,
):
    """The tokens page: what came back, the ID token's checks, the access token, the next steps."""
    changes = None
    redeemed = form.value("code") if before is None else ""  # for c_hash (OIDC Core §3.3.2.11)
    if outcome.data:
        data = outcome.data
        if before is not None:
            changes = token_changes(before, data)
        form.access_token.data = (
            data.get("access_token", "") if isinstance(data.get("access_token"), str) else ""
        )
        if isinstance(data.get("refresh_token"), str):
            form.refresh_token.data = data["refresh_token"]  # rotated, or the first one
        if isinstance(data.get("id_token"), str):
            if not form.value("original_id_token"):
                form.original_id_token.data = data["id_token"]
            form.id_token.data = data["id_token"]
        elif before is None:
            form.id_token.data = ""
        form.obtained.data = "1"
        form.code.data = ""  # redeemed: a code is single-use (RFC 6749 §4.1.2)
    record(form, outcome.exchange, title)
    id_view = jwks = None
    if outcome.data and isinstance(outcome.data.get("id_token"), str):
        id_view, jwks = id_token_view(
            form, outcome.data["id_token"], refreshed=before is not None, code=redeemed, implicit=implicit
        )
    access_view = None
    if outcome.data and form.value("access_token"):
        # The ID token's JWKS serves the access token too: one fetch a page.
        access_view, _fetched = token_view(form, form.value("access_token"), fetched=jwks)
    return page(
        "tokens.html",
        form,
        outcome=outcome,
        id_view=id_view,
        jwks=jwks,
        view=access_view,
        changes=changes,
        refreshed=before is not None,
        pkce=pkce_follow(form),
        implicit=implicit,
        **shown,
    )


def token_changes(before: dict[str, str], after: dict) -> list[tuple[str, str]]:
    """What a refresh changed, field by field, in words."""
    rows = []
    for name in ("access_token", "refresh_token", "id_token"):
        new = after.get(name)
        if not isinstance(new, str):
            rows.append((name, "not in the response: the one held before stays" if before[name] else "none"))
        elif new == before[name]:
            rows.append((name, "the same as before"))
        else:
            rows.append((name, "new" if name != "refresh_token" else "rotated: the old one is spent"))
    for name in ("expires_in", "scope", "token_type"):
        if name in after:
            rows.append((name, str(after[name])))
    return rows


def pkce_follow(form: FlowForm) -> dict | None:
    """The verifier sent with the code and the challenge it answers (RFC 7636 §4.6), shown worked out."""
    verifier = form.value("code_verifier")
    if not verifier:
        return None
    return {
        "verifier": verifier,
        "s256": authorization.code_challenge(verifier, "S256"),
        "method": form.pkce_method.data,
    }


def id_token_view(form: FlowForm, token: str, refreshed: bool = False, code: str = "", implicit: str = ""):
    """Validate the ID token (OpenID Connect Core §3.1.3.7) against the JWKS, fetched now and once
    more when its kid is unknown (key rotation)."""
    fetches: list[results.Outcome] = []

    def jwks_now() -> dict | None:
        if not form.value("jwks_uri"):
            return None
        fetches.append(fetch_jwks(form))
        return fetches[-1].data

    header = tokens.inspect(token).header
    jwks = jwks_now() if header.get("alg") in tokens.ASYMMETRIC else None
    original = None
    if refreshed and form.value("original_id_token"):
        original = tokens.inspect(form.value("original_id_token")).claims or None
    algs = [a for a in form.value("id_token_algs").split() if a] or None
    max_age = form.value("sent_max_age")
    expected = idtoken.Expected(
        client_id=form.value("client_id"),
        issuer=form.value("issuer") or None,
        client_secret=form.client_secret.data or None,
        nonce=None if refreshed else (form.value("nonce") or None),
        max_age=int(max_age) if SECONDS.fullmatch(max_age) and not refreshed else None,
        access_token=form.value("access_token") or None,
        code=code or None,
        allowed_algs=algs,
        require_nonce=bool(implicit),
        require_at_hash=implicit == "id_token token",
        original=original,
    )
    view = idtoken.validate(token, expected, jwks, refetch_jwks=jwks_now)
    return view, (fetches[-1] if fetches else None)


@bp.post("/playground2/userinfo")
def get_userinfo():
    """Get UserInfo (OpenID Connect Core §5.3) with the access token, and check its sub (§5.3.2)."""
    form = new_form()
    form.validate()
    if not form.check_userinfo_step():
        return page("tokens.html", form, 400, outcome=None)
    outcome = call(
        lambda: results.read_userinfo_response(
            client.userinfo(
                outbound(form),
                form.value("userinfo_endpoint"),
                form.value("access_token"),
                insecure=skip_tls_verification(form),
            )
        )
    )
    record(form, outcome.exchange, "UserInfo (OpenID Connect Core §5.3)")
    sub_check = None
    if outcome.data is not None:
        if form.value("id_token"):
            sub_check = idtoken.userinfo_check(outcome.data, tokens.inspect(form.value("id_token")).claims)
            failed = id_token_view(form, form.value("id_token"))[0].verdict.failed if sub_check.ok else []
            if failed:  # the same sub as an untrusted token proves nothing (OIDC Core §5.3.2)
                sub_check = tokens.Check(
                    "UserInfo subject",
                    None,
                    f"{sub_check.detail} But it was compared with an ID token that failed its checks "
                    f"({', '.join(failed)}): not checked.",
                )
        else:
            sub_check = tokens.Check(
                "UserInfo subject", None, "No ID token to compare its sub with (§5.3.2)."
            )
    return page("userinfo.html", form, info=outcome, sub_check=sub_check)


@bp.post("/playground2/logout")
def logout():
    """Logout (OpenID Connect RP-Initiated Logout 1.0 §2): the browser posts the logout request
    to the server, which sends it back to the playground's logged-out page with the state."""
    form = new_form()
    form.validate()
    if not form.check_logout_step():
        return page("tokens.html", form, 400, outcome=None)
    state = authorization.random_value()
    back = url_for("playground.logged_out", _external=True)
    fields = [("client_id", form.value("client_id")), ("post_logout_redirect_uri", back), ("state", state)]
    if form.value("id_token"):
        fields.insert(0, ("id_token_hint", form.value("id_token")))  # §2: RECOMMENDED
    name, value = pending.seal(
        secret_key(),
        {"kind": "logout", "created": time.time(), "state": state, "endpoint": form.value("logout_endpoint")},
    )
    response = current_app.make_response(
        page("logout.html", form, fields=fields, endpoint=form.value("logout_endpoint"))
    )
    # The form posts to the server's logout endpoint: the page's policy allows that one origin.
    parts = urlsplit(form.value("logout_endpoint"))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
    )
    set_pending(response, name, value)
    return response


@bp.get("/playground2/logged-out")
def logged_out():
    """Where the server sends the browser after logout: the session there ended; state checked."""
    flows = [f for f in pending.in_progress(secret_key(), request.cookies) if f.data.get("kind") == "logout"]
    got = request.args.get("state", "")
    match = next((f for f in flows if secrets.compare_digest(f.state.encode(), got.encode())), None)
    if match is not None:
        check = tokens.Check("state", True, "Equals the state sent with the logout request.")
    elif got:
        check = tokens.Check(
            "state",
            False,
            "Matches no logout this browser started: this page may have been opened by another site.",
        )
    else:
        check = tokens.Check(
            "state", None, "The server sent no state back (RP-Initiated Logout 1.0 §3 asks it to)."
        )
    response = current_app.make_response(page("logged_out.html", new_form(), check=check))
    if match is not None:
        response.delete_cookie(match.name, path=pending.COOKIE_PATH)
    return response
