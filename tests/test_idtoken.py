"""ID token validation (playground/idtoken/) against real providers over HTTP: the misbehaving
one of tests/bad_op.py, one defect at a time, and the demo server's real ID tokens."""

from __future__ import annotations

import secrets
import time

import pytest
import requests

from playground import idtoken
from playground.idtoken import VALID, Expected

from .authflow import callback_params, exchange_code, login_and_consent, pkce_pair, refresh
from .bad_op import CLIENT_ID, CLIENT_SECRET, DEFECTS, OTHER_CLIENT, OTHER_SUB, SUB, BadOP
from .conftest import PASSWORD, REDIRECT_URI, USER, WEB_ID, WEB_SECRET

TIMEOUT = 10
CALLBACK = "http://127.0.0.1:9/cb"  # never reached: the tests read the redirect


def get_json(url: str) -> dict:
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def authorize(op: BadOP, **params) -> dict[str, str]:
    """GET /authorize without following the redirect: what reached the client."""
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid profile",
        "state": "st-1",
        **params,
    }
    response = requests.get(op.authorization_endpoint, params=query, allow_redirects=False, timeout=TIMEOUT)
    return callback_params(response)


def token_request(op: BadOP, **data) -> dict:
    response = requests.post(op.token_endpoint, data=data, auth=(CLIENT_ID, CLIENT_SECRET), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def flow(bad_op_server):
    """The code flow at the bad provider: (Expected, tokens, meta); nonce and max_age as asked."""

    def run(max_age: int | None = None, **expected) -> tuple[Expected, dict, dict]:
        meta = get_json(bad_op_server.issuer + "/.well-known/openid-configuration")
        nonce = "n-" + secrets.token_urlsafe(8)
        extra = {"nonce": nonce} | ({"max_age": str(max_age)} if max_age is not None else {})
        back = authorize(bad_op_server, **extra)
        tokens = token_request(
            bad_op_server, grant_type="authorization_code", code=back["code"], redirect_uri=CALLBACK
        )
        want = Expected(
            client_id=CLIENT_ID,
            issuer=meta["issuer"],
            client_secret=CLIENT_SECRET,
            nonce=nonce,
            max_age=max_age,
            access_token=tokens["access_token"],
            code=back["code"],
            allowed_algs=meta["id_token_signing_alg_values_supported"],
            **expected,
        )
        return want, tokens, meta

    return run


def failed(view) -> set[str]:
    return {c.name for c in view.checks if c.ok is False}


def check(view, name):
    return next(c for c in view.checks if c.name == name)


# (defect, max_age, Expected overrides, the checks that must fail, words of the detail of each)
# Words are formatted with issuer, client, nonce and claims (the token's), so that a detail is
# shown to name the values it compared, not just to say "invalid".
CASES = [
    ("bad_signature", None, {}, {"Signature": ["RS256 signature does not match", "'rsa-1'"]}),
    (
        "unknown_kid",
        None,
        {},
        {"Signature": ["'no-such-kid'", "kids: rsa-1, ec-1, ed-1", "nor in the JWKS fetched again"]},
    ),
    ("alg_none", None, {}, {"Signature": ["alg none"], "Algorithm": ["alg is none"]}),
    (
        "hs256_public_key",
        None,
        {},
        {"Signature": ["HS256 signature does not match the client secret", "algorithm confusion"]},
    ),
    ("wrong_iss", None, {}, {"Issuer": ["'https://issuer.invalid'", "expected exactly '{issuer}'"]}),
    ("wrong_aud", None, {}, {"Audience": ["'another-client'", "this client '{client}' is not in it"]}),
    (
        "several_aud_no_azp",
        None,
        {},
        {
            "Audience": ["but also 'another-client', not trusted by this client"],
            "Authorized party": ["No azp", "2 audiences"],
        },
    ),
    (
        "several_aud_no_azp",
        None,
        {"trusted_audiences": [OTHER_CLIENT]},
        {"Authorized party": ["No azp", "2 audiences"]},
    ),
    ("azp_other", None, {}, {"Authorized party": ["azp is 'another-client'", "not this client '{client}'"]}),
    ("expired", None, {}, {"Expiry": ["expired", "UTC (2 min", "60 s of clock skew"]}),
    ("iat_future", None, {}, {"Issued at": ["in the future", "UTC (in ", "60 s of clock skew"]}),
    ("missing_nonce", None, {}, {"Nonce": ["No nonce claim", "sent '{nonce}'"]}),
    ("wrong_nonce", None, {}, {"Nonce": ["nonce is 'not-{nonce}'", "sent '{nonce}'"]}),
    (
        "wrong_at_hash",
        None,
        {},
        {"at_hash": ["at_hash is '{claims[at_hash]}'", "left half of the SHA-256 of the access token is '"]},
    ),
    (
        "wrong_c_hash",
        None,
        {},
        {"c_hash": ["c_hash is '{claims[c_hash]}'", "SHA-256 of the authorization code is '"]},
    ),
    ("missing_sub", None, {}, {"Subject": ["No sub claim"]}),
    ("auth_time_too_old", 300, {}, {"auth_time": ["UTC (1 h", "ago", "more than max_age=300 s"]}),
    ("auth_time_missing", 300, {}, {"auth_time": ["No auth_time claim", "max_age=300"]}),
]


@pytest.mark.parametrize("defect, max_age, overrides, failures", CASES, ids=[c[0] for c in CASES])
def test_each_defect_fails_its_check_and_only_it(bad_op_server, flow, defect, max_age, overrides, failures):
    bad_op_server.set(defect)
    expected, tokens, meta = flow(max_age, **overrides)
    view = idtoken.validate(
        tokens["id_token"], expected, get_json(meta["jwks_uri"]), lambda: get_json(meta["jwks_uri"])
    )
    assert failed(view) == set(failures), [(c.name, c.detail) for c in view.checks if c.ok is False]
    values = {"issuer": meta["issuer"], "client": CLIENT_ID, "nonce": expected.nonce, "claims": view.claims}
    for name, words in failures.items():
        detail = check(view, name).detail
        for word in words:
            assert word.format(**values) in detail, (name, detail)
    assert not view.verdict.valid and not view.verified
    in_order = [c.name for c in view.checks if c.ok is False]
    assert view.verdict.summary == "ID token not valid: " + ", ".join(in_order)


def test_every_defect_of_the_table_is_tested():
    ids_tokens = {c[0] for c in CASES}
    elsewhere = {"rotated_kid", "missing_at_hash", "userinfo_other_sub"}
    elsewhere |= {"wrong_state", "missing_state", "wrong_iss_param", "missing_iss_param"}
    assert set(DEFECTS) == ids_tokens | elsewhere


@pytest.mark.parametrize(
    "alg, hash_name", [("RS256", "SHA-256"), ("ES256", "SHA-256"), ("EdDSA", "SHA-512"), ("HS256", "SHA-256")]
)
def test_good_tokens_pass_every_check(bad_op_server, flow, alg, hash_name):
    bad_op_server.set(alg=alg, azp=True, c_hash=True)
    expected, tokens, meta = flow(max_age=300)
    view = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]))
    assert view.verdict.summary == VALID and view.verdict.valid and view.verified
    assert view.header["alg"] == alg
    assert all(c.ok is True for c in view.checks), [(c.name, c.ok, c.detail) for c in view.checks]
    assert f"{alg} signature verified with" in check(view, "Signature").detail
    assert f"the left half of the {hash_name} of the access token" in check(view, "at_hash").detail
    assert f"the left half of the {hash_name} of the authorization code" in check(view, "c_hash").detail
    assert "within max_age=300 s" in check(view, "auth_time").detail
    assert not view.jwks_refetched


