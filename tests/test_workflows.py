"""Workflows against a direct reading of their rules.

A stateful test drives an engine with random workflows (steps routing to
queues, skills, priorities; timeouts; the no-agent and expected-wait
triggers; every final action) through random arrivals, completions, presence changes and clock
advances. A model that knows only the documented rules follows each task's
step from the events and checks after every step: steps are taken in order,
one at a time, each at the first advance after its timeout (or when no agent
who could take the task is logged on), the task routes as its step says,
every assignment meets the step's conditions, and the final action follows
the last step.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine_support import restored_copy
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep

QUEUES = [QueueSpec(name="experts", requires="senior"), QueueSpec(name="everyone")]
AGENT_IDS = ("a0", "a1", "a2")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


STEP = st.fixed_dictionaries(
    {
        "queue": st.sampled_from([None, "experts", "everyone"]),
        "skills": st.sampled_from([None, {}, {"claims": 1}, {"claims": 3}]),
        "lower_by": st.sampled_from([0.0, 0.0, 1.0, 2.5]),
        "drop": st.sampled_from([[], [], ["claims"]]),
        "priority": st.sampled_from([None, 0, 5]),
        "timeout": st.sampled_from([None, 5.0, 12.0]),
        "no_agent": st.booleans(),
        "expected_wait_at_least": st.sampled_from([None, None, 1.0, 30.0]),
        "queue_length_at_least": st.sampled_from([None, None, 1, 3]),
        "oldest_wait_at_least": st.sampled_from([None, None, 4.0, 15.0]),
    }
).map(
    # The queue triggers read the step's queue: only with one.
    lambda step: (
        step
        if step["queue"] is not None
        else {
            **step,
            "expected_wait_at_least": None,
            "queue_length_at_least": None,
            "oldest_wait_at_least": None,
        }
    )
)
WORKFLOW = st.fixed_dictionaries(
    {
        "steps": st.lists(STEP, min_size=1, max_size=3),
        "then": st.sampled_from(["stay", "expire", "hold"]),
        "check_every": st.sampled_from([2.0, 7.0]),
    }
)


class Workflows(RuleBasedStateMachine):
    @initialize(
        flows=st.lists(WORKFLOW, min_size=1, max_size=2),
        agents=st.lists(
            st.tuples(st.sampled_from([{}, {"claims": 1}, {"claims": 3}]), st.booleans()),
            min_size=3,
            max_size=3,
        ),
    )
    def start(self, flows: list[dict[str, Any]], agents: list[tuple[dict[str, int], bool]]) -> None:
        self.clock = Clock()
        self.flows = {
            f"w{i}": WorkflowSpec(name=f"w{i}", types=[f"type{i}"], **flow)
            for i, flow in enumerate(flows)
        }
        self.engine = self.build_engine()
        self.agents = {}
        for agent_id, (skills, senior) in zip(AGENT_IDS, agents, strict=True):
            spec = AgentSpec(id=agent_id, skills=skills, attributes={"senior": senior})
            self.agents[agent_id] = spec
            self.engine.add_agent(spec)
        self.events: list[Any] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        # task id -> [workflow name, step index, when it entered the step], and
        # what the task routes on now: queue, skills, priority.
        self.step: dict[str, list[Any]] = {}
        self.routing: dict[str, dict[str, Any]] = {}
        self.ended: dict[str, str] = {}
        self.count = 0
        self.advanced_to = 0.0

    # ------------------------------------------------------------ the model

    def logged_on_eligible(self, task_id: str) -> bool:
        routing = self.routing[task_id]
        for agent_id in self.agents:
            state = self.engine.agents.get(agent_id).state.value
            if state != "offline" and self.meets(agent_id, routing):
                return True
        return False

    def meets(self, agent_id: str, routing: dict[str, Any]) -> bool:
        spec = self.agents[agent_id]
        if any(spec.skills.get(k, -1.0) < v for k, v in routing["skills"].items()):
            return False
        return routing["queue"] != "experts" or spec.attributes["senior"] is True

    def enter(self, task_id: str, flow: WorkflowSpec, index: int, at: float) -> None:
        step = flow.steps[index]
        routing = self.routing[task_id]
        if step.queue is not None:
            routing["queue"] = step.queue
        if step.skills is not None:
            routing["skills"] = dict(step.skills)
        # A relaxing step, read off its documentation: levels lower by
        # lower_by, never below 0; dropped skills no longer required.
        routing["skills"] = {
            name: max(0.0, level - step.lower_by)
            for name, level in routing["skills"].items()
            if name not in step.drop
        }
        if step.priority is not None:
            routing["priority"] = step.priority
        self.step[task_id] = [flow.name, index, at]

    def follow(self) -> None:
        for event in self.events[self.seen :]:
            kind = event.kind.value
            task_id = event.task
            if kind == "workflow_step":
                name, index, since = self.step[task_id]
                flow = self.flows[name]
                assert event.data["workflow"] == name
                step = flow.steps[index]
                start = event.time
                if event.data["reason"] == "timeout":
                    assert step.timeout is not None
                    start = since + step.timeout
                    assert event.time >= start
                    # The first advance at or after the deadline takes it.
                    assert self.advanced_to < start
                elif event.data["reason"] == "no_agent":
                    assert step.no_agent
                    assert not self.logged_on_eligible(task_id)
                elif event.data["reason"] == "expected_wait":
                    # Its figure is checked against its formula elsewhere
                    # (tests/test_queues.py); here, that only a step with
                    # the trigger moves on by it.
                    assert step.expected_wait_at_least is not None
                elif event.data["reason"] == "queue_length":
                    assert step.queue_length_at_least is not None
                elif event.data["reason"] == "oldest_wait":
                    assert step.oldest_wait_at_least is not None
                else:
                    raise AssertionError(event)
                if event.data["step"] is None:
                    assert index == len(flow.steps) - 1
                    assert event.data["then"] == flow.then
                    self.ended[task_id] = flow.then
                    del self.step[task_id]
                else:
                    assert event.data["step"] == index + 1
                    self.enter(task_id, flow, index + 1, start)
            elif kind == "task_assigned":
                assert self.meets(event.agent, self.routing[task_id]), (event, self.routing)
                self.step.pop(task_id, None)
            elif kind == "task_expired":
                assert self.ended.get(task_id) == "expire"
            elif kind == "task_held":
                assert self.ended.get(task_id) == "hold"
        self.seen = len(self.events)

    # ------------------------------------------------------------ rules

    def build_engine(self) -> Engine:
        return Engine(
            clock=self.clock, auto_accept=True, queues=QUEUES, workflows=list(self.flows.values())
        )

    @rule()
    def snapshot_and_restore(self) -> None:
        """Go on with an engine restored from a snapshot (through JSON): each
        task's step, its timers and its triggers must come back."""
        self.engine = restored_copy(self.engine, self.build_engine)
        self.engine.subscribe(self.events.append)

    @rule(kind=st.sampled_from(["type0", "type1", "plain"]), priority=st.integers(0, 2))
    def submit(self, kind: str, priority: int) -> None:
        self.count += 1
        task_id = f"t{self.count}"
        self.clock.now += 1.0
        flow = next((f for f in self.flows.values() if kind in f.types), None)
        self.routing[task_id] = {"queue": None, "skills": {}, "priority": priority}
        if flow is not None:
            self.enter(task_id, flow, 0, self.clock.now)
        self.seen = len(self.events)
        self.engine.submit(TaskSpec(id=task_id, type=kind, priority=priority))
        start = [e for e in self.events[self.seen :] if e.kind.value == "workflow_step"]
        if flow is None:
            assert start == []
        else:
            assert start[0].data == {"workflow": flow.name, "step": 0, "reason": "start"}
            self.seen = self.events.index(start[0]) + 1
        self.follow()

    @rule(
        agent=st.sampled_from(AGENT_IDS), state=st.sampled_from(["ready", "not_ready", "offline"])
    )
    def presence(self, agent: str, state: str) -> None:
        try:
            self.engine.set_agent_state(agent, state)
        except ValueRouteError:
            return
        self.follow()

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        held = sorted(t.id for a in AGENT_IDS for t in self.engine.tasks_of(a))
        if held:
            self.engine.complete(data.draw(st.sampled_from(held)))
            self.follow()

    @rule(seconds=st.sampled_from([1.0, 3.0, 6.0, 13.0]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        self.engine.advance()
        self.follow()
        self.advanced_to = self.clock.now

    # ------------------------------------------------------------ checks

    @invariant()
    def tasks_route_as_their_step_says(self) -> None:
        if not hasattr(self, "engine"):
            return
        for task in self.engine.tasklist:
            routing = self.routing[task.id]
            assert (None if task.queue is None else task.queue.name) == routing["queue"]
            assert dict(task.skills) == routing["skills"]
            assert task.priority == routing["priority"]
            explained = self.engine.explain(task.id)
            if task.id in self.step:
                name, index, since = self.step[task.id]
                assert (explained["workflow"], explained["workflow_step"]) == (name, index)
                timeout = self.flows[name].steps[index].timeout
                # Nobody waits in a step past its timeout once time was advanced.
                assert timeout is None or since + timeout > self.advanced_to

    @invariant()
    def no_task_waits_next_to_an_agent_who_may_take_it(self) -> None:
        if not hasattr(self, "engine"):
            return
        for task in self.engine.tasklist:
            for agent_id in AGENT_IDS:
                agent = self.engine.agents.get(agent_id)
                if agent.state.value == "ready":
                    assert not self.meets(agent_id, self.routing[task.id]), (task.id, agent_id)


Workflows.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_workflows_against_their_rules = Workflows.TestCase


def test_queue_triggers_move_a_task_on() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        queues=[QueueSpec(name="first"), QueueSpec(name="second")],
        workflows=[
            WorkflowSpec(
                name="spill",
                types=["call"],
                check_every=1.0,
                steps=[
                    WorkflowStep(queue="first", queue_length_at_least=3),
                    WorkflowStep(queue="second", oldest_wait_at_least=10.0),
                    WorkflowStep(queue="first"),
                ],
            )
        ],
    )
    for i in range(3):
        clock.now += 1.0
        engine.submit(TaskSpec(id=f"c{i}", type="call"))
    # The third arrival finds three waiting in "first" (itself included): it moves on.
    assert [engine.explain(f"c{i}")["workflow_step"] for i in range(3)] == [0, 0, 1]
    assert engine.explain("c2")["queue"] == "second"
    clock.now = 14.0
    engine.advance()
    # c2 has waited 11 s in "second" at the first check after 10 s: on to step 2.
    assert engine.explain("c2")["workflow_step"] == 2
    assert engine.queue_statistics()["first"]["waiting"] == 3


def test_the_expected_wait_trigger_reads_the_queues_estimate() -> None:
    """A step with ``expected_wait_at_least`` moves a task on once the queue's
    expected wait ((waiting + 1) * mean handle / serving agents) reaches it,
    and not while it cannot be estimated."""
    clock = Clock()
    engine = Engine(
        clock=clock,
        queues=[QueueSpec(name="front"), QueueSpec(name="back")],
        workflows=[
            WorkflowSpec(
                name="spill",
                types=["call"],
                check_every=1.0,
                steps=[
                    WorkflowStep(queue="front", expected_wait_at_least=250.0),
                    WorkflowStep(queue="back"),
                ],
            )
        ],
        auto_accept=True,
    )
    events: list[Any] = []
    engine.subscribe(events.append)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="c0", type="call"))
    clock.now = 100.0
    engine.complete("c0")  # the queue's mean handle time: 100 s
    engine.submit(TaskSpec(id="c1", type="call"))  # ann takes it
    assert engine.queue_statistics()["front"]["expected_wait"] == 100.0
    for i in range(2, 5):
        clock.now += 1.0
        engine.submit(TaskSpec(id=f"c{i}", type="call"))
    # Read on entering, each task counted among those waiting: c2 finds
    # (1 + 1) * 100 = 200 s, below the bar; c3 finds 300 s and moves on, and
    # so does c4 (c2 and c4 waiting: 300 s again).
    assert [engine.explain(f"c{i}")["workflow_step"] for i in range(2, 5)] == [0, 1, 1]
    assert engine.queue_statistics()["front"]["expected_wait"] == 200.0
    clock.now += 5.0
    engine.advance()
    assert engine.explain("c2")["workflow_step"] == 0  # still 200 s at each reading
    moves = [
        (e.task, e.data["reason"])
        for e in events
        if e.kind.value == "workflow_step" and e.data["step"] == 1
    ]
    assert moves == [("c3", "expected_wait"), ("c4", "expected_wait")]


