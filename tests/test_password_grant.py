"""The resource owner password credentials grant (RFC 6749 §4.3) at the demo server, over real HTTP."""

from __future__ import annotations

import logging

import pytest
import requests

from .authflow import refresh
from .conftest import PASSWORD, SPA_ID, USER, WEB_ID, WEB_SECRET
from .test_authserver import basic
from .test_oidc import decode, jwks

ROPC_ID, ROPC_SECRET = "legacy", "legacy-secret"


@pytest.fixture
def server(oidc_authserver):
    """The code flow's server, with a confidential and a public client registered for `password`."""
    oidc_authserver.add_client(
        ROPC_ID,
        ROPC_SECRET,
        "openid profile email offline_access read",
        grant_types=["password", "refresh_token"],
    )
    oidc_authserver.add_client("legacy-app", None, "openid read", public=True, grant_types=["password"])
    return oidc_authserver


def password_grant(server, client_id=ROPC_ID, secret=ROPC_SECRET, **data):
    body = {"grant_type": "password", "username": USER, "password": PASSWORD, "scope": "read", **data}
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"Authorization": basic(client_id, secret)} if secret else {}
    if not secret:
        body["client_id"] = client_id
    return requests.post(server.token_endpoint, data=body, headers=headers, timeout=10)


def introspection(server, token):
    return requests.post(
        server.introspection_endpoint,
        data={"token": token},
        headers={"Authorization": basic(ROPC_ID, ROPC_SECRET)},
        timeout=10,
    ).json()


def test_the_right_password_gets_tokens_for_the_user(server):
    response = password_grant(server, scope="read")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read"
    assert "refresh_token" not in body and "id_token" not in body
    info = introspection(server, body["access_token"])
    assert info["active"] and info["username"] == USER and info["client_id"] == ROPC_ID


def test_openid_brings_an_id_token_and_offline_access_a_refresh_token_that_rotates(server):
    body = password_grant(server, scope="openid profile offline_access").json()
    claims = decode(body["id_token"], jwks(server)).claims
    assert claims["aud"] == ROPC_ID and claims["name"] == "Alice Example" and "at_hash" in claims
    rotated = refresh(server, body["refresh_token"], ROPC_ID, ROPC_SECRET)
    assert rotated.status_code == 200, rotated.text
    again = refresh(server, body["refresh_token"], ROPC_ID, ROPC_SECRET)
    assert again.json()["error"] == "invalid_grant"  # rotated: RFC 9700 §4.14.2


@pytest.mark.parametrize("username, password", [(USER, "wrong"), ("nobody", PASSWORD), ("nobody", "wrong")])
def test_wrong_credentials_are_invalid_grant_and_do_not_tell_whether_the_user_exists(
    server, username, password
):
    response = password_grant(server, username=username, password=password)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The user name or the password is wrong.",
    }


def test_only_clients_registered_for_the_grant_may_use_it(server):
    response = password_grant(server, WEB_ID, WEB_SECRET)
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
    public = password_grant(server, SPA_ID, None)
    assert public.json()["error"] == "unauthorized_client"


def test_the_client_authenticates_as_registered(server):
    wrong = password_grant(server, ROPC_ID, "wrong-secret")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    anonymous = password_grant(server, ROPC_ID, None)
    assert anonymous.status_code == 401
    public = password_grant(server, "legacy-app", None, scope="openid")
    assert public.status_code == 200, public.text
    assert "id_token" in public.json() and "refresh_token" not in public.json()


@pytest.mark.parametrize(
    "data, error",
    [
        ({"username": None}, "invalid_request"),
        ({"password": None}, "invalid_request"),
        ({"password": ""}, "invalid_request"),
        ({"scope": None}, "invalid_scope"),
        ({"scope": "read admin"}, "invalid_scope"),
    ],
)
def test_bad_requests_get_rfc_6749_errors(server, data, error):
    response = password_grant(server, **data)
    assert response.status_code == 400 and response.json()["error"] == error
    assert response.json()["error_description"]


def test_the_password_may_not_travel_in_the_url(server):
    response = requests.post(
        server.token_endpoint + f"?password={PASSWORD}",
        data={"grant_type": "password", "username": USER, "scope": "read"},
        headers={"Authorization": basic(ROPC_ID, ROPC_SECRET)},
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_the_password_reaches_no_log(server, caplog):
    secret_password = "Tr0ub4dor-and-3-more-words"
    server.add_user("carol", secret_password)
    caplog.set_level(logging.DEBUG)
    assert password_grant(server, username="carol", password="x" + secret_password).status_code == 400
    assert password_grant(server, username="carol", password=secret_password).status_code == 200
    assert secret_password not in caplog.text
