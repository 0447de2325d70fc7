"""Skill relaxation: stepwise and continuous, exact against the formula.

Stepwise plans run on the workflow machinery; a stateful test checks them
against a direct reading of their rule (random plans per type and for all
types, tasks with old creation times, rules, replaced requirements, agents
coming and going, offers answered or timed out).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from valueroute import AgentSpec, Engine, InvalidInputError, TaskSpec
from valueroute.events import Event
from valueroute.models import WorkflowSpec, WorkflowStep
from valueroute.relaxation import ContinuousRelaxation, RelaxationStep
from valueroute.rules import load_rules, parse_rules
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


def test_a_new_value_sets_a_value_scaled_decay_at_once() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        relaxation=ContinuousRelaxation(rate=0.5, value_scale=100.0),
    )
    engine.add_agent(AgentSpec(id="low", skills={"tax": 1}))
    relaxed: list[Event] = []
    engine.subscribe(relaxed.append, kinds=["task_relaxed"])
    task = engine.submit(TaskSpec(id="t", skills={"tax": 5}, value=0.0))
    assert engine.next_wakeup() == pytest.approx(8.0)  # 5 - 0.5 t = 1
    clock.now = 4.5
    # At value 100 the rate is 1.0 over the whole age: 5 - 4.5 < 1, so the
    # requirement is at the agent's level now, not at the old time.
    engine.update("t", value=100.0)
    assert dict(task.skills) == {"tax": 1.0}
    assert [e.data for e in relaxed] == [{"skills": {"tax": 1.0}}]
    assert engine.next_wakeup() == pytest.approx(5.0)  # 5 - 1.0 t = 0, the floor
    # Back to value 0: 5 - 0.5 * 4.5 is above the agent's level again.
    engine.update("t", value=0.0)
    assert dict(task.skills) == {"tax": 5.0}
    assert engine.next_wakeup() == pytest.approx(8.0)
    engine._check()


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


# ------------------------------------------------------------ stepwise plans

RELAX_RULES = """
name = "relaxation rules"
version = "1"

[attributes]
vip = "bool"

[classification]
mode = "all"

