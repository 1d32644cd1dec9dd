"""The record of one HTTP exchange, its masking, and its renderings.

Kept apart from the code that makes the call (httpie's way): a record of what
went over the wire, and small formatters for the page: the request and the
response as text, and the same request as a `curl` command.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlsplit

MASK = "••••••••"
#: Form fields whose values are credentials wherever they appear: masked on screen until revealed.
SECRET_FIELDS = frozenset(
    {
        "client_secret",  # RFC 6749 §2.3.1
        "password",  # RFC 6749 §4.3.2
        "client_assertion",  # RFC 7523 §2.2
        "assertion",  # RFC 7523 §2.1
        "code",  # RFC 6749 §4.1.3: short-lived, but whoever holds it with the verifier gets tokens
        "code_verifier",  # RFC 7636 §4.5
    }
)
#: Fields and JSON members that carry tokens: shown on the page (they are the result), masked in
#: the copy meant for tickets, since a bearer token is a credential to whoever holds it (RFC 6750 §5.3).
TOKEN_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "token",  # RFC 7662 §2.1, RFC 7009 §2.1
        "device_code",  # RFC 8628 §3.2
        "subject_token",  # RFC 8693 §2.1
        "actor_token",
        "issued_token",
    }
)
#: Headers whose value is a credential (RFC 9110 §11.6.2, §11.7.2).
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
#: Headers requests adds that say nothing about the OAuth call; left out of curl.
CURL_SKIPPED_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "connection", "content-length"})
DISPLAY_LIMIT = 100_000
#: Deeper JSON is not read as JSON: no OAuth answer nests past a handful of levels, and the
#: recursive masking and printing of a value 900 deep would exhaust Python's stack.
MAX_JSON_DEPTH = 64
#: Shorter secrets are masked where they are known to be (headers, fields, JSON values)
#: but not searched for in running text, which would garble it and give them away.
MIN_SCRUB = 8
#: Strings and numbers of a JSON answer that masking walks one by one; a larger answer (a
#: megabyte of tiny arrays) is masked as text, as non-JSON bodies are.
MAX_JSON_NODES = 200_000
_TOO_DEEP = object()
#: Base64 (RFC 4648 §4, and §5's URL-safe alphabet), padding optional: a Basic value may be
#: echoed without its `=` or in the other alphabet.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
#: A percent-encoding: RFC 3986 §2.1 lets its hex digits be either case, and quote() writes upper.
_PERCENT = re.compile(r"%[0-9A-F]{2}")


class Pairs(list):
    """A JSON object as its (key, value) pairs: the server's order, duplicates kept."""


def dump_json(value: Any, indent: bool = True, limit: int | None = None) -> str:
    """JSON of `json.loads(..., object_pairs_hook=Pairs)` output, order and duplicate keys kept:
    indented for reading, or compact (`indent=False`, as a server would send it). With `limit`,
    it stops soon after that many characters: a page shows the start of a megabyte answer
    without printing all of it."""
    pieces, size = [], 0
    for piece in _json_pieces(value, 0, indent):
        pieces.append(piece)
        size += len(piece)
        if limit is not None and size > limit:
            break
    return "".join(pieces)


def _json_pieces(value: Any, depth: int, indent: bool) -> Iterator[str]:
    """dump_json's text, a piece at a time (values are at most MAX_JSON_DEPTH deep)."""
    is_object = isinstance(value, Pairs)
    if not isinstance(value, list):
        yield json.dumps(value, ensure_ascii=False)
        return
    if not value:
        yield "{}" if is_object else "[]"
        return
    pad, inner = ("\n" + "  " * depth, "\n" + "  " * (depth + 1)) if indent else ("", "")
    yield "{" if is_object else "["
    for number, item in enumerate(value):
        yield ("," if number else "") + inner
        if is_object:
            key, item = item
            yield json.dumps(key, ensure_ascii=False) + (": " if indent else ":")
        yield from _json_pieces(item, depth + 1, indent)
    yield pad + ("}" if is_object else "]")


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests more than `limit` arrays or objects (without recursing)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            if isinstance(item, Pairs):
                children = [v for _k, v in item]
            stack += [(child, depth + 1) for child in children]
    return False


