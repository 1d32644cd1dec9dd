"""Discovery against the demo server on loopback, and against servers that answer otherwise."""

from __future__ import annotations

import pytest

from playground.client import discovery_urls

from .faults import misbehaving_server, requests_seen
from .test_playground import text

DISCOVER = "/playground2/discover"


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
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/oauth2/token",
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
        "https://idp.example/.well-known/oauth-authorization-server/realms/demo",  # RFC 8414 §3.1
        "https://idp.example/realms/demo/.well-known/openid-configuration",  # OIDC Discovery §4
        "https://idp.example/.well-known/openid-configuration/realms/demo",  # RFC 8414 §5
        "https://idp.example/oauth2/token/.well-known/openid-configuration",  # WSO2 IS
    ]
    assert discovery_urls("https://idp.example/x/.well-known/openid-configuration") == [
        "https://idp.example/x/.well-known/openid-configuration"
    ]


def test_missing_endpoints_are_said_not_guessed(test_client):
    metadata = {"issuer": "https://idp.example", "token_endpoint": "https://idp.example/token"}
    with misbehaving_server("json", body=metadata) as url:
        response = discover(test_client, url + "/.well-known/openid-configuration", revocation_endpoint="")
    body = text(response)
    assert "Metadata found" in body
    assert (
        body.count("not in the metadata: not filled in, not guessed") == 3
    )  # introspection, revocation, jwks
    assert value_of(response, "token_endpoint") == "https://idp.example/token"
    assert value_of(response, "revocation_endpoint") == ""
    assert "RFC 8414 default" in body  # no auth methods listed


@pytest.mark.parametrize(
    "methods, chosen",
    [
        (["client_secret_post"], "client_secret_post"),
        (["private_key_jwt", "client_secret_basic"], "client_secret_basic"),
        (["private_key_jwt"], "client_secret_basic"),
    ],
)
def test_client_authentication_follows_the_servers_list(test_client, methods, chosen):
    metadata = {
        "issuer": "x",
        "token_endpoint": "https://idp.example/t",
        "token_endpoint_auth_methods_supported": methods,
    }
    with misbehaving_server("json", body=metadata) as url:
        response = discover(test_client, url + "/.well-known/openid-configuration")
    assert value_of(response, "client_auth") == chosen


def test_issuer_mismatch_is_pointed_out(test_client):
    with misbehaving_server(
        "json", body={"issuer": "https://other.example", "token_endpoint": "https://t.example/t"}
    ) as url:
        body = text(discover(test_client, url + "/realm"))
    assert "differs from the one entered" in body and "RFC 8414 §3.3" in body


def test_no_metadata_anywhere_lists_every_attempt(test_client):
    with misbehaving_server("json", status=404, body={"error": "not_found"}) as url:
        response = discover(test_client, url + "/realms/demo")
        seen = [r.path for r in requests_seen(url)]
    body = text(response)
    assert "No metadata found." in body
    assert seen == [
        "/.well-known/oauth-authorization-server/realms/demo",
        "/realms/demo/.well-known/openid-configuration",
        "/.well-known/openid-configuration/realms/demo",
        "/oauth2/token/.well-known/openid-configuration",
    ]
    assert "Where the playground looked (4)" in body


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