def test_a_good_token_without_optional_claims_is_valid_with_checks_not_applicable(bad_op_server, flow):
    expected, tokens, meta = flow()
    view = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]))
    assert view.verdict.summary == VALID
    not_applicable = {c.name for c in view.checks if c.ok is None}
    assert not_applicable == {"Authorized party", "c_hash", "auth_time"}
    assert "no max_age was sent" in check(view, "auth_time").detail


def test_key_rotation_passes_after_one_refetch(bad_op_server, flow):
    bad_op_server.set("rotated_kid")
    expected, tokens, meta = flow()
    first = get_json(meta["jwks_uri"])
    assert "rsa-2" not in [k["kid"] for k in first["keys"]]
    calls = []

    def refetch():
        calls.append(1)
        return get_json(meta["jwks_uri"])

    view = idtoken.validate(tokens["id_token"], expected, first, refetch)
    assert view.verdict.summary == VALID, view.verdict
    assert len(calls) == 1 and bad_op_server.jwks_fetches == 2 and view.jwks_refetched
    assert "rsa-2" in [k["kid"] for k in view.jwks["keys"]]  # the fresh JWKS, to keep
    detail = check(view, "Signature").detail
    assert "The kid 'rsa-2' was not in the JWKS" in detail and "the server rotated its keys" in detail
    assert "RS256 signature verified with the JWKS key 'rsa-2'" in detail


