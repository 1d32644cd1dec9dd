"""Side by side in one run: token requests over pooled connections vs a new connection each.

The outbound policy keeps one pooled session per policy, so that clicking Authorize
again need not pay a new TCP and TLS handshake: it reuses the connection if the server
has kept it open meanwhile. gunicorn closes idle connections after `keepalive` seconds
(2 by default; playground/wsgi.py sets 75), so --pause, the seconds a person takes
between clicks, decides whether there is anything to reuse. This measures what pooling
buys, against the demo server under gunicorn over HTTPS on loopback:

    .venv/bin/python bench/pooling.py [--requests 200] [--rounds 3] [--pause 0]

Rounds alternate pooled and fresh so that drift on the machine hits both alike. The
pauses are not counted in the times. Exits 1 if any token request fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import start, stop  # noqa: E402

from playground.client import Credentials, request_token  # noqa: E402
from playground.outbound import Outbound, OutboundError, Policy  # noqa: E402


class Failed(Exception):
    """A token request did not get a token: the numbers would mean nothing."""


def count_connections(outbound: Outbound) -> list[int]:
    """A counter of the connections `outbound` opens (one element per connection)."""
    opened: list[int] = []
    connect = outbound.guard.open

    def counted(*args, **kwargs):
        opened.append(1)
        return connect(*args, **kwargs)

    outbound.guard.open = counted  # type: ignore[method-assign]
    return opened


def timed(requests: int, outbound: Outbound, info: dict[str, str], pooled: bool, pause: float = 0.0) -> float:
    """Seconds per token request, pauses not counted; unpooled, every connection is
    dropped before the next request."""
    credentials = Credentials(info["Client ID"], info["Client Secret"])
    spent = 0.0
    for number in range(1, requests + 1):
        if pause:
            time.sleep(pause)  # idle, as between two clicks
        if not pooled:
            for adapter in outbound.session.adapters.values():
                adapter.close()  # drop the pooled connections: the next request connects anew
        started = time.perf_counter()
        try:
            exchange = request_token(outbound, info["Token endpoint"], credentials)
        except OutboundError as exc:
            raise Failed(f"token request {number} failed: {exc.message} ({exc.detail})") from None
        spent += time.perf_counter() - started
        status = exchange.response.status if exchange.response else None
        if status != 200:
            body = exchange.response.body[:200].decode("utf-8", "replace") if exchange.response else ""
            raise Failed(f"token request {number} answered HTTP {status}, not 200: {body}")
    return spent / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="token requests per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds to wait before each request, as between clicks"
    )
    options = parser.parse_args()
    if options.requests < 1 or options.rounds < 1 or options.pause < 0:
        parser.error("--requests and --rounds must be at least 1, --pause at least 0")
    with tempfile.TemporaryDirectory() as instance:
        server, info = start(["authserver", "--port", "0", "--instance-path", instance], {})
        try:
            outbound = Outbound(Policy(ca_bundle=info["CA certificate"]))  # one TLS context for both
            opened = count_connections(outbound)
            timed(20, outbound, info, pooled=True)  # warm up
            pooled, fresh, connected = [], [], {True: 0, False: 0}
            for _ in range(options.rounds):
                for mode, times in ((True, pooled), (False, fresh)):
                    before = len(opened)
                    times.append(timed(options.requests, outbound, info, mode, options.pause))
                    connected[mode] += len(opened) - before
        except Failed as exc:
            print(f"bench/pooling.py: {exc}", file=sys.stderr)
            return 1
        finally:
            stop(server)
    total = options.requests * options.rounds
    p, f = statistics.median(pooled), statistics.median(fresh)
    print(
        f"token requests over HTTPS, {options.requests} per round, {options.rounds} rounds (median), "
        f"{options.pause:g} s pause before each:"
    )
    for label, median, mode in (("pooled connections:", p, True), ("new connection each time:", f, False)):
        print(f"  {label:26} {median * 1000:7.2f} ms/request  ({connected[mode]} of {total} connected anew)")
    print(f"  ratio new/pooled:          {f / p:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