def count_nodes(value: Any, limit: int) -> int | None:
    """How many values (keys included) a parsed JSON value holds, or None past `limit`."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return None
        if isinstance(item, Pairs):
            count += len(item)  # the keys
            stack += [v for _k, v in item]
        elif isinstance(item, dict):
            count += len(item)
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return count


def mask_structure(
    value: Any, secrets: set[str], scrub: Callable[[str], str], limit: int = MAX_JSON_NODES
) -> tuple[Any, bool] | None:
    """A copy of a parsed JSON value (Pairs, dicts, lists) in which every string, keys included,
    equal to a secret is the mask and every other string is `scrub`bed, and whether anything
    changed; None when it holds more than `limit` values.

    Masking the parsed strings, not the text, finds a secret however JSON escapes it (`\\/`,
    `\\u00XX`), and what comes out dumps to valid JSON. The strings are scrubbed together, in
    one pass over their text joined by NUL (which no scrubbed form holds), not one by one.
    """
    if count_nodes(value, limit) is None:
        return None
    strings: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, Pairs):
            for key, child in item:
                strings.append(key)
                collect(child)
        elif isinstance(item, dict):
            for key, child in item.items():
                strings.append(key)
                collect(child)
        elif isinstance(item, list):
            for child in item:
                collect(child)

    collect(value)
    joined = "\x00".join(strings)
    scrubbed_all = scrub(joined)
    if scrubbed_all == joined:
        scrubbed = strings
    elif joined.count("\x00") == scrubbed_all.count("\x00") == len(strings) - 1:
        scrubbed = scrubbed_all.split("\x00")
    else:  # a string holds NUL itself, or a secret does: one at a time
        scrubbed = [scrub(text) for text in strings]
    replaced = iter([MASK if old in secrets else new for old, new in zip(strings, scrubbed, strict=True)])
    changed = False

    def rebuild(item: Any) -> Any:
        nonlocal changed
        if isinstance(item, str):
            new = next(replaced)
            changed = changed or new != item
            return new
        if isinstance(item, Pairs):
            return Pairs((rebuild(key), rebuild(child)) for key, child in item)
        if isinstance(item, dict):
            return {rebuild(key): rebuild(child) for key, child in item.items()}
        if isinstance(item, list):
            return [rebuild(child) for child in item]
        if isinstance(item, (int, float)) and not isinstance(item, bool) and str(item) in secrets:
            changed = True  # a numeric secret echoed as a JSON number
            return MASK
        return item

    masked = rebuild(value)
    return masked, changed


def as_dicts(value: Any) -> Any:
    """A Pairs-parsed JSON value as json.loads parses it by default (the last of duplicate keys wins)."""
    if isinstance(value, Pairs):
        return {key: as_dicts(child) for key, child in value}
    if isinstance(value, list):
        return [as_dicts(child) for child in value]
    return value


def string_members(value: Any, names: frozenset[str]) -> list[str]:
    """The string values of the members called one of `names`, at any depth of a JSON value."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Pairs):
            found += [v for k, v in item if k in names and isinstance(v, str)]
            stack += [v for _k, v in item]
        elif isinstance(item, list):
            stack += item
    return found


def encodings(secret: str) -> set[str]:
    """The ways a secret may show up in an answer: as it is, URL-encoded either way (as it went
    out in a form or a Basic header) with upper- or lower-case hex (RFC 3986 §2.1), HTML-escaped
    (an error page), JSON-escaped (a JSON echo); a base64 value also without its padding and in
    the URL-safe alphabet (RFC 4648 §3.2, §5)."""
    found = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        html.escape(secret),
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
    }
    found |= {_PERCENT.sub(lambda m: m.group().lower(), value) for value in found}
    if _BASE64.fullmatch(secret):
        bare = secret.rstrip("=")
        found |= {bare, bare.translate(_URLSAFE), bare.translate(_STANDARD)}
    return {value for value in found if len(value) >= MIN_SCRUB}


_URLSAFE = str.maketrans("+/", "-_")
_STANDARD = str.maketrans("-_", "+/")


