"""The implicit grant (RFC 6749 §4.2, OpenID Connect Core §3.2) at the demo server's authorization
endpoint, over real HTTP, with the same sign-in, consent, `state` and `iss` as the code flow."""

from __future__ import annotations

import pytest
import requests

from .authflow import callback_params, login_and_consent, start
from .conftest import PASSWORD, REDIRECT_URI, USER, WEB_ID
from .test_authorize import issuer_of
from .test_oidc import decode, jwks, left_half

SPA_ID = "legacy-spa"


@pytest.fixture
def server(oidc_authserver):
    """The code flow's server, with a public client registered for the implicit grant only."""
    oidc_authserver.add_client(
        SPA_ID,
        None,
        "openid profile email read",
        public=True,
        grant_types=["implicit"],
        redirect_uris=[REDIRECT_URI],
    )
    return oidc_authserver


def implicit_request(response_type="id_token token", **extra) -> dict[str, str]:
    params = {
        "response_type": response_type,
        "client_id": SPA_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile read",
        "state": "st-imp",
        "nonce": "n-imp",
        **extra,
    }
    return {k: v for k, v in params.items() if v is not None}


def userinfo(server, access_token):
    return requests.get(
        server.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


@pytest.mark.parametrize("mode", [None, "fragment", "form_post"])
def test_id_token_token_comes_back_with_at_hash_state_and_iss(server, mode):
    params = implicit_request(response_mode=mode)
    back = login_and_consent(requests.Session(), server, params, USER, PASSWORD)
    assert back["_mode"] == (mode or "fragment")  # the default for tokens: the fragment
    assert back["_url"].startswith(REDIRECT_URI) and "?" not in back["_url"]
    assert back["state"] == "st-imp" and back["iss"] == issuer_of(server)  # RFC 9207 §2
    assert back["token_type"] == "Bearer" and back["scope"] == "openid profile read"
    assert int(back["expires_in"]) == 3600
    assert "refresh_token" not in back and "code" not in back  # RFC 6749 §4.2.2
    claims = decode(back["id_token"], jwks(server)).claims
    assert claims["nonce"] == "n-imp" and claims["aud"] == SPA_ID
    assert claims["at_hash"] == left_half(back["access_token"], "sha256")  # OIDC Core §3.2.2.10
    assert "c_hash" not in claims
    assert userinfo(server, back["access_token"]).json()["name"] == "Alice Example"


def test_token_alone_in_either_order_of_id_token_token(server):
    back = login_and_consent(
        requests.Session(), server, implicit_request("token", scope="read"), USER, PASSWORD
    )
    assert back["access_token"] and "id_token" not in back
    swapped = login_and_consent(
        requests.Session(), server, implicit_request("token id_token"), USER, PASSWORD
    )
    assert swapped["access_token"] and swapped["id_token"]


def test_id_token_alone_carries_the_claims_and_no_at_hash(server):
    back = login_and_consent(requests.Session(), server, implicit_request("id_token"), USER, PASSWORD)
    assert "access_token" not in back
    claims = decode(back["id_token"], jwks(server)).claims
    assert claims["name"] == "Alice Example" and "at_hash" not in claims and claims["nonce"] == "n-imp"


@pytest.mark.parametrize(
    "params, error",
    [
        ({"response_mode": "query"}, "invalid_request"),  # never tokens in the query
        ({"nonce": None}, "invalid_request"),  # OIDC Core §3.2.2.1
        ({"response_type": "id_token", "nonce": None}, "invalid_request"),
        ({"scope": "read"}, "invalid_scope"),  # an ID token needs openid
        ({"response_type": "code"}, "unauthorized_client"),  # registered for implicit only
        ({"response_type": "code id_token"}, "unsupported_response_type"),  # hybrid: not here
    ],
)
def test_errors_go_back_in_the_fragment_with_state_and_iss(server, params, error):
    response = start(requests.Session(), server, implicit_request(**params))
    assert response.status_code == 302, response.text[:300]
    back = callback_params(response)
    assert back["_mode"] == ("query" if params.get("response_type") == "code" else "fragment")
    assert back["error"] == error and back["error_description"]
    assert back["state"] == "st-imp" and back["iss"] == issuer_of(server)


def test_only_clients_registered_for_implicit(server):
    response = start(requests.Session(), server, implicit_request(client_id=WEB_ID))
    back = callback_params(response)
    assert back["_mode"] == "fragment" and back["error"] == "unauthorized_client"


def test_deny_is_access_denied_and_consent_is_remembered_for_prompt_none(server):
    denied = login_and_consent(requests.Session(), server, implicit_request(), USER, PASSWORD, allow=False)
    assert denied["error"] == "access_denied" and denied["_mode"] == "fragment"
    browser = requests.Session()
    login_and_consent(browser, server, implicit_request(), USER, PASSWORD)
    silent = callback_params(start(browser, server, implicit_request(prompt="none", nonce="n-2")))
    assert silent["access_token"] and decode(silent["id_token"], jwks(server)).claims["nonce"] == "n-2"
    signed_out = callback_params(start(requests.Session(), server, implicit_request(prompt="none")))
    assert signed_out["error"] == "login_required" and signed_out["_mode"] == "fragment"


def test_the_metadata_lists_the_response_types_and_the_implicit_grant(server):
    meta = requests.get(server.url + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["response_types_supported"] == ["code", "token", "id_token", "id_token token"]
    assert meta["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert "implicit" in meta["grant_types_supported"]
