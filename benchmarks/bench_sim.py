"""Simulator speed and memory: the real engine in SimPy against plain SimPy and Ciw.

Case 1, M/M/c+M: c = 50 agents, utilisation 0.9, exponential handle times
(mean 300 s) and exponential patience with mean = AHT; ``--tasks`` arrivals
(1,000,000 by default). Simulated tasks per CPU second of:

- valueroute: :class:`valueroute.sim.World` driving the routing engine, its
  KPIs counted by the event aggregator (``valueroute.kpi``) from the engine's
  events, as every simulated run's are;
- plain SimPy: the same system written directly, a process per customer and
  a ``simpy.Resource`` with ``AnyOf(request, patience timeout)``;
- Ciw, when installed (``pip install ciw``), with reneging; run on
  ``--ciw-tasks`` arrivals (200,000 by default) since it is slower.

valueroute and plain SimPy run ``--rounds`` times each, alternating (3 by
default), timed in CPU seconds of this process (``time.process_time``: on a
shared machine it varies far less than wall time); the ratio of each round's
pair is reported as min / median / max.

Peak memory of the valueroute run is measured with tracemalloc in a second,
shorter run (tracemalloc slows Python down; the peak is what matters) and
with ``resource.getrusage`` (max RSS of the process) at the end.

Case 2, a contact-centre day: 1,000 agents, 20 skills (each agent has 3),
20 task types, 300,000 tasks in eight hours at about 90 % occupancy, under
the ``aging_priority`` policy.

Targets: valueroute at least 0.75× plain SimPy (issue #16; 1.0× before it)
and 3× Ciw; peak memory at most 300 MB; the contact-centre day in at most
20 s. Writes benchmarks/results/bench_sim.json.

    python benchmarks/bench_sim.py [--tasks 1000000] [--rounds 3] [--ciw-tasks 200000]
        [--day-tasks 300000]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import resource
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np
import simpy

from _timing import results_dir
from valueroute.sim import Scenario, World

AGENTS = 50
UTILISATION = 0.9
AHT = 300.0
PATIENCE = AHT


def mmc_scenario(tasks: int, *, seed: int = 1) -> Scenario:
    rate_per_second = UTILISATION * AGENTS / AHT
    horizon = tasks / rate_per_second
    return Scenario.model_validate(
        {
            "name": "M/M/c+M",
            "horizon_seconds": horizon,
            "interval_minutes": 60,
            "seed": seed,
            "task_types": [
                {
                    "name": "calls",
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                    "patience": {"kind": "exponential", "mean_seconds": PATIENCE},
                }
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": rate_per_second * 3600}
            ],
            "agent_groups": [{"name": "agents", "count": AGENTS}],
        }
    )


def run_valueroute(tasks: int) -> dict[str, Any]:
    scenario = mmc_scenario(tasks)
    gc.collect()
    start = time.process_time()
    world = World(scenario)
    world.run()
    result = world.result()
    seconds = time.process_time() - start
    k = result.kpis["calls"]
    return {
        "seconds": seconds,
        "tasks": k["offered"],
        "tasks_per_second": k["offered"] / seconds,
        "p_abandon": k["abandonment_rate"],
        "asa": k["asa"],
    }


def run_plain_simpy(tasks: int, *, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    rate = UTILISATION * AGENTS / AHT
    gaps = rng.exponential(1.0 / rate, tasks).tolist()
    handles = rng.exponential(AHT, tasks).tolist()
    patiences = rng.exponential(PATIENCE, tasks).tolist()
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    counts = {"answered": 0, "abandoned": 0, "wait": 0.0}

    def customer(handle: float, patience: float) -> Any:
        arrived = env.now
        with agents.request() as request:
            outcome = yield request | env.timeout(patience)
            if request in outcome:
                counts["answered"] += 1
                counts["wait"] += env.now - arrived
                yield env.timeout(handle)
            else:
                counts["abandoned"] += 1

    def source() -> Any:
        for gap, handle, patience in zip(gaps, handles, patiences, strict=True):
            yield env.timeout(gap)
            env.process(customer(handle, patience))

    env.process(source())
    gc.collect()
    start = time.process_time()
    env.run()
    seconds = time.process_time() - start
    closed = counts["answered"] + counts["abandoned"]
    return {
        "seconds": seconds,
        "tasks": tasks,
        "tasks_per_second": tasks / seconds,
        "p_abandon": counts["abandoned"] / closed,
        "asa": counts["wait"] / max(1, counts["answered"]),
    }


def run_ciw(tasks: int) -> dict[str, Any] | None:
    try:
        import ciw  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    rate = UTILISATION * AGENTS / AHT
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / AHT)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1.0 / PATIENCE)],
    )
    ciw.seed(1)
    simulation = ciw.Simulation(network)
    start = time.process_time()
    simulation.simulate_until_max_customers(tasks, method="Arrive")
    seconds = time.process_time() - start
    records = simulation.get_all_records()
    abandoned = sum(1 for r in records if r.record_type == "renege")
    return {
        "seconds": seconds,
        "tasks": tasks,
        "tasks_per_second": tasks / seconds,
        "p_abandon": abandoned / max(1, len(records)),
        "version": getattr(ciw, "__version__", "?"),
    }


def peak_memory(tasks: int) -> float:
    """Peak traced Python memory in MB while simulating ``tasks`` arrivals."""
    tracemalloc.start()
    world = World(mmc_scenario(tasks, seed=2))
    world.run()
    world.result()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def day_scenario(tasks: int) -> Scenario:
    skills = [f"skill{i:02d}" for i in range(20)]
    horizon = 8 * 3600.0
    agents, occupancy = 1000, 0.9
    # Each type requires one skill; volumes follow a mild Zipf so types differ.
    weights = np.array([1.0 / (i + 1) ** 0.5 for i in range(20)])
    weights /= weights.sum()
    handle = occupancy * agents * horizon / tasks
    groups = []
    for g in range(50):
        own = {skills[(g + k * 7) % 20]: 1 + (g + k) % 3 for k in range(3)}
        groups.append({"name": f"team{g:02d}", "skills": own, "count": agents // 50})
    return Scenario.model_validate(
        {
            "name": "contact-centre day",
            "horizon_seconds": horizon,
            "interval_minutes": 30,
            "seed": 3,
            "task_types": [
                {
                    "name": f"type{i:02d}",
                    "skills": {skills[i]: 1},
                    "value": float(10 + i),
                    "priority": i % 3,
                    "handle": {"kind": "lognormal", "mean_seconds": handle, "cv": 0.8},
                    "patience": {"kind": "exponential", "mean_seconds": 240},
                }
                for i in range(20)
            ],
            "arrivals": [
                {
                    "kind": "poisson",
                    "task_type": f"type{i:02d}",
                    "rate_per_hour": float(weights[i] * tasks / 8),
                }
                for i in range(20)
            ],
            "agent_groups": groups,
            "routing": {"policy": "aging_priority", "policy_params": {"seconds_per_point": 60}},
        }
    )


def run_day(tasks: int) -> dict[str, Any]:
    scenario = day_scenario(tasks)
    start = time.perf_counter()
    world = World(scenario)
    world.run()
    result = world.result()
    seconds = time.perf_counter() - start  # wall time: the target is in seconds a user waits
    k = result.kpis["all"]
    occupancy = [g["occupancy"] for g in result.groups.values()]
    return {
        "seconds": seconds,
        "tasks": k["offered"],
        "tasks_per_second": k["offered"] / seconds,
        "service_level": k["service_level"],
        "abandonment_rate": k["abandonment_rate"],
        "mean_occupancy": sum(occupancy) / len(occupancy),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ciw-tasks", type=int, default=200_000)
    parser.add_argument("--day-tasks", type=int, default=300_000)
    parser.add_argument("--memory-tasks", type=int, default=200_000)
    args = parser.parse_args()

    rounds = []
    for _ in range(max(1, args.rounds)):
        # Alternating, so that a change in the machine's load touches both.
        ours_round = run_valueroute(args.tasks)
        plain_round = run_plain_simpy(args.tasks)
        rounds.append((ours_round, plain_round))
    ratios = [a["tasks_per_second"] / b["tasks_per_second"] for a, b in rounds]
    # The round with the median ratio stands for the rest in the table.
    ours, plain = rounds[sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]]
    ciw_run = run_ciw(min(args.ciw_tasks, args.tasks))
    memory = peak_memory(min(args.memory_tasks, args.tasks))
    day = run_day(args.day_tasks)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    rows = [("valueroute (engine in SimPy)", ours), ("plain SimPy", plain)]
    if ciw_run is not None:
        rows.append((f"Ciw {ciw_run['version']}", ciw_run))
    print(f"M/M/c+M, c={AGENTS}, utilisation {UTILISATION}, patience = AHT = {AHT:g} s")
    print(f"{'model':<30}{'tasks':>10}{'CPU s':>10}{'tasks/s':>12}{'P(abandon)':>12}")
    for name, row in rows:
        print(
            f"{name:<30}{row['tasks']:>10.0f}{row['seconds']:>10.2f}"
            f"{row['tasks_per_second']:>12,.0f}{row['p_abandon']:>12.4f}"
        )
    vs_simpy = statistics.median(ratios)
    vs_ciw = None if ciw_run is None else ours["tasks_per_second"] / ciw_run["tasks_per_second"]
    print(
        f"\nvalueroute / plain SimPy over {len(ratios)} alternating rounds: "
        f"min {min(ratios):.2f}x, median {vs_simpy:.2f}x, max {max(ratios):.2f}x "
        "(target >= 0.75x)"
    )
    if vs_ciw is not None:
        print(f"valueroute / Ciw:         {vs_ciw:.2f}x (target >= 3x)")
    else:
        print("Ciw not installed: pip install ciw to measure it")
    print(
        f"peak traced memory ({min(args.memory_tasks, args.tasks):,} tasks): {memory:.1f} MB; "
        f"max RSS of this process: {rss_mb:.0f} MB (target <= 300 MB)"
    )
    print(
        f"\ncontact-centre day: 1,000 agents, 20 skills, {day['tasks']:,.0f} tasks in "
        f"{day['seconds']:.1f} s ({day['tasks_per_second']:,.0f} tasks/s; target <= 20 s); "
        f"SL {day['service_level']:.1%}, abandoned {day['abandonment_rate']:.1%}, "
        f"occupancy {day['mean_occupancy']:.1%}"
    )
    out = results_dir() / "bench_sim.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "mmc": {"valueroute": ours, "plain_simpy": plain, "ciw": ciw_run},
                "rounds": [{"valueroute": a, "plain_simpy": b} for a, b in rounds],
                "ratio_vs_plain_simpy": vs_simpy,
                "ratio_vs_plain_simpy_min": min(ratios),
                "ratio_vs_plain_simpy_max": max(ratios),
                "ratio_vs_ciw": vs_ciw,
                "peak_traced_mb": memory,
                "max_rss_mb": rss_mb,
                "day": day,
            },
            indent=2,
            default=lambda v: None if isinstance(v, float) and math.isnan(v) else str(v),
        )
    )
    print(f"\nwritten: {out.name}")


if __name__ == "__main__":
    main()
