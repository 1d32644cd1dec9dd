"""The playground's pages, one module per group of steps, on one blueprint (common.bp)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages (importing a module adds its routes to the blueprint), CSRF and the policy."""
    from . import code, common, device, flow  # noqa: F401 - routes

    common.init_app(app)
