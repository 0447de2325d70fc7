"""The simulator's KPIs and an aggregator a user attaches to its engine agree.

The world takes its KPIs from the aggregator it attaches itself
(``World.aggregator``) and lays them out per type, interval and agent group;
here a second aggregator, built by hand from the scenario's settings as a
user would, is attached beside it. Per type, per interval, per agent group
and in the backlog the two must say the same: the world's layout (warm-up,
interval starts, group sums, types with nothing counted) loses nothing.
``tests/test_sim_kpis.py`` checks the world's counts against a hand count of
the event log.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from valueroute.events import Event
from valueroute.kpi import KPI_EVENT_KINDS, KpiAggregator
from valueroute.sim import Scenario
from valueroute.sim.world import World

HORIZON = 4 * 3600.0
WARMUP = 1800.0

COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "completed",
    "waiting_at_end",
    "in_service_at_end",
)
RATIOS = (
    "service_level",
    "p_wait",
    "abandonment_rate",
    "asa",
    "mean_wait",
    "aht",
    "value_sla_attainment",
    "value_lost_late",
    "value_lost_abandoned",
    "mean_queue",
    "arrival_rate_per_hour",
    "p50_wait",
    "p90_wait",
    "p99_wait",
)


def scenario(definition: str, *, wrap_up: float) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "kpi-agreement",
            "horizon_seconds": HORIZON,
            "warmup_seconds": WARMUP,
            "interval_minutes": 30,
            "seed": 7,
            "service_level_definition": definition,
            "short_abandon_seconds": 8.0,
            "task_types": [
                {
                    "name": "calls",
                    "value": 3.0,
                    "sla_seconds": 20.0,
                    "handle": {"kind": "exponential", "mean_seconds": 180.0},
                    "patience": {"kind": "exponential", "mean_seconds": 60.0},
                },
                {
                    "name": "claims",
                    "value": 11.0,
                    "priority": 1,
                    "sla_seconds": 45.0,
                    "due_seconds": 90.0,
                    "handle": {"kind": "lognormal", "mean_seconds": 240.0, "cv": 0.8},
                    "patience": {"kind": "exponential", "mean_seconds": 200.0},
                },
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": 110.0},
                {"kind": "poisson", "task_type": "claims", "rate_per_hour": 40.0},
            ],
            # Headcount changes every half hour: agents log in and out mid-run.
            "agent_groups": [
                {"name": "front", "headcount": [4, 5, 6, 5, 4, 6, 5, 5]},
                {"name": "back", "headcount": [2, 2, 3, 3, 2, 2, 3, 2]},
            ],
            "routing": {"policy": "fifo", "wrap_up_seconds": wrap_up},
        }
    )


def run_both(definition: str, *, wrap_up: float) -> tuple[Any, Any, Scenario]:
    setup = scenario(definition, wrap_up=wrap_up)
    world = World(setup, replication=0)
    aggregator = KpiAggregator(
        interval_seconds=setup.interval_seconds,
        start=WARMUP,
        sla_seconds={t.name: t.sla_seconds for t in setup.task_types},
        service_level_definition=definition,  # type: ignore[arg-type]
        short_abandon_seconds=setup.short_abandon_seconds,
    )
    aggregator.attach(world.engine)
    world.run()
    return world.result(), aggregator.report(now=HORIZON), setup


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("definition", "wrap_up"),
    [("offered", 0.0), ("offered_excluding_short", 15.0), ("answered", 0.0)],
)
def test_per_type_kpis_match_the_simulator(definition: str, wrap_up: float) -> None:
    result, report, _ = run_both(definition, wrap_up=wrap_up)
    ours = report.by_type()
    assert set(ours) == set(result.kpis)
    for name, theirs in result.kpis.items():
        assert theirs["offered"] > 50, "the run is too small to compare anything"
        assert theirs["abandoned"] > 0
        for kpi in COUNTS:
            assert ours[name][kpi] == theirs[kpi], (name, kpi)
        for kpi in RATIOS:
            assert close(ours[name][kpi], theirs[kpi]), (name, kpi, ours[name][kpi], theirs[kpi])
    assert report.unmatched_events == 0


def test_interval_rows_match_the_simulator() -> None:
    result, report, setup = run_both("offered", wrap_up=0.0)
    theirs = {(row["interval_start"], row["type"]): row for row in result.intervals}
    ours = {(row["interval_start"], row["type"]): row for row in report.intervals()}
    # The simulator lists every interval, empty ones too (those before the warm-up).
    for key, row in theirs.items():
        if key not in ours:
            assert row["offered"] == 0, key
            continue
        mine = ours[key]
        for count in ("offered", "answered", "abandoned", "answered_within"):
            assert mine[count] == row[count], (key, count)
        assert close(mine["service_level"], row["service_level"]), key
        assert close(mine["asa"], row["asa"]), key
    assert set(ours) <= set(theirs)
    assert len(ours) == 2 * int((HORIZON - WARMUP) // setup.interval_seconds)
    assert len(result.backlog) > 4
    for row in result.backlog:
        for name in ("calls", "claims"):
            assert report.backlog.get((row["time"], name, name), 0) == row[name], (row, name)


def test_agent_occupancy_matches_the_simulator_per_group() -> None:
    result, report, setup = run_both("offered", wrap_up=15.0)
    talk: dict[str, float] = {}
    logged: dict[str, float] = {}
    for agent, figures in report.by_agent().items():
        group = agent.rsplit("-", 1)[0]
        talk[group] = talk.get(group, 0.0) + figures["talk_seconds"]
        logged[group] = logged.get(group, 0.0) + figures["logged_in_seconds"]
    for group in setup.agent_groups:
        theirs = result.groups[group.name]
        assert close(talk[group.name], theirs["talk_seconds"]), group.name
        assert close(logged[group.name], theirs["logged_in_seconds"]), group.name
        assert close(talk[group.name] / logged[group.name], theirs["occupancy"])


DAY = 86_400.0
OFFICE = {
    "timezone": "UTC",
    "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def test_working_time_service_levels_match_the_simulator() -> None:
    setup = Scenario.model_validate(
        {
            "horizon_seconds": 2 * DAY,
            "start": "2026-01-05T00:00:00+00:00",  # a Monday
            "seed": 3,
            "calendars": {"office": OFFICE},
            "task_types": [
                {
                    "name": "mail",
                    "calendar": "office",
                    "sla_clock": "working",
                    "sla_seconds": 1800,
                    "due_seconds": 3600,
                    "value": 2.0,
                    "handle": {"kind": "exponential", "mean_seconds": 600},
                    "patience": {"kind": "exponential", "mean_seconds": 8 * 3600},
                },
                {
                    "name": "calls",
                    "sla_seconds": 60,
                    "value": 1.0,
                    "handle": {"kind": "exponential", "mean_seconds": 300},
                    "patience": {"kind": "exponential", "mean_seconds": 600},
                },
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "mail", "rate_per_hour": 4},
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": 6},
            ],
            "agent_groups": [
                {"name": "office", "count": 2, "calendar": "office"},
                {"name": "night", "count": 1, "skills": {}},
            ],
        }
    )
    world = World(setup)
    calendars = world.calendars
    aggregator = KpiAggregator(
        interval_seconds=setup.interval_seconds,
        origin=world.engine_origin,
        sla_seconds={t.name: t.sla_seconds for t in setup.task_types},
        working_time={"mail": calendars["office"]},
    )
    aggregator.attach(world.engine)
    events: list[Event] = []
    world.engine.subscribe(events.append, kinds=KPI_EVENT_KINDS)
    world.run()
    result = world.result()
    report = aggregator.report(now=world.engine_origin + setup.horizon_seconds)
    ours = report.by_type()
    # Mail waits overnight: tasks queued at interval starts, as the simulator samples them.
    assert sum(row["mail"] for row in result.backlog) > 20
    for row in result.backlog:
        for name in ("mail", "calls"):
            key = (world.engine_origin + row["time"], name, name)
            assert report.backlog.get(key, 0) == row[name], (row, name)
    for name in ("mail", "calls"):
        theirs = result.kpis[name]
        assert theirs["answered"] > 20, name
        for kpi in COUNTS:
            assert ours[name][kpi] == theirs[kpi], (name, kpi)
        for kpi in RATIOS:
            assert close(ours[name][kpi], theirs[kpi]), (name, kpi, ours[name][kpi], theirs[kpi])
    # Working time decides: in wall-clock seconds fewer mails are within
    # (those that arrived at night and were answered after the opening).
    wall = KpiAggregator(
        interval_seconds=setup.interval_seconds,
        origin=world.engine_origin,
        sla_seconds={t.name: t.sla_seconds for t in setup.task_types},
    )
    wall.feed(events)
    in_wall_time = wall.report().by_type()
    assert in_wall_time["mail"]["service_level"] < ours["mail"]["service_level"]
    assert in_wall_time["calls"]["service_level"] == ours["calls"]["service_level"]


def test_values_changed_by_rules_while_waiting_match_the_simulator(tmp_path: Any) -> None:
    rules = tmp_path / "aging.toml"
    rules.write_text(
        'name = "aging"\nversion = "1"\n\n[prioritisation]\nmode = "all"\n\n'
        "[[prioritisation.rules]]\n"
        'name = "waiting over 30 s"\n'
        'when = { field = "age", op = ">=", value = 30 }\n'
        "then = { scale_value = 3 }\n"
    )
    setup = Scenario.model_validate(
        {
            "horizon_seconds": 14_400,
            "seed": 2,
            "task_types": [
                {
                    "name": "calls",
                    "value": 1.0,
                    "handle": {"kind": "exponential", "mean_seconds": 300},
                    "patience": {"kind": "exponential", "mean_seconds": 120},
                }
            ],
            "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 60}],
            "agent_groups": [{"name": "agents", "count": 5}],
            "routing": {"rules": str(rules)},
        }
    )
    world = World(setup)
    aggregator = KpiAggregator(interval_seconds=setup.interval_seconds, sla_seconds=20.0)
    aggregator.attach(world.engine)
    world.run()
    ours = aggregator.report(now=HORIZON).by_type()["calls"]
    theirs = world.result().kpis["calls"]
    assert ours["answered"] == theirs["answered"]
    assert ours["value_lost_abandoned"] == theirs["value_lost_abandoned"]
    assert ours["value_lost_late"] == theirs["value_lost_late"]
