"""The demo server's authorization endpoint, sign-in and consent pages, over real HTTP."""

from __future__ import annotations

import logging

import pytest
import requests
from sqlalchemy import select

from playground.authserver.models import AuthorizationCode

from .authflow import (
    callback_params,
    exchange_code,
    is_consent_page,
    is_login_page,
    login_and_consent,
    parse_page,
    pkce_pair,
    start,
    submit,
)
from .conftest import PASSWORD, REDIRECT_URI, SPA_ID, USER, WEB_ID, WEB_SECRET


def code_request(client_id=WEB_ID, **extra) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "st-123",
        "nonce": "n-456",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def issuer_of(server) -> str:
    return requests.get(server.url + "/.well-known/openid-configuration", timeout=10).json()["issuer"]


@pytest.mark.parametrize("mode", ["query", "fragment", "form_post"])
def test_the_code_comes_back_in_each_response_mode_with_state_and_iss(oidc_authserver, mode):
    verifier, challenge = pkce_pair()
    params = code_request(response_mode=mode, code_challenge=challenge, code_challenge_method="S256")
    back = login_and_consent(requests.Session(), oidc_authserver, params, USER, PASSWORD)
    assert back["_mode"] == mode
    assert back["_url"].startswith(REDIRECT_URI)
    assert back["state"] == "st-123"
    assert back["iss"] == issuer_of(oidc_authserver)  # RFC 9207 §2
    token = exchange_code(oidc_authserver, back["code"], REDIRECT_URI, WEB_ID, WEB_SECRET, verifier)
    assert token.status_code == 200, token.text


def test_the_authorization_request_may_be_posted(oidc_authserver):
    """OpenID Connect Core §3.1.2.1: GET and POST."""
    back = login_and_consent(
        requests.Session(), oidc_authserver, code_request(), USER, PASSWORD, method="POST"
    )
    assert back["code"] and back["state"] == "st-123"


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"client_id": None}, "no client_id"),
        ({"client_id": "nobody"}, "no client 'nobody'"),
        ({"redirect_uri": None}, "has no redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:9/cb/"}, "is not registered"),
        ({"redirect_uri": "http://127.0.0.1:9/CB"}, "is not registered"),
        ({"redirect_uri": "https://attacker.example/cb"}, "is not registered"),
        ({"redirect_uri": REDIRECT_URI + "?x=1"}, "is not registered"),
    ],
    ids=["no-client-id", "unknown-client", "no-redirect-uri", "trailing-slash", "case", "elsewhere", "query"],
)
def test_a_bad_client_or_redirect_uri_is_shown_here_and_never_redirected(oidc_authserver, params, fragment):
    """RFC 6749 §4.1.2.1: the user-agent is not sent to an unverified redirect URI."""
    response = start(requests.Session(), oidc_authserver, code_request(**params))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert fragment in response.text.replace("&#39;", "'")
    assert "attacker.example/cb?" not in response.text  # nothing was appended to it


