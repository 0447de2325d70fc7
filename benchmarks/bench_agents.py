"""Agent pool speed: indexed selection against a scan of all agents, same run.

Scenario: 10,000 agents, 50 skills, 200 requirement groups (one or two
required skills with minimum levels 1-3, on voice, chat or email). Each agent
has four skills at levels 1-5 drawn with a skewed popularity (a few common
skills, a long tail), capacity voice 1, chat 2, email 3; 70 % are ready and
idle, 10 % hold a chat, 20 % are not ready. Two skill-profile shapes:

- ``templated``: agents copy one of 300 skill templates (a centre that
  provisions agents by role), so profiles are shared;
- ``individual``: every agent's skills are drawn separately, so nearly every
  agent is its own profile (the worst case for per-profile indexes).

Measured per shape:

- ``select`` with each built-in strategy against the baseline that scans
  every agent, testing skills and capacity, and takes the minimum of the same
  key (the two are first checked to pick the same agent for every group);
- ``take`` + ``release`` of one task (index upkeep) against plain load
  counters (what a scanning pool does);
- a full push cycle ``select`` + ``take`` + ``release`` against scan + counters;
- ``eligible_groups`` against testing all 200 groups.

Writes JSON to benchmarks/results/bench_agents.json.

    python benchmarks/bench_agents.py [--repeats 5] [--agents 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _timing import results_dir
from valueroute.agents import (
    Agent,
    AgentPool,
    AgentSelection,
    LeastOccupied,
    LongestIdle,
    MostProficient,
    TopDown,
)
from valueroute.models import AgentSpec
from valueroute.task import RequirementGroup
from valueroute.tasklist import TaskList

AGENTS = 10_000
SKILLS = 50
GROUPS = 200
TEMPLATES = 300
CHANNELS = ("voice", "chat", "email")
SEED = 20261125


def skill_popularity() -> np.ndarray:
    weights = 1.0 / np.arange(1, SKILLS + 1) ** 0.8
    return weights / weights.sum()


def draw_skills(rng: np.random.Generator) -> dict[str, float]:
    names = rng.choice(SKILLS, size=4, replace=False, p=skill_popularity())
    return {f"skill{int(n):02d}": float(rng.integers(1, 6)) for n in names}


def build(shape: str, agents: int, rng: np.random.Generator) -> tuple[AgentPool, TaskList]:
    pool = AgentPool()
    tasks = TaskList()
    templates = [draw_skills(rng) for _ in range(TEMPLATES)]
    chatting: list[Agent] = []
    for i in range(agents):
        if shape == "templated":
            skills = templates[int(rng.integers(TEMPLATES))]
        else:
            skills = draw_skills(rng)
        spec = AgentSpec(
            id=f"agent{i:05d}", skills=skills, capacity={"voice": 1, "chat": 2, "email": 3}
        )
        roll = rng.random()
        presence = "not_ready" if roll < 0.2 else "ready"
        agent = pool.add(spec, now=i * 0.1, presence=presence)
        if 0.2 <= roll < 0.3:
            chatting.append(agent)
    for agent in chatting:
        pool.take(agent, "chat", now=agents * 0.1)
    popularity = skill_popularity()
    while len(tasks.groups) < GROUPS:
        count = int(rng.integers(1, 3))
        names = rng.choice(SKILLS, size=count, replace=False, p=popularity)
        required = {f"skill{int(n):02d}": float(rng.integers(1, 4)) for n in names}
        tasks.group_for(CHANNELS[int(rng.integers(3))], required)
    return pool, tasks


# ------------------------------------------------------------------ baseline

ScanKey = Callable[[Agent, RequirementGroup, float], tuple[Any, ...]]

SCAN_KEYS: dict[str, ScanKey] = {
    "longest_idle": lambda a, g, now: (a.idle_since, a.order),
    "most_proficient": lambda a, g, now: (
        -math.fsum(a.skills[name] for name, _ in g.skills) / len(g.skills),
        a.idle_since,
        a.order,
    ),
    "least_occupied": lambda a, g, now: (a.load_ratio(), a.idle_since, a.order),
    "top_down": lambda a, g, now: (a.order,),
}

STRATEGIES: dict[str, AgentSelection] = {
    "longest_idle": LongestIdle(),
    "most_proficient": MostProficient(),
    "least_occupied": LeastOccupied(),
    "top_down": TopDown(),
}


def scan_select(pool: AgentPool, group: RequirementGroup, key: ScanKey, now: float) -> Agent | None:
    """The baseline: look at every agent."""
    best: Agent | None = None
    best_key: tuple[Any, ...] | None = None
    channel = group.channel
    for agent in pool._agents.values():
        if group.admits(agent.skills) and pool.can_take(agent, channel):
            candidate = key(agent, group, now)
            if best_key is None or candidate < best_key:
                best, best_key = agent, candidate
    return best


class CounterLoads:
    """A scanning pool's take/release: load counters and nothing to keep sorted."""

    def __init__(self, pool: AgentPool) -> None:
        self.load = {agent.id: dict(agent.load) for agent in pool}
        self.idle_since = {agent.id: agent.idle_since for agent in pool}

    def take(self, agent: Agent, channel: str) -> None:
        self.load[agent.id][channel] += 1

    def release(self, agent: Agent, channel: str, now: float) -> None:
        self.load[agent.id][channel] -= 1
        self.idle_since[agent.id] = now


