"""Saved servers: the TOML file (valid, invalid, missing), the built-ins, and what choosing one fills in."""

from __future__ import annotations

import pytest

from playground import create_app
from playground.servers import ServersFileError, load

from .faults import misbehaving_server, tls_cert_path
from .test_discovery import value_of
from .test_playground import FORM, text, token_form

VALID = """
[[server]]
name = "Keycloak (realm demo)"
issuer = "https://kc.example/realms/demo"
token_endpoint = "https://kc.example/realms/demo/protocol/openid-connect/token"
introspection_endpoint = "https://kc.example/realms/demo/protocol/openid-connect/token/introspect"
revocation_endpoint = "https://kc.example/realms/demo/protocol/openid-connect/revoke"
jwks_uri = "https://kc.example/realms/demo/protocol/openid-connect/certs"
client_auth = "client_secret_post"
"""


def playground_with(path) -> object:
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SERVERS_FILE": str(path)}).test_client()


def test_valid_file_lists_its_servers_and_fills_the_form(tmp_path):
    path = tmp_path / "servers.toml"
    path.write_text(VALID)
    client = playground_with(path)
    page = client.get(FORM).get_data(as_text=True)
    for name in (
        "Keycloak (realm demo)",
        "Demo authorization server",
        "WSO2 Identity Server (localhost:9443)",
    ):
        assert name in page
    # The browser fills from data- attributes; without JS, "Use server" does it on the server.
    assert 'data-token-endpoint="https://kc.example/realms/demo/protocol/openid-connect/token"' in page
    response = client.post(FORM, data={"server": "Keycloak (realm demo)", "use_server": "Use server"})
    assert value_of(response, "token_endpoint").endswith("/openid-connect/token")
    assert value_of(response, "introspection_endpoint").endswith("/token/introspect")
    assert value_of(response, "revocation_endpoint").endswith("/revoke")
    assert value_of(response, "jwks_uri").endswith("/certs")
    assert value_of(response, "issuer") == "https://kc.example/realms/demo"
    assert value_of(response, "client_auth") == "client_secret_post"


def test_builtin_wso2_entry():
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    response = client.post(
        FORM, data={"server": "WSO2 Identity Server (localhost:9443)", "use_server": "Use server"}
    )
    assert value_of(response, "token_endpoint") == "https://localhost:9443/oauth2/token"
    assert value_of(response, "introspection_endpoint") == "https://localhost:9443/oauth2/introspect"
    assert value_of(response, "revocation_endpoint") == "https://localhost:9443/oauth2/revoke"


@pytest.mark.parametrize(
    "content, message",
    [
        ("[[server]\nname=", "not valid TOML"),
        ('[[server]]\nname = "x"\nclient_secret = "s3cret"\n', "must not be in the servers file: no secrets"),
        ('[[server]]\nname = "x"\ncolor = "red"\n', "unknown keys color"),
        ('[[server]]\ntoken_endpoint = "https://a/t"\n', "needs a name"),
        ('[[server]]\nname = "x"\ntoken_endpoint = "ftp://a/t"\n', "Only http:// and https://"),
        ('[[server]]\nname = "x"\nclient_auth = "private_key_jwt"\n', "client_auth must be one of"),
        ('[[server]]\nname = "x"\n[[server]]\nname = "x"\n', "names used twice or by a built-in server: x"),
        ("server = [1]\n", "server #1: expected a [[server]] table"),
        ('server = ["abc"]\n', "server #1: expected a [[server]] table"),
        ('title = "x"\n', "expected only [[server]] tables"),
    ],
)
def test_invalid_file_is_said_on_the_page(tmp_path, content, message):
    path = tmp_path / "servers.toml"
    path.write_text(content)
    with pytest.raises(ServersFileError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load(path)
    page = text(playground_with(path).get(FORM))
    assert "The saved servers file could not be used." in page and message in page
    assert "WSO2 Identity Server (localhost:9443)" in page  # the built-ins stay


def test_a_file_may_not_reuse_a_built_in_name(tmp_path):
    path = tmp_path / "servers.toml"
    path.write_text(
        '[[server]]\nname = "Demo authorization server"\ntoken_endpoint = "https://evil.example/t"\n'
    )
    page = text(playground_with(path).get(FORM))
    assert "names used twice or by a built-in server: Demo authorization server" in page


def test_choosing_a_server_empties_what_it_does_not_name(tmp_path):
    # The form holds WSO2's endpoints; the chosen server names only a token endpoint.
    path = tmp_path / "servers.toml"
    path.write_text('[[server]]\nname = "Bare"\ntoken_endpoint = "https://bare.example/token"\n')
    client = playground_with(path)
    page = client.get(FORM).get_data(as_text=True)
    assert 'data-revocation-endpoint=""' in page  # the browser empties it too
    response = client.post(
        FORM,
        data={
            "server": "Bare",
            "use_server": "Use server",
            "introspection_endpoint": "https://localhost:9443/oauth2/introspect",
            "revocation_endpoint": "https://localhost:9443/oauth2/revoke",
            "jwks_uri": "https://localhost:9443/oauth2/jwks",
            "issuer": "https://localhost:9443/oauth2/token",
        },
    )
    assert value_of(response, "token_endpoint") == "https://bare.example/token"
    for name in ("introspection_endpoint", "revocation_endpoint", "jwks_uri", "issuer"):
        assert value_of(response, name) == "", name


def test_missing_file_is_said(tmp_path):
    page = text(playground_with(tmp_path / "nope.toml").get(FORM))
    assert "PLAYGROUND_SERVERS_FILE" in page and "no such file" in page


def test_a_servers_ca_bundle_is_trusted_for_that_server_only(tmp_path):
    with misbehaving_server("self_signed") as url:
        path = tmp_path / "servers.toml"
        path.write_text(
            f'[[server]]\nname = "Lab"\ntoken_endpoint = "{url}/t"\nca_bundle = "{tls_cert_path(url)}"\n'
        )
        client = playground_with(path)
        chosen = text(client.post(FORM, data=token_form(url + "/t", server="Lab")))
        other = text(client.post(FORM, data=token_form(url + "/t")))
    assert "Access token received" in chosen
    assert "certificate is not trusted" in other


def test_a_server_fills_what_its_metadata_says_and_no_stale_value_lingers(tmp_path):
    path = tmp_path / "servers.toml"
    path.write_text('[[server]]\nname = "Bare"\ntoken_endpoint = "https://bare.example/token"\n')
    client = playground_with(path)
    stale = {"use_server": "Use server", "iss_supported": "true", "id_token_algs": "HS256"}
    bare = client.post(FORM, data={**stale, "server": "Bare"})
    assert value_of(bare, "iss_supported") == "" and value_of(bare, "id_token_algs") == ""
    page = client.get(FORM).get_data(as_text=True)
    assert 'data-iss-supported="true"' in page and 'data-iss-supported=""' in page  # the JS picker too
    demo = client.post(FORM, data={**stale, "server": "Demo authorization server"})
    assert (
        value_of(demo, "iss_supported") == "true" and value_of(demo, "id_token_algs") == "RS256 ES256 EdDSA"
    )


def test_under_playground_demo_the_form_starts_with_the_demo_servers_metadata():
    app = create_app({"TESTING": True, "DEMO_BASE": "https://localhost:9443"})
    response = app.test_client().get(FORM)
    assert value_of(response, "iss_supported") == "true"
