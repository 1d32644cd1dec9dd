"""The device authorization grant (RFC 8628) in real Chromium against `playground demo`: the first page
plays the device (Authorize, then the page polls by itself), a second browser plays the person at the
verification URI (signs in as the demo user and allows), and the first page sees the tokens appear.
Screenshots for the README: `.venv/bin/pytest tests/test_device_browser.py --screenshots`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .test_code_browser import allow, sign_in

pytestmark = pytest.mark.browser


def new_page(browser: Browser, base_url: str) -> Page:
    """A browser of its own (its own cookies), recording CSP violations."""
    context = browser.new_context(
        base_url=base_url, ignore_https_errors=True, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda m: page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def test_device_grant_the_page_polls_until_the_user_allows(browser: Browser, base_url, demo, screenshot):
    device = new_page(browser, base_url)
    person = new_page(browser, base_url)
    try:
        device.goto("/playground2/oauth2.jsp")
        device.get_by_label("Authorization Grant Type").select_option("device_code")
        endpoint = device.get_by_label("Device Authorization Endpoint")
        expect(endpoint).to_be_visible()
        expect(endpoint).to_have_value(demo["Device authorization endpoint"])
        expect(device.get_by_label("Authorize Endpoint")).to_be_hidden()  # not this grant's
        device.get_by_role("button", name="Authorize", exact=True).click()

        # The device page: the code, the links, the QR code, the expiry counting down, polling on.
        expect(device.get_by_role("heading", name="Enter the code on another device")).to_be_visible()
        code = device.locator("#user-code").inner_text()
        assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", code)
        expect(device.locator("#device-qr")).to_be_visible()
        expect(device.locator("#device-expiry")).to_contain_text(re.compile(r"in \d+:\d\d"))
        expect(device.get_by_role("button", name="Stop polling")).to_be_visible()
        expect(device.locator("#device-code-shown")).to_have_attribute("type", "password")
        complete = device.locator("#verification-uri-complete").get_attribute("href")
        assert complete and complete.endswith(f"?user_code={code}")
        screenshot(device, "23-device")

        # The person, elsewhere: the verification URI with the code filled in, sign in, allow.
        person.goto(complete)
        expect(person.get_by_role("heading", name="Connect a device")).to_be_visible()
        expect(person.get_by_label("Code shown on your device")).to_have_value(code)
        person.get_by_role("button", name="Continue").click()
        sign_in(person, demo)
        allow(person)
        expect(person.get_by_role("heading", name="Device connected")).to_be_visible()

        # The device page's own polls bring the tokens (interval 5 s, 5 s more after a slow_down).
        expect(device.get_by_role("heading", name="Tokens received")).to_be_visible(timeout=45_000)
        expect(device.locator("#id-token")).to_contain_text("ID token valid: every check passed")
        expect(device.get_by_role("button", name="Refresh", exact=True).first).to_be_visible()
        screenshot(device, "24-device-tokens")
        assert device.csp_violations == [] and person.csp_violations == []
    finally:
        device.context.close()
        person.context.close()


def test_stop_polling_stops_and_poll_now_polls_by_hand(browser: Browser, base_url):
    device = new_page(browser, base_url)
    try:
        device.goto("/playground2/oauth2.jsp")
        device.get_by_label("Authorization Grant Type").select_option("device_code")
        device.get_by_role("button", name="Authorize", exact=True).click()
        device.get_by_role("button", name="Stop polling").click()
        expect(device.get_by_role("button", name="Resume polling")).to_be_visible()
        expect(device.locator("#next-poll")).to_be_hidden()
        device.get_by_role("button", name="Poll now").click()
        expect(device.get_by_role("heading", name="Still waiting for the user")).to_be_visible()
        expect(device.locator("#polls li")).to_have_count(2)
        # Stopped stays stopped across a poll by hand.
        expect(device.get_by_role("button", name="Resume polling")).to_be_visible()
        assert device.csp_violations == []
    finally:
        device.context.close()


def test_device_grant_denied_by_the_user_stops_polling(browser: Browser, base_url, demo):
    device = new_page(browser, base_url)
    person = new_page(browser, base_url)
    try:
        device.goto("/playground2/oauth2.jsp")
        device.get_by_label("Authorization Grant Type").select_option("device_code")
        device.get_by_role("button", name="Authorize", exact=True).click()
        code = device.locator("#user-code").inner_text()

        # The person types the code at the plain verification URI, signs in, and says no.
        person.goto(device.locator("#verification-uri").get_attribute("href"))
        person.get_by_label("Code shown on your device").fill(code)
        person.get_by_role("button", name="Continue").click()
        sign_in(person, demo)
        person.get_by_role("button", name="Deny").click()
        expect(person.get_by_role("heading", name="Request denied")).to_be_visible()

        # The device page's next poll gets access_denied (RFC 8628 §3.5): said, and polling ends.
        expect(device.get_by_role("heading", name="Access denied")).to_be_visible(timeout=45_000)
        expect(device.get_by_text("Polling has stopped")).to_be_visible()
        expect(device.get_by_role("button", name="Poll now")).to_have_count(0)
        assert device.csp_violations == [] and person.csp_violations == []
    finally:
        device.context.close()
        person.context.close()
