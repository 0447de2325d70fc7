"""Continuous relaxation under random commands, against its formula.

A task under ``ContinuousRelaxation(rate, floor, value_scale)`` must admit,
while it waits, exactly the registered agents whose levels meet
``max(min(floor, level), level - rate_for(task) * age)`` for every skill it
was last given (submitted or replaced by ``update``). The engine never
computes that formula per moment: it moves each requirement to an agent
level when the decaying level passes one, and re-times tasks when agents
with new levels come or go. This test drives it with agents added and
removed, presence changes, tasks created earlier, requirements and values
replaced, offers accepted, rejected and timed out, and checks after every
step that the agents each waiting task admits are the formula's, and that
every offer went to an agent the formula admitted at that moment.

Rates, values and times are dyadic and integral, so the formula is exact in
floating point.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.events import Event
from valueroute.relaxation import ContinuousRelaxation
from valueroute.task import TaskState

SKILLS = ("x", "y")
LEVELS = st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 8))
REQUIREMENTS = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 8))
VALUES = (0.0, 32.0, 64.0)
MISSING = float("-inf")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def admits(levels: dict[str, float], requirements: dict[str, float]) -> bool:
    """An agent with ``levels`` meets ``requirements`` (a missing skill meets none)."""
    return all(levels.get(name, MISSING) >= level for name, level in requirements.items())


class ContinuousPlans(RuleBasedStateMachine):
    @initialize(
        rate_eighths=st.integers(1, 16),
        floor=st.integers(0, 3),
        value_scale=st.sampled_from([None, 64.0]),
        offer_timeout=st.sampled_from([None, 4.0]),
    )
    def start(
        self, rate_eighths: int, floor: int, value_scale: float | None, offer_timeout: float | None
    ) -> None:
        self.clock = Clock()
        self.plan = ContinuousRelaxation(
            rate=rate_eighths / 8, floor=float(floor), value_scale=value_scale
        )
        self.engine = Engine(
            clock=self.clock,
            offer_timeout=offer_timeout,
            reject_cooldown=0.0,
            relaxation=self.plan,
        )
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        # agent id -> its levels, for every registered agent.
        self.agents: dict[str, dict[str, float]] = {}
        # task id -> (created, the requirements last given, value), open tasks.
        self.given: dict[str, tuple[float, dict[str, float], float]] = {}
        self.count = 0

    # ------------------------------------------------------------ reference

    def required(self, task_id: str, now: float) -> dict[str, float]:
        created, requirements, value = self.given[task_id]
        rate = self.plan.rate
        if self.plan.value_scale is not None:
            rate *= 1.0 + value / self.plan.value_scale
        age = max(0.0, now - created)
        return {
            name: max(min(self.plan.floor, level), level - rate * age)
            for name, level in requirements.items()
        }

    def follow(self) -> None:
        for event in self.events[self.seen :]:
            kind = event.kind.value
            if kind == "task_offered":
                assert event.task is not None
                assert event.agent is not None
                needs = self.required(event.task, event.time)
                assert admits(self.agents[event.agent], needs), (event, needs)
            elif kind in ("task_completed", "task_canceled", "task_expired"):
                assert event.task is not None
                self.given.pop(event.task, None)
        self.seen = len(self.events)

    # ------------------------------------------------------------ agents

    @rule(levels=LEVELS, ready=st.booleans())
    def add_agent(self, levels: dict[str, int], ready: bool) -> None:
        agent_id = f"a{self.count}"
        self.count += 1
        self.agents[agent_id] = {k: float(v) for k, v in levels.items()}
        self.engine.add_agent(AgentSpec(id=agent_id, skills=levels), ready=ready)
        self.follow()

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data())
    def remove_agent(self, data: st.DataObject) -> None:
        agent_id = data.draw(st.sampled_from(sorted(self.agents)))
        if self.engine.agents.get(agent_id).load:
            return
        self.engine.remove_agent(agent_id)
        del self.agents[agent_id]
        self.follow()

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data(), state=st.sampled_from(["ready", "offline"]))
    def presence(self, data: st.DataObject, state: str) -> None:
        agent_id = data.draw(st.sampled_from(sorted(self.agents)))
        current = self.engine.agents.get(agent_id)
        if current.presence.value == state or (state == "offline" and current.load):
            return
        self.engine.set_agent_state(agent_id, state)
        self.follow()

    # ------------------------------------------------------------ tasks

    @rule(
        skills=REQUIREMENTS,
        age=st.sampled_from([0, 0, 3, 20]),
        value=st.sampled_from(VALUES),
    )
    def submit(self, skills: dict[str, int], age: int, value: float) -> None:
        task_id = f"t{self.count}"
        self.count += 1
        created = self.clock.now - age
        self.given[task_id] = (created, {k: float(v) for k, v in skills.items()}, value)
        self.engine.submit(TaskSpec(id=task_id, skills=skills, created=created, value=value))
        self.follow()

    @precondition(lambda self: bool(self.given))
    @rule(data=st.data(), skills=REQUIREMENTS)
    def update_skills(self, data: st.DataObject, skills: dict[str, int]) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.given)))
        created, _, value = self.given[task_id]
        self.given[task_id] = (created, {k: float(v) for k, v in skills.items()}, value)
        self.engine.update(task_id, skills=skills)
        self.follow()

    @precondition(lambda self: bool(self.given))
    @rule(data=st.data(), value=st.sampled_from(VALUES))
    def update_value(self, data: st.DataObject, value: float) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.given)))
        created, requirements, _ = self.given[task_id]
        self.given[task_id] = (created, requirements, value)
        self.engine.update(task_id, value=value)
        self.follow()

    @rule(data=st.data(), how=st.sampled_from(["accept", "reject"]))
    def answer(self, data: st.DataObject, how: str) -> None:
        offered = sorted(t for t in self.given if self.engine.get(t).state is TaskState.offered)
        if not offered:
            return
        task_id = data.draw(st.sampled_from(offered))
        if how == "accept":
            self.engine.accept(task_id)
            self.engine.complete(task_id)
        else:
            self.engine.reject(task_id)
        self.follow()

    @rule(seconds=st.sampled_from([1, 2, 5, 10]))
    def tick(self, seconds: int) -> None:
        self.clock.now += seconds
        self.engine.advance()
        self.follow()

    # ------------------------------------------------------------ invariant

    @invariant()
    def waiting_tasks_admit_the_formulas_agents(self) -> None:
        if not hasattr(self, "engine"):
            return
        now = self.clock.now
        for task_id in self.given:
            task = self.engine.get(task_id)
            if task.state is not TaskState.queued:
                continue
            needs = self.required(task_id, now)
            requirements = dict(task.skills)
            assert requirements.keys() == needs.keys(), (task_id, requirements, needs)
            admitted = {a for a, levels in self.agents.items() if admits(levels, requirements)}
            expected = {a for a, levels in self.agents.items() if admits(levels, needs)}
            assert admitted == expected, (task_id, now, requirements, needs)
            assert self.engine.next_wakeup() > now
        self.engine._check()


TestContinuousPlans = ContinuousPlans.TestCase
