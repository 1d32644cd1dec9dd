"""Hostile input: property-based tests over every form field (Hypothesis), and logs that keep no secret."""

from __future__ import annotations

import json
import logging
import re
import socket
from html import unescape

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import SubmitField
from wtforms.fields.core import UnboundField

from playground import create_app
from playground.forms import FlowForm
from playground.redact import REDACTED, redact

from .conftest import CLIENT_ID, CLIENT_SECRET, playground_config
from .faults import misbehaving_server
from .servers import live_server, running
from .test_authserver import basic
from .test_playground import FORM, TOKENINFO, access_token_of, introspection_form, token_form

PROBE = "<x-probe a='1'>\"&"
#: Every field of the form but its buttons.
FIELDS = [
    name
    for name, field in vars(FlowForm).items()
    if isinstance(field, UnboundField) and field.field_class is not SubmitField
]
BUTTONS = [
    {"authorize": "Authorize"},
    {"get_tokeninfo": "Get TokenInfo"},
    {"start_over": "Start over"},
    {"use_server": "Use server"},
    {"discover": "Discover"},
    {"revoke": "Revoke"},
    {"download": "Download transcript"},
    {},
]
#: Every page that takes a POST.
POSTS = [FORM, TOKENINFO, "/playground2/discover", "/playground2/revoke", "/playground2/transcript"]

# Any text but lone surrogates (which no browser can send as UTF-8).
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200)
control = st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=20)
huge = st.integers(min_value=5_000, max_value=40_000).map(lambda n: "é" * n)


@pytest.fixture(scope="module")
def target():
    """A real server answering like a token/introspection endpoint (module-wide, for speed)."""
    with misbehaving_server(
        "json", body={"access_token": "t<b>", "active": True, "scope": "<i>x</i>"}
    ) as url:
        yield url


@pytest.fixture(scope="module")
def hostile_client(target):
    # Only the target is reachable: any other URL Hypothesis makes up is refused before DNS.
    host = target.split("//", 1)[1]
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "ALLOWED_HOSTS": host, "TIMEOUT": 2})
    return app.test_client()


