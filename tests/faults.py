"""Real misbehaving HTTP servers on loopback, for testing how a client copes with remote failures.

Every server listens on 127.0.0.1 with a free port, answers any method and path the same way, and is
shut down (listener closed, open connections cut, threads joined) when its context manager exits, even
while a client is still connected. No mocks: clients talk to these over real TCP (and TLS) sockets.

    with misbehaving_server("hang") as url:
        requests.get(url + "/token", timeout=(2, 1))  # -> requests.exceptions.ReadTimeout
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import json
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from requests.structures import CaseInsensitiveDict

__all__ = ["KINDS", "Request", "black_holes", "misbehaving_server", "requests_seen", "tls_cert_path"]

# The token a well-behaved token endpoint would return ("slow", TLS kinds, default of "json").
TOKEN = {"access_token": "slow-token", "token_type": "Bearer", "expires_in": 3600}
HTML_PAGE = (
    b"<html><head><title>Sign in</title></head><body><h1>Sign in</h1><script>alert(1)</script></body></html>"
)
INVALID_JSON = b'{"access_token": "abc", oops'
DEFAULT_LOCATION = "http://169.254.169.254/latest/meta-data/"
OPTIONS = frozenset({"delay", "size", "location", "status", "body", "headers", "depth", "format"})

MAX_HEADER_BYTES = 64 * 1024
# Generous bound on a request body, so a runaway client cannot make a test eat all memory.
MAX_BODY_BYTES = 64 * 1024 * 1024
CHUNK = 64 * 1024
# Safety net for a connection whose client neither sends nor closes; shutdown interrupts it sooner.
CONNECTION_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 5.0
ACCEPT_POLL = 0.1
TRICKLE_INTERVAL = 0.2
JOIN_TIMEOUT = 2.0


class _Abort(Exception):
    """The client went away or sent something unreadable: drop the connection quietly."""


@dataclass
class Request:
    """One HTTP request as a misbehaving server received it."""

    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes
    version: str = "HTTP/1.1"


@dataclass
class _Record:
    """What the module remembers about a server, keyed by its base URL."""

    requests: list[Request] = field(default_factory=list)
    cert_path: str | None = None
    running: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


_records: dict[str, _Record] = {}
_records_lock = threading.Lock()


def _key(url: str) -> str:
    """The registry key of a URL: scheme and host:port, so any path on the server finds it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _record(url: str) -> _Record:
    """The record of the server at `url`, or LookupError when no server was started there."""
    with _records_lock:
        try:
            return _records[_key(url)]
        except KeyError:
            raise LookupError(f"no misbehaving server was started at {url}") from None


def requests_seen(url: str) -> list[Request]:
    """Every request the server at `url` has received so far (still available after it stopped)."""
    record = _record(url)
    with record.lock:
        return list(record.requests)


def tls_cert_path(url: str) -> str:
    """The PEM certificate a client should trust for a TLS server: the leaf itself, or the issuing CA.

    Only valid while the server runs: its files live in a temporary directory removed at exit.
    """
    record = _record(url)
    if record.cert_path is None:
        raise LookupError(f"{url} is not a TLS misbehaving server")
    if not record.running:
        raise LookupError(f"the server at {url} has stopped and its certificate was removed")
    return record.cert_path


# --- HTTP plumbing ----------------------------------------------------------------------------------------


def _recv_some(sock: socket.socket) -> bytes:
    """One recv; an empty result means the client closed its side."""
    try:
        return sock.recv(CHUNK)
    except (OSError, ValueError) as exc:  # ValueError: the socket was closed under us at shutdown.
        raise _Abort from exc


class _Reader:
    """Buffered reads from a socket, enough to parse one HTTP request."""

    def __init__(self, sock: socket.socket) -> None:
        """Read from `sock`."""
        self.sock = sock
        self.buffer = b""

    def until(self, marker: bytes, limit: int) -> bytes:
        """Everything up to and including `marker`, refusing to buffer more than `limit` bytes."""
        while marker not in self.buffer:
            if len(self.buffer) > limit:
                raise _Abort("header section too large")
            data = _recv_some(self.sock)
            if not data:
                raise _Abort("client closed before the end of its request")
            self.buffer += data
        end = self.buffer.index(marker) + len(marker)
        if end > limit:
            raise _Abort("header section too large")
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        return head

    def exactly(self, count: int) -> bytes:
        """Exactly `count` bytes."""
        while len(self.buffer) < count:
            data = _recv_some(self.sock)
            if not data:
                raise _Abort("client closed before the end of its body")
            self.buffer += data
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data


