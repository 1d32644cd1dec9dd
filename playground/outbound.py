"""The outbound policy: every request the playground makes goes through here.

What it decides: which URLs may be called, which CAs are trusted, how long to
wait, how much to read, and that redirects are shown, not followed.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
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

#: The header section of an answer, all lines together: http.client's own limits (100 lines of
#: 64 KB) would let 6 MB through, and no OAuth answer needs more than a few hundred bytes.
MAX_HEADER_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024
#: The request this thread is sending, as the connection class sees it (see _guarded):
#: `deadline`, its `watchdog`, whether this attempt opened a new connection (`fresh`),
#: and how far it got (`step`: resolve, connect, tls, headers, body).
_local = threading.local()
#: Host name lookups running at once in worker threads. A resolver that never answers
#: keeps its slot until it does, so stuck lookups cannot pile up threads without bound.
_LOOKUP_SLOTS = threading.BoundedSemaphore(32)


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
#: IPv6 prefixes whose packets end up at an IPv4 address carried inside the IPv6 one.
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 §2.1, the well-known prefix
#: RFC 8215 local use. Its networks may also embed after a /48, /56 or /64 (RFC 6052 §2.2), but
#: decoding every layout would block the whole range: the usual /96 layout is checked.
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 §2.5.5.1 (deprecated, still routed by some)
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 §2.1 (SIIT)
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


@dataclass(frozen=True)
class Target:
    """Where a URL sends a request: scheme, host (lower-case, IPv6 without brackets) and port."""

    scheme: str
    host: str
    port: int


class BadURL(ValueError):
    """A URL the playground will not send to; the message says why, for the person."""


#: RFC 3986 §3.2.2 reg-name, narrowed to what no parser reads two ways: ASCII letters,
#: digits, '-', '.', '_'. A host with anything else (a backslash, '%', full-width digits or
#: dots, other Unicode) is refused rather than guessed at: urllib.parse, urllib3 and browsers
#: each read such hosts differently (WHATWG turns '\\' into '/', urllib3 ends the host there
#: and decodes '%31' to '1', IDNA maps '．' to '.').
_HOST_SYNTAX = re.compile(r"[A-Za-z0-9._-]+")
#: WHATWG URL §3.5: a host whose last label is a number is an IPv4 address. Short and
#: octal or hex forms (127.1, 0x7f.1, 017.0.0.1, 2130706433) connect to an address that
#: the text does not show, so only the four-decimal form is taken.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.I)


def parse_target(url: str) -> Target:
    """The request target of `url`, as urllib3 (which requests connects with) reads it.

    BadURL when the URL is not one the playground sends to: not http(s), credentials in
    it, a host outside the syntax above, or parsers that disagree on its host or port.
    """
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise BadURL("The URL must not contain spaces, tabs, line breaks or control characters.")
    if "\\" in url:
        # WHATWG URL §4.4: in http(s) URLs a backslash is read as '/'; urllib3 ends the host there.
        raise BadURL("The URL must not contain a backslash (\\): write / (or %5C in a path).")
    try:
        parts = urlsplit(url)
        split_port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise BadURL("The URL is not valid.") from None
    if parts.scheme not in ("http", "https"):
        raise BadURL("Only http:// and https:// URLs can be called.")
    if "@" in parts.netloc:
        # Credentials in a URL end up in logs and histories; use the form's fields.
        raise BadURL("The URL must not contain a user name or password (user:pass@host).")
    if not parts.hostname:
        raise BadURL("The URL has no host name.")
    bracketed = parts.netloc.startswith("[")
    if bracketed:
        try:
            ipaddress.IPv6Address(parts.hostname)
        except ValueError:
            raise BadURL("The address in brackets is not an IPv6 address.") from None
        if "%" in parts.hostname:  # RFC 6874 zone IDs name a local interface, not an address to call
            raise BadURL("The address in brackets is not an IPv6 address to call: it names a zone (%).")
    elif not _HOST_SYNTAX.fullmatch(parts.hostname):
        raise BadURL(
            f"The host name {parts.hostname!r} may hold only letters, digits, '-', '.' and '_' "
            "(or be an IPv6 address in brackets); write an international name in its xn-- form."
        )
    try:
        sent = urllib3.util.parse_url(url)
    except (urllib3.exceptions.LocationParseError, ValueError, UnicodeError):
        raise BadURL("The URL is not valid.") from None
    host = (sent.host or "").lower()
    if bracketed:
        host = host.removeprefix("[").removesuffix("]")
    if sent.scheme != parts.scheme or host != parts.hostname or sent.port != split_port:
        raise BadURL("The URL reads differently to different URL parsers: write its host and port plainly.")
    if split_port == 0:
        raise BadURL("The URL's port must be between 1 and 65535.")
    if not bracketed:
        # RFC 1034 §3.1: one trailing dot makes a name absolute; `name..` has an empty label.
        labels = host.removesuffix(".").split(".")
        # RFC 1035 §2.3.4: labels of 1 to 63 octets, names up to 253.
        if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            raise BadURL(
                "The host name is not valid: it has an empty part (..) or a part over 63 characters."
            )
        if _NUMERIC_LABEL.fullmatch(labels[-1]) and not _canonical_ipv4(host.removesuffix(".")):
            raise BadURL(
                f"{host} would be read as an IPv4 address: write it as four decimal numbers, e.g. 127.0.0.1."
            )
    return Target(parts.scheme, host, split_port or (443 if parts.scheme == "https" else 80))


def _canonical_ipv4(host: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False


def check_url(url: str) -> str | None:
    """Why `url` may not be called, or None when it may (form of the URL only)."""
    try:
        parse_target(url)
    except BadURL as exc:
        return str(exc)
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


#: A host name pattern: labels of letters, digits, `-` and `_`, with fnmatch's `*` and `?`.
_HOST_PATTERN = re.compile(r"[\w*?-]+(\.[\w*?-]+)*")


def parse_allowed_hosts(value: str) -> tuple[str, ...]:
    """PLAYGROUND_ALLOWED_HOSTS as patterns, separated by commas or whitespace.

    Each is `host`, `host:port`, `*.domain` or `[v6]:port` (port `*` = any); they come
    back lower-cased, without a trailing dot. ValueError names an entry that is none of these.
    """
    return tuple(_parse_host_pattern(entry) for entry in re.split(r"[,\s]+", value) if entry)


def _parse_host_pattern(entry: str) -> str:
    """One allow-list entry, normalised; ValueError saying what is wrong with it."""

    def bad(why: str) -> ValueError:
        return ValueError(
            f"{entry!r} is not a host pattern: {why}. Expected host, host:port, *.domain or [v6]:port."
        )

    text = entry.lower()
    if "/" in text or "@" in text:
        raise bad("give the host (and port) only, not a URL")
    port: str | None = None
    if text.startswith("["):
        address, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise bad("an IPv6 address goes in brackets, optionally followed by :port")
        port = rest[1:] if rest else None
        host = _ipv6_pattern(address, bad)
    elif text.count(":") > 1:  # an IPv6 address written without brackets
        host = _ipv6_pattern(text, bad)
    else:
        host, colon, after = text.partition(":")
        port = after if colon else None
        host = host.rstrip(".")  # RFC 1034 §3.1: `name.` is the same name, written absolute
        if not host:
            raise bad("the host is empty")
        if not _HOST_PATTERN.fullmatch(host):
            raise bad("a host has only letters, digits, '-', '.' and the wildcard '*'")
    if port is not None and port != "*" and not (re.fullmatch("[0-9]{1,5}", port) and 0 < int(port) < 65536):
        raise bad("the port must be a number from 1 to 65535, or *")
    return host + (f":{port}" if port is not None else "")


def _ipv6_pattern(text: str, bad: Callable[[str], ValueError]) -> str:
    """An IPv6 address of an allow-list entry, in brackets and in its canonical form."""
    try:
        return f"[{ipaddress.IPv6Address(text)}]"
    except ValueError:
        raise bad(f"{text} is not an IPv6 address (write one as [::1] or [::1]:9443)") from None


def _host_matches(pattern: str, host: str, port: int) -> bool:
    """`host`, `host:port`, `*.domain`, `[v6]:port` patterns, case-insensitive.

    Never raises: a malformed pattern (see parse_allowed_hosts) matches nothing.
    """
    pattern = pattern.strip().lower()
    want_port = "*"
    if pattern.startswith("["):
        pattern, _, rest = pattern[1:].partition("]")
        want_port = rest[1:] if rest.startswith(":") else "*"
    elif pattern.count(":") == 1:
        pattern, _, want_port = pattern.partition(":")
    if want_port != "*" and want_port != str(port):
        return False
    host, pattern = host.lower().rstrip("."), pattern.rstrip(".")  # `name.` is `name` (RFC 1034 §3.1)
    if _is_ip(host) and _is_ip(pattern):  # ::1 and 0:0::1 are one address
        return ipaddress.ip_address(host) == ipaddress.ip_address(pattern)
    return fnmatch.fnmatchcase(host, pattern)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: where packets to it may end up."""
    found = []
    if ip.ipv4_mapped:  # ::ffff:a.b.c.d, RFC 4291 §2.5.5.2
        found.append(ip.ipv4_mapped)
    if ip.sixtofour:  # 2002:AABB:CCDD::/48 relays to a.b.c.d, RFC 3056 §2
        found.append(ip.sixtofour)
    if ip.teredo:  # the client's address (de-obfuscated), where the relay sends: RFC 4380 §4
        found.append(ip.teredo[1])
    last32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # but not :: or ::1
        found.append(last32)
    if any(ip in network for network in (NAT64, NAT64_LOCAL, IPV4_TRANSLATED)):
        found.append(last32)
    return found


