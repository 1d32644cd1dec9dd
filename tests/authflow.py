"""Driving the demo server's authorization endpoint over real HTTP, as a browser without JavaScript would.

For any test of the code flow (the demo server's and the playground's): GET the
authorize URL, fill in the sign-in page, press Allow or Deny on the consent page,
and read what comes back to the redirect URI (query, fragment or form_post) without
following it. The CSRF token and the signed request are read from the pages' HTML.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

TIMEOUT = 10


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    """A code_verifier and its code_challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Form:
    """A form of a page: where it goes, its fields, and its buttons."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)  # name -> value


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}  # for -> text
        self.headings: list[str] = []
        self._label_for: str | None = None
        self._heading = False
        self._select: str | None = None  # the name of the <select> being read
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form(a.get("action") or "", (a.get("method") or "get").lower()))
        elif tag == "input" and self.forms:
            kind = (a.get("type") or "text").lower()
            if kind == "submit":
                if a.get("name"):
                    self.forms[-1].buttons[a["name"]] = a.get("value") or ""
            elif kind in ("checkbox", "radio") and "checked" not in a:
                pass  # a browser posts only checked boxes
            elif a.get("name"):
                self.forms[-1].fields[a["name"]] = a.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select" and self.forms and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            fields = self.forms[-1].fields
            # The selected option, or the first one when none is (as a browser does).
            if "selected" in a or self._select not in fields:
                fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and self.forms and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields[self._textarea] = ""
        elif tag == "button" and self.forms:
            self.forms[-1].buttons[a.get("name") or ""] = a.get("value") or ""
        elif tag == "label":
            self._label_for = a.get("for")
            self.labels[self._label_for or ""] = ""
        elif tag == "h1":
            self._heading = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "label":
            self._label_for = None
        elif tag == "h1":
            self._heading = False

    def handle_data(self, data):
        if self._textarea is not None:
            fields = self.forms[-1].fields
            # A newline right after <textarea> is not part of the value (HTML § 13.2.6.4.7).
            fields[self._textarea] += data if fields[self._textarea] else data.removeprefix("\n")
        if self._label_for is not None:
            self.labels[self._label_for] += data
        if self._heading:
            self.headings[-1] += data


def parse_page(html: str) -> _Forms:
    """The forms, labels and headings of a page."""
    parser = _Forms()
    parser.feed(html)
    return parser


def callback_params(response: requests.Response) -> dict[str, str]:
    """What reached (would reach) the redirect URI: from the Location's query or fragment, or
    the form_post page's fields. `_mode` says which, `_url` is where it went."""
    if response.status_code in (302, 303):
        location = response.headers["Location"]
        parts = urlsplit(location)
        if parts.fragment:
            return {
                **dict(parse_qsl(parts.fragment, keep_blank_values=True)),
                "_mode": "fragment",
                "_url": location,
            }
        return {**dict(parse_qsl(parts.query, keep_blank_values=True)), "_mode": "query", "_url": location}
    page = parse_page(response.text)
    (form,) = [f for f in page.forms if f.method == "post" and "/oauth2/authorize" not in f.action]
    return {**form.fields, "_mode": "form_post", "_url": form.action}


def authorize_url(base: str) -> str:
    return base.rstrip("/") + "/oauth2/authorize"


def base_of(server: Any) -> str:
    """An AuthServer of tests/servers.py, or a base URL such as the demo banner's."""
    return server if isinstance(server, str) else server.url


def is_login_page(response: requests.Response) -> bool:
    return response.status_code == 200 and 'name="password"' in response.text


def is_consent_page(response: requests.Response) -> bool:
    return response.status_code == 200 and 'name="allow"' in response.text


def submit(
    session: requests.Session, response: requests.Response, button: str, **values
) -> requests.Response:
    """Press a button of the page's form, with the fields as the page has them plus `values`."""
    page = parse_page(response.text)
    (form,) = [f for f in page.forms if button in f.buttons]
    data = {**form.fields, **values, button: form.buttons[button]}
    return session.post(urljoin(response.url, form.action), data=data, allow_redirects=False, timeout=TIMEOUT)


def start(session: requests.Session, server: Any, params: dict[str, str], method: str = "GET", **kwargs):
    """Send the authorization request (GET, or POST as OpenID Connect Core §3.1.2.1 allows)."""
    url = authorize_url(base_of(server))
    if method == "POST":
        return session.post(url, data=params, allow_redirects=False, timeout=TIMEOUT, **kwargs)
    return session.get(url, params=params, allow_redirects=False, timeout=TIMEOUT, **kwargs)


def login_and_consent(
    session: requests.Session,
    server: Any,
    params: dict[str, str],
    username: str | None = None,
    password: str | None = None,
    allow: bool = True,
    method: str = "GET",
    **kwargs,
) -> dict[str, str]:
    """Run the authorization request to its answer; the callback's parameters.

    Signs in if the sign-in page comes (it must, when `username` is given), then
    presses Allow (or Deny) if the consent page comes. `kwargs` go to the first
    request; for the demo's CA, set `session.verify` so that every request trusts it.
    """
    response = start(session, server, params, method, **kwargs)
    if is_login_page(response):
        assert username is not None, "the sign-in page came, but no user name was given"
        response = submit(session, response, "sign_in", username=username, password=password or "")
        assert not is_login_page(response), "the sign-in failed"
    elif username is not None:
        raise AssertionError(f"expected the sign-in page, got {response.status_code}: {response.text[:300]}")
    if is_consent_page(response):
        response = submit(session, response, "allow" if allow else "deny")
    assert response.status_code in (200, 302, 303), (response.status_code, response.text[:500])
    return callback_params(response)


def exchange_code(
    server: Any,
    code: str,
    redirect_uri: str,
    client_id: str,
    secret: str | None = None,
    verifier: str | None = None,
    **kwargs,
) -> requests.Response:
    """The token request of RFC 6749 §4.1.3: Basic for a confidential client, client_id for a public one."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    auth = (client_id, secret) if secret else None
    if not secret:
        data["client_id"] = client_id
    url = base_of(server).rstrip("/") + "/oauth2/token"
    return requests.post(url, data=data, auth=auth, timeout=TIMEOUT, **kwargs)


def refresh(
    server: Any, refresh_token: str, client_id: str, secret: str | None = None, **data
) -> requests.Response:
    """The refresh request of RFC 6749 §6."""
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, **data}
    if not secret:
        body["client_id"] = client_id
    url = base_of(server).rstrip("/") + "/oauth2/token"
    return requests.post(url, data=body, auth=(client_id, secret) if secret else None, timeout=TIMEOUT)