@pytest.mark.parametrize(
    "params, error",
    [
        ({"response_type": "device"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
        ({"response_mode": "jwt"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "²"}, "invalid_request"),  # str.isdigit() takes it, int() does not: was a 500
        ({"max_age": "١٢"}, "invalid_request"),  # Arabic-Indic digits: not the ASCII ones §3.1.2.1 means
        ({"code_challenge": "short"}, "invalid_request"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "S512"}, "invalid_request"),
        ({"request": "eyJ..."}, "request_not_supported"),
        ({"id_token_hint": "not-a-token"}, "invalid_request"),
    ],
)
def test_other_errors_go_back_to_the_client_with_state_and_iss(oidc_authserver, params, error):
    response = start(requests.Session(), oidc_authserver, code_request(**params))
    assert response.status_code == 302, response.text[:300]
    back = callback_params(response)
    assert back["_url"].startswith(REDIRECT_URI + "?")
    assert back["error"] == error and back["error_description"]
    assert back["state"] == "st-123" and back["iss"] == issuer_of(oidc_authserver)


def test_repeated_parameters_are_invalid_request(oidc_authserver):
    response = requests.get(
        oidc_authserver.authorization_endpoint
        + "?"
        + "&".join(f"{k}={v}" for k, v in [*code_request().items(), ("scope", "read")]),
        allow_redirects=False,
        timeout=10,
    )
    assert callback_params(response)["error"] == "invalid_request"


def test_pkce_is_required_for_public_clients_and_those_registered_to_need_it(oidc_authserver):
    oidc_authserver.add_client(
        "strict",
        "s3cret",
        "openid",
        grant_types=["authorization_code"],
        redirect_uris=[REDIRECT_URI],
        require_pkce=True,
    )
    for client_id in (SPA_ID, "strict"):
        response = start(requests.Session(), oidc_authserver, code_request(client_id, scope="openid"))
        back = callback_params(response)
        assert back["error"] == "invalid_request" and "code_challenge" in back["error_description"]
        assert back["state"] == "st-123"
    # A confidential client not registered so may leave PKCE out.
    back = login_and_consent(requests.Session(), oidc_authserver, code_request(), USER, PASSWORD)
    assert "code" in back


def test_prompt_none_without_a_session_is_login_required(oidc_authserver):
    response = start(requests.Session(), oidc_authserver, code_request(prompt="none"))
    back = callback_params(response)
    assert back["error"] == "login_required"
    assert back["state"] == "st-123" and back["iss"] == issuer_of(oidc_authserver)


def test_the_login_session_lets_a_second_authorization_skip_the_password(oidc_authserver):
    browser = requests.Session()
    first = login_and_consent(browser, oidc_authserver, code_request(), USER, PASSWORD)
    cookie = next(c for c in browser.cookies if c.name == "authserver_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure  # Secure only over HTTPS
    # The consent is remembered too: prompt=none now gets a code, no page.
    second = callback_params(start(browser, oidc_authserver, code_request(prompt="none")))
    assert second["code"] != first["code"] and second["state"] == "st-123"
    # prompt=login, max_age=0, and prompt=select_account sign in again; a long max_age does not.
    for extra in ({"prompt": "login"}, {"max_age": "0"}, {"prompt": "select_account"}):
        assert is_login_page(start(browser, oidc_authserver, code_request(**extra))), extra
        login_and_consent(browser, oidc_authserver, code_request(**extra), USER, PASSWORD)
    assert "code" in callback_params(start(browser, oidc_authserver, code_request(max_age="3600")))
    # prompt=consent asks again.
    assert is_consent_page(start(browser, oidc_authserver, code_request(prompt="consent")))
    # A scope not yet allowed asks again; with prompt=none it is consent_required.
    wider = code_request(scope="openid email", prompt="none")
    assert callback_params(start(browser, oidc_authserver, wider))["error"] == "consent_required"


def test_auth_time_is_the_sign_in_and_max_age_counts_from_it(oidc_authserver):
    import time

    from joserfc import jwt
    from joserfc.jwk import KeySet

    browser = requests.Session()
    verifier, challenge = pkce_pair()
    params = code_request(code_challenge=challenge, code_challenge_method="S256")
    before = int(time.time())
    back = login_and_consent(browser, oidc_authserver, params, USER, PASSWORD)
    body = exchange_code(oidc_authserver, back["code"], REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).json()
    keys = KeySet.import_key_set(requests.get(oidc_authserver.url + "/oauth2/jwks", timeout=10).json())
    auth_time = jwt.decode(body["id_token"], keys).claims["auth_time"]
    assert before <= auth_time <= int(time.time())
    time.sleep(2.1)
    assert is_login_page(start(browser, oidc_authserver, code_request(max_age="1")))


def test_deny_is_access_denied(oidc_authserver):
    back = login_and_consent(requests.Session(), oidc_authserver, code_request(), USER, PASSWORD, allow=False)
    assert back["error"] == "access_denied" and "code" not in back
    assert back["state"] == "st-123" and back["iss"] == issuer_of(oidc_authserver)


def test_cancel_on_the_sign_in_page_is_access_denied(oidc_authserver):
    browser = requests.Session()
    page = start(browser, oidc_authserver, code_request())
    back = callback_params(submit(browser, page, "cancel"))
    assert back["error"] == "access_denied"


def test_the_pages_name_the_client_and_each_scope_and_label_every_input(oidc_authserver):
    browser = requests.Session()
    login = start(browser, oidc_authserver, code_request(login_hint="alice", scope="openid email read"))
    page = parse_page(login.text)
    assert page.headings == ["Sign in"]
    assert "Web App" in login.text
    (form,) = page.forms
    assert form.fields["username"] == "alice"  # login_hint pre-fills it
    assert {"username", "password"} <= set(page.labels)  # <label for=...> for each input
    assert "<script" not in login.text and "style=" not in login.text
    consent = submit(browser, login, "sign_in", username=USER, password=PASSWORD)
    assert is_consent_page(consent)
    text = consent.text
    assert "Web App" in text and WEB_ID in text
    for scope in ("openid", "email", "read"):
        assert f"<code>{scope}</code>" in text
    assert parse_page(text).forms[0].buttons.keys() >= {"allow", "deny"}


def test_a_wrong_password_or_unknown_user_shows_the_sign_in_page_again(oidc_authserver):
    browser = requests.Session()
    page = start(browser, oidc_authserver, code_request())
    for username, password in ((USER, "not-her-password"), ("nobody", PASSWORD)):
        again = submit(browser, page, "sign_in", username=username, password=password)
        assert is_login_page(again) and "wrong" in again.text
        assert password not in again.text
    assert not any(c.name == "authserver_session" and "login" in c.value for c in browser.cookies)


def test_an_unknown_user_costs_the_same_hash_as_a_known_one(monkeypatch):
    """Timing must not tell which user names exist: one PBKDF2 check of the same cost either way."""
    from playground.authserver import users

    costs = []
    real = users.check_password_hash
    monkeypatch.setattr(
        users, "check_password_hash", lambda h, p: costs.append(h.split("$")[0]) or real(h, p)
    )

    class Known:
        password_hash = users.generate_password_hash("pw", method=users.PASSWORD_HASH_METHOD)

    class Session:
        def __init__(self, user):
            self.user = user

        def scalar(self, _statement):
            return self.user

    assert users.authenticate_user(Session(Known()), "alice", "nope") is None
    assert users.authenticate_user(Session(None), "nobody", "nope") is None
    assert costs == [users.PASSWORD_HASH_METHOD, users.PASSWORD_HASH_METHOD]


def test_the_forms_are_csrf_protected(oidc_authserver):
    browser = requests.Session()
    page = start(browser, oidc_authserver, code_request())
    (form,) = parse_page(page.text).forms
    forged = {
        **form.fields,
        "csrf_token": "forged",
        "username": USER,
        "password": PASSWORD,
        "sign_in": "Sign in",
    }
    response = browser.post(
        oidc_authserver.url + "/oauth2/authorize/login",
        data=forged,
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "CSRF" in response.text
    other_browser = requests.Session()  # the right token, but in another browser's session
    response = other_browser.post(
        oidc_authserver.url + "/oauth2/authorize/login",
        data={**forged, "csrf_token": form.fields["csrf_token"]},
        timeout=10,
    )
    assert response.status_code == 400
    assert is_login_page(start(browser, oidc_authserver, code_request()))  # still not signed in


def test_an_altered_request_on_the_sign_in_page_is_refused(oidc_authserver):
    browser = requests.Session()
    page = start(browser, oidc_authserver, code_request())
    response = submit(
        browser, page, "sign_in", username=USER, password=PASSWORD, authorization="x" + "y" * 40
    )
    assert response.status_code == 400 and "altered" in response.text
    assert "Location" not in response.headers


def test_every_page_has_strict_headers_and_form_action_allows_the_redirect_target(oidc_authserver):
    browser = requests.Session()
    login = start(browser, oidc_authserver, code_request(response_mode="form_post"))
    consent = submit(browser, login, "sign_in", username=USER, password=PASSWORD)
    form_post = submit(browser, consent, "allow")
    error = start(browser, oidc_authserver, code_request(client_id="nobody"))
    for response in (login, consent, form_post, error):
        headers = response.headers
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert (
            csp["default-src"] == "'none'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
        )
        assert csp["frame-ancestors"] == "'none'"
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    for response in (login, consent, form_post):
        assert "http://127.0.0.1:9" in response.headers["Content-Security-Policy"].split("form-action")[1]
    assert "127.0.0.1:9" not in error.headers["Content-Security-Policy"]
    # The form_post page: a form to the redirect URI, a Continue button, the script as a file.
    page = parse_page(form_post.text)
    assert page.forms[0].action == REDIRECT_URI and "" in page.forms[0].buttons
    assert "Continue" in form_post.text and '<script src="/static/authserver-form-post.js"' in form_post.text
    script = requests.get(oidc_authserver.url + "/static/authserver-form-post.js", timeout=10)
    assert script.status_code == 200 and "submit()" in script.text


def test_codes_are_stored_hashed_and_short_lived(oidc_authserver):
    back = login_and_consent(requests.Session(), oidc_authserver, code_request(), USER, PASSWORD)
    session = oidc_authserver.app.extensions["demo_authserver"]["sessions"]()
    row = session.scalars(select(AuthorizationCode)).one()
    session.close()
    assert back["code"] not in (row.code_hash, row.redirect_uri)
    assert row.expires_at - row.issued_at == 60


def test_no_password_reaches_any_log(oidc_authserver, caplog):
    """The log redaction is installed on the demo server; nothing logs the posted form either."""
    secret_password = "Correct-Horse-Battery-Staple-42"
    oidc_authserver.add_user("bob", secret_password)
    caplog.set_level(logging.DEBUG)
    browser = requests.Session()
    page = start(browser, oidc_authserver, code_request())
    submit(browser, page, "sign_in", username="bob", password="wrong-" + secret_password)
    submit(browser, page, "sign_in", username="bob", password=secret_password)
    logging.getLogger("test").info("form: username=bob&password=%s", secret_password)  # redacted at creation
    assert secret_password not in caplog.text


def test_a_code_for_a_removed_client_or_user_is_not_accepted(oidc_authserver):
    from playground.authserver.users import remove_user

    verifier, challenge = pkce_pair()
    back = login_and_consent(
        requests.Session(), oidc_authserver, code_request(code_challenge=challenge), USER, PASSWORD
    )
    session = oidc_authserver.app.extensions["demo_authserver"]["sessions"]()
    assert remove_user(session, USER)
    session.close()
    response = exchange_code(oidc_authserver, back["code"], REDIRECT_URI, WEB_ID, WEB_SECRET, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
