"""The playground's pages."""

from flask import Blueprint, Flask, redirect, url_for

bp = Blueprint("playground", __name__)


@bp.get("/")
def index():
    """The walkthrough starts at WSO2's playground path."""
    return redirect(url_for("playground.form"))


@bp.get("/playground2/oauth2.jsp")
def form():
    """The form (next issue's work)."""
    return "Playground"


def init_app(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(bp)