def values(target: str):
    endpoint = st.sampled_from([target, target + "/" + PROBE, "javascript:alert(1)", "http://[::1", ""])
    return st.one_of(any_text, control, huge, st.just(PROBE), endpoint)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_form_input_gets_a_page_and_nothing_unescaped(hostile_client, target, data):
    fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), values(target), max_size=len(FIELDS)))
    fields[data.draw(st.sampled_from(FIELDS))] = PROBE  # always something to escape
    path = data.draw(st.sampled_from(POSTS))
    response = hostile_client.post(path, data={**fields, **data.draw(st.sampled_from(BUTTONS))})
    assert response.status_code < 500
    if response.mimetype == "text/markdown":  # the transcript: a download, never rendered
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        return
    html = response.get_data(as_text=True)
    assert "<x-probe" not in html
    assert "<b>" not in html and "<i>x</i>" not in html  # what the server sent is escaped too
    assert len(re.findall(r"<script\b", html)) == 1  # ours, from static/
    assert "Traceback" not in html


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["grant_type", "client_id", "client_secret", "scope", "resource", "audience", "x"]),
        st.one_of(any_text, control, st.just("client_credentials")),
        max_size=6,
    ),
    authorization=st.one_of(
        st.none(), any_text.map(lambda s: "Basic " + s), st.just(basic(CLIENT_ID, CLIENT_SECRET))
    ),
)
def test_demo_server_answers_any_token_request_with_json(tls_authserver, params, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    try:
        response = requests.post(
            tls_authserver.token_endpoint,
            data=params,
            headers=headers,
            verify=tls_authserver.ca_path,
            timeout=10,
        )
    except (UnicodeEncodeError, ValueError):
        return  # not a request an HTTP client can send
    assert response.status_code in (200, 400, 401)
    body = response.json()
    assert ("access_token" in body) if response.status_code == 200 else ("error" in body)


def test_demo_server_rejects_malformed_requests(authserver):
    auth = {"Authorization": basic(CLIENT_ID, CLIENT_SECRET)}
    as_json = requests.post(
        authserver.token_endpoint, json={"grant_type": "client_credentials"}, headers=auth, timeout=10
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    repeated = requests.post(
        authserver.token_endpoint,
        data="grant_type=client_credentials&scope=read&scope=write",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert repeated.status_code == 400 and "scope" in repeated.json()["error_description"]
    nul = requests.post(
        authserver.token_endpoint, data={"grant_type": "client_credentials\x00"}, headers=auth, timeout=10
    )
    assert nul.status_code == 400 and nul.json()["error"] == "invalid_request"
    two_resources = requests.post(
        authserver.token_endpoint,
        data=[
            ("grant_type", "client_credentials"),
            ("resource", "https://a.example/"),
            ("resource", "https://b.example/"),
        ],
        headers=auth,
        timeout=10,
    )
    assert two_resources.status_code == 200  # RFC 8707 lets resource repeat


def test_oversized_form_gets_a_page(test_client):
    response = test_client.post(FORM, data={"client_id": "x" * 1_100_000})  # over MAX_CONTENT_LENGTH
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


# -- logs ------------------------------------------------------------------------


def test_full_flow_logs_neither_secret_nor_token(caplog, tls_authserver):
    caplog.set_level(logging.DEBUG)  # everything: werkzeug, urllib3, Authlib, ours
    app = create_app(playground_config(tls_authserver, WTF_CSRF_ENABLED=False))
    client = app.test_client()
    response = client.post(
        FORM, data=token_form(tls_authserver.token_endpoint, client_auth="client_secret_post")
    )
    token = access_token_of(response)
    client.post(TOKENINFO, data=introspection_form(tls_authserver.introspection_endpoint, token))
    client.post(FORM, data=token_form(tls_authserver.token_endpoint, client_secret="wrong-" + CLIENT_SECRET))
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert caplog.records  # something was logged at all
    assert CLIENT_SECRET not in logged
    assert token not in logged


def test_log_records_are_redacted_whoever_logs(caplog):
    create_app({"TESTING": True})  # installs the redaction
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("some.library")
    log.debug("body: grant_type=client_credentials&client_secret=%s", "hunter2hunter2")
    log.info("response %s", {"access_token": "tok-123456", "expires_in": 3600})
    log.warning("header Authorization: Basic %s", "Y2xpZW50OnNlY3JldA==")
    log.error("Bearer abcdefghijkl used")
    for secret in ("hunter2hunter2", "tok-123456", "Y2xpZW50OnNlY3JldA==", "abcdefghijkl"):
        assert secret not in caplog.text
    assert caplog.text.count(REDACTED) == 4


#: (what was logged, the secret in it): each shape a secret was seen to take, or may take.
LOG_SHAPES = [
    ("grant_type=client_credentials&client_secret=s3cr3t-value", "s3cr3t-value"),
    ("introspection_password=hunter2-pw&x=1", "hunter2-pw"),  # `\b` does not match after `_`
    ("introspection_bearer=bearer-abcdef", "bearer-abcdef"),
    ("refresh_token=rt-123456 then", "rt-123456"),
    ("code=auth-code-98765&state=xyz", "auth-code-98765"),
    ("code_verifier=verifier-abcdefghijklmnopqrstuvwxyz0123456789abc", "verifier-abcdefghijklmnopqrstuvwxyz"),
    ("client_assertion=eyJhbGciOi.eyJzdWIiOi.c2ln", "eyJhbGciOi.eyJzdWIiOi.c2ln"),
    ("client_secret=abc;def-tail", "def-tail"),  # the tail after a `;`
    ('{"client_secret": "ab\\"cd-tail"}', "cd-tail"),  # the tail after an escaped quote
    ("{'client_secret': 'it\\'s-a-secret'}", "s-a-secret"),
    ("{'introspection_password': 'pw-in-a-dict'}", "pw-in-a-dict"),
    ("[('client_secret', 'tuple-secret'), ('scope', 'read')]", "tuple-secret"),  # a tuple repr
    ('("password", "tuple-password")', "tuple-password"),
    ("{'Authorization': 'Basic Y2xpZW50OnNlY3JldA=='}", "Y2xpZW50OnNlY3JldA=="),
    ("Bearer ab used", "ab"),  # short Bearer values
    ("Authorization: Basic Y2xpZW50%3AcGFzcw%3D%3D", "Y2xpZW50%3AcGFzcw%3D%3D"),  # %3D
    ("Authorization: Basic cGxh%3D%3D, more", "more"),
    ('Authorization: Digest username="alice", response="6629fae49393a05397450978507c4ef1"', "6629fae4"),
    ("proxy-authorization: Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag", "YIIBhgYGKwYBBQUCoIIBejCCAXag"),
    ("Cookie: session=abcdef123456", "abcdef123456"),
    ("DPoP: eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig", "eyJ0eXAiOiJkcG9wK2p3dCJ9"),
    ('"access_token":"tok-no-space"', "tok-no-space"),
    ("private_key=-----BEGIN-PRIVATE-KEY-----MIIE", "MIIE"),
    ("client_secret: colon-secret-1", "colon-secret-1"),  # `name: value`
    ("client_secret = spaced-secret-2", "spaced-secret-2"),  # `name = value`
    ("{'client_secret': ['list-secret-3']}", "list-secret-3"),  # a list value
    ('{\\"client_secret\\": \\"escaped-json-4\\"}', "escaped-json-4"),  # JSON inside a JSON string
    ("secret_key=sk-value-5", "sk-value-5"),
    ("device_code=dc-value-6&x=1", "dc-value-6"),  # RFC 8628 §3.2
    ("user_code=WDJB-MJHT", "WDJB-MJHT"),
    ("id_token_hint=eyJhbGciOi.hint", "eyJhbGciOi.hint"),  # RP-Initiated Logout §2
    ("ro_password=ro-pw-7", "ro-pw-7"),
    ("X-Client-Secret: header-secret-8", "header-secret-8"),
    (
        'authorization: Digest username="bob", nonce="dcd98b", response="e966c932a9242554e42c8ee200cec7f6"',
        "e966c932",
    ),
]


@pytest.mark.parametrize("line, secret", LOG_SHAPES)
def test_redact_hides_each_shape(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned, cleaned
    assert REDACTED in cleaned


def test_tracebacks_are_redacted_too(caplog):
    create_app({"TESTING": True})  # installs the redaction
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("some.library")
    try:
        raise ValueError("refused: client_secret=traceback-secret-1 and Bearer tb-token-2")
    except ValueError:
        log.exception("the call failed")
    stack = logging.getLogger("stack")
    stack.warning("where", stack_info=True, extra={})  # a stack holds no secret, and still works
    for secret in ("traceback-secret-1", "tb-token-2"):
        assert secret not in caplog.text
        assert all(secret not in (r.exc_text or "") for r in caplog.records)
    # Nothing left that a later formatter could print without the filter.
    assert all(r.exc_info is None and r.exc_text is None for r in caplog.records)
    assert "ValueError" in caplog.text and "Traceback (most recent call last)" in caplog.text


@pytest.mark.parametrize(
    "line, kept",
    [
        ("token=abc&token_type_hint=access_token", "token_type_hint=access_token"),
        ("grant_type=refresh_token&scope=read", "grant_type=refresh_token&scope=read"),
        ('{"token_type": "Bearer", "expires_in": 3600}', '"token_type": "Bearer", "expires_in": 3600'),
        ("token_endpoint=https://idp.example/token", "token_endpoint=https://idp.example/token"),
        ('{"access_token": "xyz", "expires_in": 3}', '"expires_in": 3'),
        ("GET /playground2/oauth2.jsp HTTP/1.1 200", "GET /playground2/oauth2.jsp HTTP/1.1 200"),
    ],
)
def test_redact_keeps_the_rest(line, kept):
    assert kept in redact(line)


# -- inputs that once ended in a 500 -------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://wso2is..local/oauth2/token", "host name is not valid"),
        ("https://" + "a" * 64 + ".example/oauth2/token", "host name is not valid"),
        ("http://127.0.0.1:0/token", "port must be between 1 and 65535"),
        ("http://[::1/token", "not valid"),
    ],
)
def test_malformed_host_names_get_a_page(test_client, url, message):
    response = test_client.post(FORM, data=token_form(url))
    assert response.status_code < 500
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("bearer", ["t€k", "abc\r\nX-Injected: 1", "has space"])
def test_bearer_token_outside_rfc6750_syntax_is_said_next_to_the_field(test_client, authserver, bearer):
    data = introspection_form(
        authserver.introspection_endpoint, "tok", introspection_auth="bearer", introspection_bearer=bearer
    )
    response = test_client.post(TOKENINFO, data=data)
    assert response.status_code == 400
    assert "RFC 6750 §2.1" in response.get_data(as_text=True)


def test_basic_user_outside_latin1_is_a_clear_page(test_client):
    with misbehaving_server("json", body={"active": True}) as url:
        data = introspection_form(
            url, "tok", introspection_auth="basic", introspection_username="usér€", introspection_password="p"
        )
        response = test_client.post(TOKENINFO, data=data)
    assert response.status_code == 200  # Basic is base64: any text goes


def test_multipart_upload_is_refused_with_a_page(test_client):
    import io

    response = test_client.post(
        FORM,
        data={"client_id": (io.BytesIO(b"file"), "a.txt"), "authorize": "Authorize"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "no file uploads" in response.get_data(as_text=True)


def test_settings_are_taken_as_strings(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_SECRET_KEY", "12345")
    monkeypatch.setenv("PLAYGROUND_CLIENT_SECRET", '"abc"')
    monkeypatch.setenv("PLAYGROUND_CLIENT_ID", "007")
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"] == "12345"
    assert app.config["CLIENT_SECRET"] == '"abc"'
    page = app.test_client().get(FORM).get_data(as_text=True)  # a numeric key once broke every page
    assert 'value="007"' in page and 'value="&#34;abc&#34;"' in page


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("TIMEOUT", "abc", "PLAYGROUND_TIMEOUT must be a number"),
        ("TIMEOUT", "-1", "PLAYGROUND_TIMEOUT must be greater than 0"),
        ("MAX_RESPONSE_BYTES", "1.5x", "PLAYGROUND_MAX_RESPONSE_BYTES must be a number"),
        ("BLOCK_PRIVATE_NETWORKS", "maybe", "PLAYGROUND_BLOCK_PRIVATE_NETWORKS must be true or false"),
        ("CA_BUNDLE", "/nonexistent.pem", "PLAYGROUND_CA_BUNDLE"),
        ("ALLOWED_HOSTS", "https://idp.example.com", "PLAYGROUND_ALLOWED_HOSTS: 'https://idp.example.com'"),
        ("ALLOWED_HOSTS", "localhost:abc", "PLAYGROUND_ALLOWED_HOSTS: 'localhost:abc'"),
    ],
)
def test_bad_settings_fail_at_start_with_their_name(monkeypatch, name, value, message):
    from playground import ConfigError

    monkeypatch.setenv(f"PLAYGROUND_{name}", value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_a_token_larger_than_16k_can_be_introspected(test_client):
    big = "x" * 20_000
    with misbehaving_server("json", body={"access_token": big, "token_type": "Bearer"}) as url:
        response = test_client.post(FORM, data=token_form(url))
        assert access_token_of(response) == big
        again = test_client.post(FORM, data=token_form(url, access_token=big))  # Authorize still works
        assert "Access token received" in again.get_data(as_text=True)
        info = test_client.post(TOKENINFO, data=introspection_form(url, big))
    assert info.status_code == 200


def test_a_secret_the_server_echoes_is_masked_everywhere_on_the_page(test_client):
    secret = "TopSecretValue123"
    echo = {"access_token": "t", "token_type": "Bearer", "debug": f"client_secret={secret}", "copy": secret}
    with misbehaving_server("json", body=echo) as url:
        response = test_client.post(FORM, data=token_form(url, client_secret=secret))
    html = response.get_data(as_text=True)
    visible = re.sub(r'<div class="view revealed-view".*?</div>\s*</section>', "", html, flags=re.S)
    visible = re.sub(r"<input[^>]*>", "", visible)
    assert secret not in visible
    error = {"error": "invalid_client", "error_description": f"bad secret {secret}"}
    with misbehaving_server("json", status=401, body=error) as url:
        html = test_client.post(FORM, data=token_form(url, client_secret=secret)).get_data(as_text=True)
    visible = re.sub(
        r"<input[^>]*>",
        "",
        re.sub(r'<div class="view revealed-view".*?</div>\s*</section>', "", html, flags=re.S),
    )
    assert secret not in visible


def test_a_short_secret_does_not_garble_the_exchange(test_client):
    with misbehaving_server("json", body={"access_token": "echo", "token_type": "Bearer", "s": "e"}) as url:
        response = test_client.post(
            FORM, data=token_form(url, client_secret="e", client_auth="client_secret_post")
        )
    html = unescape(response.get_data(as_text=True))
    assert "Content-Type: application/x-www-form-urlencoded" in html
    assert "client_secret=••••••••" in html
    assert '"s": "••••••••"' in html  # an exact echo is still masked


def test_several_www_authenticate_challenges_are_all_shown(test_client):
    headers = {"WWW-Authenticate": 'Basic realm="a"'}
    with misbehaving_server("json", status=401, body={"error": "invalid_client"}, headers=headers) as url:
        body = test_client.post(FORM, data=token_form(url)).get_data(as_text=True)
    assert "Basic realm=&#34;a&#34;" in body


# -- large answers -----------------------------------------------------------------


def megabyte_answer() -> dict:
    """A 1 MB JSON answer (under PLAYGROUND_MAX_RESPONSE_BYTES) of a few thousand fields."""
    body = {"access_token": "a" * 40, "token_type": "Bearer", "active": True}
    size, number = len(json.dumps(body)), 0
    while size < 1_000_000:
        body[f"field_{number}"] = [{"name": "value-" * 5, "n": number}]
        size += len(json.dumps({f"field_{number}": body[f"field_{number}"]}))
        number += 1
    body["last_field"] = "the-end-of-the-answer"
    return body


@pytest.mark.parametrize("step", ["token", "tokeninfo"])
def test_a_megabyte_answer_is_shown_cut_with_the_whole_body_once(test_client, step):
    body = megabyte_answer()
    with misbehaving_server("json", body=body) as url:
        form = token_form(url) if step == "token" else introspection_form(url, "a-token")
        response = test_client.post(FORM if step == "token" else TOKENINFO, data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # Was 7.5 MB (token) and 9 MB (token info): every view printed the whole body, indented.
    assert len(html) < 2 * len(json.dumps(body)), f"{len(html):,} bytes"
    assert html.count("the-end-of-the-answer") == 1  # the whole body, once, one click away
    assert "bytes in all; the rest is not shown here" in html
    shown_in_table = len(body) - (1 if step == "token" else 0)  # the token page shows the token above
    assert f"… {shown_in_table - 100} more, not shown here" in html
    assert html.count('<th scope="row">field_') <= 100


def test_a_long_value_is_cut_in_its_table_cell(test_client):
    body = {"access_token": "t", "token_type": "Bearer", "note": "x" * 50_000}
    with misbehaving_server("json", body=body) as url:
        html = test_client.post(FORM, data=token_form(url)).get_data(as_text=True)
    assert "(50,000 characters in all)" in html


def post_chunked(base_url: str, body: bytes, path: str = FORM, extra: bytes = b"") -> tuple[int, bytes]:
    """POST a form with Transfer-Encoding: chunked (no Content-Length unless in `extra`) over a socket."""
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: playground\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
            + extra
            + b"Connection: close\r\n\r\n"
        )
        try:
            for start in range(0, len(body), 8192):
                piece = body[start : start + 8192]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
            # Done sending: Werkzeug's development server reads what is left to EOF before closing.
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may answer 413 and close before the rest is sent
            pass
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


@pytest.fixture(scope="module", params=["werkzeug", "gunicorn"])
def small_limit_playground(request, tmp_path_factory):
    """The playground with a 20 kB form limit, under the development server and under gunicorn."""
    if request.param == "werkzeug":
        app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 20_000})
        with live_server(app) as url:
            yield url
    else:
        with running(["serve", "--port", "0"], env={"PLAYGROUND_MAX_CONTENT_LENGTH": "20000"}) as proc:
            yield proc.banner["Playground"].removesuffix("/playground2/oauth2.jsp")


def test_a_chunked_post_over_the_limit_gets_413(small_limit_playground):
    status, answer = post_chunked(small_limit_playground, b"client_id=" + b"a" * 50_000)
    assert status == 413
    assert b"too large" in answer and b"aaaaaaaa" not in answer


def test_a_chunked_post_that_also_claims_a_small_content_length_gets_413(small_limit_playground):
    """RFC 9112 §6.3: Transfer-Encoding wins over a Content-Length beside it; the limit holds either way."""
    status, answer = post_chunked(
        small_limit_playground, b"client_id=" + b"a" * 50_000, extra=b"Content-Length: 100\r\n"
    )
    assert status in (400, 413), status  # 413, or refused outright as a smuggling attempt (gunicorn)
    assert b"aaaaaaaa" not in answer and b"This form has expired" not in answer


def test_a_chunked_post_under_the_limit_is_read_whole(small_limit_playground):
    status, answer = post_chunked(small_limit_playground, b"client_id=" + b"b" * 15_000 + b"&start_over=1")
    assert status == 400  # the form's own answer: no CSRF token (and a client ID over 512 characters)
    assert b"This form has expired" in answer


def test_the_demo_server_refuses_a_chunked_post_over_its_limit_too(authserver):
    status, answer = post_chunked(authserver.url, b"grant_type=" + b"x" * 100_000, "/oauth2/token")
    assert status == 413
    assert b'"invalid_request"' in answer
