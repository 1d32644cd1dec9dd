"""Every way a remote server can misbehave ends in a page naming the cause, in bounded time.

Real misbehaving servers on loopback (tests/faults.py), behind each step that calls out:
Authorize, Get TokenInfo, Revoke and Discover. For each: a page below 500 that says what
happened (and what to try), within the timeout + 2 s, and the playground goes on serving
the next request.
"""

from __future__ import annotations

import time

import pytest

from playground import create_app

from .conftest import playground_config
from .faults import misbehaving_server, tls_cert_path
from .test_playground import FORM, TOKENINFO, introspection_form, text, token_form

TIMEOUT = 2.0
REVOKE = "/playground2/revoke"
DISCOVER = "/playground2/discover"

CASES = [
    ("refuse", {}, ["The server refused the connection.", "Nothing is listening at"]),
    ("hang", {}, ["did not answer within", "PLAYGROUND_TIMEOUT"]),
    ("slow", {"delay": 10}, ["did not answer within", "PLAYGROUND_TIMEOUT"]),
    ("trickle", {}, [f"did not finish within {TIMEOUT:g} s", "PLAYGROUND_TIMEOUT"]),
    ("trickle_headers", {}, [f"did not finish within {TIMEOUT:g} s", "PLAYGROUND_TIMEOUT"]),
    ("many_headers", {}, ["not valid HTTP (too many or too long header lines)"]),
    ("bad_gzip", {}, ["could not be decoded"]),
    ("nested_json", {}, ["nested too deep"]),
    ("nested_json", {"depth": 900}, ["nested too deep", "more than 64 levels"]),
    ("nested_json", {"depth": 900, "format": "object"}, ["nested too deep"]),
    ("nested_json", {"depth": 900, "format": "object", "status": 400}, ["nested too deep"]),
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
    return kind + ("-" + "-".join(f"{k}={v}" for k, v in options.items() if k != "body") if options else "")


def case_id(kind: str, options: dict) -> str:
    """Tells apart the "json" cases too: by status, else by the body's shape."""
    if kind == "nested_json" and "status" in options:
        return "nested_json-status"
    if kind != "json":
        return kind
    if "status" in options:
        return f"json-{options['status']}"
    return "json-list" if isinstance(options.get("body"), list) else "json-object"


CAUTION = "does not look like an OAuth server's"
#: RFC 7009 §2.2: any 200 is "revoked"; one that looks like a web page gets a caution as well.
REVOKE_EXPECTED = {
    "nested_json": ["Revoked", CAUTION, "nested too deep"],
    "huge": ["Revoked", CAUTION, "PLAYGROUND_MAX_RESPONSE_BYTES"],
    "huge_chunked": ["Revoked", CAUTION, "PLAYGROUND_MAX_RESPONSE_BYTES"],
    "html": ["Revoked", CAUTION, "an HTML page", "check the revocation endpoint URL"],
    "empty": ["Revoked"],  # the body of a 200 may be ignored
    "invalid_json": ["Revoked", CAUTION, "not valid JSON"],
    "json-object": ["Revoked"],
    "json-list": ["Revoked"],
    "json-404": ["does not seem to support revocation", "RFC 7009"],
}
#: Discovery stops at a transport failure; an answer that is not metadata sends it to the next location.
NO_METADATA = ["No metadata found.", "Where the playground looked ("]
DISCOVER_EXPECTED = {
    "nested_json": [*NO_METADATA, "No metadata here (HTTP 200)"],
    "nested_json-status": [*NO_METADATA, "No metadata here (HTTP 400)"],
    "huge": [*NO_METADATA, "No metadata here (HTTP 200)", "the rest is not shown"],
    "huge_chunked": [*NO_METADATA, "No metadata here (HTTP 200)", "the rest is not shown"],
    "html": [*NO_METADATA, "No metadata here (HTTP 200)", "text/html"],
    "empty": [*NO_METADATA, "No metadata here (HTTP 200)"],
    "invalid_json": [*NO_METADATA, "No metadata here (HTTP 200)", '{"access_token": "abc", oops'],
    "status500": [*NO_METADATA, "No metadata here (HTTP 500)", "Internal error"],
    "redirect": [*NO_METADATA, "No metadata here (HTTP 302)", "http://169.254.169.254/latest/meta-data/"],
    "json-object": [*NO_METADATA, "No metadata here (HTTP 200)"],
    "json-list": [*NO_METADATA, "No metadata here (HTTP 200)"],
    "json-404": [*NO_METADATA, "No metadata here (HTTP 404)"],
}


def post_step(client, step: str, url: str):
    """Press the step's button with `url` as its endpoint."""
    if step == "token":
        return client.post(FORM, data=token_form(url + "/oauth2/token"))
    if step == "introspection":
        return client.post(TOKENINFO, data=introspection_form(url + "/oauth2/introspect", "a-token"))
    if step == "revocation":
        data = introspection_form("", "a-token", revocation_endpoint=url + "/oauth2/revoke")
        del data["get_tokeninfo"]
        return client.post(REVOKE, data={**data, "revoke": "Revoke"})
    return client.post(DISCOVER, data={"discovery_url": url + "/realms/demo", "discover": "Discover"})


@pytest.mark.parametrize("kind, options, expected", CASES, ids=[ids(c) for c in CASES])
@pytest.mark.parametrize("step", ["token", "introspection", "revocation", "discovery"])
def test_misbehaving_server_gets_a_clear_page(authserver, step, kind, options, expected):
    with misbehaving_server(kind, **options) as url:
        config = playground_config(authserver, WTF_CSRF_ENABLED=False, TIMEOUT=TIMEOUT)
        if kind == "expired":  # trust its CA: only the expiry is wrong
            config["CA_BUNDLE"] = tls_cert_path(url)
        client = create_app(config).test_client()
        started = time.monotonic()
        response = post_step(client, step, url)
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 2, f"took {elapsed:.1f} s"  # never a hang
    assert response.status_code < 500
    body = text(response)
    if kind == "json" and "token_type" in options.get("body", {}) and step == "introspection":
        expected = ["no boolean 'active'"]
    expected = {"revocation": REVOKE_EXPECTED, "discovery": DISCOVER_EXPECTED}.get(step, {}).get(
        case_id(kind, options), expected
    )
    for phrase in expected:
        assert phrase in body, body[:3000]
    if expected == ["Revoked"]:  # a plain success: nothing to try, nothing to doubt
        assert CAUTION not in body and "What to try" not in body
    else:
        assert "What to try" in body
    assert "Traceback" not in body
    # The playground goes on serving.
    assert client.get(FORM).status_code == 200
    assert "Access token received" in text(client.post(FORM, data=token_form(authserver.token_endpoint)))


def test_an_answer_with_more_than_64_kb_of_headers_is_refused(app):
    """http.client takes 100 lines of 64 KB each; the playground reads 64 KB of headers in all."""
    headers = {f"X-Pad-{i}": "p" * 2000 for i in range(40)}  # 80 KB, every line well under 64 KB
    with misbehaving_server("json", headers=headers) as url:
        response = app.test_client().post(FORM, data=token_form(url + "/oauth2/token"))
    assert response.status_code < 500
    page = text(response)
    assert "bytes of headers, more than the 64 KB the playground reads" in page
    assert "What to try" in page
