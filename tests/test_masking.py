"""Masked views hide every credential the request carried, in every encoding it went out in,
from every part of the page and of the transcript meant for tickets, even when a server
echoes the request back (httpbin's /anything, an error page printing what it got)."""

from __future__ import annotations

import base64
import json
from html import unescape
from urllib.parse import quote, quote_plus

import pytest

from playground.client import userinfo
from playground.exchange import MASK, Exchange, RecordedRequest, RecordedResponse
from playground.outbound import Outbound, Policy
from playground.results import DESCRIPTION_LIMIT, read_userinfo_response

from .faults import misbehaving_server
from .test_export import TRANSCRIPT, carried
from .test_playground import FORM, TOKENINFO, introspection_form, masked_part, token_form

CLIENT_ID = "echo-client"
SECRET = "Echo+Secret/With:Odd=Chars"
USER_PASSWORD = "admin-password-42"
BEARER = "bearer-token-for-introspection-0123456789"


def basic(user: str, password: str, urlencode: bool = True) -> str:
    if urlencode:
        user, password = quote_plus(user), quote_plus(password)
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def forms_of_every_credential(url: str) -> list[tuple[str, str, dict, list[str]]]:
    """(page, case, form, what must not show) for each way the playground authenticates."""
    cases = []
    for method, urlencode in (("client_secret_basic", True), ("client_secret_basic_raw", False)):
        value = basic(CLIENT_ID, SECRET, urlencode)
        cases.append(
            (FORM, method, token_form(url, client_id=CLIENT_ID, client_secret=SECRET, client_auth=method),
             [SECRET, value, f"Basic {value}"])
        )  # fmt: skip
    cases.append(
        (FORM, "client_secret_post",
         token_form(url, client_id=CLIENT_ID, client_secret=SECRET, client_auth="client_secret_post"),
         [SECRET, quote_plus(SECRET), quote(SECRET, safe="")])
    )  # fmt: skip
    user_value = basic("admin", USER_PASSWORD, urlencode=False)
    cases.append(
        (TOKENINFO, "introspection user",
         introspection_form(url, "some-token", introspection_auth="basic", introspection_username="admin",
                            introspection_password=USER_PASSWORD),
         [USER_PASSWORD, user_value, f"Basic {user_value}"])
    )  # fmt: skip
    cases.append(
        (TOKENINFO, "introspection bearer",
         introspection_form(url, "some-token", introspection_auth="bearer", introspection_bearer=BEARER),
         [BEARER, f"Bearer {BEARER}"])
    )  # fmt: skip
    return cases


@pytest.mark.parametrize(
    "format, status",
    # "headers": in the reason phrase, Location and WWW-Authenticate (a Bearer error's description).
    [("json", 401), ("text", 401), ("headers", 401), ("headers", 302)],
)
def test_an_echoing_server_shows_no_credential_in_the_masked_views(test_client, format, status):
    with misbehaving_server("echo", format=format, status=status) as url:
        for page, case, form, hidden in forms_of_every_credential(url):
            response = test_client.post(page, data=form)
            assert response.status_code in (200, 400), case
            shown = unescape(masked_part(response))
            assert MASK in shown, case
            for value in hidden:
                assert value not in shown, (case, value)
            # ... nor in the transcript a person attaches to a ticket.
            download = test_client.post(TRANSCRIPT, data={**carried(response), "download": "1"})
            transcript = download.get_data(as_text=True)
            assert "Rejected" in transcript or "Bad request" in transcript, case  # the echo is there
            for value in hidden:
                assert value not in transcript, (case, value)


def test_the_error_description_panel_is_masked(test_client):
    with misbehaving_server("echo") as url:
        response = test_client.post(FORM, data=token_form(url, client_id=CLIENT_ID, client_secret=SECRET))
    html = unescape(response.get_data(as_text=True))
    panel = html.split('class="alert oauth-error"')[1].split("</div>")[0]
    assert f"Rejected Authorization: Basic {MASK}" in panel
    assert basic(CLIENT_ID, SECRET) not in panel


def test_the_ticket_transcript_masks_every_token(test_client):
    tokens = {
        "access_token": "access-token-value-0123456789",
        "refresh_token": "refresh-token-value-0123456789",
        "id_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
        "token_type": "Bearer",
    }
    with misbehaving_server("json", body=tokens) as url:
        first = test_client.post(FORM, data=token_form(url))
        download = test_client.post(TRANSCRIPT, data={**carried(first), "download": "1"})
    transcript = download.get_data(as_text=True)
    assert '"token_type": "Bearer"' in transcript
    for name in ("access_token", "refresh_token", "id_token"):
        assert tokens[name] not in transcript, name
        assert f'"{name}": "{MASK}"' in transcript
    revealed = test_client.post(TRANSCRIPT, data={**carried(first), "reveal": "1", "download": "1"})
    assert tokens["refresh_token"] in revealed.get_data(as_text=True)


def exchange_with(headers, body="", response_body=b"", secrets=()) -> Exchange:
    return Exchange(
        request=RecordedRequest("POST", "https://as.example/token", headers, body),
        response=RecordedResponse(400, "Bad Request", [("Content-Type", "text/plain")], response_body),
        secrets=secrets,
    )