def test_workflow_settings_are_checked_with_the_field_named() -> None:
    with pytest.raises(InvalidInputError, match="steps"):
        WorkflowSpec(name="w", steps=[])
    with pytest.raises(InvalidInputError, match="queue"):
        WorkflowStep(queue_length_at_least=3)
    with pytest.raises(InvalidInputError, match="timeout"):
        WorkflowStep(timeout=math.inf)
    with pytest.raises(InvalidInputError, match="queue"):
        Engine(workflows=[WorkflowSpec(name="w", steps=[WorkflowStep(queue="nowhere")])])
    with pytest.raises(InvalidInputError, match="already follows"):
        Engine(
            workflows=[
                {"name": "a", "steps": [{}], "types": ["claim"]},
                {"name": "b", "steps": [{}], "types": ["claim"]},
            ]
        )
    engine = Engine(workflows=[{"name": "a", "steps": [{}]}])
    before = engine.digest()
    with pytest.raises(InvalidInputError, match="workflow"):
        engine.submit(TaskSpec(id="t", workflow="b"))
    assert engine.digest() == before
    assert list(engine.workflows) == ["a"]


@pytest.mark.parametrize("snapshot", [False, True], ids=["replayed", "from-snapshot"])
def test_workflows_survive_a_restart(tmp_path: Any, snapshot: bool) -> None:
    from valueroute.journal import DurableEngine

    clock = Clock()

    def build(engine_clock: Any) -> Engine:
        return Engine(
            clock=engine_clock,
            queues=[QueueSpec(name="experts"), QueueSpec(name="everyone")],
            workflows=[
                WorkflowSpec(
                    name="claims",
                    types=["claim"],
                    then="hold",
                    steps=[
                        WorkflowStep(queue="experts", skills={"claims": 3}, timeout=10),
                        WorkflowStep(queue="everyone", priority=4, timeout=30, no_agent=True),
                    ],
                )
            ],
        )

    durable = DurableEngine.open(tmp_path / "journal.db", build, clock=clock)
    # Logged on but not ready: the no-agent trigger does not hold.
    durable.add_agent(AgentSpec(id="ann", skills={"claims": 3}))
    durable.set_agent_state("ann", "not_ready")
    for i in range(4):
        clock.now += 4.0
        durable.submit(TaskSpec(id=f"c{i}", type="claim"))
    clock.now = 22.0
    durable.advance()
    expected = durable.engine.digest()
    steps = {f"c{i}": durable.engine.explain(f"c{i}")["workflow_step"] for i in range(4)}
    assert set(steps.values()) == {0, 1}
    if snapshot:
        durable.snapshot()
    durable.close()
    again = DurableEngine.open(tmp_path / "journal.db", build, clock=clock)
    try:
        assert again.engine.digest() == expected
        clock.now = 100.0
        again.advance()
        assert all(again.engine.get(f"c{i}").state.value == "held" for i in range(4))
    finally:
        again.close()


