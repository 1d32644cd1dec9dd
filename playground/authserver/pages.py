"""The demo server's pages: sign-in, consent, the answer to the client, and logout.

Thin views over authorize.py (the authorization request), login.py (the login
session) and oidc.py (ID tokens). Plain HTML that works without JavaScript, a
CSRF token in every form of ours, and strict headers on every response.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from .authorize import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    consented,
    id_token_hint_subject,
    issue_code,
    issue_implicit,
    needs_login,
    read_request,
    redirect_location,
    remember_consent,
    response_parameters,
    revalidate,
    seal,
    target_origin,
    unseal,
)
from .context import get_db
from .login import current_login, end_login, start_login
from .models import Client, User, find_client
from .oidc import verify_id_token
from .users import authenticate_user

bp = Blueprint("pages", __name__)
csrf = CSRFProtect()

#: No inline script or style; `form-action` names where a page's form may go, which in
#: Chromium also bounds the redirects that follow a form's submission.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
)
#: What each scope asks for, in the consent page's words (others are the client's own).
SCOPE_WORDS = {
    "openid": "Confirm who you are (your user identifier)",
    "profile": "See your name and user name",
    "email": "See your email address",
    "offline_access": "Keep access while you are away (a refresh token)",
}


class LoginForm(FlaskForm):
    """User name and password; the authorization request rides along, signed."""

    authorization = HiddenField()
    username = StringField("User name", validators=[InputRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])
    sign_in = SubmitField("Sign in")
    cancel = SubmitField("Cancel")


class ConsentForm(FlaskForm):
    """Allow or Deny; the authorization request rides along, signed."""

    authorization = HiddenField()
    allow = SubmitField("Allow")
    deny = SubmitField("Deny")


class LogoutForm(FlaskForm):
    """Confirm a logout that came without a valid id_token_hint."""

    logout = HiddenField()
    confirm = SubmitField("Log out")


def page(template: str, status: int = 200, targets: tuple[str, ...] = (), **context) -> Response:
    """A rendered page whose forms may post to us, and (redirects after them) to `targets`."""
    response = current_app.make_response((render_template(template, **context), status))
    sources = " ".join(dict.fromkeys(["'self'", *targets]))
    response.headers["Content-Security-Policy"] = CSP.format(targets=sources)
    return response


def error_page(message: str, status: int = 400) -> Response:
    """This server's own error page: for what must not be sent back to a client."""
    return page("authserver/error.html", status, message=message)


# -- the authorization endpoint -------------------------------------------------------


@bp.route("/oauth2/authorize", methods=["GET", "POST"])
@csrf.exempt  # a client's own POST (OpenID Connect Core §3.1.2.1) carries no token of ours
def authorize():
    """RFC 6749 §3.1: GET or POST, then sign-in, consent, and the answer."""
    params = request.form if request.method == "POST" else request.args
    try:
        return proceed(*read_request(params))
    except PageError as exc:
        return error_page(str(exc))
    except RedirectError as exc:
        return error_response(exc)


def proceed(areq: AuthorizationRequest, client: Client) -> Response:
    """Sign-in if needed, consent if needed, else the code; prompt=none never shows a page."""
    login = current_login()
    hint_sub = id_token_hint_subject(areq.id_token_hint) if areq.id_token_hint else None
    if needs_login(areq, login, hint_sub):
        if "none" in areq.prompt:
            raise areq.fail("login_required", "The user is not signed in (or must sign in again).")
        return login_page(areq, client)
    assert login is not None
    if not consented(login["user"].id, areq):
        if "none" in areq.prompt:
            raise areq.fail("consent_required", "The user has not allowed this client these scopes yet.")
        return consent_page(areq, client, login)
    return finish(areq, client, login["user"], login["auth_time"])


