"""The seed walkthrough, steps 1 to 4, in real Chromium against the demo server.

Screenshots for the README: `.venv/bin/pytest tests/test_browser.py --screenshots`.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.browser


def fill_token_form(page: Page, token_endpoint: str, secret: str = CLIENT_SECRET) -> None:
    """Step 2 of the seed: grant type, client ID and secret, token endpoint."""
    page.get_by_label("Authorization Grant Type").select_option(label="Client Credentials")
    page.get_by_label("Client ID").fill(CLIENT_ID)
    page.get_by_label("Client Secret").fill(secret)
    page.get_by_label("Access Token Endpoint").fill(token_endpoint)


def test_client_credentials_walkthrough(page: Page, tls_authserver, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    # Step 1: open the playground.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/playground2/oauth2\.jsp$"))
    # Under `playground demo`, the demo client and endpoints are pre-filled.
    expect(page.get_by_label("Client ID")).to_have_value(CLIENT_ID)
    expect(page.get_by_label("Client Secret")).to_have_attribute("type", "password")
    screenshot(page, "1-form")

    # Step 2: enter the details and Authorize.
    fill_token_form(page, tls_authserver.token_endpoint)
    page.get_by_role("button", name="Show").first.click()
    expect(page.get_by_label("Client Secret")).to_have_attribute("type", "text")
    page.get_by_role("button", name="Hide").first.click()
    page.get_by_role("button", name="Authorize").click()

    # Step 3: the access token, and the exchange with the secret masked.
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()
    token = page.locator("#access-token-value").inner_text()
    assert len(token) >= 40
    exchange = page.locator("[data-exchange=token]")
    expect(exchange.locator("[data-view=token-masked]")).to_contain_text("Authorization: Basic ••••••••")
    expect(exchange.locator("[data-view=token-revealed]")).to_be_hidden()
    exchange.get_by_role("button", name="Reveal secrets").click()
    expect(exchange.locator("[data-view=token-revealed]")).to_contain_text("Authorization: Basic Y2xpZW50")
    exchange.get_by_role("button", name="Mask secrets").click()
    expect(page.locator("#token-result")).to_contain_text("expires_in")
    screenshot(page, "2-token")

    # Enter the introspection endpoint and Get TokenInfo.
    page.get_by_label("Introspection Endpoint").fill(tls_authserver.introspection_endpoint)
    page.get_by_role("button", name="Get TokenInfo").click()

    # Step 4: the token information.
    expect(page.get_by_role("status")).to_contain_text("Active")
    table = page.locator("table.fields")
    expect(table.locator("tr", has=page.locator("th", has_text="client_id"))).to_contain_text(CLIENT_ID)
    expect(table.locator("tr", has=page.locator("th", has_text="scope"))).to_contain_text("read")
    expect(table.locator("tr", has=page.locator("th", has_text="exp"))).to_contain_text("UTC")
    expect(page.locator("#lifetime-meter")).to_be_visible()
    screenshot(page, "3-tokeninfo")

    # Start over: the form comes back filled as before, and no secret went into a URL.
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_label("Client ID")).to_have_value(CLIENT_ID)
    expect(page.get_by_label("Client Secret")).to_have_value(CLIENT_SECRET)
    assert CLIENT_SECRET not in page.url and token not in page.url
    cookies = " ".join(c["value"] for c in page.context.cookies())
    assert CLIENT_SECRET not in cookies and token not in cookies


def test_wrong_secret_shows_invalid_client(page: Page, tls_authserver, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/playground2/oauth2.jsp")
    fill_token_form(page, tls_authserver.token_endpoint, secret="not-the-secret")
    page.get_by_role("button", name="Authorize").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("invalid_client")
    expect(alert).to_contain_text("401")
    expect(alert).to_contain_text("WWW-Authenticate")
    expect(alert).to_contain_text("Try the other client authentication method")
    assert "not-the-secret" not in page.locator("[data-view=token-masked]").inner_text()
    screenshot(page, "4-invalid-client")


def test_phone_layout(page: Page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/playground2/oauth2.jsp")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    # No sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "5-phone")