[[classification.rules]]
name = "vip"
when = { field = "attributes.vip", op = "==", value = true }
then = { add_skills = { y = 2 } }
"""

RELAX_TYPES = ("a", "b", "c")
RELAX_SKILLS = ("x", "y")
RELAX_AGENTS = {"ann": {"x": 4.0, "y": 3.0}, "bob": {"x": 1.0}, "cy": {"y": 1.0}, "dan": {}}

PLAN = st.lists(
    st.tuples(
        st.sampled_from([0.0, 5.0, 10.0, 20.0, 45.0]),
        st.sampled_from([0.0, 0.5, 1.0, 2.0]),
        st.sampled_from([(), ("x",), ("y",)]),
    ),
    min_size=1,
    max_size=3,
).map(lambda steps: sorted(steps, key=lambda step: step[0]))


def lowered_by_plan(
    requirements: dict[str, float], plan: list[tuple[float, float, tuple[str, ...]]], age: float
) -> dict[str, float]:
    """The reference: every step whose ``after`` the age has reached lowers
    every level by ``lower_by`` (never below 0) and drops the skills named."""
    result = dict(requirements)
    for after, lower_by, drop in plan:
        if after <= age:
            result = {k: max(0.0, v - lower_by) for k, v in result.items() if k not in drop}
    return result


class StepwisePlans(RuleBasedStateMachine):
    """Stepwise relaxation against a direct reading of its rule.

    A task's requirements at ``now`` are those last given (submitted or
    replaced by ``update``, as the rules classify them), lowered by every step
    of its type's plan (else the ``'*'`` plan) whose ``after`` its age
    (``now - created``) has reached, for as long as it waits; a task that
    leaves the list keeps what it had and is relaxed again when it comes
    back. Requirements replaced while it is away (offered) are lowered by
    the steps it had taken when it left, those its age reached at its
    offer: the steps that ran out while it was away wait for its return.
    Every change of a waiting task's requirements that the host did not
    make itself is told as ``task_relaxed`` with the new skills; every offer
    goes to an agent meeting the requirements of its moment.
    """

    @initialize(
        plans=st.dictionaries(st.sampled_from(["a", "b", "*"]), PLAN, min_size=1, max_size=3),
        offer_timeout=st.sampled_from([None, 4.0]),
    )
    def start(
        self,
        plans: dict[str, list[tuple[float, float, tuple[str, ...]]]],
        offer_timeout: float | None,
    ) -> None:
        self.clock = Clock()
        self.plans = plans
        self.engine = Engine(
            clock=self.clock,
            offer_timeout=offer_timeout,
            reject_cooldown=0.0,
            rules=load_rules(parse_rules(RELAX_RULES)),
            relaxation={
                key: [RelaxationStep(after=a, lower_by=b, drop=d) for a, b, d in plan]
                for key, plan in plans.items()
            },
        )
        for agent_id, skills in RELAX_AGENTS.items():
            self.engine.add_agent(AgentSpec(id=agent_id, skills=skills))
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        # task id -> (created, requirements last given, the plan's key or None).
        self.given: dict[str, tuple[float, dict[str, float], str | None]] = {}
        # task id -> the requirements last told (at submission, by update,
        # then by task_relaxed).
        self.told: dict[str, dict[str, float]] = {}
        self.count = 0
        # task id -> whether it is a VIP (the rules add y 2 to what it is given).
        self.vip: dict[str, bool] = {}
        # task id -> when its current offer was made (while it is away).
        self.offered_at: dict[str, float] = {}

    def classified(self, task_id: str, skills: dict[str, float]) -> dict[str, float]:
        """What the rules make of requirements given to the task."""
        requirements = {k: float(v) for k, v in skills.items()}
        if self.vip[task_id]:
            requirements["y"] = 2.0
        return requirements

    def plan_key(self, task_type: str) -> str | None:
        return task_type if task_type in self.plans else "*" if "*" in self.plans else None

    def expected(self, task_id: str, at: float) -> dict[str, float]:
        created, requirements, key = self.given[task_id]
        if key is None:
            return dict(requirements)
        return lowered_by_plan(requirements, self.plans[key], at - created)

    def follow(self) -> None:
        for event in self.events[self.seen :]:
            kind = event.kind.value
            if kind == "task_relaxed":
                assert event.task is not None
                # Away, a task is relaxed only when the host replaces its
                # requirements: as far as the steps taken when it left.
                at = self.offered_at.get(event.task, event.time)
                assert event.data["skills"] == self.expected(event.task, at), event
                self.told[event.task] = event.data["skills"]
            elif kind == "task_offered":
                assert event.task is not None
                assert event.agent is not None
                needs = self.expected(event.task, event.time)
                skills = RELAX_AGENTS[event.agent]
                assert all(skills.get(k, -1.0) >= v for k, v in needs.items()), (event, needs)
                self.offered_at[event.task] = event.time
            elif kind in ("offer_rejected", "offer_timed_out"):
                assert event.task is not None
                self.offered_at.pop(event.task, None)
            elif kind in ("task_completed", "task_canceled", "task_expired"):
                assert event.task is not None
                self.given.pop(event.task, None)
                self.told.pop(event.task, None)
                self.offered_at.pop(event.task, None)
        self.seen = len(self.events)

    @rule(
        task_type=st.sampled_from(RELAX_TYPES),
        skills=st.dictionaries(st.sampled_from(RELAX_SKILLS), st.sampled_from([1, 2.5, 4])),
        age=st.sampled_from([0.0, 0.0, 7.0, 30.0]),
        vip=st.booleans(),
    )
    def submit(self, task_type: str, skills: dict[str, float], age: float, vip: bool) -> None:
        task_id = f"t{self.count}"
        self.count += 1
        created = self.clock.now - age
        self.vip[task_id] = vip
        requirements = self.classified(task_id, skills)
        self.given[task_id] = (created, requirements, self.plan_key(task_type))
        task = self.engine.submit(
            TaskSpec(
                id=task_id,
                type=task_type,
                skills=skills,
                created=created,
                attributes={"vip": vip},
            )
        )
        # A task whose age already passed steps arrives relaxed, untold.
        self.told[task_id] = dict(task.skills)
        self.follow()

    @rule(
        data=st.data(),
        skills=st.dictionaries(st.sampled_from(RELAX_SKILLS), st.sampled_from([0.5, 3])),
    )
    def update_skills(self, data: st.DataObject, skills: dict[str, float]) -> None:
        if not self.given:
            return
        task_id = data.draw(st.sampled_from(sorted(self.given)))
        created, _, key = self.given[task_id]
        # The rules apply on top of the new requirements, as at submission.
        self.given[task_id] = (created, self.classified(task_id, skills), key)
        self.told[task_id] = self.classified(task_id, skills)
        self.engine.update(task_id, skills=skills)
        self.follow()

    @rule(agent=st.sampled_from(sorted(RELAX_AGENTS)), state=st.sampled_from(["ready", "offline"]))
    def presence(self, agent: str, state: str) -> None:
        current = self.engine.agents.get(agent)
        if current.presence.value == state or (state == "offline" and current.load):
            return
        self.engine.set_agent_state(agent, state)
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

    @rule(seconds=st.sampled_from([1.0, 2.5, 5.0, 10.0, 30.0]))
    def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        self.engine.advance()
        self.follow()

    @invariant()
    def requirements_follow_the_plan(self) -> None:
        if not hasattr(self, "engine"):
            return
        now = self.clock.now
        for task_id in self.given:
            task = self.engine.get(task_id)
            if task.state is not TaskState.queued:
                continue
            assert dict(task.skills) == self.expected(task_id, now), task_id
            assert dict(task.skills) == self.told[task_id], task_id
            explained = self.engine.explain(task_id)
            created, _, key = self.given[task_id]
            assert explained["relaxation"] == key
            assert explained["workflow"] is None
            if key is not None:
                taken = sum(1 for after, _, _ in self.plans[key] if after <= now - created)
                assert explained["relaxation_step"] == taken
        self.engine._check()


TestStepwisePlans = StepwisePlans.TestCase


def test_a_task_arriving_older_than_some_steps_starts_relaxed_untold() -> None:
    clock = Clock()
    clock.now = 100.0
    engine = Engine(
        clock=clock,
        relaxation=[
            RelaxationStep(after=10.0, lower_by=1.0),
            RelaxationStep(after=30.0, drop=("fr",)),
            RelaxationStep(after=60.0, lower_by=1.0),
        ],
    )
    heard: list[Event] = []
    engine.subscribe(heard.append)
    task = engine.submit(TaskSpec(id="t", skills={"tax": 4, "fr": 1}, created=65.0))
    # Age 35: the first two steps are taken, the third is due at 65 + 60.
    assert dict(task.skills) == {"tax": 3.0}
    assert [e.kind.value for e in heard] == ["task_submitted", "task_queued"]
    explained = engine.explain("t")
    assert (explained["relaxation"], explained["relaxation_step"]) == ("*", 2)
    assert (explained["workflow"], explained["workflow_step"]) == (None, None)
    assert explained["step_since"] == 95.0
    assert engine.next_wakeup() == 125.0
    clock.now = 125.0
    engine.advance()
    assert dict(task.skills) == {"tax": 2.0}
    assert heard[-1].kind.value == "task_relaxed"
    assert heard[-1].data == {"skills": {"tax": 2.0}}
    assert engine.explain("t")["relaxation_step"] == 3
    assert engine.next_wakeup() == math.inf
    engine._check()


def test_a_late_advance_takes_every_step_due_with_one_event() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        relaxation=[
            RelaxationStep(after=10.0, lower_by=1.0),
            RelaxationStep(after=20.0, lower_by=1.0),
        ],
    )
    heard: list[Event] = []
    engine.subscribe(heard.append, kinds=["task_relaxed"])
    task = engine.submit(TaskSpec(id="t", skills={"tax": 4}))
    clock.now = 50.0
    assert engine.advance() == 1
    assert dict(task.skills) == {"tax": 2.0}
    assert [e.data for e in heard] == [{"skills": {"tax": 2.0}}]


WORKFLOW_AND_PLAN = {
    "relaxation": {"claim": [RelaxationStep(after=10.0, lower_by=1.0)]},
    "workflows": [
        WorkflowSpec(
            name="triage",
            steps=[WorkflowStep(timeout=20.0), WorkflowStep(lower_by=2.0)],
        )
    ],
}


def test_a_task_given_a_workflow_follows_it_and_not_its_types_relaxation() -> None:
    clock = Clock()
    engine = Engine(clock=clock, **WORKFLOW_AND_PLAN)  # type: ignore[arg-type]
    heard: list[Event] = []
    engine.subscribe(heard.append, kinds=["task_relaxed"])
    task = engine.submit(TaskSpec(id="c", type="claim", skills={"claims": 4}, workflow="triage"))
    clock.now = 15.0
    engine.advance()
    assert dict(task.skills) == {"claims": 4.0}  # the plan's step at 10 s is not taken
    explained = engine.explain("c")
    assert (explained["workflow"], explained["relaxation"]) == ("triage", None)
    clock.now = 20.0
    engine.advance()
    assert dict(task.skills) == {"claims": 2.0}  # the workflow's relaxing step
    assert heard == []  # a workflow tells its steps as workflow_step
    engine._check()


def test_a_task_of_the_same_type_following_no_workflow_is_relaxed() -> None:
    clock = Clock()
    engine = Engine(clock=clock, **WORKFLOW_AND_PLAN)  # type: ignore[arg-type]
    task = engine.submit(TaskSpec(id="c", type="claim", skills={"claims": 4}))
    clock.now = 15.0
    engine.advance()
    assert dict(task.skills) == {"claims": 3.0}
    explained = engine.explain("c")
    assert (explained["workflow"], explained["relaxation"]) == (None, "claim")
    assert explained["relaxation_step"] == 1
    engine._check()


def test_a_type_following_a_workflow_by_type_is_not_relaxed_by_its_plan() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        relaxation={"*": [RelaxationStep(after=5.0, lower_by=1.0)]},
        workflows=[WorkflowSpec(name="claims", types=["claim"], steps=[WorkflowStep()])],
    )
    claim = engine.submit(TaskSpec(id="c", type="claim", skills={"claims": 4}))
    other = engine.submit(TaskSpec(id="e", type="email", skills={"claims": 4}))
    clock.now = 5.0
    engine.advance()
    assert (dict(claim.skills), dict(other.skills)) == ({"claims": 4.0}, {"claims": 3.0})


RULES_ON_AGE = """
name = "age rules"
version = "1"

