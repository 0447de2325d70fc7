"""The KPI aggregator attached to a real engine: thresholds met exactly, exported
event files read back, and random days checked against the engine's own state.

The oracle of the random days never reads an event: it polls the engine for
each task's state after every command and keeps its own ledger of when each
task arrived, was answered, abandoned or finished, and reads agents' talk and
logged-in time from the engine's agent records.
"""

from __future__ import annotations

import heapq
import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute.engine import Engine
from valueroute.events import Event
from valueroute.journal import export_events, import_events
from valueroute.kpi import KPI_EVENT_KINDS, KpiAggregator
from valueroute.task import TaskState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def task(task_id: str, value: float, **more: Any) -> dict[str, Any]:
    return {"id": task_id, "type": "calls", "value": value, **more}


def test_thresholds_met_exactly_count_as_within() -> None:
    clock = Clock()
    engine = Engine(clock=clock, offer_timeout=None, auto_accept=True)
    aggregator = KpiAggregator(sla_seconds=20.0, short_abandon_seconds=5.0)
    aggregator.attach(engine)
    engine.add_agent({"id": "ann"})
    engine.add_agent({"id": "bob"})
    for spec in (task("a", 3), task("b", 4, due=20.5), task("c", 5), task("d", 6)):
        engine.submit(spec)
    clock.now = 5.0
    engine.cancel("d", reason="abandoned")  # waited exactly 5 s: a short abandonment
    clock.now = math.nextafter(5.0, math.inf)
    engine.cancel("c", reason="abandoned")  # the least bit longer: not short
    clock.now = 20.0
    engine.set_agent_state("ann", "ready")  # a answered after exactly 20 s: within
    clock.now = math.nextafter(20.0, math.inf)
    engine.set_agent_state("bob", "ready")  # b the least bit later: not within, yet by its due
    assert engine.get("a").state is TaskState.assigned
    assert engine.get("b").state is TaskState.assigned

    calls = aggregator.report().by_type()["calls"]
    assert (calls["offered"], calls["answered"], calls["abandoned"]) == (4, 2, 2)
    assert calls["abandoned_short"] == 1
    assert calls["answered_within"] == 1
    assert calls["service_level"] == 1 / 4
    assert calls["value_on_time"] == 3 + 4  # b by its due time 20.5
    assert calls["value_lost_abandoned"] == 5 + 6
    assert calls["in_service_at_end"] == 2
    counted = engine.statistics()["by_type"]["calls"]
    assert counted["submitted"] == calls["offered"]
    assert counted["canceled"] == calls["abandoned"]


def test_due_time_met_exactly_is_on_time() -> None:
    clock = Clock()
    engine = Engine(clock=clock, offer_timeout=None, auto_accept=True)
    aggregator = KpiAggregator(sla_seconds=1.0)
    aggregator.attach(engine)
    engine.add_agent({"id": "ann"})
    engine.submit(task("a", 2, due=30.0))
    engine.submit(task("b", 7, due=30.0))
    clock.now = 30.0
    engine.set_agent_state("ann", "ready")  # a at its due time exactly
    clock.now = 40.0
    engine.complete("a")  # b next, ten seconds after its due time
    calls = aggregator.report().by_type()["calls"]
    assert (calls["value_on_time"], calls["value_lost_late"]) == (2, 7)
    assert calls["answered_within"] == 0  # both waited beyond the 1 s target


def run_day(engine: Engine, clock: Clock) -> None:
    """A small day with offers, a rejection, wrap-up, an expiry and abandonment."""
    engine.add_agent({"id": "ann"}, ready=True)
    engine.add_agent({"id": "bob"})
    engine.submit(task("a", 1))
    engine.submit(task("b", 2))
    engine.submit(task("c", 3, due=100.0))
    clock.now = 4.0
    engine.accept("a")
    clock.now = 9.0
    engine.set_agent_state("bob", "ready")
    engine.reject("b")
    clock.now = 30.0
    engine.cancel("c", reason="abandoned")
    clock.now = 70.0
    engine.complete("a", wrap_up=15.0)
    clock.now = 90.0
    engine.advance()
    clock.now = 1900.0
    engine.submit(task("d", 4))
    clock.now = 1950.0
    engine.set_agent_state("bob", "not_ready", reason="break")


