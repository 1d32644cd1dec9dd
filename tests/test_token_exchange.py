"""Token exchange (RFC 8693) at the demo server, over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import update

from playground.authserver.models import TOKEN_EXCHANGE_GRANT, Token, hash_token

from .conftest import PASSWORD, USER, WEB_ID, WEB_SECRET
from .test_authserver import basic
from .test_oidc import decode, jwks

GW_ID, GW_SECRET = "gateway", "gateway-secret"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"


@pytest.fixture
def server(oidc_authserver):
    """The code flow's server, with a client registered for token exchange (and, to get tokens fast,
    the password, client credentials and refresh grants)."""
    oidc_authserver.add_client(
        GW_ID,
        GW_SECRET,
        "openid profile email offline_access read write",
        grant_types=[TOKEN_EXCHANGE_GRANT, "password", "client_credentials", "refresh_token"],
    )
    return oidc_authserver


def user_tokens(server, scope="openid profile offline_access read write") -> dict:
    response = requests.post(
        server.token_endpoint,
        data={"grant_type": "password", "username": USER, "password": PASSWORD, "scope": scope},
        headers={"Authorization": basic(GW_ID, GW_SECRET)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def exchange(server, subject_token, subject_token_type=ACCESS, client=(GW_ID, GW_SECRET), **data):
    body = {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": subject_token,
        "subject_token_type": subject_token_type,
        **data,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return requests.post(
        server.token_endpoint, data=body, headers={"Authorization": basic(*client)}, timeout=10
    )


def introspect(server, token) -> dict:
    return requests.post(
        server.introspection_endpoint,
        data={"token": token},
        headers={"Authorization": basic(GW_ID, GW_SECRET)},
        timeout=10,
    ).json()


def error(response, expected: str) -> str:
    assert response.status_code == 400, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == expected, body
    return body["error_description"]


def test_an_access_token_for_a_narrower_one(server):
    subject = user_tokens(server)
    response = exchange(server, subject["access_token"], scope="read")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["issued_token_type"] == ACCESS and body["token_type"] == "Bearer"
    assert body["scope"] == "read" and "refresh_token" not in body
    assert body["expires_in"] <= 3600
    info = introspect(server, body["access_token"])
    assert info["active"] and info["scope"] == "read" and info["username"] == USER
    assert info["sub"] == introspect(server, subject["access_token"])["sub"]
    assert "act" not in info
    # No scope asked for: the subject token's.
    same = exchange(server, subject["access_token"]).json()
    assert same["scope"] == "openid profile offline_access read write"


def test_a_wider_scope_is_invalid_scope(server):
    subject = user_tokens(server, scope="read")
    assert "write" in error(exchange(server, subject["access_token"], scope="read write"), "invalid_scope")


def test_audience_and_resource_set_aud(server):
    subject = user_tokens(server)["access_token"]
    one = exchange(server, subject, audience="orders-api").json()
    assert introspect(server, one["access_token"])["aud"] == "orders-api"
    both = exchange(server, subject, resource="https://orders.example/api", audience="billing").json()
    assert introspect(server, both["access_token"])["aud"] == ["https://orders.example/api", "billing"]
    assert exchange(server, subject, resource="not-a-uri").json()["error"] == "invalid_target"


def test_an_actor_token_becomes_the_act_claim_and_actors_nest(server):
    subject = user_tokens(server)["access_token"]
    actor = requests.post(
        server.token_endpoint,
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"Authorization": basic(GW_ID, GW_SECRET)},
        timeout=10,
    ).json()["access_token"]
    first = exchange(server, subject, scope="read", actor_token=actor, actor_token_type=ACCESS).json()
    assert introspect(server, first["access_token"])["act"] == {"sub": GW_ID}  # RFC 8693 §2.2.1, §4.1
    # The exchanged token exchanged again, with the user's ID token as the new actor.
    id_token = user_tokens(server)["id_token"]
    second = exchange(server, first["access_token"], actor_token=id_token, actor_token_type=ID_TOKEN).json()
    alice = introspect(server, subject)["sub"]
    assert introspect(server, second["access_token"])["act"] == {"sub": alice, "act": {"sub": GW_ID}}


def test_a_jwt_may_be_asked_for_and_carries_act_and_aud(server):
    subject = user_tokens(server)["access_token"]
    actor = user_tokens(server)["access_token"]
    response = exchange(
        server,
        subject,
        scope="read",
        audience="orders-api",
        requested_token_type=JWT,
        actor_token=actor,
        actor_token_type=ACCESS,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == JWT and body["token_type"] == "Bearer"
    token = decode(body["access_token"], jwks(server))
    assert token.header["typ"] == "at+jwt"
    claims = token.claims
    assert claims["aud"] == "orders-api" and claims["scope"] == "read" and claims["client_id"] == GW_ID
    assert claims["act"] == {"sub": claims["sub"]}
    assert introspect(server, body["access_token"])["active"]


def test_an_id_token_for_an_access_token_with_what_it_shows(server):
    id_token = user_tokens(server, scope="openid profile")["id_token"]
    response = exchange(server, id_token, ID_TOKEN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "openid profile"
    userinfo = requests.get(
        server.userinfo_endpoint, headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert userinfo.status_code == 200 and userinfo.json()["name"] == "Alice Example"
    assert "email" in error(exchange(server, id_token, ID_TOKEN, scope="openid email"), "invalid_scope")
    assert "not an ID token" in error(exchange(server, id_token[:-4] + "AAAA", ID_TOKEN), "invalid_grant")


def test_invalid_expired_and_revoked_subject_tokens_are_invalid_grant(server):
    assert "not an active access token" in error(exchange(server, "no-such-token"), "invalid_grant")
    expired = user_tokens(server)["access_token"]
    session = server.app.extensions["demo_authserver"]["sessions"]()
    session.execute(
        update(Token).where(Token.token_hash == hash_token(expired)).values(issued_at=int(time.time()) - 7200)
    )
    session.commit()
    session.close()
    assert error(exchange(server, expired), "invalid_grant")
    revoked = user_tokens(server)["access_token"]
    requests.post(
        server.revocation_endpoint,
        data={"token": revoked},
        headers={"Authorization": basic(GW_ID, GW_SECRET)},
        timeout=10,
    )
    assert error(exchange(server, revoked), "invalid_grant")


def test_the_new_token_ends_with_the_subject_tokens_grant(server):
    subject = user_tokens(server)
    exchanged = exchange(server, subject["access_token"], scope="read").json()["access_token"]
    requests.post(
        server.revocation_endpoint,
        data={"token": subject["refresh_token"]},
        headers={"Authorization": basic(GW_ID, GW_SECRET)},
        timeout=10,
    )
    assert introspect(server, exchanged)["active"] is False  # RFC 7009 §2.1: the whole grant


@pytest.mark.parametrize(
    "data, named",
    [
        ({"subject_token_type": "urn:ietf:params:oauth:token-type:saml2"}, "saml2"),
        ({"subject_token_type": None}, "subject_token_type"),
        ({"subject_token": None}, "subject_token"),
        ({"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"}, "refresh_token"),
        ({"actor_token": "x"}, "actor_token_type"),
        ({"actor_token": "x", "actor_token_type": "urn:example:mine"}, "urn:example:mine"),
    ],
)
def test_missing_or_unsupported_token_types_are_invalid_request_naming_them(server, data, named):
    subject = user_tokens(server, scope="read")["access_token"]
    assert named in error(exchange(server, data.pop("subject_token", subject), **data), "invalid_request")


def test_only_registered_clients_and_only_their_own_tokens(server):
    subject = user_tokens(server)["access_token"]
    assert error(exchange(server, subject, client=(WEB_ID, WEB_SECRET)), "unauthorized_client")
    server.add_client("other", "other-secret", "read", grant_types=[TOKEN_EXCHANGE_GRANT])
    assert "not issued to this client" in error(
        exchange(server, subject, client=("other", "other-secret")), "invalid_grant"
    )
    # A token whose audience names the other client is one it may exchange.
    for_other = exchange(server, subject, audience="other", scope="read").json()["access_token"]
    response = exchange(server, for_other, client=("other", "other-secret"))
    assert response.status_code == 200, response.text
    assert (
        introspect(server, subject)["sub"]
        == requests.post(
            server.introspection_endpoint,
            data={"token": response.json()["access_token"]},
            headers={"Authorization": basic("other", "other-secret")},
            timeout=10,
        ).json()["sub"]
    )


def test_the_new_token_does_not_outlive_the_subject_token(server):
    subject = user_tokens(server)["access_token"]
    session = server.app.extensions["demo_authserver"]["sessions"]()
    session.execute(
        update(Token).where(Token.token_hash == hash_token(subject)).values(issued_at=int(time.time()) - 3500)
    )
    session.commit()
    session.close()
    assert exchange(server, subject).json()["expires_in"] <= 100
