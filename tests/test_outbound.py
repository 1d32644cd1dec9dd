"""The outbound policy: which targets may be called, on the address actually connected to."""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import ipaddress
import json
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from playground import create_app, wsgi
from playground import outbound as outbound_module
from playground.outbound import Blocked, Guard, Outbound, OutboundError, Policy, parse_allowed_hosts

from .conftest import playground_config
from .faults import black_holes, misbehaving_server, requests_seen, tls_cert_path
from .test_playground import FORM, TOKENINFO, access_token_of, introspection_form, text, token_form

ALWAYS_BLOCKED = [
    "169.254.169.254",  # AWS/GCP/Azure metadata
    "169.254.0.1",
    "fe80::1",
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "0.0.0.0",
    "::",
    "::ffff:169.254.169.254",  # IPv4-mapped
    "100.100.100.200",  # Alibaba metadata
    "224.0.0.1",
    # IPv6 forms that carry 169.254.169.254 (or 0.0.0.0) to where packets end up:
    "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix (RFC 6052)
    "64:ff9b:1::a9fe:a9fe",  # NAT64 local-use prefix (RFC 8215)
    "64:ff9b::",  # NAT64 of 0.0.0.0
    "2002:a9fe:a9fe::1",  # 6to4 (RFC 3056)
    "::169.254.169.254",  # IPv4-compatible (::/96)
    "::ffff:0:a9fe:a9fe",  # IPv4-translated (RFC 2765)
    "2001:0:4136:e378:8000:ffff:5601:5601",  # Teredo, client 169.254.169.254 (RFC 4380)
]
PRIVATE = [
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "127.0.0.1",
    "127.9.9.9",
    "::1",
    "fd12::1",
    "100.64.0.1",
    "::ffff:10.1.2.3",
    "64:ff9b::a01:203",  # NAT64 of 10.1.2.3
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "::127.0.0.1",  # IPv4-compatible
    "2001:0:4136:e378:8000:ffff:f5fe:fdfc",  # Teredo, client 10.1.2.3
]
PUBLIC = [
    "93.184.216.34",
    "2606:2800:220:1::1",
    "172.32.0.1",
    "11.0.0.1",
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
]