@pytest.mark.parametrize(
    "headers, body, echoed",
    [
        # The Basic value and its base64 part, without the caller naming the secret.
        ([("Authorization", "Basic " + basic("id", "s3cret-value"))], "", basic("id", "s3cret-value")),
        ([("Authorization", "Basic " + basic("id", "s3cret-value"))], "", "id:s3cret-value"),
        ([("Authorization", "Bearer abcdefgh12345678")], "", "abcdefgh12345678"),
        ([], "client_assertion=eyJhbGciOi.eyJpc3Mi.c2lnbmF0dXJl", "eyJhbGciOi.eyJpc3Mi.c2lnbmF0dXJl"),
        ([], "code=auth-code-123456&code_verifier=verifier-abcdefghijk", "verifier-abcdefghijk"),
        ([], "code=auth-code-123456&code_verifier=verifier-abcdefghijk", "auth-code-123456"),
        ([], "client_secret=a%26b%3Cc%3Edefgh", "a&amp;b&lt;c&gt;defgh"),  # HTML-escaped on an error page
        ([], "client_secret=quote%22in%5Cside", 'quote\\"in\\\\side'),  # JSON-escaped
        # RFC 3986 §2.1: hex digits of either case; quote() writes upper, a server may echo lower.
        ([], "client_secret=a%2Fb%2Bcdefgh", "a%2fb%2bcdefgh"),
        # RFC 4648 §3.2: a Basic value echoed without its padding.
        (
            [("Authorization", "Basic " + basic("id", "s3cret-valu"))],
            "",
            basic("id", "s3cret-valu").rstrip("="),
        ),
    ],
)
def test_credentials_are_found_in_the_request_itself(headers, body, echoed):
    exchange = exchange_with(headers, body, f"you sent: {echoed} (sic)".encode())
    masked = exchange.masked()
    assert echoed not in masked.response.text
    assert f"you sent: {MASK} (sic)" == masked.response.text
    assert echoed not in masked.request_text()


def test_json_escapes_hide_no_credential():
    """A JSON echo may escape any character (\\u0073, \\/): masking reads the parsed strings."""
    secret = "s3cret/value+x"
    escaped = "".join(f"\\u{ord(c):04x}" for c in secret)
    slashed = secret.replace("/", "\\/")
    body = f'{{"echo": "got {escaped}", "said": "you sent {slashed} (sic)", "n": 1}}'
    exchange = exchange_with([], f"client_secret={quote_plus(secret)}", body.encode())
    masked = exchange.masked()
    assert masked.json() == {"echo": f"got {MASK}", "said": f"you sent {MASK} (sic)", "n": 1}
    assert escaped not in masked.response.text and "s3cret" not in masked.response.text


def test_a_form_encoded_token_response_is_masked_in_the_ticket_transcript(test_client):
    """RFC 6749 §5.1 asks for JSON, yet some servers (GitHub's) answer form-encoded."""
    tokens = {
        "access_token": "form-access-token-0123456789",
        "refresh_token": "form-refresh-token-0123456789",
    }
    body = "&".join(f"{k}={v}" for k, v in tokens.items()) + "&token_type=bearer"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with misbehaving_server("json", body=body, headers=headers) as url:
        first = test_client.post(FORM, data=token_form(url))
        download = test_client.post(TRANSCRIPT, data={**carried(first), "download": "1"})
        revealed = test_client.post(TRANSCRIPT, data={**carried(first), "reveal": "1", "download": "1"})
    transcript = download.get_data(as_text=True)
    assert "token_type=bearer" in transcript
    for name, value in tokens.items():
        assert value not in transcript, name
        assert f"{name}={MASK}" in transcript
    assert tokens["refresh_token"] in revealed.get_data(as_text=True)


def test_signed_userinfo_claims_are_shown_masked():
    """Claims read from an application/jwt answer are not the JSON body: masked all the same."""
    token = "userinfo-access-token-0123456789"

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    jwt = f"{part({'alg': 'none'})}.{part({'sub': 'alice', 'echo': f'you sent Bearer {token}'})}."
    with misbehaving_server("json", body=jwt, headers={"Content-Type": "application/jwt"}) as url:
        outcome = read_userinfo_response(userinfo(Outbound(Policy(timeout=5)), url, token))
    assert outcome.data is not None and token in outcome.data["echo"]  # read as the server sent it
    assert outcome.shown == {"sub": "alice", "echo": f"you sent Bearer {MASK}"}


def test_a_long_error_description_is_cut_on_the_page_and_whole_below(test_client):
    description = "x" * 50_000 + "-END"
    body = {"error": "invalid_request", "error_description": description}
    with misbehaving_server("json", status=400, body=body) as url:
        response = test_client.post(FORM, data=token_form(url))
    html = response.get_data(as_text=True)
    panel = html.split('class="alert oauth-error"')[1].split("</div>")[0]
    assert f"… {len(description) - DESCRIPTION_LIMIT:,} more characters" in panel
    assert "-END" not in panel and len(panel) < DESCRIPTION_LIMIT + 2000
    assert "-END" in masked_part(response)  # the whole answer, in the exchange panel
