"""What Python's garbage collector costs a host that holds a large engine.

A full (third-generation) collection scans every container object the
process holds; an engine with many open tasks is mostly such objects, all
long-lived, none garbage. This builds engines of ``--tasks`` open tasks
(one requirement group, scored by value), then times a full collection
(``gc.collect()``, ``--repeats`` times, best and median) before and after
``gc.freeze()`` moved what exists to the permanent generation, in the same
run. Every request a host serves waits for such a pause when one comes.

    python benchmarks/bench_collector.py [--tasks 100000 300000] [--repeats 3]

Writes benchmarks/results/bench_collector.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from typing import Any

from _timing import results_dir
from valueroute import Engine, TaskSpec


def _collections(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def measure(tasks: int, repeats: int) -> dict[str, Any]:
    clock = [0.0]
    engine = Engine(clock=lambda: clock[0])
    for number in range(tasks):
        engine.submit(
            TaskSpec(id=f"t{number}", type="claim", value=float(number % 100), skills={"s": 1})
        )
    tracked = len(gc.get_objects())
    before = _collections(repeats)
    gc.freeze()
    try:
        after = _collections(repeats)
    finally:
        gc.unfreeze()
    assert len(engine) == tasks
    return {
        "tasks": tasks,
        "tracked_objects": tracked,
        "full_collection_ms": {"best": min(before), "median": statistics.median(before)},
        "after_freeze_ms": {"best": min(after), "median": statistics.median(after)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    print("open tasks  tracked objects  full collection, ms (best / median)  after freeze, ms")
    for tasks in args.tasks:
        row = measure(tasks, args.repeats)
        rows.append(row)
        full, frozen = row["full_collection_ms"], row["after_freeze_ms"]
        print(
            f"{tasks:>10,}  {row['tracked_objects']:>15,}  "
            f"{full['best']:>12.1f} / {full['median']:.1f}{'':>18}"
            f"{frozen['best']:.2f} / {frozen['median']:.2f}"
        )
        gc.collect()
    out = results_dir() / "bench_collector.json"
    out.write_text(
        json.dumps(
            {"python": platform.python_version(), "repeats": args.repeats, "rows": rows}, indent=2
        )
        + "\n"
    )
    print(f"written: {out.name}")


if __name__ == "__main__":
    main()
