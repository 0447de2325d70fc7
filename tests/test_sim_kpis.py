"""The simulator's KPIs are the event aggregator's: counted once, from the engine's events.

Three relations pin it down:

- the result equals the one an aggregator gives when fed the run's events
  back from an exported JSON Lines file (both ways identical, to the bit);
- the counts equal a hand count of the same event log by a brute-force loop
  written here, independent of the aggregator;
- the simulator, which runs its engine with auto-accept on, still matches
  Erlang A within confidence intervals.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute.erlang import erlang_a
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.journal import export_events, import_events
from valueroute.sim import Scenario, World
from valueroute.sim.metrics import KPI_NAMES, mean_ci

HORIZON = 4 * 3600.0
WARMUP = 1800.0
OFFICE = {
    "timezone": "UTC",
    "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def busy_centre(definition: str = "offered") -> Scenario:
    """Two types, a warm-up, wrap-up, retrials, forwarding and headcount changes."""
    return Scenario.model_validate(
        {
            "name": "kpi-both-ways",
            "horizon_seconds": HORIZON,
            "warmup_seconds": WARMUP,
            "interval_minutes": 30,
            "seed": 5,
            "service_level_definition": definition,
            "short_abandon_seconds": 8.0,
            "task_types": [
                {
                    "name": "calls",
                    "value": 3.0,
                    "sla_seconds": 20.0,
                    "handle": {"kind": "exponential", "mean_seconds": 180.0},
                    "patience": {"kind": "exponential", "mean_seconds": 60.0},
                    "retrial_probability": 0.4,
                    "retrial_delay": {"kind": "exponential", "mean_seconds": 120.0},
                    "forward_probability": 0.1,
                    "forward_to": "claims",
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
            "agent_groups": [
                {"name": "front", "headcount": [4, 5, 6, 5, 4, 6, 5, 5]},
                {"name": "back", "headcount": [2, 2, 3, 3, 2, 2, 3, 2]},
            ],
            "routing": {"policy": "fifo", "wrap_up_seconds": 15.0},
        }
    )


def office_days() -> Scenario:
    """Calendars: working-time service levels, refusals while closed, epoch clock."""
    return Scenario.model_validate(
        {
            "horizon_seconds": 2 * 86_400.0,
            "warmup_seconds": 3600.0,
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
                    "calendar": "office",
                    "closed": "refuse",
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


def run_recorded(scenario: Scenario) -> tuple[World, list[Event]]:
    world = World(scenario)
    events: list[Event] = []
    world.engine.subscribe(events.append)  # every kind, as an export would
    world.run()
    return world, events


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (an undefined KPI on both sides)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("build", [busy_centre, office_days], ids=["busy-centre", "office-days"])
def test_result_equals_an_aggregator_fed_the_exported_event_file(
    build: Any, tmp_path: Path
) -> None:
    world, events = run_recorded(build())
    path = tmp_path / "run.jsonl"
    assert export_events(events, path) == len(events)
    replayed = world.new_aggregator()
    replayed.feed(import_events(path))
    end = world.engine_origin + world.horizon
    live_report = world.aggregator.report(now=end)
    file_report = replayed.report(now=end)
    assert file_report == live_report
    live = world.result().to_dict()
    from_file = world.result(report=file_report).to_dict()
    assert same(from_file, live)
    assert live["kpis"]["all"]["answered"] > 50, "the run is too small to compare anything"
    assert file_report.unmatched_events == 0
    # The result is the report's: half the events give another one.
    half = world.new_aggregator()
    half.feed(events[: len(events) // 2])
    halved = world.result(report=half.report(now=end)).to_dict()
    assert halved["kpis"]["all"]["offered"] < live["kpis"]["all"]["offered"]


def test_result_lists_every_kpi_for_every_type_in_order() -> None:
    world, _ = run_recorded(busy_centre())
    result = world.result()
    assert list(result.kpis) == ["calls", "claims", "all"]
    for figures in result.kpis.values():
        assert tuple(figures) == KPI_NAMES
    # The counts only the world sees: the engine never hears of them.
    assert result.kpis["calls"]["retrials"] > 0
    assert result.kpis["calls"]["forwarded"] > 0
    assert result.kpis["all"]["retrials"] == result.kpis["calls"]["retrials"]


def test_the_aggregator_is_up_to_date_at_every_progress_report() -> None:
    world = World(busy_centre())
    submitted: list[Event] = []
    world.engine.subscribe(submitted.append, kinds=[EventKind.task_submitted])
    seen: list[tuple[float, int]] = []

    def progress(fraction: float) -> None:
        counted = world.aggregator.report().by_type()["all"]["offered"]
        expected = sum(1 for event in submitted if event.time >= WARMUP)
        seen.append((counted, expected))

    world.run(progress=progress, chunks=8)
    assert len(seen) == 8
    assert all(counted == expected for counted, expected in seen), seen
    assert seen[1][0] > 0
    assert seen[-1][0] == world.result().kpis["all"]["offered"]


def test_a_report_that_is_not_a_kpi_report_is_refused() -> None:
    world, _ = run_recorded(busy_centre())
    with pytest.raises(InvalidInputError, match=r"report: got \{'offered': 3\}.*KpiReport"):
        world.result(report={"offered": 3})  # type: ignore[arg-type]


# ---------------------------------------------------------------- a hand count


def hand_count(
    events: list[Event], *, origin: float, warmup: float, interval: float, sla: dict[str, float]
) -> dict[tuple[int, str], Counter[str]]:
    """Per (arrival interval, type): offered, answered, abandoned, answered within T.

    Wall-clock waits; every task is counted in the interval it arrived in,
    tasks arriving before the warm-up's end not at all.
    """
    arrived: dict[str, tuple[float, str]] = {}
    answered: set[str] = set()
    counts: dict[tuple[int, str], Counter[str]] = {}
    for event in events:
        if event.kind is EventKind.task_submitted:
            arrived[event.task] = (event.time, event.data["type"])  # type: ignore[index]
            key = bucket(event.time, origin, warmup, interval, event.data["type"])
            if key is not None:
                counts.setdefault(key, Counter())["offered"] += 1
            continue
        if event.task not in arrived:
            continue
        time, task_type = arrived[event.task]
        key = bucket(time, origin, warmup, interval, task_type)
        if key is None:
            continue
        if event.kind is EventKind.task_assigned and event.task not in answered:
            answered.add(event.task)
            counts[key]["answered"] += 1
            if event.time - time <= sla[task_type]:
                counts[key]["answered_within"] += 1
        elif (
            event.kind is EventKind.task_canceled
            and event.data.get("reason") == "abandoned"
            and event.task not in answered
        ):
            counts[key]["abandoned"] += 1
    return counts


def bucket(
    time: float, origin: float, warmup: float, interval: float, task_type: str
) -> tuple[int, str] | None:
    if time - origin < warmup:
        return None
    return (int((time - origin) // interval), task_type)


def test_interval_counts_equal_a_hand_count_of_the_event_log() -> None:
    scenario = busy_centre()
    world, events = run_recorded(scenario)
    result = world.result()
    counts = hand_count(
        events,
        origin=world.engine_origin,
        warmup=scenario.warmup_seconds,
        interval=scenario.interval_seconds,
        sla={t.name: t.sla_seconds for t in scenario.task_types},
    )
    checked = 0
    for row in result.intervals:
        index = int(row["interval_start"] // scenario.interval_seconds)
        expected = counts.get((index, row["type"]), Counter())
        for name in ("offered", "answered", "abandoned", "answered_within"):
            assert row[name] == expected[name], (row["interval_start"], row["type"], name)
        checked += row["offered"]
    assert checked == sum(c["offered"] for c in counts.values()) > 300
    for name in ("offered", "answered", "abandoned"):
        assert result.kpis["all"][name] == sum(c[name] for c in counts.values()), name


@settings(max_examples=40, deadline=None)
@given(
    agents=st.integers(1, 4),
    load=st.floats(0.3, 1.6),
    patience=st.sampled_from([None, 30.0, 240.0]),
    warmup=st.sampled_from([0.0, 900.0, 1250.0]),
    minutes=st.sampled_from([15, 30, 60]),
    wrap_up=st.sampled_from([0.0, 20.0]),
    seed=st.integers(0, 10_000),
)
def test_random_runs_count_as_their_event_logs_say(
    agents: int,
    load: float,
    patience: float | None,
    warmup: float,
    minutes: int,
    wrap_up: float,
    seed: int,
) -> None:
    calls: dict[str, Any] = {
        "name": "calls",
        "sla_seconds": 20.0,
        "handle": {"kind": "exponential", "mean_seconds": 120.0},
    }
    if patience is not None:
        calls["patience"] = {"kind": "exponential", "mean_seconds": patience}
    scenario = Scenario.model_validate(
        {
            "horizon_seconds": 5400.0,
            "warmup_seconds": warmup,
            "interval_minutes": minutes,
            "seed": seed,
            "task_types": [calls],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": 30.0 * agents * load}
            ],
            "agent_groups": [{"name": "agents", "count": agents}],
            "routing": {"wrap_up_seconds": wrap_up},
        }
    )
    world, events = run_recorded(scenario)
    result = world.result()
    counts = hand_count(
        events, origin=0.0, warmup=warmup, interval=scenario.interval_seconds, sla={"calls": 20.0}
    )
    for row in result.intervals:
        expected = counts.get((int(row["interval_start"] // scenario.interval_seconds), "calls"))
        for name in ("offered", "answered", "abandoned", "answered_within"):
            assert row[name] == (expected or Counter())[name], (row, name)
    kpis = result.kpis["calls"]
    # Conservation: every counted task is answered, abandoned or still waiting.
    assert kpis["offered"] == kpis["answered"] + kpis["abandoned"] + kpis["waiting_at_end"]
    for name in ("offered", "answered", "abandoned"):
        assert kpis[name] == sum(c[name] for c in counts.values()), name
        assert result.kpis["all"][name] == kpis[name], name  # one type: "all" is it


def test_refusals_while_closed_are_the_worlds_own_count() -> None:
    scenario = office_days()
    world, events = run_recorded(scenario)
    kpis = world.result().kpis["calls"]
    submitted = sum(
        1
        for event in events
        if event.kind is EventKind.task_submitted
        and event.data["type"] == "calls"
        and event.time - world.engine_origin >= scenario.warmup_seconds
    )
    # Refused calls never reach the engine: offered counts only those it saw.
    assert kpis["offered"] == submitted
    assert kpis["refused_closed"] > kpis["offered"] > 10


# ---------------------------------------------------------------- theory, auto-accept on


def test_erlang_a_holds_with_the_engine_accepting_offers_itself() -> None:
    agents, traffic, aht = 10, 10.0, 60.0
    scenario = Scenario.model_validate(
        {
            "horizon_seconds": 40_000.0,
            "warmup_seconds": 2_000.0,
            "seed": 17,
            "task_types": [
                {
                    "name": "calls",
                    "handle": {"kind": "exponential", "mean_seconds": aht},
                    "patience": {"kind": "exponential", "mean_seconds": aht},
                }
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": traffic / aht * 3600}
            ],
            "agent_groups": [{"name": "agents", "count": agents}],
        }
    )
    theory = erlang_a(agents, traffic, aht=aht, patience=aht, awt=20.0)
    figures: dict[str, list[float]] = {"p_wait": [], "abandonment_rate": [], "service_level": []}
    for replication in range(6):
        world = World(scenario, replication=replication)
        kinds: list[EventKind] = []

        def record(event: Event, seen: list[EventKind] = kinds) -> None:
            seen.append(event.kind)

        world.engine.subscribe(record)
        world.run()
        # Auto-accept: assignments without a single offer event before them.
        assert kinds.count(EventKind.task_assigned) > 1000
        assert EventKind.task_offered not in kinds
        kpis = world.result().kpis["calls"]
        for name, values in figures.items():
            values.append(kpis[name])
    expected = {
        "p_wait": theory.p_wait,
        "abandonment_rate": theory.p_abandon,
        "service_level": theory.service_level_offered,
    }
    for name, values in figures.items():
        mean, half = mean_ci(values, confidence=0.99)
        assert abs(mean - expected[name]) <= half, (name, mean, half, expected[name])


# ---------------------------------------------------------------- the per-arrival spec


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "7"},
        {"id": "8", "due": 1_767_600_000.5},
        {"id": "9", "due_in": 3600.0},
        {"id": "10", "attributes": {"tier": "gold", "age": 3}},
    ],
)
def test_a_tasks_spec_is_the_templates_model_copy(changes: dict[str, Any]) -> None:
    from valueroute.models import TaskSpec
    from valueroute.sim.world import _spec_like

    template = TaskSpec(id="template", type="calls", channel="voice", value=2.5, skills={"en": 2})
    # What the copy leaves out: a TaskSpec has no extra fields nor private values.
    assert template.__pydantic_extra__ is None
    assert template.__pydantic_private__ is None
    fast = _spec_like(template, changes)
    slow = template.model_copy(update=changes)
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump() == slow.model_dump()
    # The template is left as it was.
    assert template.id == "template"
    assert template.model_fields_set == {"id", "type", "channel", "value", "skills"}
