"""The outbound policy: every request the playground makes goes through here.

What it decides: which URLs may be called, which CAs are trusted, how long to
wait, how much to read, and that redirects are shown, not followed.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urlsplit

import certifi
import requests
import urllib3
from requests.adapters import HTTPAdapter

from .exchange import Exchange, RecordedRequest, RecordedResponse

READ_CHUNK = 64 * 1024
#: The deadline of the request this thread is sending, for the connection's watchdog.
_deadline = threading.local()
#: Whether this thread's current attempt opened a new connection (else it reused a pooled one).
_fresh = threading.local()


#: Addresses no request may reach, whatever the settings: link-local (where cloud
#: metadata services live), the unspecified addresses, and known metadata IPs.
ALWAYS_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # IPv4 link-local, incl. 169.254.169.254 (AWS, GCP, Azure, OpenStack)
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS IMDS over IPv6
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "::/128",  # unspecified
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.192/32",  # Oracle Cloud metadata
        "224.0.0.0/4",  # multicast
        "ff00::/8",  # IPv6 multicast
        "255.255.255.255/32",  # broadcast
    )
]
#: Blocked only with PLAYGROUND_BLOCK_PRIVATE_NETWORKS=true: the machine itself and private networks.
PRIVATE = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",  # RFC 1918
        "172.16.0.0/12",  # RFC 1918
        "192.168.0.0/16",  # RFC 1918
        "127.0.0.0/8",  # loopback
        "::1/128",  # loopback
        "fc00::/7",  # unique local (RFC 4193)
        "100.64.0.0/10",  # shared address space (RFC 6598)
    )
]
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)


@dataclass(frozen=True)
class Policy:
    """Settings of the outbound policy (from PLAYGROUND_* configuration)."""

    timeout: float = 15.0
    max_response_bytes: int = 1024 * 1024
    ca_bundle: str | None = None
    #: host or host:port patterns (`*.example.com`, `localhost:9443`); empty = any.
    allowed_hosts: tuple[str, ...] = ()
    block_private_networks: bool = False
    allow_insecure_tls: bool = False
    #: A saved server's own CA bundle, trusted on top of ca_bundle for that server's requests.
    server_ca_bundle: str | None = None


class Blocked(Exception):
    """The policy forbids this target. Not an OSError, so no HTTP library retries or wraps it."""


class OutboundError(Exception):
    """A transport failure: no usable HTTP response. Carries what was attempted.

    `kind` is one of: invalid_url, blocked, refused, dns, timeout, tls, reset, network.
    """

    def __init__(self, kind: str, message: str, exchange: Exchange, detail: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exchange = exchange
        self.detail = detail


def check_url(url: str) -> str | None:
    """Why `url` may not be called, or None when it may (form of the URL only)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https"):
        return "Only http:// and https:// URLs can be called."
    if not parts.hostname:
        return "The URL has no host name."
    if parts.port == 0:
        return "The URL's port must be between 1 and 65535."
    if not _is_ip(parts.hostname):
        labels = parts.hostname.rstrip(".").split(".")
        # RFC 1035 §2.3.4: labels of 1 to 63 octets, names up to 253.
        if len(parts.hostname) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            return "The host name is not valid: it has an empty part (..) or a part over 63 characters."
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and histories; use the form's fields.
        return "The URL must not contain a user name or password (user:pass@host)."
    if any(c in url for c in "\r\n\t "):
        return "The URL must not contain spaces or line breaks."
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_matches(pattern: str, host: str, port: int) -> bool:
    """`host`, `host:port`, `*.domain`, `[v6]:port` patterns, case-insensitive."""
    pattern = pattern.strip().lower()
    want_port: int | None = None
    if pattern.startswith("["):
        addr, _, rest = pattern[1:].partition("]")
        pattern, want_port = addr, int(rest[1:]) if rest.startswith(":") else None
    elif pattern.count(":") == 1:
        pattern, _, p = pattern.partition(":")
        want_port = int(p) if p != "*" else None
    if want_port is not None and want_port != port:
        return False
    return fnmatch.fnmatchcase(host.lower().rstrip("."), pattern)


