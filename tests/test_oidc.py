"""OpenID Connect at the demo server: ID tokens per algorithm, UserInfo, logout, discovery, the issuer."""

from __future__ import annotations

import base64
import hashlib
import time
import warnings

import pytest
import requests
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet
from sqlalchemy import update

from playground.authserver.models import Token

from .authflow import callback_params, exchange_code, login_and_consent, pkce_pair, start
from .conftest import LOGOUT_URI, PASSWORD, REDIRECT_URI, USER, WEB_ID, WEB_SECRET
from .servers import AuthServer, live_server


def jwks(server) -> KeySet:
    return KeySet.import_key_set(requests.get(server.url + "/oauth2/jwks", timeout=10).json())


def decode(token: str, keys: KeySet):
    with warnings.catch_warnings():  # joserfc: "EdDSA is deprecated via RFC 9864"
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.decode(token, keys, algorithms=["RS256", "ES256", "EdDSA"])


def left_half(value: str, hash_name: str) -> str:
    digest = hashlib.new(hash_name, value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def code_tokens(
    server, client_id=WEB_ID, secret=WEB_SECRET, scope="openid profile email", browser=None, **extra
):
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "nonce": "nonce-789",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    back = login_and_consent(browser or requests.Session(), server, params, USER, PASSWORD)
    response = exchange_code(server, back["code"], REDIRECT_URI, client_id, secret, verifier)
    assert response.status_code == 200, response.text
    return back["code"], response.json()


@pytest.mark.parametrize(
    "alg, kty, hash_name", [("RS256", "RSA", "sha256"), ("ES256", "EC", "sha256"), ("EdDSA", "OKP", "sha512")]
)
def test_id_tokens_verify_against_the_jwks_with_every_claim(oidc_authserver, alg, kty, hash_name):
    client_id = f"client-{alg.lower()}"
    oidc_authserver.add_client(
        client_id,
        "s3cret",
        "openid profile email",
        grant_types=["authorization_code"],
        redirect_uris=[REDIRECT_URI],
        id_token_alg=alg,
    )
    before = int(time.time())
    code, tokens = code_tokens(oidc_authserver, client_id, "s3cret")
    keys = jwks(oidc_authserver)
    token = decode(tokens["id_token"], keys)
    assert token.header["alg"] == alg
    key = keys.get_by_kid(token.header["kid"])
    assert key.key_type == kty and key.as_dict()["alg"] == alg and key.as_dict()["use"] == "sig"
    claims = token.claims
    meta = requests.get(oidc_authserver.url + "/.well-known/openid-configuration", timeout=10).json()
    assert claims["iss"] == meta["issuer"]
    assert claims["aud"] == client_id and claims["azp"] == client_id
    assert before <= claims["iat"] <= claims["auth_time"] + 5 and claims["exp"] == claims["iat"] + 3600
    assert before <= claims["auth_time"] <= int(time.time())
    assert claims["nonce"] == "nonce-789"
    # OpenID Connect Core §3.1.3.6 / §3.3.2.11: left half of the hash of alg's hash function.
    assert claims["at_hash"] == left_half(tokens["access_token"], hash_name)
    assert claims["c_hash"] == left_half(code, hash_name)
    assert claims["email"] == "alice@example.com" and claims["name"] == "Alice Example"
    # Tampered, it does not verify.
    head, body, signature = tokens["id_token"].split(".")
    forged = f"{head}.{body[:-4]}AAAA.{signature}"
    with pytest.raises(Exception):  # noqa: B017 - joserfc's BadSignatureError or a decoding error
        decode(forged, keys)


def test_claims_follow_the_scopes(oidc_authserver):
    _, tokens = code_tokens(oidc_authserver, scope="openid")
    claims = decode(tokens["id_token"], jwks(oidc_authserver)).claims
    assert "email" not in claims and "name" not in claims
    info = requests.get(
        oidc_authserver.userinfo_endpoint,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert set(info) == {"sub"} and info["sub"] == claims["sub"]


def test_userinfo_by_get_and_post(oidc_authserver):
    _, tokens = code_tokens(oidc_authserver)
    sub = decode(tokens["id_token"], jwks(oidc_authserver)).claims["sub"]
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    by_get = requests.get(oidc_authserver.userinfo_endpoint, headers=auth, timeout=10)
    by_post = requests.post(oidc_authserver.userinfo_endpoint, headers=auth, timeout=10)
    in_body = requests.post(
        oidc_authserver.userinfo_endpoint, data={"access_token": tokens["access_token"]}, timeout=10
    )
    for response in (by_get, by_post, in_body):
        assert response.status_code == 200, response.text
        assert response.json()["sub"] == sub and response.json()["email"] == "alice@example.com"
        assert response.headers["Cache-Control"] == "no-store"


def challenge(response) -> dict[str, str]:
    import re

    scheme, _, rest = response.headers["WWW-Authenticate"].partition(" ")
    assert scheme == "Bearer"
    return dict(re.findall(r'([a-z_]+)="([^"]*)"', rest))


def test_userinfo_refuses_bad_expired_and_missing_tokens_per_rfc_6750(oidc_authserver):
    _, tokens = code_tokens(oidc_authserver)
    url = oidc_authserver.userinfo_endpoint
    missing = requests.get(url, timeout=10)
    assert missing.status_code == 401 and challenge(missing) == {"realm": "playground-demo"}  # §3.1: no error
    bad = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert bad.status_code == 401 and challenge(bad)["error"] == "invalid_token"
    session = oidc_authserver.app.extensions["demo_authserver"]["sessions"]()
    session.execute(update(Token).values(issued_at=int(time.time()) - 7200))
    session.commit()
    session.close()
    expired = requests.get(url, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert expired.status_code == 401 and challenge(expired)["error"] == "invalid_token"
    twice = requests.post(url, data={"access_token": "a"}, headers={"Authorization": "Bearer b"}, timeout=10)
    assert twice.status_code == 400 and challenge(twice)["error"] == "invalid_request"
    in_query = requests.get(url, params={"access_token": "a"}, timeout=10)
    assert in_query.status_code == 400


def test_userinfo_needs_the_openid_scope(oidc_authserver):
    _, tokens = code_tokens(oidc_authserver, scope="read")
    assert "id_token" not in tokens
    response = requests.get(
        oidc_authserver.userinfo_endpoint,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 403
    assert challenge(response)["error"] == "insufficient_scope" and challenge(response)["scope"] == "openid"


def test_logout_with_a_registered_post_logout_redirect_uri(oidc_authserver):
    browser = requests.Session()
    _, tokens = code_tokens(oidc_authserver, browser=browser)
    response = browser.get(
        oidc_authserver.logout_endpoint,
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_URI,
            "state": "bye-1",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == LOGOUT_URI + "?state=bye-1"
    # The login session has ended: prompt=none now is login_required.
    params = {"response_type": "code", "client_id": WEB_ID, "redirect_uri": REDIRECT_URI, "scope": "openid"}
    assert (
        callback_params(start(browser, oidc_authserver, {**params, "prompt": "none"}))["error"]
        == "login_required"
    )


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:9/elsewhere", "https://attacker.example/", LOGOUT_URI + "/"], ids=str
)
def test_logout_never_redirects_to_an_unregistered_uri(oidc_authserver, uri):
    browser = requests.Session()
    _, tokens = code_tokens(oidc_authserver, browser=browser)
    response = browser.get(
        oidc_authserver.logout_endpoint,
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": uri},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert "You are logged out" in response.text and "not a registered" in response.text


def test_logout_without_a_hint_asks_first_and_client_id_alone_names_the_client(oidc_authserver):
    from .authflow import submit

    browser = requests.Session()
    code_tokens(oidc_authserver, browser=browser)
    page = browser.get(
        oidc_authserver.logout_endpoint,
        params={"client_id": WEB_ID, "post_logout_redirect_uri": LOGOUT_URI, "state": "z"},
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 200 and "Log out?" in page.text
    assert "http://127.0.0.1:9" in page.headers["Content-Security-Policy"].split("form-action")[1]
    done = submit(browser, page, "confirm")
    assert done.status_code == 303 and done.headers["Location"] == LOGOUT_URI + "?state=z"


def test_logout_with_a_forged_hint_or_mismatched_client_is_refused(oidc_authserver):
    _, tokens = code_tokens(oidc_authserver)
    forged = tokens["id_token"][:-6] + "AAAAAA"
    bad = requests.get(oidc_authserver.logout_endpoint, params={"id_token_hint": forged}, timeout=10)
    assert bad.status_code == 400 and "Location" not in bad.headers
    other = requests.get(
        oidc_authserver.logout_endpoint,
        params={
            "id_token_hint": tokens["id_token"],
            "client_id": "spa",
            "post_logout_redirect_uri": LOGOUT_URI,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert other.status_code == 400 and "Location" not in other.headers


def test_the_metadata_names_every_endpoint_and_feature_with_one_issuer(oidc_authserver):
    from playground.authserver.routes import DISCOVERY_PATHS

    documents = [requests.get(oidc_authserver.url + p, timeout=10).json() for p in DISCOVERY_PATHS]
    meta = documents[0]
    assert all(d == meta for d in documents)
    base = oidc_authserver.url
    assert meta["issuer"] == base + "/oauth2/token"
    assert meta["authorization_endpoint"] == base + "/oauth2/authorize"
    assert meta["userinfo_endpoint"] == base + "/oauth2/userinfo"
    assert meta["end_session_endpoint"] == base + "/oidc/logout"
    assert meta["response_types_supported"] == ["code", "token", "id_token", "id_token token"]
    assert meta["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "implicit",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    }
    assert meta["code_challenge_methods_supported"] == ["S256", "plain"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256", "EdDSA"]
    assert "none" in meta["token_endpoint_auth_methods_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"sub", "auth_time", "nonce", "at_hash", "c_hash", "email", "name"} <= set(
        meta["claims_supported"]
    )
    assert meta["subject_types_supported"] == ["public"]
    assert meta["request_uri_parameter_supported"] is False
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ):
        assert meta[name].startswith(base + "/")
        assert requests.get(meta[name], timeout=10).status_code != 404, name
    # The issuer everywhere: authorization responses, ID tokens, introspection.
    _, tokens = code_tokens(oidc_authserver)
    assert decode(tokens["id_token"], jwks(oidc_authserver)).claims["iss"] == meta["issuer"]


def test_the_jwks_publishes_every_key_with_kid_alg_and_use(oidc_authserver):
    for alg in ("ES256", "EdDSA"):
        oidc_authserver.add_client(
            f"c-{alg}",
            "s",
            "openid",
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT_URI],
            id_token_alg=alg,
        )
        code_tokens(oidc_authserver, f"c-{alg}", "s", scope="openid")
    keys = requests.get(oidc_authserver.url + "/oauth2/jwks", timeout=10).json()["keys"]
    assert [k["alg"] for k in keys] == ["RS256", "ES256", "EdDSA"]
    for key in keys:
        assert key["kid"] and key["use"] == "sig" and "d" not in key


def test_the_issuer_recorded_in_tokens_survives_a_restart_on_another_port(tmp_path):
    from playground.authserver import create_app

    from .test_authserver import basic, get_token

    database = f"sqlite:///{tmp_path}/store.sqlite3"
    first_app = create_app({"DATABASE_URL": database, "TESTING": True})
    with live_server(first_app) as first_url:
        first = AuthServer(first_app, first_url)
        first.add_client("svc", "svc-secret", "read")
        token = get_token(first, "svc", "svc-secret").json()["access_token"]
    first_app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()
    second_app = create_app({"DATABASE_URL": database, "TESTING": True})
    with live_server(second_app) as second_url:
        assert second_url != first_url
        info = requests.post(
            second_url + "/oauth2/introspect",
            data={"token": token},
            headers={"Authorization": basic("svc", "svc-secret")},
            timeout=10,
        ).json()
    second_app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()
    assert info["active"] is True
    assert info["iss"] == first_url + "/oauth2/token"