def test_the_no_agent_trigger_is_read_on_entry_and_every_check() -> None:
    clock = Clock()
    engine = Engine(
        clock=clock,
        workflows=[
            WorkflowSpec(
                name="experts-first",
                types=["claim"],
                check_every=5.0,
                steps=[
                    WorkflowStep(skills={"claims": 3}, no_agent=True, timeout=600),
                    WorkflowStep(skills={"claims": 1}),
                ],
            )
        ],
    )
    engine.add_agent(AgentSpec(id="novice", skills={"claims": 1}))
    # Nobody with level 3 is logged on: the first step is left at once.
    engine.submit(TaskSpec(id="c1", type="claim"))
    assert engine.explain("c1")["workflow_step"] == 1
    engine.add_agent(AgentSpec(id="expert", skills={"claims": 4}))
    engine.set_agent_state("expert", "not_ready")
    clock.now = 1.0
    engine.submit(TaskSpec(id="c2", type="claim"))
    assert engine.explain("c2")["workflow_step"] == 0
    clock.now = 3.0
    engine.set_agent_state("expert", "offline")
    engine.advance()
    assert engine.explain("c2")["workflow_step"] == 0  # the next reading is at 6 s
    clock.now = 6.0
    engine.advance()
    assert engine.explain("c2")["workflow_step"] == 1
    moved = engine.explain("c2")
    assert moved["step_since"] == 6.0


