"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best_seconds(function: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one untimed warm-up call."""
    function()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def results_dir() -> Path:
    """Where a benchmark writes its JSON: ``$VALUEROUTE_BENCH_RESULTS`` if set
    (a smoke test points it at a scratch folder), else benchmarks/results."""
    default = Path(__file__).resolve().parent / "results"
    out = Path(os.environ.get("VALUEROUTE_BENCH_RESULTS") or default)
    out.mkdir(parents=True, exist_ok=True)
    return out
