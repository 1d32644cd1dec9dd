"""The device authorization grant (RFC 8628) through the playground's pages: Authorize asks the device
authorization endpoint, the device page shows the codes, Poll now asks the token endpoint once. Against
the real demo server (the user approves or denies over HTTP, as at the verification page), and against
small loopback servers of our own for slow_down and a broken device endpoint."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask, jsonify, request

from playground import create_app
from playground.authserver.models import DEVICE_CODE_GRANT

from .codeflow import FORM, code_form, page_form
from .conftest import PASSWORD, USER, playground_config
from .faults import misbehaving_server
from .servers import live_server, running_authserver
from .test_device_grant import approve, change_rows
from .test_playground import masked_part, text

CLIENT, SECRET = "living-room", "living-room-secret-0123"
SCOPE = "openid profile email offline_access read"
POLL = "/playground2/device/poll"
USER_CODE = re.compile(r'id="user-code">([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})<')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_authserver(tmp_path_factory.mktemp("device-pages") / "store.sqlite3") as server:
        server.add_user(USER, PASSWORD, name="Alice Example", email="alice@example.com")
        server.add_client(
            CLIENT,
            SECRET,
            SCOPE,
            client_name="Living Room TV",
            grant_types=[DEVICE_CODE_GRANT, "refresh_token"],
        )
        server.add_client("code-only", "code-only-secret-0123", SCOPE, grant_types=["client_credentials"])
        yield server


@pytest.fixture
def playground(server):
    return create_app(playground_config(server, WTF_CSRF_ENABLED=False)).test_client()


def device_form(base: str, **fields) -> dict[str, str]:
    """The form with Device Authorization chosen, against the server at `base`; Authorize pressed."""
    defaults = {
        "grant_type": "device_code",
        "device_authorization_endpoint": base + "/oauth2/device_authorize",
        "scope": "openid profile offline_access",
    }
    return {**code_form(base, CLIENT, SECRET, **defaults), **fields}


def hidden(response, name: str) -> str:
    """A hidden field of the device page's poll form."""
    return page_form(response, "poll")[name]


def start(playground, server, **fields):
    response = playground.post(FORM, data=device_form(server.url, **fields))
    assert response.status_code == 200, text(response)[:3000]
    return response


def user_code(response) -> str:
    match = USER_CODE.search(response.get_data(as_text=True))
    assert match, text(response)[:3000]
    return match.group(1)


def test_authorize_shows_the_user_code_links_qr_code_and_expiry(playground, server):
    response = start(playground, server)
    html, body = response.get_data(as_text=True), text(response)
    assert "Enter the code on another device" in body
    code = user_code(response)
    verify = f"{server.url}/oauth2/device"
    assert f'href="{verify}"' in html and f'href="{verify}?user_code={code}"' in html
    # The QR code is drawn here, as an image the CSP allows (img-src data:), no inline style.
    assert re.search(r'<img class="qr" id="device-qr" src="data:image/svg\+xml;[^"]+" alt="QR code of ', html)
    assert "style=" not in html and "<script>" not in html
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]
    assert re.search(r"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", body)  # the absolute expiry, without JS
    assert hidden(response, "poll_interval") == "5"
    # The request: client authentication as chosen (Basic here), the scope; RFC 8628 §3.1.
    wire = masked_part(response)
    assert "POST /oauth2/device_authorize" in wire and "Authorization: Basic" in wire
    assert "scope=openid+profile+offline_access" in wire
    # The device code is a credential: in the poll form's hidden field, masked everywhere shown.
    device_code = hidden(response, "device_code")
    assert len(device_code) > 30 and device_code not in masked_part(response)
    assert device_code not in hidden(response, "transcript")
    assert device_code in hidden(response, "transcript_revealed")
    assert "Device authorization request (RFC 8628 §3.1)" in hidden(response, "transcript")


def test_a_poll_before_the_user_answers_is_still_waiting(playground, server):
    first = start(playground, server)
    waiting = playground.post(POLL, data=page_form(first, "poll"))
    body = text(waiting)
    assert waiting.status_code == 200 and "Still waiting for the user" in body
    assert "authorization_pending" in body and user_code(waiting) == user_code(first)
    polls = re.findall(r"<li>(\d\d:\d\d:\d\d UTC · [^<]+)</li>", waiting.get_data(as_text=True))
    assert len(polls) == 2 and "HTTP 200 · device authorization" in polls[0]
    assert "HTTP 400 · authorization_pending" in polls[1]
    wire = masked_part(waiting)
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code" in wire
    assert hidden(first, "device_code") not in wire and "device_code=" in wire
    assert "Poll now" in body and "data-auto" in waiting.get_data(as_text=True)  # the page polls on