def header_credentials(value: str) -> set[str]:
    """What an Authorization value carries: its credentials part (the scheme stays readable), and
    for Basic the decoded `user:password` and the password (RFC 7617 §2, as RFC 6749 §2.3.1 encodes it)."""
    scheme, _, credentials = value.strip().partition(" ")
    found = {credentials.strip()}
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        user, sep, password = decoded.partition(":")
        if sep:
            found |= {decoded, password, unquote_plus(password)}
    return {f for f in found if f}


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
    #: Bytes of the body received but not kept (an earlier discovery attempt's, say).
    dropped: int = 0

    def header(self, name: str) -> str | None:
        """The first header of that name, case-insensitively."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def headers_named(self, name: str) -> list[str]:
        """Every header of that name, in order (WWW-Authenticate may come several times)."""
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

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
        """The response body as JSON, or None when it is not JSON (or nested beyond MAX_JSON_DEPTH)."""
        return self._parse(None)

    def json_pairs(self) -> Any:
        """The body as JSON with objects as ordered pairs (duplicate keys kept), or None."""
        return self._parse(Pairs)

    def _parse(self, hook: Any) -> Any:
        """The body parsed once per record and hook (a page reads it several times, and it
        may be a megabyte): treat what comes back as read-only."""
        parsed = self.__dict__.setdefault("_parsed", {})
        if hook is None and None not in parsed and Pairs in parsed:
            # Parsed already (or seeded by masked()): the dict form, without reading the text again.
            pairs = parsed[Pairs]
            parsed[None] = pairs if pairs is None or pairs is _TOO_DEEP else as_dicts(pairs)
        if hook not in parsed:
            parsed[hook] = None
            if self.response is not None and self.response.body.strip():
                try:
                    value = json.loads(self.response.body, object_pairs_hook=hook)
                    parsed[hook] = _TOO_DEEP if too_deep(value) else value
                except ValueError:
                    pass
                except RecursionError:
                    parsed[hook] = _TOO_DEEP
        value = parsed[hook]
        return None if value is _TOO_DEEP else value

    @property
    def json_too_deep(self) -> bool:
        """The body is JSON, but nested deeper than the playground reads."""
        self._parse(None)
        return self.__dict__["_parsed"][None] is _TOO_DEEP

    # -- masking -------------------------------------------------------------
    def with_secrets(self, *more: str) -> Exchange:
        """The same record naming more secrets to mask (what the form holds), its body not parsed again."""
        copy = replace(self, secrets=(*self.secrets, *more))
        copy.__dict__["_parsed"] = self.__dict__.setdefault("_parsed", {})
        return copy

    def credentials(self, tokens: bool = False) -> set[str]:
        """Every credential this request carried, however it went out: the secrets the caller
        named, Authorization values (and what a Basic one decodes to), secret form fields; with
        `tokens`, also the tokens sent and received."""
        found = {s for s in self.secrets if s}
        for name, value in self.request.headers:
            if name.lower() in CREDENTIAL_HEADERS:
                found |= header_credentials(value)
        names = SECRET_FIELDS | TOKEN_FIELDS if tokens else SECRET_FIELDS
        found |= {v for k, v in form_pairs(self.request.body) if k in names and v}
        found |= {v for k, v in parse_qsl(urlsplit(self.request.url).query) if k in names and v}
        if tokens:
            found |= {v for v in string_members(self.json_pairs(), TOKEN_FIELDS) if v}
            # RFC 6749 §5.1 asks for JSON, but some servers (GitHub's) answer form-encoded.
            found |= {v for k, v in self.response_form() if k in TOKEN_FIELDS and v}
        return found

    def response_form(self) -> list[tuple[str, str]]:
        """The answer's fields when it is form-urlencoded (by its Content-Type), else none."""
        response = self.response
        if response is None or self.json_pairs() is not None:
            return []
        content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return []
        return form_pairs(response.text)

    def masked(self, tokens: bool = False) -> Exchange:
        """A copy with credentials hidden wherever they appear, request and answer alike:
        Authorization values, secret form fields, JSON values equal to a credential, and any
        other appearance of one (in any encoding it may take) long enough to find without
        garbling the text around it. With `tokens` (the copy for tickets), tokens too.

        Made once per copy asked for: a page asks several times, and a body may be a megabyte.
        """
        cache = self.__dict__.setdefault("_masked_copies", {})
        if tokens not in cache:
            cache[tokens] = self._masked(tokens)
        return cache[tokens]

    def scrubber(self, tokens: bool = False) -> tuple[set[str], Callable[[str], str]]:
        """The credentials to hide (see `credentials`) and a function hiding each one long
        enough to search for, in every encoding of it, in a text."""
        cache = self.__dict__.setdefault("_scrubbers", {})
        if tokens not in cache:
            secrets = self.credentials(tokens)
            variants = sorted(
                {v for s in secrets if len(s) >= MIN_SCRUB for v in encodings(s)}, key=len, reverse=True
            )

            def scrub(text: str) -> str:
                for value in variants:
                    text = text.replace(value, MASK)
                return text

            cache[tokens] = secrets, scrub
        return cache[tokens]

    def mask_value(self, value: Any, tokens: bool = False) -> Any:
        """A JSON value (claims decoded from a JWT answer, say) with this exchange's credentials
        masked in every string, as the masked copy's body has them."""
        secrets, scrub = self.scrubber(tokens)
        if not secrets:
            return value
        masked = mask_structure(value, secrets, scrub)
        return masked[0] if masked is not None else {}

    def _masked(self, tokens: bool) -> Exchange:
        secrets, scrub = self.scrubber(tokens)
        fields = SECRET_FIELDS | TOKEN_FIELDS if tokens else SECRET_FIELDS

        def mask_header(name: str, value: str) -> tuple[str, str]:
            if name.lower() in CREDENTIAL_HEADERS:
                scheme, _, _credentials = value.partition(" ")
                return name, f"{scheme} {MASK}"
            return name, scrub(value)

        request = replace(
            self.request,
            url=scrub(mask_query(self.request.url, fields)),
            headers=[mask_header(k, v) for k, v in self.request.headers],
            body=scrub(mask_form_fields(self.request.body, fields)),
        )
        response, parsed = self.response, self.__dict__.setdefault("_parsed", {})
        if response is not None and secrets:
            body, parsed = self._masked_body(secrets, scrub, fields)
            response = replace(
                response,
                reason=scrub(response.reason),  # the reason phrase is the server's text too
                headers=[(k, scrub(v)) for k, v in response.headers],
                body=body,
            )
        copy = replace(self, request=request, response=response, secrets=(), is_masked=True)
        # Seeded with what is already known of its body: no second parse of a megabyte.
        copy.__dict__["_parsed"] = parsed
        return copy

    def _masked_body(
        self, secrets: set[str], scrub: Callable[[str], str], fields: frozenset[str]
    ) -> tuple[bytes, dict]:
        """The masked copy's body, and what its parse cache starts with.

        JSON is masked as parsed values and dumped again, so no escape hides a secret and the
        copy is JSON still; a form-encoded answer has its credential fields masked; the rest
        (and JSON of more than MAX_JSON_NODES values) is masked as text.
        """
        response = self.response
        assert response is not None
        pairs = self.json_pairs()
        masked = mask_structure(pairs, secrets, scrub) if pairs is not None else None
        if masked is not None:
            value, changed = masked
            if not changed:  # nothing to hide: the body as received, and what is parsed of it
                return response.body, self.__dict__["_parsed"]
            return dump_json(value, indent=False).encode("utf-8"), {Pairs: value}
        text = response.text
        if self.response_form():
            text = mask_form_fields(text, fields)
        return scrub(text).encode("utf-8"), {}

    # -- rendering -----------------------------------------------------------
    def request_text(self) -> str:
        """Request line, the Host line http.client sends first, the headers in the order sent, body."""
        parts = urlsplit(self.request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{self.request.method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in self.request.headers]
        text = "\n".join(lines)
        if self.request.body:
            text += "\n\n" + self.request.body
        return text

    def response_text(self) -> str:
        """Status line, headers in the order received, body (JSON indented, order kept)."""
        if self.response is None:
            return ""
        r = self.response
        lines = [f"{r.version} {r.status} {r.reason}".rstrip()]
        lines += [f"{k}: {v}" for k, v in r.headers]
        text = "\n".join(lines)
        body = self.pretty_body()
        if body:
            text += "\n\n" + body
        return text

    def pretty_body(self) -> str:
        """The response body for reading: JSON indented in the server's order, duplicate
        keys kept; anything else as it is. Cut at DISPLAY_LIMIT characters, saying so: the
        page offers the whole body once, as received (see `body_cut`)."""
        if "_pretty" not in self.__dict__:
            self.__dict__["_pretty"] = self._pretty_body()
        return self.__dict__["_pretty"]

    def _pretty_body(self) -> str:
        if self.response is None:
            return ""
        pairs = self.json_pairs()
        text = self.response.text if pairs is None else dump_json(pairs, limit=DISPLAY_LIMIT)
        if len(text) > DISPLAY_LIMIT:
            return (
                text[:DISPLAY_LIMIT]
                + f"\n… ({len(self.response.body):,} bytes in all; the rest is not shown here: "
                "see the whole body below)"
            )
        if self.response.truncated:
            text += "\n… (cut at the response size limit)"
        if self.response.dropped:
            text += f"\n… ({self.response.dropped:,} more bytes received, not kept)"
        return text

    @property
    def body_cut(self) -> bool:
        """pretty_body() shows only part of the body."""
        return self.response is not None and len(self.pretty_body()) > DISPLAY_LIMIT

    def httpie(self) -> str:
        """The same request as an HTTPie command (masked if this copy is).

        The body goes as it was sent, with --raw: HTTPie's `key=value` items would read
        `@file`, `==` and backslashes in a value as its own syntax.
        """
        args = ["http"]
        if self.request.body:
            # --ignore-stdin: in a script, HTTPie would otherwise take stdin as a second body.
            args += ["--ignore-stdin", "--raw", self.request.body]
        if self.insecure:
            args.append("--verify=no")
        elif self.ca_bundle and self.request.url.startswith("https:"):
            args.append(f"--verify={self.ca_bundle}")
        args += [self.request.method, self.request.url]
        args += [f"{k}:{v}" for k, v in self.request.headers if k.lower() not in CURL_SKIPPED_HEADERS]
        return " ".join(shlex.quote(a) for a in args)

    def markdown(self, title: str, limit: int = 8000) -> str:
        """A transcript section: the exchange, and the same request as curl."""
        lines = [f"## {title}", ""]
        status = f"HTTP {self.response.status}" if self.response else "no response"
        took = f" in {self.elapsed_ms:.0f} ms" if self.elapsed_ms is not None else ""
        lines += [f"`{self.request.method} {self.request.url}` → {status}{took}", ""]
        lines += [_fenced(self.request_text(), "http"), ""]
        if self.response is not None:
            response = self.response_text()
            if len(response) > limit:
                response = response[:limit] + f"\n… ({len(response) - limit:,} more characters)"
            lines += [_fenced(response, "http"), ""]
        lines += [_fenced(self.curl(), "sh"), ""]
        return "\n".join(lines)

    def curl(self) -> str:
        """The same request as a `curl` command (masked if this copy is)."""
        # -g: [ ] and { } in the URL are not curl's globbing patterns.
        args = ["curl", "-g", "-i", "-X", self.request.method, self.request.url]
        if self.ca_bundle and self.request.url.startswith("https:"):
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
        lines, current = [], " ".join(quoted[:6])
        for arg in quoted[6:]:
            if arg.startswith("-"):
                lines.append(current)
                current = arg
            else:
                current += " " + arg
        lines.append(current)
        return " \\\n  ".join(lines)


def _fenced(text: str, lang: str) -> str:
    """A Markdown code block that no backticks in `text` can close early."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text}\n{fence}"


def form_pairs(body: str) -> list[tuple[str, str]]:
    """The fields of a form-urlencoded body, or none when it is not one."""
    if not body or "=" not in body:
        return []
    try:
        return parse_qsl(body, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return []


def mask_form_fields(body: str, fields: frozenset[str] = SECRET_FIELDS) -> str:
    """Mask the values of the named fields in a form-urlencoded body."""
    pairs = form_pairs(body)
    if not any(k in fields for k, _ in pairs):
        return body
    return "&".join(f"{quote_plus(k)}={MASK if k in fields else quote_plus(v)}" for k, v in pairs)


def mask_query(url: str, fields: frozenset[str] = SECRET_FIELDS) -> str:
    """Mask the values of the named parameters in a URL's query (a callback's `code`, say)."""
    parts = urlsplit(url)
    masked = mask_form_fields(parts.query, fields)
    return url if masked == parts.query else parts._replace(query=masked).geturl()
