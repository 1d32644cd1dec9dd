"""JWT access tokens: decoded, verified against the demo server's JWKS, and failing for the right reasons."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings

import pytest
import requests
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey

from playground import tokens

from .faults import misbehaving_server
from .test_authserver import get_token
from .test_playground import FORM, TOKENINFO, introspection_form, text, token_form

JWT_ID, JWT_SECRET = "jwt-client", "jwt-client-secret"


@pytest.fixture
def jwt_server(authserver):
    authserver.add_client(JWT_ID, JWT_SECRET, "read write", token_format="jwt", token_lifetime=600)
    return authserver


def check(view, name):
    return next(c for c in view.checks if c.name == name)


def demo_jwt(server, **params) -> str:
    return get_token(server, JWT_ID, JWT_SECRET, **params).json()["access_token"]


def jwks_of(server) -> dict:
    return requests.get(server.url + "/oauth2/jwks", timeout=10).json()


def test_demo_jwt_verifies(jwt_server):
    token = demo_jwt(jwt_server, audience="orders")
    view = tokens.verify(
        token, jwks_of(jwt_server), issuer=jwt_server.url + "/oauth2/token", audience="orders"
    )
    assert view.is_jwt and view.verified
    assert check(view, "Signature").ok and "RS256" in check(view, "Signature").detail
    assert check(view, "Type").ok  # at+jwt
    assert check(view, "Issuer").ok and check(view, "Audience").ok and check(view, "Expiry").ok
    assert view.claims["client_id"] == JWT_ID and view.header["kid"] == jwks_of(jwt_server)["keys"][0]["kid"]


def test_wrong_key(jwt_server):
    other = RSAKey.generate_key(2048, parameters={"kid": jwks_of(jwt_server)["keys"][0]["kid"]}, private=True)
    view = tokens.verify(demo_jwt(jwt_server), KeySet([other]).as_dict(private=False))
    assert check(view, "Signature").ok is False
    assert "does not match" in check(view, "Signature").detail
    assert not view.verified


def test_unknown_kid(jwt_server):
    other = RSAKey.generate_key(2048, parameters={"kid": "someone-else"}, private=True)
    view = tokens.verify(demo_jwt(jwt_server), KeySet([other]).as_dict(private=False))
    assert "No RSA key with kid" in check(view, "Signature").detail


def test_expired(jwt_server):
    view = tokens.verify(demo_jwt(jwt_server), jwks_of(jwt_server), now=time.time() + 3600)
    assert check(view, "Expiry").ok is False and not view.verified
    assert check(view, "Signature").ok  # the signature is still good


def test_wrong_audience_and_issuer(jwt_server):
    view = tokens.verify(
        demo_jwt(jwt_server), jwks_of(jwt_server), issuer="https://evil.example", audience="payments"
    )
    assert (
        check(view, "Issuer").ok is False
        and "expected 'https://evil.example'" in check(view, "Issuer").detail
    )
    assert check(view, "Audience").ok is False and "'payments' is not in it" in check(view, "Audience").detail


def test_tampered_payload(jwt_server):
    header, payload, signature = demo_jwt(jwt_server).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    view = tokens.verify(f"{header}.{forged}.{signature}", jwks_of(jwt_server))
    assert view.claims["scope"] == "admin"  # decoded, to show...
    assert check(view, "Signature").ok is False  # ...but not trusted


@pytest.mark.parametrize(
    "key, alg",
    [
        (RSAKey.generate_key(2048, private=True), "PS256"),
        (ECKey.generate_key("P-256", private=True), "ES256"),
        (ECKey.generate_key("P-384", private=True), "ES384"),
        (OKPKey.generate_key("Ed25519", private=True), "EdDSA"),
        (OKPKey.generate_key("Ed25519", private=True), "Ed25519"),
    ],
)
def test_asymmetric_algorithms(key, alg):
    key.ensure_kid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA: deprecated in favour of Ed25519 (RFC 9864)
        token = jwt.encode(
            {"alg": alg, "kid": key.kid}, {"exp": int(time.time()) + 60}, key, algorithms=[alg]
        )
    view = tokens.verify(token, KeySet([key]).as_dict(private=False))
    assert check(view, "Signature").ok, check(view, "Signature").detail


def test_hs256_with_the_client_secret():
    secret = "a-client-secret-of-32-bytes-long!"
    token = jwt.encode({"alg": "HS256"}, {"exp": int(time.time()) + 60}, OctKey.import_key(secret.encode()))
    assert check(tokens.verify(token, client_secret=secret), "Signature").ok
    assert check(tokens.verify(token, client_secret="wrong-secret-wrong-secret"), "Signature").ok is False
    assert check(tokens.verify(token), "Signature").ok is None  # no secret given: not checked


def test_unsigned_token_fails():
    view = tokens.verify(f"{part({'alg': 'none'})}.{part({'sub': 'x'})}.", {"keys": []})
    assert check(view, "Signature").ok is False and "unsigned" in check(view, "Signature").detail


def part(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", [["RS256"], {"a": 1}, 256, None])
def test_an_alg_that_is_not_a_string_is_not_a_jwt(test_client, authserver, alg):
    token = f"{part({'alg': alg})}.{part({'sub': 'x'})}.c2ln"
    assert not tokens.inspect(token).is_jwt
    response = test_client.post(
        TOKENINFO,
        data=introspection_form(
            authserver.introspection_endpoint, token, jwks_uri=authserver.url + "/oauth2/jwks"
        ),
    )
    assert response.status_code == 200 and "not a JWT" in text(response)


def test_exp_is_required_of_rfc_9068_tokens_only():
    key = OctKey.import_key(b"a-client-secret-of-32-bytes-long!")
    plain = jwt.encode({"alg": "HS256"}, {"sub": "x"}, key)
    typed = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, {"sub": "x"}, key)
    assert check(tokens.verify(plain, client_secret="a-client-secret-of-32-bytes-long!"), "Expiry").ok is None
    assert (
        check(tokens.verify(typed, client_secret="a-client-secret-of-32-bytes-long!"), "Expiry").ok is False
    )


def test_hs256_signed_with_the_servers_public_key_is_not_verified(jwt_server):
    # Algorithm confusion: HS* is checked with the client secret only, never with a JWKS key.
    public = KeySet.import_key_set(jwks_of(jwt_server)).keys[0].as_pem(private=False)
    signing_input = f"{part({'alg': 'HS256'})}.{part({'exp': int(time.time()) + 60})}"
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()  # joserfc refuses to
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    view = tokens.verify(token, jwks=jwks_of(jwt_server), client_secret=JWT_SECRET)
    assert check(view, "Signature").ok is False


def test_not_yet_valid():
    key = OctKey.import_key(b"a-client-secret-of-32-bytes-long!")
    token = jwt.encode({"alg": "HS256"}, {"nbf": int(time.time()) + 600, "exp": int(time.time()) + 900}, key)
    view = tokens.verify(token, client_secret="a-client-secret-of-32-bytes-long!")
    assert check(view, "Not before").ok is False and not view.verified


@pytest.mark.parametrize(
    "token, note",
    [("2YotnFZFEjr1zCsicMWpAA", "opaque"), ("a.b.c", "not a JWT"), ("a.b.c.d.e", "JWE")],
)
def test_non_jwts_are_named(token, note):
    view = tokens.inspect(token)
    assert not view.is_jwt and note in view.note


# -- on the pages --------------------------------------------------------------


def test_token_page_shows_a_verified_jwt(test_client, jwt_server):
    fields = dict(
        client_id=JWT_ID,
        client_secret=JWT_SECRET,
        jwks_uri=jwt_server.url + "/oauth2/jwks",
        issuer=jwt_server.url + "/oauth2/token",
        audience="orders",
    )
    response = test_client.post(FORM, data=token_form(jwt_server.token_endpoint, **fields))
    body = text(response)
    assert "JWT access token" in body and "verified" in body and "not verified" not in body
    assert "✓ Signature" in body and "✓ Issuer" in body and "✓ Audience" in body and "✓ Expiry" in body
    assert "at+jwt" in body and "client_id" in body and "UTC" in body
    assert "The JWKS fetch" in body


def test_token_info_page_shows_the_jwt_too(test_client, jwt_server):
    token = demo_jwt(jwt_server)
    data = introspection_form(
        jwt_server.introspection_endpoint,
        token,
        client_id=JWT_ID,
        client_secret=JWT_SECRET,
        jwks_uri=jwt_server.url + "/oauth2/jwks",
    )
    body = text(test_client.post(TOKENINFO, data=data))
    assert "Active" in body and "JWT access token" in body and "✓ Signature" in body


def test_jwks_that_cannot_be_fetched_is_said(test_client, jwt_server):
    with misbehaving_server("html") as url:
        fields = dict(client_id=JWT_ID, client_secret=JWT_SECRET, jwks_uri=url + "/jwks")
        body = text(test_client.post(FORM, data=token_form(jwt_server.token_endpoint, **fields)))
    assert "✗ Signature" in body and "Not verified" in body and "did not answer with a JWK Set" in body


def test_opaque_token_is_said_to_be_opaque(test_client, authserver):
    body = text(test_client.post(FORM, data=token_form(authserver.token_endpoint)))
    assert "This token is opaque" in body


def test_tampered_jwt_at_token_info(test_client, jwt_server):
    header, payload, signature = demo_jwt(jwt_server).split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
    data = introspection_form(
        jwt_server.introspection_endpoint,
        tampered,
        client_id=JWT_ID,
        client_secret=JWT_SECRET,
        jwks_uri=jwt_server.url + "/oauth2/jwks",
    )
    body = text(test_client.post(TOKENINFO, data=data))
    assert "Inactive" in body
    assert "not verified" in body or "not a JWT" in body


# -- what a hostile JWKS can cost ------------------------------------------------


def b64int(value: int) -> str:
    return (
        base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    )


def fake_rsa(kid: str, modulus_bits: int = 2048, exponent_bits: int = 17) -> dict:
    """An RSA JWK with numbers of the given sizes (not a key anyone holds)."""
    n = (1 << (modulus_bits - 1)) | 1
    e = (1 << (exponent_bits - 1)) | 1
    return {"kty": "RSA", "kid": kid, "n": b64int(n), "e": b64int(e)}


@pytest.fixture(scope="module")
def signer():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    token = jwt.encode({"alg": "RS256", "kid": "k1"}, {"exp": int(time.time()) + 600}, key)
    return key.as_dict(private=False), token


def test_many_keys_sharing_a_kid_with_enormous_exponents_are_refused_on_the_page(test_client, signer):
    """The review's JWKS: 945 keys under one kid, 3,000-bit exponents (5 s of CPU a click before)."""
    _public, token = signer
    hostile = {"keys": [fake_rsa("k1", 2048, 3000) for _ in range(945)]}
    with (
        misbehaving_server("json", body={"access_token": token, "token_type": "Bearer"}) as token_url,
        misbehaving_server("json", body=hostile) as jwks_url,
    ):
        body = text(test_client.post(FORM, data=token_form(token_url, jwks_uri=jwks_url + "/jwks")))
    assert "✗ Signature" in body
    assert "The JWKS has 945 keys; the playground reads the first 50." in body
    assert "50 RSA keys share the kid 'k1'; the playground tries the first 3" in body
    assert "its exponent e has 3000 bits" in body


