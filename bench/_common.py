"""Shared pieces of the benchmarks: percentiles, a started local broker, the machine line."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; `values` need not be sorted."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def summary_ms(latencies_s: list[float]) -> str:
    ms = [v * 1000 for v in latencies_s]
    if not ms:
        return "no samples"
    return (f"p50 {percentile(ms, 50):7.1f} ms  p99 {percentile(ms, 99):7.1f} ms  "
            f"mean {statistics.fmean(ms):7.1f} ms")


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")