def test_an_exported_event_file_gives_the_live_figures(tmp_path: Path) -> None:
    clock = Clock()
    engine = Engine(clock=clock, offer_timeout=60.0)
    live = KpiAggregator(interval_seconds=900.0, sla_seconds=10.0)
    live.attach(engine)
    everything: list[Event] = []
    engine.subscribe(everything.append)
    run_day(engine, clock)
    path = tmp_path / "day.jsonl"
    assert export_events(everything, path) == len(everything)

    replayed = KpiAggregator(interval_seconds=900.0, sla_seconds=10.0)
    assert replayed.feed(import_events(path)) == len(everything)
    assert replayed.report(now=2000.0) == live.report(now=2000.0)
    report = replayed.report(now=2000.0)
    assert report.by_type()["calls"]["offered"] == 4
    assert report.by_type()["calls"]["abandoned"] == 1
    assert [row.interval_start for row in report.queue_intervals] == [0.0, 1800.0]
    # The file holds kinds the aggregator passes over (task_queued, offer_accepted, ...).
    assert {e.kind for e in everything} - KPI_EVENT_KINDS


# ------------------------------------------------------------------ random days

TARGET = 2.0
SHORT = 1.0
HALF = st.integers(min_value=0, max_value=12).map(lambda n: n / 2)  # ties and exact thresholds

plans = st.fixed_dictionaries(
    {
        "agents": st.integers(min_value=1, max_value=3),
        "tasks": st.lists(
            st.tuples(
                HALF,  # gap since the previous arrival
                st.integers(min_value=1, max_value=9),  # value
                st.one_of(st.none(), HALF),  # patience
                HALF.map(lambda h: h + 0.5),  # handle time
                st.one_of(st.none(), HALF),  # due, seconds after arrival
            ),
            min_size=1,
            max_size=25,
        ),
        "logout": st.one_of(st.none(), st.integers(min_value=1, max_value=30).map(float)),
    }
)


@settings(max_examples=80, deadline=None)
@given(plans)
def test_random_days_agree_with_a_ledger_kept_from_the_engine_state(plan: dict[str, Any]) -> None:
    clock = Clock()
    engine = Engine(clock=clock, offer_timeout=None, auto_accept=True)
    aggregator = KpiAggregator(
        interval_seconds=5.0, sla_seconds=TARGET, short_abandon_seconds=SHORT
    )
    aggregator.attach(engine)
    # Other interval boundaries cut the same day differently, and add up the same.
    shifted = KpiAggregator(
        interval_seconds=7.0, origin=0.3, sla_seconds=TARGET, short_abandon_seconds=SHORT
    )
    shifted.attach(engine)
    agents = [f"agent-{k}" for k in range(plan["agents"])]
    for agent in agents:
        engine.add_agent({"id": agent}, ready=True)

    actions: list[tuple[float, int, str, str]] = []
    ledger: dict[str, dict[str, Any]] = {}
    arrival = 0.0
    for number, (gap, value, patience, handle, due_after) in enumerate(plan["tasks"]):
        arrival += gap
        name = f"t{number}"
        ledger[name] = {"arrival": arrival, "value": value, "handle": handle, "due": None}
        if due_after is not None:
            ledger[name]["due"] = arrival + due_after
        actions.append((arrival, len(actions), "submit", name))
        if patience is not None:
            actions.append((arrival + patience, len(actions), "abandon", name))
    if plan["logout"] is not None:
        actions.append((plan["logout"], len(actions), "logout", agents[0]))
    heapq.heapify(actions)
    order = len(actions)

    def poll(now: float) -> None:
        nonlocal order
        for name, entry in ledger.items():
            if "answered" in entry or "submitted" not in entry:
                continue
            if engine.get(name).state is TaskState.assigned:
                entry["answered"] = now
                entry["agent"] = engine.agent_of(name).id  # type: ignore[union-attr]
                heapq.heappush(actions, (now + entry["handle"], order, "complete", name))
                order += 1

    while actions:
        now, _, action, name = heapq.heappop(actions)
        clock.now = now
        if action == "submit":
            spec = task(name, ledger[name]["value"])
            if ledger[name]["due"] is not None:
                spec["due"] = ledger[name]["due"]
            engine.submit(spec)
            ledger[name]["submitted"] = True
        elif action == "abandon":
            if engine.get(name).state is TaskState.queued:
                engine.cancel(name, reason="abandoned")
                ledger[name]["abandoned"] = now
        elif action == "complete":
            engine.complete(name)
            ledger[name]["completed"] = now
        else:
            agent = engine.agents.get(name)
            engine.set_agent_state(name, "not_ready" if agent.held else "offline")
        poll(now)
    end = clock.now + 1.0
    clock.now = end

    answered = [e for e in ledger.values() if "answered" in e]
    abandoned = [e for e in ledger.values() if "abandoned" in e]
    waits = [e["answered"] - e["arrival"] for e in answered]
    within = sum(wait <= TARGET for wait in waits)
    on_time = sum(
        e["value"]
        for e in answered
        if (
            e["answered"] <= e["due"]
            if e["due"] is not None
            else e["answered"] - e["arrival"] <= TARGET
        )
    )
    value_answered = sum(e["value"] for e in answered)
    handles = [e["completed"] - e["answered"] for e in answered if "completed" in e]

    report = aggregator.report(now=end)
    other = shifted.report(now=end)
    for name, figures in report.by_type().items():
        for kpi, value in figures.items():
            assert math.isclose(value, other.by_type()[name][kpi], abs_tol=1e-9) or (
                math.isnan(value) and math.isnan(other.by_type()[name][kpi])
            ), (name, kpi)
    for agent, figures in report.by_agent().items():
        for kpi, value in figures.items():
            mine = other.by_agent()[agent][kpi]
            assert math.isclose(value, mine, abs_tol=1e-9) or math.isnan(value), (agent, kpi)
    total = report.by_type()["all"]
    assert total["offered"] == len(ledger)
    assert total["answered"] == len(answered)
    assert total["abandoned"] == len(abandoned)
    assert total["abandoned_short"] == sum(
        e["abandoned"] - e["arrival"] <= SHORT for e in abandoned
    )
    assert total["answered_within"] == within
    assert total["completed"] == len(handles)
    assert total["waiting_at_end"] == len(ledger) - len(answered) - len(abandoned)
    assert total["p_wait"] == (len(ledger) - sum(w == 0 for w in waits)) / len(ledger)
    assert total["value_on_time"] == on_time
    assert total["value_lost_late"] == value_answered - on_time
    assert total["value_lost_abandoned"] == sum(e["value"] for e in abandoned)
    if answered:
        assert math.isclose(total["asa"], sum(waits) / len(waits))
    if handles:
        assert math.isclose(total["aht"], sum(handles) / len(handles))
    # The integral of the number waiting is the sum of every task's time waiting.
    waited = sum(e.get("answered", e.get("abandoned", end)) - e["arrival"] for e in ledger.values())
    assert math.isclose(sum(report.queue_seconds.values()), waited, abs_tol=1e-9)
    # The number waiting at each interval start, after every event at it.
    for k in range(math.floor(end / 5.0) + 1):
        boundary = 5.0 * k
        expected = sum(
            e["arrival"] <= boundary < e.get("answered", e.get("abandoned", math.inf))
            for e in ledger.values()
        )
        assert report.backlog.get((boundary, "calls", "calls"), 0) == expected, boundary
    # Interval rows partition the tasks by arrival interval.
    for row in report.intervals():
        arrived = [
            e
            for e in ledger.values()
            if math.floor(e["arrival"] / 5.0) * 5.0 == row["interval_start"]
        ]
        assert row["offered"] == len(arrived)
        assert row["answered"] == sum("answered" in e for e in arrived)
    # Agent time from the engine's own agent records.
    agent_figures = report.by_agent()
    for agent in agents:
        record = engine.agents.get(agent)
        figures = agent_figures[agent]
        assert math.isclose(figures["talk_seconds"], record.talk_time(end), abs_tol=1e-9)
        assert math.isclose(figures["logged_in_seconds"], record.logged_in_time(end), abs_tol=1e-9)
        assert figures["answered"] == sum(e.get("agent") == agent for e in answered)