def login_page(areq: AuthorizationRequest, client: Client, error: str = "", username: str = "") -> Response:
    """The sign-in form, naming the client; login_hint pre-fills the user name."""
    form = LoginForm(formdata=None, authorization=seal(areq), username=username or areq.login_hint)
    return page(
        "authserver/login.html",
        targets=(target_origin(areq.redirect_uri),),
        form=form,
        client=client,
        error=error,
    )


def consent_page(areq: AuthorizationRequest, client: Client, login: dict) -> Response:
    """Which client asks for what: each scope, then Allow or Deny."""
    areq.login_sid = login["sid"]  # the consent belongs to the session that saw this page
    form = ConsentForm(formdata=None, authorization=seal(areq))
    scopes = [(s, SCOPE_WORDS.get(s)) for s in areq.scopes]
    return page(
        "authserver/consent.html",
        targets=(target_origin(areq.redirect_uri),),
        form=form,
        client=client,
        user=login["user"],
        scopes=scopes,
    )


def finish(areq: AuthorizationRequest, client: Client, user: User, auth_time: int) -> Response:
    """Issue the code (or, implicit, the tokens) and send it back."""
    if areq.response_type != "code":
        return respond(areq, issue_implicit(areq, client, user, auth_time))
    return respond(areq, [("code", issue_code(areq, user.id, auth_time))])


def error_response(exc: RedirectError) -> Response:
    """RFC 6749 §4.1.2.1: the error, back to the client."""
    return respond(exc.request, [("error", exc.error), ("error_description", exc.description)])


def respond(areq: AuthorizationRequest, values: list[tuple[str, str]]) -> Response:
    """The authorization response, as the request's response_mode says.

    query and fragment: a redirect (302 after a GET; 303 after one of our forms,
    so that the browser GETs the client's URI, RFC 9110 §15.4.4). form_post
    (OAuth 2.0 Form Post Response Mode): a page whose form posts the values,
    sent by a script file, with a Continue button for browsers without one.
    """
    params = response_parameters(areq, values)
    if areq.response_mode == "form_post":
        return page(
            "authserver/form_post.html",
            targets=(target_origin(areq.redirect_uri),),
            action=areq.redirect_uri,
            fields=params,
        )
    status = 302 if request.method == "GET" else 303
    response = redirect(redirect_location(areq.redirect_uri, params, areq.response_mode), status)
    response.headers["Content-Security-Policy"] = CSP.format(targets="'self'")
    return response


def carried_request(form) -> tuple[AuthorizationRequest, Client]:
    """The authorization request a form of ours carried, checked again."""
    return revalidate(unseal(form.authorization.data or ""))


@bp.post("/oauth2/authorize/login")
def login_submit():
    """The sign-in form: check the password, start the login session, go on to consent."""
    form = LoginForm()
    try:
        areq, client = carried_request(form)
        if form.cancel.data:
            raise areq.fail("access_denied", "The user cancelled the sign-in.")
        if not form.validate():
            return login_page(areq, client, "Enter your user name and password.", form.username.data or "")
        user = authenticate_user(get_db(), form.username.data, form.password.data)
        if user is None:
            return login_page(areq, client, "The user name or the password is wrong.", form.username.data)
        login = start_login(user)
        areq.login_sid = login["sid"]
        if consented(user.id, areq):
            return finish(areq, client, user, login["auth_time"])
        return consent_page(areq, client, login)
    except PageError as exc:
        return error_page(str(exc))
    except RedirectError as exc:
        return error_response(exc)


@bp.post("/oauth2/authorize/consent")
def consent_submit():
    """Allow issues the code (and remembers the consent); Deny is RFC 6749 §4.1.2.1's access_denied."""
    form = ConsentForm()
    try:
        areq, client = carried_request(form)
        login = current_login()
        if login is None or login["sid"] != areq.login_sid:
            areq.login_sid = None  # signed out meanwhile, or another user signed in: ask again
            return login_page(areq, client, "Your sign-in has ended. Sign in again.")
        if not form.allow.data:
            raise areq.fail("access_denied", "The user denied the request.")
        remember_consent(login["user"].id, areq)
        return finish(areq, client, login["user"], login["auth_time"])
    except PageError as exc:
        return error_page(str(exc))
    except RedirectError as exc:
        return error_response(exc)


