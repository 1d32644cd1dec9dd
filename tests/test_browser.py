"""The seed walkthrough, steps 1 to 4, in real Chromium against `playground demo`.

Screenshots for the README: `.venv/bin/pytest tests/test_browser.py --screenshots`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def fill_token_form(page: Page, demo: dict[str, str], secret: str | None = None) -> None:
    """Step 2 of the seed: grant type, client ID and secret, token endpoint."""
    page.get_by_label("Authorization Grant Type").select_option(label="Client Credentials")
    page.get_by_label("Client ID").fill(demo["Client ID"])
    page.get_by_label("Client Secret").fill(secret or demo["Client Secret"])
    page.get_by_label("Access Token Endpoint").fill(demo["Token endpoint"])


def no_sideways_scrolling(page: Page) -> bool:
    # After the load event: measured before the stylesheet is in (a busy machine), a long token
    # in a <pre> overflows, as it would on any page without its CSS.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_client_credentials_walkthrough(page: Page, demo, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    # Step 1: open the playground.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/playground2/oauth2\.jsp$"))
    # Under `playground demo`, the demo client and endpoints are pre-filled.
    expect(page.get_by_label("Client ID")).to_have_value(demo["Client ID"])
    expect(page.get_by_label("Client Secret")).to_have_value(demo["Client Secret"])
    expect(page.get_by_label("Client Secret")).to_have_attribute("type", "password")
    expect(page.get_by_label("Access Token Endpoint")).to_have_value(demo["Token endpoint"])
    # The server row's fields take the room, not their buttons.
    for name in ("#server", "#discovery_url"):
        assert page.locator(name).bounding_box()["width"] > 250, name
    screenshot(page, "1-form")

    # Step 2: enter the details and Authorize.
    fill_token_form(page, demo)
    page.get_by_role("button", name="Show").first.click()
    expect(page.get_by_label("Client Secret")).to_have_attribute("type", "text")
    page.get_by_role("button", name="Hide").first.click()
    page.get_by_role("button", name="Authorize").click()

    # Step 3: the access token, brought into view, and the exchange with the secret masked.
    expect(page.get_by_role("heading", name="Access token received")).to_be_in_viewport()
    token = page.locator("#access-token-value").inner_text()
    assert len(token) >= 40
    exchange = page.locator("[data-exchange=token]")
    expect(exchange.locator("[data-view=token-masked]")).to_contain_text("Authorization: Basic ••••••••")
    expect(exchange.locator("[data-view=token-masked]")).not_to_contain_text(demo["Client Secret"])
    expect(exchange.locator("[data-view=token-revealed]")).to_be_hidden()
    exchange.get_by_role("button", name="Reveal secrets").click()
    expect(exchange.locator("[data-view=token-revealed]")).to_contain_text(
        "Authorization: Basic cGxheWdyb3VuZC1kZW1v"
    )
    exchange.get_by_role("button", name="Mask secrets").click()
    expect(page.locator("#token-result")).to_contain_text("expires_in")
    screenshot(page, "2-token")

    # Enter the introspection endpoint and Get TokenInfo.
    page.get_by_label("Introspection Endpoint").fill(demo["Introspection endpoint"])
    page.get_by_role("button", name="Get TokenInfo").click()

    # Step 4: the token information.
    expect(page.locator("main").get_by_role("status")).to_contain_text("Active")
    table = page.locator("table.fields")
    expect(table.locator("tr", has=page.locator("th", has_text="client_id"))).to_contain_text(
        demo["Client ID"]
    )
    expect(table.locator("tr", has=page.locator("th", has_text="scope"))).to_contain_text("read")
    expect(table.locator("tr", has=page.locator("th", has_text="exp"))).to_contain_text("UTC")
    expect(page.locator("#lifetime-meter")).to_be_visible()
    screenshot(page, "3-tokeninfo")

    # Start over: the form comes back filled as before, and no secret went into a URL.
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_label("Client ID")).to_have_value(demo["Client ID"])
    expect(page.get_by_label("Client Secret")).to_have_value(demo["Client Secret"])
    assert demo["Client Secret"] not in page.url and token not in page.url
    cookies = " ".join(c["value"] for c in page.context.cookies())
    assert demo["Client Secret"] not in cookies and token not in cookies


def test_wrong_secret_shows_invalid_client(page: Page, demo, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/playground2/oauth2.jsp")
    fill_token_form(page, demo, secret="not-the-secret")
    page.get_by_role("button", name="Authorize").click()
    alert = page.get_by_role("alert")
    expect(alert).to_be_in_viewport()
    expect(alert).to_contain_text("invalid_client")
    expect(alert).to_contain_text("401")
    expect(alert).to_contain_text("WWW-Authenticate")
    expect(alert).to_contain_text("Try the other client authentication method")
    assert "not-the-secret" not in page.locator("[data-view=token-masked]").inner_text()
    screenshot(page, "4-invalid-client")


def choose(page: Page, grant: str = "Client Credentials") -> None:
    page.get_by_label("Authorization Grant Type").select_option(label=grant)


def test_phone_layout(page: Page, demo, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/playground2/oauth2.jsp")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert no_sideways_scrolling(page)
    choose(page)
    screenshot(page, "5-phone")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()
    assert no_sideways_scrolling(page)
    page.get_by_role("button", name="Get TokenInfo").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Active")
    assert no_sideways_scrolling(page)


def test_introspection_fields_follow_the_chosen_method(page: Page, demo):
    page.goto("/playground2/oauth2.jsp")
    username = page.get_by_label("Username")
    bearer = page.get_by_label("Bearer token")
    expect(username).to_be_hidden()
    expect(bearer).to_be_hidden()
    page.get_by_label("Authenticate with").select_option("basic")
    expect(username).to_be_visible()
    page.get_by_label("Authenticate with").select_option("bearer")
    expect(bearer).to_be_visible()
    expect(username).to_be_hidden()


def test_discover_jwt_verify_revoke(page: Page, demo, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/playground2/oauth2.jsp")
    # Discover: the issuer is pre-filled under `playground demo`.
    expect(page.get_by_label("Issuer or discovery URL")).to_have_value(demo["Token endpoint"])
    # Empty what the demo pre-fills, so that only Discover can fill it in.
    page.evaluate(
        "for (const id of ['jwks_uri', 'revocation_endpoint']) document.getElementById(id).value = ''"
    )
    page.get_by_role("button", name="Discover").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Metadata found")
    expect(page.locator("main").get_by_role("status")).to_be_in_viewport()
    expect(page.get_by_label("JWKS URI")).to_have_value(
        demo["Token endpoint"].removesuffix("/token") + "/jwks"
    )
    expect(page.get_by_label("Revocation Endpoint")).to_have_value(demo["Revocation endpoint"])
    screenshot(page, "6-discovery")

    # A JWT access token (the demo's JWT client shares the secret), verified against the JWKS.
    choose(page)
    page.get_by_label("Client ID").fill(demo["JWT Client ID"])
    page.get_by_role("button", name="Authorize").click()
    panel = page.get_by_label("What the token says")
    expect(panel).to_contain_text("JWT access token")
    expect(panel.locator(".badge.ok")).to_have_text("verified")
    expect(panel.locator("li.pass", has_text="Signature")).to_contain_text("RS256 signature verified")
    expect(panel.locator("li.pass", has_text="Issuer")).to_be_visible()
    screenshot(page, "7-jwt")

    # The transcript downloads without the secret.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download transcript").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## Token request" in markdown and demo["Client Secret"] not in markdown

    # Revoke, then introspection says Inactive.
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Revoked")
    page.get_by_role("button", name="Get TokenInfo").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Inactive")
    screenshot(page, "8-revoked-inactive")


def test_last_values_are_remembered_and_can_be_forgotten(page: Page, demo):
    page.goto("/playground2/oauth2.jsp")
    came_with = page.get_by_label("Scope").input_value()
    choose(page)
    page.get_by_label("Scope").fill("read")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()
    stored = page.evaluate("localStorage.getItem('oauth-playground:last')")
    assert '"scope":"read"' in stored and demo["Client Secret"] not in stored  # never a secret
    page.goto("/playground2/oauth2.jsp")
    expect(page.get_by_label("Scope")).to_have_value("read")
    expect(page.get_by_text("Filled in from your last visit.")).to_be_visible()
    page.get_by_role("button", name="Forget").click()
    assert page.evaluate("localStorage.getItem('oauth-playground:last')") is None
    expect(page.get_by_label("Scope")).to_have_value(came_with)  # what the page came with
    choose(page)
    # Forgotten stays forgotten, until the person asks to be remembered again.
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()
    assert page.evaluate("localStorage.getItem('oauth-playground:last')") is None
    page.goto("/playground2/oauth2.jsp")
    expect(page.get_by_text("This browser does not remember your values.")).to_be_visible()
    page.get_by_role("button", name="Remember them").click()
    choose(page)
    page.get_by_label("Scope").fill("write")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()
    assert '"scope":"write"' in page.evaluate("localStorage.getItem('oauth-playground:last')")