@pytest.mark.parametrize(
    "entry, message",
    [
        (fake_rsa("k1", 2048, 300), "its exponent e has 300 bits"),
        (fake_rsa("k1", 9000), "its modulus has 9000 bits; the playground takes at most 8192"),
        (fake_rsa("k1", 1024), "its modulus has 1024 bits; RFC 7518 §3.3 requires 2048 or more"),
        ({"kty": "RSA", "kid": "k1", "n": "!!", "e": "AQAB"}, "is not base64url"),
        ({**fake_rsa("k1"), "e": b64int(65536)}, "odd e"),
    ],
)
def test_rsa_keys_with_absurd_numbers_are_refused_before_use(signer, entry, message):
    _public, token = signer
    result = check(tokens.verify(token, {"keys": [entry]}), "Signature")
    assert result.ok is False and message in result.detail and "was refused" in result.detail


@pytest.mark.parametrize("position, verified", [(0, True), (2, True), (3, False)])
def test_only_the_first_keys_sharing_a_kid_are_tried(signer, position, verified):
    public, token = signer
    keys = [fake_rsa("k1") for _ in range(5)]
    keys[position] = public
    result = check(tokens.verify(token, {"keys": keys}), "Signature")
    assert bool(result.ok) is verified, result.detail
    assert "5 RSA keys share the kid 'k1'; the playground tries the first 3" in result.detail