@pytest.mark.parametrize("address", ALWAYS_BLOCKED)
def test_always_blocked_addresses(address):
    with pytest.raises(Blocked):
        Guard(Policy()).check_address(address)
    with pytest.raises(Blocked):
        Guard(Policy(allowed_hosts=("*",))).check_address(address)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses_blocked_only_when_asked(address):
    Guard(Policy()).check_address(address)  # the default keeps localhost:9443 reachable
    with pytest.raises(Blocked, match="PLAYGROUND_BLOCK_PRIVATE_NETWORKS"):
        Guard(Policy(block_private_networks=True)).check_address(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    Guard(Policy(block_private_networks=True)).check_address(address)


@pytest.mark.parametrize(
    "patterns, url, allowed",
    [
        (("localhost:9443",), "https://localhost:9443/oauth2/token", True),
        (("localhost:9443",), "https://LOCALHOST:9443/x", True),
        (("localhost:9443",), "https://localhost:9444/x", False),
        (("localhost",), "https://localhost:1234/x", True),
        (("*.example.com",), "https://idp.example.com/token", True),
        (("*.example.com",), "https://example.com/token", False),
        (("*.example.com",), "https://evil-example.com/token", False),
        (("idp.example.com:443",), "https://idp.example.com/token", True),
        (("idp.example.com:443",), "http://idp.example.com/token", False),
        (("[::1]:9443",), "https://[::1]:9443/t", True),
        (("a.test", "b.test:8443"), "https://b.test:8443/t", True),
        (("a.test", "b.test:8443"), "https://c.test/t", False),
        (("idp.example.com.",), "https://idp.example.com/token", True),  # RFC 1034 §3.1: the same name
        (("IDP.example.com.:443",), "https://idp.example.com./token", True),
        (("[0:0::1]:9443",), "https://[::1]:9443/t", True),  # one address, two spellings
        (("localhost:abc",), "https://localhost/t", False),  # malformed: matches nothing, raises nothing
        (("[::1]:x",), "https://[::1]/t", False),
    ],
)
def test_allow_list_matching(patterns, url, allowed):
    guard = Guard(Policy(allowed_hosts=patterns))
    if allowed:
        guard.check_target(url)
    else:
        with pytest.raises(Blocked, match="PLAYGROUND_ALLOWED_HOSTS"):
            guard.check_target(url)


@pytest.mark.parametrize(
    "value, patterns",
    [
        ("localhost:9443", ("localhost:9443",)),
        ("a.test, b.test:8443  *.example.com\n", ("a.test", "b.test:8443", "*.example.com")),
        ("IDP.Example.COM.", ("idp.example.com",)),
        ("idp.example.com.:443", ("idp.example.com:443",)),
        ("[::1]:9443,[0:0::1]", ("[::1]:9443", "[::1]")),
        ("::1", ("[::1]",)),
        ("localhost:*, *", ("localhost:*", "*")),
        ("", ()),
        (" , ,", ()),
    ],
)
def test_parse_allowed_hosts(value, patterns):
    assert parse_allowed_hosts(value) == patterns


@pytest.mark.parametrize(
    "value, bad",
    [
        ("https://idp.example.com", "https://idp.example.com"),  # a pasted URL
        ("a.test idp.example.com/oauth2/token", "idp.example.com/oauth2/token"),
        ("localhost:abc", "localhost:abc"),
        ("localhost:0", "localhost:0"),
        ("localhost:65536", "localhost:65536"),
        ("localhost:4²3", "localhost:4²3"),  # str.isdigit() takes "²", int() does not
        (":443", ":443"),
        ("a.test,.", "."),
        ("a..b", "a..b"),
        ("user@idp.example.com", "user@idp.example.com"),
        ("[::1", "[::1"),
        ("[::1]9443", "[::1]9443"),
        ("[idp.example.com]:443", "[idp.example.com]:443"),
        ("fe80::zz", "fe80::zz"),
    ],
)
def test_parse_allowed_hosts_names_the_bad_entry(value, bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad)) + " is not a host pattern"):
        parse_allowed_hosts(value)


@pytest.mark.parametrize(
    "host", ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "instance-data", "metadata"]
)
def test_metadata_host_names_are_blocked_before_any_lookup(host):
    looked_up = []
    guard = Guard(Policy(), resolve=lambda *a: looked_up.append(a) or [])
    with pytest.raises(Blocked, match="metadata"):
        guard.check_target(f"http://{host}/computeMetadata/v1/")
    assert looked_up == []


def fake_dns(answers: dict[str, list[str]], calls: list | None = None):
    """A resolver that answers from a table (as a hostile DNS server could), else the real one."""

    def resolve(host, port, family=0, type=0, proto=0, flags=0):
        if calls is not None:
            calls.append(host)
        if host in answers:
            infos = []
            for address in answers[host]:
                fam = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if fam == socket.AF_INET6 else (address, port)
                infos.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
            return infos
        return socket.getaddrinfo(host, port, family, type, proto, flags)

    return resolve


def playground(authserver=None, **config):
    base = playground_config(authserver) if authserver else {"TESTING": True}
    return create_app({**base, "WTF_CSRF_ENABLED": False, **config}).test_client()


def test_dns_name_resolving_to_metadata_is_blocked(authserver):
    client = playground(authserver, RESOLVER=fake_dns({"rebind.test": ["169.254.169.254"]}))
    body = text(client.post(FORM, data=token_form("http://rebind.test/latest/meta-data/")))
    assert "outbound policy does not allow this target" in body
    assert "169.254.169.254 is a link-local, metadata or unspecified address" in body


