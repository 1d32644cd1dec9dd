"""The playground's pages with Flask's test client, against real servers on loopback."""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import parse_qs, quote_plus

import pytest

from playground import ConfigError, create_app
from playground.exchange import MASK

from .conftest import CLIENT_ID, CLIENT_SECRET, playground_config
from .faults import misbehaving_server, requests_seen, tls_cert_path

WEIRD_ID = "we:ird@id%+/x"
WEIRD_SECRET = "s:e@c%r+e/t ok"
FORM = "/playground2/oauth2.jsp"
TOKENINFO = "/playground2/tokeninfo"


def token_form(endpoint: str, **fields) -> dict[str, str]:
    """The fields of step 2 with Authorize pressed."""
    return {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "token_endpoint": endpoint,
        "client_auth": "client_secret_basic",
        "introspection_auth": "client",
        "authorize": "Authorize",
        **fields,
    }


def introspection_form(endpoint: str, token: str, **fields) -> dict[str, str]:
    """The fields of step 3 with Get TokenInfo pressed."""
    data = token_form("http://unused.invalid/", access_token=token, introspection_endpoint=endpoint, **fields)
    del data["authorize"]
    data["get_tokeninfo"] = "Get TokenInfo"
    return data


def text(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def masked_part(response) -> str:
    """Everything of the page but the hidden 'revealed' views and the form's inputs."""
    html = response.get_data(as_text=True)
    html = re.sub(r'<div class="view revealed-view".*?</div>\s*</section>', "", html, flags=re.S)
    return re.sub(r"<input[^>]*>", "", html)


def access_token_of(response) -> str:
    match = re.search(r'id="access-token-value">([^<]+)<', response.get_data(as_text=True))
    assert match, text(response)[:2000]
    return unescape(match.group(1))


# -- the form ------------------------------------------------------------------


def test_root_leads_to_the_form(test_client):
    response = test_client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(FORM)


def test_form_has_the_seed_labels_and_prefilled_endpoints(test_client, authserver):
    page = test_client.get(FORM)
    assert page.status_code == 200
    body = text(page)
    for label in (
        "Authorization Grant Type",
        "Client ID",
        "Client Secret",
        "Scope",
        "Access Token Endpoint",
        "Client Authentication",
        "Resource",
        "Audience",
        "Introspection Endpoint",
    ):
        assert f"{label}" in body
    html = page.get_data(as_text=True)
    assert 'type="password"' in html
    assert f'value="{authserver.token_endpoint}"' in html
    assert f'value="{authserver.introspection_endpoint}"' in html
    assert "HTTP Basic without URL-encoding (non-standard)" in body
    # Only grants the playground can complete are offered.
    assert re.findall(
        r'<option[^>]*value="([^"]+)"', html.split('id="grant_type"')[1].split("</select>")[0]
    ) == ["authorization_code", "implicit", "client_credentials", "password", "device_code", "token_exchange"]


def test_default_endpoints_are_wso2s(monkeypatch):
    app = create_app({"TESTING": True})
    html = app.test_client().get(FORM).get_data(as_text=True)
    assert 'value="https://localhost:9443/oauth2/token"' in html
    assert 'value="https://localhost:9443/oauth2/introspect"' in html


def test_endpoints_from_environment(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TOKEN_ENDPOINT", "https://idp.example.com/token")
    monkeypatch.setenv("PLAYGROUND_INTROSPECTION_ENDPOINT", "https://idp.example.com/introspect")
    html = create_app({"TESTING": True}).test_client().get(FORM).get_data(as_text=True)
    assert 'value="https://idp.example.com/token"' in html
    assert 'value="https://idp.example.com/introspect"' in html


def test_csrf_is_on_by_default(authserver):
    app = create_app(playground_config(authserver))
    client = app.test_client()
    response = client.post(FORM, data=token_form(authserver.token_endpoint))
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert requests_made_to(authserver) == 0
    # With the token from the page, the same post goes through.
    page = client.get(FORM).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    ok = client.post(FORM, data={**token_form(authserver.token_endpoint), "csrf_token": csrf})
    assert ok.status_code == 200
    assert "Access token received" in text(ok)


def requests_made_to(server) -> int:
    """How many tokens the demo server has issued."""
    from sqlalchemy import func, select

    from playground.authserver.models import Token

    session = server.app.extensions["demo_authserver"]["sessions"]()
    try:
        return session.scalar(select(func.count()).select_from(Token))
    finally:
        session.close()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"client_id": ""}, "client_id", "Required."),
        ({"client_secret": ""}, "client_secret", "Required."),
        ({"token_endpoint": ""}, "token_endpoint", "Required."),
        ({"token_endpoint": "ftp://example.com/token"}, "token_endpoint", "Only http:// and https://"),
        (
            {"token_endpoint": "https://user:pw@example.com/t"},
            "token_endpoint",
            "must not contain a user name",
        ),
        ({"token_endpoint": "not a url"}, "token_endpoint", "must not contain spaces"),
        ({"token_endpoint": "notaurl"}, "token_endpoint", "Only http:// and https://"),
        ({"grant_type": "urn:example:no-such-grant"}, "grant_type", "Not a valid choice"),
        ({"client_auth": "private_key_jwt"}, "client_auth", "Not a valid choice"),
        ({"scope": "x" * 5000}, "scope", "At most 4096 characters."),
    ],
)
def test_invalid_input_is_said_next_to_the_field(test_client, authserver, fields, field, message):
    response = test_client.post(FORM, data=token_form(authserver.token_endpoint, **fields))
    assert response.status_code == 400
    assert message in text(response)
    assert requests_made_to(authserver) == 0


