"""Why this agent: the ``by`` of offers and explain()'s "routing", against brute force.

For random centres the agent explain() says dispatch would choose for a
waiting task (an engine in pull mode, where nothing is offered on arrival) is
the agent a push-mode engine built by the same commands offers the task to,
and both are the agent a direct reading of the strategy's rule picks among the
agents a direct reading of the requirements admits.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.agents import (
    FewestTasks,
    LeastSkilled,
    LongestIdle,
    MostProficient,
    RoundRobin,
    TopDown,
)

SKILLS = ("fr", "de", "billing")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


AGENT = st.fixed_dictionaries(
    {
        "skills": st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3),
        "ready": st.booleans(),
        "chat_slots": st.integers(0, 2),
    }
)
TASK = st.fixed_dictionaries(
    {
        "skills": st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=2),
        "channel": st.sampled_from(["voice", "chat"]),
    }
)
RULES: dict[str, Any] = {
    "longest_idle": LongestIdle,
    "most_proficient": MostProficient,
    "least_skilled": LeastSkilled,
    "fewest_tasks": FewestTasks,
    "top_down": TopDown,
}


def build(agents: list[dict[str, Any]], selection: Any, dispatch: str) -> tuple[Engine, Clock]:
    clock = Clock()
    engine = Engine(clock=clock, agent_selection=selection, dispatch=dispatch)
    for i, agent in enumerate(agents):
        capacity = {"voice": 1}
        if agent["chat_slots"]:
            capacity["chat"] = agent["chat_slots"]
        engine.add_agent(AgentSpec(id=f"a{i}", skills=agent["skills"], capacity=capacity))
    # Agents become ready at different moments, in a shuffled order, so idle
    # times and registration order disagree.
    for i in sorted(range(len(agents)), key=lambda i: (i * 7) % len(agents)):
        if agents[i]["ready"]:
            clock.now += 1.0
            engine.set_agent_state(f"a{i}", "ready")
    clock.now += 1.0
    return engine, clock


def admitted(engine: Engine, agent_id: str, task: dict[str, Any]) -> bool:
    agent = engine.agents.get(agent_id)
    return task["channel"] in agent.capacity and all(
        agent.skills.get(name, -1.0) >= level for name, level in task["skills"].items()
    )


def oracle(engine: Engine, task: dict[str, Any], rule: str) -> str | None:
    """The strategy's rule read off the documentation, over every agent."""
    free = [
        agent
        for agent in engine.agents
        if admitted(engine, agent.id, task)
        and agent.state.value == "ready"
        and engine.agents.can_take(agent, task["channel"])
    ]
    if not free:
        return None
    required = list(task["skills"])

    def mean(agent: Any) -> float:
        levels = [agent.skills[name] for name in required]
        return math.fsum(levels) / len(levels) if levels else 0.0

    keys = {
        "longest_idle": lambda a: (a.idle_since, a.order),
        "most_proficient": lambda a: (-mean(a), a.idle_since, a.order),
        "least_skilled": lambda a: (len(a.skills), a.idle_since, a.order),
        "fewest_tasks": lambda a: (a.tasks_handled, a.idle_since, a.order),
        "top_down": lambda a: a.order,
    }
    return str(min(free, key=keys[rule]).id)


@settings(max_examples=150, deadline=None)
@given(
    agents=st.lists(AGENT, min_size=1, max_size=14),
    task=TASK,
    rule=st.sampled_from(sorted(RULES)),
)
def test_explain_would_choose_the_agent_push_dispatch_offers_to(
    agents: list[dict[str, Any]], task: dict[str, Any], rule: str
) -> None:
    waiting, _ = build(agents, RULES[rule](), "pull")
    pushed, _ = build(agents, RULES[rule](), "push")
    events: list[Any] = []
    pushed.subscribe(events.append)
    spec = TaskSpec(id="t", skills=task["skills"], channel=task["channel"])
    expected = oracle(waiting, task, rule)

    waiting.submit(spec)
    before = waiting.digest()
    routing = waiting.explain("t")["routing"]
    assert waiting.digest() == before, "explain changed the engine"
    assert routing["strategy"] == rule
    assert routing["would_choose"] == expected
    assert routing["decision"] is None
    free = {
        agent.id
        for agent in waiting.agents
        if admitted(waiting, agent.id, task) and agent.state.value == "ready"
    }
    assert routing["eligible"]["available"] == len(free)
    listed = [c["agent"] for c in routing["candidates"]]
    longest_idle = sorted(
        (waiting.agents.get(agent_id) for agent_id in free), key=lambda a: (a.idle_since, a.order)
    )
    assert listed == [agent.id for agent in longest_idle][:10]
    admitted_all = sum(admitted(waiting, agent.id, task) for agent in waiting.agents)
    assert sum(routing["eligible"].values()) == admitted_all

    pushed.submit(spec)
    offers = [e for e in events if e.kind.value == "task_offered"]
    if expected is None:
        assert offers == []
        return
    assert [(e.agent, e.data["by"]) for e in offers] == [(expected, rule)]
    decision = pushed.explain("t")["routing"]["decision"]
    assert decision["agent"] == expected
    assert decision["by"] == rule
    # The event tells the winner as it was when chosen (the waiting engine's
    # agent is still as the pushed one's was).
    chosen = waiting.agents.get(expected)
    levels = [chosen.skills.get(name, 0.0) for name in task["skills"]]
    assert offers[0].data["idle_since"] == chosen.idle_since
    assert offers[0].data["load"] == 0.0
    assert offers[0].data["proficiency"] == (math.fsum(levels) / len(levels) if levels else 0.0)


