"""Security headers and friendly error pages for the playground."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

#: No inline scripts or styles, nothing from elsewhere: the page works offline.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

MESSAGES = {
    404: "There is no page here. The playground starts at /playground2/oauth2.jsp.",
    405: "This page is not meant to be opened that way. Start from the playground's form.",
    415: "The playground takes its own web form only (no file uploads). Start from the form.",
    413: "The form was too large to accept: a token or URL of that size is unlikely to be right.",
}


def security_headers(response):
    """Strict headers on every response; no caching of anything but static assets."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:  # RFC 6797: browsers keep to HTTPS from then on
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        # Pages may carry tokens and secrets: no copy in any cache (RFC 9111 §5.2.2.5).
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def http_error(exc: HTTPException):
    """A page, not a bare status, for 404/405/413 and friends."""
    message = MESSAGES.get(exc.code or 500, exc.description)
    return render_template("error.html", title=f"{exc.code} {exc.name}", message=message), exc.code


def unexpected_error(exc: Exception):
    """The last resort: a page that says what to do, never a stack trace."""
    from flask import current_app

    current_app.logger.error("unexpected error: %s", type(exc).__name__)
    message = (
        "The playground met an error it did not expect. Nothing was stored. Try again; "
        "if it happens again, please report what you did (without your secret)."
    )
    return render_template("error.html", title="Something went wrong", message=message), 500


def init_app(app: Flask) -> None:
    """Register the headers and the error pages."""
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