# -- client authentication -----------------------------------------------------


@pytest.mark.parametrize(
    "method, check",
    [
        (
            "client_secret_basic",
            lambda seen: (
                seen.headers["Authorization"]
                == "Basic "
                + base64.b64encode(f"{quote_plus(WEIRD_ID)}:{quote_plus(WEIRD_SECRET)}".encode()).decode()
                and "client_secret" not in parse_qs(seen.body.decode())
            ),
        ),
        (
            "client_secret_post",
            lambda seen: (
                "Authorization" not in seen.headers
                and parse_qs(seen.body.decode())["client_id"] == [WEIRD_ID]
                and parse_qs(seen.body.decode())["client_secret"] == [WEIRD_SECRET]
            ),
        ),
        (
            "client_secret_basic_raw",
            lambda seen: (
                seen.headers["Authorization"]
                == "Basic " + base64.b64encode(f"{WEIRD_ID}:{WEIRD_SECRET}".encode()).decode()
            ),
        ),
    ],
)
def test_server_sees_credentials_exactly_as_the_method_says(test_client, method, check):
    with misbehaving_server("json") as url:
        response = test_client.post(
            FORM,
            data=token_form(
                url + "/token", client_id=WEIRD_ID, client_secret=WEIRD_SECRET, client_auth=method
            ),
        )
        assert response.status_code == 200
        (seen,) = requests_seen(url)
    assert seen.method == "POST" and seen.path == "/token"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(seen.body.decode())["grant_type"] == ["client_credentials"]
    assert check(seen)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_special_characters_work_against_the_demo_server(test_client, authserver, method):
    authserver.add_client(WEIRD_ID, WEIRD_SECRET, "read")
    response = test_client.post(
        FORM,
        data=token_form(
            authserver.token_endpoint, client_id=WEIRD_ID, client_secret=WEIRD_SECRET, client_auth=method
        ),
    )
    assert "Access token received" in text(response)


def test_unencoded_basic_fails_against_a_standard_server_with_special_characters(test_client, authserver):
    authserver.add_client(WEIRD_ID, WEIRD_SECRET, "read")
    fields = dict(client_id=WEIRD_ID, client_secret=WEIRD_SECRET, client_auth="client_secret_basic_raw")
    response = test_client.post(FORM, data=token_form(authserver.token_endpoint, **fields))
    assert "invalid_client" in text(response)


