"""The token endpoint for the code flow: codes, PKCE, refresh rotation, public clients."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import update

from playground.authserver.models import AuthorizationCode

from .authflow import exchange_code, login_and_consent, pkce_pair, refresh
from .conftest import PASSWORD, REDIRECT_URI, SPA_ID, USER, WEB_ID, WEB_SECRET
from .test_authserver import basic


def get_code(server, client_id=WEB_ID, scope="openid profile offline_access", method="S256", **extra):
    """Sign in, allow, and return (code, verifier)."""
    verifier, challenge = pkce_pair(method)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "code_challenge": challenge,
        "code_challenge_method": method,
        **extra,
    }
    back = login_and_consent(requests.Session(), server, params, USER, PASSWORD)
    return back["code"], verifier


def active(server, token) -> bool:
    response = requests.post(
        server.introspection_endpoint,
        data={"token": token},
        headers={"Authorization": basic(WEB_ID, WEB_SECRET)},
        timeout=10,
    )
    return response.json()["active"]


def test_a_code_is_single_use_and_its_second_use_revokes_the_first_tokens(oidc_authserver):
    code, verifier = get_code(oidc_authserver)
    first = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert {"access_token", "refresh_token", "id_token", "expires_in", "token_type"} <= set(tokens)
    assert first.headers["Cache-Control"] == "no-store"
    assert active(oidc_authserver, tokens["access_token"])
    again = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: what the first use issued is revoked.
    assert not active(oidc_authserver, tokens["access_token"])
    assert not active(oidc_authserver, tokens["refresh_token"])
    assert (
        refresh(oidc_authserver, tokens["refresh_token"], WEB_ID, WEB_SECRET).json()["error"]
        == "invalid_grant"
    )


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_verifier_must_match_the_challenge(oidc_authserver, method):
    code, verifier = get_code(oidc_authserver, method=method)
    wrong = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, "x" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"  # RFC 7636 §4.6
    missing = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    right = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier)
    assert right.status_code == 200, right.text


def test_a_verifier_without_a_challenge_is_refused(oidc_authserver):
    """RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is an injection sign."""
    params = {"response_type": "code", "client_id": WEB_ID, "redirect_uri": REDIRECT_URI, "scope": "openid"}
    code = login_and_consent(requests.Session(), oidc_authserver, params, USER, PASSWORD)["code"]
    response = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, "v" * 43)
    assert response.json()["error"] == "invalid_request"
    assert exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET).status_code == 200


def test_a_code_is_bound_to_its_client_and_redirect_uri(oidc_authserver):
    oidc_authserver.add_client(
        "other",
        "other-secret",
        "openid",
        grant_types=["authorization_code"],
        redirect_uris=[REDIRECT_URI, REDIRECT_URI + "2"],
    )
    code, verifier = get_code(oidc_authserver)
    stolen = exchange_code(oidc_authserver, code, REDIRECT_URI, "other", "other-secret", verifier)
    assert stolen.json()["error"] == "invalid_grant"
    elsewhere = exchange_code(oidc_authserver, code, REDIRECT_URI + "2", WEB_ID, WEB_SECRET, verifier)
    assert elsewhere.json()["error"] == "invalid_grant"
    assert exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).status_code == 200


def test_a_code_expires(oidc_authserver):
    code, verifier = get_code(oidc_authserver)
    session = oidc_authserver.app.extensions["demo_authserver"]["sessions"]()
    session.execute(update(AuthorizationCode).values(expires_at=int(time.time()) - 1))
    session.commit()
    session.close()
    response = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_the_confidential_client_must_authenticate(oidc_authserver):
    code, verifier = get_code(oidc_authserver)
    anonymous = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, None, verifier)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    wrong = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, "wrong", verifier)
    assert wrong.status_code == 401
    assert exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).status_code == 200


def test_a_public_client_sends_its_client_id_only(oidc_authserver):
    code, verifier = get_code(oidc_authserver, SPA_ID)
    with_secret = requests.post(
        oidc_authserver.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": SPA_ID,
            "client_secret": "anything",
        },
        timeout=10,
    )
    assert with_secret.json()["error"] == "invalid_client"
    tokens = exchange_code(oidc_authserver, code, REDIRECT_URI, SPA_ID, None, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    rotated = refresh(oidc_authserver, body["refresh_token"], SPA_ID)
    assert rotated.status_code == 200, rotated.text
    # It may revoke its own tokens with its client_id (RFC 7009), but not introspect.
    revoked = requests.post(
        oidc_authserver.revocation_endpoint,
        data={"token": rotated.json()["refresh_token"], "client_id": SPA_ID},
        timeout=10,
    )
    assert revoked.status_code == 200
    assert not active(oidc_authserver, rotated.json()["access_token"])
    introspect = requests.post(
        oidc_authserver.introspection_endpoint,
        data={"token": "x", "client_id": SPA_ID},
        timeout=10,
    )
    assert introspect.status_code == 401


def test_refresh_tokens_rotate_and_reuse_ends_the_family(oidc_authserver):
    code, verifier = get_code(oidc_authserver)
    first = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).json()
    second = refresh(oidc_authserver, first["refresh_token"], WEB_ID, WEB_SECRET)
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert active(oidc_authserver, first["access_token"])  # rotation alone leaves earlier access tokens be
    assert not active(oidc_authserver, first["refresh_token"])
    third = refresh(oidc_authserver, second["refresh_token"], WEB_ID, WEB_SECRET).json()
    # The rotated first one, presented again: refused, and the whole family ends.
    reuse = refresh(oidc_authserver, first["refresh_token"], WEB_ID, WEB_SECRET)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    for token in (
        first["access_token"],
        second["access_token"],
        third["access_token"],
        third["refresh_token"],
    ):
        assert not active(oidc_authserver, token)
    assert (
        refresh(oidc_authserver, third["refresh_token"], WEB_ID, WEB_SECRET).json()["error"]
        == "invalid_grant"
    )


def test_refresh_keeps_the_grant_and_may_narrow_the_scope(oidc_authserver):
    code, verifier = get_code(oidc_authserver, scope="openid profile offline_access read")
    tokens = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).json()
    wider = refresh(oidc_authserver, tokens["refresh_token"], WEB_ID, WEB_SECRET, scope="openid email")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrow = refresh(oidc_authserver, tokens["refresh_token"], WEB_ID, WEB_SECRET, scope="read")
    assert narrow.status_code == 200 and narrow.json()["scope"] == "read"
    assert "id_token" not in narrow.json()  # no openid asked for this time
    # RFC 6749 §6: the new refresh token has the original scope.
    full = refresh(oidc_authserver, narrow.json()["refresh_token"], WEB_ID, WEB_SECRET).json()
    assert full["scope"] == "openid profile offline_access read" and "id_token" in full


def test_another_clients_refresh_token_is_invalid_grant(oidc_authserver):
    code, verifier = get_code(oidc_authserver)
    tokens = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).json()
    stolen = refresh(oidc_authserver, tokens["refresh_token"], SPA_ID)
    assert stolen.json()["error"] == "invalid_grant"
    assert refresh(oidc_authserver, tokens["refresh_token"], WEB_ID, WEB_SECRET).status_code == 200


def test_a_refresh_token_comes_with_offline_access_or_for_a_client_set_to_get_one(oidc_authserver):
    code, verifier = get_code(oidc_authserver, scope="openid profile")
    tokens = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).json()
    assert "refresh_token" not in tokens
    oidc_authserver.add_client(
        "always",
        "always-secret",
        "openid",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        always_refresh_token=True,
    )
    code, verifier = get_code(oidc_authserver, "always", scope="openid")
    assert (
        "refresh_token"
        in exchange_code(oidc_authserver, code, REDIRECT_URI, "always", "always-secret", verifier).json()
    )


def test_revoking_a_refresh_token_ends_its_grant(oidc_authserver):
    code, verifier = get_code(oidc_authserver)
    tokens = exchange_code(oidc_authserver, code, REDIRECT_URI, WEB_ID, WEB_SECRET, verifier).json()
    response = requests.post(
        oidc_authserver.revocation_endpoint,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers={"Authorization": basic(WEB_ID, WEB_SECRET)},
        timeout=10,
    )
    assert response.status_code == 200
    assert not active(oidc_authserver, tokens["access_token"])  # RFC 7009 §2.1


def test_a_client_not_registered_for_the_grant_is_unauthorized(oidc_authserver):
    from .conftest import CLIENT_ID, CLIENT_SECRET

    oidc_authserver.add_client(CLIENT_ID, CLIENT_SECRET, "read")  # client_credentials only
    response = requests.post(
        oidc_authserver.token_endpoint,
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        timeout=10,
    )
    assert response.json()["error"] == "unauthorized_client"


def test_client_credentials_grants_no_user_scopes(oidc_authserver):
    oidc_authserver.add_client("both", "both-secret", "openid read", grant_types=["client_credentials"])
    plain = requests.post(
        oidc_authserver.token_endpoint,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("both", "both-secret")},
        timeout=10,
    )
    assert plain.json()["scope"] == "read"
    asked = requests.post(
        oidc_authserver.token_endpoint,
        data={"grant_type": "client_credentials", "scope": "openid"},
        headers={"Authorization": basic("both", "both-secret")},
        timeout=10,
    )
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
