"""Preferred agents and last-agent routing.

A task naming preferred agents is offered only to them, in their order,
waiting while they are busy, until ``preferred_for`` has passed; then anyone
eligible may take it. ``related_to`` puts the agent the earlier task was last
assigned to first. Other work is routed exactly as if the task were not
there.
"""

from __future__ import annotations

from typing import Any

import pytest

from valueroute import AgentSpec, AgingPriority, Engine, InvalidInputError, TaskSpec, TaskState


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def engine_with(**settings: Any) -> tuple[Engine, Clock, list[Any]]:
    clock = Clock()
    settings.setdefault("offer_timeout", None)
    engine = Engine(clock=clock, policy=AgingPriority(60), **settings)
    events: list[Any] = []
    engine.subscribe(events.append)
    return engine, clock, events


def holder(engine: Engine, task_id: str) -> str | None:
    agent = engine.agent_of(task_id)
    return None if agent is None else agent.id


def test_offered_only_to_the_preferred_agent_waiting_while_it_is_busy() -> None:
    engine, clock, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="first"))
    engine.accept("first")
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.submit(TaskSpec(id="mine", preferred_agents=["ann"]))
    assert engine.get("mine").state is TaskState.queued  # bo is free, yet not offered
    clock.t = 30.0
    engine.complete("first")
    assert holder(engine, "mine") == "ann"


def test_the_first_free_agent_in_the_given_order_gets_it() -> None:
    engine, _, _ = engine_with()
    for agent_id in ("ann", "bo", "cy"):
        engine.add_agent(AgentSpec(id=agent_id), ready=True)
    engine.submit(TaskSpec(id="t", preferred_agents=["cy", "bo"]))
    assert holder(engine, "t") == "cy"  # not ann, the longest idle


def test_after_preferred_for_anyone_eligible_may_take_it() -> None:
    engine, clock, events = engine_with()
    engine.add_agent(AgentSpec(id="ann"), ready=False)
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.submit(TaskSpec(id="t", preferred_agents=["ann"], preferred_for=90.0))
    assert engine.next_wakeup() == 90.0
    assert engine.explain("t")["preferred_agents"] == ["ann"]
    assert engine.explain("t")["preferred_until"] == 90.0
    clock.t = 89.0
    engine.advance()
    assert engine.get("t").state is TaskState.queued
    clock.t = 90.0
    engine.advance()
    assert holder(engine, "t") == "bo"
    ended = [e for e in events if e.kind.value == "preference_ended"]
    assert [(e.task, e.data["agents"], e.time) for e in ended] == [("t", ["ann"], 90.0)]
    assert engine.explain("t")["preferred_agents"] is None


def test_other_work_goes_exactly_as_without_the_waiting_task() -> None:
    def run(with_preferred: bool) -> list[tuple[str, str | None]]:
        engine, clock, _ = engine_with()
        engine.add_agent(AgentSpec(id="ann"), ready=False)
        engine.add_agent(AgentSpec(id="bo"), ready=False)
        for index in range(6):
            clock.t = float(index)
            engine.submit(TaskSpec(id=f"t{index}", priority=index % 3))
        if with_preferred:
            engine.submit(TaskSpec(id="vip", priority=9, preferred_agents=["ann"]))
        clock.t = 10.0
        engine.set_agent_state("bo", "ready")
        taken = []
        for step in range(6):
            clock.t = 11.0 + step
            task_id = engine.tasks_of("bo")[0].id
            engine.accept(task_id)
            engine.complete(task_id)
            taken.append((task_id, holder(engine, "vip") if with_preferred else None))
        return taken

    plain = run(False)
    preferred = run(True)
    assert [task for task, _ in preferred] == [task for task, _ in plain]
    assert all(vip is None for _, vip in preferred)  # bo never got it