class Guard:
    """Decides, per target and per connected address, whether a request may go."""

    def __init__(self, policy: Policy, resolve: Callable[..., list] = socket.getaddrinfo):
        self.policy = policy
        self.resolve = resolve

    def check_target(self, url: str) -> None:
        """Host-level rules, before any connection: metadata names and the allow-list."""
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if host in METADATA_HOSTS:
            raise Blocked(f"{host} is a cloud metadata service, which the playground never calls.")
        allowed = self.policy.allowed_hosts
        if allowed and not any(_host_matches(p, host, port) for p in allowed):
            raise Blocked(f"{host}:{port} is not in PLAYGROUND_ALLOWED_HOSTS ({', '.join(allowed)}).")

    def check_address(self, address: str) -> None:
        """Address-level rules, on the address actually connected to."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
        for network in ALWAYS_BLOCKED:
            if ip.version == network.version and ip in network:
                raise Blocked(f"{ip} is a link-local, metadata or unspecified address ({network}).")
        if self.policy.block_private_networks:
            for network in PRIVATE:
                if ip.version == network.version and ip in network:
                    raise Blocked(
                        f"{ip} is a private or loopback address ({network}), blocked by "
                        "PLAYGROUND_BLOCK_PRIVATE_NETWORKS."
                    )

    def connect(self, address: tuple[str, int], timeout, source_address=None, socket_options=None):
        """Resolve, check every address, and connect to an allowed one: the check is
        on the address used, so a DNS answer that changes in between (rebinding)
        cannot slip past it."""
        host, port = address
        infos = self.resolve(host, port, 0, socket.SOCK_STREAM)
        blocked: Blocked | None = None
        error: OSError | None = None
        for family, socktype, proto, _name, sockaddr in infos:
            try:
                self.check_address(sockaddr[0])
            except Blocked as exc:
                blocked = exc
                continue
            sock = socket.socket(family, socktype, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        if error is not None:
            raise error
        if blocked is not None:
            raise blocked
        raise OSError(f"no address found for {host}")


def _guarded(connection_cls: type, guard: Guard) -> type:
    """A urllib3 connection class that connects through `guard`."""

    def _new_conn(self):
        _fresh.value = True
        try:
            sock = guard.connect(
                (self._dns_host, self.port), self.timeout, self.source_address, self.socket_options
            )
        except socket.gaierror as exc:
            raise urllib3.exceptions.NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise urllib3.exceptions.ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from exc
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(
                self, f"Failed to establish a new connection: {exc}"
            ) from exc
        return sock

    def getresponse(self, *args, **kwargs):
        # A per-read timeout does not bound a server that sends its headers a line
        # at a time; at the deadline, the watchdog cuts the connection.
        deadline = getattr(_deadline, "value", None)
        watchdog = None
        if deadline is not None:
            watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (self,))
            watchdog.daemon = True
            watchdog.start()
        try:
            return connection_cls.getresponse(self, *args, **kwargs)
        finally:
            if watchdog is not None:
                watchdog.cancel()

    return type(
        f"Guarded{connection_cls.__name__}",
        (connection_cls,),
        {"_new_conn": _new_conn, "getresponse": getresponse},
    )


def _cut(connection) -> None:
    """Shut the connection's socket down, so that a blocked read returns at once."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS
        except OSError:
            pass


class _QuietInsecureHTTPSPool(urllib3.HTTPSConnectionPool):
    """Skips urllib3's InsecureRequestWarning: the person opted in, and the page warns instead."""

    def _validate_conn(self, conn) -> None:
        urllib3.HTTPConnectionPool._validate_conn(self, conn)
        if conn.is_closed:
            conn.connect()


