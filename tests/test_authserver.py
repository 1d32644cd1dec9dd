"""The demo authorization server, over real HTTP on loopback."""

from __future__ import annotations

import base64
import os
import re
import stat
import time
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import delete, update

from playground.authserver.models import GRANT_TYPES, Token, hash_token

from .conftest import CLIENT_ID, CLIENT_SECRET
from .servers import AuthServer, running_authserver

WEIRD_ID = "we:ird@id%+/x"
WEIRD_SECRET = "s:e@c%r+e/t ok"


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode ID and secret, then HTTP Basic."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def get_token(server, client_id=CLIENT_ID, secret=CLIENT_SECRET, **data):
    """A token response via client_secret_basic."""
    return requests.post(
        server.token_endpoint,
        data={"grant_type": "client_credentials", **data},
        headers={"Authorization": basic(client_id, secret)},
        timeout=10,
    )


def introspect(server, token, client_id=CLIENT_ID, secret=CLIENT_SECRET):
    """Introspect with the client's own Basic credentials."""
    return requests.post(
        server.introspection_endpoint,
        data={"token": token},
        headers={"Authorization": basic(client_id, secret)},
        timeout=10,
    )


def test_token_via_basic(authserver):
    response = get_token(authserver)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read write"
    assert len(body["access_token"]) >= 40
    # RFC 6749 §5.1
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"].startswith("application/json")