def test_approve_then_poll_gets_the_tokens_and_refresh_keeps_the_client_authentication(playground, server):
    first = start(playground, server, client_auth="client_secret_post")
    approve(server, user_code(first))
    tokens = playground.post(POLL, data=page_form(first, "poll"))
    body = text(tokens)
    assert "Tokens received" in body and "ID token valid: every check passed" in body, body[:3000]
    wire = masked_part(tokens)
    assert "client_secret=" in wire and "Authorization: Basic" not in wire.split("device_code")[0]
    # The device code is spent (§3.5): the next steps' form carries it no further, the page masks it.
    assert hidden(first, "device_code") not in masked_part(tokens)
    assert page_form(tokens, "refresh")["device_code"] == ""
    for button in ("get_userinfo", "refresh", "get_tokeninfo"):
        assert page_form(tokens, button)
    refreshed = playground.post("/playground2/refresh", data=page_form(tokens, "refresh"))
    assert "Tokens refreshed" in text(refreshed), text(refreshed)[:3000]
    request_part = masked_part(refreshed).split("grant_type=refresh_token")[0].rsplit("POST ", 1)[-1]
    assert "Authorization: Basic" not in request_part and "client_secret=" in masked_part(refreshed)
    info = playground.post("/playground2/userinfo", data=page_form(tokens, "get_userinfo"))
    assert "Alice Example" in text(info)


def test_deny_ends_with_access_denied_and_polling_stops(playground, server):
    first = start(playground, server)
    approve(server, user_code(first), allow=False)
    denied = playground.post(POLL, data=page_form(first, "poll"))
    body, html = text(denied), denied.get_data(as_text=True)
    assert "Access denied" in body and "access_denied" in body and "Polling has stopped" in body
    assert 'name="poll"' not in html and "data-auto" not in html


def test_an_expired_device_code_ends_with_expired_token(playground, server):
    first = start(playground, server)
    change_rows(server, expires_at=0)  # every code in this store: the demo server's own expiry check
    expired = playground.post(POLL, data=page_form(first, "poll"))
    body = text(expired)
    assert "The device code expired" in body and "expired_token" in body
    assert 'name="poll"' not in expired.get_data(as_text=True)


def test_the_device_endpoints_oauth_errors_are_explained(playground, server):
    refused = playground.post(FORM, data=device_form(server.url, scope="openid admin"))
    assert "Device authorization refused" in text(refused) and "invalid_scope" in text(refused)
    other = device_form(server.url, client_id="code-only", client_secret="code-only-secret-0123")
    body = text(playground.post(FORM, data=other))
    assert "unauthorized_client" in body and "not allowed the device authorization grant" in body
    wrong = text(playground.post(FORM, data=device_form(server.url, client_secret="wrong")))
    assert "invalid_client" in wrong and "Check the client ID and the client secret" in wrong


@pytest.mark.parametrize(
    "kind, title",
    [
        ("html", "The server answered with an HTML page instead of JSON."),
        ("invalid_json", "The server's answer is not valid JSON."),
        ("refuse", "Nothing is listening"),
    ],
)
def test_a_broken_device_endpoint_gets_a_clear_page(playground, server, kind, title):
    with misbehaving_server(kind) as url:
        fields = device_form(server.url, device_authorization_endpoint=url + "/device_authorize")
        response = playground.post(FORM, data=fields)
    body = text(response)
    assert response.status_code == 200 and "Device authorization failed" in body
    assert title.split(".")[0].split(" is")[0] in body, body[:3000]


def test_a_device_response_without_what_rfc_8628_requires_is_a_problem(playground, server):
    body = {
        "device_code": "dc",
        "user_code": "ABCD",
        "verification_uri": "javascript:alert(1)",
        "expires_in": 60,
    }
    with misbehaving_server("json", body=body) as url:
        fields = device_form(server.url, device_authorization_endpoint=url)
        page = text(playground.post(FORM, data=fields))
    assert "lacks what RFC 8628 §3.2 requires" in page and "verification_uri (an http(s) URL)" in page


