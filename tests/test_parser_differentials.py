"""URLs that two parsers read differently must not slip past the outbound policy.

urllib.parse, urllib3 (which requests connects with) and browsers disagree on hosts holding a
backslash, percent-encodings, full-width digits and dots, `@`, or short numeric forms. Every such
URL is refused before anything is sent. The tests reach nothing but loopback: a resolver of their
own sends every name (and every IP literal) to one recording server on 127.0.0.1, so a URL that
got through would show up there.
"""

from __future__ import annotations

import socket

import pytest

from playground import create_app
from playground.outbound import Blocked, Guard, Policy, check_url, parse_target

from .faults import misbehaving_server, requests_seen
from .test_outbound import loopback_only  # noqa: F401 - a fixture
from .test_playground import FORM, text, token_form

#: Each of these would reach a host that the allow-list `*.allowed.test` keeps out, or is read
#: as one host by urllib.parse and as another by urllib3 or a browser.
DIFFERENTIALS = [
    # A backslash: urlsplit keeps it in the host, urllib3 ends the host there (the review's finding).
    ("http://10.0.0.5\\.allowed.test/token", "backslash"),
    ("http://127.0.0.1\\.allowed.test/token", "backslash"),
    ("http://other.test\\.allowed.test/token", "backslash"),
    ("http://10.0.0.5\\@a.allowed.test/token", "backslash"),
    ("http://a.allowed.test:80\\@10.0.0.5/token", "backslash"),
    # Tab, newline and carriage return: urlsplit drops them (WHATWG does too), others do not.
    ("http://10.0.0.5\t.allowed.test/token", "spaces, tabs, line breaks"),
    ("http://a.allowed.test\n/token", "spaces, tabs, line breaks"),
    ("http://a.allowed\r.test/token", "spaces, tabs, line breaks"),
    ("http://a.allowed.test /token", "spaces, tabs, line breaks"),
    ("http://a.allowed.test\x00/token", "control characters"),
    # Percent-encoded hosts: urllib3 decodes %31 to 1.
    ("http://%31%30.0.0.5/token", "may hold only letters"),
    ("http://10.0.0.5%2f.allowed.test/token", "may hold only letters"),
    ("http://a%2eallowed.test/token", "may hold only letters"),
    # Full-width digits and dots: IDNA maps them to ASCII ones.
    ("http://１０．０．０．５/token", "may hold only letters"),
    ("http://１２７．０．０．１.allowed.test/token", "may hold only letters"),
    ("http://evil。allowed.test/token", "may hold only letters"),
    ("http://ａ.allowed.test/token", "may hold only letters"),
    # `@` tricks: user information, or an `@` after a fragment or query delimiter.
    ("http://a.allowed.test@10.0.0.5/token", "user name or password"),
    ("http://a.allowed.test:80@10.0.0.5/token", "user name or password"),
    ("http://:@10.0.0.5/token", "user name or password"),
    # Short, octal and hex IPv4 forms connect to an address the text does not show.
    ("http://0x7f.1/token", "four decimal numbers"),
    ("http://2130706433/token", "four decimal numbers"),
    ("http://127.1/token", "four decimal numbers"),
    ("http://017.0.0.1/token", "four decimal numbers"),
    ("http://10.0.0.0x5/token", "four decimal numbers"),
    # Empty labels (RFC 1035 §2.3.4): only one trailing dot makes a name absolute.
    ("http://a.allowed.test../token", "empty part (..)"),
    ("http://a..allowed.test/token", "empty part (..)"),
    # IPv6 zones and non-addresses in brackets.
    ("http://[fe80::1%25eth0]/token", "names a zone"),
    ("http://[a.allowed.test]/token", "not valid"),
]


def recording_resolver(port: int):
    """Every name and every literal resolves to the recording server on 127.0.0.1:port."""

    def resolve(host, _port, family=0, type=0, proto=0, flags=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    return resolve


@pytest.fixture(scope="module")
def recorder():
    with misbehaving_server("json") as url:
        yield url


def playground_client(recorder, **config):
    port = int(recorder.rsplit(":", 1)[1])
    app = create_app(
        {"TESTING": True, "WTF_CSRF_ENABLED": False, "RESOLVER": recording_resolver(port), **config}
    )
    return app.test_client()


def test_the_recorder_sees_what_the_allow_list_lets_through(recorder, loopback_only):  # noqa: F811
    """The control: an allowed name does reach the recorder, so the refusals below mean something."""
    before = len(requests_seen(recorder))
    client = playground_client(recorder, ALLOWED_HOSTS="*.allowed.test")
    assert "Access token received" in text(client.post(FORM, data=token_form("http://ok.allowed.test/token")))
    seen = requests_seen(recorder)[before:]
    assert [r.headers["Host"] for r in seen] == ["ok.allowed.test"]


@pytest.mark.parametrize("url, message", DIFFERENTIALS)
def test_differential_urls_are_refused_under_the_allow_list(recorder, loopback_only, url, message):  # noqa: F811
    before = len(requests_seen(recorder))
    client = playground_client(recorder, ALLOWED_HOSTS="*.allowed.test")
    response = client.post(FORM, data=token_form(url))
    assert response.status_code == 400
    assert message in text(response)
    assert requests_seen(recorder)[before:] == []  # nothing was sent, the secret went nowhere


@pytest.mark.parametrize("url, message", DIFFERENTIALS)
def test_differential_urls_are_refused_when_private_networks_are_blocked(
    recorder,
    loopback_only,  # noqa: F811
    url,
    message,
):
    before = len(requests_seen(recorder))
    client = playground_client(recorder, BLOCK_PRIVATE_NETWORKS=True)
    response = client.post(FORM, data=token_form(url))
    assert response.status_code == 400
    assert message in text(response)
    assert requests_seen(recorder)[before:] == []


@pytest.mark.parametrize("url, _message", DIFFERENTIALS)
def test_the_guard_refuses_them_even_when_the_form_is_bypassed(url, _message):
    """The outbound policy checks again, whoever calls it (the form's check is for the message)."""
    assert check_url(url) is not None
    with pytest.raises(Blocked):
        Guard(Policy(allowed_hosts=("*.allowed.test",))).check_target(url)


def test_the_connection_checks_the_host_it_resolves(recorder, loopback_only):  # noqa: F811
    """The last line: a host reaching the connection some other way is checked there too."""
    guard = Guard(Policy(allowed_hosts=("*.allowed.test",)))
    with pytest.raises(Blocked, match="not in PLAYGROUND_ALLOWED_HOSTS"):
        guard.check_host("10.0.0.5", 80)
    guard.check_host("a.allowed.test.", 80)  # `name.` is `name`


@pytest.mark.parametrize(
    "url, host, port",
    [
        ("https://IdP.Example.COM/oauth2/token", "idp.example.com", 443),
        ("http://a_b.example:8080/x?y=1", "a_b.example", 8080),
        ("http://[::1]:9443/t", "::1", 9443),
        ("http://127.0.0.1/", "127.0.0.1", 80),
        ("https://idp.example.com./t", "idp.example.com.", 443),
    ],
)
def test_plain_urls_are_read_as_written(url, host, port):
    target = parse_target(url)
    assert (target.host, target.port) == (host, port)
