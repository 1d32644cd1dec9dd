"""The misbehaving servers of tests/faults.py really misbehave as documented, and always shut down."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from .faults import KINDS, black_holes, misbehaving_server, requests_seen, tls_cert_path

TIMEOUT = (2, 1)  # (connect, read): short, so a misbehaving server costs a test about a second.
TOKEN = {"access_token": "slow-token", "token_type": "Bearer", "expires_in": 3600}


def _address(url: str) -> tuple[str, int]:
    """Host and port of a base URL."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _raw_request(url: str, request: bytes = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") -> socket.socket:
    """A raw client connection that has sent `request` (possibly nothing) and reads nothing yet."""
    sock = socket.create_connection(_address(url), timeout=5)
    if request:
        sock.sendall(request)
    return sock


def _fault_threads() -> list[threading.Thread]:
    """Threads of the faults module still alive."""
    return [thread for thread in threading.enumerate() if thread.name.startswith("faults-")]


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Every test leaves no server thread behind: the context manager joined them all."""
    yield
    assert _fault_threads() == []


def test_refuse():
    with misbehaving_server("refuse") as url:
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            requests.get(url + "/token", timeout=TIMEOUT)
        assert not isinstance(caught.value, requests.exceptions.Timeout)
        assert requests_seen(url) == []


def test_hang_times_out_and_still_records_the_request():
    with misbehaving_server("hang") as url:
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(url + "/token", timeout=TIMEOUT)
        assert 0.9 < time.monotonic() - started < 2
        [seen] = requests_seen(url)
        assert (seen.method, seen.path) == ("GET", "/token")


def test_slow_times_out_before_its_delay():
    with misbehaving_server("slow", delay=3) as url:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(url + "/token", data={"grant_type": "client_credentials"}, timeout=TIMEOUT)


def test_slow_answers_after_its_delay():
    with misbehaving_server("slow", delay=0.2) as url:
        started = time.monotonic()
        response = requests.post(url + "/token", data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
        assert time.monotonic() - started >= 0.15
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == TOKEN


def test_trickle_never_trips_the_read_timeout_but_never_ends():
    with misbehaving_server("trickle") as url:
        received = b""
        with requests.get(url, stream=True, timeout=TIMEOUT) as response:
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["Content-Length"] == "1000000"
            deadline = time.monotonic() + 1.5
            for byte in response.iter_content(1):
                received += byte
                if time.monotonic() > deadline:
                    break
        # About one byte per 0.2 s: some arrived, without a single read timing out, and far from all.
        assert 3 <= len(received) <= 12


@pytest.mark.parametrize("kind", ["huge", "huge_chunked"])
def test_huge_starts_streaming_an_enormous_body(kind):
    with misbehaving_server(kind) as url:
        with requests.get(url, stream=True, timeout=TIMEOUT) as response:
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "application/json"
            if kind == "huge":
                assert response.headers["Content-Length"] == str(20 * 1024 * 1024)
                assert "Transfer-Encoding" not in response.headers
            else:
                assert response.headers["Transfer-Encoding"] == "chunked"
                assert "Content-Length" not in response.headers
            first = next(response.iter_content(64 * 1024))
            assert first.startswith(b'{"access_token": "a')
        # Closing early must not upset the server (BrokenPipe/ConnectionReset are ignored quietly).


@pytest.mark.parametrize("kind", ["huge", "huge_chunked"])
def test_huge_with_a_small_size_is_complete_json(kind):
    with misbehaving_server(kind, size=300_000) as url:
        response = requests.get(url, timeout=TIMEOUT)
        assert len(response.content) == 300_000
        assert set(response.json()["access_token"]) == {"a"}


def test_html():
    with misbehaving_server("html") as url:
        response = requests.get(url + "/anything", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.text == (
            "<html><head><title>Sign in</title></head>"
            "<body><h1>Sign in</h1><script>alert(1)</script></body></html>"
        )


def test_invalid_json():
    with misbehaving_server("invalid_json") as url:
        response = requests.get(url, timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.content == b'{"access_token": "abc", oops'
        with pytest.raises(requests.exceptions.JSONDecodeError):
            response.json()


def test_empty():
    with misbehaving_server("empty") as url:
        response = requests.get(url, timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Content-Length"] == "0"
        assert response.content == b""


def test_status500():
    with misbehaving_server("status500") as url:
        response = requests.get(url, timeout=TIMEOUT)
        assert (response.status_code, response.reason) == (500, "Internal Server Error")
        assert response.headers["Content-Type"] == "text/plain"
        assert response.text == "Internal error"


def test_redirect_points_at_cloud_metadata_by_default():
    with misbehaving_server("redirect") as url:
        response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
        assert (response.status_code, response.reason) == (302, "Found")
        assert response.headers["Location"] == "http://169.254.169.254/latest/meta-data/"
        assert response.content == b""


def test_redirect_location_is_configurable():
    with misbehaving_server("redirect", location="https://elsewhere.invalid/x") as url:
        response = requests.post(url, allow_redirects=False, timeout=TIMEOUT)
        assert response.headers["Location"] == "https://elsewhere.invalid/x"


def test_reset():
    with misbehaving_server("reset") as url:
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            requests.get(url, timeout=TIMEOUT)
        assert "reset" in str(caught.value).lower()


def test_close():
    with misbehaving_server("close") as url:
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            requests.get(url, timeout=TIMEOUT)
        assert "RemoteDisconnected" in str(caught.value)


@pytest.mark.parametrize("kind", ["reset", "close", "html"])
def test_a_large_request_body_is_read_in_full_before_acting(kind):
    """The server reads everything first, so a client never fails with EPIPE while still sending."""
    body = b"x" * (4 * 1024 * 1024)
    with misbehaving_server(kind) as url:
        try:
            requests.post(url, data=body, timeout=TIMEOUT)
        except requests.exceptions.ConnectionError as exc:
            assert "broken pipe" not in str(exc).lower()
        [seen] = requests_seen(url)
        assert seen.body == body


def test_json_is_configurable_and_records_what_the_client_sent():
    headers = {"Cache-Control": "no-store", "WWW-Authenticate": 'Basic realm="x"'}
    body = {"error": "invalid_client"}
    with misbehaving_server("json", status=401, body=body, headers=headers) as url:
        response = requests.post(
            url + "/oauth2/token?tenant=1",
            data={"grant_type": "client_credentials", "scope": "read write"},
            auth=("client-one", "secret-one"),
            headers={"X-Custom": "yes"},
            timeout=TIMEOUT,
        )
        assert (response.status_code, response.reason) == (401, "Unauthorized")
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["WWW-Authenticate"] == 'Basic realm="x"'
        assert response.json() == body
        [seen] = requests_seen(url + "/some/other/path")  # Any URL of the server finds its record.
        assert seen.method == "POST"
        assert seen.path == "/oauth2/token?tenant=1"
        assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
        assert seen.headers["Authorization"] == "Basic Y2xpZW50LW9uZTpzZWNyZXQtb25l"
        assert seen.headers["x-custom"] == "yes"
        assert seen.body == b"grant_type=client_credentials&scope=read+write"


def test_json_defaults_to_a_valid_token_and_takes_raw_bodies():
    with misbehaving_server("json") as url:
        assert requests.get(url, timeout=TIMEOUT).json() == TOKEN
    raw = b"\x00not json\xff"
    with misbehaving_server("json", status=503, body=raw, headers={"Content-Type": "x/y"}) as url:
        response = requests.get(url, timeout=TIMEOUT)
        assert (response.status_code, response.content) == (503, raw)
        assert response.headers["Content-Type"] == "x/y"
    with misbehaving_server("json", body='{"a": 1}') as url:
        assert requests.get(url, timeout=TIMEOUT).content == b'{"a": 1}'


def test_requests_seen_keeps_every_request_including_chunked_bodies():
    def parts() -> Iterator[bytes]:
        yield b"grant_type="
        yield b"password"

    with misbehaving_server("json", body=[1, 2]) as url:
        assert requests.delete(url + "/a", timeout=TIMEOUT).json() == [1, 2]
        requests.put(url + "/b", data=parts(), timeout=TIMEOUT)
    # The record outlives the server, so a test may check it after the `with` block.
    seen = requests_seen(url)
    assert [(r.method, r.path) for r in seen] == [("DELETE", "/a"), ("PUT", "/b")]
    assert seen[1].headers["Transfer-Encoding"] == "chunked"
    assert seen[1].body == b"grant_type=password"


def test_self_signed_fails_verification_unless_trusted_explicitly():
    with misbehaving_server("self_signed") as url:
        assert url.startswith("https://127.0.0.1:")
        with pytest.raises(requests.exceptions.SSLError) as caught:
            requests.get(url + "/token", timeout=TIMEOUT)
        assert "self-signed certificate" in str(caught.value)
        # The failed handshake was dropped quietly; the next client, trusting the cert, succeeds.
        response = requests.get(url + "/token", verify=tls_cert_path(url), timeout=TIMEOUT)
        assert response.json() == TOKEN
        assert [r.path for r in requests_seen(url)] == ["/token"]
    with pytest.raises(LookupError):
        tls_cert_path(url)  # Its temporary directory is gone.


def test_self_signed_handshakes_per_connection():
    """A client that connects but never starts TLS does not block the others."""
    with misbehaving_server("self_signed") as url:
        with _raw_request(url, b""):
            response = requests.get(url, verify=tls_cert_path(url), timeout=TIMEOUT)
            assert response.json() == TOKEN


def test_expired_fails_even_when_its_ca_is_trusted():
    with misbehaving_server("expired") as url:
        assert url.startswith("https://127.0.0.1:")
        with pytest.raises(requests.exceptions.SSLError) as caught:
            requests.get(url, verify=tls_cert_path(url), timeout=TIMEOUT)
        assert "certificate has expired" in str(caught.value)
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("kind", "options", "request_bytes"),
    [
        ("hang", {}, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("trickle", {}, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("slow", {"delay": 60}, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("huge", {}, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),  # The client never reads: sendall blocks.
        ("json", {}, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf"),  # Stuck reading.
        ("html", {}, b""),  # Connected, silent.
        ("self_signed", {}, b""),  # Connected, never handshakes.
    ],
)
def test_exit_returns_promptly_with_a_client_still_connected(kind, options, request_bytes):
    with contextlib.ExitStack() as stack:
        with misbehaving_server(kind, **options) as url:
            sock = stack.enter_context(_raw_request(url, request_bytes))
            if kind == "trickle":
                assert sock.recv(1024).startswith(b"HTTP/1.1 200 OK\r\n")
            time.sleep(0.3)  # Let the server get well into misbehaving.
            started = time.monotonic()
        assert time.monotonic() - started < 3
        # The server cut the connection: the client reads to the end (or a reset), never hangs.
        sock.settimeout(3)
        with contextlib.suppress(ConnectionResetError):
            while sock.recv(1024 * 1024):
                pass


def test_exit_cuts_a_requests_client_waiting_on_a_hang():
    outcome: list[BaseException] = []

    def client(url: str) -> None:
        try:
            requests.get(url, timeout=(2, 30))
        except requests.exceptions.RequestException as exc:
            outcome.append(exc)

    with misbehaving_server("hang") as url:
        thread = threading.Thread(target=client, args=(url,))
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
    assert time.monotonic() - started < 3
    thread.join(5)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], requests.exceptions.ConnectionError)


def test_unknown_kind_or_option_is_an_error():
    assert KINDS >= {"refuse", "hang", "slow", "json", "self_signed", "expired"}
    with pytest.raises(ValueError):
        with misbehaving_server("teapot"):
            pass
    with pytest.raises(TypeError):
        with misbehaving_server("slow", dealy=1):
            pass


def test_many_parallel_clients():
    with misbehaving_server("json", body={"n": 1}) as url:
        results: list[int] = []

        def call() -> None:
            results.append(requests.get(url, timeout=TIMEOUT).json()["n"])

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert results == [1] * 20
        assert len(requests_seen(url)) == 20


def test_requests_seen_of_an_unknown_url_is_an_error():
    with pytest.raises(LookupError):
        requests_seen("http://127.0.0.1:1")
    with misbehaving_server("html") as url:
        with pytest.raises(LookupError):
            tls_cert_path(url)


def test_black_holes_make_a_connect_hang_until_its_timeout():
    with black_holes(2) as (addresses, port):
        assert addresses == ["127.0.0.2", "127.0.0.3"]
        for address in addresses:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                socket.create_connection((address, port), timeout=0.5)
            assert 0.4 < time.monotonic() - started < 1.5
    with pytest.raises(ConnectionRefusedError):  # closed on exit
        socket.create_connection((addresses[0], port), timeout=2)
