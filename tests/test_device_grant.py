"""The device authorization grant (RFC 8628) at the demo server: the device's requests and the
verification page a person uses, over real HTTP, as a browser without JavaScript would."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select, update

from playground.authserver.models import DEVICE_CODE_GRANT, DeviceCode

from .authflow import is_consent_page, is_login_page, parse_page, submit
from .conftest import PASSWORD, USER, WEB_ID, WEB_SECRET
from .test_authserver import basic
from .test_oidc import decode, jwks

TV_ID, TV_SECRET = "tv", "tv-secret"
CLI_ID = "cli"
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")


@pytest.fixture
def server(oidc_authserver):
    """The code flow's server, with a confidential and a public client registered for the device grant."""
    grants = [DEVICE_CODE_GRANT, "refresh_token"]
    oidc_authserver.add_client(
        TV_ID,
        TV_SECRET,
        "openid profile offline_access read",
        client_name="Living Room TV",
        grant_types=grants,
    )
    oidc_authserver.add_client(CLI_ID, None, "openid read", public=True, grant_types=[DEVICE_CODE_GRANT])
    return oidc_authserver


def device_authorize(server, client_id=TV_ID, secret=TV_SECRET, **data):
    body = {"scope": "openid profile offline_access", **data}
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"Authorization": basic(client_id, secret)} if secret else {}
    if not secret:
        body["client_id"] = client_id
    return requests.post(server.url + "/oauth2/device_authorize", data=body, headers=headers, timeout=10)


def poll(server, device_code, client_id=TV_ID, secret=TV_SECRET):
    body = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code}
    headers = {"Authorization": basic(client_id, secret)} if secret else {}
    if not secret:
        body["client_id"] = client_id
    return requests.post(server.token_endpoint, data=body, headers=headers, timeout=10)


def error_of(response) -> str:
    assert response.status_code in (400, 401), (response.status_code, response.text)
    assert response.json()["error_description"]
    return response.json()["error"]


def rows(server) -> list[DeviceCode]:
    session = server.app.extensions["demo_authserver"]["sessions"]()
    try:
        return list(session.scalars(select(DeviceCode)))
    finally:
        session.close()


def change_rows(server, **values) -> None:
    session = server.app.extensions["demo_authserver"]["sessions"]()
    session.execute(update(DeviceCode).values(**values))
    session.commit()
    session.close()


def enter_code(browser, server, typed: str, **query):
    """The person at the verification page: the code form, filled in and sent."""
    page = browser.get(server.url + "/oauth2/device", params=query, timeout=10)
    assert page.status_code == 200
    return submit(browser, page, "proceed", user_code=typed)


def approve(server, user_code: str, allow: bool = True, browser=None) -> requests.Response:
    """Enter the code (lower case, no dash), sign in if asked, then Allow or Deny."""
    browser = browser or requests.Session()
    response = enter_code(browser, server, user_code.replace("-", "").lower())
    if is_login_page(response):
        response = submit(browser, response, "sign_in", username=USER, password=PASSWORD)
    assert is_consent_page(response), response.text[:500]
    return submit(browser, response, "allow" if allow else "deny")


def test_the_device_authorization_response(server):
    response = device_authorize(server)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert USER_CODE.fullmatch(body["user_code"])  # RFC 8628 §6.1
    assert body["verification_uri"] == server.url + "/oauth2/device"
    assert body["verification_uri_complete"] == f"{server.url}/oauth2/device?user_code={body['user_code']}"
    assert body["expires_in"] == 600 and body["interval"] == 5
    assert len(body["device_code"]) >= 40
    (row,) = rows(server)  # stored by hashes only
    assert body["device_code"] not in (row.device_code_hash, row.user_code_hash)
    assert body["user_code"].replace("-", "") not in row.user_code_hash