def test_a_relaxing_step_is_a_relaxation_step() -> None:
    """Stepwise relaxation as workflow steps asks what Engine(relaxation=...) asks,
    at the same moments."""
    from valueroute.engine import RelaxationStep

    def run(engine: Engine, clock: Clock) -> list[dict[str, float]]:
        engine.submit(TaskSpec(id="c", type="claim", skills={"claims": 3, "fr": 2}))
        seen = []
        for now in (5.0, 10.0, 25.0, 40.0, 70.0):
            clock.now = now
            engine.advance()
            seen.append(dict(engine.get("c").skills))
        return seen

    relaxed_clock, flowing_clock = Clock(), Clock()
    relaxed = Engine(
        clock=relaxed_clock,
        relaxation={
            "claim": [
                RelaxationStep(after=10.0, lower_by=1.0),
                RelaxationStep(after=30.0, lower_by=1.5, drop=("fr",)),
            ]
        },
    )
    flowing = Engine(
        clock=flowing_clock,
        workflows=[
            WorkflowSpec(
                name="relax",
                types=["claim"],
                steps=[
                    WorkflowStep(timeout=10.0),
                    WorkflowStep(lower_by=1.0, timeout=20.0),
                    WorkflowStep(lower_by=1.5, drop=["fr"]),
                ],
            )
        ],
    )
    expected = run(relaxed, relaxed_clock)
    assert expected[-1] == {"claims": 0.5}
    assert run(flowing, flowing_clock) == expected