@pytest.fixture
def loopback_only(monkeypatch):
    """Any connect beyond loopback fails the test instead of sending a packet (should the policy
    ever let one through)."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if not ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback:
            raise PermissionError(f"the test refuses to connect to {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::169.254.169.254", "2001:0:4136:e378:8000:ffff:5601:5601"],
)
def test_dns_answer_embedding_a_metadata_address_is_blocked(loopback_only, address):
    client = playground(RESOLVER=fake_dns({"embedded.test": [address]}))
    body = text(client.post(FORM, data=token_form("http://embedded.test/latest/meta-data/")))
    assert "outbound policy does not allow this target" in body
    inside = ipaddress.ip_address(address)
    assert f"169.254.169.254 (inside {inside}) is a link-local, metadata or unspecified address" in body


def test_dns_answer_embedding_a_private_address_is_blocked_when_asked(loopback_only):
    client = playground(BLOCK_PRIVATE_NETWORKS=True, RESOLVER=fake_dns({"nat64.test": ["64:ff9b::a00:7"]}))
    body = text(client.post(FORM, data=token_form("http://nat64.test/token")))
    assert "10.0.0.7 (inside 64:ff9b::a00:7) is a private or loopback address" in body


def test_dns_rebinding_mixed_answers_connect_only_to_the_allowed_address():
    with misbehaving_server("json") as url:
        port = int(url.rsplit(":", 1)[1])
        client = playground(RESOLVER=fake_dns({"mixed.test": ["169.254.169.254", "127.0.0.1"]}))
        response = client.post(FORM, data=token_form(f"http://mixed.test:{port}/token"))
        (seen,) = requests_seen(url)
    assert "Access token received" in text(response)
    assert seen.headers["Host"] == f"mixed.test:{port}"


def test_dns_name_resolving_to_private_address_blocked_when_asked(authserver):
    port = authserver.url.rsplit(":", 1)[1]
    client = playground(
        authserver,
        BLOCK_PRIVATE_NETWORKS="true",
        RESOLVER=fake_dns({"intranet.test": ["10.0.0.7", "127.0.0.1"]}),
    )
    body = text(client.post(FORM, data=token_form(f"http://intranet.test:{port}/oauth2/token")))
    assert "PLAYGROUND_BLOCK_PRIVATE_NETWORKS" in body


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_blocked_targets_through_the_page(authserver, loopback_only, url):
    client = playground(authserver)
    started = time.monotonic()
    response = client.post(FORM, data=token_form(url))
    assert time.monotonic() - started < 2  # refused at once, no connection attempt that could hang
    assert response.status_code == 200
    body = text(response)
    assert "Token request failed" in body and "outbound policy does not allow this target" in body
    assert "PLAYGROUND_ALLOWED_HOSTS" in body


def test_zero_address_is_blocked_even_with_a_listener():
    with misbehaving_server("json") as url:
        port = url.rsplit(":", 1)[1]
        body = text(playground().post(FORM, data=token_form(f"http://0.0.0.0:{port}/token")))
        assert requests_seen(url) == []
    assert "0.0.0.0 is a link-local, metadata or unspecified address" in body


def test_block_private_networks_blocks_loopback(authserver):
    client = playground(authserver, BLOCK_PRIVATE_NETWORKS=True)
    body = text(client.post(FORM, data=token_form(authserver.token_endpoint)))
    assert "127.0.0.1 is a private or loopback address" in body
    assert requests_made(authserver) == 0


def requests_made(server) -> int:
    from .test_playground import requests_made_to

    return requests_made_to(server)


def test_allowed_hosts_restricts_targets(authserver):
    port = authserver.url.rsplit(":", 1)[1]
    client = playground(authserver, ALLOWED_HOSTS=f"localhost:{port}, *.example.test")
    ok = client.post(FORM, data=token_form(f"http://localhost:{port}/oauth2/token"))
    assert "Access token received" in text(ok)
    refused = text(client.post(FORM, data=token_form(authserver.token_endpoint)))  # 127.0.0.1 is not listed
    assert f"127.0.0.1:{port} is not in PLAYGROUND_ALLOWED_HOSTS" in refused


def test_policy_applies_to_introspection_too(authserver):
    client = playground(authserver, BLOCK_PRIVATE_NETWORKS=True)
    data = introspection_form(authserver.introspection_endpoint, "some-token")
    body = text(client.post(TOKENINFO, data=data))
    assert "outbound policy does not allow this target" in body


def test_redirect_is_shown_not_followed():
    with misbehaving_server("json") as target:
        with misbehaving_server("redirect", location=target + "/stolen") as url:
            body = text(playground().post(FORM, data=token_form(url + "/token")))
        assert requests_seen(target) == []  # never followed
    assert "answered with a redirect" in body and "HTTP/1.1 302" in body


# -- pooling ---------------------------------------------------------------------


def send_token(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Answer with a token response, keeping the connection open (HTTP/1.1)."""
    body = json.dumps({"access_token": "t", "token_type": "Bearer"}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with a token, keeping the connection open (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    connections: set = set()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        KeepAliveHandler.connections.add(self.client_address)
        send_token(self)

    def log_message(self, *args):
        pass


class ThreadingServer(http.server.ThreadingHTTPServer):
    """A listen backlog as large as the client's pool: with the default of 5, a burst of
    concurrent connects overflows it, and the kernel's SYN retries test the machine, not us."""

    request_queue_size = 64


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]):
    """A threading HTTP server for `handler` on a free loopback port; yields its URL."""
    server = ThreadingServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def keep_alive_server():
    KeepAliveHandler.connections = set()
    with serving(KeepAliveHandler) as url:
        yield url