def test_scope_resource_and_audience_are_sent(test_client):
    with misbehaving_server("json") as url:
        test_client.post(
            FORM,
            data=token_form(url, scope="read write", resource="https://api.example.com/", audience="orders"),
        )
        (seen,) = requests_seen(url)
    sent = parse_qs(seen.body.decode())
    assert sent["scope"] == ["read write"]
    assert sent["resource"] == ["https://api.example.com/"]
    assert sent["audience"] == ["orders"]


def test_empty_optional_fields_are_not_sent(test_client):
    with misbehaving_server("json") as url:
        test_client.post(FORM, data=token_form(url))
        (seen,) = requests_seen(url)
    assert set(parse_qs(seen.body.decode())) == {"grant_type"}


# -- the token result ----------------------------------------------------------


def test_token_page_shows_token_fields_exchange_and_curl(test_client, authserver):
    response = test_client.post(FORM, data=token_form(authserver.token_endpoint, scope="read"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = text(response)
    token = access_token_of(response)
    assert "Copy token" in body
    for expected in ("token_type", "Bearer", "expires_in", "3600 s", "UTC", "scope", "read"):
        assert expected in body
    # The exchange: request line, headers, body; status line, headers, pretty JSON; elapsed time.
    assert "POST /oauth2/token HTTP/1.1" in body
    assert "grant_type=client_credentials&amp;scope=read" in response.get_data(as_text=True)
    assert "HTTP/1.1 200 OK" in body
    assert "Cache-Control: no-store" in body
    assert f'"access_token": "{token}"' in body
    assert re.search(r"HTTP 200\s+·\s+\d+ ms", body)
    assert f"curl -g -i -X POST {authserver.token_endpoint}" in body
    # The next step is ready: the token and the introspection endpoint are filled in.
    html = response.get_data(as_text=True)
    assert f'value="{authserver.introspection_endpoint}"' in html
    assert token in html.split('id="access_token"')[1].split("</textarea>")[0]


def test_secret_and_basic_header_are_masked_until_revealed(test_client, authserver):
    response = test_client.post(FORM, data=token_form(authserver.token_endpoint))
    visible = masked_part(response)
    encoded = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert CLIENT_SECRET not in visible and encoded not in visible
    assert f"Authorization: Basic {MASK}" in unescape(visible)
    assert f"-H 'Authorization: Basic {MASK}'" in unescape(visible)
    # The revealed copy exists, hidden until the person asks for it.
    html = response.get_data(as_text=True)
    assert re.search(r'data-view="token-revealed" hidden>', html)
    assert encoded in html.split('data-view="token-revealed"')[1]


def test_secret_in_the_body_is_masked_too(test_client, authserver):
    response = test_client.post(
        FORM, data=token_form(authserver.token_endpoint, client_auth="client_secret_post")
    )
    visible = unescape(masked_part(response))
    assert CLIENT_SECRET not in visible
    assert f"client_secret={MASK}" in visible


def csrf_of(client) -> str:
    """The CSRF token of a fresh form page (which also sets the session cookie)."""
    page = client.get(FORM).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_no_secret_or_token_in_cookies_or_urls(authserver):
    app = create_app(playground_config(authserver))  # CSRF on: the session cookie is real
    client = app.test_client()
    csrf = csrf_of(client)
    response = client.post(FORM, data={**token_form(authserver.token_endpoint), "csrf_token": csrf})
    token = access_token_of(response)
    info = client.post(
        TOKENINFO, data={**introspection_form(authserver.introspection_endpoint, token), "csrf_token": csrf}
    )
    assert "Active" in text(info)
    cookies = list(client._cookies.values())
    assert cookies  # the CSRF session cookie
    for cookie in cookies:
        assert CLIENT_SECRET not in cookie.value and token not in cookie.value
        assert cookie.http_only and cookie.same_site == "Lax"
    assert "Location" not in response.headers and "Location" not in info.headers
    html = response.get_data(as_text=True) + info.get_data(as_text=True)
    for url in re.findall(r'(?:href|action|formaction|src)="([^"]*)"', html):
        assert CLIENT_SECRET not in url and token not in url


# -- introspection -------------------------------------------------------------


def get_token(test_client, server) -> str:
    return access_token_of(test_client.post(FORM, data=token_form(server.token_endpoint)))


def test_token_info_page(test_client, authserver):
    token = get_token(test_client, authserver)
    response = test_client.post(TOKENINFO, data=introspection_form(authserver.introspection_endpoint, token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = text(response)
    assert 'class="status active" role="status"' in response.get_data(as_text=True)
    assert "Active" in body and "Inactive" not in body
    for name in ("client_id", "scope", "exp", "iat", "nbf", "iss", "jti", "token_type"):
        assert name in body
    assert CLIENT_ID in body
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", body)
    assert re.search(r"in 59 min|in 1 h", body)
    assert "Lifetime left: 100%" in body
    assert "Raw JSON" in body
    assert "POST /oauth2/introspect HTTP/1.1" in body
    assert "curl -g -i -X POST" in body
    assert "Introspect again" in body and "Start over" in body
    # Introspect again and Start over carry the state in the form, the secret included, never in a URL.
    html = response.get_data(as_text=True)
    assert f'name="client_secret" value="{CLIENT_SECRET}"' in html
    assert f'name="access_token" value="{token}"' in html


def test_introspect_again_and_start_over(test_client, authserver):
    token = get_token(test_client, authserver)
    data = introspection_form(authserver.introspection_endpoint, token)
    again = test_client.post(TOKENINFO, data=data)
    assert "Active" in text(again)
    back = test_client.post(FORM, data={**data, "start_over": "Start over"})
    assert back.status_code == 200
    html = back.get_data(as_text=True)
    assert f'value="{CLIENT_ID}"' in html and f'value="{CLIENT_SECRET}"' in html
    assert "Access token received" not in text(back)
    # A new flow: the old token is dropped, so nothing offers to revoke or introspect it.
    assert token not in html and 'name="revoke"' not in html
    assert requests_made_to(authserver) == 1


def test_unknown_token_is_inactive(test_client, authserver):
    response = test_client.post(TOKENINFO, data=introspection_form(authserver.introspection_endpoint, "nope"))
    body = text(response)
    assert 'class="status inactive" role="status"' in response.get_data(as_text=True)
    assert "Inactive" in body
    assert "Lifetime left" not in body


def test_introspection_with_client_credentials_in_the_body(test_client, authserver):
    token = get_token(test_client, authserver)
    data = introspection_form(authserver.introspection_endpoint, token, client_auth="client_secret_post")
    with misbehaving_server("json", body={"active": True}) as url:
        test_client.post(TOKENINFO, data={**data, "introspection_endpoint": url})
        (seen,) = requests_seen(url)
    sent = parse_qs(seen.body.decode())
    assert sent["client_id"] == [CLIENT_ID] and sent["client_secret"] == [CLIENT_SECRET]
    assert sent["token"] == [token]
    assert "Active" in text(test_client.post(TOKENINFO, data=data))


def test_introspection_with_another_basic_user(test_client):
    data = introspection_form(
        "", "tok", introspection_auth="basic", introspection_username="admin", introspection_password="p:w%d"
    )
    with misbehaving_server("json", body={"active": True, "username": "admin"}) as url:
        response = test_client.post(TOKENINFO, data={**data, "introspection_endpoint": url})
        (seen,) = requests_seen(url)
    # WSO2 IS's admin user: plain Basic (RFC 7617), as a browser or curl -u would send it.
    assert seen.headers["Authorization"] == "Basic " + base64.b64encode(b"admin:p:w%d").decode()
    assert "p:w%d" not in masked_part(response)


def test_introspection_with_a_bearer_token(test_client, authserver):
    authserver.add_client("introspector", "i-secret", "internal_oauth2_introspect")
    bearer = access_token_of(
        test_client.post(
            FORM,
            data=token_form(authserver.token_endpoint, client_id="introspector", client_secret="i-secret"),
        )
    )
    token = get_token(test_client, authserver)
    data = introspection_form(
        authserver.introspection_endpoint, token, introspection_auth="bearer", introspection_bearer=bearer
    )
    response = test_client.post(TOKENINFO, data=data)
    assert "Active" in text(response)
    assert f"Authorization: Bearer {MASK}" in unescape(masked_part(response))


def test_introspection_without_authentication_is_refused_with_a_hint(test_client, authserver):
    token = get_token(test_client, authserver)
    data = introspection_form(authserver.introspection_endpoint, token, introspection_auth="none")
    response = test_client.post(TOKENINFO, data=data)
    assert response.status_code == 200
    body = text(response)
    assert "invalid_client" in body and "401" in body and "WWW-Authenticate" in body
    assert "the introspection endpoint needs authentication" in body
    with misbehaving_server("json", body={"active": False}) as url:
        test_client.post(TOKENINFO, data={**data, "introspection_endpoint": url})
        (seen,) = requests_seen(url)
    assert "Authorization" not in seen.headers
    assert set(parse_qs(seen.body.decode())) == {"token", "token_type_hint"}


def test_csrf_is_checked_at_tokeninfo_too(authserver):
    client = create_app(playground_config(authserver)).test_client()
    response = client.post(TOKENINFO, data=introspection_form(authserver.introspection_endpoint, "tok"))
    assert response.status_code == 400
    assert "This form has expired" in text(response)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"access_token": ""}, "Required."),
        ({"introspection_endpoint": ""}, "Required."),
        ({"introspection_auth": "basic"}, "Required."),
        ({"introspection_auth": "bearer"}, "Required."),
    ],
)
def test_introspection_input_checked(test_client, authserver, fields, message):
    data = {**introspection_form(authserver.introspection_endpoint, "tok"), **fields}
    response = test_client.post(TOKENINFO, data=data)
    assert response.status_code == 400
    assert message in text(response)