def _read_chunked(reader: _Reader) -> bytes:
    """A `Transfer-Encoding: chunked` request body (requests sends one for generator bodies)."""
    body = b""
    while True:
        size_line = reader.until(b"\r\n", 1024)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _Abort("bad chunk size") from exc
        if size == 0:
            # Skip trailers up to the blank line that ends the message.
            while reader.until(b"\r\n", MAX_HEADER_BYTES) != b"\r\n":
                pass
            return body
        if len(body) + size > MAX_BODY_BYTES:
            raise _Abort("body too large")
        body += reader.exactly(size)
        reader.exactly(2)  # The CRLF closing each chunk.


def _read_request(sock: socket.socket) -> Request:
    """Read one full request (headers, then its body) so the client never hits EPIPE while sending."""
    reader = _Reader(sock)
    head = reader.until(b"\r\n\r\n", MAX_HEADER_BYTES).decode("latin-1")
    request_line, *header_lines = head[:-4].split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise _Abort(f"bad request line {request_line!r}")
    method, path, version = parts
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise _Abort(f"bad header line {line!r}")
        name, value = name.strip(), value.strip()
        # Repeated headers are joined as HTTP allows, so nothing the client sent is lost.
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if headers.get("Expect", "").lower() == "100-continue":
        _send(sock, b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        body = _read_chunked(reader)
    else:
        try:
            length = int(headers.get("Content-Length", "0"))
        except ValueError as exc:
            raise _Abort("bad Content-Length") from exc
        if not 0 <= length <= MAX_BODY_BYTES:
            raise _Abort("bad Content-Length")
        body = reader.exactly(length)
    return Request(method=method, path=path, headers=headers, body=body, version=version)


def _send(sock: socket.socket, data: bytes) -> None:
    """sendall, turning a client that went away (or a shutdown) into a quiet abort."""
    try:
        sock.sendall(data)
    except (OSError, ValueError) as exc:  # BrokenPipe, ConnectionReset, shutdown, closed...
        raise _Abort from exc


def _head(status: int, headers: dict[str, str], reason: str | None = None) -> bytes:
    """A status line and header section; `Connection: close` since we answer one request per connection."""
    if reason is None:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    merged: CaseInsensitiveDict[str] = CaseInsensitiveDict({"Connection": "close"})
    merged.update(headers)
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _respond(
    sock: socket.socket, status: int, headers: dict[str, str], body: bytes, reason: str | None = None
) -> None:
    """A complete response with a Content-Length (unless the caller set its own)."""
    merged: CaseInsensitiveDict[str] = CaseInsensitiveDict({"Content-Length": str(len(body))})
    merged.update(headers)
    _send(sock, _head(status, dict(merged), reason) + body)


# --- What each kind does once it has read the request ----------------------------------------------------


@dataclass
class _Context:
    """What a kind's behaviour needs: the connection, the stop event and the options."""

    sock: socket.socket
    stop: threading.Event
    options: dict[str, Any]
    request: Request | None = None


def _json_bytes(value: Any) -> bytes:
    """A body option as bytes: dicts/lists as JSON, text and bytes as given."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def _huge_chunks(size: int) -> Iterator[bytes]:
    """`size` bytes of a JSON token with an enormous access_token, produced lazily in chunks."""
    prefix, suffix = b'{"access_token": "', b'"}'
    if size < len(prefix) + len(suffix):
        yield b" " * size  # Too small for the JSON shape; the size is what the caller asked for.
        return
    # Fill uniform CHUNK-sized pieces (the prefix shares the first) so a client's first read is meaningful.
    remaining = size - len(prefix) - len(suffix)
    pending = prefix
    while remaining > 0:
        take = min(CHUNK - len(pending), remaining)
        pending += b"a" * take
        remaining -= take
        if len(pending) == CHUNK:
            yield pending
            pending = b""
    yield pending + suffix


def _do_hang(ctx: _Context) -> None:
    """Never answer; wake up only at shutdown."""
    ctx.stop.wait()


def _do_slow(ctx: _Context) -> None:
    """A valid token, but only after `delay` seconds (interruptible by shutdown)."""
    if not ctx.stop.wait(float(ctx.options.get("delay", 30))):
        _respond(ctx.sock, 200, {"Content-Type": "application/json"}, _json_bytes(TOKEN))


def _do_trickle(ctx: _Context) -> None:
    """Promise a megabyte, then send one byte every 0.2 s forever: no read timeout ever fires."""
    _send(ctx.sock, _head(200, {"Content-Type": "application/json", "Content-Length": "1000000"}))
    while not ctx.stop.wait(TRICKLE_INTERVAL):
        _send(ctx.sock, b" ")


def _do_huge(ctx: _Context) -> None:
    """An enormous JSON body with a Content-Length."""
    size = int(ctx.options.get("size", 20 * 1024 * 1024))
    _send(ctx.sock, _head(200, {"Content-Type": "application/json", "Content-Length": str(size)}))
    for chunk in _huge_chunks(size):
        if ctx.stop.is_set():
            return
        _send(ctx.sock, chunk)


def _do_huge_chunked(ctx: _Context) -> None:
    """An enormous JSON body with Transfer-Encoding: chunked, so no size is known up front."""
    size = int(ctx.options.get("size", 20 * 1024 * 1024))
    _send(ctx.sock, _head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    for chunk in _huge_chunks(size):
        if ctx.stop.is_set():
            return
        if chunk:
            _send(ctx.sock, b"%x\r\n%b\r\n" % (len(chunk), chunk))
    _send(ctx.sock, b"0\r\n\r\n")


def _do_trickle_headers(ctx: _Context) -> None:
    """A status line, then one header line every 0.2 s forever: no read timeout ever fires."""
    _send(ctx.sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    n = 0
    while not ctx.stop.wait(TRICKLE_INTERVAL):
        n += 1
        _send(ctx.sock, b"X-Slow-%d: %d\r\n" % (n, n))


def _do_many_headers(ctx: _Context) -> None:
    """More header lines than any HTTP client accepts."""
    headers = {"Content-Type": "application/json", **{f"X-Header-{i}": str(i) for i in range(150)}}
    _respond(ctx.sock, 200, headers, _json_bytes(TOKEN))


def _do_bad_gzip(ctx: _Context) -> None:
    """Claims gzip, sends bytes that are not."""
    _respond(
        ctx.sock, 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"not gzip at all"
    )


def _do_nested_json(ctx: _Context) -> None:
    """Valid JSON nested `depth` deep (by default deeper than any parser's recursion limit): arrays,
    or objects with "format" "object"; `status` 200 unless given."""
    depth = int(ctx.options.get("depth", 100_000))
    if ctx.options.get("format") == "object":
        body = b'{"error": ' + b'{"a": ' * depth + b"1" + b"}" * (depth + 1)
    else:
        body = b"[" * depth + b"]" * depth
    _respond(ctx.sock, int(ctx.options.get("status", 200)), {"Content-Type": "application/json"}, body)


def _do_html(ctx: _Context) -> None:
    """A login page where JSON was expected (what a misconfigured endpoint often returns)."""
    _respond(ctx.sock, 200, {"Content-Type": "text/html; charset=utf-8"}, HTML_PAGE)


def _do_invalid_json(ctx: _Context) -> None:
    """Claims JSON, sends a broken document."""
    _respond(ctx.sock, 200, {"Content-Type": "application/json"}, INVALID_JSON)


def _do_empty(ctx: _Context) -> None:
    """Claims JSON, sends nothing."""
    _respond(ctx.sock, 200, {"Content-Type": "application/json"}, b"")


def _do_reset(ctx: _Context) -> None:
    """Abort the connection with a TCP RST: SO_LINGER on with a zero timeout makes close() reset."""
    with contextlib.suppress(OSError):
        ctx.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _do_close(ctx: _Context) -> None:
    """Close cleanly without answering: the caller's normal close sends a FIN."""


def _do_redirect(ctx: _Context) -> None:
    """A redirect to somewhere a client must not blindly follow (cloud metadata by default)."""
    location = str(ctx.options.get("location", DEFAULT_LOCATION))
    _respond(ctx.sock, 302, {"Location": location}, b"")


def _do_status500(ctx: _Context) -> None:
    """A plain-text server error."""
    _respond(ctx.sock, 500, {"Content-Type": "text/plain"}, b"Internal error")


def _do_json(ctx: _Context) -> None:
    """A configurable answer: status, body (JSON for dicts/lists) and extra headers."""
    headers = {"Content-Type": "application/json", **dict(ctx.options.get("headers") or {})}
    body = _json_bytes(ctx.options.get("body", TOKEN))
    _respond(ctx.sock, int(ctx.options.get("status", 200)), headers, body)


def _do_echo(ctx: _Context) -> None:
    """Echo the request back, as httpbin's /anything does (format "json", the default), as an
    error page that prints what it got ("text"), or in the status line, Location and
    WWW-Authenticate ("headers": the Authorization value, else the body); `status` 401 unless given."""
    request = ctx.request
    assert request is not None
    status = int(ctx.options.get("status", 401))
    if ctx.options.get("format") == "headers":
        said = request.headers.get("Authorization") or request.body.decode("latin-1")
        headers = {
            "Content-Type": "text/plain",
            "Location": f"https://login.example/?sent={said}",
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="you sent {said}", '
            f'Basic realm="{said}"',
        }
        _respond(ctx.sock, status, headers, b"Rejected", reason=f"Rejected {said}")
        return
    if ctx.options.get("format", "json") == "text":
        lines = [f"{request.method} {request.path}", *(f"{k}: {v}" for k, v in request.headers.items())]
        page = "<html><body><h1>Bad request</h1><pre>" + "\n".join(lines) + "\n\n"
        page += request.body.decode("utf-8", "replace") + "</pre></body></html>"
        _respond(ctx.sock, status, {"Content-Type": "text/html"}, page.encode("utf-8"))
        return
    authorization = request.headers.get("Authorization", "")
    body = {
        "error": "invalid_client",
        "error_description": f"Rejected Authorization: {authorization}",
        "headers": dict(request.headers.items()),
        "data": request.body.decode("utf-8", "replace"),
    }
    _respond(ctx.sock, status, {"Content-Type": "application/json"}, _json_bytes(body))


def _do_token(ctx: _Context) -> None:
    """A valid token right away (the TLS kinds: the failure is in the certificate, not the answer)."""
    _respond(ctx.sock, 200, {"Content-Type": "application/json"}, _json_bytes(TOKEN))


_BEHAVIOURS: dict[str, Callable[[_Context], None]] = {
    "hang": _do_hang,
    "slow": _do_slow,
    "trickle": _do_trickle,
    "huge": _do_huge,
    "huge_chunked": _do_huge_chunked,
    "trickle_headers": _do_trickle_headers,
    "many_headers": _do_many_headers,
    "bad_gzip": _do_bad_gzip,
    "nested_json": _do_nested_json,
    "html": _do_html,
    "invalid_json": _do_invalid_json,
    "empty": _do_empty,
    "reset": _do_reset,
    "close": _do_close,
    "redirect": _do_redirect,
    "status500": _do_status500,
    "json": _do_json,
    "echo": _do_echo,
    "self_signed": _do_token,
    "expired": _do_token,
}
TLS_KINDS = frozenset({"self_signed", "expired"})
KINDS = frozenset({"refuse", *_BEHAVIOURS})


# --- Certificates ----------------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    """An X.509 name with just a CN."""
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_pem(path: Path, cert: x509.Certificate) -> str:
    """Write a certificate as PEM; returns the path as a string."""
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> str:
    """Write an unencrypted private key as PEM; returns the path as a string."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(path)


def _leaf(
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
    self_signed: bool,
) -> x509.Certificate:
    """A server certificate for localhost and 127.0.0.1.

    Extensions follow what strict X.509 checking (Python 3.13+'s default) requires, so the "good"
    path of a test fails only for the reason the test means. The self-signed one carries no KeyUsage:
    one without keyCertSign would stop OpenSSL from treating it as its own issuer.
    """
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if not self_signed:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _ca(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    """A self-signed CA, valid for the whole life of any test."""
    name = _name("Misbehaving Test CA")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=60))
        .not_valid_after(now + timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _make_tls(kind: str, directory: Path) -> tuple[ssl.SSLContext, str]:
    """A server TLS context for `kind` and the PEM path a client should trust.

    EC keys, because generating them is instant where RSA takes a noticeable fraction of a second.
    """
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    if kind == "self_signed":
        cert = _leaf(key, _name("localhost"), key, now - timedelta(hours=1), now + timedelta(days=1), True)
        trust = cert_path = _write_pem(directory / "cert.pem", cert)
    else:
        # Expired: signed by a CA the client may trust, so expiry is the only thing wrong.
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _ca(ca_key, now)
        cert = _leaf(key, ca.subject, ca_key, now - timedelta(days=30), now - timedelta(days=1), False)
        cert_path = _write_pem(directory / "cert.pem", cert)
        trust = _write_pem(directory / "ca.pem", ca)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, _write_key(directory / "key.pem", key))
    return context, trust


# --- The server ------------------------------------------------------------------------------------------


class _Server:
    """A listening socket, an accept thread and one thread per connection, all stoppable at once."""

    def __init__(self, kind: str, options: dict[str, Any], tls: ssl.SSLContext | None) -> None:
        """Bind (not yet serve) a server of `kind` on 127.0.0.1 with a free port."""
        self.behaviour = _BEHAVIOURS[kind]
        self.options = options
        self.tls = tls
        self.record = _Record()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # Open connection sockets (after TLS wrapping, the SSLSocket) and all worker threads.
        self.connections: set[socket.socket] = set()
        self.workers: list[threading.Thread] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(64)
            # A short accept timeout lets the loop notice the stop event without any wake-up trick.
            self.listener.settimeout(ACCEPT_POLL)
        except BaseException:
            self.listener.close()
            raise
        self.port: int = self.listener.getsockname()[1]
        self.acceptor = threading.Thread(target=self._accept_loop, name=f"faults-accept-{kind}", daemon=True)

    def start(self) -> None:
        """Start accepting connections."""
        self.acceptor.start()

    def _accept_loop(self) -> None:
        """Accept until stopped, handing each connection to its own thread."""
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # The listener is gone: nothing more to accept.
            with self.lock:
                if self.stop.is_set():
                    conn.close()
                    return
                self.connections.add(conn)
                worker = threading.Thread(target=self._serve, args=(conn,), name="faults-conn", daemon=True)
                self.workers.append(worker)
            worker.start()

    def _handshake(self, raw: socket.socket) -> socket.socket:
        """TLS-wrap a connection in its own thread, so a client that never handshakes blocks no one."""
        assert self.tls is not None
        with self.lock:
            # wrap_socket detaches `raw`: swap the tracked socket under the lock so shutdown sees the
            # live one, and refuse to start if shutdown already began.
            self.connections.discard(raw)
            if self.stop.is_set():
                raw.close()
                raise _Abort("stopping")
            conn = self.tls.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            self.connections.add(conn)
        conn.settimeout(HANDSHAKE_TIMEOUT)
        try:
            conn.do_handshake()
        except (OSError, ValueError) as exc:  # The client rejected our certificate, or went silent.
            self._forget(conn)
            raise _Abort from exc
        return conn

    def _forget(self, conn: socket.socket) -> None:
        """Stop tracking a connection and close it."""
        with self.lock:
            self.connections.discard(conn)
        conn.close()

    def _serve(self, conn: socket.socket) -> None:
        """One connection: read a full request, record it, then misbehave as the kind says."""
        try:
            if self.tls is not None:
                conn = self._handshake(conn)
            conn.settimeout(CONNECTION_TIMEOUT)
            request = _read_request(conn)
            with self.record.lock:
                self.record.requests.append(request)
            self.behaviour(_Context(conn, self.stop, self.options, request))
        except Exception:
            # _Abort or anything else: a worker must never raise into pytest's thread-exception hook
            # (it would become a warning, and warnings are errors in this test suite).
            pass
        finally:
            # Closing here (not in close()) keeps a socket from being closed under a thread using it.
            self._forget(conn)

    def close(self) -> None:
        """Stop accepting, cut every open connection, join all threads: never hangs the caller."""
        self.stop.set()
        self.acceptor.join(JOIN_TIMEOUT)
        self.listener.close()
        with self.lock:
            # shutdown() wakes any worker blocked in recv/send/handshake; the worker then closes it.
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(conn, socket.SHUT_RDWR)
            workers = list(self.workers)
        deadline = time.monotonic() + 3 * JOIN_TIMEOUT
        for worker in workers:
            worker.join(max(0.0, min(JOIN_TIMEOUT, deadline - time.monotonic())))
        with self.lock:
            # Any worker still stuck is a daemon thread; close its socket so nothing leaks.
            leftovers, self.connections = set(self.connections), set()
        for conn in leftovers:
            conn.close()


def _free_port() -> int:
    """A port nothing listens on: bind to port 0, note it, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def misbehaving_server(kind: str, **options: Any) -> Iterator[str]:
    """Yields the base URL, e.g. "http://127.0.0.1:54321" (https:// for TLS kinds).

    Any path on it behaves the same. `kind` is one of KINDS; options: delay ("slow"), size ("huge",
    "huge_chunked"), location ("redirect"), status/body/headers ("json").
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
    unknown = set(options) - OPTIONS
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)}; expected some of {sorted(OPTIONS)}")
    if kind == "refuse":
        url = f"http://127.0.0.1:{_free_port()}"
        record = _Record()
        with _records_lock:
            _records[url] = record
        try:
            yield url
        finally:
            record.running = False
        return
    with contextlib.ExitStack() as stack:
        tls = cert_path = None
        if kind in TLS_KINDS:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-tls-")))
            tls, cert_path = _make_tls(kind, directory)
        server = _Server(kind, dict(options), tls)
        stack.callback(server.close)
        server.record.cert_path = cert_path
        url = f"{'https' if tls else 'http'}://127.0.0.1:{server.port}"
        with _records_lock:
            # A later server reusing the port replaces the old record.
            _records[url] = server.record
        server.start()
        try:
            yield url
        finally:
            server.record.running = False


# --- Addresses where connecting hangs ----------------------------------------------------------------------


@contextlib.contextmanager
def black_holes(count: int = 1) -> Iterator[tuple[list[str], int]]:
    """Yields `count` loopback addresses (127.0.0.2, 127.0.0.3, ...) and one port where a connect hangs,
    as at a host whose firewall drops packets: no answer, no refusal, until the caller's timeout.

    Each address has a listener that never accepts, with a backlog of 0 already filled by a couple of
    connects of our own, so the kernel drops further SYNs (and the client resends them, unanswered).
    Nothing leaves the machine. Everything is closed on exit.
    """
    addresses = [f"127.0.0.{2 + i}" for i in range(count)]
    with contextlib.ExitStack() as stack:
        for _attempt in range(20):  # another process may hold the port on one of the addresses
            listeners: list[socket.socket] = []
            try:
                port = 0
                for address in addresses:
                    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    listeners.append(listener)
                    listener.bind((address, port))
                    listener.listen(0)
                    port = listener.getsockname()[1]
                break
            except OSError:
                for listener in listeners:
                    listener.close()
        else:
            raise OSError(f"no port free on all of {addresses}")
        for listener in listeners:
            stack.callback(listener.close)
        for address in addresses:
            for _ in range(2):  # the first fills the accept queue; the second waits in SYN-SENT
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                stack.callback(filler.close)
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect((address, port))
        time.sleep(0.05)  # let the first handshakes complete
        yield addresses, port
