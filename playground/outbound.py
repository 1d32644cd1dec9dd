"""The outbound policy: every request the playground makes goes through here.

What it decides: which URLs may be called, which CAs are trusted, how long to
wait, how much to read, and that redirects are shown, not followed.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import certifi
import requests
from requests.adapters import HTTPAdapter

from .exchange import Exchange, RecordedRequest, RecordedResponse

READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Policy:
    """Settings of the outbound policy (from PLAYGROUND_* configuration)."""

    timeout: float = 15.0
    max_response_bytes: int = 1024 * 1024
    ca_bundle: str | None = None


class OutboundError(Exception):
    """A transport failure: no usable HTTP response. Carries what was attempted.

    `kind` is one of: invalid_url, refused, dns, timeout, tls, reset, too_large, network.
    """

    def __init__(self, kind: str, message: str, exchange: Exchange, detail: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exchange = exchange
        self.detail = detail


def check_url(url: str) -> str | None:
    """Why `url` may not be called, or None when it may."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https"):
        return "Only http:// and https:// URLs can be called."
    if not parts.hostname:
        return "The URL has no host name."
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and histories; use the form's fields.
        return "The URL must not contain a user name or password (user:pass@host)."
    if any(c in url for c in "\r\n\t "):
        return "The URL must not contain spaces or line breaks."
    return None


class _TrustAdapter(HTTPAdapter):
    """An adapter whose TLS context trusts the system CAs plus PLAYGROUND_CA_BUNDLE."""

    def __init__(self, ssl_context: ssl.SSLContext):
        self._ssl_context = ssl_context
        super().__init__(pool_connections=16, pool_maxsize=32, max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._ssl_context
        return super().init_poolmanager(*args, **kwargs)


def make_ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certifi's CAs, plus the configured bundle; raises ValueError if it cannot be read."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot use CA bundle {ca_bundle!r}: {exc}") from exc
    return context


class Outbound:
    """Sends requests under a policy, over one pooled session (thread-safe use:
    no cookies are kept, and urllib3's pools are thread-safe)."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or CA settings from the environment
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = _TrustAdapter(make_ssl_context(policy.ca_bundle))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: dict[str, str] | None,
        secrets: tuple[str, ...],
    ) -> Exchange:
        """Send one request; return the exchange, or raise OutboundError."""
        prepared = None
        try:
            prepared = self.session.prepare_request(requests.Request(method, url, headers=headers, data=data))
        except (requests.exceptions.RequestException, ValueError, UnicodeError):
            pass
        recorded = RecordedRequest(
            method=method,
            url=prepared.url if prepared else url,
            headers=list(prepared.headers.items()) if prepared else list(headers.items()),
            body=_body_text(prepared.body) if prepared else "",
        )
        exchange = Exchange(request=recorded, secrets=secrets, ca_bundle=self.policy.ca_bundle)
        problem = check_url(url) if prepared else "The URL is not valid."
        if problem:
            raise OutboundError("invalid_url", problem, exchange)
        start = time.monotonic()
        deadline = start + self.policy.timeout
        try:
            response = self.session.send(
                prepared,
                timeout=(self.policy.timeout, self.policy.timeout),
                stream=True,
                allow_redirects=False,  # a 3xx is a result to show, not to follow
                verify=True,
            )
        except requests.exceptions.RequestException as exc:
            raise _classify(exc, exchange) from None
        try:
            body, truncated = _read_capped(response, self.policy.max_response_bytes, deadline)
        except requests.exceptions.RequestException as exc:
            raise _classify(exc, exchange) from None
        except TimeoutError:
            raise OutboundError(
                "timeout",
                f"The server started answering but did not finish within {self.policy.timeout:g} s.",
                exchange,
            ) from None
        except OSError as exc:
            raise OutboundError(
                "reset", "The connection broke while the answer was read.", exchange, str(exc)
            ) from None
        finally:
            response.close()
        elapsed = (time.monotonic() - start) * 1000
        raw_headers = response.raw.headers
        recorded_response = RecordedResponse(
            status=response.status_code,
            reason=response.reason or "",
            headers=list(raw_headers.items()) if raw_headers is not None else list(response.headers.items()),
            body=body,
            version={10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(response.raw.version, "HTTP/1.1"),
            truncated=truncated,
        )
        return Exchange(
            request=recorded,
            response=recorded_response,
            elapsed_ms=round(elapsed, 1),
            secrets=secrets,
            ca_bundle=self.policy.ca_bundle,
        )


def _body_text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body


def _read_capped(response: requests.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    """Read at most `limit` bytes (+1 to notice more), finishing by `deadline`.

    read1 returns whatever has arrived, so a server trickling one byte at a time
    cannot keep a read going past the deadline.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock = getattr(getattr(response.raw, "connection", None), "sock", None)
        if isinstance(sock, socket.socket):
            sock.settimeout(remaining)
        try:
            chunk = response.raw.read1(READ_CHUNK, decode_content=True)
        except TimeoutError:
            raise TimeoutError from None
        except Exception as exc:  # urllib3 wraps socket errors in its own types
            if "timed out" in str(exc).lower():
                raise TimeoutError from None
            raise OSError(str(exc)) from exc
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True


def _classify(exc: requests.exceptions.RequestException, exchange: Exchange) -> OutboundError:
    """Turn a requests exception into one of our kinds with a plain message."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, requests.exceptions.SSLError):
        return OutboundError("tls", "The TLS connection could not be set up.", exchange, text)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return OutboundError("timeout", "Connecting to the server timed out.", exchange, text)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return OutboundError(
            "timeout", "The server accepted the connection but did not answer in time.", exchange, text
        )
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidHeader,
        ),
    ):
        return OutboundError("invalid_url", "The URL is not valid.", exchange, text)
    if (
        "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or "failed to resolve" in lowered
        or "name resolution" in lowered
        or "no address associated" in lowered
    ):
        return OutboundError("dns", "The host name could not be resolved.", exchange, text)
    if "connection refused" in lowered:
        return OutboundError("refused", "The server refused the connection.", exchange, text)
    if (
        "reset by peer" in lowered
        or "remote end closed" in lowered
        or "aborted" in lowered
        or "remotedisconnected" in lowered
        or "badstatusline" in lowered
    ):
        return OutboundError(
            "reset", "The server closed the connection without a valid HTTP answer.", exchange, text
        )
    return OutboundError("network", "The request could not be completed.", exchange, text)
