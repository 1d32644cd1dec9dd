"""Discovery against the demo server on loopback, and against servers that answer otherwise."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from playground import create_app
from playground.client import discovery_urls, issuer_of
from playground.discovery import EARLIER_BODY
from playground.discovery import discover as run_discovery
from playground.outbound import Outbound, Policy

from .faults import misbehaving_server, requests_seen
from .test_playground import text

DISCOVER = "/playground2/discover"


@contextlib.contextmanager
def metadata_server(metadata: Callable[[str], dict]) -> Iterator[str]:
    """A server on a free loopback port answering every GET with `metadata(its base URL)`,
    so that a document can name its own issuer; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(metadata(base)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def discover(test_client, url: str, **fields):
    return test_client.post(DISCOVER, data={"discovery_url": url, "discover": "Discover", **fields})


def value_of(response, name: str) -> str:
    import re
    from html import unescape

    html = response.get_data(as_text=True)
    match = re.search(rf'<input[^>]*id="{name}"[^>]*value="([^"]*)"', html)
    if match:
        return unescape(match.group(1))
    select = html.split(f'id="{name}"', 1)[1].split("</select>", 1)[0]
    return re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select).group(1)


@pytest.mark.parametrize(
    "suffix",
    [
        "/oauth2/token",  # the issuer (WSO2 style): RFC 8414 §3.1 path-inserted location
        "",  # the bare origin: /.well-known/oauth-authorization-server
        "/oauth2/token/.well-known/openid-configuration",  # WSO2's discovery URL itself
        "/.well-known/oauth-authorization-server/oauth2/token",
        "/oauth2/token/",  # a terminating slash is dropped before the well-known part
    ],
)
def test_discovery_from_each_url_form(test_client, authserver, suffix):
    response = discover(test_client, authserver.url + suffix)
    assert response.status_code == 200
    body = text(response)
    assert "Metadata found" in body
    assert value_of(response, "token_endpoint") == authserver.token_endpoint
    assert value_of(response, "introspection_endpoint") == authserver.introspection_endpoint
    assert value_of(response, "revocation_endpoint") == authserver.revocation_endpoint
    assert value_of(response, "jwks_uri") == authserver.url + "/oauth2/jwks"
    assert value_of(response, "issuer") == authserver.url + "/oauth2/token"
    assert value_of(response, "client_auth") == "client_secret_basic"
    assert "token_endpoint_auth_methods_supported" in body


def test_discovery_urls_follow_the_rfcs():
    assert discovery_urls("https://idp.example/realms/demo") == [
        "https://idp.example/realms/demo",  # the URL given
        "https://idp.example/.well-known/oauth-authorization-server/realms/demo",  # RFC 8414 §3.1
        "https://idp.example/realms/demo/.well-known/openid-configuration",  # OIDC Discovery §4
        "https://idp.example/.well-known/openid-configuration/realms/demo",  # RFC 8414 §5
        "https://idp.example/realms/demo/.well-known/oauth-authorization-server",  # Okta
        "https://idp.example/oauth2/token/.well-known/openid-configuration",  # WSO2 IS
    ]
    assert discovery_urls("https://idp.example/x/.well-known/openid-configuration") == [
        "https://idp.example/x/.well-known/openid-configuration"
    ]


@pytest.mark.parametrize(
    "location, issuer",
    [
        ("https://a.example/.well-known/oauth-authorization-server/realms/x", "https://a.example/realms/x"),
        ("https://a.example/realms/x/.well-known/openid-configuration", "https://a.example/realms/x"),
        ("https://a.example/.well-known/openid-configuration", "https://a.example"),
        ("https://a.example/oauth2/token/.well-known/openid-configuration", "https://a.example/oauth2/token"),
        (
            "https://a.example/oauth2/default/.well-known/oauth-authorization-server",
            "https://a.example/oauth2/default",
        ),
        ("https://a.example/realms/x", "https://a.example/realms/x"),
    ],
)
def test_the_issuer_a_location_belongs_to(location, issuer):
    assert issuer_of(location) == issuer


def test_root_documents_naming_an_issuer_with_a_path_are_not_used(test_client, authserver):
    # The demo serves WSO2's issuer (with its path) at the root too; RFC 8414 §3.3 says
    # such a document MUST NOT be used, and the page says which issuer to enter instead.
    response = discover(
        test_client,
        authserver.url + "/.well-known/openid-configuration",
        token_endpoint="https://kept.example/t",
    )
    body = text(response)
    assert "Metadata found, but only for another issuer." in body
    assert "enter it as the issuer" in body and authserver.url + "/oauth2/token" in body
    assert value_of(response, "token_endpoint") == "https://kept.example/t"  # nothing filled


