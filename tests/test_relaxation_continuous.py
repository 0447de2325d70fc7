"""Continuous relaxation under random commands, against its formula.

A task under ``ContinuousRelaxation(rate, floor, value_scale)`` must admit,
while it waits, exactly the registered agents whose levels meet
``max(min(floor, level), level - rate_for(task) * age)`` for every skill it
was last given (submitted or replaced by ``update``). The engine never
computes that formula per moment: it moves each requirement to an agent
level when the decaying level passes one, and re-times tasks when agents
with new levels come or go. This test drives it with agents added and
removed, presence changes, tasks created earlier, requirements and values
replaced, offers accepted, rejected and timed out, tasks held, deferred,
resumed and transferred (with new requirements, keeping their age or
counting it anew), rules that add requirements and look again, and the
engine snapshotted and restored mid-run; after every step the agents each
waiting task admits must be the formula's, and every offer must have gone
to an agent the formula admitted at that moment.

Rates, values and times are dyadic and integral, so the formula is exact in
floating point.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine_support import restored_copy
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.events import Event
from valueroute.relaxation import ContinuousRelaxation
from valueroute.rules import load_rules, parse_rules
from valueroute.task import TaskState

SKILLS = ("x", "y")
LEVELS = st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 8))
REQUIREMENTS = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 8))
VALUES = (0.0, 32.0, 64.0)
MISSING = float("-inf")
# VIP tasks need y at level 2 whatever they were given; tasks waiting 6 s
# gain priority, so the rules look again while the decay runs.
RULES = """
name = "continuous"
version = "1"

[attributes]
vip = "bool"

[classification]
mode = "all"

[[classification.rules]]
name = "vip"
when = { field = "attributes.vip", op = "==", value = true }
then = { add_skills = { y = 2 } }

[prioritisation]
mode = "all"

[[prioritisation.rules]]
name = "waiting 6 s"
when = { field = "age", op = ">=", value = 6 }
then = { add_priority = 1 }
"""


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
        with_rules=st.booleans(),
    )
    def start(
        self,
        rate_eighths: int,
        floor: int,
        value_scale: float | None,
        offer_timeout: float | None,
        with_rules: bool,
    ) -> None:
        self.clock = Clock()
        self.plan = ContinuousRelaxation(
            rate=rate_eighths / 8, floor=float(floor), value_scale=value_scale
        )
        self.offer_timeout = offer_timeout
        self.with_rules = with_rules
        self.engine = self.new_engine()
        # task id -> whether it is a VIP (with rules: y 2 on what it is given).
        self.vip: dict[str, bool] = {}
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        # agent id -> its levels, for every registered agent.
        self.agents: dict[str, dict[str, float]] = {}
        # task id -> (created, the requirements last given, value), open tasks.
        self.given: dict[str, tuple[float, dict[str, float], float]] = {}
        self.count = 0

    def new_engine(self) -> Engine:
        return Engine(
            clock=self.clock,
            offer_timeout=self.offer_timeout,
            reject_cooldown=0.0,
            relaxation=self.plan,
            rules=load_rules(parse_rules(RULES)) if self.with_rules else None,
        )

    # ------------------------------------------------------------ reference

    def classified(self, task_id: str, skills: dict[str, int]) -> dict[str, float]:
        """What the rules make of requirements given to the task."""
        requirements = {k: float(v) for k, v in skills.items()}
        if self.with_rules and self.vip[task_id]:
            requirements["y"] = 2.0
        return requirements

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
        vip=st.booleans(),
    )
    def submit(self, skills: dict[str, int], age: int, value: float, vip: bool) -> None:
        task_id = f"t{self.count}"
        self.count += 1
        created = self.clock.now - age
        self.vip[task_id] = vip
        self.given[task_id] = (created, self.classified(task_id, skills), value)
        self.engine.submit(
            TaskSpec(
                id=task_id,
                skills=skills,
                created=created,
                value=value,
                attributes={"vip": vip},
            )
        )
        self.follow()

    @precondition(lambda self: bool(self.given))
    @rule(data=st.data(), skills=REQUIREMENTS)
    def update_skills(self, data: st.DataObject, skills: dict[str, int]) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.given)))
        created, _, value = self.given[task_id]
        # The rules apply on top of the new requirements, as at submission.
        self.given[task_id] = (created, self.classified(task_id, skills), value)
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

    @rule(data=st.data(), how=st.sampled_from(["accept", "accept and keep", "reject"]))
    def answer(self, data: st.DataObject, how: str) -> None:
        offered = self.in_state(TaskState.offered)
        if not offered:
            return
        task_id = data.draw(st.sampled_from(offered))
        if how == "reject":
            self.engine.reject(task_id)
        else:
            self.engine.accept(task_id)
            if how == "accept":
                self.engine.complete(task_id)
        self.follow()

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        assigned = self.in_state(TaskState.assigned)
        if not assigned:
            return
        self.engine.complete(data.draw(st.sampled_from(assigned)))
        self.follow()

    @rule(
        data=st.data(),
        skills=st.one_of(st.none(), REQUIREMENTS),
        keep_age=st.booleans(),
    )
    def transfer(self, data: st.DataObject, skills: dict[str, int] | None, keep_age: bool) -> None:
        movable = self.in_state(TaskState.queued, TaskState.assigned)
        if not movable:
            return
        task_id = data.draw(st.sampled_from(movable))
        created, requirements, value = self.given[task_id]
        if not keep_age:
            created = self.clock.now
        if skills is not None:
            requirements = self.classified(task_id, skills)
        self.given[task_id] = (created, requirements, value)
        self.engine.transfer(task_id, skills=skills, keep_age=keep_age)
        self.follow()

    @rule(data=st.data(), until=st.sampled_from([None, 3, 7]))
    def hold_or_defer(self, data: st.DataObject, until: int | None) -> None:
        waiting = self.in_state(TaskState.queued)
        if not waiting:
            return
        task_id = data.draw(st.sampled_from(waiting))
        if until is None:
            self.engine.hold(task_id)
        else:
            self.engine.defer(task_id, self.clock.now + until)
        self.follow()

    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        away = self.in_state(TaskState.held, TaskState.deferred)
        if not away:
            return
        self.engine.resume(data.draw(st.sampled_from(away)))
        self.follow()

    def in_state(self, *states: TaskState) -> list[str]:
        return sorted(t for t in self.given if self.engine.get(t).state in states)

    @rule(seconds=st.sampled_from([1, 2, 5, 10]))
    def tick(self, seconds: int) -> None:
        self.clock.now += seconds
        self.engine.advance()
        self.follow()

    @rule()
    def snapshot_and_restore(self) -> None:
        """Go on with an engine restored from a snapshot (through JSON): each
        task's decay, its next change and its timers must come back."""
        self.engine = restored_copy(self.engine, self.new_engine)
        self.events = []
        self.seen = 0
        self.engine.subscribe(self.events.append)

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