def test_a_step_ends_on_time_after_its_task_was_away_while_a_host_asked_for_wakeups() -> None:
    """A step's timeout found stale while the task was offered (next_wakeup
    drops such timers) is set again when the task comes back."""
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        reject_cooldown=1000.0,
        workflows=[
            WorkflowSpec(
                name="w",
                types=["claim"],
                steps=[WorkflowStep(timeout=10.0), WorkflowStep(priority=5)],
            )
        ],
    )
    engine.add_agent(AgentSpec(id="a"), ready=True)
    engine.submit(TaskSpec(id="t", type="claim"))
    clock.now = 5.0
    assert engine.next_wakeup() == math.inf  # offered: nothing of its own is due
    engine.reject("t")
    assert engine.next_wakeup() == 10.0
    clock.now = 12.0
    engine.advance()
    assert engine.explain("t")["workflow_step"] == 1
    assert engine.explain("t")["step_since"] == 10.0


# ---------------------------------------------------------------------- with rules

_AGING_RULES = """
name = "aging"
[prioritisation]
mode = "all"
[[prioritisation.rules]]
name = "waiting over two minutes"
when = { field = "age", op = ">=", value = 120 }
then = { add_priority = 2 }
[[prioritisation.rules]]
name = "urgent work is worth more"
when = { field = "priority", op = ">=", value = 5 }
then = { scale_value = 2 }
"""


def _ruled_engine(now: list[float], then: str = "stay") -> Engine:
    from valueroute.rules import parse_rules

    return Engine(
        clock=lambda: now[0],
        rules=parse_rules(_AGING_RULES).compile(),
        workflows=[
            WorkflowSpec(
                name="claims",
                types=["claim"],
                then=then,  # type: ignore[arg-type]
                steps=[
                    WorkflowStep(skills={"claims": 3}, timeout=60),
                    WorkflowStep(skills={"claims": 1}, priority=5, timeout=100),
                ],
            )
        ],
    )


