"""Fixtures: a clean environment, the real demo authorization server on loopback,
the playground app, and Chromium for the browser tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from playground import create_app

from .bad_op import bad_op
from .servers import running, running_authserver, tls_context

CLIENT_ID = "client-one"
CLIENT_SECRET = "secret-one"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"


def pytest_addoption(parser):
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="Save the browser tests' screenshots into tests/screenshots/ (the README shows them).",
    )


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No proxy for loopback calls, and no PLAYGROUND_*/AUTHSERVER_* settings leaking in."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name.startswith(("PLAYGROUND_", "AUTHSERVER_")):
            monkeypatch.delenv(name)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def authserver(tmp_path):
    """The demo authorization server over plain HTTP, with one client registered."""
    with running_authserver(tmp_path / "authserver.sqlite3") as server:
        server.add_client(CLIENT_ID, CLIENT_SECRET, "read write")
        yield server


#: The code flow's fixtures: a user, a confidential client and a public one.
USER, PASSWORD = "alice", "alice-password"
WEB_ID, WEB_SECRET = "web", "web-secret"
SPA_ID = "spa"
REDIRECT_URI = "http://127.0.0.1:9/cb"  # never reached: the tests read the redirect, not follow it
LOGOUT_URI = "http://127.0.0.1:9/bye"
OIDC_SCOPE = "openid profile email offline_access read"


@pytest.fixture
def oidc_authserver(tmp_path):
    """The demo server with alice, a confidential client `web` and a public client `spa`."""
    with running_authserver(tmp_path / "authserver.sqlite3") as server:
        server.add_user(USER, PASSWORD, name="Alice Example", given_name="Alice", email="alice@example.com")
        server.add_client(
            WEB_ID,
            WEB_SECRET,
            OIDC_SCOPE,
            client_name="Web App",
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=[REDIRECT_URI],
            post_logout_redirect_uris=[LOGOUT_URI],
        )
        server.add_client(
            SPA_ID,
            None,
            OIDC_SCOPE,
            public=True,
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=[REDIRECT_URI],
        )
        yield server


@pytest.fixture
def bad_op_server():
    """An OpenID provider that gets one thing wrong on purpose (tests/bad_op.py): `.set(defect)`."""
    with bad_op() as op:
        yield op


@pytest.fixture(scope="session")
def tls_authserver(tmp_path_factory):
    """The demo authorization server over HTTPS with its own CA (as `playground demo` runs it)."""
    directory = tmp_path_factory.mktemp("tls-authserver")
    context, ca_path = tls_context(directory)
    with running_authserver(directory / "authserver.sqlite3", ssl_context=context) as server:
        server.add_client(CLIENT_ID, CLIENT_SECRET, "read write")
        server.ca_path = ca_path
        yield server


def playground_config(server, **extra) -> dict:
    """Playground settings pointing at a demo server."""
    config = {
        "TESTING": True,
        "TOKEN_ENDPOINT": server.token_endpoint,
        "INTROSPECTION_ENDPOINT": server.introspection_endpoint,
        "REVOCATION_ENDPOINT": server.revocation_endpoint,
        "CA_BUNDLE": getattr(server, "ca_path", None),
    }
    config.update(extra)
    return config


@pytest.fixture
def app(authserver):
    """The playground, CSRF off for the test client, aimed at the demo server."""
    return create_app(playground_config(authserver, WTF_CSRF_ENABLED=False))


@pytest.fixture
def test_client(app):
    """Flask's test client ("client" means the OAuth client here)."""
    return app.test_client()


# -- browser tests -------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, launched by path (Playwright cannot download its own here)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: under CI the browser tests must run.")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """`playground demo` itself, as a newcomer runs it (gunicorn, HTTPS, the demo CA): its banner."""
    instance = tmp_path_factory.mktemp("demo-instance")
    with running(["demo", "--port", "0", "--authserver-port", "0", "--instance-path", str(instance)]) as proc:
        yield proc.banner


@pytest.fixture(scope="session")
def base_url(demo):
    """Playwright's page.goto() paths are relative to the demo's playground."""
    return demo["Playground"].removesuffix("/playground2/oauth2.jsp")


@pytest.fixture
def screenshot(request, tmp_path):
    """Save a full-page screenshot: into tests/screenshots/ with --screenshots, else a temp folder."""
    folder = SCREENSHOTS if request.config.getoption("--screenshots") else tmp_path

    def take(page, name: str) -> Path:
        folder.mkdir(exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000  # a rendered page, not a blank one
        return path

    return take