def test_token_via_body(authserver):
    response = requests.post(
        authserver.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert introspect(authserver, response.json()["access_token"]).json()["active"] is True


def test_special_characters_via_basic_and_body(authserver):
    authserver.add_client(WEIRD_ID, WEIRD_SECRET, "read")
    assert get_token(authserver, WEIRD_ID, WEIRD_SECRET).status_code == 200
    response = requests.post(
        authserver.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": WEIRD_ID, "client_secret": WEIRD_SECRET},
        timeout=10,
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert introspect(authserver, token, WEIRD_ID, WEIRD_SECRET).json()["client_id"] == WEIRD_ID


def test_basic_without_urlencoding_fails_for_special_characters(authserver):
    """A raw `%` or `+` in a secret is decoded per the RFC, so the unencoded form must fail."""
    authserver.add_client("plain", "a+b%41", "read")
    raw = "Basic " + base64.b64encode(b"plain:a+b%41").decode()
    response = requests.post(
        authserver.token_endpoint,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": raw},
        timeout=10,
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers, data",
    [
        ({"Authorization": basic(CLIENT_ID, "wrong")}, {}),
        ({"Authorization": basic("nobody", "x")}, {}),
        ({}, {"client_id": CLIENT_ID, "client_secret": "wrong"}),
        ({}, {}),
        ({"Authorization": "Basic !!notbase64"}, {}),
    ],
    ids=["wrong-secret", "unknown-client", "wrong-secret-body", "no-credentials", "garbled-basic"],
)
def test_invalid_client(authserver, headers, data):
    response = requests.post(
        authserver.token_endpoint,
        data={"grant_type": "client_credentials", **data},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_scope(authserver):
    response = get_token(authserver, scope="read admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "admin" in response.json()["error_description"]


@pytest.mark.parametrize("scope", ['read "quoted"', "r\u00e9ad", "back\\slash"])
def test_scope_with_forbidden_characters(authserver, scope):
    response = get_token(authserver, scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_requested_scope_subset(authserver):
    assert get_token(authserver, scope="read").json()["scope"] == "read"


def test_unsupported_grant(authserver):
    response = get_token(authserver, grant_type="urn:example:no-such-grant")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_introspection_with_each_authentication(authserver):
    token = get_token(authserver).json()["access_token"]
    by_basic = introspect(authserver, token).json()
    assert by_basic["active"] is True
    for member in ("scope", "client_id", "token_type", "exp", "iat", "nbf", "sub", "aud", "iss", "jti"):
        assert member in by_basic
    assert by_basic["iss"] == authserver.url + "/oauth2/token"
    assert by_basic["exp"] - by_basic["iat"] == 3600

    by_body = requests.post(
        authserver.introspection_endpoint,
        data={"token": token, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        timeout=10,
    ).json()
    assert by_body == by_basic

    # A Bearer token carrying internal_oauth2_introspect, as WSO2 IS accepts.
    authserver.add_client("introspector", "s3cret", "internal_oauth2_introspect")
    bearer = get_token(authserver, "introspector", "s3cret").json()["access_token"]
    by_bearer = requests.post(
        authserver.introspection_endpoint,
        data={"token": token},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    ).json()
    assert by_bearer == by_basic


@pytest.mark.parametrize(
    "auth",
    [None, "Bearer not-a-token", "Bearer scopeless"],
    ids=["none", "unknown-bearer", "bearer-without-scope"],
)
def test_introspection_rejects_unauthenticated(authserver, auth):
    token = get_token(authserver).json()["access_token"]
    if auth == "Bearer scopeless":
        auth = "Bearer " + token  # a valid token, but without the introspection scope
    headers = {"Authorization": auth} if auth else {}
    response = requests.post(
        authserver.introspection_endpoint, data={"token": token}, headers=headers, timeout=10
    )
    assert response.status_code == 401
    if auth:  # RFC 6750 §3.1: a Bearer that fails gets a Bearer challenge
        assert response.json()["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    else:
        assert response.json()["error"] == "invalid_client"
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_introspection_of_unknown_token_says_only_inactive(authserver):
    assert introspect(authserver, "no-such-token").json() == {"active": False}


def test_another_clients_token_is_inactive_unless_privileged(authserver):
    authserver.add_client("other", "other-secret", "read")
    token = get_token(authserver, "other", "other-secret").json()["access_token"]
    assert introspect(authserver, token).json() == {"active": False}
    authserver.add_client("auditor", "a-secret", "internal_oauth2_introspect")
    assert introspect(authserver, token, "auditor", "a-secret").json()["active"] is True


def test_revocation_then_introspection(authserver):
    token = get_token(authserver).json()["access_token"]
    response = requests.post(
        authserver.revocation_endpoint,
        data={"token": token, "token_type_hint": "access_token"},
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        timeout=10,
    )
    assert response.status_code == 200
    assert introspect(authserver, token).json() == {"active": False}


def test_revoking_another_clients_token_answers_as_for_an_unknown_token(authserver):
    """RFC 7009 §2.2: 200, nothing revoked, and nothing said about the token."""
    authserver.add_client("other", "other-secret", "read")
    token = get_token(authserver, "other", "other-secret").json()["access_token"]
    answers = [
        requests.post(
            authserver.revocation_endpoint,
            data={"token": value},
            headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
            timeout=10,
        )
        for value in (token, "no-such-token")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert introspect(authserver, token, "other", "other-secret").json()["active"] is True


@pytest.mark.parametrize("endpoint", ["token", "introspection", "revocation"])
def test_basic_for_one_client_with_another_client_id_in_the_body_is_invalid_request(authserver, endpoint):
    authserver.add_client("other", "other-secret", "read")
    data = {"grant_type": "client_credentials"} if endpoint == "token" else {"token": "x"}
    response = requests.post(
        getattr(authserver, f"{endpoint}_endpoint"),
        data={**data, "client_id": "other"},
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    # The same client_id in the body as in the Basic credentials is fine (RFC 6749 §4.1.3 sends it so).
    same = requests.post(
        getattr(authserver, f"{endpoint}_endpoint"),
        data={**data, "client_id": CLIENT_ID},
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        timeout=10,
    )
    assert same.status_code == 200, same.text


#: IANA "OAuth Token Endpoint Authentication Methods" (RFC 7591 §2, RFC 8705, RFC 7523, OIDC Core §9).
REGISTERED_AUTH_METHODS = {
    "none",
    "client_secret_post",
    "client_secret_basic",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
}


def test_metadata_names_only_registered_authentication_methods(authserver):
    meta = requests.get(authserver.url + "/.well-known/openid-configuration", timeout=10).json()
    names = [k for k in meta if k.endswith("_auth_methods_supported")]
    assert len(names) == 3
    for name in names:
        assert set(meta[name]) <= REGISTERED_AUTH_METHODS, name
    # The Bearer token is still accepted at introspection, though it has no registered name.
    authserver.add_client("introspector", "s3cret", "internal_oauth2_introspect")
    bearer = get_token(authserver, "introspector", "s3cret").json()["access_token"]
    response = requests.post(
        authserver.introspection_endpoint,
        data={"token": bearer},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )
    assert response.json()["active"] is True


def test_revocation_needs_authentication(authserver):
    token = get_token(authserver).json()["access_token"]
    response = requests.post(authserver.revocation_endpoint, data={"token": token}, timeout=10)
    assert response.status_code == 401
    assert introspect(authserver, token).json()["active"] is True


def test_expired_token_is_inactive(authserver):
    token = get_token(authserver).json()["access_token"]
    session = authserver.app.extensions["demo_authserver"]["sessions"]()
    session.execute(
        update(Token).where(Token.token_hash == hash_token(token)).values(issued_at=int(time.time()) - 7200)
    )
    session.commit()
    session.close()
    assert introspect(authserver, token).json() == {"active": False}


def test_jwt_access_token_verifies_against_jwks(authserver):
    authserver.add_client("jwt-client", "jwt-secret", "read", token_format="jwt", token_lifetime=600)
    body = get_token(authserver, "jwt-client", "jwt-secret", resource="https://api.example.com/").json()
    keys = KeySet.import_key_set(requests.get(authserver.url + "/oauth2/jwks", timeout=10).json())
    token = jwt.decode(body["access_token"], keys)
    assert token.header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert token.header["kid"] == keys.keys[0].kid
    claims = token.claims
    assert claims["iss"] == authserver.url + "/oauth2/token"
    assert claims["aud"] == "https://api.example.com/"
    assert claims["client_id"] == claims["sub"] == "jwt-client"
    assert claims["scope"] == "read"
    assert claims["exp"] - claims["iat"] == 600
    assert "d" not in keys.as_dict(private=False)["keys"][0]  # no private part published
    info = introspect(authserver, body["access_token"], "jwt-client", "jwt-secret").json()
    assert info["active"] is True and info["jti"] == claims["jti"]


def test_audience_parameter_and_invalid_resource(authserver):
    body = get_token(authserver, audience="orders-api").json()
    assert introspect(authserver, body["access_token"]).json()["aud"] == "orders-api"
    response = get_token(authserver, resource="not-absolute")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


@pytest.mark.parametrize(
    "path",
    [
        "/oauth2/token/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2/token",
    ],
)
def test_discovery(authserver, path):
    meta = requests.get(authserver.url + path, timeout=10).json()
    assert meta["issuer"] == authserver.url + "/oauth2/token"
    assert meta["token_endpoint"] == authserver.token_endpoint
    assert meta["introspection_endpoint"] == authserver.introspection_endpoint
    assert meta["revocation_endpoint"] == authserver.revocation_endpoint
    assert meta["jwks_uri"] == authserver.url + "/oauth2/jwks"
    assert meta["grant_types_supported"] == list(GRANT_TYPES)
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]


def test_restart_keeps_clients_tokens_and_keys(tmp_path):
    db = tmp_path / "store.sqlite3"
    with running_authserver(db) as first:
        first.add_client("jwt-client", "jwt-secret", "read", token_format="jwt")
        opaque = get_token(first, "jwt-client", "jwt-secret").json()["access_token"]
        jwks = requests.get(first.url + "/oauth2/jwks", timeout=10).json()
    with running_authserver(db) as second:
        assert introspect(second, opaque, "jwt-client", "jwt-secret").json()["active"] is True
        assert requests.get(second.url + "/oauth2/jwks", timeout=10).json() == jwks


def test_secrets_and_tokens_are_stored_hashed(authserver):
    token = get_token(authserver).json()["access_token"]
    path = Path(authserver.app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert CLIENT_SECRET.encode() not in data
    assert token.encode() not in data


def test_errors_are_json(authserver):
    too_big = requests.post(authserver.token_endpoint, data={"grant_type": "x" * 100_000}, timeout=10)
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "invalid_request"
    wrong_method = requests.get(authserver.token_endpoint, timeout=10)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "invalid_request"
    missing = requests.get(authserver.url + "/nope", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "header", ["Basic \x80", "Basic ###", "Basic " + base64.b64encode(b"\xff\xfe:x").decode()]
)
def test_undecodable_basic_credentials_are_invalid_client(authserver, header):
    response = requests.post(
        authserver.token_endpoint,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": header.encode("latin-1")},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_token_type_hint_is_ignored(authserver):
    """RFC 7662 §2.1, RFC 7009 §2.1: the hint only speeds up the search."""
    token = get_token(authserver).json()["access_token"]
    auth = {"Authorization": basic(CLIENT_ID, CLIENT_SECRET)}
    data = {"token": token, "token_type_hint": "bogus"}
    info = requests.post(authserver.introspection_endpoint, data=data, headers=auth, timeout=10)
    assert info.status_code == 200 and info.json()["active"] is True
    revoked = requests.post(authserver.revocation_endpoint, data=data, headers=auth, timeout=10)
    assert revoked.status_code == 200
    assert introspect(authserver, token).json() == {"active": False}


@pytest.mark.parametrize(
    "data, headers, params, fragment",
    [
        (
            {"grant_type": "client_credentials", "client_secret": CLIENT_SECRET, "client_id": CLIENT_ID},
            True,
            {},
            "one client authentication method",
        ),
        ({"scope": "read"}, True, {}, "grant_type parameter is required"),
        ({"grant_type": "client_credentials"}, True, {"scope": "read"}, "request body, not the URL"),
    ],
    ids=["two-auth-methods", "missing-grant-type", "parameters-in-query"],
)
def test_malformed_token_requests_are_invalid_request(authserver, data, headers, params, fragment):
    response = requests.post(
        authserver.token_endpoint,
        data=data,
        params=params,
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)} if headers else {},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert fragment in response.json()["error_description"]


def test_missing_token_at_introspection_is_described(authserver):
    response = requests.post(
        authserver.introspection_endpoint,
        data={"x": "y"},
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The token parameter is required.",
    }


def test_405_keeps_its_allow_header(authserver):
    response = requests.get(authserver.token_endpoint, timeout=10)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_jwks_publishes_every_stored_key(authserver):
    import json

    from joserfc.jwk import RSAKey

    from playground.authserver.keys import JWT_ALG
    from playground.authserver.models import SigningKey

    requests.get(authserver.url + "/oauth2/jwks", timeout=10)  # makes the first key
    other = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": JWT_ALG}, private=True)
    session = authserver.app.extensions["demo_authserver"]["sessions"]()
    session.add(
        SigningKey(
            kid="another-instance",
            private_jwk=json.dumps({**other.as_dict(private=True), "kid": "another-instance"}),
        )
    )
    session.commit()
    session.close()
    keys = requests.get(authserver.url + "/oauth2/jwks", timeout=10).json()["keys"]
    assert len(keys) == 2 and "another-instance" in {k["kid"] for k in keys}
    assert all("d" not in k for k in keys)


def test_metadata_urls_share_the_issuers_origin(tmp_path):
    from playground.authserver import create_app as create_authserver

    from .servers import live_server

    app = create_authserver(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "ISSUER": "https://idp.example:9443/oauth2/token",
        }
    )
    with live_server(app) as url:
        meta = requests.get(url + "/.well-known/openid-configuration", timeout=10).json()
    app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()
    assert meta["issuer"] == "https://idp.example:9443/oauth2/token"
    for name in ("token_endpoint", "introspection_endpoint", "revocation_endpoint", "jwks_uri"):
        assert meta[name].startswith("https://idp.example:9443/oauth2/")


def test_demo_ca_can_only_vouch_for_the_demo_names(tmp_path):
    from cryptography import x509

    from playground.authserver.tls import ensure_certificates

    files = ensure_certificates(tmp_path, ["idp.test"])
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = {str(n.value) for n in constraints.value.permitted_subtrees}
    assert {"localhost", "idp.test", "127.0.0.1/32", "::1/128"} <= permitted
    first = files.ca_cert.read_bytes()
    assert ensure_certificates(tmp_path, ["idp.test"]).ca_cert.read_bytes() == first  # kept across starts
    assert (
        ensure_certificates(tmp_path, ["other.test"]).ca_cert.read_bytes() != first
    )  # remade for a new name


# -- review findings -------------------------------------------------------------


def challenge_params(header: str) -> tuple[str, dict[str, str]]:
    """The scheme and auth-params of a WWW-Authenticate challenge (RFC 9110 §11.6.1)."""
    scheme, _, rest = header.partition(" ")
    return scheme, dict(re.findall(r'([a-z_]+)="([^"]*)"', rest))


@pytest.mark.parametrize("bearer", ["xyz", "introspector"], ids=["unknown", "with-introspect-scope"])
def test_bearer_at_the_token_endpoint_is_invalid_client(authserver, bearer):
    """RFC 6749 §5.2 allows only `invalid_client` for a failed client authentication there."""
    if bearer == "introspector":
        authserver.add_client("introspector", "s3cret", "internal_oauth2_introspect")
        bearer = get_token(authserver, "introspector", "s3cret").json()["access_token"]
    response = requests.post(
        authserver.token_endpoint,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    scheme, params = challenge_params(response.headers["WWW-Authenticate"])
    assert scheme == "Basic" and params["error"] == "invalid_client"


@pytest.mark.parametrize("endpoint", ["token", "introspection", "revocation"])
def test_basic_challenge_names_a_realm(authserver, endpoint):
    """RFC 7617 §2: the realm parameter is required in a Basic challenge."""
    url = getattr(authserver, f"{endpoint}_endpoint")
    data = {"grant_type": "client_credentials"} if endpoint == "token" else {"token": "x"}
    response = requests.post(url, data=data, headers={"Authorization": basic(CLIENT_ID, "wrong")}, timeout=10)
    assert response.status_code == 401
    scheme, params = challenge_params(response.headers["WWW-Authenticate"])
    assert scheme == "Basic"
    assert params["realm"] == "playground-demo"
    assert params["error"] == "invalid_client" and params["error_description"]


def test_instance_folder_and_database_are_private(tmp_path):
    """The store holds the JWT signing key in the clear: owner only, whatever the umask."""
    from playground.authserver import create_app as create_authserver

    from .servers import live_server

    instance = tmp_path / "instance"
    previous = os.umask(0o022)
    try:
        app = create_authserver({"TESTING": True}, instance_path=str(instance))
        with live_server(app) as url:
            server = AuthServer(app, url)
            server.add_client("jwt-client", "jwt-secret", "read", token_format="jwt")
            assert get_token(server, "jwt-client", "jwt-secret").status_code == 200  # stores the key
            assert introspect(server, "x", "jwt-client", "jwt-secret").json() == {"active": False}
            database = instance / "authserver.sqlite3"
            assert stat.S_IMODE(instance.stat().st_mode) == 0o700
            files = [database, *instance.glob("authserver.sqlite3-*")]
            assert len(files) >= 2  # the -wal (and -shm) of WAL mode too
            assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}
        app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()

        # A store made before this was fixed gets its mode fixed on the next start.
        database.chmod(0o644)
        app = create_authserver({"TESTING": True}, instance_path=str(instance))
        app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
    finally:
        os.umask(previous)


def test_a_removed_clients_token_is_inactive(authserver):
    """RFC 7662 §2.2: a token of a client that no longer exists is reported only as inactive."""
    from playground.authserver.models import Client

    authserver.add_client("gone", "gone-secret", "read")
    authserver.add_client("auditor", "a-secret", "internal_oauth2_introspect")
    token = get_token(authserver, "gone", "gone-secret").json()["access_token"]
    assert introspect(authserver, token, "auditor", "a-secret").json()["client_id"] == "gone"
    session = authserver.app.extensions["demo_authserver"]["sessions"]()
    session.execute(delete(Client).where(Client.client_id == "gone"))  # its token row left behind
    session.commit()
    session.close()
    assert introspect(authserver, token, "auditor", "a-secret").json() == {"active": False}
    bearer = get_token(authserver, "auditor", "a-secret").json()["access_token"]
    by_bearer = requests.post(
        authserver.introspection_endpoint,
        data={"token": token},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )
    assert by_bearer.json() == {"active": False}


def test_every_discovery_document_is_the_same(authserver):
    """The playground's discovery skips the root documents (their issuer has a path,
    RFC 8414 §3.3) and finds another: all four must say the same."""
    from playground.authserver.routes import DISCOVERY_PATHS

    assert "/.well-known/oauth-authorization-server/oauth2/token" in DISCOVERY_PATHS  # RFC 8414 §3.1
    bodies = {path: requests.get(authserver.url + path, timeout=10) for path in DISCOVERY_PATHS}
    assert all(r.status_code == 200 for r in bodies.values())
    first = bodies[DISCOVERY_PATHS[0]].json()
    assert first["issuer"] == authserver.url + "/oauth2/token"
    assert all(r.json() == first for r in bodies.values())