def test_discovery_empties_what_the_new_server_does_not_name(test_client, authserver):
    # The form holds the demo server's endpoints; the new server names only its token endpoint.
    def metadata(base):
        return {"issuer": base + "/realm", "token_endpoint": base + "/token"}

    with metadata_server(metadata) as url:
        response = discover(
            test_client,
            url + "/realm",
            introspection_endpoint=authserver.introspection_endpoint,
            revocation_endpoint=authserver.revocation_endpoint,
            jwks_uri=authserver.url + "/oauth2/jwks",
            issuer=authserver.url + "/oauth2/token",
        )
    body = text(response)
    assert "Metadata found" in body
    # authorization, introspection, revocation, jwks, userinfo, end_session, device_authorization
    assert body.count("not in the metadata: left empty, not guessed") == 7
    assert value_of(response, "token_endpoint") == url + "/token"
    assert value_of(response, "issuer") == url + "/realm"
    for name in (
        "authorization_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "jwks_uri",
        "device_authorization_endpoint",
    ):
        assert value_of(response, name) == "", name
    assert "RFC 8414 default" in body  # no auth methods listed


def test_an_issuer_with_a_terminating_slash_matches_its_location(test_client):
    with metadata_server(lambda base: {"issuer": base + "/", "token_endpoint": base + "/t"}) as url:
        response = discover(test_client, url)
    assert "Metadata found" in text(response)
    assert value_of(response, "issuer") == url + "/"


@pytest.mark.parametrize(
    "methods, chosen",
    [
        (["client_secret_post"], "client_secret_post"),
        (["private_key_jwt", "client_secret_basic"], "client_secret_basic"),
        (["private_key_jwt"], "client_secret_basic"),
    ],
)
def test_client_authentication_follows_the_servers_list(test_client, methods, chosen):
    def metadata(base):
        return {
            "issuer": base,
            "token_endpoint": "https://idp.example/t",
            "token_endpoint_auth_methods_supported": methods,
        }

    with metadata_server(metadata) as url:
        response = discover(test_client, url + "/.well-known/openid-configuration")
    assert value_of(response, "client_auth") == chosen


def test_metadata_of_another_issuer_is_not_used(test_client):
    # RFC 8414 §3.3: a document whose issuer is not the one its location belongs to
    # could point the token endpoint, and so the client secret, anywhere.
    evil = {"issuer": "https://evil.example", "token_endpoint": "https://evil.example/token"}
    with metadata_server(lambda base: evil) as url:
        response = discover(test_client, url + "/realm", token_endpoint="https://kept.example/t")
    body = text(response)
    assert "Metadata found, but only for another issuer." in body
    assert "'https://evil.example'" in body and "RFC 8414 §3.3" in body
    assert value_of(response, "token_endpoint") == "https://kept.example/t"
    assert "Where the playground looked (6)" in body


def test_no_metadata_anywhere_lists_every_attempt(test_client):
    with misbehaving_server("json", status=404, body={"error": "not_found"}) as url:
        response = discover(test_client, url + "/realms/demo")
        seen = [r.path for r in requests_seen(url)]
    body = text(response)
    assert "No metadata found." in body
    assert seen == [
        "/realms/demo",
        "/.well-known/oauth-authorization-server/realms/demo",
        "/realms/demo/.well-known/openid-configuration",
        "/.well-known/openid-configuration/realms/demo",
        "/realms/demo/.well-known/oauth-authorization-server",
        "/oauth2/token/.well-known/openid-configuration",
    ]
    assert "Where the playground looked (6)" in body


def test_discovery_goes_through_the_outbound_policy(test_client):
    body = text(discover(test_client, "http://169.254.169.254/"))
    assert "outbound policy does not allow this target" in body


def test_unreachable_server_stops_at_the_first_attempt(test_client):
    with misbehaving_server("refuse") as url:
        body = text(discover(test_client, url + "/realm"))
    assert "The server refused the connection." in body
    assert "Where the playground looked (1)" in body


def test_discovery_needs_a_url(test_client):
    response = discover(test_client, "not a url")
    assert response.status_code == 400


def test_all_the_locations_together_keep_within_the_timeout():
    # Each location answers within the timeout, but six of them would not.
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "TIMEOUT": 2})
    with misbehaving_server("slow", delay=0.8) as url:
        started = time.monotonic()
        body = text(discover(app.test_client(), url + "/realm"))
        took = time.monotonic() - started
    assert took < 2 + 2
    assert "Discovery stopped after 2 s." in body


def test_only_the_last_attempt_keeps_its_whole_body():
    """Six locations each answering 500 KB must not make one Discover hold 3 MB."""
    body = {"not": "metadata", "pad": "p" * 500_000}
    with misbehaving_server("json", body=body) as url:
        found = run_discovery(Outbound(Policy(timeout=10)), url + "/issuer")
    assert not found.found and len(found.attempts) > 2
    size = len(json.dumps(body))
    *earlier, last = found.attempts
    assert len(last.exchange.response.body) == size
    for attempt in earlier:
        assert len(attempt.exchange.response.body) == EARLIER_BODY
        assert f"{size - EARLIER_BODY:,} more bytes received, not kept" in attempt.exchange.pretty_body()