def test_end_to_end_pending_then_tokens_once(server):
    device = device_authorize(server).json()
    assert error_of(poll(server, device["device_code"])) == "authorization_pending"
    browser = requests.Session()
    # verification_uri_complete fills the code in; the person confirms it.
    page = browser.get(device["verification_uri_complete"], timeout=10)
    assert parse_page(page.text).forms[0].fields["user_code"] == device["user_code"]
    login = submit(browser, page, "proceed")
    assert is_login_page(login) and "Living Room TV" in login.text
    consent = submit(browser, login, "sign_in", username=USER, password=PASSWORD)
    assert is_consent_page(consent)
    for words in ("Living Room TV", device["user_code"], "openid", "offline_access"):
        assert words in consent.text
    done = submit(browser, consent, "allow")
    assert done.status_code == 200 and "Device connected" in done.text
    tokens = poll(server, device["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["scope"] == "openid profile offline_access" and body["refresh_token"]
    claims = decode(body["id_token"], jwks(server)).claims
    assert claims["aud"] == TV_ID and claims["name"] == "Alice Example"
    # Single use (RFC 8628 §3.5 issues the tokens once).
    assert error_of(poll(server, device["device_code"])) == "invalid_grant"
    # The person's login session lets the next device skip the password, never the consent.
    second = device_authorize(server).json()
    assert is_consent_page(enter_code(browser, server, second["user_code"]))


def test_polling_faster_than_the_interval_is_slow_down_and_the_interval_grows(server):
    device = device_authorize(server).json()
    assert error_of(poll(server, device["device_code"])) == "authorization_pending"
    assert error_of(poll(server, device["device_code"])) == "slow_down"
    (row,) = rows(server)
    assert row.interval == 10  # RFC 8628 §3.5: 5 seconds more, for this and every later poll
    change_rows(server, last_polled_at=row.last_polled_at - 6)  # 6 s later: still sooner than 10
    assert error_of(poll(server, device["device_code"])) == "slow_down"
    (row,) = rows(server)
    assert row.interval == 15
    change_rows(server, last_polled_at=row.last_polled_at - 16)
    assert error_of(poll(server, device["device_code"])) == "authorization_pending"


def test_deny_and_cancel_are_access_denied(server):
    device = device_authorize(server).json()
    denied = approve(server, device["user_code"], allow=False)
    assert "Request denied" in denied.text
    assert error_of(poll(server, device["device_code"])) == "access_denied"
    cancelled = device_authorize(server).json()
    browser = requests.Session()
    login = enter_code(browser, server, cancelled["user_code"])
    assert "Request denied" in submit(browser, login, "cancel").text
    assert error_of(poll(server, cancelled["device_code"])) == "access_denied"


def test_an_expired_device_code_is_expired_token_and_its_user_code_is_refused(server):
    device = device_authorize(server).json()
    change_rows(server, expires_at=0)
    assert error_of(poll(server, device["device_code"])) == "expired_token"
    page = enter_code(requests.Session(), server, device["user_code"])
    assert "not valid, has expired" in page.text and not is_login_page(page)


def test_an_answer_given_after_expiry_is_refused(server):
    device = device_authorize(server).json()
    browser = requests.Session()
    consent = submit(browser, enter_code(browser, server, device["user_code"]), "sign_in", username=USER,
                     password=PASSWORD)  # fmt: skip
    change_rows(server, expires_at=0)
    late = submit(browser, consent, "allow")
    assert late.status_code == 400 and "expired or was answered already" in late.text
    assert error_of(poll(server, device["device_code"])) == "expired_token"


def test_a_public_client_sends_its_client_id(server):
    device = device_authorize(server, CLI_ID, None, scope="openid read")
    assert device.status_code == 200, device.text
    device = device.json()
    approve(server, device["user_code"])
    tokens = poll(server, device["device_code"], CLI_ID, None)
    assert tokens.status_code == 200, tokens.text
    assert "refresh_token" not in tokens.json()  # no refresh_token grant, no offline_access


def test_only_clients_registered_for_the_grant_and_only_the_clients_own_code(server):
    assert error_of(device_authorize(server, WEB_ID, WEB_SECRET)) == "unauthorized_client"
    device = device_authorize(server).json()
    approve(server, device["user_code"])
    assert error_of(poll(server, device["device_code"], WEB_ID, WEB_SECRET)) == "unauthorized_client"
    assert error_of(poll(server, device["device_code"], CLI_ID, None)) == "invalid_grant"
    assert poll(server, device["device_code"]).status_code == 200


@pytest.mark.parametrize(
    "data, error",
    [
        ({"scope": ""}, "invalid_scope"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": "read\x7f"}, "invalid_scope"),
    ],
)
def test_bad_device_authorization_requests(server, data, error):
    assert error_of(device_authorize(server, **data)) == error


def test_bad_polls_and_bad_client_authentication(server):
    assert error_of(device_authorize(server, TV_ID, "wrong")) == "invalid_client"
    assert error_of(device_authorize(server, "nobody", None)) == "invalid_client"
    assert error_of(poll(server, "")) == "invalid_request"
    assert error_of(poll(server, "no-such-code")) == "invalid_grant"
    assert error_of(poll(server, "x", TV_ID, "wrong")) == "invalid_client"
    in_url = requests.post(
        server.token_endpoint + "?device_code=x",
        data={"grant_type": DEVICE_CODE_GRANT},
        headers={"Authorization": basic(TV_ID, TV_SECRET)},
        timeout=10,
    )
    assert error_of(in_url) == "invalid_request"


def test_the_verification_page_is_plain_labelled_csrf_protected_and_strict(server):
    device = device_authorize(server).json()
    browser = requests.Session()
    page = browser.get(server.url + "/oauth2/device", timeout=10)
    parsed = parse_page(page.text)
    assert parsed.headings == ["Connect a device"]
    assert parsed.labels["user_code"] == "Code shown on your device"
    assert parsed.forms[0].buttons == {"proceed": "Continue"}
    assert "<script" not in page.text and "style=" not in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    forged = requests.post(server.url + "/oauth2/device", data={"user_code": device["user_code"]}, timeout=10)
    assert forged.status_code == 400 and "CSRF" in forged.text
    wrong = enter_code(browser, server, "BCDF-GHJK")
    assert wrong.status_code == 200 and 'role="alert"' in wrong.text and not is_login_page(wrong)
    empty = enter_code(browser, server, "")
    assert "Enter the code your device shows." in empty.text
    # A wrong password shows the sign-in page again.
    login = enter_code(browser, server, device["user_code"])
    again = submit(browser, login, "sign_in", username=USER, password="wrong")
    assert is_login_page(again) and "The user name or the password is wrong." in again.text


def test_an_altered_carried_request_is_refused(server):
    device = device_authorize(server).json()
    browser = requests.Session()
    login = enter_code(browser, server, device["user_code"])
    altered = submit(browser, login, "sign_in", username=USER, password=PASSWORD, authorization="x.y.z")
    assert altered.status_code == 400 and "Start again on your device" in altered.text


def test_the_metadata_names_the_device_authorization_endpoint(server):
    meta = requests.get(server.url + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["device_authorization_endpoint"] == server.url + "/oauth2/device_authorize"
    assert DEVICE_CODE_GRANT in meta["grant_types_supported"]
