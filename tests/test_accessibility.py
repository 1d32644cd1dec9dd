"""Accessible and printable (issue 11, item 11): axe-core over the pages of a run, keyboard only,
reflow at 400 % zoom, reduced motion, forced colours and print, in real Chromium against `playground demo`.

axe-core 4.14.1 (MPL-2.0, from npm: `npm pack axe-core@4.14.1`) is vendored in tests/tools/ so the test
downloads nothing. It is injected through the DevTools protocol, which the page's strict
Content-Security-Policy does not govern, so the page is checked exactly as it is served.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .test_browser import fill_token_form, no_sideways_scrolling

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "tools" / "axe.min.js").read_text(encoding="utf-8")
#: WCAG 2.1 A and AA, and axe's best practices; AAA contrast (7:1) where asked for.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Page, enhanced_contrast: bool = False) -> list[dict]:
    """The serious and critical violations axe-core finds on the page as it stands."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE)
    options = {"runOnly": {"type": "tag", "values": TAGS + (["wcag2aaa"] if enhanced_contrast else [])}}
    if not enhanced_contrast:
        options["rules"] = {"color-contrast-enhanced": {"enabled": False}}
    results = page.evaluate("options => axe.run(document, options)", options)
    # Contrast is measured, not assumed: the rule ran over the page's text.
    ran = {rule["id"] for key in ("passes", "violations", "incomplete") for rule in results[key]}
    assert "color-contrast" in ran, "axe did not measure contrast"
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


def report(violations: list[dict]) -> str:
    return json.dumps(
        [
            {
                "rule": v["id"],
                "help": v["help"],
                "nodes": [(n["target"], n.get("failureSummary", "")) for n in v["nodes"][:5]],
            }
            for v in violations
        ],
        indent=1,
    )


def run_client_credentials(page: Page, demo) -> None:
    page.goto("/playground2/oauth2.jsp")
    fill_token_form(page, demo)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()


def test_form_token_and_tokeninfo_pages_have_no_serious_violations(page: Page, demo):
    page.goto("/playground2/oauth2.jsp")
    assert not (found := axe_violations(page)), "form: " + report(found)

    run_client_credentials(page, demo)
    # With the secrets revealed too: the revealed view is what a presenter shows.
    page.locator("[data-exchange=token]").get_by_role("button", name="Reveal secrets").click()
    assert not (found := axe_violations(page)), "token page: " + report(found)

    page.get_by_label("Introspection Endpoint").fill(demo["Introspection endpoint"])
    page.get_by_role("button", name="Get TokenInfo").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Active")
    assert not (found := axe_violations(page)), "token info page: " + report(found)


def test_error_page_has_no_serious_violations(page: Page, demo):
    page.goto("/playground2/oauth2.jsp")
    fill_token_form(page, demo, secret="wrong-secret")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid_client")
    assert not (found := axe_violations(page)), "error page: " + report(found)


def test_the_axe_check_can_fail(page: Page, demo):
    """The check is not vacuous: a page with a low-contrast label and an unlabelled field fails it."""
    page.goto("/playground2/oauth2.jsp")
    page.evaluate(
        """() => {
            const label = document.querySelector("label[for=client_id]");
            label.style.color = "#d0d0d0";
            document.getElementById("client_id").removeAttribute("id");
            label.removeAttribute("for");
        }"""
    )
    rules = {v["id"] for v in axe_violations(page)}
    assert {"color-contrast", "label"} <= rules, rules


def test_client_credentials_by_keyboard_only(page: Page, demo):
    """Keyboard only, end to end: every step is reached with Tab and done with Enter or Space, and
    the focused control always shows a visible focus indicator."""
    page.goto("/playground2/oauth2.jsp")
    # The fields are filled by typing into them after tabbing there: the form's order is the order read.
    fill_token_form(page, demo)

    def tab_to(name: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                """() => {
                    const el = document.activeElement;
                    const style = getComputedStyle(el);
                    return {
                        name: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
                        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
                        tag: el.tagName,
                    };
                }"""
            )
            if focused["tag"] != "BODY":
                assert focused["outline"], f"no visible focus on {focused}"
            if focused["name"] == name:
                return
        raise AssertionError(f"{name!r} not reached with Tab")

    page.locator("body").focus()
    tab_to("Authorize")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Access token received")).to_be_visible()
    # Copy announces its result to screen readers in a status region.
    tab_to("Copy token")
    page.keyboard.press("Enter")
    expect(page.locator("#announce")).to_have_text(re.compile(r"^(Copied|Selected: press Ctrl\+C)"))
    tab_to("Reveal secrets")
    page.keyboard.press("Space")
    expect(page.locator("[data-exchange=token] [data-view=token-revealed]")).to_be_visible()
    expect(page.locator("#announce")).to_contain_text("Secrets revealed")


def test_reflows_at_400_percent_zoom(page: Page, demo):
    """WCAG 1.4.10: 1280 CSS pixels at 400 % is a 320 px wide viewport, with no sideways scrolling."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/playground2/oauth2.jsp")
    assert no_sideways_scrolling(page), "form"
    run_client_credentials(page, demo)
    assert no_sideways_scrolling(page), "token page"


def test_reduced_motion_and_forced_colours(page: Page, demo):
    run_client_credentials(page, demo)
    scrolling = "getComputedStyle(document.documentElement).scrollBehavior"
    page.emulate_media(reduced_motion="no-preference")
    assert page.evaluate(scrolling) == "smooth"
    # WCAG 2.3.3: asked for less motion, the page jumps to a result instead of gliding there.
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate(scrolling) == "auto"
    page.emulate_media(reduced_motion="reduce", forced_colors="active")
    # Under forced colours backgrounds are dropped: what a background alone marked (the current
    # step, the primary button) keeps a visible border.
    for selector in (".step.current", ".primary", "button.copy"):
        width = page.evaluate(
            "s => parseFloat(getComputedStyle(document.querySelector(s)).borderTopWidth)", selector
        )
        assert width >= 1, selector


def test_print_stylesheet_prints_the_handout(page: Page, demo):
    """Printed, the token page is the handout: no buttons or forms, wire dumps unclipped, links shown."""
    run_client_credentials(page, demo)
    page.emulate_media(media="print")
    visible = page.evaluate(
        """() => [...document.querySelectorAll("button, input[type=submit], .top .steps, form .grid")]
                 .filter(el => el.offsetParent !== null).map(el => el.outerHTML.slice(0, 80))"""
    )
    assert visible == []
    wire = page.locator("pre.wire").first
    assert wire.evaluate("el => getComputedStyle(el).maxHeight") == "none"
    assert wire.evaluate("el => getComputedStyle(el).overflow") == "visible"
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