class Guard:
    """Decides, per target and per connected address, whether a request may go."""

    def __init__(self, policy: Policy, resolve: Callable[..., list] = socket.getaddrinfo):
        self.policy = policy
        self.resolve = resolve

    def check_target(self, url: str) -> None:
        """Host-level rules, before any connection: the URL's syntax, metadata names and the
        allow-list, on the host and port urllib3 will connect to."""
        try:
            target = parse_target(url)
        except BadURL as exc:
            raise Blocked(str(exc)) from None
        self.check_host(target.host, target.port)

    def check_host(self, host: str, port: int) -> None:
        """Metadata names and the allow-list for a host (IPv6 with or without brackets) and port."""
        host = host.removeprefix("[").removesuffix("]").rstrip(".").lower()
        if host in METADATA_HOSTS:
            raise Blocked(f"{host} is a cloud metadata service, which the playground never calls.")
        allowed = self.policy.allowed_hosts
        if allowed and not any(_host_matches(p, host, port) for p in allowed):
            raise Blocked(f"{host}:{port} is not in PLAYGROUND_ALLOWED_HOSTS ({', '.join(allowed)}).")

    def check_address(self, address: str) -> None:
        """Address-level rules, on the address actually connected to, and on any IPv4
        address inside it (::ffff:169.254.169.254 and 64:ff9b::a9fe:a9fe reach 169.254.169.254)."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else []
        for candidate in [ip, *inner]:
            named = str(candidate) if candidate is ip else f"{candidate} (inside {ip})"
            for network in ALWAYS_BLOCKED:
                if candidate.version == network.version and candidate in network:
                    raise Blocked(f"{named} is a link-local, metadata or unspecified address ({network}).")
            if self.policy.block_private_networks:
                for network in PRIVATE:
                    if candidate.version == network.version and candidate in network:
                        raise Blocked(
                            f"{named} is a private or loopback address ({network}), blocked by "
                            "PLAYGROUND_BLOCK_PRIVATE_NETWORKS."
                        )

    def lookup(self, host: str, port: int, deadline: float | None) -> list:
        """The resolver's answer, or TimeoutError at the deadline.

        getaddrinfo takes no timeout, so a lookup runs in a worker thread that is
        abandoned (it ends when the resolver gives up) if it has not answered in time.
        """
        if deadline is None or (_is_ip(host) and self.resolve is socket.getaddrinfo):
            return self.resolve(host, port, 0, socket.SOCK_STREAM)  # a literal needs no lookup
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not _LOOKUP_SLOTS.acquire(timeout=remaining):
            raise TimeoutError(f"resolving {host} timed out (no free lookup slot)")
        answer: dict[str, object] = {}
        done = threading.Event()

        def run() -> None:
            try:
                answer["infos"] = self.resolve(host, port, 0, socket.SOCK_STREAM)
            except BaseException as exc:  # handed to the waiting thread
                answer["error"] = exc
            finally:
                _LOOKUP_SLOTS.release()
                done.set()

        try:
            threading.Thread(target=run, name="outbound-lookup", daemon=True).start()
        except BaseException:
            _LOOKUP_SLOTS.release()
            raise
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"resolving {host} timed out")
        if "error" in answer:
            raise answer["error"]  # type: ignore[misc]
        return answer["infos"]  # type: ignore[return-value]

    def open(self, host: str, infos: list, deadline: float | None, source_address=None, socket_options=None):
        """Connect to the first allowed address that answers; each try gets what is left
        until the deadline, and none starts after it. Every address is checked here, the
        one actually connected to, so a DNS answer that changes in between (rebinding)
        cannot slip past the check."""
        blocked: Blocked | None = None
        error: OSError | None = None
        for family, socktype, proto, _name, sockaddr in infos:
            try:
                self.check_address(sockaddr[0])
            except Blocked as exc:
                blocked = exc
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                error = error if isinstance(error, TimeoutError) else TimeoutError(f"connecting to {host}")
                break
            sock = socket.socket(family, socktype, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if remaining is not None:
                    sock.settimeout(remaining)
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
    """A urllib3 connection class that connects through `guard`, within the deadline of
    the request being sent (lookup, connect, TLS handshake), watched until it is back in the pool."""
    tls = issubclass(connection_cls, urllib3.connection.HTTPSConnection)

    def _new_conn(self):
        """A socket connected through the guard, with what is left of the deadline."""
        _local.fresh = True
        deadline = getattr(_local, "deadline", None)
        if deadline is None and isinstance(self.timeout, int | float):
            deadline = time.monotonic() + self.timeout
        # The last word on the target: the very host and port this connection resolves, whatever
        # parsed the URL before (see parse_target). Blocked propagates as it is (see send).
        guard.check_host(self._dns_host, self.port)
        try:
            _local.step = "resolve"
            infos = guard.lookup(self._dns_host, self.port, deadline)
            _local.step = "connect"
            sock = guard.open(self._dns_host, infos, deadline, self.source_address, self.socket_options)
        except socket.gaierror as exc:
            raise urllib3.exceptions.NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise urllib3.exceptions.ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. ({exc})"
            ) from exc
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(
                self, f"Failed to establish a new connection: {exc}"
            ) from exc
        if deadline is not None:
            # The TLS handshake gets what is left, not a timeout of its own (the ssl
            # module holds it to that in total, however the server trickles).
            sock.settimeout(max(0.001, deadline - time.monotonic()))
        _local.step = "tls" if tls else "headers"
        return sock

    def connect(self):
        """Connect (and for HTTPS, handshake); from here on the watchdog bounds the exchange."""
        connection_cls.connect(self)
        _local.step = "headers"
        _watch(self)

    def request(self, *args, **kwargs):
        """Send the request; a pooled connection is watched from here on."""
        if self.sock is not None:  # a pooled connection; a new one is watched once connected
            _watch(self)
        return connection_cls.request(self, *args, **kwargs)

    return type(
        f"Guarded{connection_cls.__name__}",
        (connection_cls,),
        {"_new_conn": _new_conn, "connect": connect, "request": request},
    )


def _watch(connection) -> None:
    """Have this thread's request's watchdog cut `connection` at the deadline."""
    watchdog = getattr(_local, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(connection)


class _Watchdog:
    """At the deadline, shuts the watched connection's socket down, so a blocked read returns.

    A per-read timeout does not bound a server that sends its headers a line at a time.
    A connection is watched only while this request uses it, and unwatched (under the
    lock) before it goes back to the pool, so a late cut never hits another request.
    """

    def __init__(self, deadline: float):
        self._lock = threading.Lock()
        self._connection: object | None = None
        self._sock: socket.socket | None = None
        self._expired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, connection) -> None:
        """Cut this connection at the deadline (at once if it has passed)."""
        with self._lock:
            # Its socket now, not `connection.sock` at the deadline: by then the connection
            # may have been closed and reconnected for someone else's request.
            self._connection, self._sock = connection, connection.sock
            if self._expired:
                _shut(self._sock)

    def unwatch(self, connection) -> None:
        """The connection is going back to the pool: leave it alone from now on."""
        with self._lock:
            if connection is self._connection:
                self._connection = self._sock = None

    def stop(self) -> None:
        """The request is over; after this returns, nothing is cut."""
        self._timer.cancel()
        with self._lock:
            self._connection = self._sock = None

    def _expire(self) -> None:
        """The deadline: cut what is watched now, and anything watched from now on."""
        with self._lock:
            self._expired = True
            _shut(self._sock)


def _shut(sock: socket.socket | None) -> None:
    """Shut a socket down for both directions; a blocked read on it returns at once."""
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS
        except OSError:
            pass


class _UnwatchedInPool:
    """A pool that unwatches a connection before taking it back (see _Watchdog)."""

    def _put_conn(self, conn) -> None:
        watchdog = getattr(_local, "watchdog", None)
        if watchdog is not None and conn is not None:
            watchdog.unwatch(conn)
        super()._put_conn(conn)  # type: ignore[misc]


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
                (_UnwatchedInPool, urllib3.HTTPConnectionPool),
                {"ConnectionCls": _guarded(urllib3.connection.HTTPConnection, self._guard)},
            ),
            "https": type(
                "GuardedHTTPSPool",
                (_UnwatchedInPool, https_pool),
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
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request; return the exchange, or raise OutboundError.

        The whole exchange — resolving the host, connecting, the TLS handshake, the
        response's headers, its body — ends within the policy's timeout (or `timeout`,
        when shorter: what is left of a step made of several requests), however slowly
        the resolver answers or the server sends.
        """
        limit = self.policy.timeout if timeout is None else min(timeout, self.policy.timeout)
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
        # The checks below and the connection see the URL exactly as it will be sent.
        sent_url = prepared.url or url
        if check_url(sent_url) or parse_target(sent_url) != parse_target(url):
            raise OutboundError(
                "invalid_url", "The URL changes when it is prepared for sending: write it plainly.", exchange
            )
        exchange = replace(
            exchange,
            request=RecordedRequest(
                method, prepared.url or url, list(prepared.headers.items()), _body_text(prepared.body)
            ),
        )
        start = time.monotonic()
        deadline = start + limit
        watchdog = _Watchdog(deadline)
        _local.deadline, _local.watchdog = deadline, watchdog  # for the connection (see _guarded)
        try:
            for attempt in (1, 2):
                _local.fresh = False  # set when this attempt opens a new connection
                _local.step = "headers"  # moved back to resolve, connect, tls if it does
                try:
                    self.guard.check_target(sent_url)
                    remaining = max(0.001, deadline - time.monotonic())
                    response = session.send(
                        prepared,
                        timeout=(remaining, remaining),
                        stream=True,
                        allow_redirects=False,  # a 3xx is a result to show, not to follow
                        verify=not insecure,
                    )
                    _local.step = "body"
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
                    step = _local.step
                    error = _classify(exc, exchange, step, limit)
                    if error.kind != "timeout" and time.monotonic() >= deadline - 0.05:  # the watchdog cut it
                        error = _classify(TimeoutError(error.detail), exchange, step, limit)
                    # A pooled connection that the server closed while idle fails before any
                    # answer: send once more on a new connection, as browsers do.
                    stale = attempt == 1 and step == "headers" and not _local.fresh
                    if stale and error.kind in ("reset", "tls", "network") and time.monotonic() < deadline:
                        continue
                    raise error from None
        finally:
            watchdog.stop()
            _local.deadline = _local.watchdog = None
        elapsed = (time.monotonic() - start) * 1000
        raw_headers = response.raw.headers
        header_items = (
            list(raw_headers.items()) if raw_headers is not None else list(response.headers.items())
        )
        header_bytes = sum(len(k) + len(v) + 4 for k, v in header_items)  # `name: value` CRLF
        if header_bytes > MAX_HEADER_BYTES:
            raise OutboundError(
                "protocol",
                f"The server's answer has {header_bytes:,} bytes of headers, more than the "
                f"{MAX_HEADER_BYTES // 1024} KB the playground reads.",
                exchange,
            )
        recorded_response = RecordedResponse(
            status=response.status_code,
            reason=response.reason or "",
            headers=header_items,
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


#: What a timeout means, by the step the request had reached (see send).
TIMEOUT_MESSAGES = {
    "resolve": "Resolving the host name timed out: no answer within {timeout:g} s.",
    "connect": "Connecting to the server timed out: no connection within {timeout:g} s.",
    "tls": "The server accepted the connection but the TLS handshake did not finish within {timeout:g} s.",
    "headers": "The server accepted the connection but did not answer within {timeout:g} s.",
    "body": "The server started answering but did not finish within {timeout:g} s.",
}


def _classify(exc: Exception, exchange: Exchange, step: str, timeout: float) -> OutboundError:
    """Turn a transport exception into one of our kinds with a plain message.

    `step` is how far the request got: resolve, connect, tls, headers (until the
    status line and headers are in), body.
    """
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()

    def error(kind: str, message: str) -> OutboundError:
        return OutboundError(kind, message, exchange, text)

    if isinstance(exc, (requests.exceptions.Timeout, TimeoutError, urllib3.exceptions.TimeoutError)):
        return error(
            "timeout", TIMEOUT_MESSAGES.get(step, TIMEOUT_MESSAGES["headers"]).format(timeout=timeout)
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
