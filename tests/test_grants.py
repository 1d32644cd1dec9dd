"""The grants sent from the form at once, through the playground's pages against the real demo
server: Resource Owner (RFC 6749 §4.3) and Token Exchange (RFC 8693), and refresh after each with the
grant's own client authentication."""

from __future__ import annotations

import pytest

from playground import create_app

from .codeflow import FORM, code_form, page_form
from .conftest import PASSWORD, USER, playground_config
from .servers import running_authserver
from .test_playground import masked_part, text

CLIENT, SECRET = "every-grant", "every-grant-secret-0123"
SCOPE = "openid profile email offline_access read write"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_authserver(tmp_path_factory.mktemp("grants") / "store.sqlite3") as server:
        server.add_user(USER, PASSWORD, name="Alice Example", email="alice@example.com")
        server.add_client(
            CLIENT,
            SECRET,
            SCOPE,
            grant_types=["password", "refresh_token", "client_credentials", TOKEN_EXCHANGE],
        )
        server.add_client(
            "code-only",
            "code-only-secret-0123",
            SCOPE,
            grant_types=["authorization_code"],
            redirect_uris=["https://code-only.test/callback"],
        )
        yield server


@pytest.fixture
def playground(server):
    return create_app(playground_config(server, WTF_CSRF_ENABLED=False)).test_client()


def grant_form(server, grant: str, **fields) -> dict[str, str]:
    """The form for one grant of the every-grant client; fields override any of its values."""
    return {**code_form(server, CLIENT, SECRET, grant_type=grant), **fields}


def password_form(server, password: str = PASSWORD, **fields) -> dict[str, str]:
    defaults = {"ro_username": USER, "ro_password": password, "scope": "openid profile offline_access"}
    return grant_form(server, "password", **{**defaults, **fields})


def test_resource_owner_with_the_right_password(playground, server):
    response = playground.post(FORM, data=password_form(server))
    body = text(response)
    assert response.status_code == 200, body[:3000]
    assert "Tokens received" in body and "ID token valid: every check passed" in body
    assert "Resource Owner is deprecated (RFC 9700 §2.4)" in body
    masked = masked_part(response)
    assert "grant_type=password" in masked and f"username={USER}" in masked
    assert PASSWORD not in masked and SECRET not in masked  # masked like the client secret


def test_resource_owner_with_a_wrong_password_is_explained(playground, server):
    response = playground.post(FORM, data=password_form(server, "not-her-password"))
    body = text(response)
    assert "Token request refused" in body and "invalid_grant" in body
    assert "The user name or password is wrong" in body
    assert "not-her-password" not in masked_part(response)


def test_resource_owner_for_a_client_without_the_grant(playground, server):
    fields = password_form(server, client_id="code-only", client_secret="code-only-secret-0123")
    body = text(playground.post(FORM, data=fields))
    assert "unauthorized_client" in body and "not allowed the password grant" in body


def test_resource_owner_needs_the_user_and_password(playground, server):
    response = playground.post(FORM, data=password_form(server, "", ro_username=""))
    assert response.status_code == 400
    body = text(response)
    assert "Resource Owner User Name" in body and "Resource Owner Password" in body and "Required." in body


def test_refresh_after_resource_owner_keeps_its_client_authentication(playground, server):
    tokens = playground.post(FORM, data=password_form(server, client_auth="client_secret_post"))
    refreshed = playground.post("/playground2/refresh", data=page_form(tokens, "refresh"))
    body = text(refreshed)
    assert "Tokens refreshed" in body, body[:3000]
    wire = masked_part(refreshed)
    # On the wire: the secret in the body, as for the grant; no Basic header slipped in.
    assert "grant_type=refresh_token" in wire and "client_secret=" in wire
    assert "Authorization: Basic" not in wire.split("grant_type=refresh_token")[0].rsplit("POST ", 1)[-1]


def test_token_exchange_of_the_current_access_token(playground, server):
    tokens = playground.post(FORM, data=password_form(server, scope="openid read write"))
    form = playground.post(FORM, data=page_form(tokens, "exchange"))
    assert 'selected value="token_exchange"' in form.get_data(as_text=True)
    fields = {**page_form(form, "authorize"), "scope": "read"}
    exchanged = playground.post(FORM, data=fields)
    body = text(exchanged)
    assert "Tokens received" in body, body[:3000]
    assert "urn:ietf:params:oauth:token-type:access_token" in body and "issued_token_type" in body
    wire = masked_part(exchanged)
    assert f"grant_type={TOKEN_EXCHANGE.replace(':', '%3A')}" in wire
    assert "subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token" in wire
    assert "actor_token" not in wire


def test_token_exchange_with_an_actor_token(playground, server):
    subject = playground.post(FORM, data=password_form(server, scope="read"))
    actor = playground.post(FORM, data=grant_form(server, "client_credentials", scope="read"))
    actor_html = actor.get_data(as_text=True)
    start = actor_html.index('id="access-token-value">') + len('id="access-token-value">')
    actor_token = actor_html[start : actor_html.index("<", start)]
    fields = {
        **page_form(subject, "exchange"),
        "grant_type": "token_exchange",
        "actor_token": actor_token,
        "authorize": "Authorize",
    }
    fields.pop("exchange")
    exchanged = playground.post(FORM, data=fields)
    assert "Tokens received" in text(exchanged), text(exchanged)[:3000]
    assert "actor_token_type=" in masked_part(exchanged) and actor_token not in masked_part(exchanged)
    info = playground.post("/playground2/tokeninfo", data=page_form(exchanged, "get_tokeninfo"))
    assert "act" in text(info) and "Active" in text(info)


def test_token_exchange_of_a_bad_subject_token_is_explained(playground, server):
    fields = grant_form(
        server, "token_exchange", subject_source="pasted", subject_token="not-a-token", scope=""
    )
    body = text(playground.post(FORM, data=fields))
    assert "Token request refused" in body and "invalid_grant" in body
    assert "The subject token (or the actor token) is invalid" in body


def test_token_exchange_without_a_subject_token_says_so(playground, server):
    response = playground.post(FORM, data=grant_form(server, "token_exchange", access_token=""))
    assert response.status_code == 400
    assert "There is no access token yet" in text(response)
