"""The device grant's verification page (RFC 8628 §3.3): enter the code, sign in, Allow or Deny.

The same sign-in (and login session) and consent pages as the code flow, with
forms of their own, CSRF-protected, under the same strict headers (pages.py).
The device authorization rides from page to page in a signed field. Consent is
asked every time, naming the client, its scopes and the code: RFC 8628 §5.4
(remote phishing) warns that a user may be handed someone else's code.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from .context import get_db
from .device import decide, find_pending, normalize_user_code, pending_by_id
from .login import current_login, start_login
from .models import Client, DeviceCode, find_client
from .pages import SCOPE_WORDS, ConsentForm, LoginForm, error_page, page
from .users import authenticate_user

bp = Blueprint("device", __name__)

GONE = "This request has expired or was answered already. Start again on your device."


class DeviceCodeForm(FlaskForm):
    """The code the device shows."""

    user_code = StringField("Code shown on your device", validators=[InputRequired(), Length(max=32)])
    proceed = SubmitField("Continue")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="device-authorization")


def seal(data: dict) -> str:
    """The device authorization (its row, the code as shown, the login session) as a signed field."""
    return _serializer().dumps(data)


def carried(form) -> tuple[dict, DeviceCode, Client] | None:
    """What a form of ours carried, if the device authorization is still waiting for an answer."""
    try:
        data = _serializer().loads(
            form.authorization.data or "", max_age=int(current_app.config["DEVICE_CODE_LIFETIME"])
        )
    except BadSignature:
        return None
    row = pending_by_id(int(data.get("device", 0)))
    client = find_client(get_db(), row.client_id) if row else None
    if row is None or client is None:
        return None
    return data, row, client


def code_page(form: DeviceCodeForm, error: str = "") -> Response:
    """The form to enter the code."""
    return page("authserver/device.html", form=form, error=error)


def login_page(data: dict, client: Client, error: str = "", username: str = "") -> Response:
    """The code flow's sign-in page, posting here."""
    form = LoginForm(formdata=None, authorization=seal(data), username=username)
    return page(
        "authserver/login.html",
        form=form,
        client=client,
        error=error,
        action=url_for("device.login_submit"),
    )


def consent_page(data: dict, row: DeviceCode, client: Client, login: dict) -> Response:
    """The code flow's consent page, with the code to compare, posting here."""
    data = {**data, "sid": login["sid"]}  # the answer belongs to the session that saw this page
    return page(
        "authserver/consent.html",
        form=ConsentForm(formdata=None, authorization=seal(data)),
        client=client,
        user=login["user"],
        scopes=[(s, SCOPE_WORDS.get(s)) for s in row.scope.split()],
        user_code=data["code"],
        action=url_for("device.consent_submit"),
    )


def done_page(client: Client, allowed: bool) -> Response:
    """What the user sees once they have answered."""
    return page("authserver/device_done.html", client=client, allowed=allowed)


@bp.route("/oauth2/device", methods=["GET", "POST"])
def verify():
    """RFC 8628 §3.3: GET shows the form (filled from `?user_code=`, verification_uri_complete,
    §3.3.1); POST checks the code, then the sign-in (unless signed in) and the consent."""
    if request.method == "GET":
        prefill = request.args.get("user_code", "")[:32]
        return code_page(DeviceCodeForm(formdata=None, user_code=prefill))
    form = DeviceCodeForm()
    if not form.validate():
        return code_page(form, "Enter the code your device shows.")
    row = find_pending(form.user_code.data)
    client = find_client(get_db(), row.client_id) if row else None
    if row is None or client is None:
        return code_page(form, "That code is not valid, has expired or was used already. Check your device.")
    code = normalize_user_code(form.user_code.data) or ""
    data = {"device": row.id, "code": f"{code[:4]}-{code[4:]}"}
    login = current_login()
    if login is None:
        return login_page(data, client)
    return consent_page(data, row, client, login)


@bp.post("/oauth2/device/login")
def login_submit():
    """The sign-in form; Cancel denies the device (it stops polling with access_denied)."""
    form = LoginForm()
    found = carried(form)
    if found is None:
        return error_page(GONE)
    data, row, client = found
    if form.cancel.data:
        decide(row, None)
        return done_page(client, allowed=False)
    if not form.validate():
        return login_page(data, client, "Enter your user name and password.", form.username.data or "")
    user = authenticate_user(get_db(), form.username.data, form.password.data)
    if user is None:
        return login_page(data, client, "The user name or the password is wrong.", form.username.data)
    return consent_page(data, row, client, start_login(user))


@bp.post("/oauth2/device/consent")
def consent_submit():
    """Allow lets the device have its tokens at its next poll; Deny answers it access_denied."""
    form = ConsentForm()
    found = carried(form)
    if found is None:
        return error_page(GONE)
    data, row, client = found
    login = current_login()
    if login is None or login["sid"] != data.get("sid"):
        return login_page(data, client, "Your sign-in has ended. Sign in again.")
    allowed = bool(form.allow.data)
    if not decide(row, login["user"] if allowed else None, login["auth_time"]):
        return error_page(GONE)
    return done_page(client, allowed)


def init_app(app: Flask) -> None:
    """The verification pages (CSRF and headers come from pages.init_app)."""
    app.register_blueprint(bp)
