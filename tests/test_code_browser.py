"""The code flow in real Chromium against `playground demo`: PKCE, login, consent, the checked ID
token, UserInfo, refresh, revocation and logout, by the labels a person reads.

The demo server speaks HTTPS with its own CA. The playground trusts that CA (`playground demo` gives
it PLAYGROUND_CA_BUNDLE); the browser does not, so these contexts accept the demo's certificate, as a
person does once (or imports instance/demo-ca.pem). Screenshots for the README:
`.venv/bin/pytest tests/test_code_browser.py --screenshots`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser: Browser, base_url):
    """A browser of its own per test: its own cookies, so its own login session at the demo server."""
    context = browser.new_context(
        base_url=base_url, ignore_https_errors=True, viewport={"width": 1280, "height": 900}
    )
    yield context
    context.close()


@pytest.fixture
def page(context) -> Page:
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda m: page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def authorize(page: Page, **fields: str) -> None:
    """From the form: the code grant (the default), any field changed, Authorize, then onward."""
    page.goto("/playground2/oauth2.jsp")
    expect(page.get_by_label("Authorization Grant Type")).to_have_value("authorization_code")
    for label, value in fields.items():
        box = page.get_by_label(label, exact=True)
        if not box.is_visible():  # a folded field: unfold its section, as a person does
            page.locator("details", has=box).locator("summary").click()
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)
    page.get_by_role("button", name="Authorize", exact=True).click()
    expect(page.get_by_role("heading", name="The authorization request")).to_be_visible()


def sign_in(page: Page, demo) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User name").fill(demo["User"])
    page.get_by_label("Password").fill(demo["Password"])
    page.get_by_role("button", name="Sign in").click()


def allow(page: Page) -> None:
    expect(page.get_by_role("heading", name=re.compile("Allow .* access"))).to_be_visible()
    page.get_by_role("button", name="Allow").click()


def allow_unless_remembered(page: Page) -> None:
    """Consent, unless the demo server remembers it for this user and client (one server per session)."""
    consent = page.get_by_role("heading", name=re.compile("Allow .* access"))
    back = page.get_by_role("heading", name="The authorization response")
    expect(consent.or_(back)).to_be_visible()
    if consent.is_visible():
        page.get_by_role("button", name="Allow").click()


def to_the_tokens(page: Page, demo, login: bool = True) -> None:
    """Continue, sign in (unless the server remembers the login), consent, check, Get Access Token."""
    page.get_by_role("link", name="Continue to the authorization server").click()
    if login:
        sign_in(page, demo)
    allow_unless_remembered(page)
    expect(page.get_by_role("heading", name="The authorization response")).to_be_visible()
    page.get_by_role("button", name="Get Access Token").click()
    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()


def passed(page: Page, name: str):
    return page.locator("ul.checks li.pass", has=page.locator("strong", has_text=name))


def test_code_flow_with_pkce_walkthrough(page: Page, demo, screenshot):
    # The form: Authorization Code is the default, everything pre-filled under `playground demo`.
    page.goto("/playground2/oauth2.jsp")
    expect(page.get_by_label("Authorization Grant Type")).to_have_value("authorization_code")
    expect(page.get_by_label("Client ID")).to_have_value(demo["Client ID"])
    expect(page.get_by_label("Authorize Endpoint")).to_have_value(demo["Authorization endpoint"])
    expect(page.get_by_label("Callback URL")).to_have_value(
        demo["Playground"].removesuffix("oauth2.jsp") + "oauth2client"
    )
    expect(page.get_by_text("register this redirect URI at your server")).to_be_visible()
    expect(page.get_by_label("Scope")).to_have_value("openid profile email offline_access")
    expect(page.get_by_label("Use PKCE")).to_be_checked()
    expect(page.get_by_label("PKCE Challenge Method")).to_have_value("S256")
    # Client credentials' introspection user fields are not this grant's: hidden.
    screenshot(page, "9-code-form")

    # Authorize: the request shown before the browser leaves, fresh state, nonce and challenge.
    page.get_by_role("button", name="Authorize", exact=True).click()
    request = page.locator("table.params")
    for name in ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge"):
        expect(request.locator("th", has_text=re.compile(f"^{name}$"))).to_be_visible()
    expect(request.locator("tr", has=page.locator("th", has_text="code_challenge_method"))).to_contain_text(
        "S256"
    )
    verifier = page.get_by_label("PKCE Code Verifier")
    expect(verifier).to_have_attribute("type", "password")  # masked until revealed
    url = page.locator("#authorization-url").inner_text()
    assert url.startswith(demo["Authorization endpoint"] + "?") and "code_verifier" not in url
    assert verifier.input_value() not in url
    screenshot(page, "10-authorization-request")

    # At the demo server: sign in as the demo user, then consent, naming client and scopes.
    page.get_by_role("link", name="Continue to the authorization server").click()
    sign_in(page, demo)
    expect(page.get_by_text("offline_access")).to_be_visible()
    screenshot(page, "11-consent")
    allow(page)

    # The callback: state and iss checked, the code shown masked.
    expect(page.get_by_role("heading", name="The authorization response")).to_be_visible()
    expect(passed(page, "state")).to_be_visible()
    expect(passed(page, "iss")).to_be_visible()
    expect(page.get_by_label("Authorization Code")).to_have_attribute("type", "password")
    expect(page).not_to_have_url(re.compile(r"[?&]code="))  # read, then out of the address bar
    screenshot(page, "12-callback")
    page.get_by_role("button", name="Get Access Token").click()

    # The tokens: every ID token check passes, said in one line of words.
    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    panel = page.locator("#id-token")
    expect(panel).to_contain_text("ID token valid: every check passed")
    for name in ("Signature", "Issuer", "Audience", "Expiry", "Nonce", "at_hash"):
        expect(panel.locator("li.pass", has_text=name).first).to_be_visible()
    expect(panel.locator("li.fail")).to_have_count(0)
    expect(page.locator("#refresh-token-value")).to_be_visible()
    expect(page.locator("#pkce-check")).to_contain_text("S256")
    masked = page.locator("[data-view=token-masked]")
    expect(masked).to_contain_text("code_verifier=")
    assert verifier_value(page) not in masked.inner_text()
    screenshot(page, "13-tokens")

    # UserInfo: the claims, and sub equals the ID token's.
    page.get_by_role("button", name="Get UserInfo").click()
    expect(page.get_by_role("heading", name="UserInfo")).to_be_visible()
    expect(passed(page, "UserInfo subject")).to_be_visible()
    expect(page.locator("table.fields")).to_contain_text("email")
    screenshot(page, "14-userinfo")

    # Refresh: new tokens, and what changed.
    old_refresh = page.locator("#refresh-token-value").count()
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("heading", name="Tokens refreshed")).to_be_visible()
    expect(page.locator("table.changes")).to_contain_text("access_token")
    assert old_refresh == 0  # the UserInfo page shows no token boxes

    # Revoke the refresh token, then Refresh is refused and explained.
    page.get_by_label("Token", exact=True).select_option("refresh_token")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Revoked")
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("heading", name="Token request refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("invalid_grant")
    expect(page.get_by_role("alert")).to_contain_text("Use the latest refresh token")

    # The transcript: the authorization request as a URL to open, then the code exchange, masked.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download transcript").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## Authorization request" in markdown and demo["Authorization endpoint"] in markdown
    assert "authorization code" in markdown.lower()
    assert demo["Client Secret"] not in markdown

    # Logout: RP-initiated, back to the playground, which says the session ended.
    page.get_by_role("button", name="Logout").click()
    expect(page.get_by_role("heading", name="Log out at the server")).to_be_visible()
    page.get_by_role("button", name="Log out at the server").click()
    expect(page.get_by_role("heading", name="The session at the server ended")).to_be_visible()
    screenshot(page, "15-logged-out")
    assert page.csp_violations == []

    # Nothing secret in a URL or a readable cookie on the way.
    cookies = page.context.cookies()
    for cookie in cookies:
        assert demo["Client Secret"] not in cookie["value"]
        if cookie["name"].startswith("playground_flow_"):
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def verifier_value(page: Page) -> str:
    """The PKCE verifier the flow sent, from the exchange's revealed copy (hidden until revealed)."""
    revealed = page.locator("[data-view=token-revealed]").first.text_content()
    found = re.search(r"code_verifier=([A-Za-z0-9._~-]+)", revealed)
    assert found, "the code exchange carries the verifier"
    return found.group(1)


