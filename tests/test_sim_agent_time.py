"""Agents' talk time in simulated runs against a count of the event log, and a
world sharing its SimPy environment with a host's own processes.

The simulator's aggregator keeps one cell per agent for the whole run
(``agent_intervals=False``) and writes talk time there directly when a span
ends inside it. Here every run's talk time is recounted from the engine's
events by a plain loop (an agent talks from the moment it holds a first
task until it holds none, clipped at the end of the warm-up), and compared
with the world's per-group figure and with an aggregator keeping
per-interval figures, summed.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.events import Event, EventKind
from valueroute.kpi import KpiAggregator
from valueroute.sim import Scenario
from valueroute.sim.world import World


def mmc(
    *, agents: int, load: float, aht: float, patience: float, warmup: float, seed: int
) -> Scenario:
    """An M/M/c+M system over two hours with hourly intervals."""
    return Scenario.model_validate(
        {
            "name": "talk-time",
            "horizon_seconds": 7200.0,
            "warmup_seconds": warmup,
            "interval_minutes": 60,
            "seed": seed,
            "task_types": [
                {
                    "name": "calls",
                    "handle": {"kind": "exponential", "mean_seconds": aht},
                    "patience": {"kind": "exponential", "mean_seconds": patience},
                }
            ],
            "arrivals": [
                {
                    "kind": "poisson",
                    "task_type": "calls",
                    "rate_per_hour": load * agents * 3600.0 / aht,
                }
            ],
            "agent_groups": [{"name": "agents", "count": agents}],
        }
    )


def talk_by_hand(events: list[Event], *, start: float, end: float) -> dict[str, float]:
    """Per agent: time holding at least one task from ``start`` on (spans open
    at ``end`` cut there)."""
    held: dict[str, int] = {}
    since: dict[str, float] = {}
    talk: dict[str, float] = {}
    holder: dict[str, str] = {}

    def add(agent: str, begin: float, finish: float) -> None:
        begin = max(begin, start)
        if begin < finish:
            talk[agent] = talk.get(agent, 0.0) + (finish - begin)

    for event in events:
        if event.kind is EventKind.task_assigned:
            assert event.agent is not None
            assert event.task is not None
            holder[event.task] = event.agent
            if held.get(event.agent, 0) == 0:
                since[event.agent] = event.time
            held[event.agent] = held.get(event.agent, 0) + 1
        elif event.kind in (EventKind.task_completed, EventKind.task_canceled):
            agent = holder.pop(event.task, None)  # type: ignore[arg-type]
            if agent is None:
                continue  # cancelled while waiting: nobody held it
            held[agent] -= 1
            if held[agent] == 0:
                add(agent, since.pop(agent), event.time)
    for agent, begin in since.items():
        add(agent, begin, end)
    return talk


@given(
    agents=st.integers(min_value=1, max_value=12),
    load=st.floats(min_value=0.3, max_value=1.3),
    aht=st.floats(min_value=30.0, max_value=900.0),
    patience=st.floats(min_value=5.0, max_value=900.0),
    warmup=st.sampled_from([0.0, 600.0, 3600.0, 5000.0]),
    seed=st.integers(min_value=0, max_value=2**20),
)
def test_talk_time_is_the_time_agents_hold_tasks(
    agents: int, load: float, aht: float, patience: float, warmup: float, seed: int
) -> None:
    scenario = mmc(agents=agents, load=load, aht=aht, patience=patience, warmup=warmup, seed=seed)
    world = World(scenario)
    events: list[Event] = []
    world.engine.subscribe(events.append)
    world.run()
    result = world.result()
    by_hand = talk_by_hand(events, start=warmup, end=scenario.horizon_seconds)
    expected = sum(by_hand.values())
    assert result.groups["agents"]["talk_seconds"] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    # The same events, one by one, into an aggregator that keeps every interval.
    interval_aggregator = KpiAggregator(
        interval_seconds=scenario.interval_seconds,
        start=warmup,
        sla_seconds={"calls": 20.0},
        agent_intervals=True,
    )
    for event in events:
        interval_aggregator.add(event)
    summed = interval_aggregator.report(now=scenario.horizon_seconds).by_agent()
    for agent, seconds in by_hand.items():
        assert summed[agent]["talk_seconds"] == pytest.approx(seconds, rel=1e-9, abs=1e-6)
    assert world.aggregator.report(now=scenario.horizon_seconds).by_agent().keys() >= by_hand.keys()


def test_a_batch_counts_as_its_events_one_by_one() -> None:
    world = World(mmc(agents=5, load=0.95, aht=120.0, patience=60.0, warmup=600.0, seed=3))
    events: list[Event] = []
    world.engine.subscribe(events.append)
    world.run()
    batched, single = world.new_aggregator(), world.new_aggregator()
    assert batched.feed(events) == len(events)
    for event in events:
        single.add(event)
    assert batched.report(now=7200.0) == single.report(now=7200.0)
    assert world.aggregator.report(now=7200.0) == single.report(now=7200.0)


def test_a_host_process_on_the_same_environment_sees_the_run_in_time_order() -> None:
    scenario = mmc(agents=4, load=0.9, aht=180.0, patience=90.0, warmup=0.0, seed=11)
    alone = World(scenario)
    alone.run()
    shared = World(scenario)
    seen: list[tuple[float, int]] = []

    def sampler() -> Any:
        # A host's own SimPy process beside the world's events: every minute,
        # how many tasks the engine holds open.
        while True:
            seen.append((shared.env.now, len(shared.engine)))
            yield shared.env.timeout(60.0)

    shared.env.process(sampler())
    shared.run()
    assert [t for t, _ in seen] == [60.0 * k for k in range(120)]
    assert any(n > 0 for _, n in seen)
    # Watching changes nothing the world measures.
    assert shared.result().to_dict() == alone.result().to_dict()