def test_an_unknown_kid_is_refetched_once_only(bad_op_server, flow):
    bad_op_server.set("unknown_kid")
    expected, tokens, meta = flow()
    calls = []

    def refetch():
        calls.append(1)
        return get_json(meta["jwks_uri"])

    view = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]), refetch)
    assert len(calls) == 1 and failed(view) == {"Signature"}
    unfetchable = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]), lambda: None)
    assert "fetching it again failed" in check(unfetchable, "Signature").detail
    # A key that was tried and did not match is not a rotation: no refetch.
    bad_op_server.set("bad_signature")
    expected, tokens, meta = flow()
    idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]), refetch)
    assert len(calls) == 1


def test_the_implicit_flow_requires_nonce_and_at_hash(bad_op_server):
    meta = get_json(bad_op_server.issuer + "/.well-known/openid-configuration")
    back = authorize(bad_op_server, response_type="id_token token", nonce="n-implicit")
    assert back["_mode"] == "fragment" and back["state"] == "st-1" and back["iss"] == bad_op_server.issuer
    expected = Expected(
        CLIENT_ID,
        issuer=meta["issuer"],
        nonce="n-implicit",
        access_token=back["access_token"],
        allowed_algs=meta["id_token_signing_alg_values_supported"],
        require_nonce=True,
        require_at_hash=True,
    )
    jwks = get_json(meta["jwks_uri"])
    assert idtoken.validate(back["id_token"], expected, jwks).verdict.summary == VALID

    bad_op_server.set("missing_at_hash")
    back = authorize(bad_op_server, response_type="id_token token", nonce="n-implicit")
    expected.access_token = back["access_token"]
    view = idtoken.validate(back["id_token"], expected, jwks)
    assert (
        failed(view) == {"at_hash"}
        and "required with response_type id_token token" in check(view, "at_hash").detail
    )

    bad_op_server.set()
    back = authorize(bad_op_server, response_type="id_token")  # no nonce sent: the client's mistake
    expected.nonce, expected.access_token, expected.require_at_hash = None, None, False
    view = idtoken.validate(back["id_token"], expected, jwks)
    assert failed(view) == {"Nonce"} and "require a nonce" in check(view, "Nonce").detail


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_the_hybrid_flow_requires_c_hash(bad_op_server, mode):
    meta = get_json(bad_op_server.issuer + "/.well-known/openid-configuration")
    back = authorize(bad_op_server, response_type="code id_token", nonce="n-hybrid", response_mode=mode)
    assert back["_mode"] == mode and back["_url"].startswith(CALLBACK)
    expected = Expected(
        CLIENT_ID,
        issuer=meta["issuer"],
        nonce="n-hybrid",
        code=back["code"],
        require_nonce=True,
        require_c_hash=True,
    )
    view = idtoken.validate(back["id_token"], expected, get_json(meta["jwks_uri"]))
    assert view.verdict.summary == VALID and check(view, "c_hash").ok


