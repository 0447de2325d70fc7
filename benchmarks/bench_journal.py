"""Durable command throughput per sync policy, against the in-memory engine in the same run.

Workload: 50 agents; one cycle is submit -> (offer) -> accept -> complete, so
three journaled commands per cycle. The same cycles run on a plain
:class:`~valueroute.Engine` (the baseline), then on a
:class:`~valueroute.journal.DurableEngine` over a SQLite file under each sync
policy (``every`` fsyncs each command, so it runs fewer cycles). Also timed:
a snapshot, and recovery of the file (snapshot + replay, then full replay).
Target: >= 20,000 commands/s with group commit.

    python benchmarks/bench_journal.py [--cycles 20000] [--every-cycles 500]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import results_dir
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.journal import DurableEngine

AGENTS = 50


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None, closed_memory=1000)


def cycles(target: Any, count: int, clock: list[float]) -> int:
    """Run ``count`` cycles on an Engine or DurableEngine; returns commands issued."""
    agents = [f"a{i}" for i in range(AGENTS)]
    commands = 0
    for agent in agents:
        target.add_agent(AgentSpec(id=agent), ready=True)
        commands += 1
    for number in range(count):
        clock[0] += 0.01
        task = target.submit(TaskSpec(id=f"t{number}", value=number % 11))
        target.accept(task.id)
        target.complete(task.id, wrap_up=0.0)
        commands += 3
    return commands


def measure(name: str, build: Callable[[list[float]], Any], count: int) -> dict[str, Any]:
    clock = [0.0]
    target = build(clock)
    start = time.perf_counter()
    commands = cycles(target, count, clock)
    if isinstance(target, DurableEngine):
        target.flush()
    elapsed = time.perf_counter() - start
    if isinstance(target, DurableEngine):
        target.close()
    return {
        "mode": name,
        "commands": commands,
        "seconds": elapsed,
        "per_second": commands / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=20_000)
    parser.add_argument("--every-cycles", type=int, default=500)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(
            measure("in-memory engine", lambda c: make_engine(lambda: c[0]), options.cycles)
        )
        for sync, count in (
            ("none", options.cycles),
            ("group", options.cycles),
            ("every", options.every_cycles),
        ):
            path = Path(folder) / f"{sync}.journal"
            rows.append(
                measure(
                    f"durable, sync={sync}",
                    lambda c, p=path, s=sync: DurableEngine.open(
                        p, make_engine, sync=s, clock=lambda: c[0]
                    ),
                    count,
                )
            )
        path = Path(folder) / "group.journal"
        start = time.perf_counter()
        full = DurableEngine.open(path, make_engine)
        replay_seconds = time.perf_counter() - start
        replayed = full.report.replayed
        start = time.perf_counter()
        full.snapshot()
        snapshot_seconds = time.perf_counter() - start
        full.close()
        start = time.perf_counter()
        DurableEngine.open(path, make_engine).close()
        from_snapshot_seconds = time.perf_counter() - start
    print(f"{'mode':<26}{'commands':>10}{'seconds':>10}{'commands/s':>14}")
    for row in rows:
        rate = row["per_second"]
        print(f"{row['mode']:<26}{row['commands']:>10}{row['seconds']:>10.3f}{rate:>14,.0f}")
    print(f"recovery by full replay of {replayed} records: {replay_seconds:.3f} s")
    print(f"snapshot write: {snapshot_seconds * 1000:.1f} ms; "
          f"recovery from that snapshot: {from_snapshot_seconds * 1000:.1f} ms")  # fmt: skip
    group = next(r for r in rows if r["mode"] == "durable, sync=group")
    verdict = "met" if group["per_second"] >= 20_000 else "MISSED"
    print(f"group commit target >= 20,000 commands/s: {verdict}")
    results = results_dir()
    results.mkdir(exist_ok=True)
    (results / "bench_journal.json").write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "rows": rows,
                "replay": {"records": replayed, "seconds": replay_seconds},
                "snapshot_seconds": snapshot_seconds,
                "recovery_from_snapshot_seconds": from_snapshot_seconds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
