"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
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
