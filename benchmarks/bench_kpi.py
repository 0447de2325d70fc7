"""KPI aggregation cost: per event against a bare loop, and attached to a simulated day.

Events come from a real simulated run: M/M/c+M with c = 50 agents,
utilisation 0.9, exponential handle times (mean 300 s) and patience (mean
300 s), half-hour intervals; ``--tasks`` arrivals (100,000 by default). The
run records the events a :class:`valueroute.kpi.KpiAggregator` reads.

Case 1, per event, same events, same run, best of ``--repeats``:

- bare loop: ``for event in events: event.kind`` (the floor any consumer pays);
- counting loop: a dict count per event kind (the cheapest useful consumer);
- aggregator: a fresh ``KpiAggregator`` fed every event, then one report.

Case 2, the simulator alone and with a second aggregator attached live to
its engine (alternating runs, best of ``--repeats``; the recorded events are
released first). The simulator's KPIs always come from its own aggregator,
which it feeds in batches of events; the second one reads each event as the
engine delivers it, between commands, as a live engine's does: the
difference is what the live path costs per simulated task on top.

Times are CPU seconds of this process (``time.process_time``), best of
``--repeats``: every case is single-threaded and CPU-bound, and on a shared
machine CPU time varies far less than wall time. No target is set by the
issue; the figures go to docs/performance.md.
Writes benchmarks/results/bench_kpi.json.

    python benchmarks/bench_kpi.py [--tasks 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from typing import Any

from _timing import results_dir
from valueroute.events import Event
from valueroute.kpi import KPI_EVENT_KINDS, KpiAggregator
from valueroute.sim import Scenario
from valueroute.sim.world import World

AGENTS = 50
AHT = 300.0
UTILISATION = 0.9


def scenario(tasks: int) -> Scenario:
    rate_per_hour = UTILISATION * AGENTS / AHT * 3600.0
    horizon = tasks / rate_per_hour * 3600.0
    return Scenario.model_validate(
        {
            "name": "bench-kpi",
            "horizon_seconds": horizon,
            "interval_minutes": 30,
            "seed": 1,
            "task_types": [
                {
                    "name": "calls",
                    "value": 1.0,
                    "sla_seconds": 20.0,
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                    "patience": {"kind": "exponential", "mean_seconds": AHT},
                }
            ],
            "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": rate_per_hour}],
            "agent_groups": [{"name": "agents", "count": AGENTS}],
        }
    )


def aggregator(setup: Scenario) -> KpiAggregator:
    return KpiAggregator(interval_seconds=setup.interval_seconds, sla_seconds=20.0)


def record(setup: Scenario) -> tuple[list[Event], dict[str, float]]:
    world = World(setup)
    events: list[Event] = []
    world.engine.subscribe(events.append, kinds=KPI_EVENT_KINDS)
    world.run()
    return events, world.result().kpis["all"]


def best(function: Any, repeats: int) -> float:
    fastest = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        function()
        fastest = min(fastest, time.process_time() - start)
    return fastest


def per_event(events: list[Event], setup: Scenario, repeats: int) -> dict[str, float]:
    def bare() -> None:
        for event in events:
            event.kind  # noqa: B018 - touching each event is the work measured

    def counting() -> None:
        counts: dict[Any, int] = {}
        get = counts.get
        for event in events:
            kind = event.kind
            counts[kind] = get(kind, 0) + 1

    def aggregate() -> None:
        counter = aggregator(setup)
        counter.feed(events)
        counter.report(now=setup.horizon_seconds)

    n = len(events)
    bare_s = best(bare, repeats)
    counting_s = best(counting, repeats)
    aggregate_s = best(aggregate, repeats)
    return {
        "events": float(n),
        "bare_loop_ns_per_event": bare_s / n * 1e9,
        "counting_loop_ns_per_event": counting_s / n * 1e9,
        "aggregator_ns_per_event": aggregate_s / n * 1e9,
        "aggregator_vs_bare_loop": aggregate_s / bare_s,
        "aggregator_vs_counting_loop": aggregate_s / counting_s,
    }


def simulator(setup: Scenario, repeats: int) -> dict[str, float]:
    plain = attached = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        World(setup).run()
        plain = min(plain, time.process_time() - start)
        start = time.process_time()
        world = World(setup)
        aggregator(setup).attach(world.engine)
        world.run()
        attached = min(attached, time.process_time() - start)
    return {
        "plain_seconds": plain,
        "with_aggregator_seconds": attached,
        "with_aggregator_vs_plain": attached / plain,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    setup = scenario(args.tasks)

    events, simulated = record(setup)
    counter = aggregator(setup)
    counter.feed(events)
    figures = counter.report(now=setup.horizon_seconds).by_type()["all"]
    # The figures are right before they are timed: the simulator's count.
    assert figures["answered"] == simulated["answered"], (figures["answered"], simulated)
    assert figures["abandoned"] == simulated["abandoned"]

    # The recorded events are data at rest: frozen, the collector does not walk
    # them again each time the aggregator's allocations trigger a collection.
    gc.collect()
    gc.freeze()
    cost = per_event(events, setup, args.repeats)
    del events, counter
    gc.unfreeze()
    gc.collect()
    print(
        f"M/M/{AGENTS}+M, {args.tasks:,} tasks, {cost['events']:,.0f} events "
        f"(service level {figures['service_level']:.1%}, abandoned "
        f"{figures['abandonment_rate']:.1%})"
    )
    print(f"bare loop:      {cost['bare_loop_ns_per_event']:8.0f} ns/event")
    print(f"counting loop:  {cost['counting_loop_ns_per_event']:8.0f} ns/event")
    print(
        f"aggregator:     {cost['aggregator_ns_per_event']:8.0f} ns/event "
        f"({cost['aggregator_vs_bare_loop']:.1f}x the bare loop, "
        f"{cost['aggregator_vs_counting_loop']:.1f}x the counting loop)"
    )
    sim = simulator(setup, args.repeats)
    print(
        f"simulator: {sim['plain_seconds']:.2f} s alone (its KPIs from its own aggregator), "
        f"{sim['with_aggregator_seconds']:.2f} s with a second aggregator attached live "
        f"({sim['with_aggregator_vs_plain']:.2f}x)"
    )

    out = results_dir() / "bench_kpi.json"
    out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "tasks": args.tasks,
                "per_event": cost,
                "simulator": sim,
            },
            indent=2,
        )
    )
    print(f"written: {out.name}")


if __name__ == "__main__":
    main()
