"""Revocation (RFC 7009) from the playground, then introspection says Inactive."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from .conftest import CLIENT_ID, CLIENT_SECRET
from .faults import misbehaving_server, requests_seen
from .test_playground import FORM, TOKENINFO, access_token_of, introspection_form, text, token_form

REVOKE = "/playground2/revoke"


def revocation_form(endpoint: str, token: str, **fields) -> dict[str, str]:
    data = introspection_form("", token, revocation_endpoint=endpoint, **fields)
    del data["get_tokeninfo"]
    return {**data, "revoke": "Revoke"}


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_revoke_then_inactive(test_client, authserver, method):
    token = access_token_of(
        test_client.post(FORM, data=token_form(authserver.token_endpoint, client_auth=method))
    )
    before = text(
        test_client.post(TOKENINFO, data=introspection_form(authserver.introspection_endpoint, token))
    )
    assert "Active" in before and "Inactive" not in before
    response = test_client.post(
        REVOKE, data=revocation_form(authserver.revocation_endpoint, token, client_auth=method)
    )
    assert response.status_code == 200
    body = text(response)
    assert "Revoked" in body and "POST /oauth2/revoke HTTP/1.1" in body and "HTTP/1.1 200 OK" in body
    assert "Get TokenInfo" in body
    after = text(
        test_client.post(
            TOKENINFO, data=introspection_form(authserver.introspection_endpoint, token, client_auth=method)
        )
    )
    assert "Inactive" in after


@pytest.mark.parametrize(
    "method, check",
    [
        (
            "client_secret_basic",
            lambda seen, body: (
                seen.headers["Authorization"].startswith("Basic ") and "client_secret" not in body
            ),
        ),
        (
            "client_secret_post",
            lambda seen, body: (
                "Authorization" not in seen.headers
                and body["client_id"] == [CLIENT_ID]
                and body["client_secret"] == [CLIENT_SECRET]
            ),
        ),
    ],
)
def test_revocation_uses_the_chosen_client_authentication(test_client, method, check):
    with misbehaving_server("json", body={}) as url:
        test_client.post(REVOKE, data=revocation_form(url + "/revoke", "tok-123", client_auth=method))
        (seen,) = requests_seen(url)
    body = parse_qs(seen.body.decode())
    assert body["token"] == ["tok-123"] and body["token_type_hint"] == ["access_token"]
    assert check(seen, body)


@pytest.mark.parametrize("status", [404, 405, 501])
def test_server_without_revocation_gets_a_clear_message(test_client, status):
    with misbehaving_server(
        "json", status=status, body="Not Found", headers={"Content-Type": "text/plain"}
    ) as url:
        body = text(test_client.post(REVOKE, data=revocation_form(url + "/revoke", "tok")))
    assert "does not seem to support revocation" in body and "RFC 7009" in body


def test_revocation_error_is_shown(test_client):
    error = {"error": "unsupported_token_type", "error_description": "cannot revoke access tokens"}
    with misbehaving_server("json", status=400, body=error) as url:
        body = text(test_client.post(REVOKE, data=revocation_form(url + "/revoke", "tok")))
    assert "unsupported_token_type" in body and "RFC 7009 §2.2.1" in body


def test_revocation_needs_an_endpoint(test_client):
    response = test_client.post(REVOKE, data=revocation_form("", "tok"))
    assert response.status_code == 400
    assert "No revocation endpoint: the server's metadata names none" in text(response)


def test_a_revoked_jwt_with_a_good_signature_is_explained(test_client, authserver):
    authserver.add_client("jwt-r", "jwt-r-secret-jwt-r-secret", "read", token_format="jwt")
    fields = dict(client_id="jwt-r", client_secret="jwt-r-secret-jwt-r-secret")
    fields["jwks_uri"] = authserver.url + "/oauth2/jwks"
    token = access_token_of(test_client.post(FORM, data=token_form(authserver.token_endpoint, **fields)))
    test_client.post(REVOKE, data=revocation_form(authserver.revocation_endpoint, token, **fields))
    after = text(
        test_client.post(
            TOKENINFO, data=introspection_form(authserver.introspection_endpoint, token, **fields)
        )
    )
    assert "Inactive" in after and "✓ Signature" in after
    assert "The JWT's signature and claims check out, but the server says" in after