def test_form_post_is_a_page_that_posts_itself_with_a_button(bad_op_server):
    response = requests.get(
        bad_op_server.authorization_endpoint,
        params={
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "state": "a<b",
            "response_mode": "form_post",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert (
        'onload="document.forms[0].submit()"' in response.text and '<button type="submit">' in response.text
    )
    assert 'value="a&lt;b"' in response.text and callback_params(response)["state"] == "a<b"


@pytest.mark.parametrize(
    "defect, name, value",
    [
        ("wrong_state", "state", "not-the-state"),
        ("missing_state", "state", None),
        ("wrong_iss_param", "iss", "https://issuer.invalid"),
        ("missing_iss_param", "iss", None),
    ],
)
def test_authorization_response_defects(bad_op_server, defect, name, value):
    good = authorize(bad_op_server)
    assert good["state"] == "st-1" and good["iss"] == bad_op_server.issuer and good["_mode"] == "query"
    bad_op_server.set(defect)
    back = authorize(bad_op_server)
    assert back.get(name) == value and "code" in back


def test_a_refreshed_id_token_is_held_to_the_original(bad_op_server, flow):
    expected, tokens, meta = flow(max_age=300)
    jwks = get_json(meta["jwks_uri"])
    original = idtoken.validate(tokens["id_token"], expected, jwks)
    assert original.verdict.valid

    def refreshed(**claims):
        bad_op_server.set(claims=claims) if claims else bad_op_server.set()
        body = token_request(bad_op_server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        tokens["refresh_token"] = body["refresh_token"]
        again = Expected(
            CLIENT_ID,
            issuer=meta["issuer"],
            access_token=body["access_token"],
            allowed_algs=meta["id_token_signing_alg_values_supported"],
            original=original.claims,
        )
        return idtoken.validate(body["id_token"], again, jwks)

    view = refreshed()
    assert view.verdict.summary == VALID, view.verdict
    assert "nonce" not in view.claims and check(view, "Same nonce as the original").ok
    assert check(view, "Nonce").ok is None and "refreshed" in check(view, "Nonce").detail
    for name in ("iss", "sub", "aud", "azp", "auth_time"):
        assert check(view, f"Same {name} as the original").ok
    assert check(view, "Newer than the original").ok

    changed = refreshed(sub=OTHER_SUB)
    assert failed(changed) == {"Same sub as the original"}
    assert f"'{OTHER_SUB}', the original's '{SUB}'" in check(changed, "Same sub as the original").detail
    assert changed.verdict.summary == "ID token not valid: Same sub as the original"

    changed = refreshed(aud=[CLIENT_ID, OTHER_CLIENT], azp=CLIENT_ID)
    assert failed(changed) == {"Audience", "Same aud as the original", "Same azp as the original"}

    earlier = original.claims["auth_time"] - 100
    changed = refreshed(auth_time=earlier)
    assert failed(changed) == {"Same auth_time as the original"}
    assert (
        f"auth_time is {earlier}, the original's" in check(changed, "Same auth_time as the original").detail
    )

    changed = refreshed(iat=original.claims["iat"] - 60, nonce="other")
    assert failed(changed) == {"Newer than the original", "Same nonce as the original"}


def test_missing_jwks_or_issuer_is_not_checked_and_never_valid(bad_op_server, flow):
    expected, tokens, meta = flow()
    no_jwks = idtoken.validate(tokens["id_token"], expected, None)
    assert check(no_jwks, "Signature").ok is None and "Not verified" in check(no_jwks, "Signature").detail
    assert no_jwks.verdict.summary == "ID token not verified: Signature not checked"
    assert not no_jwks.verdict.valid and no_jwks.verdict.not_made == ["Signature"]

    expected.issuer = None
    neither = idtoken.validate(tokens["id_token"], expected, None)
    assert check(neither, "Issuer").ok is None and "not checked" in check(neither, "Issuer").detail
    assert neither.verdict.summary == "ID token not verified: Signature and Issuer not checked"
    only_issuer = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]))
    assert only_issuer.verdict.summary == "ID token not verified: Issuer not checked"

    # HS256 for a client without a secret (public): a failure, never "not checked" (OIDC Core §10.1).
    bad_op_server.set(alg="HS256")
    expected, tokens, meta = flow()
    expected.client_secret = None
    hs256 = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]))
    assert hs256.verdict.summary == "ID token not valid: Signature"
    assert "this client has none" in check(hs256, "Signature").detail


