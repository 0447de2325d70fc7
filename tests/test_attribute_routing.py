"""Routing by attribute expressions: ``TaskSpec.requires`` over ``AgentSpec.attributes``.

An expression is a condition besides the numeric skills: an agent is
eligible when its skills meet the task's and its attributes meet the
expression. Agents with equal skills but different attributes are told
apart (they share no eligibility), and everything else works as before.
"""

from __future__ import annotations

from typing import Any

import pytest

from valueroute import (
    AgentSpec,
    DuplicateTaskError,
    Engine,
    InvalidInputError,
    InvalidTransitionError,
    TaskSpec,
    TaskState,
)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def engine_with(**settings: Any) -> tuple[Engine, Clock]:
    clock = Clock()
    settings.setdefault("offer_timeout", None)
    return Engine(clock=clock, **settings), clock


def holder(engine: Engine, task_id: str) -> str | None:
    agent = engine.agent_of(task_id)
    return None if agent is None else agent.id


def test_a_pushed_task_goes_only_to_an_agent_whose_attributes_meet_it() -> None:
    engine, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann", attributes={"language": "en"}), ready=True)
    engine.add_agent(AgentSpec(id="bo", attributes={"language": "fr"}), ready=True)
    engine.submit(TaskSpec(id="t", requires='language == "fr"'))
    assert holder(engine, "t") == "bo"  # ann is idle longer but speaks English


def test_skills_and_the_expression_must_both_hold() -> None:
    engine, _ = engine_with()
    engine.add_agent(
        AgentSpec(id="ann", skills={"claims": 1}, attributes={"region": "EU"}), ready=True
    )
    engine.add_agent(
        AgentSpec(id="bo", skills={"claims": 3}, attributes={"region": "US"}), ready=True
    )
    engine.submit(TaskSpec(id="t", skills={"claims": 2}, requires='region in ["EU", "UK"]'))
    assert engine.get("t").state is TaskState.queued
    engine.add_agent(
        AgentSpec(id="cy", skills={"claims": 2}, attributes={"region": "UK"}), ready=True
    )
    assert holder(engine, "t") == "cy"


def test_pull_skips_tasks_the_agent_does_not_meet() -> None:
    engine, _ = engine_with(dispatch="pull")
    engine.add_agent(AgentSpec(id="trainee", attributes={"trainee": True}), ready=True)
    engine.submit(TaskSpec(id="hard", priority=9, requires="not trainee"))
    engine.submit(TaskSpec(id="easy", priority=1))
    offer = engine.next_task("trainee")
    assert offer is not None
    assert offer.task.id == "easy"
    assert engine.next_task("trainee") is None  # voice: one at a time
    engine.add_agent(AgentSpec(id="senior"), ready=True)  # no trainee attribute: not a trainee
    offer = engine.next_task("senior")
    assert offer is not None
    assert offer.task.id == "hard"


def test_agents_with_equal_skills_and_other_attributes_are_told_apart() -> None:
    engine, _ = engine_with()
    for agent_id, languages in (("ann", {"en"}), ("bo", {"de", "en"}), ("cy", {"de"})):
        engine.add_agent(
            AgentSpec(id=agent_id, skills={"sales": 2}, attributes={"languages": languages}),
            ready=True,
        )
    engine.submit(TaskSpec(id="de-1", skills={"sales": 1}, requires='"de" in languages'))
    engine.submit(TaskSpec(id="de-2", skills={"sales": 1}, requires='"de" in languages'))
    engine.submit(TaskSpec(id="de-3", skills={"sales": 1}, requires='"de" in languages'))
    assert [holder(engine, f"de-{i}") for i in (1, 2, 3)] == ["bo", "cy", None]
    assert engine.agents.get("bo").attributes["languages"] == ["de", "en"]
    engine._check()


def test_a_transfer_to_an_agent_who_does_not_meet_it_is_refused() -> None:
    engine, _ = engine_with()
    engine.add_agent(AgentSpec(id="ann", attributes={"language": "fr"}), ready=True)
    engine.submit(TaskSpec(id="t", requires='language == "fr"'))
    engine.accept("t")
    engine.add_agent(AgentSpec(id="bo", attributes={"language": "en"}), ready=True)
    before = engine.digest()
    with pytest.raises(InvalidTransitionError, match="requirement"):
        engine.transfer("t", to_agent="bo")
    assert engine.digest() == before


def test_resubmission_compares_the_requirement() -> None:
    engine, _ = engine_with()
    first = engine.submit(TaskSpec(id="t", requires="senior"))
    assert engine.submit(TaskSpec(id="t", requires="senior")) is first
    with pytest.raises(DuplicateTaskError):
        engine.submit(TaskSpec(id="t", requires="not senior"))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"requires": "language =="}, "requires"),
        ({"requires": "(" * 200 + "x" + ")" * 200}, "requires"),
        ({"requires": 'matches(team, "(a")'}, "requires"),
    ],
)
def test_bad_requirements_are_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        TaskSpec(id="t", **fields)


@pytest.mark.parametrize(
    "attributes",
    [{"not": 1}, {"a b": 1}, {"x": {"nested": 1}}, {"x": float("nan")}, {"x": "\ud800"}],
)
def test_bad_attributes_are_refused_naming_the_field(attributes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="attributes"):
        AgentSpec(id="ann", attributes=attributes)


def test_a_snapshot_keeps_attributes_and_requirements() -> None:
    from valueroute._snapshot import restore, snapshot

    engine, clock = engine_with()
    engine.add_agent(AgentSpec(id="ann", attributes={"language": "en"}), ready=True)
    engine.add_agent(AgentSpec(id="bo", attributes={"language": "fr"}), ready=False)
    engine.submit(TaskSpec(id="t", requires='language == "fr"'))
    fresh, fresh_clock = engine_with()
    fresh_clock.t = clock.t
    restore(snapshot(engine), fresh)
    assert fresh.digest() == engine.digest()
    fresh.set_agent_state("bo", "ready")
    assert holder(fresh, "t") == "bo"
    assert fresh.explain("t")["requires"] == 'language == "fr"'