# -- RP-initiated logout -----------------------------------------------------------------


def _logout_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="logout-request")


@bp.route("/oidc/logout", methods=["GET", "POST"])
@csrf.exempt  # the client's own request (RP-Initiated Logout 1.0 §2, GET or POST)
def logout():
    """OpenID Connect RP-Initiated Logout 1.0: end the login session, then back to the client.

    post_logout_redirect_uri is followed only if it is registered, exactly, for the
    client named by id_token_hint or client_id (§3); otherwise a page says so. A
    request without a valid id_token_hint for the signed-in user is confirmed first (§6).
    """
    params = request.form if request.method == "POST" else request.args
    hint, client_id = params.get("id_token_hint"), params.get("client_id")
    asked, state = params.get("post_logout_redirect_uri"), params.get("state")
    claims = verify_id_token(hint) if hint else None
    if hint and claims is None:
        return error_page("The id_token_hint is not an ID token issued by this server.")
    client = find_client(get_db(), client_id) if client_id else None
    if client_id and client is None:
        return error_page(f"There is no client {client_id!r} on this server.")
    if claims:
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if client_id and client_id not in audience:
            return error_page("The client_id is not the audience of the id_token_hint (section 2).")
        client = client or find_client(get_db(), claims.get("azp") or audience[0])
    target = asked if asked and client and asked in client.post_logout_redirect_uri_list else None
    login = current_login()
    if login is None or (claims and claims["sub"] == login["sub"]):
        end_login()
        return logged_out(target, state, unregistered=asked if asked and not target else None)
    blob = _logout_serializer().dumps({"target": target, "state": state, "asked": asked})
    return page(
        "authserver/logout_confirm.html",
        targets=(target_origin(target),) if target else (),
        form=LogoutForm(formdata=None, logout=blob),
        user=login["user"],
        client=client,
    )


@bp.post("/oidc/logout/confirm")
def logout_confirm():
    """The confirmation's Log out button."""
    form = LogoutForm()
    try:
        data = _logout_serializer().loads(form.logout.data or "", max_age=600)
    except BadSignature:
        return error_page("This form was altered, is too old, or does not come from this server.")
    end_login()
    asked = data.get("asked")
    return logged_out(
        data.get("target"), data.get("state"), unregistered=asked if not data.get("target") else None
    )


def logged_out(target: str | None, state: str | None, unregistered: str | None = None) -> Response:
    """Back to the registered post-logout redirect URI (with `state`, §3), or a page."""
    if target:
        location = redirect_location(target, [("state", state)] if state else [], "query")
        response = redirect(location, 302 if request.method == "GET" else 303)
        response.headers["Content-Security-Policy"] = CSP.format(targets="'self'")
        return response
    return page("authserver/logged_out.html", unregistered=unregistered)


# -- the app ------------------------------------------------------------------------------


def security_headers(response: Response) -> Response:
    """Strict headers on every response of the demo server, pages and JSON alike.

    No HSTS: it would hold for every port of the host, and the playground beside
    this server is served over plain HTTP on localhost.
    """
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP.format(targets="'self'"))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def csrf_failed(exc: CSRFError) -> Response:
    """An expired or forged form: a page, not a JSON error."""
    return error_page(
        "This form has expired or did not come from this server (its CSRF check failed). "
        "Go back to the application and start again; this server's cookies must be allowed."
    )


def init_app(app: Flask) -> None:
    """The pages, CSRF on every POST but the OAuth endpoints, and the headers."""
    app.register_blueprint(bp)
    csrf.init_app(app)
    from .routes import bp as oauth_endpoints

    csrf.exempt(oauth_endpoints)  # token, introspection, revocation, userinfo: clients, not browsers
    app.register_error_handler(CSRFError, csrf_failed)
    app.after_request(security_headers)