def test_a_failure_wins_over_a_check_not_made(bad_op_server, flow):
    bad_op_server.set("expired")
    expected, tokens, _meta = flow()
    view = idtoken.validate(tokens["id_token"], expected, None)
    assert view.verdict.summary == "ID token not valid: Expiry" and view.verdict.not_made == ["Signature"]


@pytest.mark.parametrize(
    "token, summary, name, words",
    [
        ("a.b.c.d.e", "ID token not verified: Signature not checked", "Signature", "Encrypted: not checked"),
        ("2YotnFZFEjr1zCsicMWpAA", "ID token not valid: Format", "Format", "opaque"),
    ],
)
def test_what_is_not_a_signed_jwt(token, summary, name, words):
    view = idtoken.validate(token, Expected(CLIENT_ID, issuer="https://op.example"), {"keys": []})
    assert view.verdict.summary == summary and words in check(view, name).detail


def test_userinfo_of_another_subject(bad_op_server, flow):
    expected, tokens, meta = flow()
    claims = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"])).claims
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    def userinfo():
        return requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=TIMEOUT).json()

    good = idtoken.userinfo_check(userinfo(), claims)
    assert good.ok and f"sub is '{SUB}'" in good.detail
    bad_op_server.set("userinfo_other_sub")
    bad = idtoken.userinfo_check(userinfo(), claims)
    assert bad.ok is False and f"'{OTHER_SUB}'" in bad.detail and f"'{SUB}'" in bad.detail


