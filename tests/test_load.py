"""The load test of bench/load.py, run as part of the suite: zero errors, zero 5xx.

It prints throughput and latency percentiles (run pytest with -s to see them);
no assertion is made on time: speed is measured, not asserted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "load.py"


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_fifty_browsers_for_thirty_seconds(load, capsys):
    stats = load.run(browsers=50, seconds=30)
    report = load.report(stats, 50)
    with capsys.disabled():
        print("\n" + report)
    assert stats.flows > 0
    assert stats.server_errors == 0, report
    assert stats.errors == [], report
