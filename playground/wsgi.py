"""Running an app under gunicorn (a production WSGI server), from our own CLI.

Port 0 works: the banner is printed once gunicorn has bound its socket, with the
port it got, and the app is built in the worker with that port known.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class PortInUse(Exception):
    """The address to listen on is taken."""


class _Gunicorn(BaseApplication):
    """gunicorn embedded: options from a dict, the app from a factory."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app (in the worker, after the socket is bound)."""
        return self.factory()


def bind_address(host: str, port: int) -> str:
    """gunicorn's bind syntax, with brackets for IPv6."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_port_free(host: str, port: int) -> None:
    """Fail fast with PortInUse rather than gunicorn's five retries."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(f"{host}:{port} is already in use") from exc
            raise


def serve(
    factory: Callable[[int], Flask],
    host: str,
    port: int,
    on_ready: Callable[[int], None],
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
    workers: int = 1,
    threads: int = 16,
) -> None:
    """Serve `factory(port)` until SIGINT/SIGTERM; `on_ready(port)` once listening."""
    check_port_free(host, port)
    state: dict[str, int] = {}

    def when_ready(arbiter) -> None:
        state["port"] = arbiter.LISTENERS[0].sock.getsockname()[1]
        on_ready(state["port"])

    options: dict[str, Any] = {
        "bind": bind_address(host, port),
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "when_ready": when_ready,
        "graceful_timeout": 5,
        "timeout": 120,
        # Idle keep-alive connections stay open 75 s (nginx's default; browsers keep theirs
        # longer), not gunicorn's 2 s: a person clicks again after seconds, not milliseconds,
        # and each reused connection saves a TCP and TLS handshake. Behind a load balancer,
        # this must outlast the balancer's own idle timeout (60 s on AWS ALB).
        "keepalive": 75,
        "loglevel": "warning",
    }
    if certfile:
        options.update(certfile=certfile, keyfile=keyfile)
    _Gunicorn(lambda: factory(state["port"]), options).run()