# -- errors a person can understand -------------------------------------------


def test_invalid_client_page(test_client, authserver):
    response = test_client.post(
        FORM, data=token_form(authserver.token_endpoint, client_secret="not-the-right-one")
    )
    assert response.status_code == 200
    body = text(response)
    assert "Token request refused" in body
    assert "invalid_client" in body and "401" in body
    assert "WWW-Authenticate" in body and 'Basic realm="playground-demo", error="invalid_client"' in body
    assert "Try the other client authentication method" in body
    assert "not-the-right-one" not in masked_part(response)


def test_401_without_an_oauth_error_body_is_still_explained(test_client):
    with misbehaving_server(
        "json",
        status=401,
        body="Unauthorized",
        headers={"Content-Type": "text/plain", "WWW-Authenticate": "Basic"},
    ) as url:
        body = text(test_client.post(FORM, data=token_form(url)))
    assert "Token request refused" in body
    assert "no OAuth error body" in body and "401" in body
    assert "Try the other client authentication method" in body


def test_invalid_scope_page(test_client, authserver):
    body = text(test_client.post(FORM, data=token_form(authserver.token_endpoint, scope="admin")))
    assert "invalid_scope" in body and "registered for this client" in body


def test_error_uri_is_a_link_only_when_http(test_client):
    evil = {
        "error": "invalid_request",
        "error_description": "<script>alert(1)</script>",
        "error_uri": "javascript:alert(1)",
    }
    with misbehaving_server("json", status=400, body=evil) as url:
        html = test_client.post(FORM, data=token_form(url)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    good = {"error": "invalid_request", "error_uri": "https://docs.example.com/errors#invalid_request"}
    with misbehaving_server("json", status=400, body=good) as url:
        html = test_client.post(FORM, data=token_form(url)).get_data(as_text=True)
    assert 'href="https://docs.example.com/errors#invalid_request"' in html


def test_unknown_host_gets_a_clear_page(test_client):
    response = test_client.post(FORM, data=token_form("https://no-such-host.invalid/oauth2/token"))
    body = text(response)
    assert "The host name could not be resolved." in body
    assert "no-such-host.invalid" in body


def test_https_url_on_a_plain_http_server(test_client, authserver):
    url = authserver.token_endpoint.replace("http://", "https://")
    body = text(test_client.post(FORM, data=token_form(url)))
    assert "did not answer with TLS" in body
    assert "try http:// instead of https://" in body


def test_ca_bundle_makes_a_self_signed_server_trusted(authserver):
    with misbehaving_server("self_signed") as url:
        app = create_app(playground_config(authserver, WTF_CSRF_ENABLED=False, CA_BUNDLE=tls_cert_path(url)))
        response = app.test_client().post(FORM, data=token_form(url.replace("127.0.0.1", "localhost") + "/t"))
    assert "Access token received" in text(response)


def test_demo_server_over_https_with_its_ca(tls_authserver):
    app = create_app(playground_config(tls_authserver, WTF_CSRF_ENABLED=False))
    client = app.test_client()
    token = access_token_of(client.post(FORM, data=token_form(tls_authserver.token_endpoint)))
    info = client.post(TOKENINFO, data=introspection_form(tls_authserver.introspection_endpoint, token))
    assert "Active" in text(info)
    assert f"--cacert {tls_authserver.ca_path}" in text(info)


def test_unreadable_ca_bundle_fails_at_start(tmp_path):
    with pytest.raises(ValueError, match="cannot use CA bundle"):
        create_app({"CA_BUNDLE": str(tmp_path / "missing.pem")})


def test_head_of_the_form_for_health_checks(test_client):
    response = test_client.head(FORM)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_a_fresh_form_has_nothing_to_start_over_from(test_client):
    html = test_client.get(FORM).get_data(as_text=True)
    assert 'name="start_over"' not in html and 'name="revoke"' not in html
    # Authorize and Discover bring their answer into view (a fragment: never sent, holds nothing).
    assert 'formaction="/playground2/oauth2.jsp#token-result"' in html
    assert 'formaction="/playground2/discover#discovery-result"' in html


def test_a_failed_get_tokeninfo_keeps_the_saved_servers(test_client):
    response = test_client.post(
        TOKENINFO, data={"get_tokeninfo": "Get TokenInfo", "server": "Demo authorization server"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<option value="Demo authorization server" selected' in html
    assert "WSO2 Identity Server (localhost:9443)" in html


def test_raw_json_masks_a_secret_the_server_echoes(test_client):
    echo = {"active": True, "client_id": CLIENT_ID, "echo": CLIENT_SECRET}
    with misbehaving_server("json", body=echo) as url:
        response = test_client.post(TOKENINFO, data=introspection_form(url, "some-token"))
    assert CLIENT_SECRET not in masked_part(response)


def test_not_found_and_method_pages(test_client):
    missing = test_client.get("/nope")
    assert missing.status_code == 404 and "There is no page here" in text(missing)
    assert test_client.get(TOKENINFO).status_code == 405


def test_security_headers(test_client):
    response = test_client.get(FORM)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    scripts = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
    assert scripts == ['<script src="/static/playground.js" defer></script>'[:-9]]  # one, from static/
    assert "style=" not in response.get_data(as_text=True)  # no inline style


def test_behind_a_trusted_proxy_the_callback_url_is_the_https_one():
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "playground.example"}
    behind = create_app({"TESTING": True, "TRUSTED_PROXIES": "1"}).test_client()
    assert 'value="https://playground.example/playground2/oauth2client"' in behind.get(
        FORM, headers=headers
    ).get_data(as_text=True)
    # Not trusted by default: a client cannot make the playground believe another host.
    direct = create_app({"TESTING": True}).test_client()
    assert 'value="http://localhost/playground2/oauth2client"' in direct.get(FORM, headers=headers).get_data(
        as_text=True
    )
    with pytest.raises(ConfigError, match="PLAYGROUND_TRUSTED_PROXIES"):
        create_app({"TESTING": True, "TRUSTED_PROXIES": "many"})