def test_keys_beyond_the_cap_are_not_read(signer):
    public, token = signer
    others = [fake_rsa(f"other-{i}") for i in range(60)]
    found = check(tokens.verify(token, {"keys": [public, *others]}), "Signature")
    assert found.ok and "reads the first 50" in found.detail
    missed = check(tokens.verify(token, {"keys": [*others, public]}), "Signature")
    assert (
        missed.ok is False and "No RSA key with kid 'k1'" in missed.detail and "the first 50" in missed.detail
    )


def test_a_jwt_with_claims_nested_900_deep_gets_a_page(test_client):
    deep = '{"a": ' * 900 + "1" + "}" * 900
    claims = base64.urlsafe_b64encode(deep.encode()).rstrip(b"=").decode()
    token = f"{part({'alg': 'RS256'})}.{claims}.c2ln"
    with misbehaving_server("json", body={"access_token": token, "token_type": "Bearer"}) as url:
        response = test_client.post(FORM, data=token_form(url))
    assert response.status_code == 200
    assert "nest more than 64 levels deep" in text(response)


def test_signature_check_says_when_no_key_could_be_tried(jwt_server):
    token = demo_jwt(jwt_server)
    header = tokens.inspect(token).header
    published = jwks_of(jwt_server)
    good = tokens.signature_check(token, header, published, None)
    assert good.check.ok and not good.key_missing and good.key["kid"] == header["kid"]
    other = RSAKey.generate_key(2048, parameters={"kid": "someone-else"}, private=True)
    unknown = tokens.signature_check(token, header, KeySet([other]).as_dict(private=False), None)
    assert unknown.check.ok is False and unknown.key_missing and unknown.key is None
    impostor = RSAKey.generate_key(2048, parameters={"kid": header["kid"]}, private=True)
    wrong = tokens.signature_check(token, header, KeySet([impostor]).as_dict(private=False), None)
    assert wrong.check.ok is False and not wrong.key_missing  # a key was tried: a fresh JWKS won't help