def test_last_agent_routing_from_the_earlier_task() -> None:
    engine, clock, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.submit(TaskSpec(id="call"))
    first = holder(engine, "call")
    assert first == "ann"  # longest idle
    engine.accept("call")
    engine.complete("call")
    clock.t = 5.0
    # Without related_to the callback would go to bo, idle longer now.
    engine.submit(TaskSpec(id="callback", related_to="call", preferred_for=600.0))
    assert holder(engine, "callback") == "ann"
    assert engine.explain("callback")["preferred_agents"] == ["ann"]
    assert engine.explain("call")["last_agent"] == "ann"


def test_a_related_task_nobody_handled_gives_no_preference() -> None:
    engine, _, _ = engine_with()
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.submit(TaskSpec(id="t", related_to="never-seen"))
    assert holder(engine, "t") == "bo"
    assert engine.explain("t")["preferred_agents"] is None


def test_a_preferred_agent_must_still_have_the_skills() -> None:
    engine, clock, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann", skills={"billing": 1}), ready=True)
    engine.add_agent(AgentSpec(id="bo", skills={"billing": 5}), ready=True)
    engine.submit(
        TaskSpec(id="t", skills={"billing": 3}, preferred_agents=["ann"], preferred_for=60.0)
    )
    assert engine.get("t").state is TaskState.queued
    assert engine.next_task("ann") is None
    clock.t = 60.0
    engine.advance()
    assert holder(engine, "t") == "bo"


def test_a_refused_offer_cools_down_and_the_task_waits_for_the_others() -> None:
    engine, _, _ = engine_with(reject_cooldown=120.0)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.add_agent(AgentSpec(id="cy"), ready=True)
    engine.submit(TaskSpec(id="t", preferred_agents=["ann", "bo"]))
    assert holder(engine, "t") == "ann"
    engine.reject("t")
    assert holder(engine, "t") == "bo"
    engine.reject("t")
    assert engine.get("t").state is TaskState.queued  # cy is free but not preferred


def test_pull_gives_it_only_to_a_preferred_agent() -> None:
    engine, _, _ = engine_with(dispatch="pull")
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.submit(TaskSpec(id="theirs", priority=9, preferred_agents=["ann"]))
    engine.submit(TaskSpec(id="any", priority=1))
    offer = engine.next_task("bo")
    assert offer is not None
    assert offer.task.id == "any"
    offer = engine.next_task("ann")
    assert offer is not None
    assert offer.task.id == "theirs"


def test_a_transfer_ends_the_preference() -> None:
    engine, clock, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t", preferred_agents=["ann"]))
    engine.accept("t")
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    clock.t = 10.0
    engine.transfer("t")
    if holder(engine, "t") == "ann":  # freed by the transfer, ann may get it back
        engine.reject("t")
    assert holder(engine, "t") == "bo"  # which only an ended preference allows
    assert engine.explain("t")["preferred_agents"] is None


def test_a_snapshot_keeps_the_preference_and_its_end() -> None:
    from valueroute._snapshot import restore, snapshot

    engine, clock, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann"), ready=False)
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.submit(TaskSpec(id="t", preferred_agents=["ann"], preferred_for=50.0))
    fresh, fresh_clock, events = engine_with()
    fresh_clock.t = clock.t
    restore(snapshot(engine), fresh)
    assert fresh.digest() == engine.digest()
    assert fresh.next_wakeup() == 50.0
    fresh_clock.t = 50.0
    fresh.advance()
    assert holder(fresh, "t") == "bo"
    assert any(e.kind.value == "preference_ended" for e in events)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"preferred_for": 60.0}, "preferred_for"),
        ({"preferred_agents": ["ann", "ann"]}, "preferred_agents"),
        ({"preferred_agents": [f"a{i}" for i in range(17)]}, "preferred_agents"),
        ({"preferred_agents": [""]}, "preferred_agents"),
        ({"preferred_agents": ["ann"], "preferred_for": 0}, "preferred_for"),
        ({"preferred_agents": ["ann"], "preferred_for": True}, "preferred_for"),
        ({"related_to": ""}, "related_to"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        TaskSpec(id="t", **fields)
