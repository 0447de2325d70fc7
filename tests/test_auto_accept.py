"""Assignment without offers: engine-wide, per channel and per agent.

An agent who takes tasks without offers gets them assigned at once: one
``task_assigned`` event, no offer record, no offer events; statistics count
the task offered and accepted, as an offer taken at once. An agent's own
``AgentSpec.auto_accept`` wins over the engine's setting either way.
"""

from __future__ import annotations

from typing import Any

import pytest

from valueroute import (
    AgentSpec,
    Engine,
    InvalidInputError,
    InvalidTransitionError,
    TaskSpec,
    TaskState,
)
from valueroute.events import EventKind
from valueroute.models import QueueSpec


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def engine_with(**settings: Any) -> tuple[Engine, Clock, list[Any]]:
    clock = Clock()
    engine = Engine(clock=clock, offer_timeout=30.0, **settings)
    events: list[Any] = []
    engine.subscribe(events.append)
    return engine, clock, events


def kinds(events: list[Any], task_id: str) -> list[str]:
    return [e.kind.value for e in events if getattr(e, "task", None) == task_id]


def test_auto_accept_assigns_with_one_event_and_no_offer_record() -> None:
    engine, clock, events = engine_with(auto_accept=True)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    clock.t = 110.0
    task = engine.submit(TaskSpec(id="t"))
    assert task.state is TaskState.assigned
    assert kinds(events, "t") == ["task_submitted", "task_queued", "task_assigned"]
    assigned = next(e for e in events if e.kind is EventKind.task_assigned)
    assert (assigned.agent, assigned.data["wait"]) == ("ann", 0.0)
    assert engine.agent_of("t").id == "ann"  # type: ignore[union-attr]
    with pytest.raises(InvalidTransitionError, match="not offered"):
        engine.offer_of("t")
    # No offer expiry timer was set: nothing wakes the engine for it.
    assert engine.next_wakeup() == float("inf")
    stats = engine.statistics()
    assert stats["offered"] == 0  # pending offers: none
    assert stats["by_type"]["task"]["offered"] == 1
    assert stats["by_type"]["task"]["accepted"] == 1
    engine.complete("t")
    assert engine.get("t").state is TaskState.completed


def test_a_waiting_task_goes_at_once_to_an_agent_who_becomes_ready() -> None:
    engine, clock, events = engine_with(auto_accept=True)
    engine.add_agent(AgentSpec(id="ann"), ready=False)
    engine.submit(TaskSpec(id="t"))
    clock.t = 160.0
    engine.set_agent_state("ann", "ready")
    assert engine.get("t").state is TaskState.assigned
    assigned = next(e for e in events if e.kind is EventKind.task_assigned)
    assert assigned.data["wait"] == 60.0
    assert "task_offered" not in kinds(events, "t")


def test_the_agents_own_setting_wins_over_the_engines() -> None:
    engine, _, _events = engine_with(auto_accept=False)
    engine.add_agent(AgentSpec(id="backoffice", auto_accept=True), ready=True)
    engine.submit(TaskSpec(id="a"))
    assert engine.get("a").state is TaskState.assigned
    engine.add_agent(AgentSpec(id="desk"), ready=True)
    engine.submit(TaskSpec(id="b"))
    assert engine.get("b").state is TaskState.offered

    engine, _, _ = engine_with(auto_accept=True)
    engine.add_agent(AgentSpec(id="careful", auto_accept=False), ready=True)
    engine.submit(TaskSpec(id="c"))
    assert engine.get("c").state is TaskState.offered


def test_auto_accept_per_channel() -> None:
    engine, _, events = engine_with(auto_accept=["email"])
    engine.add_agent(AgentSpec(id="ann", capacity={"email": 2}), ready=True)
    engine.add_agent(AgentSpec(id="bo", capacity={"voice": 1}), ready=True)
    engine.submit(TaskSpec(id="mail", channel="email"))
    engine.submit(TaskSpec(id="call", channel="voice"))
    assert engine.get("mail").state is TaskState.assigned
    assert engine.get("call").state is TaskState.offered
    assert "task_offered" not in kinds(events, "mail")


