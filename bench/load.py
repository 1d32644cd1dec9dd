"""Load test: many browsers' worth of full flows against the demo server, under gunicorn.

Each simulated browser, in a loop until the time is up: opens the form, clicks
Authorize (the playground asks the demo server for a token), clicks Get TokenInfo
(the playground introspects it). Loopback only; bounded in time; stops by itself.

    .venv/bin/python bench/load.py [--browsers 50] [--seconds 30]

Prints throughput and latency percentiles; exits 1 if any request failed or any
page was a 5xx. tests/test_load.py runs it as part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
INPUT = re.compile(r'<input[^>]*name="([a-z_]+)"[^>]*type="(?:text|password|hidden)" value="([^"]*)"')
TOKEN = re.compile(r'id="access-token-value">([^<]+)<')
ALERT = re.compile(r'role="alert">\s*<h3>(.*?)</h3>', re.S)
TECHNICAL = re.compile(r"<summary>Technical detail</summary><pre[^>]*>(.*?)</pre>", re.S)


def why(page: requests.Response) -> str:
    """The status, and the page's own account of what went wrong."""
    alert = ALERT.search(page.text)
    technical = TECHNICAL.search(page.text)
    return (
        f"HTTP {page.status_code}"
        + (f" ({re.sub(r'<[^>]+>', '', alert.group(1)).strip()})" if alert else "")
        + (f" [{unescape(technical.group(1))[:300]}]" if technical else "")
    )


@dataclass
class Stats:
    """What the browsers saw."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"form": [], "token": [], "tokeninfo": []}
    )
    flows: int = 0
    errors: list[str] = field(default_factory=list)
    server_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, step: str, seconds: float) -> None:
        with self.lock:
            self.latencies[step].append(seconds)

    def fail(self, message: str, status: int | None = None) -> None:
        with self.lock:
            self.errors.append(message)
            if status is not None and status >= 500:
                self.server_errors += 1


def start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start `playground ...` and read its banner."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    banner: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        if not line and banner:
            break
        name, sep, value = line.partition(": ")
        if sep:
            banner[name] = value
    else:
        raise RuntimeError(f"playground {args[0]} did not start")
    drain = threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True)  # later output
    drain.start()
    proc.drain = drain  # type: ignore[attr-defined]
    return proc, banner


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, then wait."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    proc.drain.join(5)  # type: ignore[attr-defined]
    assert proc.stdout is not None
    proc.stdout.close()


def browser(url: str, deadline: float, stats: Stats) -> None:
    """One simulated person clicking through the walkthrough again and again."""
    with requests.Session() as session:
        session.trust_env = False
        clicks(session, url, deadline, stats)


def clicks(session: requests.Session, url: str, deadline: float, stats: Stats) -> None:
    """The walkthrough, again and again until the deadline."""
    while time.monotonic() < deadline:
        try:
            started = time.monotonic()
            page = session.get(url, timeout=60)
            stats.record("form", time.monotonic() - started)
            if page.status_code != 200:
                stats.fail(f"form: HTTP {page.status_code}", page.status_code)
                continue
            fields = dict(INPUT.findall(page.text))
            fields.update(csrf_token=CSRF.search(page.text).group(1), grant_type="client_credentials")
            fields.update(client_auth="client_secret_basic", introspection_auth="client")

            started = time.monotonic()
            result = session.post(url, data={**fields, "authorize": "Authorize"}, timeout=60)
            stats.record("token", time.monotonic() - started)
            token = TOKEN.search(result.text)
            if result.status_code != 200 or not token:
                stats.fail(f"token: {why(result)}", result.status_code)
                continue

            fields.update(dict(INPUT.findall(result.text)))
            fields["access_token"] = token.group(1)
            started = time.monotonic()
            info = session.post(
                url.replace("oauth2.jsp", "tokeninfo"),
                data={**fields, "get_tokeninfo": "Get TokenInfo"},
                timeout=60,
            )
            stats.record("tokeninfo", time.monotonic() - started)
            if info.status_code != 200 or 'class="status active"' not in info.text:
                stats.fail(f"tokeninfo: {why(info)}", info.status_code)
                continue
            with stats.lock:
                stats.flows += 1
        except requests.RequestException as exc:
            stats.fail(f"{type(exc).__name__}: {exc}")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run(browsers: int = 50, seconds: float = 30) -> Stats:
    """Start the demo (authorization server + playground) under gunicorn and load it."""
    stats = Stats()
    with tempfile.TemporaryDirectory() as instance:
        auth, info = start(["authserver", "--port", "0", "--instance-path", instance, "--threads", "32"], {})
        try:
            env = {
                "PLAYGROUND_TOKEN_ENDPOINT": info["Token endpoint"],
                "PLAYGROUND_INTROSPECTION_ENDPOINT": info["Introspection endpoint"],
                "PLAYGROUND_CLIENT_ID": info["Client ID"],
                "PLAYGROUND_CLIENT_SECRET": info["Client Secret"],
                "PLAYGROUND_CA_BUNDLE": info["CA certificate"],
            }
            playground, pg = start(["serve", "--port", "0", "--threads", "64"], env)
            try:
                deadline = time.monotonic() + seconds
                started = time.monotonic()
                threads = [
                    threading.Thread(target=browser, args=(pg["Playground"], deadline, stats))
                    for _ in range(browsers)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                stats.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
            finally:
                stop(playground)
        finally:
            stop(auth)
    return stats


def report(stats: Stats, browsers: int) -> str:
    """The numbers, one line each."""
    elapsed = getattr(stats, "elapsed", float("nan"))
    requests_done = sum(len(v) for v in stats.latencies.values())
    lines = [
        f"browsers: {browsers}, duration: {elapsed:.1f} s",
        f"full flows: {stats.flows} ({stats.flows / elapsed:.1f}/s); page requests: {requests_done} "
        f"({requests_done / elapsed:.1f}/s)",
        f"errors: {len(stats.errors)}, 5xx pages: {stats.server_errors}",
    ]
    for step, values in stats.latencies.items():
        mean = statistics.fmean(values) * 1000 if values else float("nan")
        lines.append(
            f"{step:10} n={len(values):5}  p50={percentile(values, 50):7.1f} ms  "
            f"p99={percentile(values, 99):7.1f} ms  mean={mean:7.1f} ms"
        )
    if stats.errors:
        lines.append("first errors: " + "; ".join(stats.errors[:5]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browsers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    options = parser.parse_args()
    stats = run(options.browsers, options.seconds)
    print(report(stats, options.browsers))
    return 1 if stats.errors or stats.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
