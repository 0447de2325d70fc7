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

import numpy as np

from _timing import results_dir
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
    agents: int, waiting: int, rng: np.random.Generator, *, auto_accept: bool = False
) -> tuple[Engine, Clock, list[dict[str, float]]]:
    clock = Clock()
    engine = Engine(
        clock=clock,
        policy=AgingPriority(seconds_per_point=60),
        offer_timeout=None,
        auto_accept=auto_accept,
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
    # Everyone who got an offer accepts it (with auto-accept nobody got one).
    for agent in engine.agents:
        for task in engine.tasks_of(agent.id):
            if task.state is TaskState.offered:
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


def bare_cycles(engine: Engine, specs: list[TaskSpec], start: int, clock: Clock) -> float:
    """Seconds per cycle of the same traffic on bare dicts, sets and heaps.

    The floor for any pure-Python engine making the same decisions (best task
    by aging priority across the agent's groups, longest idle agent for a new
    task): no validation, lifecycle, offers, events, statistics or timers. It
    starts from the engine's state after the timed run and replays the timed
    run's arrivals with the same agent rotation; eligibility is computed by
    brute force, independently of the pool's index.
    """
    groups = list(engine.tasklist.groups)
    index = {group: i for i, group in enumerate(groups)}
    agent_list = list(engine.agents)
    eligible = [[index[g] for g in groups if g.admits(agent.skills)] for agent in agent_list]
    heaps: list[list[tuple[float, float, int]]] = [[] for _ in groups]
    for task in engine.tasklist:
        assert task.group is not None
        key = (task.created / 60.0 - task.priority, task.created, task.seq)
        heaps[index[task.group]].append(key)
    for heap in heaps:
        heapq.heapify(heap)
    working: dict[int, int] = {}  # agent -> seq of its task
    idle_since: dict[int, float] = {}
    idle_by_group: list[set[int]] = [set() for _ in groups]
    for n, agent in enumerate(agent_list):
        held = engine.tasks_of(agent.id)
        if held:
            working[n] = held[0].seq
        else:
            idle_since[n] = agent.idle_since
            for g in eligible[n]:
                idle_by_group[g].add(n)
    # Every open task by seq, as an engine must keep it: waiting and in work.
    tasks: dict[int, int] = dict.fromkeys(working.values(), 0)
    for task in engine.tasklist:
        tasks[task.seq] = index[task.group]  # type: ignore[index]
    group_of = [index[engine.tasklist.group_for("voice", s.skills)] for s in specs]
    now = clock.now
    seq = engine.tasklist.next_seq_peek()
    cursor = start % len(agent_list)
    perf = time.perf_counter
    began = perf()
    for i in range(start, len(specs)):
        now += 0.001
        g = group_of[i]
        key = (now / 60.0 - specs[i].priority, now, seq)
        tasks[seq] = g
        candidates = idle_by_group[g]
        if candidates:
            a = min(candidates, key=lambda n: (idle_since[n], n))
            for h in eligible[a]:
                idle_by_group[h].discard(a)
            del idle_since[a]
            working[a] = seq
        else:
            heapq.heappush(heaps[g], key)
        seq += 1
        a = cursor
        cursor = (cursor + 1) % len(agent_list)
        done = working.pop(a, None)
        if done is None:
            continue
        del tasks[done]
        best: tuple[float, float, int] | None = None
        best_group = -1
        for h in eligible[a]:
            heap = heaps[h]
            if heap and (best is None or heap[0] < best):
                best = heap[0]
                best_group = h
        if best is None:
            idle_since[a] = now
            for h in eligible[a]:
                idle_by_group[h].add(a)
        else:
            heapq.heappop(heaps[best_group])
            working[a] = best[2]
    return (perf() - began) / (len(specs) - start)


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
    bare = bare_cycles(engine, specs, warmup, clock)
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
        "bare_cycle_us": round(bare * 1e6, 2),
        "bare_cycles_per_s": round(1 / bare),
        "cycle_to_bare": round(elapsed / cycles / bare, 1),
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
        f"{'p50 us':>7} {'p99 us':>7} {'cycle us':>9} {'heapq us':>9} {'ratio':>6} "
        f"{'bare us':>8} {'bare/s':>8} {'x bare':>7}"
    )
    for r in results:
        print(
            f"{r['agents']:>7} {r['waiting']:>9} {r['build_s']:>8} {r['warmup_s']:>9} "
            f"{r['cycles_per_s']:>9} {r['decision_p50_us']:>7} {r['decision_p99_us']:>7} "
            f"{r['cycle_us']:>9} {r['heapq_push_pop_us']:>9} {r['cycle_to_heapq']:>6} "
            f"{r['bare_cycle_us']:>8} {r['bare_cycles_per_s']:>8} {r['cycle_to_bare']:>7}"
        )
    out = results_dir()
    out.mkdir(exist_ok=True)
    payload = {"python": platform.python_version(), "results": results}
    (out / "bench_engine.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
