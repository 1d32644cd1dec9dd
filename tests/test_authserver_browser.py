"""The demo server's pages in real Chromium: the strict CSP lets the answer reach the client in every mode.

A CSP `form-action` also bounds where a form's submission may be redirected (Chromium
checks the redirect after the consent form's POST) and where the form_post page may
post: these runs show the pages allow exactly the client's origin, with and without
JavaScript, and that nothing on them trips the policy.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

import pytest
from flask import Flask, request
from playwright.sync_api import Browser, expect

from .authflow import pkce_pair
from .conftest import PASSWORD, USER
from .servers import live_server, running_authserver

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def relying_party():
    """A client's redirect URI on loopback that records what reaches it."""
    app = Flask("relying-party")
    received: list[dict] = []

    @app.route("/cb", methods=["GET", "POST"])
    def callback():
        received.append({"method": request.method, **request.args.to_dict(), **request.form.to_dict()})
        return "<!doctype html><title>Client</title><h1>Back at the client</h1>"

    with live_server(app) as url:
        yield url, received


@pytest.fixture
def flow(tmp_path):
    """A relying party and the demo server with alice and a client whose redirect URI is the party's."""
    with relying_party() as (rp_url, received), running_authserver(tmp_path / "a.sqlite3") as server:
        server.add_user(USER, PASSWORD)
        server.add_client(
            "web",
            "web-secret",
            "openid profile",
            grant_types=["authorization_code"],
            redirect_uris=[rp_url + "/cb"],
        )
        yield server, rp_url + "/cb", received


def authorize_url(server, redirect_uri: str, mode: str) -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "web",
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": "st",
        "response_mode": mode,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return server.authorization_endpoint + "?" + urlencode(params)


@pytest.mark.parametrize(
    "mode, javascript",
    # Without JavaScript a fragment still arrives, but only the browser sees it: query and form_post show it.
    [("query", True), ("fragment", True), ("form_post", True), ("query", False), ("form_post", False)],
    ids=["query", "fragment", "form_post", "query-no-js", "form_post-no-js"],
)
def test_the_answer_reaches_the_client_in_chromium(browser: Browser, flow, mode, javascript):
    server, redirect_uri, received = flow
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(authorize_url(server, redirect_uri, mode))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Keyboard only: the user name has the focus; Tab to the password; Enter signs in.
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type(USER)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    page.get_by_role("button", name="Allow").focus()
    page.keyboard.press("Enter")
    if mode == "form_post" and not javascript:
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Back at the client")).to_be_visible()
    if mode == "fragment":
        assert "#code=" in page.url and "state=st" in page.url and "iss=" in page.url
    else:
        (hit,) = received
        assert hit["method"] == ("POST" if mode == "form_post" else "GET")
        assert hit["code"] and hit["state"] == "st" and hit["iss"] == server.url + "/oauth2/token"
    assert violations == []
    context.close()