[prioritisation]
mode = "all"

[[prioritisation.rules]]
name = "old"
when = { field = "age", op = ">=", value = 20 }
then = { add_skills = { senior = 1 } }
"""


def test_rules_re_evaluated_on_age_require_what_they_say_relaxed_as_far() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        rules=load_rules(parse_rules(RULES_ON_AGE)),
        relaxation=[
            RelaxationStep(after=10.0, lower_by=1.0),
            RelaxationStep(after=30.0, lower_by=1.0),
        ],
    )
    task = engine.submit(TaskSpec(id="t", skills={"tax": 3}))
    clock.now = 10.0
    engine.advance()
    assert dict(task.skills) == {"tax": 2.0}
    clock.now = 20.0
    engine.advance()  # the rule adds a skill: the step taken lowers it too
    assert dict(task.skills) == {"tax": 2.0, "senior": 0.0}
    clock.now = 30.0
    engine.advance()
    assert dict(task.skills) == {"tax": 1.0, "senior": 0.0}
    engine._check()


def test_updated_requirements_are_relaxed_at_the_tasks_age() -> None:
    clock = Clock()
    engine = Engine(clock=clock, relaxation=[RelaxationStep(after=10.0, lower_by=1.0)])
    heard: list[Event] = []
    engine.subscribe(heard.append, kinds=["task_relaxed", "task_updated"])
    task = engine.submit(TaskSpec(id="t", skills={"tax": 3}))
    clock.now = 12.0
    engine.advance()
    engine.update("t", skills={"tax": 5, "fr": 2})
    assert dict(task.skills) == {"tax": 4.0, "fr": 1.0}
    assert [(e.kind.value, e.data.get("skills")) for e in heard] == [
        ("task_relaxed", {"tax": 2.0}),
        ("task_relaxed", {"tax": 4.0, "fr": 1.0}),
        ("task_updated", None),
    ]


@pytest.mark.parametrize("away", ["hold", "offered"])
def test_requirements_updated_away_from_the_list_are_lowered_by_the_steps_taken(
    away: str,
) -> None:
    clock = Clock()
    engine = Engine(
        clock=clock, offer_timeout=None, relaxation=[RelaxationStep(after=10.0, lower_by=1.0)]
    )
    heard: list[Event] = []
    engine.subscribe(heard.append, kinds=["task_relaxed"])
    task = engine.submit(TaskSpec(id="t", skills={"tax": 3}))
    clock.now = 12.0
    engine.advance()
    if away == "hold":
        engine.hold("t")
    else:
        engine.add_agent(AgentSpec(id="ann", skills={"tax": 2}), ready=True)
        assert engine.offer_of("t").agent.id == "ann"
    engine.update("t", skills={"tax": 5, "fr": 2})
    # As for a waiting task (the test above): one step taken, lowered by it.
    assert dict(task.skills) == {"tax": 4.0, "fr": 1.0}
    assert heard[-1].data["skills"] == {"tax": 4.0, "fr": 1.0}
    if away == "hold":
        engine.resume("t")
        assert dict(task.skills) == {"tax": 4.0, "fr": 1.0}
        assert len(heard) == 2  # nothing more to lower on the way back
    engine._check()


def test_an_update_under_rules_keeps_an_offered_task_relaxed() -> None:
    # Rules set the task's fields again from their baseline on every update;
    # the steps taken still lower the requirements, so the agent it is
    # offered to stays one who may take it.
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        rules=load_rules(parse_rules(_AGING)),
        relaxation=[RelaxationStep(after=10.0, lower_by=1.0)],
    )
    task = engine.submit(TaskSpec(id="t", skills={"tax": 2}))
    clock.now = 12.0
    engine.advance()
    engine.add_agent(AgentSpec(id="ann", skills={"tax": 1}), ready=True)
    assert engine.offer_of("t").agent.id == "ann"
    engine.update("t", priority=4)
    assert dict(task.skills) == {"tax": 1.0}
    assert task.priority == 4
    engine._check()


def test_a_transfer_relaxes_the_task_again_from_its_age_then() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        relaxation=[RelaxationStep(after=10.0, lower_by=1.0)],
    )
    engine.add_agent(AgentSpec(id="ann", skills={"tax": 2}), ready=True)
    task = engine.submit(TaskSpec(id="t", skills={"tax": 3}))
    clock.now = 10.0
    engine.advance()
    assert engine.offer_of("t").agent.id == "ann"
    engine.accept("t")
    clock.now = 15.0
    engine.transfer("t", keep_age=True)  # same age: as relaxed as before
    assert dict(task.skills) == {"tax": 2.0}
    engine.accept("t")
    clock.now = 16.0
    engine.transfer("t", keep_age=False)  # a new age: its own requirements, relaxed at 26
    assert dict(task.skills) == {"tax": 3.0}
    assert engine.next_wakeup() == 26.0
    clock.now = 26.0
    engine.advance()
    assert dict(task.skills) == {"tax": 2.0}
    engine.accept("t")
    engine.transfer("t", skills={"billing": 4}, keep_age=True)  # age 10: one step
    assert dict(task.skills) == {"billing": 3.0}
    engine._check()


def test_replacing_the_rules_keeps_waiting_tasks_relaxed_as_far() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        rules=load_rules(parse_rules(RELAX_RULES)),
        relaxation=[RelaxationStep(after=10.0, lower_by=1.0)],
    )
    task = engine.submit(TaskSpec(id="t", skills={"x": 3}, attributes={"vip": True}))
    clock.now = 10.0
    engine.advance()
    assert dict(task.skills) == {"x": 2.0, "y": 1.0}
    engine.set_rules(None)  # the rules' skill goes; the step taken stays
    assert dict(task.skills) == {"x": 2.0}
    engine._check()


def test_a_task_following_a_workflow_is_not_relaxed_continuously_either() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        relaxation=ContinuousRelaxation(rate=1.0),
        workflows=[WorkflowSpec(name="claims", types=["claim"], steps=[WorkflowStep()])],
    )
    engine.add_agent(AgentSpec(id="a", skills={"tax": 1}))
    claim = engine.submit(TaskSpec(id="c", type="claim", skills={"tax": 3}))
    other = engine.submit(TaskSpec(id="e", type="email", skills={"tax": 3}))
    clock.now = 2.0  # 3 - 1 × 2 reaches the agent's level 1
    engine.advance()
    assert (dict(claim.skills), dict(other.skills)) == ({"tax": 3.0}, {"tax": 1.0})


def test_rules_given_to_an_engine_without_rules_lower_nothing_twice() -> None:
    clock = Clock()
    engine = Engine(clock=clock, relaxation=[RelaxationStep(after=10.0, lower_by=1.0)])
    task = engine.submit(TaskSpec(id="t", skills={"x": 3}, attributes={"vip": True}))
    clock.now = 10.0
    engine.advance()
    assert dict(task.skills) == {"x": 2.0}
    engine.set_rules(load_rules(parse_rules(RELAX_RULES)))  # vip: y = 2, then the step
    assert dict(task.skills) == {"x": 2.0, "y": 1.0}
    engine._check()


_AGING = """
name = "aging"
[[prioritisation.rules]]
name = "waiting over two minutes"
when = { field = "age", op = ">=", value = 120 }
then = { add_priority = 2 }
"""


def _continuous_engine(now: list[float], rules: bool) -> Engine:
    engine = Engine(
        clock=lambda: now[0],
        rules=load_rules(parse_rules(_AGING)) if rules else None,
        relaxation=ContinuousRelaxation(rate=0.01),
    )
    # Levels the decay stops at: 2 after 100 s, 1 after 200 s.
    engine.add_agent(AgentSpec(id="one", skills={"claims": 1}))
    engine.add_agent(AgentSpec(id="two", skills={"claims": 2}))
    return engine


def test_rules_looking_again_keep_a_continuous_decay() -> None:
    now = [0.0]
    engine = _continuous_engine(now, rules=True)
    task = engine.submit(TaskSpec(id="c", skills={"claims": 3}))
    seen = []
    for at in (101.0, 121.0, 150.0, 201.0):
        now[0] = at
        engine.advance()
        seen.append((dict(task.skills), task.priority))
    assert seen == [
        ({"claims": 2.0}, 0),
        ({"claims": 2.0}, 2),  # the rule fires; the decay stays
        ({"claims": 2.0}, 2),
        ({"claims": 1.0}, 2),
    ]
    engine._check()


def test_rules_given_later_start_from_a_continuous_plan_s_undecayed_requirements() -> None:
    now = [0.0]
    engine = _continuous_engine(now, rules=False)
    task = engine.submit(TaskSpec(id="c", skills={"claims": 3}))
    now[0] = 110.0
    engine.advance()
    assert dict(task.skills) == {"claims": 2.0}
    engine.set_rules(load_rules(parse_rules(_AGING)))
    assert dict(task.skills) == {"claims": 2.0}
    now[0] = 121.0
    engine.advance()
    assert (dict(task.skills), task.priority) == ({"claims": 2.0}, 2)
    engine.set_rules(None)  # the rules' baseline is the undecayed requirement
    assert (dict(task.skills), task.priority) == ({"claims": 2.0}, 0)
    now[0] = 201.0
    engine.advance()
    assert dict(task.skills) == {"claims": 1.0}
    engine._check()
