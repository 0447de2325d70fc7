"""Erlang analytics speed: valueroute against textbook implementations, same run.

Cases:
- Erlang C at 10,000 agents (9,900 Erlangs): ``erlang_c`` against the
  textbook factorial/power-sum formula in Python floats (it overflows) and
  the naive O(n) Erlang B loop in pure Python (it works; the ratio is timed).
- Erlang A at 10,000 agents (9,900 Erlangs, 300 s handle time, 180 s
  patience): ``erlang_a`` against the textbook state-probability sum in
  Python floats (it overflows).
- A 96-interval day (quarter hours, up to ~200 Erlangs): ``staff_intervals``
  for 80 % in 20 s, Erlang C and Erlang A, against the naive search that
  starts at one agent and evaluates Erlang C with the O(n) loop at each step.

Targets: Erlang C and Erlang A at 10,000 agents at most 10 ms each; the
96-interval staffing table at most 100 ms. Writes JSON to
benchmarks/results/bench_erlang.json.

    python benchmarks/bench_erlang.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from _timing import best_seconds, results_dir
from valueroute.erlang import erlang_a, erlang_c, required_agents, service_level, staff_intervals

AGENTS = 10_000
TRAFFIC = 9_900.0
AHT = 300.0
PATIENCE = 180.0
AWT = 20.0


def textbook_erlang_c(n: int, traffic: float) -> float:
    """The formula as printed: Aⁿ/n! · n/(n−A) over Σ Aᵏ/k! + the same."""
    top = traffic**n / math.factorial(n) * n / (n - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def loop_erlang_c(n: int, traffic: float) -> float:
    """Naive but stable: Erlang B by its recursion, one Python step per agent."""
    blocking = 1.0
    for k in range(1, n + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return n * blocking / (n - traffic * (1.0 - blocking))


def textbook_erlang_a_p_wait(n: int, traffic: float, aht: float, patience: float) -> float:
    """P(wait) from the state probabilities Aᵏ/k! and the queue products, in floats."""
    arrival, serve, theta = traffic / aht, 1.0 / aht, 1.0 / patience
    head = [traffic**k / math.factorial(k) for k in range(n + 1)]
    tail = [head[-1]]
    j = 1
    while tail[-1] > 1e-300 * head[-1] and j < 100_000:
        tail.append(tail[-1] * arrival / (n * serve + j * theta))
        j += 1
    waiting = sum(tail)
    return waiting / (sum(head[:-1]) + waiting)


def attempt(function: Callable[[], float]) -> str:
    try:
        value = function()
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        return f"fails: {type(exc).__name__}: {exc}"
    if not math.isfinite(value):
        return f"fails: returns {value}"
    return f"returns {value:.6g}"


def day_profile() -> np.ndarray:
    """Calls per quarter hour over a day: a morning and an afternoon peak."""
    hours = np.arange(96) / 4.0
    shape = np.exp(-0.5 * ((hours - 10.5) / 1.8) ** 2) + 0.8 * np.exp(
        -0.5 * ((hours - 15.0) / 2.0) ** 2
    )
    return np.round(600.0 * shape + 5.0)


def naive_staffing(calls: np.ndarray, aht: float, interval: float) -> list[int]:
    staff = []
    for volume in calls:
        traffic = volume * aht / interval
        n = 1
        while True:
            if n > traffic:
                waiting = loop_erlang_c(n, traffic)
                if 1.0 - waiting * math.exp(-(n - traffic) * AWT / aht) >= 0.8:
                    break
            n += 1
        staff.append(n)
    return staff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    repeats = args.repeats

    textbook_c = attempt(lambda: textbook_erlang_c(AGENTS, TRAFFIC))
    textbook_a = attempt(lambda: textbook_erlang_a_p_wait(AGENTS, TRAFFIC, AHT, PATIENCE))
    exact_c = erlang_c(AGENTS, TRAFFIC)
    assert abs(loop_erlang_c(AGENTS, TRAFFIC) - exact_c) < 1e-9 * exact_c

    seconds = {
        "erlang_c 10k agents": best_seconds(lambda: erlang_c(AGENTS, TRAFFIC), repeats),
        "loop Erlang C 10k agents": best_seconds(lambda: loop_erlang_c(AGENTS, TRAFFIC), repeats),
        "erlang_a 10k agents": best_seconds(
            lambda: erlang_a(AGENTS, TRAFFIC, aht=AHT, patience=PATIENCE, awt=AWT), repeats
        ),
    }

    calls = day_profile()
    interval = 900.0

    def table_c() -> Any:
        return staff_intervals(calls, interval=interval, aht=AHT, service_level=0.8, awt=AWT)

    def table_a() -> Any:
        return staff_intervals(
            calls, interval=interval, aht=AHT, service_level=0.8, awt=AWT, patience=PATIENCE
        )

    naive = naive_staffing(calls, AHT, interval)
    exact = table_c()
    assert list(exact.agents) == naive, "the naive search and staff_intervals disagree"
    # Every interval's answer is a true minimum.
    for traffic, n in zip(exact.traffic, exact.agents, strict=True):
        if n:
            assert service_level(int(n) - 1, float(traffic), aht=AHT, awt=AWT) < 0.8
    seconds["staffing table, Erlang C (96)"] = best_seconds(table_c, repeats)
    seconds["naive staffing search (96)"] = best_seconds(
        lambda: naive_staffing(calls, AHT, interval), 1
    )
    seconds["staffing table, Erlang A (96)"] = best_seconds(table_a, repeats)
    seconds["required_agents 20,000 Erlangs"] = best_seconds(
        lambda: required_agents(20_000.0, aht=AHT, service_level=0.8, awt=AWT), repeats
    )

    targets_ms = {
        "erlang_c 10k agents": 10.0,
        "erlang_a 10k agents": 10.0,
        "staffing table, Erlang C (96)": 100.0,
        "staffing table, Erlang A (96)": 100.0,
    }
    print(f"Erlang analytics, best of {repeats}; peak load {exact.traffic.max():.0f} Erlangs")
    print(f"{'case':<34} {'ms':>10} {'target ms':>10}  status")
    for name, value in seconds.items():
        target = targets_ms.get(name)
        status = "" if target is None else ("met" if value * 1e3 <= target else "MISSED")
        limit = "" if target is None else f"{target:g}"
        print(f"{name:<34} {value * 1e3:>10.3f} {limit:>10}  {status}")
    loop_ratio = seconds["loop Erlang C 10k agents"] / seconds["erlang_c 10k agents"]
    table_ratio = seconds["naive staffing search (96)"] / seconds["staffing table, Erlang C (96)"]
    print(f"textbook Erlang C at 10k agents: {textbook_c}")
    print(f"textbook Erlang A at 10k agents: {textbook_a}")
    print(f"erlang_c is {loop_ratio:.1f}x faster than the O(n) Python loop")
    print(f"staff_intervals is {table_ratio:.1f}x faster than the naive search from one agent")

    out = results_dir()
    out.mkdir(exist_ok=True)
    payload = {
        "benchmark": "bench_erlang",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "repeats": repeats,
        "milliseconds": {name: value * 1e3 for name, value in seconds.items()},
        "targets_ms": targets_ms,
        "textbook_erlang_c_10k": textbook_c,
        "textbook_erlang_a_10k": textbook_a,
        "speedup_vs_loop_erlang_c": loop_ratio,
        "speedup_vs_naive_staffing": table_ratio,
    }
    (out / "bench_erlang.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