def test_every_way_an_agent_gets_a_task_is_named() -> None:
    clock = Clock()
    engine = Engine(clock=clock, auto_accept=["back_office"])
    events: list[Any] = []
    engine.subscribe(events.append)
    for agent_id in ("ann", "bob", "cy"):
        engine.add_agent(
            AgentSpec(id=agent_id, capacity={"voice": 1, "back_office": 1}), ready=True
        )
        clock.now += 1.0

    def by_of(task_id: str) -> str:
        found = [
            e.data["by"]
            for e in events
            if e.task == task_id
            and e.kind.value in ("task_offered", "task_assigned")
            and "by" in e.data
        ]
        return found[-1]

    engine.submit(TaskSpec(id="new"))
    assert by_of("new") == "longest_idle"
    engine.submit(TaskSpec(id="case", channel="back_office"))
    assert by_of("case") == "longest_idle"
    assert engine.explain("case")["routing"]["decision"]["by"] == "longest_idle"
    engine.submit(TaskSpec(id="mine", preferred_agents=["cy"], preferred_for=60))
    assert by_of("mine") == "preferred_agent"
    engine.submit(TaskSpec(id="waits"))
    engine.accept("new")
    engine.complete("new")
    assert by_of("waits") == "best_task"
    engine.accept("waits")
    engine.add_agent(AgentSpec(id="dan"), ready=True)
    engine.transfer("waits", to_agent="dan")
    assert by_of("waits") == "transfer"
    pulled = Engine(clock=clock, dispatch="pull")
    pulled.subscribe(events.append)
    pulled.add_agent(AgentSpec(id="dee"), ready=True)
    pulled.submit(TaskSpec(id="pulled"))
    pulled.next_task("dee")
    assert by_of("pulled") == "pull"
    assert pulled.explain("pulled")["routing"]["decision"]["by"] == "pull"


def test_candidates_are_bounded_and_counts_whole() -> None:
    engine, _ = build([{"skills": {"fr": 3}, "ready": True, "chat_slots": 0}] * 40, None, "pull")
    engine.submit(TaskSpec(id="t", skills={"fr": 2}))
    routing = engine.explain("t")["routing"]
    assert routing["eligible"] == {"available": 40, "busy": 0, "away": 0}
    assert len(routing["candidates"]) == 10
    idle = [c["idle_since"] for c in routing["candidates"]]
    assert idle == sorted(idle)
    assert routing["would_choose"] == routing["candidates"][0]["agent"]


def test_a_strategy_that_changes_when_asked_is_not_asked() -> None:
    rotation = RoundRobin()
    engine, _ = build([{"skills": {}, "ready": True, "chat_slots": 0}] * 3, rotation, "pull")
    engine.submit(TaskSpec(id="t"))
    before = rotation.last_order
    routing = engine.explain("t")["routing"]
    assert routing["strategy"] == "round_robin"
    assert routing["would_choose"] is None
    assert routing["eligible"]["available"] == 3
    assert rotation.last_order == before


def test_refusal_cooling_shows_and_the_choice_skips_it() -> None:
    clock = Clock()
    engine = Engine(clock=clock, reject_cooldown=120.0)
    for agent_id in ("ann", "bob"):
        engine.add_agent(AgentSpec(id=agent_id), ready=True)
        clock.now += 1.0
    engine.submit(TaskSpec(id="t"))
    assert engine.agent_of("t").id == "ann"
    engine.reject("t")
    assert engine.agent_of("t").id == "bob"
    engine.reject("t")
    clock.now += 1.0
    routing = engine.explain("t")["routing"]
    assert {c["agent"]: c["cooling"] for c in routing["candidates"]} == {
        "ann": True,
        "bob": True,
    }
    assert routing["would_choose"] is None
