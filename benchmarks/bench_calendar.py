"""Business calendar queries per second, against a wall-clock function in the same run.

Calendar: Europe/Berlin, two ranges a weekday (08:00-12:00, 13:00-18:00),
a year of holidays (every public holiday of Germany/Berlin, plus 20 dated
ones), queries spread over that year. The baseline is a Python function of
the same signature doing the wall-clock version (``t + seconds``,
``b - a``): the floor of any call from Python, measured in the same run.
Target: ``add`` and ``elapsed`` at least 200,000 calls/s.

    python benchmarks/bench_calendar.py [--calls 200000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random

from _timing import best_seconds, results_dir
from valueroute.calendar import BusinessCalendar

TARGET_PER_S = 200_000


def office() -> BusinessCalendar:
    ranges = [("08:00", "12:00"), ("13:00", "18:00")]
    start = dt.date(2026, 1, 1)
    dated = [(start + dt.timedelta(days=17 * i + 3)).isoformat() for i in range(20)]
    try:
        import holidays  # noqa: F401

        spec: dict[str, object] | list[str] = {"country": "DE", "subdiv": "BE", "dates": dated}
    except ImportError:
        spec = dated
    return BusinessCalendar(
        timezone="Europe/Berlin",
        hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ranges),
        holidays=spec,  # type: ignore[arg-type]
    )


def wall_add(t: float, seconds: float) -> float:
    return t + seconds


def wall_elapsed(a: float, b: float) -> float:
    return b - a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    calendar = office()
    rng = random.Random(7)
    year_start = dt.datetime(2026, 1, 1, tzinfo=calendar.zone).timestamp()
    instants = [year_start + rng.uniform(0, 365 * 86_400) for _ in range(args.calls)]
    spans = [rng.uniform(0, 40 * 3600) for _ in range(args.calls)]
    later = [t + rng.uniform(0, 10 * 86_400) for t in instants]
    pairs = list(zip(instants, spans, strict=True))
    spans_between = list(zip(instants, later, strict=True))
    calendar.add(instants[0], 1.0)  # tabulate the year once, as any long-lived host would

    def run_add(add: object) -> None:
        for t, s in pairs:
            add(t, s)  # type: ignore[operator]

    def run_elapsed(elapsed: object) -> None:
        for a, b in spans_between:
            elapsed(a, b)  # type: ignore[operator]

    results = []
    print(f"{'query':<10} {'calendar/s':>12} {'wall-clock fn/s':>16} {'ratio':>7} {'target':>10}")
    for name, function, baseline, runner in (
        ("add", calendar.add, wall_add, run_add),
        ("elapsed", calendar.elapsed, wall_elapsed, run_elapsed),
        ("is_open", lambda t, _s: calendar.is_open(t), lambda t, _s: t > 0, run_add),
    ):
        seconds = best_seconds(lambda f=function, r=runner: r(f), args.repeats)
        base_seconds = best_seconds(lambda f=baseline, r=runner: r(f), args.repeats)
        rate = args.calls / seconds
        base_rate = args.calls / base_seconds
        print(
            f"{name:<10} {rate:>12,.0f} {base_rate:>16,.0f} {base_rate / rate:>6.1f}x "
            f"{'>= 200,000' if name != 'is_open' else '':>10}"
        )
        results.append(
            {
                "query": name,
                "calls_per_s": rate,
                "baseline_calls_per_s": base_rate,
                "slowdown_vs_baseline": base_rate / rate,
                "target_calls_per_s": TARGET_PER_S if name != "is_open" else None,
            }
        )
    out = results_dir() / "bench_calendar.json"
    out.write_text(
        json.dumps(
            {"python": platform.python_version(), "calls": args.calls, "results": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
