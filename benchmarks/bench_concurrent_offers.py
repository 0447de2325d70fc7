"""Concurrent offers: the offer cycle with one task offered to k agents against k = 1.

Two centres, each built twice in the same run (``concurrent_offers=1`` and
``concurrent_offers=k``) and driven by the same arrivals:

- ``busy``: A agents (default 2,000), every one busy, W tasks waiting
  (default 10,000). One cycle: a task is submitted (it waits), an agent
  completes its task, the engine offers it the best task it may take (with
  k > 1 it also looks for other free agents, and finds none), the agent
  accepts. The cost of the round's search when nobody else is free.
- ``idle``: A agents, nobody waiting, most agents free. One cycle: a task is
  submitted and offered to the k longest idle agents, the first accepts (the
  others' offers are revoked and their slots freed), and completes. The
  cost of k offers, k - 1 revokes and their events per task.

Reports microseconds per cycle (best of ``--repeats``) and the k-to-1 ratio.

    python benchmarks/bench_concurrent_offers.py [--agents 2000] [--waiting 10000]
        [--cycles 30000] [--repeats 3] [--k 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time

import numpy as np

from _timing import results_dir
from bench_engine import REQUIREMENT_SETS, SKILLS, Clock, requirement_sets
from valueroute import AgentSpec, AgingPriority, Engine, TaskSpec, TaskState


def build(
    agents: int, waiting: int, k: int
) -> tuple[Engine, Clock, list[dict[str, float]], np.random.Generator]:
    """Agents covering the requirement sets (as in bench_engine) and ``waiting`` tasks."""
    rng = np.random.default_rng(11)
    clock = Clock()
    engine = Engine(
        clock=clock,
        policy=AgingPriority(seconds_per_point=60),
        offer_timeout=None,
        closed_memory=0,
        concurrent_offers=k,
    )
    sets = requirement_sets(rng)
    for i in range(agents):
        skills: dict[str, float] = {}
        for pick in rng.choice(REQUIREMENT_SETS, size=2, replace=False):
            skills.update(dict.fromkeys(sets[int(pick)], 3.0))
        skills[f"s{int(rng.integers(SKILLS))}"] = 2.0
        engine.add_agent(AgentSpec(id=f"a{i}", skills=skills), ready=True)
    groups = rng.integers(0, REQUIREMENT_SETS, size=waiting)
    for i in range(waiting):
        clock.now += 0.0001
        engine.submit(TaskSpec(id=f"w{i}", skills=sets[int(groups[i])]))
        for offer in engine.offers_of(f"w{i}"):
            engine.accept(f"w{i}", offer.agent.id)
            break
    return engine, clock, sets, rng


def busy_cycles(engine: Engine, clock: Clock, specs: list[TaskSpec], first: int, n: int) -> float:
    agent_ids = [agent.id for agent in engine.agents]
    offered = TaskState.offered
    cursor = first % len(agent_ids)
    began = time.perf_counter()
    for i in range(first, first + n):
        clock.now += 0.001
        engine.submit(specs[i])
        agent_id = agent_ids[cursor]
        cursor = (cursor + 1) % len(agent_ids)
        for task in engine.tasks_of(agent_id):
            if task.state is offered:
                engine.accept(task.id, agent_id)
            engine.complete(task.id)
        for task in engine.tasks_of(agent_id):
            if task.state is offered:
                engine.accept(task.id, agent_id)
    return (time.perf_counter() - began) / n


def idle_cycles(engine: Engine, clock: Clock, specs: list[TaskSpec], first: int, n: int) -> float:
    began = time.perf_counter()
    for i in range(first, first + n):
        clock.now += 0.001
        spec = specs[i]
        engine.submit(spec)
        offers = engine.offers_of(spec.id)
        if offers:
            engine.accept(spec.id, offers[0].agent.id)
            engine.complete(spec.id)
    return (time.perf_counter() - began) / n


def measure(agents: int, waiting: int, count: int, repeats: int, k: int) -> dict[str, float]:
    result: dict[str, float] = {"agents": agents, "waiting": waiting, "k": k}
    for centre, backlog, cycles in (
        ("busy", waiting, busy_cycles),
        ("idle", 0, idle_cycles),
    ):
        for setting in (1, k):
            engine, clock, sets, rng = build(agents, backlog, setting)
            arrivals = rng.integers(0, REQUIREMENT_SETS, size=count * (repeats + 1))
            specs = [
                TaskSpec(id=f"n{i}", skills=sets[int(a)]) for i, a in enumerate(arrivals.tolist())
            ]
            gc.collect()
            cycles(engine, clock, specs, 0, count // 5)  # warm-up
            first = count
            best = float("inf")
            for _ in range(repeats):
                best = min(best, cycles(engine, clock, specs, first, count - 1))
                first += count
            engine._check()
            result[f"{centre}_k{setting}_us"] = best * 1e6
        result[f"{centre}_ratio"] = result[f"{centre}_k{k}_us"] / result[f"{centre}_k1_us"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=2_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    r = measure(args.agents, args.waiting, args.cycles, args.repeats, args.k)
    k = args.k
    print(f"{'centre':>7} {'k=1 us':>8} {f'k={k} us':>8} {'ratio':>6}")
    for centre in ("busy", "idle"):
        print(
            f"{centre:>7} {r[f'{centre}_k1_us']:>8.2f} {r[f'{centre}_k{k}_us']:>8.2f} "
            f"{r[f'{centre}_ratio']:>6.2f}"
        )
    out = results_dir() / "bench_concurrent_offers.json"
    out.write_text(json.dumps({"python": platform.python_version(), "results": [r]}, indent=2))


if __name__ == "__main__":
    main()