def test_connections_are_reused_across_requests(keep_alive_server):
    outbound = Outbound(Policy(timeout=5))
    for _ in range(5):
        exchange = outbound.send("POST", keep_alive_server + "/t", {}, {"a": "b"}, ())
        assert exchange.response.status == 200
    assert len(KeepAliveHandler.connections) == 1


def test_one_outbound_is_safe_across_threads(keep_alive_server):
    outbound = Outbound(Policy(timeout=5))

    def call(i: int) -> int:
        return outbound.send("POST", keep_alive_server + "/t", {}, {"i": str(i)}, ()).response.status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(200)))
    assert statuses == [200] * 200
    assert len(KeepAliveHandler.connections) <= 32  # bounded by the pool, not one per request


def test_a_deadline_right_after_the_connection_went_back_to_the_pool_cuts_nothing(
    keep_alive_server, monkeypatch
):
    # The watchdog's timer fires just as the request ends: the connection is already in the
    # pool, maybe in another thread's hands, and must not be cut.
    put_back = outbound_module._UnwatchedInPool._put_conn

    def put_back_then_expire(pool, conn):
        put_back(pool, conn)
        outbound_module._local.watchdog._expire()

    monkeypatch.setattr(outbound_module._UnwatchedInPool, "_put_conn", put_back_then_expire)
    outbound = Outbound(Policy(timeout=5))
    for i in range(3):
        assert outbound.send("POST", keep_alive_server + "/t", {}, {"i": str(i)}, ()).response.status == 200
    assert len(KeepAliveHandler.connections) == 1  # never cut, so never replaced


def test_the_watchdog_cuts_the_socket_it_watched_not_the_connections_next_one():
    watched, watched_peer = socket.socketpair()
    next_one, next_peer = socket.socketpair()
    with watched, watched_peer, next_one, next_peer:
        connection = type("Connection", (), {"sock": watched})()
        watchdog = outbound_module._Watchdog(time.monotonic() + 60)
        watchdog.watch(connection)
        connection.sock = next_one  # closed and connected again, for another request
        watchdog._expire()  # the first request's deadline
        watchdog.stop()
        assert watched.recv(1) == b""  # cut
        next_peer.sendall(b"x")
        assert next_one.recv(1) == b"x"  # untouched