def test_pkce_plain_and_a_second_authorization_skips_the_login(page: Page, demo):
    authorize(page, **{"PKCE Challenge Method": "plain"})
    request = page.locator("table.params")
    expect(request.locator("tr", has=page.locator("th", has_text="code_challenge_method"))).to_contain_text(
        "plain"
    )
    expect(page.get_by_text("anyone who sees this request can redeem the code")).to_be_visible()
    to_the_tokens(page, demo)
    expect(page.locator("#pkce-check")).to_contain_text("plain")
    expect(page.locator("#id-token")).to_contain_text("ID token valid: every check passed")

    # The server remembers the login (its own cookie) and the consent: no password this time.
    page.get_by_role("button", name="Start over").click()
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.get_by_role("link", name="Continue to the authorization server").click()
    expect(page.get_by_role("heading", name="The authorization response")).to_be_visible()
    expect(passed(page, "state")).to_be_visible()


def test_the_public_client(page: Page, demo):
    authorize(
        page,
        **{"Client ID": demo["Public Client ID"], "Client Secret": "", "Client Authentication": "none"},
    )
    to_the_tokens(page, demo)
    expect(page.locator("#id-token")).to_contain_text("ID token valid: every check passed")
    masked = page.locator("[data-view=token-masked]")
    expect(masked).to_contain_text(f"client_id={demo['Public Client ID']}")
    expect(masked).not_to_contain_text("Authorization: Basic")