def test_device_authorize_needs_its_endpoint(playground, server):
    response = playground.post(FORM, data=device_form(server.url, device_authorization_endpoint=""))
    assert response.status_code == 400
    assert "Device Authorization Endpoint" in text(response) and "Required." in text(response)


# -- slow_down, from a server of our own that sends it -------------------------------------------


@pytest.fixture
def slow_server():
    """A device authorization endpoint and a token endpoint that answers every poll slow_down."""
    app = Flask(__name__)
    polls: list[dict] = []

    @app.post("/device")
    def device():
        return jsonify(
            device_code="slow-device-code-0123456789",
            user_code="WDJB-MJHT",
            verification_uri=request.host_url + "device",
            expires_in=600,
            interval=5,
        )

    @app.post("/token")
    def token():
        polls.append(dict(request.form))
        return jsonify(error="slow_down", error_description="Polled too soon."), 400

    with live_server(app) as url:
        app.polls = polls
        app.url = url
        yield app


def test_slow_down_adds_five_seconds_to_the_interval_each_time(playground, slow_server):
    url = slow_server.url
    fields = device_form(url, device_authorization_endpoint=url + "/device", token_endpoint=url + "/token")
    first = playground.post(FORM, data=fields)
    assert user_code(first) == "WDJB-MJHT" and hidden(first, "poll_interval") == "5"
    assert "verification_uri_complete" not in text(first)  # optional, and not sent here
    second = playground.post(POLL, data=page_form(first, "poll"))
    assert "Still waiting for the user" in text(second) and hidden(second, "poll_interval") == "10"
    assert "slow_down, so 5 s more" in text(second)
    third = playground.post(POLL, data=page_form(second, "poll"))
    assert hidden(third, "poll_interval") == "15"
    assert 'data-interval="15"' in third.get_data(as_text=True)
    assert [p["device_code"] for p in slow_server.polls] == ["slow-device-code-0123456789"] * 2
    assert all(p["grant_type"] == DEVICE_CODE_GRANT for p in slow_server.polls)


def test_poll_now_without_a_device_code_says_what_is_missing(playground, server):
    first = start(playground, server)
    fields = {**page_form(first, "poll"), "device_code": ""}
    response = playground.post(POLL, data=fields)
    assert response.status_code == 400 and "Nothing was sent" in text(response)


def test_the_poll_form_is_csrf_protected(server):
    app = create_app(playground_config(server))
    response = app.test_client().post(POLL, data={"device_code": "x", "poll": "Poll now"})
    assert response.status_code == 400 and "This form has expired" in text(response)


def test_grants_the_metadata_does_not_list_get_a_note_not_a_block(playground, server):
    fields = {
        **device_form(server.url),
        "discovery_url": server.url + "/oauth2/token",
        "discover": "Discover",
    }
    fields.pop("authorize")
    found = playground.post("/playground2/discover", data=fields)
    listed = unescape(hidden_input(found, "grant_types_supported"))
    assert DEVICE_CODE_GRANT in listed.split()
    assert 'id="grant-not-listed" role="status" data-supported' in found.get_data(as_text=True)
    html = found.get_data(as_text=True)
    assert re.search(r'id="grant-not-listed"[^>]* hidden>', html)  # listed: no note
    assert (
        page_form(found, "authorize")["device_authorization_endpoint"]
        == server.url + "/oauth2/device_authorize"
    )
    unlisted = {**page_form(found, "authorize"), "grant_types_supported": "authorization_code"}
    shown = playground.post(FORM, data={**unlisted, "start_over": "Start over"})
    assert not re.search(r'id="grant-not-listed"[^>]* hidden>', shown.get_data(as_text=True))
    assert "does not list urn:ietf:params:oauth:grant-type:device_code" in " ".join(text(shown).split())
    # A note, not a block: Authorize still goes out.
    assert user_code(playground.post(FORM, data=unlisted))


def hidden_input(response, name: str) -> str:
    match = re.search(
        rf'<input id="{name}" name="{name}" type="hidden" value="([^"]*)"', response.get_data(as_text=True)
    )
    assert match, name
    return match.group(1)