class _PolicyAdapter(HTTPAdapter):
    """Pools whose connections go through the guard, with our TLS context."""

    def __init__(self, guard: Guard, ssl_context: ssl.SSLContext, insecure: bool = False):
        self._guard = guard
        self._ssl_context = ssl_context
        self._insecure = insecure
        super().__init__(pool_connections=16, pool_maxsize=32, max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)
        https_pool = _QuietInsecureHTTPSPool if self._insecure else urllib3.HTTPSConnectionPool
        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "GuardedHTTPPool",
                (urllib3.HTTPConnectionPool,),
                {"ConnectionCls": _guarded(urllib3.connection.HTTPConnection, self._guard)},
            ),
            "https": type(
                "GuardedHTTPSPool",
                (https_pool,),
                {"ConnectionCls": _guarded(urllib3.connection.HTTPSConnection, self._guard)},
            ),
        }


def make_ssl_context(ca_bundle: str | None, context: ssl.SSLContext | None = None) -> ssl.SSLContext:
    """The system's CAs and certifi's (or `context`), plus a bundle; ValueError if it cannot be read."""
    if context is None:
        context = ssl.create_default_context()  # the operating system's trust store
        context.load_verify_locations(cafile=certifi.where())  # for systems without one
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot use CA bundle {ca_bundle!r}: {exc}") from exc
    return context


def _session(adapter: HTTPAdapter) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or CA settings from the environment
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keep no cookies
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Outbound:
    """Sends requests under a policy, each origin's connections pooled and reused.

    Safe to share between threads: no cookies are kept, requests' adapters and
    urllib3's pools are thread-safe, and nothing else changes after __init__.
    """

    def __init__(self, policy: Policy, resolve: Callable[..., list] = socket.getaddrinfo):
        self.policy = policy
        self.guard = Guard(policy, resolve)
        context = make_ssl_context(policy.ca_bundle)
        if policy.server_ca_bundle:
            context = make_ssl_context(policy.server_ca_bundle, context)
        self.session = _session(_PolicyAdapter(self.guard, context))
        self.insecure_session: requests.Session | None = None
        if policy.allow_insecure_tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self.insecure_session = _session(_PolicyAdapter(self.guard, context, insecure=True))

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: dict[str, str] | None,
        secrets: tuple[str, ...],
        insecure: bool = False,
    ) -> Exchange:
        """Send one request; return the exchange, or raise OutboundError.

        The whole exchange — connecting, the response's headers, its body — ends
        within the policy's timeout, however slowly the server sends.
        """
        insecure = insecure and self.insecure_session is not None
        session = self.insecure_session if insecure else self.session
        assert session is not None
        exchange = Exchange(
            request=RecordedRequest(method, url, list(headers.items()), urlencode(data or {})),
            secrets=secrets,
            ca_bundle=self.policy.server_ca_bundle or self.policy.ca_bundle,
            insecure=insecure,
        )
        problem = check_url(url)
        if problem:
            raise OutboundError("invalid_url", problem, exchange)
        bad = [k for k, v in headers.items() if not _valid_header_value(v)]
        if bad:
            raise OutboundError(
                "invalid_request",
                f"The {', '.join(bad)} header would contain characters HTTP does not allow "
                "(line breaks, or letters outside Latin-1).",
                exchange,
            )
        try:
            prepared = session.prepare_request(requests.Request(method, url, headers=headers, data=data))
        except (requests.exceptions.RequestException, ValueError, UnicodeError) as exc:
            raise OutboundError("invalid_url", "The URL is not valid.", exchange, str(exc)) from None
        exchange = replace(
            exchange,
            request=RecordedRequest(
                method, prepared.url or url, list(prepared.headers.items()), _body_text(prepared.body)
            ),
        )
        start = time.monotonic()
        deadline = start + self.policy.timeout
        _deadline.value = deadline  # read by the connection's watchdog (see _guarded)
        try:
            for attempt in (1, 2):
                _fresh.value = False  # set when this attempt opens a new connection
                phase = "headers"
                try:
                    self.guard.check_target(url)
                    response = session.send(
                        prepared,
                        timeout=(self.policy.timeout, self.policy.timeout),
                        stream=True,
                        allow_redirects=False,  # a 3xx is a result to show, not to follow
                        verify=not insecure,
                    )
                    phase = "body"
                    try:
                        body, truncated = _read_capped(response, self.policy.max_response_bytes, deadline)
                    finally:
                        response.close()
                    break
                except Blocked as exc:
                    raise OutboundError(
                        "blocked",
                        "The playground's outbound policy does not allow this target.",
                        exchange,
                        str(exc),
                    ) from None
                except Exception as exc:  # every transport failure becomes one of our kinds
                    error = _classify(exc, exchange, phase, self.policy.timeout)
                    if error.kind != "timeout" and time.monotonic() >= deadline - 0.05:  # the watchdog cut it
                        error = _classify(TimeoutError(error.detail), exchange, phase, self.policy.timeout)
                    # A pooled connection that the server closed while idle fails before any
                    # answer: send once more on a new connection, as browsers do.
                    stale = attempt == 1 and phase == "headers" and not _fresh.value
                    if stale and error.kind in ("reset", "tls", "network") and time.monotonic() < deadline:
                        continue
                    raise error from None
        finally:
            _deadline.value = None
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
        return replace(exchange, response=recorded_response, elapsed_ms=round(elapsed, 1))


