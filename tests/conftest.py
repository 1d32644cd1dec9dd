"""Fixtures: a clean environment and the real demo authorization server on loopback."""

from __future__ import annotations

import os

import pytest

from .servers import running_authserver

CLIENT_ID = "client-one"
CLIENT_SECRET = "secret-one"


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
