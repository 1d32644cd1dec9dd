"""Implicit, Resource Owner and Token Exchange in real Chromium against `playground demo`, by the
labels a person reads, and refresh after a grant keeping that grant's client authentication on the
wire. Screenshots for the README: `.venv/bin/pytest tests/test_grants_browser.py --screenshots`.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from . import test_code_browser
from .test_code_browser import sign_in

pytestmark = pytest.mark.browser
#: The code flow's fixtures: a browser context of its own per test, its CSP violations recorded.
context, page = test_code_browser.context, test_code_browser.page


def choose(page: Page, grant: str, **fields: str) -> None:
    """The form with another grant chosen and any field changed, as a person does."""
    page.goto("/playground2/oauth2.jsp")
    page.get_by_label("Authorization Grant Type").select_option(label=grant)
    for label, value in fields.items():
        box = page.get_by_label(label, exact=True)
        if not box.is_visible():  # a folded field: unfold its section
            page.locator("details", has=box).locator("summary").click()
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)


def authorize(page: Page) -> None:
    page.get_by_role("button", name="Authorize", exact=True).click()


def wire(page: Page) -> str:
    """The masked copy of the page's token request and answer, as a ticket would carry it."""
    return page.locator("[data-view=token-masked]").first.text_content() or ""


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_implicit_id_token_token(page: Page, demo, screenshot, mode):
    choose(page, "Implicit", **{"Response Mode": mode})
    expect(page.get_by_label("Implicit Response Type")).to_have_value("id_token token")
    expect(page.get_by_label("Use PKCE")).to_be_hidden()  # no code, so no PKCE (RFC 7636 §1)
    expect(page.get_by_text("RFC 9700 §2.1.2").first).to_be_visible()  # said before it is used
    authorize(page)
    params = page.locator("table.params")
    expect(params.locator("tr", has=page.locator("th", has_text="response_type"))).to_contain_text(
        "id_token token"
    )
    expect(params.locator("th", has_text=re.compile("^nonce$"))).to_be_visible()
    page.get_by_role("link", name="Continue to the authorization server").click()
    sign_in(page, demo)
    consent = page.get_by_role("heading", name=re.compile("Allow .* access"))
    tokens = page.get_by_role("heading", name="Tokens received")
    expect(consent.or_(tokens)).to_be_visible()
    if consent.is_visible():  # unless the demo server remembers it (one server per session)
        page.get_by_role("button", name="Allow").click()

    # The tokens came in the fragment (read by the callback page's script) or a form post; checked.
    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    panel = page.locator("#id-token")
    expect(panel).to_contain_text("ID token valid: every check passed")
    for name in ("Signature", "Nonce", "at_hash"):
        expect(panel.locator("li.pass", has_text=name).first).to_be_visible()
    expect(page.get_by_text("RFC 9700 §2.1.2").first).to_be_visible()
    assert "access_token" not in page.url and "id_token" not in page.url
    assert page.csp_violations == []
    if mode == "fragment":
        screenshot(page, "18-implicit")

    # UserInfo with the access token from the fragment.
    page.get_by_role("button", name="Get UserInfo").click()
    expect(page.get_by_role("heading", name="UserInfo")).to_be_visible()
    expect(page.locator("table.fields")).to_contain_text("email")


def test_resource_owner_then_refresh_keeps_the_client_authentication(page: Page, demo, screenshot):
    choose(page, "Resource Owner", **{"Client Authentication": "client_secret_post"})
    expect(page.get_by_label("Resource Owner User Name")).to_have_value(demo["User"])
    password = page.get_by_label("Resource Owner Password")
    expect(password).to_have_attribute("type", "password")  # masked like the client secret
    expect(page.get_by_label("Authorize Endpoint")).to_be_hidden()  # not this grant's
    # The steps are this grant's: no browser trip to the authorization endpoint.
    expect(page.get_by_role("navigation", name="Steps")).to_have_text(
        re.compile(r"1 Request\s+2 Tokens\s+3 UserInfo")
    )
    screenshot(page, "19-resource-owner-form")
    authorize(page)

    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    expect(page.get_by_text("Resource Owner is deprecated (RFC 9700 §2.4)")).to_be_visible()
    expect(page.locator("#id-token")).to_contain_text("ID token valid: every check passed")
    sent = wire(page)
    assert "grant_type=password" in sent and f"username={demo['User']}" in sent
    assert demo["Password"] not in sent and demo["Client Secret"] not in sent
    assert "client_secret=" in sent and "Authorization: Basic" not in sent
    screenshot(page, "20-resource-owner-tokens")

    # Refresh: the same client authentication as the grant (the secret in the body, no Basic).
    page.get_by_role("button", name="Refresh", exact=True).click()
    expect(page.get_by_role("heading", name="Tokens refreshed")).to_be_visible()
    expect(page.locator("table.changes")).to_contain_text("access_token")
    refresh = wire(page)
    assert "grant_type=refresh_token" in refresh and "client_secret=" in refresh
    assert "Authorization: Basic" not in refresh
    assert page.csp_violations == []


def test_resource_owner_with_a_wrong_password_is_explained(page: Page, demo):
    choose(page, "Resource Owner", **{"Resource Owner Password": "not-her-password"})
    authorize(page)
    expect(page.get_by_role("heading", name="Token request refused")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("invalid_grant")
    expect(alert).to_contain_text("The user name or password is wrong")
    assert "not-her-password" not in wire(page)


def test_token_exchange_of_the_current_access_token(page: Page, demo, screenshot):
    choose(page, "Resource Owner", Scope="openid read write")
    authorize(page)
    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    page.get_by_role("button", name="Exchange this token").click()

    # The form again, Token Exchange chosen, the current access token as the subject.
    expect(page.get_by_label("Authorization Grant Type")).to_have_value("token_exchange")
    expect(page.get_by_label("Subject Token", exact=True)).to_have_value("access_token")
    page.get_by_label("Scope").fill("read")
    screenshot(page, "21-token-exchange-form")
    authorize(page)

    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    response = page.locator("table.fields").first
    expect(response).to_contain_text("issued_token_type")
    expect(response).to_contain_text("urn:ietf:params:oauth:token-type:access_token")
    sent = wire(page)
    assert "grant-type%3Atoken-exchange" in sent and "subject_token=" in sent
    assert "actor_token" not in sent
    screenshot(page, "22-token-exchange-tokens")


def test_token_exchange_with_an_actor_token(page: Page, demo):
    # The actor: the client itself, with a client credentials token.
    choose(page, "Client Credentials", Scope="read")
    authorize(page)
    actor = page.locator("#access-token-value").inner_text().strip()

    choose(page, "Resource Owner", Scope="read")
    authorize(page)
    page.get_by_role("button", name="Exchange this token").click()
    page.get_by_label("Actor Token", exact=True).fill(actor)
    authorize(page)

    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    sent = wire(page)
    assert "actor_token=" in sent and "actor_token_type=" in sent and actor not in sent
    page.get_by_role("button", name="Get TokenInfo").click()
    expect(page.get_by_role("heading", name="Token info")).to_be_visible()
    expect(page.locator("table.fields")).to_contain_text("act")
    assert page.csp_violations == []