def test_servers_keep_idle_connections_open_between_clicks(monkeypatch):
    # gunicorn's default keep-alive, 2 s, closes a connection before a person clicks again.
    options = {}
    monkeypatch.setattr(wsgi._Gunicorn, "run", lambda server: options.update(server.options))
    wsgi.serve(lambda port: None, "127.0.0.1", 0, lambda port: None)
    assert options["keepalive"] >= 60


@pytest.fixture
def pooling_bench(monkeypatch):
    """bench/pooling.py as a module; the bench/ it puts on sys.path, and its `load`, go afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    had_load = "load" in sys.modules
    path = Path(__file__).resolve().parent.parent / "bench" / "pooling.py"
    spec = importlib.util.spec_from_file_location("bench_pooling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    if not had_load:
        sys.modules.pop("load", None)


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("json", {"status": 401, "body": {"error": "invalid_client"}}, "answered HTTP 401, not 200"),
        ("refuse", {}, "failed: The server refused the connection."),
    ],
)
def test_pooling_bench_stops_on_a_failed_request_with_a_message(pooling_bench, kind, options, message):
    # A check that `python -O` cannot remove, unlike assert, and that says what went wrong.
    info = {"Client ID": "c", "Client Secret": "s"}
    with misbehaving_server(kind, **options) as url:
        info["Token endpoint"] = url + "/token"
        with pytest.raises(pooling_bench.Failed, match=re.escape(message)):
            pooling_bench.timed(2, Outbound(Policy(timeout=5)), info, pooled=True)


def test_blocked_error_is_not_retried_or_wrapped():
    outbound = Outbound(Policy(), resolve=fake_dns({"x.test": ["169.254.169.254"]}))
    with pytest.raises(OutboundError) as info:
        outbound.send("POST", "http://x.test/", {}, {}, ())
    assert info.value.kind == "blocked"


# -- timeouts and size ---------------------------------------------------------

DEADLINE = 2.0


@contextlib.contextmanager
def slow_dns(seconds: float, answers: dict[str, list[str]]):
    """fake_dns, answering for the names in `answers` only after `seconds` (released on exit)."""
    release = threading.Event()
    answer = fake_dns(answers)

    def resolve(host, port, *args):
        if host in answers:
            release.wait(seconds)
        return answer(host, port, *args)

    try:
        yield resolve
    finally:
        release.set()


def timed_token_request(client, url: str) -> tuple[float, str]:
    """Seconds the token request took, and the page's text."""
    started = time.monotonic()
    body = text(client.post(FORM, data=token_form(url)))
    return time.monotonic() - started, body


def test_a_resolver_that_answers_late_is_abandoned_at_the_deadline(loopback_only):
    with slow_dns(6, {"slow-dns.test": ["127.0.0.1"]}) as resolve:
        client = playground(RESOLVER=resolve, TIMEOUT=DEADLINE)
        elapsed, body = timed_token_request(client, "http://slow-dns.test:9/token")
    assert elapsed < DEADLINE + 2, f"took {elapsed:.1f} s"
    assert f"Resolving the host name timed out: no answer within {DEADLINE:g} s." in body
    assert "PLAYGROUND_TIMEOUT" in body


def test_black_holed_addresses_share_one_deadline(loopback_only):
    with black_holes(4) as (addresses, port):  # four A records, none answering
        client = playground(RESOLVER=fake_dns({"firewalled.test": addresses}), TIMEOUT=DEADLINE)
        elapsed, body = timed_token_request(client, f"http://firewalled.test:{port}/token")
    assert elapsed < DEADLINE + 2, f"took {elapsed:.1f} s"
    assert f"Connecting to the server timed out: no connection within {DEADLINE:g} s." in body
    assert "did not answer" not in body


def test_lookup_and_tls_handshake_share_one_deadline(loopback_only):
    # The lookup takes half the time; a server that never speaks TLS gets only the rest.
    with misbehaving_server("hang") as url, slow_dns(DEADLINE / 2, {"stalls.test": ["127.0.0.1"]}) as resolve:
        port = url.rsplit(":", 1)[1]
        client = playground(RESOLVER=resolve, TIMEOUT=DEADLINE)
        elapsed, body = timed_token_request(client, f"https://stalls.test:{port}/token")
    assert elapsed < DEADLINE + 1, f"took {elapsed:.1f} s"  # not a lookup plus a full timeout
    assert f"the TLS handshake did not finish within {DEADLINE:g} s" in body


