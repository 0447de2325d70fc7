"""Queues and workflows in a simulation: the same engine routes simulated calls
through them, checked on the run's own event log."""

from __future__ import annotations

from typing import Any

import pytest

from valueroute.errors import InvalidInputError
from valueroute.sim import Scenario, World

EXPERTS_FIRST = 30.0


def experts_first(**routing: Any) -> Scenario:
    """Claims go to two experts for 30 s, then to anyone with the skill."""
    return Scenario.model_validate(
        {
            "name": "experts-first",
            "horizon_seconds": 4 * 3600.0,
            "seed": 3,
            "task_types": [
                {
                    "name": "claim",
                    "sla_seconds": 60.0,
                    "handle": {"kind": "exponential", "mean_seconds": 300.0},
                    "patience": {"kind": "exponential", "mean_seconds": 900.0},
                }
            ],
            "arrivals": [{"kind": "poisson", "task_type": "claim", "rate_per_hour": 60.0}],
            "agent_groups": [
                {"name": "experts", "count": 2, "skills": {"claims": 3}},
                {"name": "general", "count": 4, "skills": {"claims": 1}},
            ],
            "routing": {
                "queues": [
                    {"name": "experts", "skills": {"claims": 3}},
                    {"name": "everyone", "skills": {"claims": 1}},
                ],
                "workflows": [
                    {
                        "name": "claims",
                        "types": ["claim"],
                        "steps": [
                            {"queue": "experts", "timeout": EXPERTS_FIRST},
                            {"queue": "everyone"},
                        ],
                    }
                ],
                **routing,
            },
        }
    )


def test_a_simulated_workflow_routes_as_its_steps_say() -> None:
    world = World(experts_first())
    events: list[Any] = []
    world.engine.subscribe(events.append)
    world.run()
    experts = {agent.id for agent in world.engine.agents if agent.skills.get("claims") == 3}
    assert len(experts) == 2
    assigned = [e for e in events if e.kind.value == "task_assigned"]
    early = [e for e in assigned if e.data["wait"] < EXPERTS_FIRST]
    late = [e for e in assigned if e.data["wait"] >= EXPERTS_FIRST]
    # Before its first step's time is up a claim goes to an expert only...
    assert early
    assert all(e.agent in experts for e in early)
    # ...and after it, to anyone: two experts cannot take 60 claims an hour of 5 minutes.
    assert any(e.agent not in experts for e in late)
    steps = [e for e in events if e.kind.value == "workflow_step"]
    submitted = [e for e in events if e.kind.value == "task_submitted"]
    assert sum(1 for e in steps if e.data["step"] == 0) == len(submitted)
    # Every claim arrives in the experts' queue; reports count it there.
    assert {e.data["queue"] for e in submitted} == {"experts"}
    report = world.aggregator.report()
    offered: dict[str, int] = {}
    for row in report.queue_intervals:
        offered[row.queue] = offered.get(row.queue, 0) + row.counts.offered
    assert set(offered) == {"experts"}
    assert sum(offered.values()) == sum(
        1 for e in submitted if e.time >= world.engine_origin + world.warmup
    )


@pytest.mark.parametrize(
    ("routing", "named"),
    [
        ({"queues": [{"name": "experts", "max_length": 3}]}, "refuses tasks when full"),
        ({"queues": [{"name": "experts", "concurrent_offers": 2}]}, "sets how tasks are offered"),
        ({"queues": [{"name": "experts", "offer_timeout": 9}]}, "sets how tasks are offered"),
        ({"queues": [{"name": "experts", "auto_accept": False}]}, "sets how tasks are offered"),
        (
            {"workflows": [{"name": "claims", "steps": [{}], "then": "expire"}]},
            "expires tasks",
        ),
        ({"workflows": [{"name": "claims", "steps": [{"queue": "nowhere"}]}]}, "nowhere"),
        (
            {"workflows": [{"name": "claims", "steps": [{}], "types": ["claims"]}]},
            "routing.workflows.0.types",
        ),
    ],
)
def test_what_a_simulation_cannot_run_is_refused_at_load(
    routing: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidInputError, match=named):
        experts_first(**routing)