def _valid_header_value(value: str) -> bool:
    """Latin-1 and no line breaks (RFC 9110 §5.5), as http.client will insist."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not any(c in value for c in "\r\n\0")


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
            raise TimeoutError("deadline passed while reading the body")
        sock = getattr(getattr(response.raw, "connection", None), "sock", None)
        if isinstance(sock, socket.socket):
            sock.settimeout(remaining)
        chunk = response.raw.read1(READ_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True


def _classify(exc: Exception, exchange: Exchange, phase: str, timeout: float) -> OutboundError:
    """Turn a transport exception into one of our kinds with a plain message.

    `phase` is "headers" until the status line and headers are in, then "body".
    """
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()

    def error(kind: str, message: str) -> OutboundError:
        return OutboundError(kind, message, exchange, text)

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return error("timeout", "Connecting to the server timed out.")
    if isinstance(exc, (requests.exceptions.ReadTimeout, TimeoutError, urllib3.exceptions.ReadTimeoutError)):
        if phase == "body":
            return error("timeout", f"The server started answering but did not finish within {timeout:g} s.")
        return error(
            "timeout", f"The server accepted the connection but did not answer within {timeout:g} s."
        )
    if isinstance(exc, (requests.exceptions.SSLError, ssl.SSLError)):
        return error("tls", "The TLS connection could not be set up.")
    if isinstance(exc, (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError)):
        return error("protocol", "The server's answer could not be decoded (its Content-Encoding is broken).")
    if (
        "got more than" in lowered
        or "linetoolong" in lowered
        or "line too long" in lowered
        or "header" in lowered
        and "pars" in lowered
    ):
        return error("protocol", "The server's answer is not valid HTTP (too many or too long header lines).")
    if isinstance(exc, (requests.exceptions.InvalidURL, urllib3.exceptions.LocationParseError, UnicodeError)):
        return error("invalid_url", "The URL is not valid.")
    if any(
        s in lowered
        for s in (
            "name or service not known",
            "nodename nor servname",
            "failed to resolve",
            "name resolution",
            "no address associated",
        )
    ):
        return error("dns", "The host name could not be resolved.")
    if "connection refused" in lowered:
        return error("refused", "The server refused the connection.")
    if any(
        s in lowered
        for s in (
            "reset by peer",
            "remote end closed",
            "aborted",
            "remotedisconnected",
            "badstatusline",
            "incompleteread",
            "broken pipe",
            "protocolerror",
        )
    ):
        return error("reset", "The server closed the connection without a valid HTTP answer.")
    return error("network", "The request could not be completed.")