def test_rules_re_evaluated_with_time_start_from_the_step_routing() -> None:
    """A rule turning true later re-applies the rules from the task as its step
    routes it: the step's skills and priority stay, the rule's change on top."""
    now = [0.0]
    engine = _ruled_engine(now)
    engine.submit(TaskSpec(id="c1", type="claim", value=10.0))
    events: list[Any] = []
    engine.subscribe(events.append)
    now[0] = 61.0
    engine.advance()
    task = engine.get("c1")
    # The step, then the rules on top of it: priority 5 makes the value double.
    assert (dict(task.skills), task.priority, task.value) == ({"claims": 1.0}, 5, 20.0)
    updated = [e for e in events if e.kind.value == "task_updated"]
    assert [(e.data["reason"], e.data["value"]) for e in updated] == [("rules", 20.0)]
    now[0] = 121.0
    engine.advance()
    task = engine.get("c1")
    assert (dict(task.skills), task.priority, task.value) == ({"claims": 1.0}, 7, 20.0)
    # An agent with the step's level takes it.
    engine.add_agent(AgentSpec(id="ann", skills={"claims": 1}), ready=True)
    assert engine.get("c1").state.value in ("offered", "assigned")
    engine._check()


def test_after_the_last_step_rules_re_evaluated_keep_its_routing() -> None:
    now = [0.0]
    engine = _ruled_engine(now, then="stay")
    engine.submit(TaskSpec(id="c1", type="claim"))
    now[0] = 200.0  # both steps taken, the workflow over, the aging rule true
    engine.advance()
    assert engine.explain("c1")["workflow"] is None
    task = engine.get("c1")
    assert (dict(task.skills), task.priority) == ({"claims": 1.0}, 7)
    engine._check()


def test_a_journal_of_workflow_steps_under_rules_replays_to_the_same_engine(
    tmp_path: Any,
) -> None:
    from valueroute.journal import DurableEngine, replay

    now = [0.0]
    with DurableEngine.open(
        tmp_path / "j.sqlite", lambda clock: _ruled_engine(now), clock=lambda: now[0]
    ) as durable:
        for number, at in enumerate((0.0, 30.0, 70.0)):
            now[0] = at
            durable.submit(TaskSpec(id=f"c{number}", type="claim", value=1.0 + number))
        for at in (61.0, 121.0, 250.0):
            now[0] = at
            durable.advance()
        live = durable.digest()
        records = list(durable.store.read(after=0))
    pinned = [0.0]
    fresh = _ruled_engine(pinned)
    replay(fresh, records, clock=pinned)
    assert fresh.digest() == live


def test_the_oldest_wait_counts_tasks_waiting_in_the_queue_from_when_they_entered_it() -> None:
    """A task offered is not waiting: the oldest wait is the next one's until
    the task comes back, with the time it first entered the queue."""
    clock = Clock()
    engine = Engine(
        clock=clock,
        offer_timeout=None,
        reject_cooldown=100.0,
        queues=[QueueSpec(name="desk")],
        workflows=[
            WorkflowSpec(
                name="escalate",
                types=["case"],
                check_every=1.0,
                steps=[
                    WorkflowStep(queue="desk", oldest_wait_at_least=12.0),
                    WorkflowStep(priority=5),
                ],
            )
        ],
    )
    engine.submit(TaskSpec(id="old", type="case"))  # enters the desk at 0
    clock.now = 5.0
    engine.submit(TaskSpec(id="new", type="case", skills={"tax": 1}))  # enters at 5
    clock.now = 6.0
    engine.add_agent(AgentSpec(id="ann"), ready=True)  # takes "old" (she lacks tax)
    assert engine.offer_of("old").agent.id == "ann"
    clock.now = 14.0
    engine.advance()
    # Waiting: only "new", for 9 s.
    assert engine.explain("new")["workflow_step"] == 0
    engine.reject("old")  # back in the desk, there since 0
    clock.now = 15.0
    engine.advance()
    # The oldest wait is old's 15 s, not new's 10 s: both move on.
    assert engine.explain("new")["workflow_step"] == 1
    assert engine.explain("old")["workflow_step"] == 1
    engine._check()
