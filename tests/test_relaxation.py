"""Skill relaxation: stepwise and continuous, exact against the formula."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, InvalidInputError, TaskSpec
from valueroute.relaxation import ContinuousRelaxation, RelaxationStep
from valueroute.task import TaskState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_continuous_decay_reaches_each_agent_level_at_its_exact_time() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        relaxation=ContinuousRelaxation(rate=0.1),
    )
    engine.add_agent(AgentSpec(id="expert", skills={"tax": 3}))
    engine.add_agent(AgentSpec(id="novice", skills={"tax": 1}))
    task = engine.submit(TaskSpec(id="t", skills={"tax": 5}))
    # level(t) = 5 - 0.1 t reaches 3 at t = 20, 1 at t = 40, 0 at t = 50.
    assert dict(task.skills) == {"tax": 5.0}
    assert engine.next_wakeup() == pytest.approx(20.0)
    clock.now = engine.next_wakeup()
    engine.advance()
    assert dict(task.skills) == {"tax": 3.0}
    assert engine.next_wakeup() == pytest.approx(40.0)
    engine.set_agent_state("novice", "ready")
    assert task.state is TaskState.queued  # the novice is not eligible yet
    clock.now = 39.0
    engine.advance()
    assert task.state is TaskState.queued
    clock.now = 40.0
    engine.advance()
    assert engine.offer_of("t").agent.id == "novice"
    engine._check()


def test_continuous_relaxation_is_faster_for_valuable_work() -> None:
    clock = Clock()
    engine = Engine(clock=clock, relaxation=ContinuousRelaxation(rate=0.1, value_scale=100.0))
    engine.add_agent(AgentSpec(id="a", skills={"tax": 3}))
    engine.submit(TaskSpec(id="cheap", skills={"tax": 5}, value=0.0))
    engine.submit(TaskSpec(id="dear", skills={"tax": 5}, value=100.0))
    # dear decays at 0.2 per second: it reaches level 3 at t = 10, cheap at t = 20.
    assert engine.next_wakeup() == pytest.approx(10.0)


def test_agents_with_new_levels_retime_waiting_tasks() -> None:
    clock = Clock()
    engine = Engine(clock=clock, offer_timeout=None, relaxation=ContinuousRelaxation(rate=0.5))
    engine.add_agent(AgentSpec(id="low", skills={"tax": 1}))
    task = engine.submit(TaskSpec(id="t", skills={"tax": 5}))
    assert engine.next_wakeup() == pytest.approx(8.0)  # 5 - 0.5 t = 1
    clock.now = 2.0
    engine.add_agent(AgentSpec(id="mid", skills={"tax": 3}), ready=True)
    assert engine.next_wakeup() == pytest.approx(4.0)  # 5 - 0.5 t = 3
    clock.now = 4.0
    engine.advance()
    assert engine.offer_of("t").agent.id == "mid"
    assert dict(task.skills) == {"tax": 3.0}


def test_stepwise_relaxation_continues_after_a_task_is_requeued() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        reject_cooldown=1000.0,
        relaxation=[RelaxationStep(after=30.0, lower_by=1.0)],
    )
    engine.add_agent(AgentSpec(id="ann", skills={"tax": 3}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"tax": 2}), ready=True)
    task = engine.submit(TaskSpec(id="t", skills={"tax": 3}))
    clock.now = 5.0
    engine.reject("t")  # back in the queue, ann cooling down
    assert task.state is TaskState.queued
    assert engine.next_wakeup() == 30.0
    clock.now = 30.0
    engine.advance()
    assert engine.offer_of("t").agent.id == "bob"


def test_bad_relaxation_settings_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="rate"):
        ContinuousRelaxation(rate=0.0)
    with pytest.raises(InvalidInputError, match="floor"):
        ContinuousRelaxation(rate=1.0, floor=-1.0)
    with pytest.raises(InvalidInputError, match="order of 'after'"):
        Engine(relaxation=[RelaxationStep(after=10.0), RelaxationStep(after=5.0)])


@given(
    agent_levels=st.lists(st.integers(0, 8), min_size=1, max_size=6),
    start=st.integers(1, 8),
    rate_eighths=st.integers(1, 16),
    floor=st.integers(0, 3),
    times=st.lists(st.integers(0, 80), min_size=1, max_size=8),
)
def test_eligibility_matches_the_continuous_formula_at_every_moment(
    agent_levels: list[int], start: int, rate_eighths: int, floor: int, times: list[int]
) -> None:
    rate = rate_eighths / 8  # dyadic, so the formula is exact in floating point
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        relaxation=ContinuousRelaxation(rate=rate, floor=float(floor)),
    )
    for i, level in enumerate(agent_levels):
        engine.add_agent(AgentSpec(id=f"a{i}", skills={"tax": level}))
    task = engine.submit(TaskSpec(id="t", skills={"tax": start}))
    for moment in sorted(times):
        clock.now = float(moment)
        engine.advance()
        needed = max(min(floor, start), start - rate * moment)
        expected = {f"a{i}" for i, level in enumerate(agent_levels) if level >= needed}
        required = task.skills["tax"]
        actual = {f"a{i}" for i, level in enumerate(agent_levels) if level >= required}
        assert actual == expected, (moment, required, needed)
        assert engine.next_wakeup() > clock.now
    engine._check()