def test_the_provider_records_requests_and_logs_out(bad_op_server, flow):
    flow()
    paths = [(r.method, r.path) for r in bad_op_server.requests]
    assert ("GET", "/authorize") in paths and ("POST", "/token") in paths
    posted = next(r for r in bad_op_server.requests if r.path == "/token")
    assert posted.form["grant_type"] == "authorization_code" and posted.headers["Authorization"].startswith(
        "Basic "
    )
    bye = requests.get(
        bad_op_server.issuer + "/logout",
        params={"post_logout_redirect_uri": "http://127.0.0.1:9/bye", "state": "z"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert bye.status_code == 302 and bye.headers["Location"] == "http://127.0.0.1:9/bye?state=z"
    with pytest.raises(ValueError, match="unknown defect"):
        bad_op_server.set("no-such-defect")


# -- the demo server's real ID tokens ---------------------------------------------------------


def demo_login(server, client_id, secret, scope="openid profile email"):
    verifier, challenge = pkce_pair()
    nonce = "n-" + secrets.token_urlsafe(8)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "nonce": nonce,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    back = login_and_consent(requests.Session(), server, params, USER, PASSWORD)
    response = exchange_code(server, back["code"], REDIRECT_URI, client_id, secret, verifier)
    assert response.status_code == 200, response.text
    return nonce, back["code"], response.json()


@pytest.mark.parametrize("alg, hash_name", [("RS256", "SHA-256"), ("ES256", "SHA-256"), ("EdDSA", "SHA-512")])
def test_the_demo_servers_id_tokens_are_valid(oidc_authserver, alg, hash_name):
    client_id = f"client-{alg.lower()}"
    oidc_authserver.add_client(
        client_id,
        "s3cret",
        "openid profile email",
        grant_types=["authorization_code"],
        redirect_uris=[REDIRECT_URI],
        id_token_alg=alg,
    )
    nonce, code, tokens = demo_login(oidc_authserver, client_id, "s3cret")
    meta = get_json(oidc_authserver.url + "/.well-known/openid-configuration")
    expected = Expected(
        client_id,
        issuer=meta["issuer"],
        client_secret="s3cret",
        nonce=nonce,
        access_token=tokens["access_token"],
        code=code,
        allowed_algs=meta["id_token_signing_alg_values_supported"],
    )
    view = idtoken.validate(tokens["id_token"], expected, get_json(meta["jwks_uri"]))
    assert view.verdict.summary == VALID, [(c.name, c.detail) for c in view.checks if c.ok is not True]
    assert check(view, "at_hash").ok and hash_name in check(view, "at_hash").detail
    assert check(view, "c_hash").ok and check(view, "Authorized party").ok  # the demo sends azp


def test_the_demo_servers_refreshed_id_token_is_held_to_the_original(oidc_authserver):
    nonce, code, tokens = demo_login(oidc_authserver, WEB_ID, WEB_SECRET, "openid profile offline_access")
    meta = get_json(oidc_authserver.url + "/.well-known/openid-configuration")
    jwks = get_json(meta["jwks_uri"])
    first = idtoken.validate(
        tokens["id_token"],
        Expected(WEB_ID, issuer=meta["issuer"], nonce=nonce, access_token=tokens["access_token"], code=code),
        jwks,
    )
    assert first.verdict.valid, first.verdict
    time.sleep(1.1)  # a new second: the refreshed iat is then strictly newer
    body = refresh(oidc_authserver, tokens["refresh_token"], WEB_ID, WEB_SECRET).json()
    again = Expected(WEB_ID, issuer=meta["issuer"], access_token=body["access_token"], original=first.claims)
    view = idtoken.validate(body["id_token"], again, jwks)
    assert view.verdict.summary == VALID, [(c.name, c.detail) for c in view.checks if c.ok is not True]
    assert "s after the original's" in check(view, "Newer than the original").detail


# -- single checks, on claims as a server could send them --------------------------------------


def test_half_hash_matches_the_specs_examples_and_the_demo_servers_hashes():
    # OpenID Connect Core Appendix A's examples (RS256).
    assert idtoken.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256") == (
        "SHA-256",
        "77QmUPtjPfzWtF2AnpK9RQ",
    )
    assert idtoken.half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", "RS256")[1] == (
        "LDktKdoQak3Pk0cnXxCltA"
    )
    from playground.authserver.oidc import half_hash as demo_half_hash

    for alg, size in [("ES384", 32), ("PS512", 43), ("HS256", 22), ("EdDSA", 43)]:
        name, value = idtoken.half_hash("some-token", alg, "Ed25519" if alg == "EdDSA" else None)
        assert value == demo_half_hash("some-token", alg) and len(value) == size, alg
    assert idtoken.half_hash("some-token", "EdDSA", "Ed448")[0] == "SHAKE256"
    assert len(idtoken.half_hash("some-token", "Ed448")[1]) == 76  # 57 octets
    assert idtoken.half_hash("x", "none") is None and idtoken.half_hash("x", "RS1") is None


@pytest.mark.parametrize(
    "sub, ok, words",
    [
        ("24400320", True, "sub is '24400320'"),
        ("x" * 255, True, "sub is"),
        ("x" * 256, False, "256 characters; §2 allows at most 255"),
        ("ünïcode", False, "ASCII characters only"),
        (24400320, False, "non-empty string"),
        ("", False, "non-empty string"),
    ],
)
def test_subject(sub, ok, words):
    from playground.idtoken import checks

    result = checks.subject(sub)
    assert result.ok is ok and words in result.detail


def test_issuer_audience_and_long_values():
    from playground.idtoken import checks

    slash = checks.issuer("https://op.example/", "https://op.example")
    assert slash.ok is False and "trailing slash only" in slash.detail
    hostile = checks.audience_and_azp({"not": "a list"}, checks.ABSENT, "c", [])
    assert [c.ok for c in hostile] == [False, None] and "array of strings" in hostile[0].detail
    long = checks.issuer("https://" + "a" * 10_000, "https://op.example")
    assert len(long.detail) < 300 and "…" in long.detail  # a megabyte claim is not echoed whole