def test_a_short_secret_is_measured_against_the_algorithm():
    secret = "a-client-secret-of-40-bytes-long-1234567"  # enough for HS256, short of HS384's 48 bytes
    for alg, short in (("HS256", False), ("HS384", True)):
        token = jwt.encode({"alg": alg}, {"sub": "x"}, OctKey.import_key(secret.encode()), algorithms=[alg])
        result = check(tokens.verify(token, client_secret=secret), "Signature")
        assert result.ok and (f"should have at least {alg[2:]} bits" in result.detail) is short


# -- a JWKS that gives its private keys away --------------------------------------


def hostile_private(public: dict) -> dict:
    """The server's public key with private members a client must never import: a made-up `d`
    (joserfc would then search for the primes, seconds of CPU) and made-up primes."""
    odd = (1 << 4095) | 12345
    return {**public, "d": b64int(odd), "p": b64int(odd + 2), "q": b64int(odd + 4)}


def test_a_jwks_publishing_a_private_key_is_said_and_only_its_public_part_is_used(signer):
    public, token = signer
    started = time.monotonic()
    result = check(tokens.verify(token, {"keys": [hostile_private(public)]}), "Signature")
    assert time.monotonic() - started < 1  # nothing private was imported
    assert result.ok is False  # a published private key signs for anyone
    assert "The RS256 signature matches the JWKS key 'k1'" in result.detail
    assert "the JWKS publishes a private key: kid 'k1' (d, p, q)" in result.detail
    assert "used the public members only" in result.detail


@pytest.mark.parametrize("leak", ["ec", "oct"])
def test_a_private_key_beside_the_signing_key_is_warned_of(signer, leak):
    public, token = signer
    if leak == "ec":
        other = ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True).as_dict(private=True)
        members = "(d)"
    else:
        other = {"kty": "oct", "kid": "hmac-1", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}
        members = "(k)"
    result = check(tokens.verify(token, {"keys": [public, other]}), "Signature")
    assert result.ok  # the key that verified is a public one
    assert f"the JWKS publishes a private key: kid '{other['kid']}' {members}" in result.detail


def test_the_page_warns_of_a_jwks_publishing_a_private_key(test_client, signer):
    public, token = signer
    with (
        misbehaving_server("json", body={"access_token": token, "token_type": "Bearer"}) as token_url,
        misbehaving_server("json", body={"keys": [hostile_private(public)]}) as jwks_url,
    ):
        response = test_client.post(FORM, data=token_form(token_url, jwks_uri=jwks_url + "/jwks"))
    body = text(response)
    assert response.status_code == 200
    assert "✗ Signature" in body and "the JWKS publishes a private key: kid 'k1' (d, p, q)" in body


def test_the_kids_named_in_a_message_are_capped(signer):
    _public, token = signer
    others = [fake_rsa(f"other-{i}") for i in range(20)] + [fake_rsa("x" * 5000)]
    result = check(tokens.verify(token, {"keys": others}), "Signature")
    assert "(kids: other-0, other-1, other-2, other-3, other-4 and 16 more)" in result.detail
    long_kid = tokens.listing(["x" * 5000])
    assert len(long_kid) < 80 and "(5,000 characters)" in long_kid
