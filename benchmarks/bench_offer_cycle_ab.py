"""The host-accepted offer cycle of two source trees, run alternately.

Compares the engine of two checkouts (for instance the current code against
the code before a change) on the offer cycle of ``bench_auto_accept.py``: a
task is submitted (it waits), an agent completes its task, the engine offers
it the best task it may take, and the host accepts. A agents (default 2,000),
W waiting (default 10,000), every agent busy. Each run is a fresh process
importing one tree's ``src``; the runs alternate between the trees so both
see the same machine load. Reports CPU microseconds per cycle (best of
``--repeats`` in each run), each run's figure and the medians, and writes
them to benchmarks/results/bench_offer_cycle_ab.json.

    python benchmarks/bench_offer_cycle_ab.py BEFORE_SRC AFTER_SRC [--runs 6]
        [--agents 2000] [--waiting 10000] [--cycles 30000] [--repeats 3]

A tree's ``src`` folder is the one holding the ``valueroute`` package. The
centre is built only with features both trees have (no auto-accept, no
preferred agents, no queues), so any checkout can serve as the baseline.

``--auto-accept`` times the same cycle on an engine built with
``auto_accept=True`` instead (the engine assigns the agent's next task, no
offer to accept): the auto-accept cycle of ``bench_auto_accept.py``, for
trees that have the setting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from _timing import results_dir

SKILLS = 50
REQUIREMENT_SETS = 200


def one_run(
    agents: int, waiting: int, count: int, repeats: int, *, auto_accept: bool = False
) -> float:
    """CPU seconds per cycle in this process (best of ``repeats``): the offer
    cycle, or with ``auto_accept`` the auto-accept cycle."""
    import numpy as np

    from valueroute import AgentSpec, AgingPriority, Engine, TaskSpec, TaskState

    class Clock:
        def __init__(self) -> None:
            self.now = 0.0

        def __call__(self) -> float:
            return self.now

    rng = np.random.default_rng(11)
    sets: list[dict[str, float]] = []
    seen: set[tuple[tuple[str, float], ...]] = set()
    while len(sets) < REQUIREMENT_SETS:
        size = int(rng.integers(1, 3))
        picked = rng.choice(SKILLS, size=size, replace=False)
        req = {f"s{int(s)}": float(rng.integers(1, 3)) for s in picked}
        key = tuple(sorted(req.items()))
        if key not in seen:
            seen.add(key)
            sets.append(req)
    clock = Clock()
    # Only a cycle that asks for auto-accept passes the setting: a tree
    # without it can still be the baseline of the offer cycle.
    settings = {"auto_accept": True} if auto_accept else {}
    engine = Engine(
        clock=clock,
        policy=AgingPriority(seconds_per_point=60),
        offer_timeout=None,
        closed_memory=0,
        **settings,
    )
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
    offered = TaskState.offered
    for agent in engine.agents:
        for task in engine.tasks_of(agent.id):
            if task.state is offered:
                engine.accept(task.id)
    total = count * (repeats + 1)
    arrivals = rng.integers(0, REQUIREMENT_SETS, size=total)
    later = rng.integers(0, 10, size=total)
    specs = [
        TaskSpec(id=f"n{i}", priority=int(later[i]), skills=sets[int(arrivals[i])])
        for i in range(total)
    ]
    agent_ids = [agent.id for agent in engine.agents]
    submit, complete, accept, tasks_of = (
        engine.submit,
        engine.complete,
        engine.accept,
        engine.tasks_of,
    )
    cursor = 0

    def cycles(first: int) -> float:
        nonlocal cursor
        began = time.process_time()
        for i in range(first, first + count):
            clock.now += 0.001
            submit(specs[i])
            agent_id = agent_ids[cursor]
            cursor = (cursor + 1) % len(agent_ids)
            for task in tasks_of(agent_id):
                if task.state is offered:
                    accept(task.id)
                complete(task.id)
            for task in tasks_of(agent_id):
                if task.state is offered:
                    accept(task.id)
        return (time.process_time() - began) / count

    cycles(0)  # warm-up: each profile's first pull
    return min(cycles(count * (r + 1)) for r in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("before", nargs="?")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--agents", type=int, default=2_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--auto-accept",
        action="store_true",
        help="time the auto-accept cycle (Engine(auto_accept=True)) instead of the offer cycle",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seconds = one_run(
            args.agents, args.waiting, args.cycles, args.repeats, auto_accept=args.auto_accept
        )
        print(json.dumps(seconds))
        return
    if not (args.before and args.after):
        parser.error("give the two trees' src folders: BEFORE_SRC AFTER_SRC")
    figures: dict[str, list[float]] = {"before": [], "after": []}
    for run in range(args.runs):
        order = ("before", "after") if run % 2 == 0 else ("after", "before")
        for label in order:
            src = args.before if label == "before" else args.after
            env = dict(os.environ, PYTHONPATH=src)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    f"--agents={args.agents}",
                    f"--waiting={args.waiting}",
                    f"--cycles={args.cycles}",
                    f"--repeats={args.repeats}",
                    *(["--auto-accept"] if args.auto_accept else []),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            figures[label].append(float(out.stdout.strip()) * 1e6)
            print(f"run {run} {label:>6}: {figures[label][-1]:.2f} us", flush=True)
    medians = {label: statistics.median(runs) for label, runs in figures.items()}
    spreads = {label: f"{min(runs):.2f}-{max(runs):.2f}" for label, runs in figures.items()}
    print(
        f"median before {medians['before']:.2f} us ({spreads['before']}), "
        f"after {medians['after']:.2f} us ({spreads['after']}), "
        f"after/before {medians['after'] / medians['before'] - 1:+.1%}"
    )
    out = results_dir() / "bench_offer_cycle_ab.json"
    out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "cycle": "auto_accept" if args.auto_accept else "offer",
                "agents": args.agents,
                "waiting": args.waiting,
                "trees": {"before": args.before, "after": args.after},
                "cycle_us": figures,
                "median_us": medians,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