def test_guard_lookup_and_open_alone_keep_to_their_deadline():
    with black_holes(3) as (addresses, port):
        guard = Guard(Policy(), resolve=fake_dns({"firewalled.test": addresses}))
        started = time.monotonic()
        deadline = started + 1.0
        with pytest.raises(TimeoutError):
            guard.open("firewalled.test", guard.lookup("firewalled.test", port, deadline), deadline)
    assert time.monotonic() - started < 1.5


def test_response_size_cap(authserver):
    with misbehaving_server("huge", size=300_000) as url:
        client = playground(authserver, MAX_RESPONSE_BYTES=100_000)
        body = text(client.post(FORM, data=token_form(url)))
    assert "The response is too large." in body and "PLAYGROUND_MAX_RESPONSE_BYTES" in body


# -- skipping TLS verification ---------------------------------------------------


def test_skip_tls_checkbox_absent_and_ignored_by_default(authserver):
    client = playground(authserver)
    assert "Skip TLS verification" not in text(client.get(FORM))
    with misbehaving_server("self_signed") as url:
        body = text(client.post(FORM, data=token_form(url, insecure_tls="y")))
    assert "certificate is not trusted" in body
    assert "TLS verification is off" not in body


def test_skip_tls_when_allowed_warns_on_every_page(authserver):
    client = playground(authserver, ALLOW_INSECURE_TLS="true")
    assert "Skip TLS verification (insecure)" in text(client.get(FORM))
    with misbehaving_server("self_signed") as url:
        response = client.post(FORM, data=token_form(url, insecure_tls="y"))
        assert "Access token received" in text(response)
        assert "TLS verification is off for these requests" in text(response)
        assert "--insecure" in text(response)
        token = access_token_of(response)
        info = client.post(TOKENINFO, data=introspection_form(url, token, insecure_tls="y"))
        assert "TLS verification is off for these requests" in text(info)
        assert 'name="insecure_tls" value="y"' in info.get_data(as_text=True)  # carried to the next step
        # Unticked, verification is back on.
        plain = text(client.post(FORM, data=token_form(url)))
        assert "certificate is not trusted" in plain and "TLS verification is off" not in plain
        assert tls_cert_path(url)


class DropsSecondRequestHandler(http.server.BaseHTTPRequestHandler):
    """Answers the first request of a connection and keeps it open; closes on the second
    without answering: a keep-alive connection dying just as it is reused."""

    protocol_version = "HTTP/1.1"
    seen: list = []

    def handle(self):
        self.first = True
        super().handle()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        DropsSecondRequestHandler.seen.append(self.client_address)
        if not self.first:
            self.close_connection = True
            return
        self.first = False
        send_token(self)

    def log_message(self, *args):
        pass


def test_a_pooled_connection_closed_by_the_server_is_retried_once():
    DropsSecondRequestHandler.seen = []
    with serving(DropsSecondRequestHandler) as base:
        outbound = Outbound(Policy(timeout=5))
        assert outbound.send("POST", base + "/t", {}, {"n": "1"}, ()).response.status == 200
        # The second goes out on the pooled connection, dies, and is sent again on a new one.
        assert outbound.send("POST", base + "/t", {}, {"n": "2"}, ()).response.status == 200
    assert len(DropsSecondRequestHandler.seen) == 3
    assert len(set(DropsSecondRequestHandler.seen)) == 2


def test_a_new_connection_failing_is_not_retried():
    with misbehaving_server("close") as url:
        with pytest.raises(OutboundError) as info:
            Outbound(Policy(timeout=5)).send("POST", url, {}, {}, ())
        assert info.value.kind == "reset"
        assert len(requests_seen(url)) == 1