def per_call(function: Callable[[], int], repeats: int) -> float:
    """Best-of-``repeats`` seconds per call; ``function`` returns its call count."""
    function()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        calls = function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def measure(shape: str, agents: int, repeats: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    pool, tasks = build(shape, agents, rng)
    groups = tasks.groups
    now = agents * 0.1
    for name, strategy in STRATEGIES.items():
        for group in groups:
            ours = pool.select(group, now=now, strategy=strategy)
            theirs = scan_select(pool, group, SCAN_KEYS[name], now)
            assert ours is theirs, (name, group, ours, theirs)
    admitted = [len(pool._profiles_for(g)) for g in groups]
    available = [sum(1 for _ in pool.available_agents(g)) for g in groups]
    rows: list[dict[str, Any]] = []

    def row(case: str, ours: float, baseline: float) -> None:
        rows.append(
            {
                "shape": shape,
                "case": case,
                "ours_us": ours * 1e6,
                "baseline_us": baseline * 1e6,
                "speedup": baseline / ours,
            }
        )

    for name, strategy in STRATEGIES.items():

        def ours_select(strategy: AgentSelection = strategy) -> int:
            for group in groups:
                pool.select(group, now=now, strategy=strategy)
            return len(groups)

        def scan(name: str = name) -> int:
            key = SCAN_KEYS[name]
            for group in groups[:20]:
                scan_select(pool, group, key, now)
            return 20

        row(f"select {name}", per_call(ours_select, repeats), per_call(scan, max(1, repeats // 2)))

    ready_idle = [a for a in pool if a.state == "ready"][:2000]
    counters = CounterLoads(pool)
    clock = [now]

    def cycle_ours() -> int:
        t = clock[0] = clock[0] + 1.0
        for agent in ready_idle:
            pool.take(agent, "chat", now=t)
            pool.release(agent, "chat", now=t)
        return len(ready_idle)

    def cycle_counters() -> int:
        t = clock[0]
        for agent in ready_idle:
            counters.take(agent, "chat")
            counters.release(agent, "chat", t)
        return len(ready_idle)

    row("take + release", per_call(cycle_ours, repeats), per_call(cycle_counters, repeats))

    def push_ours() -> int:
        t = clock[0] = clock[0] + 1.0
        for group in groups:
            agent = pool.select(group, now=t)
            if agent is not None:
                pool.take(agent, group.channel, now=t)
                pool.release(agent, group.channel, now=t)
        return len(groups)

    def push_scan() -> int:
        t = clock[0]
        key = SCAN_KEYS["longest_idle"]
        for group in groups[:20]:
            agent = scan_select(pool, group, key, t)
            if agent is not None:
                counters.take(agent, group.channel)
                counters.release(agent, group.channel, t)
        return 20

    row(
        "push cycle (select+take+release)",
        per_call(push_ours, repeats),
        per_call(push_scan, max(1, repeats // 2)),
    )

    def eligible_ours() -> int:
        for agent in ready_idle:
            pool.eligible_groups(agent, groups)
        return len(ready_idle)

    def eligible_scan() -> int:
        for agent in ready_idle:
            [g for g in groups if g.admits(agent.skills) and pool.can_take(agent, g.channel)]
        return len(ready_idle)

    row("eligible_groups", per_call(eligible_ours, repeats), per_call(eligible_scan, repeats))
    for item in rows:
        item["profiles"] = len(pool._profiles)
        item["admitted_profiles_mean"] = float(np.mean(admitted))
        item["available_agents_mean"] = float(np.mean(available))
    pool._check()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--agents", type=int, default=AGENTS)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for shape in ("templated", "individual"):
        rows.extend(measure(shape, args.agents, args.repeats))
    print(
        f"Agent pool: {args.agents:,} agents, {SKILLS} skills, {GROUPS} groups; "
        f"best of {args.repeats}"
    )
    for shape in ("templated", "individual"):
        first = next(r for r in rows if r["shape"] == shape)
        print(
            f"\n{shape}: {first['profiles']:,} profiles; per group on average "
            f"{first['admitted_profiles_mean']:.0f} admitted profiles, "
            f"{first['available_agents_mean']:.0f} available agents"
        )
        print(f"{'case':<34} {'ours µs':>10} {'scan µs':>10} {'speedup':>9}")
        for r in rows:
            if r["shape"] == shape:
                print(
                    f"{r['case']:<34} {r['ours_us']:>10.2f} {r['baseline_us']:>10.2f} "
                    f"{r['speedup']:>8.1f}x"
                )
    out = results_dir()
    out.mkdir(exist_ok=True)
    payload = {
        "benchmark": "bench_agents",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "agents": args.agents,
        "skills": SKILLS,
        "groups": GROUPS,
        "repeats": args.repeats,
        "rows": rows,
    }
    (out / "bench_agents.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
