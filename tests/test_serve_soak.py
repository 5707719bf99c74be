"""The soak test in the suite: benchmarks/serve_soak.py against a real `textpro serve` process, short.

Good, malformed and oversized requests, slow uploads, clients that hang up mid-stream or while queued, and a burst
past the queue limit, for 15 s after warm-up; the run fails on any of the soak's criteria (see the benchmark's
docstring), and the server must exit within 10 s of SIGTERM.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SOAK = Path(__file__).resolve().parents[1] / "benchmarks" / "serve_soak.py"


def load_soak():
    spec = importlib.util.spec_from_file_location("serve_soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_short_soak_passes():
    result = load_soak().run(seconds=15, clients=3, bursts_every=8)
    assert result["failures"] == [], result["failures"]
    kinds = result["by_kind"]
    for kind in ("chat", "malformed", "oversized", "burst"):
        assert kinds.get(kind, {}).get("n", 0) >= 1, f"no {kind} request was made"
    assert kinds["burst"]["statuses"].get("429", 0) >= 1  # the burst did go past the queue limit
    assert result["health"]["n"] >= 30 and result["health"]["ok"] == result["health"]["n"]
    assert abs(result["rss_growth"]) <= 0.10
    assert result["exit_after_sigterm_s"] < 10