def test_a_durable_engine_feeds_the_aggregator_and_a_reopened_one_counts_later_events(
    tmp_path: Path,
) -> None:
    from valueroute.journal import DurableEngine

    now = [0.0]

    def factory(engine_clock: Any) -> Engine:
        return Engine(clock=engine_clock, offer_timeout=None, auto_accept=True)

    path = tmp_path / "journal.db"
    durable = DurableEngine.open(path, factory, sync="none", clock=lambda: now[0])
    kpis = KpiAggregator(sla_seconds=20.0)
    kpis.attach(durable)
    durable.add_agent({"id": "ann"}, ready=True)
    durable.submit(task("a", 2))
    durable.submit(task("b", 3))
    now[0] = 50.0
    durable.complete("a")  # b waited 50 s
    calls = kpis.report().by_type()["calls"]
    assert (calls["answered"], calls["answered_within"], calls["completed"]) == (2, 1, 1)
    durable.close()

    # Replayed commands send no events: a fresh aggregator sees only what follows,
    # and says how many events it could not place.
    reopened = DurableEngine.open(path, factory, sync="none", clock=lambda: now[0])
    later = KpiAggregator(sla_seconds=20.0)
    later.attach(reopened)
    now[0] = 80.0
    reopened.complete("b")
    reopened.submit(task("c", 1))
    report = later.report()
    assert report.unmatched_events == 1  # b's completion
    assert report.by_type()["calls"]["offered"] == 1
    assert report.by_type()["calls"]["answered"] == 1
    reopened.close()
