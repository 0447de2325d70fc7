"""TaskList at enterprise scale, against raw heapq in the same run.

Scenario: N open tasks (default 1,000,000) spread over 200 requirement
groups; an agent eligible for 20 of them repeatedly takes the best task while
new tasks arrive (one add + best + remove cycle). Baseline: heappush +
heappop on a heapq of N tuples, the cheapest exact priority queue Python has.

Reports: cycle cost and its ratio to the baseline (target <= 5x); memory per
open task measured with tracemalloc (target <= 600 bytes); time to build the
list from N validated specs (target < 10 s). Writes JSON to
benchmarks/results/bench_tasklist.json.

    python benchmarks/bench_tasklist.py [--tasks 1000000] [--cycles 200000]
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import platform
import time
import tracemalloc

import numpy as np

from _timing import results_dir
from valueroute import AgingPriority, Fifo, StrictPriority, TaskList, TaskSpec
from valueroute.scoring import Policy

GROUPS = 200
ELIGIBLE = 20
SKILLS = 50


def make_specs(n: int, rng: np.random.Generator) -> list[TaskSpec]:
    skill_of_group = [(f"skill{g % SKILLS}", float(1 + g // SKILLS)) for g in range(GROUPS)]
    groups = rng.integers(0, GROUPS, size=n)
    priorities = rng.integers(0, 10, size=n)
    created = np.sort(rng.uniform(0.0, 3600.0, size=n))
    values = rng.uniform(0.0, 500.0, size=n).round(2)
    return [
        TaskSpec(
            id=f"t{i}",
            priority=int(priorities[i]),
            value=float(values[i]),
            created=float(created[i]),
            skills=dict([skill_of_group[groups[i]]]),
        )
        for i in range(n)
    ]


def bench_heapq(n: int, cycles: int, rng: np.random.Generator) -> float:
    keys = rng.uniform(0, 1e6, size=n + cycles).tolist()
    heap = [(keys[i], i, None) for i in range(n)]
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    start = time.perf_counter()
    for i in range(n, n + cycles):
        push(heap, (keys[i], i, None))
        pop(heap)
    return (time.perf_counter() - start) / cycles


def bench_cycle(
    tasks: TaskList, cycles: int, now: float, rng: np.random.Generator
) -> tuple[float, list[float]]:
    eligible = tasks.groups[:ELIGIBLE]
    # Arrivals land in the agent's groups, so the cycle neither drains nor grows them.
    arrivals_group = rng.integers(0, ELIGIBLE, size=cycles)
    arrivals_priority = rng.integers(0, 10, size=cycles)
    new_specs = [
        TaskSpec(
            id=f"n{i}",
            priority=int(arrivals_priority[i]),
            skills=dict(eligible[int(arrivals_group[i])].skills),
        )
        for i in range(cycles)
    ]
    add, best, remove = tasks.add, tasks.best, tasks.remove
    samples: list[float] = []
    clock = time.perf_counter
    start = clock()
    for i, spec in enumerate(new_specs):
        t0 = clock()
        now += 0.001
        add(spec, now=now)
        task = best(eligible, now)
        assert task is not None
        remove(task.id)
        if i % 64 == 0:
            samples.append(clock() - t0)
    return (clock() - start) / cycles, samples


def run(n: int, cycles: int, policy_name: str) -> dict[str, object]:
    policies: dict[str, Policy] = {
        "strict_priority": StrictPriority(),
        "aging_priority": AgingPriority(seconds_per_point=60),
        "fifo": Fifo(),
    }
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    specs = make_specs(n, rng)
    spec_seconds = time.perf_counter() - t0

    # Memory: the list's own footprint (the specs are the caller's), traced.
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    traced = TaskList(policies[policy_name])
    traced.extend(specs, now=3600.0)
    bytes_per_task = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    del traced
    gc.collect()

    # Build time, untraced (tracemalloc slows allocation several-fold).
    t0 = time.perf_counter()
    tasks = TaskList(policies[policy_name])
    tasks.extend(specs, now=3600.0)
    build_seconds = time.perf_counter() - t0

    heap_cycle = bench_heapq(n, cycles, rng)
    cycle, samples = bench_cycle(tasks, cycles, 3600.0, rng)
    tasks_after = len(tasks)
    p50, p99 = np.percentile(np.array(samples) * 1e6, [50, 99])
    return {
        "policy": policy_name,
        "open_tasks": n,
        "groups": GROUPS,
        "eligible_groups": ELIGIBLE,
        "cycles": cycles,
        "spec_validation_s": round(spec_seconds, 3),
        "build_from_specs_s": round(build_seconds, 3),
        "bytes_per_task": round(bytes_per_task, 1),
        "heapq_push_pop_us": round(heap_cycle * 1e6, 3),
        "cycle_us": round(cycle * 1e6, 3),
        "cycle_p50_us": round(float(p50), 3),
        "cycle_p99_us": round(float(p99), 3),
        "ratio_to_heapq": round(cycle / heap_cycle, 2),
        "open_tasks_after": tasks_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--cycles", type=int, default=200_000)
    parser.add_argument(
        "--policy",
        action="append",
        choices=["strict_priority", "aging_priority", "fifo"],
        help="policies to run (default: strict_priority and aging_priority)",
    )
    args = parser.parse_args()
    results = [
        run(args.tasks, args.cycles, name)
        for name in args.policy or ["strict_priority", "aging_priority"]
    ]
    header = (
        f"{'policy':<16} {'tasks':>9} {'build s':>8} {'B/task':>7} "
        f"{'heapq us':>9} {'cycle us':>9} {'p99 us':>8} {'ratio':>6}"
    )
    print(header)
    for r in results:
        print(
            f"{r['policy']:<16} {r['open_tasks']:>9} {r['build_from_specs_s']:>8} "
            f"{r['bytes_per_task']:>7} {r['heapq_push_pop_us']:>9} {r['cycle_us']:>9} "
            f"{r['cycle_p99_us']:>8} {r['ratio_to_heapq']:>6}"
        )
    out = results_dir()
    out.mkdir(exist_ok=True)
    payload = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
    }
    (out / "bench_tasklist.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
