"""The engine at enterprise scale: sustained submit -> offer -> accept -> complete cycles.

Setup: A agents (default 10,000) with 2-4 of 50 skills each, 200 requirement
sets, and W waiting tasks (default 1,000,000) so every agent is busy. One
cycle: a new task is submitted (it waits: nobody is free), an agent completes
its task, the engine picks the best task that agent may take across all
queues and offers it (the routing decision), and the agent accepts. The
backlog stays at W.

Sustained means after a warm-up: the first ``--warmup`` cycles (untimed in
the rate, reported on their own) include each skill profile's first pull,
when the pool tests the requirement groups against that profile once
(10,000 distinct profiles x 200 groups here).

Reports cycles per second, p50/p99 latency of the routing decision (the
``complete`` call, which frees the agent and runs the pull), and a raw heapq
push+pop on W tuples measured in the same run. Targets: >= 30,000 cycles/s
and p99 <= 200 us at W = 1,000,000; >= 100,000 cycles/s at W = 10,000.

    python benchmarks/bench_engine.py [--waiting 1000000] [--agents 10000] [--cycles 100000]
        [--warmup 10000]
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import platform
import time
from pathlib import Path

import numpy as np

from valueroute import AgentSpec, AgingPriority, Engine, TaskSpec, TaskState

SKILLS = 50
REQUIREMENT_SETS = 200


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def requirement_sets(rng: np.random.Generator) -> list[dict[str, float]]:
    sets: list[dict[str, float]] = []
    seen: set[tuple[tuple[str, float], ...]] = set()
    while len(sets) < REQUIREMENT_SETS:
        size = int(rng.integers(1, 3))
        skills = rng.choice(SKILLS, size=size, replace=False)
        req = {f"s{int(s)}": float(rng.integers(1, 3)) for s in skills}
        key = tuple(sorted(req.items()))
        if key not in seen:
            seen.add(key)
            sets.append(req)
    return sets


def build(
    agents: int, waiting: int, rng: np.random.Generator
) -> tuple[Engine, Clock, list[dict[str, float]]]:
    clock = Clock()
    engine = Engine(
        clock=clock,
        policy=AgingPriority(seconds_per_point=60),
        offer_timeout=None,
        auto_accept=False,
        closed_memory=0,
    )
    sets = requirement_sets(rng)
    # Agents cover the requirement sets: each takes two sets' skills at level 3
    # plus a random extra skill, so every set has agents and agents overlap.
    for i in range(agents):
        skills: dict[str, float] = {}
        for pick in rng.choice(REQUIREMENT_SETS, size=2, replace=False):
            skills.update(dict.fromkeys(sets[int(pick)], 3.0))
        skills[f"s{int(rng.integers(SKILLS))}"] = 2.0
        engine.add_agent(AgentSpec(id=f"a{i}", skills=skills), ready=True)
    groups = rng.integers(0, REQUIREMENT_SETS, size=waiting)
    priorities = rng.integers(0, 10, size=waiting)
    for i in range(waiting):
        clock.now += 0.0001
        engine.submit(
            TaskSpec(id=f"w{i}", priority=int(priorities[i]), skills=sets[int(groups[i])])
        )
    # Everyone who got an offer accepts it.
    for agent in engine.agents:
        for task in engine.tasks_of(agent.id):
            engine.accept(task.id)
    return engine, clock, sets


def heapq_baseline(n: int, cycles: int, rng: np.random.Generator) -> float:
    keys = rng.uniform(0, 1e6, size=n + cycles).tolist()
    heap = [(keys[i], i) for i in range(n)]
    heapq.heapify(heap)
    start = time.perf_counter()
    for i in range(n, n + cycles):
        heapq.heappush(heap, (keys[i], i))
        heapq.heappop(heap)
    return (time.perf_counter() - start) / cycles


def run(agents: int, waiting: int, cycles: int, warmup: int) -> dict[str, object]:
    rng = np.random.default_rng(11)
    t0 = time.perf_counter()
    engine, clock, sets = build(agents, waiting, rng)
    build_s = time.perf_counter() - t0
    gc.collect()
    total = warmup + cycles
    arrivals = rng.integers(0, REQUIREMENT_SETS, size=total)
    priorities = rng.integers(0, 10, size=total)
    specs = [
        TaskSpec(id=f"n{i}", priority=int(priorities[i]), skills=sets[int(arrivals[i])])
        for i in range(total)
    ]
    agent_ids = [agent.id for agent in engine.agents]
    cursor = 0
    decisions: list[float] = []
    perf = time.perf_counter
    offered_state, assigned_state = TaskState.offered, TaskState.assigned
    start = perf()
    warmup_s = 0.0
    for i in range(total):
        if i == warmup:
            warmup_s = perf() - start
            decisions.clear()
            start = perf()
        clock.now += 0.001
        engine.submit(specs[i])
        agent_id = agent_ids[cursor]
        cursor = (cursor + 1) % len(agent_ids)
        working = None
        for task in engine.tasks_of(agent_id):
            if task.state is offered_state:
                engine.accept(task.id)
                working = task.id
            elif task.state is assigned_state:
                working = task.id
        if working is None:
            continue
        t = perf()
        engine.complete(working)
        decisions.append(perf() - t)
        for task in engine.tasks_of(agent_id):
            if task.state is offered_state:
                engine.accept(task.id)
    elapsed = perf() - start
    baseline = heapq_baseline(max(waiting, 1), min(cycles, 200_000), rng)
    p50, p99 = np.percentile(np.array(decisions) * 1e6, [50, 99])
    return {
        "agents": agents,
        "waiting": waiting,
        "cycles": cycles,
        "build_s": round(build_s, 1),
        "warmup_cycles": warmup,
        "warmup_s": round(warmup_s, 2),
        "cycles_per_s": round(cycles / elapsed),
        "decision_p50_us": round(float(p50), 1),
        "decision_p99_us": round(float(p99), 1),
        "cycle_us": round(elapsed / cycles * 1e6, 2),
        "heapq_push_pop_us": round(baseline * 1e6, 3),
        "cycle_to_heapq": round(elapsed / cycles / baseline, 1),
        "open_tasks_after": len(engine),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, action="append")
    parser.add_argument("--cycles", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    args = parser.parse_args()
    results = [
        run(args.agents, w, args.cycles, args.warmup) for w in args.waiting or [10_000, 1_000_000]
    ]
    print(
        f"{'agents':>7} {'waiting':>9} {'build s':>8} {'warm-up s':>9} {'cycles/s':>9} "
        f"{'p50 us':>7} {'p99 us':>7} {'cycle us':>9} {'heapq us':>9} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r['agents']:>7} {r['waiting']:>9} {r['build_s']:>8} {r['warmup_s']:>9} "
            f"{r['cycles_per_s']:>9} {r['decision_p50_us']:>7} {r['decision_p99_us']:>7} "
            f"{r['cycle_us']:>9} {r['heapq_push_pop_us']:>9} {r['cycle_to_heapq']:>6}"
        )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    payload = {"python": platform.python_version(), "results": results}
    (out / "bench_engine.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
