"""Every way a remote server can misbehave ends in a page naming the cause, in bounded time.

Real misbehaving servers on loopback (tests/faults.py). For each: a page below 500 that
says what happened and what to try, within the timeout + 2 s, and the playground goes
on serving the next request.
"""

from __future__ import annotations

import time

import pytest

from playground import create_app

from .conftest import playground_config
from .faults import misbehaving_server, tls_cert_path
from .test_playground import FORM, TOKENINFO, introspection_form, text, token_form

TIMEOUT = 2.0

CASES = [
    ("refuse", {}, ["The server refused the connection.", "Nothing is listening at"]),
    ("hang", {}, ["did not answer within", "PLAYGROUND_TIMEOUT"]),
    ("slow", {"delay": 10}, ["did not answer within", "PLAYGROUND_TIMEOUT"]),
    ("trickle", {}, [f"did not finish within {TIMEOUT:g} s", "PLAYGROUND_TIMEOUT"]),
    ("trickle_headers", {}, [f"did not finish within {TIMEOUT:g} s", "PLAYGROUND_TIMEOUT"]),
    ("many_headers", {}, ["not valid HTTP (too many or too long header lines)"]),
    ("bad_gzip", {}, ["could not be decoded"]),
    ("nested_json", {}, ["not valid JSON"]),
    ("huge", {}, ["The response is too large.", "PLAYGROUND_MAX_RESPONSE_BYTES"]),
    ("huge_chunked", {}, ["The response is too large."]),
    ("html", {}, ["HTML page instead of JSON", "Check the path"]),
    ("empty", {}, ["empty body", "JSON object"]),
    ("invalid_json", {}, ["not valid JSON", '{"access_token": "abc", oops']),
    ("status500", {}, ["failed with HTTP 500", "Internal error"]),
    ("reset", {}, ["closed the connection without a valid HTTP answer"]),
    ("close", {}, ["closed the connection without a valid HTTP answer"]),
    (
        "redirect",
        {},
        ["answered with a redirect", "http://169.254.169.254/latest/meta-data/", "does not follow"],
    ),
    ("json", {"body": {"token_type": "Bearer"}}, ["sent no access_token"]),
    ("json", {"body": ["not", "an", "object"]}, ["not what the RFC describes"]),
    (
        "json",
        {"status": 404, "body": "<h1>Not Found</h1>", "headers": {"Content-Type": "text/html"}},
        ["HTML page instead of JSON"],
    ),
    (
        "json",
        {"status": 404, "body": "nothing here", "headers": {"Content-Type": "text/plain"}},
        ["HTTP 404"],
    ),
    ("self_signed", {}, ["certificate is not trusted", "PLAYGROUND_CA_BUNDLE", "wso2carbon"]),
    ("expired", {}, ["certificate has expired"]),
]


def ids(case):
    kind, options, _ = case
    return kind + ("-" + "-".join(f"{k}" for k in options) if options else "")


@pytest.mark.parametrize("kind, options, expected", CASES, ids=[ids(c) for c in CASES])
@pytest.mark.parametrize("step", ["token", "introspection"])
def test_misbehaving_server_gets_a_clear_page(authserver, step, kind, options, expected):
    with misbehaving_server(kind, **options) as url:
        config = playground_config(authserver, WTF_CSRF_ENABLED=False, TIMEOUT=TIMEOUT)
        if kind == "expired":  # trust its CA: only the expiry is wrong
            config["CA_BUNDLE"] = tls_cert_path(url)
        client = create_app(config).test_client()
        started = time.monotonic()
        if step == "token":
            response = client.post(FORM, data=token_form(url + "/oauth2/token"))
        else:
            response = client.post(TOKENINFO, data=introspection_form(url + "/oauth2/introspect", "a-token"))
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 2, f"took {elapsed:.1f} s"  # never a hang
    assert response.status_code < 500
    body = text(response)
    if kind == "json" and "token_type" in options.get("body", {}) and step == "introspection":
        expected = ["no boolean 'active'"]
    for phrase in expected:
        assert phrase in body, body[:3000]
    assert "What to try" in body
    assert "Traceback" not in body
    # The playground goes on serving.
    assert client.get(FORM).status_code == 200
    assert "Access token received" in text(client.post(FORM, data=token_form(authserver.token_endpoint)))
