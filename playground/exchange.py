"""The record of one HTTP exchange, its masking, and its renderings.

Kept apart from the code that makes the call (httpie's way): a record of what
went over the wire, and small formatters for the page: the request and the
response as text, and the same request as a `curl` command.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "••••••••"
#: Form fields whose values are secrets wherever they appear.
SECRET_FIELDS = frozenset({"client_secret", "password"})
#: Headers requests adds that say nothing about the OAuth call; left out of curl.
CURL_SKIPPED_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "connection", "content-length"})
DISPLAY_LIMIT = 100_000


@dataclass(frozen=True)
class RecordedRequest:
    """The request as it was sent."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str = ""


@dataclass(frozen=True)
class RecordedResponse:
    """The response as it was received (the body possibly cut at the size cap)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    version: str = "HTTP/1.1"
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """The first header of that name, case-insensitively."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Exchange:
    """One request and, unless the transport failed, its response."""

    request: RecordedRequest
    response: RecordedResponse | None = None
    elapsed_ms: float | None = None
    secrets: tuple[str, ...] = ()
    ca_bundle: str | None = None
    insecure: bool = False
    #: Set by `masked()`: this copy shows no secrets.
    is_masked: bool = field(default=False)

    # -- reading -------------------------------------------------------------
    def json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        if self.response is None or not self.response.body.strip():
            return None
        try:
            return json.loads(self.response.body)
        except ValueError:
            return None

    # -- masking -------------------------------------------------------------
    def masked(self) -> Exchange:
        """A copy with credentials hidden: Authorization values, secret form
        fields, and every appearance of a known secret (raw or URL-encoded)."""
        variants = sorted(
            {v for s in self.secrets if s for v in (s, quote(s, safe=""), quote_plus(s))},
            key=len,
            reverse=True,
        )

        def scrub(text: str) -> str:
            for value in variants:
                text = text.replace(value, MASK)
            return text

        def mask_header(name: str, value: str) -> tuple[str, str]:
            if name.lower() in ("authorization", "proxy-authorization"):
                scheme, _, _credentials = value.partition(" ")
                return name, f"{scheme} {MASK}"
            return name, scrub(value)

        request = replace(
            self.request,
            url=scrub(self.request.url),
            headers=[mask_header(k, v) for k, v in self.request.headers],
            body=scrub(mask_form_fields(self.request.body)),
        )
        response = self.response
        if response is not None:
            response = replace(
                response,
                headers=[(k, scrub(v)) for k, v in response.headers],
                body=scrub(response.text).encode("utf-8") if variants else response.body,
            )
        return replace(self, request=request, response=response, secrets=(), is_masked=True)

    # -- rendering -----------------------------------------------------------
    def request_text(self) -> str:
        """Request line, headers sorted by name (with the Host line the wire has), body."""
        parts = urlsplit(self.request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("Host", parts.netloc)] + list(self.request.headers)
        lines = [f"{self.request.method} {target} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in sorted(headers, key=lambda kv: kv[0].lower())]
        text = "\n".join(lines)
        if self.request.body:
            text += "\n\n" + self.request.body
        return text

    def response_text(self) -> str:
        """Status line, headers sorted by name, body (JSON indented, keys sorted)."""
        if self.response is None:
            return ""
        r = self.response
        lines = [f"{r.version} {r.status} {r.reason}".rstrip()]
        lines += [f"{k}: {v}" for k, v in sorted(r.headers, key=lambda kv: kv[0].lower())]
        text = "\n".join(lines)
        body = self.pretty_body()
        if body:
            text += "\n\n" + body
        return text

    def pretty_body(self) -> str:
        """The response body for reading: indented JSON, else the text as it is."""
        if self.response is None:
            return ""
        data = self.json()
        if data is not None:
            return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
        text = self.response.text
        if len(text) > DISPLAY_LIMIT:
            text = (
                text[:DISPLAY_LIMIT]
                + f"\n… ({len(self.response.body):,} bytes in all; the rest is not shown)"
            )
        elif self.response.truncated:
            text += "\n… (cut at the response size limit)"
        return text

    def curl(self) -> str:
        """The same request as a `curl` command (masked if this copy is)."""
        args = ["curl", "-i", "-X", self.request.method, self.request.url]
        if self.ca_bundle:
            args += ["--cacert", self.ca_bundle]
        if self.insecure:
            args.append("--insecure")
        for name, value in self.request.headers:
            if name.lower() not in CURL_SKIPPED_HEADERS:
                args += ["-H", f"{name}: {value}"]
        if self.request.body:
            args += ["--data-raw", self.request.body]
        quoted = [shlex.quote(a) for a in args]
        # One option with its value per line, for reading.
        lines, current = [], " ".join(quoted[:5])
        for arg in quoted[5:]:
            if arg.startswith("-"):
                lines.append(current)
                current = arg
            else:
                current += " " + arg
        lines.append(current)
        return " \\\n  ".join(lines)


def mask_form_fields(body: str) -> str:
    """Mask the values of secret fields in a form-urlencoded body."""
    if not body or "=" not in body:
        return body
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return body
    if not any(k in SECRET_FIELDS for k, _ in pairs):
        return body
    return "&".join(f"{quote_plus(k)}={MASK if k in SECRET_FIELDS else quote_plus(v)}" for k, v in pairs)
