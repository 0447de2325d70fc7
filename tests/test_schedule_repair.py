"""A roster in the simulator, and the simulate-and-repair loop.

The roster's translation is checked against the simulator's own accounting
(agent time logged in per group equals the roster's on-duty hours, breaks
taken off); the loop is checked by simulating its final roster again with
plain ``simulate`` and recomputing each interval's service level here from
the replications' raw counts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from valueroute.erlang import staff_intervals
from valueroute.errors import InvalidInputError
from valueroute.schedule import (
    BreakRule,
    ScheduleSpec,
    ShiftTemplate,
    repair_by_simulation,
    roster_scenario,
    solve_schedule,
)
from valueroute.sim import InlineExecutor, Scenario, simulate
from valueroute.sim.staffing import StaffingTarget

VOLUMES = [60, 120, 180, 180, 120, 90, 60, 30]  # calls per hour from 08:00
AHT = 180.0
TARGET = StaffingTarget(service_level=0.8, awt=20.0)


def day(volumes: list[float] = VOLUMES, *, seed: int = 5, first: float = 0.0) -> Scenario:
    """The day from 08:00; scenario time 0 is 08:00, or ``first`` seconds before it."""
    task: dict[str, Any] = {
        "name": "calls",
        "handle": {"kind": "exponential", "mean_seconds": AHT},
        "sla_seconds": 20.0,
    }
    return Scenario.model_validate(
        {
            "horizon_seconds": first + 9 * 3600,
            "interval_minutes": 60,
            "seed": seed,
            "task_types": [task],
            "arrivals": [
                {
                    "kind": "profile",
                    "task_type": "calls",
                    "interval_minutes": 60,
                    "volumes": volumes,
                    "start_seconds": first,
                }
            ],
            "agent_groups": [{"name": "agents", "count": 1}],
        }
    )


SPEC = ScheduleSpec(
    interval_minutes=60,
    start="08:00",
    templates=[
        ShiftTemplate(name="part", starts=["08:00-13:00"], length_minutes=240),
        ShiftTemplate(
            name="full",
            starts=["08:00-09:00"],
            length_minutes=480,
            breaks=[BreakRule(minutes=60, earliest=180, latest=300)],
        ),
    ],
)


@pytest.mark.parametrize("first", [0.0, 8 * 3600.0])
def test_the_simulator_logs_in_exactly_the_rostered_hours_breaks_taken_off(first: float) -> None:
    schedule = solve_schedule([2, 3, 5, 5, 4, 3, 2, 1], SPEC)
    assert any(s.breaks for s in schedule.shifts)
    quiet = roster_scenario(day([0.0] * 8, first=first), schedule, offset_seconds=first)
    assert min(s.start_seconds for s in quiet.agent_groups[0].shifts) == first
    result = simulate(quiet, replications=1)
    logged = result.replications[0].groups["agents"]["staffed_hours"]
    assert logged == pytest.approx(sum(schedule.headcount))  # one-hour intervals


def test_roster_scenario_keeps_the_other_groups_and_refuses_an_unknown_one() -> None:
    data = day().model_dump()
    data["agent_groups"].append({"name": "backoffice", "count": 2})
    two = Scenario.model_validate(data)
    schedule = solve_schedule([1] * 8, SPEC)
    rostered = roster_scenario(two, schedule, group="agents")
    assert rostered.agent_groups[1].count == 2
    assert sum(s.count for s in rostered.agent_groups[0].shifts) == schedule.agents
    with pytest.raises(InvalidInputError, match="group"):
        roster_scenario(two, schedule)
    with pytest.raises(InvalidInputError, match="one of the scenario's agent groups"):
        roster_scenario(two, schedule, group="night")


def pooled_service_level(result: Any, start: float) -> float:
    """Answered within T over answered + abandoned, all replications pooled."""
    within = closed = 0.0
    for replication in result.replications:
        for row in replication.intervals:
            if row["interval_start"] == start:
                within += row["answered_within"]
                closed += row["answered"] + row["abandoned"]
    return within / closed


def test_repair_converges_and_its_roster_meets_the_target_when_simulated_again() -> None:
    scenario = day()
    # Staffed for a 50 % service level interval by interval: short of an 80 % target.
    plan = staff_intervals(VOLUMES, interval=3600, aht=AHT, service_level=0.5, awt=20.0)
    result = repair_by_simulation(
        scenario, SPEC, plan, targets=TARGET, replications=6, executor=InlineExecutor()
    )
    assert result.converged, result.reason
    assert len(result.rounds) >= 2  # the 50 % plan misses somewhere and is repaired
    assert result.rounds[0].missed
    costs = [r.cost for r in result.rounds]
    assert costs == sorted(costs)
    assert result.schedule.cost > result.initial.cost
    # Shifts are only added: every interval keeps at least its first headcount.
    assert all(
        a >= b for a, b in zip(result.schedule.headcount, result.initial.headcount, strict=True)
    )
    rounds = result.to_pandas()
    assert list(rounds["cost"]) == costs
    checks = result.to_pandas("checks")
    assert bool(checks["met"].all())
    assert len(json.loads(result.to_json())["rounds"]) == len(result.rounds)
    again = simulate(
        roster_scenario(scenario, result.schedule), replications=6, executor=InlineExecutor()
    )
    for hour in range(8):
        start = hour * 3600.0
        assert pooled_service_level(again, start) >= 0.8


def test_repair_stops_at_its_round_limit_and_says_so() -> None:
    plan = [1] * 8
    result = repair_by_simulation(
        day(),
        SPEC,
        plan,
        targets=TARGET,
        replications=2,
        max_rounds=1,
        executor=InlineExecutor(),
    )
    assert not result.converged
    assert "max_rounds=1" in result.reason
    assert any(not c.met for c in result.checks)
    assert len(result.rounds) == 2


def test_repair_stops_when_the_maximum_headcount_blocks_it() -> None:
    capped = SPEC.model_copy(update={"max_headcount": 3})
    result = repair_by_simulation(
        day(), capped, [3] * 8, targets=TARGET, replications=2, executor=InlineExecutor()
    )
    assert not result.converged
    assert "max_headcount" in result.reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"targets": "80/20"}, "targets"),
        ({"targets": StaffingTarget(task_type="mail", service_level=0.8)}, "task_type"),
        ({"replications": 0}, "replications"),
        ({"confidence": 0.2}, "confidence"),
        ({"min_offered": -1.0}, "min_offered"),
        ({"max_rounds": -1}, "max_rounds"),
        ({"group": "night"}, "group"),
        ({"offset_seconds": 600.0}, "offset_seconds"),
        ({"offset_seconds": -3600.0}, "offset_seconds"),
    ],
)
def test_repair_refuses_bad_arguments_before_simulating(
    changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"targets": TARGET, "executor": InlineExecutor()} | changes
    with pytest.raises(InvalidInputError, match=field):
        repair_by_simulation(day(), SPEC, [1] * 8, **arguments)


def test_repair_refuses_a_spec_on_another_interval_grid() -> None:
    spec = SPEC.model_copy(update={"interval_minutes": 30})
    with pytest.raises(InvalidInputError, match="interval_minutes"):
        repair_by_simulation(day(), spec, [1] * 16, targets=TARGET)
