"""Assignment without offers decides exactly as offers accepted at once.

An engine with ``auto_accept=True`` and an engine whose host accepts every
offer the moment it is made must give the same tasks to the same agents at
the same moments: auto-accept only skips the offer round-trip. Random
command sequences drive both engines side by side (the second accepting
every pending offer after each command); after every step each task's
state and holder, the waiting list's order and each agent's tasks and the
facts strategies choose by (idle since, tasks handled, talk time, load)
must be the same. The offer engine is the reference: its path is the one the
engine's own stateful test checks against a brute-force model.
"""

from __future__ import annotations

from typing import Any, get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec, TaskState
from valueroute.agents import selection_by_name
from valueroute.errors import ValueRouteError
from valueroute.models import QueueSelection

AGENTS = ("ann", "bob", "cy", "dee")
SKILLS = ("billing", "french")
# Every deterministic built-in strategy: the ones a queue may name.
STRATEGIES = get_args(QueueSelection)


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


skills = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2)
agent_specs = st.builds(
    lambda name, levels, voice, chat: AgentSpec(
        id=name, skills=levels, capacity={"voice": voice, "chat": chat}
    ),
    st.sampled_from(AGENTS),
    skills,
    st.integers(0, 1),
    st.integers(0, 3),
)
staff = st.lists(agent_specs, min_size=1, max_size=4, unique_by=lambda spec: spec.id)
submit = st.tuples(
    st.just("submit"),
    st.sampled_from(["voice", "chat"]),
    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 2), max_size=1),
    st.integers(0, 5),
)
complete = st.tuples(st.just("complete"), st.integers(0, 60), st.sampled_from([None, 0.0, 20.0]))
steps = st.lists(
    st.one_of(
        submit,
        submit,
        submit,
        complete,
        complete,
        complete,
        st.tuples(st.just("end_wrap_up"), st.integers(0, 60)),
        st.tuples(
            st.just("state"), st.sampled_from(AGENTS), st.sampled_from(["ready", "not_ready"])
        ),
        st.tuples(st.just("add_agent"), agent_specs, st.booleans()),
        st.tuples(st.just("remove_agent"), st.sampled_from(AGENTS)),
        st.tuples(st.just("cancel"), st.integers(0, 60)),
        st.tuples(st.just("advance"), st.floats(0.5, 120.0)),
    ),
    min_size=15,
    max_size=60,
)


def _accept_every_offer(engine: Engine, task_ids: list[str]) -> None:
    for task_id in task_ids:
        if engine.get(task_id).state is TaskState.offered:
            engine.accept(task_id, engine.offer_of(task_id).agent.id)


def _picture(engine: Engine, task_ids: list[str]) -> dict[str, Any]:
    tasks = {}
    for task_id in task_ids:
        task = engine.get(task_id)
        holder = engine.agent_of(task_id)
        tasks[task_id] = (task.state, None if holder is None else holder.id)
    agents: dict[str, Any] = {}
    now = engine.now
    for agent_id in AGENTS:
        try:
            agent = engine.agents.get(agent_id)
        except ValueRouteError:
            agents[agent_id] = None
            continue
        # The facts strategies choose by: an assignment must leave them as an
        # accepted offer does.
        agents[agent_id] = (
            sorted(t.id for t in engine.tasks_of(agent_id)),
            agent.state,
            agent.idle_since,
            agent.tasks_handled,
            agent.talk_time(now),
            agent.logged_in_time(now),
            agent.load_ratio(),
        )
    waiting = [task.id for task, _ in engine.tasklist.top(50, engine.now)]
    return {"tasks": tasks, "agents": agents, "waiting": waiting}


def _apply(engine: Engine, clock: Clock, step: tuple[Any, ...], task_ids: list[str]) -> str:
    """Run one step; returns what happened (the error's kind when refused)."""
    kind = step[0]
    try:
        if kind == "add_agent":
            engine.add_agent(step[1], ready=step[2])
        elif kind == "submit":
            task_id = f"t{len(task_ids)}"
            engine.submit(TaskSpec(id=task_id, channel=step[1], skills=step[2], priority=step[3]))
            task_ids.append(task_id)
        elif kind in ("complete", "end_wrap_up", "cancel"):
            if not task_ids:
                return "nothing"
            task_id = task_ids[step[1] % len(task_ids)]
            if kind == "complete":
                engine.complete(task_id, wrap_up=step[2])
            elif kind == "end_wrap_up":
                engine.end_wrap_up(task_id)
            else:
                engine.cancel(task_id)
        elif kind == "state":
            engine.set_agent_state(step[1], step[2])
        elif kind == "remove_agent":
            engine.remove_agent(step[1])
        else:
            clock.t += step[1]
            engine.advance()
    except ValueRouteError as exc:
        return type(exc).__name__
    return "ok"


@settings(max_examples=150, deadline=None)
@given(strategy=st.sampled_from(STRATEGIES), team=staff, program=steps)
def test_auto_accept_assigns_as_offers_accepted_at_once(
    strategy: str, team: list[AgentSpec], program: list[tuple[Any, ...]]
) -> None:
    auto_clock, offer_clock = Clock(), Clock()
    auto = Engine(
        clock=auto_clock, agent_selection=selection_by_name(strategy), auto_accept=True, wrap_up=5.0
    )
    offers = Engine(
        clock=offer_clock,
        agent_selection=selection_by_name(strategy),
        offer_timeout=None,
        wrap_up=5.0,
    )
    auto_ids: list[str] = []
    offer_ids: list[str] = []
    for spec in team:
        program = [("add_agent", spec, True), *program]
    for step in program:
        done_auto = _apply(auto, auto_clock, step, auto_ids)
        done_offer = _apply(offers, offer_clock, step, offer_ids)
        _accept_every_offer(offers, offer_ids)
        assert done_auto == done_offer, step
        assert _picture(auto, auto_ids) == _picture(offers, offer_ids), step
        assert not any(auto.get(t).state is TaskState.offered for t in auto_ids)
