"""Driving the playground's code flow with Flask's test client against a real authorization server:
the playground's pages in the test client (its cookie jar keeps the pending authorization), the
server's login and consent over real HTTP with requests, as tests/authflow.py does them."""

from __future__ import annotations

from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import requests

from . import authflow

FORM = "/playground2/oauth2.jsp"
CALLBACK = "http://localhost/playground2/oauth2client"  # the callback as Flask's test client reaches it
LOGGED_OUT = "http://localhost/playground2/logged-out"


def code_form(server, client_id: str, secret: str = "", **fields) -> dict[str, str]:
    """The form's fields for the code grant against a demo server, with Authorize pressed."""
    base = server if isinstance(server, str) else server.url
    return {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": secret,
        "client_auth": "client_secret_basic" if secret else "none",
        "authorization_endpoint": base + "/oauth2/authorize",
        "callback_url": CALLBACK,
        "token_endpoint": base + "/oauth2/token",
        "userinfo_endpoint": base + "/oauth2/userinfo",
        "logout_endpoint": base + "/oidc/logout",
        "introspection_endpoint": base + "/oauth2/introspect",
        "revocation_endpoint": base + "/oauth2/revoke",
        "jwks_uri": base + "/oauth2/jwks",
        "issuer": base + "/oauth2/token",
        "scope": "openid profile email offline_access",
        "use_pkce": "y",
        "pkce_method": "S256",
        "response_mode": "query",
        "introspection_auth": "client",
        "token_choice": "access_token",
        "authorize": "Authorize",
        **fields,
    }


def page_form(response, button: str) -> dict[str, str]:
    """The fields of the page's form that has `button`, and the button, as a browser would post them."""
    page = authflow.parse_page(response.get_data(as_text=True))
    for form in page.forms:
        if button in form.buttons:
            return {**{k: unescape(v) for k, v in form.fields.items()}, button: form.buttons[button]}
    raise AssertionError(f"no form with a {button!r} button on the page")


def authorization_url(response) -> str:
    """The URL the authorization request page sends the browser to."""
    html = response.get_data(as_text=True)
    start = html.index('id="continue-authorization" href="') + len('id="continue-authorization" href="')
    return unescape(html[start : html.index('"', start)])


@dataclass
class Answer:
    """What the server sent back toward the callback (without the browser delivering it yet)."""

    params: dict[str, str]
    mode: str


def at_the_server(
    url: str,
    session: requests.Session | None = None,
    username: str | None = None,
    password: str | None = None,
    allow: bool = True,
) -> Answer:
    """Log in and consent at the demo server for the authorization request `url`."""
    session = session or requests.Session()
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    base = f"{parts.scheme}://{parts.netloc}"
    found = authflow.login_and_consent(
        session, base, params, username=username, password=password, allow=allow
    )
    mode = found.pop("_mode")
    found.pop("_url")
    return Answer(found, mode)


def deliver(test_client, answer: Answer):
    """The browser bringing the answer to the playground's callback, as the response mode says."""
    path = urlsplit(CALLBACK).path
    if answer.mode == "query":
        return test_client.get(path, query_string=answer.params)
    if answer.mode == "fragment":
        from urllib.parse import urlencode

        return test_client.post(path, data={"fragment": urlencode(answer.params)})
    return test_client.post(path, data=answer.params)  # form_post (same-site here: the cookie comes)
