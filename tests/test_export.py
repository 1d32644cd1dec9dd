"""Export: every exchange as curl and HTTPie; the whole flow as a Markdown transcript."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from playground.client import Credentials, request_token
from playground.outbound import Outbound, Policy

from .conftest import CLIENT_ID, CLIENT_SECRET
from .faults import misbehaving_server, requests_seen
from .test_playground import FORM, TOKENINFO, access_token_of, text, token_form

TRANSCRIPT = "/playground2/transcript"


def carried(response) -> dict[str, str]:
    """The values a page's form carries to the next step (hidden and visible inputs)."""
    html = response.get_data(as_text=True)
    values = {k: unescape(v) for k, v in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html)}
    for name in ("client_auth", "introspection_auth", "grant_type"):
        values.setdefault(
            name, {"client_auth": "client_secret_basic", "introspection_auth": "client"}.get(name, "")
        )
    values["grant_type"] = "client_credentials"
    for button in (
        "authorize",
        "get_tokeninfo",
        "start_over",
        "discover",
        "use_server",
        "revoke",
        "download",
    ):
        values.pop(button, None)
    textarea = re.search(r'id="access_token"[^>]*>\s*([^<]*)</textarea>', html)
    if textarea:
        values["access_token"] = unescape(textarea.group(1)).strip()
    return values


def whole_flow(test_client, authserver):
    """Token, then introspection, carrying the transcript from page to page as a browser would."""
    first = test_client.post(FORM, data=token_form(authserver.token_endpoint))
    token = access_token_of(first)
    data = {
        **carried(first),
        "introspection_endpoint": authserver.introspection_endpoint,
        "get_tokeninfo": "Get TokenInfo",
    }
    second = test_client.post(TOKENINFO, data=data)
    assert "Active" in text(second)
    return token, carried(second)


def test_transcript_without_secrets(test_client, authserver):
    token, state = whole_flow(test_client, authserver)
    response = test_client.post(TRANSCRIPT, data={**state, "download": "Download transcript"})
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    assert re.fullmatch(
        r'attachment; filename="oauth-playground-\d{8}-\d{6}\.md"', response.headers["Content-Disposition"]
    )
    assert response.headers["Cache-Control"] == "no-store"
    markdown = response.get_data(as_text=True)
    assert markdown.startswith("# OAuth 2.0 Playground transcript")
    assert "Secrets are masked." in markdown
    assert "## Token request (client credentials, RFC 6749 §4.4)" in markdown
    assert "## Introspection (RFC 7662)" in markdown
    assert markdown.index("## Token request") < markdown.index("## Introspection")
    assert "POST /oauth2/token HTTP/1.1" in markdown and "HTTP/1.1 200 OK" in markdown
    assert "Authorization: Basic ••••••••" in markdown
    assert CLIENT_SECRET not in markdown
    assert base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode() not in markdown
    assert "```sh\ncurl -g -i -X POST" in markdown
    assert token not in markdown  # a bearer token is a credential too (RFC 6750 §5.3)


def test_a_long_session_keeps_within_the_request_limit(test_client, authserver):
    # Both transcripts travel in every POST; they are cut to the latest steps before
    # the form outgrows MAX_CONTENT_LENGTH (a 413 would lose the person's state).
    _, state = whole_flow(test_client, authserver)
    for _ in range(150):
        response = test_client.post(TOKENINFO, data={**state, "get_tokeninfo": "Get TokenInfo"})
        assert response.status_code == 200
        state = carried(response)
    assert "(earlier steps left out)" in state["transcript"]
    markdown = test_client.post(TRANSCRIPT, data={**state, "download": "x"}).get_data(as_text=True)
    assert "## Introspection (RFC 7662)" in markdown


def test_transcript_with_secrets_once_revealed(test_client, authserver):
    token, state = whole_flow(test_client, authserver)
    markdown = test_client.post(TRANSCRIPT, data={**state, "reveal": "1", "download": "x"}).get_data(
        as_text=True
    )
    assert "Secrets are included (they were revealed)." in markdown
    assert base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode() in markdown
    assert token in markdown


def test_empty_transcript(test_client):
    markdown = test_client.post(TRANSCRIPT, data={"download": "x"}).get_data(as_text=True)
    assert "Nothing has been sent yet." in markdown


def test_exchange_as_curl_and_httpie(test_client, authserver):
    page = text(test_client.post(FORM, data=token_form(authserver.token_endpoint, scope="read")))
    assert f"curl -g -i -X POST {authserver.token_endpoint}" in page
    body = "'grant_type=client_credentials&scope=read'"
    assert f"http --ignore-stdin --raw {body} POST {authserver.token_endpoint}" in page
    assert "'Authorization:Basic ••••••••'" in page
    assert "Download transcript" in page


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
@pytest.mark.parametrize("render", ["curl", "httpie"])
def test_exported_commands_send_what_the_playground_sent(render, method):
    # Values that shells, curl's URL globbing and HTTPie's item syntax would each misread.
    credentials = Credentials("we:ird@id%2B+/x", "=leak\\a$b`c'd\"e\nf", method)
    with misbehaving_server("json") as url:
        exchange = request_token(
            Outbound(Policy(timeout=10)), url + "/token?x=[1]", credentials, scope="@/etc/hostname read"
        )
        command = getattr(exchange, render)()
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30, env=env)
        assert run.returncode == 0, run.stderr
        original, replayed = requests_seen(url)
    assert replayed.path == original.path
    assert replayed.body == original.body
    for name in ("Authorization", "Content-Type"):
        assert replayed.headers.get(name) == original.headers.get(name), name


def test_transcript_in_a_fence_cannot_be_broken_out_of():
    from playground.exchange import Exchange, RecordedRequest, RecordedResponse

    exchange = Exchange(
        RecordedRequest("POST", "https://a.example/t", [], "x=1"),
        RecordedResponse(200, "OK", [("Content-Type", "text/plain")], b"```\n# injected heading\n```"),
    )
    markdown = exchange.markdown("Step")
    assert "````http" in markdown  # a longer fence than any run of backticks inside
