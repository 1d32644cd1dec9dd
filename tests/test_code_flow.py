"""The playground's code flow with PKCE and OpenID Connect, against the real demo server on loopback:
the authorization request, the callback's checks, the code exchange, the ID token's checks, UserInfo,
refresh, revocation and logout."""

from __future__ import annotations

import pytest
import requests

from playground import create_app

from .codeflow import (
    CALLBACK,
    FORM,
    LOGGED_OUT,
    at_the_server,
    authorization_url,
    code_form,
    deliver,
    page_form,
)
from .conftest import PASSWORD, USER, playground_config
from .servers import running_authserver
from .test_playground import text

PG_ID, PG_SECRET, PUBLIC_ID = "pg", "pg-secret-0123456789", "pg-public"
SCOPE = "openid profile email offline_access read"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One demo server for the module: alice, a confidential and a public client whose redirect URI
    is the playground's callback as Flask's test client reaches it."""
    with running_authserver(tmp_path_factory.mktemp("code-flow") / "store.sqlite3") as server:
        server.add_user(USER, PASSWORD, name="Alice Example", email="alice@example.com")
        for client_id, secret in ((PG_ID, PG_SECRET), (PUBLIC_ID, None)):
            server.add_client(
                client_id,
                secret,
                SCOPE,
                public=secret is None,
                grant_types=["authorization_code", "refresh_token"],
                redirect_uris=[CALLBACK],
                post_logout_redirect_uris=[LOGGED_OUT],
            )
        yield server


@pytest.fixture
def playground(server):
    return create_app(playground_config(server, WTF_CSRF_ENABLED=False)).test_client()


def run_to_callback(playground, server, *, client_id=PG_ID, secret=PG_SECRET, session=None, **fields):
    """Authorize in the playground, log in and consent at the server, bring the answer back."""
    authorize = playground.post(FORM, data=code_form(server, client_id, secret, **fields))
    assert authorize.status_code == 200, text(authorize)[:2000]
    answer = at_the_server(authorization_url(authorize), session, USER, PASSWORD)
    return authorize, answer, deliver(playground, answer)


def test_code_flow_with_pkce_and_openid_connect_end_to_end(playground, server):
    authorize, answer, callback = run_to_callback(playground, server)
    # Before the browser leaves: the request, decoded, with a fresh state, nonce and challenge.
    shown = text(authorize)
    for name in ("response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge"):
        assert name in shown
    assert "S256" in shown and "Continue to the authorization server" in shown
    assert PG_SECRET not in authorization_url(authorize)
    # The callback: state and iss checked, the code shown masked, Get Access Token offered.
    body = text(callback)
    assert callback.status_code == 200, body[:3000]
    assert "✓ state" in body and "✓ iss" in body
    # The code is masked on the page: in no visible text, only in the form's fields.
    assert answer.params["code"] in callback.get_data(as_text=True)
    assert answer.params["code"] not in body
    tokens = playground.post("/playground2/token", data=page_form(callback, "get_access_token"))
    body = text(tokens)
    assert tokens.status_code == 200, body[:3000]
    assert "Tokens received" in body and "ID token valid: every check passed" in body
    for check in ("Signature", "Issuer", "Audience", "Expiry", "Nonce", "at_hash"):
        assert f"✓ {check}" in body, check
    assert "PKCE, followed through" in body
    # UserInfo: its sub is the ID token's.
    info = playground.post("/playground2/userinfo", data=page_form(tokens, "get_userinfo"))
    assert "✓ UserInfo subject" in text(info) and "alice@example.com" in text(info)
    # Refresh: the refresh token rotates, and the client authentication stays what it was.
    refreshed = playground.post("/playground2/refresh", data=page_form(info, "refresh"))
    body = text(refreshed)
    assert "Tokens refreshed" in body and "rotated: the old one is spent" in body
    # Revoke the refresh token, then a refresh fails.
    fields = page_form(refreshed, "revoke")
    revoked = playground.post("/playground2/revoke", data={**fields, "token_choice": "refresh_token"})
    assert "Revoked" in text(revoked)
    again = playground.post("/playground2/refresh", data=page_form(refreshed, "refresh"))
    assert "invalid_grant" in text(again)


@pytest.mark.parametrize("max_age", ["²", "١٢", "12a", "12345678901"])
def test_max_age_is_ascii_digits_or_a_field_error(playground, server, max_age):
    response = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET, max_age=max_age))
    assert response.status_code == 400 and "in the digits 0-9" in text(response)


def test_a_carried_max_age_that_is_no_number_is_not_a_500(playground, server):
    _authorize, _answer, callback = run_to_callback(playground, server)
    fields = {**page_form(callback, "get_access_token"), "sent_max_age": "²"}  # an altered hidden field
    tokens = playground.post("/playground2/token", data=fields)
    assert tokens.status_code == 200 and "ID token valid: every check passed" in text(tokens)


def pending_cookies(test_client) -> dict[str, str]:
    """The pending authorizations' cookies the test client's jar would send to /playground2/."""
    return {c.key: c.value for c in test_client._cookies.values() if c.key.startswith("playground_flow_")}


def test_many_authorizations_keep_the_cookie_header_small(playground, server):
    """A Cookie header over the server's limit (gunicorn: 8190 bytes a header field) would lock
    the user out of every page for 10 minutes: the pending cookies stay small, the oldest go."""
    long = {
        "scope": SCOPE + " " + " ".join(f"scope-number-{i:03}" for i in range(30)),
        "extra_params": "&".join(f"parameter{i}=value-{i:04}" for i in range(25)),
    }
    for _ in range(6):
        assert playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET, **long)).status_code == 200
        cookies = pending_cookies(playground)
        assert all(len(value) <= 1536 for value in cookies.values())
        assert len(cookies) <= 4
        header = "; ".join(f"{c.key}={c.value}" for c in playground._cookies.values())
        assert len(header) < 6000, len(header)
    assert playground.get(FORM).status_code == 200
    # The newest one still finishes its flow, its transcript rebuilt from what the cookie carries.
    authorize = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET))
    callback = deliver(playground, at_the_server(authorization_url(authorize), None, USER, PASSWORD))
    transcript = page_form(callback, "get_access_token")["transcript"]
    assert "## Authorization request (RFC 6749 §4.1.1)" in transcript
    assert "## Authorization response at the callback" in transcript


def test_the_pending_cookie_is_secure_over_https(playground, server):
    response = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET), base_url="https://localhost")
    (cookie,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("playground_flow_")]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_callback_with_both_a_code_and_an_error_shows_the_error(playground, server):
    authorize = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET))
    answer = at_the_server(authorization_url(authorize), None, USER, PASSWORD)
    answer.params["error"] = "access_denied"
    body = text(deliver(playground, answer))
    assert "access_denied" in body and "Get Access Token" not in body


def test_userinfo_sub_against_an_id_token_that_failed_is_not_a_pass(playground, server):
    _authorize, _answer, callback = run_to_callback(playground, server)
    tokens = playground.post("/playground2/token", data=page_form(callback, "get_access_token"))
    fields = page_form(tokens, "get_userinfo")
    head, _sig = fields["id_token"].rsplit(".", 1)
    fields["id_token"] = head + "." + "A" * 342  # the same claims, a signature that is not the server's
    body = text(playground.post("/playground2/userinfo", data=fields))
    assert "✓ UserInfo subject" not in body and "compared with an ID token that failed" in body


def test_authorize_needs_the_secret_its_client_authentication_sends(playground, server):
    response = playground.post(
        FORM, data={**code_form(server, PG_ID, ""), "client_auth": "client_secret_basic"}
    )
    assert response.status_code == 400 and "client_secret_basic sends the client secret" in text(response)


def test_a_tampered_state_stops_the_flow(playground, server):
    authorize = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET))
    answer = at_the_server(authorization_url(authorize), None, USER, PASSWORD)
    answer.params["state"] = "not-the-state-we-sent"
    callback = deliver(playground, answer)
    body = text(callback)
    assert callback.status_code == 400
    assert "✗ state" in body and "The flow stops here" in body
    assert "Get Access Token" not in body


def test_a_callback_that_belongs_to_no_flow_gets_a_page(server):
    fresh = create_app(playground_config(server, WTF_CSRF_ENABLED=False)).test_client()
    response = fresh.get("/playground2/oauth2client", query_string={"code": "abc", "state": "xyz"})
    assert response.status_code == 400
    assert "belongs to no authorization in progress" in text(response)


def test_a_reload_of_the_callback_is_not_a_second_answer(playground, server):
    _authorize, answer, callback = run_to_callback(playground, server)
    assert "Get Access Token" in text(callback)
    reloaded = deliver(playground, answer)
    assert reloaded.status_code == 400 and "belongs to no authorization in progress" in text(reloaded)


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_fragment_and_form_post(playground, server, mode):
    _authorize, answer, callback = run_to_callback(playground, server, response_mode=mode)
    assert answer.mode == mode
    assert "✓ state" in text(callback) and "Get Access Token" in text(callback)


def test_the_public_client_with_pkce_plain(playground, server):
    _authorize, _answer, callback = run_to_callback(
        playground, server, client_id=PUBLIC_ID, secret="", pkce_method="plain"
    )
    fields = page_form(callback, "get_access_token")
    verifier = fields["code_verifier"]
    # plain: the code_challenge is the verifier (RFC 7636 §4.2), so it is masked like it.
    assert verifier not in fields["transcript"] and verifier in fields["transcript_revealed"]
    tokens = playground.post("/playground2/token", data=fields)
    assert "ID token valid: every check passed" in text(tokens)


def test_deny_is_access_denied_explained(playground, server):
    # prompt=consent: the consent page comes even though alice allowed this client before.
    authorize = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET, prompt="consent"))
    answer = at_the_server(authorization_url(authorize), None, USER, PASSWORD, allow=False)
    body = text(deliver(playground, answer))
    assert "access_denied" in body and "Authorize again and choose Allow" in body
    assert "Get Access Token" not in body


def test_the_same_code_twice_is_explained(playground, server):
    _authorize, _answer, callback = run_to_callback(playground, server)
    fields = page_form(callback, "get_access_token")
    assert "Tokens received" in text(playground.post("/playground2/token", data=fields))
    second = text(playground.post("/playground2/token", data=fields))
    assert "invalid_grant" in second


def test_a_second_authorization_skips_the_login(playground, server):
    session = requests.Session()
    run_to_callback(playground, server, session=session)
    authorize = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET))
    answer = at_the_server(authorization_url(authorize), session)  # no user name: no login page may come
    assert "code" in answer.params


def test_the_flow_finishes_on_another_instance_with_the_same_key(server):
    config = playground_config(server, WTF_CSRF_ENABLED=False, SECRET_KEY="shared-secret-key-for-both")
    first, second = create_app(config).test_client(), create_app(config).test_client()
    authorize = first.post(FORM, data=code_form(server, PG_ID, PG_SECRET))
    for cookie in first._cookies.values():  # the browser's cookie goes with it to the other instance
        second.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    answer = at_the_server(authorization_url(authorize), None, USER, PASSWORD)
    callback = deliver(second, answer)
    assert "✓ state" in text(callback)
    tokens = second.post("/playground2/token", data=page_form(callback, "get_access_token"))
    assert "ID token valid" in text(tokens)


def test_two_flows_in_two_tabs_do_not_mix_up(playground, server):
    one = playground.post(FORM, data=code_form(server, PG_ID, PG_SECRET))
    two = playground.post(FORM, data=code_form(server, PUBLIC_ID, "", client_auth="none"))
    answer_two = at_the_server(authorization_url(two), None, USER, PASSWORD)
    answer_one = at_the_server(authorization_url(one), None, USER, PASSWORD)
    for answer, client_id in ((answer_one, PG_ID), (answer_two, PUBLIC_ID)):
        callback = deliver(playground, answer)
        assert "✓ state" in text(callback)
        assert page_form(callback, "get_access_token")["client_id"] == client_id


def test_logout_ends_the_session_and_comes_back(playground, server):
    _authorize, _answer, callback = run_to_callback(playground, server)
    tokens = playground.post("/playground2/token", data=page_form(callback, "get_access_token"))
    logout = playground.post("/playground2/logout", data=page_form(tokens, "logout"))
    html = logout.get_data(as_text=True)
    assert 'action="' + server.url + '/oidc/logout"' in html
    csp = logout.headers["Content-Security-Policy"]
    assert f"form-action 'self' {server.url}" in csp
    fields = page_form(logout, "")  # the logout form's only button has no name
    fields.pop("", None)
    answer = requests.post(server.url + "/oidc/logout", data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:500]
    location = answer.headers["Location"]
    assert location.startswith(LOGGED_OUT)
    back = playground.get(location.removeprefix("http://localhost"))
    assert "The session at the server ended" in text(back) and "✓ state" in text(back)
