"""Real servers on loopback for the tests: port 0, shut down afterwards."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from playground.authserver import create_app as create_authserver
from playground.authserver.models import save_client
from playground.authserver.users import save_user


@contextlib.contextmanager
def live_server(app: Flask, ssl_context=None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 with a free port; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class AuthServer:
    """A running demo authorization server and its endpoints."""

    app: Flask
    url: str

    @property
    def token_endpoint(self) -> str:
        return self.url + "/oauth2/token"

    @property
    def introspection_endpoint(self) -> str:
        return self.url + "/oauth2/introspect"

    @property
    def revocation_endpoint(self) -> str:
        return self.url + "/oauth2/revoke"

    @property
    def authorization_endpoint(self) -> str:
        return self.url + "/oauth2/authorize"

    @property
    def userinfo_endpoint(self) -> str:
        return self.url + "/oauth2/userinfo"

    @property
    def logout_endpoint(self) -> str:
        return self.url + "/oidc/logout"

    def add_client(self, client_id: str, secret: str | None, scope: str = "read write", **kwargs) -> None:
        """Register a client in the running server's store."""
        add_client(self.app, client_id, secret, scope, **kwargs)

    def add_user(self, username: str, password: str, **claims) -> None:
        """Add a user to the running server's store."""
        session = self.app.extensions["demo_authserver"]["sessions"]()
        try:
            save_user(session, username, password, **claims)
        finally:
            session.close()


def add_client(app: Flask, client_id: str, secret: str | None, scope: str = "read write", **kwargs) -> None:
    """Register a client in an authserver app's store."""
    session = app.extensions["demo_authserver"]["sessions"]()
    try:
        save_client(session, client_id, secret, scope=scope, **kwargs)
    finally:
        session.close()


def make_authserver_app(database_path) -> Flask:
    """A demo server app on its own SQLite file."""
    return create_authserver({"DATABASE_URL": f"sqlite:///{database_path}", "TESTING": True})


@contextlib.contextmanager
def running_authserver(database_path, ssl_context=None) -> Iterator[AuthServer]:
    """A demo server on loopback over a fresh store."""
    app = make_authserver_app(database_path)
    with live_server(app, ssl_context) as url:
        yield AuthServer(app, url)
    app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()


def tls_context(directory):
    """A server TLS context with a certificate from a local CA made in `directory`; returns (ctx, ca_path)."""
    import ssl

    from playground.authserver.tls import ensure_certificates

    files = ensure_certificates(directory, [])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    return context, str(files.ca_cert)


ROOT = Path(__file__).resolve().parent.parent


#: Runs `python -m playground ARGS` with SIGINT ignored, as a shell starts a background job.
SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'playground', *sys.argv[1:]])"
)
STDERR_LINES = 200


class Running:
    """A `playground ...` child process whose banner has been read.

    Its stderr is drained all along (a full pipe would block the child) and the
    last STDERR_LINES lines are kept for error messages.
    """

    def __init__(
        self,
        args: list[str],
        env: dict[str, str] | None = None,
        timeout: float = 60,
        sigint_ignored: bool = False,
    ):
        prefix = ["-c", SIGINT_IGNORED] if sigint_ignored else ["-m", "playground"]
        self.proc = subprocess.Popen(
            [sys.executable, *prefix, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group, as a terminal would give it
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: deque[str] = deque(maxlen=STDERR_LINES)
        self.readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._drain_stderr, daemon=True),
        ]
        for reader in self.readers:
            reader.start()
        self.banner = self._read_banner(timeout)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        """The last lines the child wrote to stderr."""
        return "\n".join(self.stderr_lines)

    def _read_banner(self, timeout: float) -> dict[str, str]:
        banner: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if not line and banner:
                return banner
            name, sep, value = line.partition(": ")
            if sep:
                banner[name] = value
        code = self.stop()
        raise AssertionError(f"no banner (exit code {code}); stderr:\n{self.stderr}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the whole process group and wait."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
            # The readers end at EOF; closing a pipe under a reader would fail in its thread.
            for reader in self.readers:
                reader.join(timeout=10)
            self.proc.stdout.close()
            self.proc.stderr.close()


@contextlib.contextmanager
def running(args, **kwargs):
    proc = Running(args, **kwargs)
    try:
        yield proc
    finally:
        proc.stop()