def test_auto_accept_per_queue_between_the_engines_and_the_agents() -> None:
    """A queue's own setting wins over the engine's (either way) and loses to
    an agent's own: pushed and pulled tasks alike."""
    queues = [
        QueueSpec(name="backoffice", auto_accept=True),
        QueueSpec(name="calls", auto_accept=False),
        QueueSpec(name="general"),
    ]
    for engine_setting in (False, True):
        engine, _, events = engine_with(auto_accept=engine_setting, queues=queues)
        for name in ("ann", "bo", "cy"):
            engine.add_agent(AgentSpec(id=name), ready=True)
        engine.submit(TaskSpec(id="case", queue="backoffice"))
        engine.submit(TaskSpec(id="call", queue="calls"))
        engine.submit(TaskSpec(id="misc", queue="general"))
        assert engine.get("case").state is TaskState.assigned
        assert "task_offered" not in kinds(events, "case")
        assert engine.get("call").state is TaskState.offered
        expected = TaskState.assigned if engine_setting else TaskState.offered
        assert engine.get("misc").state is expected
        engine._check()

    engine, _, events = engine_with(queues=queues)
    engine.add_agent(AgentSpec(id="careful", auto_accept=False), ready=True)
    engine.submit(TaskSpec(id="case", queue="backoffice"))
    assert engine.get("case").state is TaskState.offered  # the agent's own wins
    engine.add_agent(AgentSpec(id="eager", auto_accept=True), ready=True)
    engine.submit(TaskSpec(id="call", queue="calls"))
    assert engine.get("call").state is TaskState.assigned

    engine, _, events = engine_with(dispatch="pull", queues=queues)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="case", queue="backoffice", priority=5))
    engine.submit(TaskSpec(id="call", queue="calls", priority=1))
    first = engine.next_task("ann")
    assert first is not None
    assert first.task.id == "case"
    assert engine.get("case").state is TaskState.assigned
    assert kinds(events, "case") == ["task_submitted", "task_queued", "task_assigned"]


def test_pull_returns_the_record_of_what_was_assigned() -> None:
    engine, _, events = engine_with(dispatch="pull", auto_accept=True)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t", priority=1))
    engine.submit(TaskSpec(id="u", priority=5))
    given = engine.next_task("ann")
    assert given is not None
    assert (given.task.id, given.agent.id) == ("u", "ann")
    assert engine.get("u").state is TaskState.assigned
    assert kinds(events, "u") == ["task_submitted", "task_queued", "task_assigned"]


def test_a_transfer_to_an_auto_accept_agent_assigns_at_once() -> None:
    engine, _, events = engine_with()
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bo", auto_accept=True), ready=False)
    engine.submit(TaskSpec(id="t"))
    engine.accept("t")
    engine.set_agent_state("bo", "ready")
    engine.transfer("t", to_agent="bo")
    assert engine.agent_of("t").id == "bo"  # type: ignore[union-attr]
    assert engine.get("t").state is TaskState.assigned
    assert kinds(events, "t")[-2:] == ["task_queued", "task_assigned"]


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", [True]])
def test_agent_auto_accept_takes_only_a_bool_or_none(value: object) -> None:
    with pytest.raises(InvalidInputError, match="auto_accept"):
        AgentSpec(id="ann", auto_accept=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["email", [""], [5], {"email": True}, None, 1])
def test_engine_auto_accept_takes_a_bool_or_channel_names(value: object) -> None:
    with pytest.raises(InvalidInputError, match="auto_accept"):
        Engine(auto_accept=value)  # type: ignore[arg-type]


def test_a_snapshot_keeps_each_agents_setting() -> None:
    from valueroute._snapshot import restore, snapshot

    engine, _clock, _ = engine_with(auto_accept=["chat"])
    engine.add_agent(AgentSpec(id="ann", auto_accept=True), ready=False)
    engine.add_agent(AgentSpec(id="bo", auto_accept=False, capacity={"chat": 2}), ready=False)
    fresh, _, _ = engine_with(auto_accept=["chat"])
    restore(snapshot(engine), fresh)
    assert fresh.digest() == engine.digest()
    fresh.set_agent_state("bo", "ready")
    fresh.submit(TaskSpec(id="c", channel="chat"))
    assert fresh.get("c").state is TaskState.offered  # bo's own False wins over the channel
    other, _, _ = engine_with(auto_accept=["email"])
    with pytest.raises(InvalidInputError, match="auto_accept_channels"):
        restore(snapshot(engine), other)