@pytest.mark.parametrize("mode", ["form_post", "fragment"])
def test_response_modes(page: Page, demo, mode):
    authorize(page, **{"Response Mode": mode})
    expect(page.locator("table.params tr", has=page.locator("th", has_text="response_mode"))).to_contain_text(
        mode
    )
    to_the_tokens(page, demo)
    expect(page.locator("#id-token")).to_contain_text("ID token valid: every check passed")
    assert "code=" not in page.url  # the code never stayed in the address bar
    assert page.csp_violations == []


def test_deny_is_access_denied_explained(page: Page, demo, screenshot):
    authorize(page, prompt="consent")
    page.get_by_role("link", name="Continue to the authorization server").click()
    sign_in(page, demo)
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="The server refused the authorization")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("access_denied")
    expect(alert).to_contain_text("What to try")
    expect(page.get_by_role("button", name="Get Access Token")).to_have_count(0)
    screenshot(page, "16-access-denied")


def test_a_tampered_state_stops_the_flow(page: Page, demo, screenshot):
    authorize(page)
    # What an attacker's link does: the same request with a state that is not ours.
    link = page.get_by_role("link", name="Continue to the authorization server")
    link.evaluate("a => { const u = new URL(a.href); u.searchParams.set('state', 'forged'); a.href = u }")
    link.click()
    sign_in(page, demo)
    allow_unless_remembered(page)
    expect(page.locator("ul.checks li.fail", has_text="state")).to_contain_text("'forged'")
    expect(page.get_by_role("alert")).to_contain_text("The flow stops here")
    expect(page.get_by_role("alert")).to_contain_text("No token request was sent")
    expect(page.get_by_role("button", name="Get Access Token")).to_have_count(0)
    screenshot(page, "17-state-mismatch")


def test_the_same_code_twice_is_explained(page: Page, demo):
    authorize(page)
    page.get_by_role("link", name="Continue to the authorization server").click()
    sign_in(page, demo)
    allow_unless_remembered(page)
    expect(page.get_by_role("heading", name="The authorization response")).to_be_visible()
    # Keep the callback's form as it is (what a second click or a resubmission sends again).
    sent = page.evaluate("() => Object.fromEntries(new FormData(document.querySelector('form.flow')))")
    page.get_by_role("button", name="Get Access Token").click()
    expect(page.get_by_role("heading", name="Tokens received")).to_be_visible()
    page.evaluate(
        """sent => {
            const f = document.createElement('form');
            f.method = 'post'; f.action = '/playground2/token';
            for (const [k, v] of Object.entries({...sent, get_access_token: 'Get Access Token'})) {
                const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;
                f.append(i);
            }
            document.body.append(f); f.submit();
        }""",
        sent,
    )
    expect(page.get_by_role("heading", name="Token request refused")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("invalid_grant")
    expect(alert).to_contain_text("single-use")
