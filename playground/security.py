"""Security headers and friendly error pages for the playground."""

from __future__ import annotations

import io

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

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


class BoundedBody:
    """WSGI middleware: a request body sent without Content-Length (chunked, RFC 9112 §7.1) is
    read here up to MAX_CONTENT_LENGTH, so that one over it gets the same 413 as a Content-Length
    over it. Werkzeug would read such a body only as far as the limit, silently, and the form
    would be handled cut short."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked:  # with or without a Content-Length beside it, which RFC 9112 §6.3 says to ignore
            limit = int(self.app.config["MAX_CONTENT_LENGTH"])
            stream, body, size = environ["wsgi.input"], [], 0
            while size <= limit:
                chunk = stream.read(min(64 * 1024, limit + 1 - size))
                if not chunk:
                    break
                body.append(chunk)
                size += len(chunk)
            # From here the body is an ordinary one of known length (Werkzeug ignores a
            # Content-Length beside Transfer-Encoding, as RFC 9112 §6.3 says to).
            environ.pop("HTTP_TRANSFER_ENCODING")
            environ.pop("wsgi.input_terminated", None)
            environ["wsgi.input"] = io.BytesIO(b"".join(body))
            environ["CONTENT_LENGTH"] = str(size)  # over the limit: Werkzeug answers 413
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the headers, the error pages and the bound on chunked bodies."""
    app.wsgi_app = BoundedBody(app.wsgi_app, app)  # type: ignore[method-assign]
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind TLS termination the callback URL and post_logout_redirect_uri are the https ones the
        # browser sees; only headers set by the trusted proxies count (RFC 7239 §8.3 on spoofing).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
