"""Named queues against a direct reading of their rules.

A stateful test drives an engine with random queues (conditions on agents,
length and wait limits with every action, overflow chains and rounds) through
random submits, completions, presence changes and clock advances. A small
model follows the queues' waiting counts and each task's queue and entry
time from nothing but the rules as documented, and after every step checks:
the engine's counts, every assignment against the task's queue and skills,
every pull is the best task the agent may take across all its queues, each
arrival's outcome (the queue it ends in, a refusal that changes nothing, a
limit event), and that no task waits in a queue past its ``max_wait`` unless
that was told.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError, LimitExceededError, ValueRouteError
from valueroute.models import QueueSpec

NAMES = ("q0", "q1", "q2")
TEAMS = ("a", "b")


def queue_specs() -> st.SearchStrategy[list[QueueSpec]]:
    def one(index: int) -> st.SearchStrategy[dict[str, Any]]:
        others = [name for name in NAMES if name != NAMES[index]]
        return st.fixed_dictionaries(
            {
                "name": st.just(NAMES[index]),
                "skills": st.dictionaries(st.sampled_from(["billing", "fr"]), st.integers(1, 2)),
                "requires": st.sampled_from([None, 'team == "a"', 'team != "a"']),
                "max_length": st.one_of(st.none(), st.integers(1, 3)),
                "when_full": st.sampled_from(["refuse", "overflow", "event"]),
                "max_wait": st.one_of(st.none(), st.sampled_from([5.0, 12.0, 30.0])),
                "when_too_old": st.sampled_from(["overflow", "event"]),
                "overflow_to": st.sampled_from(others),
            }
        )

    return st.tuples(*(one(i) for i in range(len(NAMES)))).map(
        lambda specs: [QueueSpec(**spec) for spec in specs]
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def serves(queue: QueueSpec, agent: AgentSpec) -> bool:
    if any(agent.skills.get(name, -1.0) < level for name, level in queue.skills.items()):
        return False
    team = agent.attributes["team"]
    return {None: True, 'team == "a"': team == "a", 'team != "a"': team != "a"}[queue.requires]


class Queues(RuleBasedStateMachine):
    @initialize(
        specs=queue_specs(),
        agents=st.lists(
            st.tuples(
                st.dictionaries(st.sampled_from(["billing", "fr"]), st.integers(0, 3)),
                st.sampled_from(TEAMS),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def start(self, specs: list[QueueSpec], agents: list[tuple[dict[str, int], str]]) -> None:
        self.clock = Clock()
        self.specs = {spec.name: spec for spec in specs}
        self.engine = Engine(clock=self.clock, queues=specs, auto_accept=True)
        self.agents: dict[str, AgentSpec] = {}
        for i, (skills, team) in enumerate(agents):
            spec = AgentSpec(id=f"a{i}", skills=skills, attributes={"team": team})
            self.agents[spec.id] = spec
            self.engine.add_agent(spec, ready=True)
        self.events: list[Any] = []
        self.engine.subscribe(self.events.append)
        # The model: each open task's queue, entry time, skills, priority.
        self.queue_of: dict[str, str | None] = {}
        self.entered: dict[str, float] = {}
        self.told_stuck: set[tuple[str, float]] = set()
        self.skills: dict[str, dict[str, int]] = {}
        self.count = 0
        # Timers fire in advance(): the last time it ran.
        self.advanced_to = 0.0

    # ------------------------------------------------------------ helpers

    def waiting(self) -> dict[str, int]:
        counts = dict.fromkeys(NAMES, 0)
        for task in self.engine.tasklist:
            name = self.queue_of[task.id]
            if name is not None:
                counts[name] += 1
        return counts

    def eligible(self, agent_id: str, task_id: str) -> bool:
        agent = self.agents[agent_id]
        name = self.queue_of[task_id]
        if any(agent.skills.get(s, -1.0) < lvl for s, lvl in self.skills[task_id].items()):
            return False
        return name is None or serves(self.specs[name], agent)

    def follow(self, first: int) -> None:
        """Move the model along the events from index ``first`` on."""
        for event in self.events[first:]:
            kind = event.kind.value
            if kind == "task_overflowed":
                assert self.queue_of[event.task] == event.data["from_queue"]
                self.queue_of[event.task] = event.data["queue"]
                self.entered[event.task] = event.time
            elif kind == "task_assigned":
                assert self.eligible(event.agent, event.task), (event, self.queue_of[event.task])
            elif kind == "queue_limit_reached" and event.data["limit"] == "max_wait":
                self.told_stuck.add((event.task, event.time))

    def predict(self, name: str) -> tuple[str | None, bool]:
        """Where an arrival for ``name`` goes under the documented limits:
        (queue, over its limit) or (None, _) for a refusal."""
        waiting = self.waiting()
        passed: list[str] = []
        while True:
            spec = self.specs[name]
            if spec.max_length is None or waiting[name] < spec.max_length:
                return name, False
            if spec.when_full == "event":
                return name, True
            if spec.when_full == "refuse":
                return None, False
            passed.append(name)
            name = spec.overflow_to  # type: ignore[assignment]
            if name in passed:
                return None, False

    # ------------------------------------------------------------ rules

    @rule(
        queue=st.sampled_from([*NAMES, None]),
        skills=st.dictionaries(st.sampled_from(["billing", "fr"]), st.integers(1, 2), max_size=1),
        priority=st.integers(0, 3),
    )
    def submit(self, queue: str | None, skills: dict[str, int], priority: int) -> None:
        self.count += 1
        task_id = f"t{self.count}"
        self.clock.now += 1.0
        expected, over = (None, False) if queue is None else self.predict(queue)
        before = self.engine.digest()
        first = len(self.events)
        spec = TaskSpec(id=task_id, queue=queue, skills=skills, priority=priority)
        if queue is not None and expected is None:
            with pytest.raises(LimitExceededError):
                self.engine.submit(spec)
            assert self.engine.digest() == before
            assert len(self.events) == first
            return
        self.queue_of[task_id] = queue
        self.entered[task_id] = self.clock.now
        self.skills[task_id] = skills
        self.engine.submit(spec)
        self.follow(first)
        assert self.queue_of[task_id] == expected
        assert self.engine.explain(task_id)["queue"] == expected
        limit_events = [
            e
            for e in self.events[first:]
            if e.kind.value == "queue_limit_reached" and e.data["limit"] == "max_length"
        ]
        assert [e.data["queue"] for e in limit_events] == ([expected] if over else [])

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        held = sorted(
            (task for agent in self.agents for task in self.engine.tasks_of(agent)),
            key=lambda task: task.id,
        )
        if not held:
            return
        task = data.draw(st.sampled_from(held))
        agent = self.engine.agent_of(task.id)
        assert agent is not None
        # The best task this agent may take, across every queue it serves.
        candidates = [t for t in self.engine.tasklist if self.eligible(agent.id, t.id)]
        best = min(candidates, key=lambda t: (-t.priority, t.created, t.seq), default=None)
        self.clock.now += 0.5
        first = len(self.events)
        self.engine.complete(task.id)
        self.follow(first)
        taken = [e.task for e in self.events[first:] if e.kind.value == "task_assigned"]
        assert taken == ([] if best is None else [best.id])

    @rule(agent=st.sampled_from(["a0", "a1", "a2", "a3"]), ready=st.booleans())
    def presence(self, agent: str, ready: bool) -> None:
        if agent not in self.agents:
            return
        state = self.engine.agents.get(agent).state.value
        if ready and state == "not_ready":
            first = len(self.events)
            self.engine.set_agent_state(agent, "ready")
            self.follow(first)
        elif not ready and state == "ready":
            self.engine.set_agent_state(agent, "not_ready")

    @rule(seconds=st.sampled_from([1.0, 4.0, 11.0, 31.0]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        first = len(self.events)
        self.engine.advance()
        self.advanced_to = self.clock.now
        self.follow(first)
        for event in self.events[first:]:
            if event.kind.value == "task_overflowed" and event.data["reason"] == "max_wait":
                old = self.specs[event.data["from_queue"]]
                assert old.max_wait is not None
                assert old.when_too_old == "overflow"

    # ------------------------------------------------------------ checks

    @invariant()
    def counts_match(self) -> None:
        if not hasattr(self, "engine"):
            return
        statistics = self.engine.queue_statistics()
        assert {name: statistics[name]["waiting"] for name in NAMES} == self.waiting()
        for task in self.engine.tasklist:
            assert self.engine.explain(task.id)["queue"] == self.queue_of[task.id]

    @invariant()
    def nobody_waits_past_max_wait_untold(self) -> None:
        if not hasattr(self, "engine"):
            return
        now = self.advanced_to
        for task in self.engine.tasklist:
            name = self.queue_of[task.id]
            if name is None:
                continue
            spec = self.specs[name]
            if spec.max_wait is None or spec.when_too_old != "overflow":
                continue
            due = self.entered[task.id] + spec.max_wait
            if due <= now and self.entered[task.id] <= now:
                assert (task.id, due) in self.told_stuck or any(
                    e.task == task.id and e.kind.value == "queue_limit_reached" for e in self.events
                ), (task.id, name, due, now)


Queues.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_queues_against_their_rules = Queues.TestCase


def test_a_queue_of_several_serves_one_list() -> None:
    """An agent serving two queues pulls the best task of both, in one order."""
    clock = Clock()
    engine = Engine(
        clock=clock,
        queues=[QueueSpec(name="sales"), QueueSpec(name="support")],
        auto_accept=True,
    )
    engine.add_agent(AgentSpec(id="ann"))
    for i, (queue, priority) in enumerate([("sales", 1), ("support", 5), ("sales", 3)]):
        clock.now += 1.0
        engine.submit(TaskSpec(id=f"t{i}", queue=queue, priority=priority))
    engine.set_agent_state("ann", "ready")
    assert engine.agent_of("t1").id == "ann"  # type: ignore[union-attr]
    engine.complete("t1")
    assert engine.agent_of("t2").id == "ann"  # type: ignore[union-attr]
    statistics = engine.queue_statistics()
    assert statistics["sales"]["waiting"] == 1
    assert statistics["support"]["waiting"] == 0
    assert statistics["sales"]["oldest_wait"] == clock.now - 1.0


def test_queue_settings_are_checked_with_the_field_named() -> None:
    with pytest.raises(InvalidInputError, match="overflow_to"):
        QueueSpec(name="a", when_full="overflow")
    with pytest.raises(InvalidInputError, match="overflow_to"):
        QueueSpec(name="a", overflow_to="a")
    with pytest.raises(InvalidInputError, match="max_length"):
        QueueSpec(name="a", max_length=0)
    with pytest.raises(InvalidInputError, match="max_wait"):
        QueueSpec(name="a", max_wait=math.nan)
    with pytest.raises(InvalidInputError, match="requires"):
        QueueSpec(name="a", requires="team ==")
    with pytest.raises(InvalidInputError, match="overflow_to"):
        Engine(queues=[QueueSpec(name="a", overflow_to="nowhere")])
    with pytest.raises(InvalidInputError, match="a second time"):
        Engine(queues=[{"name": "a"}, {"name": "a"}])
    engine = Engine(queues=[{"name": "a"}])
    before = engine.digest()
    with pytest.raises(InvalidInputError, match="queue"):
        engine.submit(TaskSpec(id="t", queue="b"))
    assert engine.digest() == before
    assert list(engine.queues) == ["a"]


@pytest.mark.parametrize("snapshot", [False, True], ids=["replayed", "from-snapshot"])
def test_queues_survive_a_restart(tmp_path: Any, snapshot: bool) -> None:
    """Replaying the journal, or restoring a snapshot, gives the same engine:
    each task's queue (after overflows), its time there, and the counts."""
    from valueroute.journal import DurableEngine

    clock = Clock()

    def build(engine_clock: Any) -> Engine:
        return Engine(
            clock=engine_clock,
            auto_accept=True,
            queues=[
                QueueSpec(
                    name="billing",
                    skills={"billing": 1},
                    max_length=2,
                    when_full="overflow",
                    overflow_to="general",
                    max_wait=10,
                    when_too_old="overflow",
                ),
                QueueSpec(name="general", requires='team == "a"', max_length=2, when_full="event"),
            ],
        )

    durable = DurableEngine.open(tmp_path / "journal.db", build, clock=clock)
    for i in range(5):
        clock.now += 1.0
        durable.submit(TaskSpec(id=f"t{i}", queue="billing", priority=i))
    clock.now = 12.0
    durable.advance()
    durable.add_agent(AgentSpec(id="ann", attributes={"team": "a"}), ready=True)
    expected = durable.engine.digest()
    statistics = durable.engine.queue_statistics()
    assert statistics["general"]["overflowed_in"] == 5
    if snapshot:
        durable.snapshot()
    durable.close()
    again = DurableEngine.open(tmp_path / "journal.db", build, clock=clock)
    try:
        assert again.engine.digest() == expected
        assert again.engine.queue_statistics() == statistics
    finally:
        again.close()
    if snapshot:
        with pytest.raises(ValueRouteError, match="configuration queues"):
            DurableEngine.open(
                tmp_path / "journal.db",
                lambda engine_clock: Engine(
                    clock=engine_clock, auto_accept=True, queues=[{"name": "billing"}]
                ),
                clock=clock,
            )


def test_reports_count_tasks_under_the_queue_they_arrived_in() -> None:
    """The KPI aggregator groups by the queue the submission event names: the
    queue a task arrived in, after any overflow on the way."""
    from valueroute.kpi import KpiAggregator

    clock = Clock()
    engine = Engine(
        clock=clock,
        auto_accept=True,
        queues=[
            QueueSpec(name="sales", max_length=1, when_full="overflow", overflow_to="general"),
            QueueSpec(name="general"),
        ],
    )
    aggregator = KpiAggregator(interval_seconds=3600.0, sla_seconds=20.0)
    aggregator.attach(engine)
    for i in range(3):
        clock.now += 1.0
        engine.submit(TaskSpec(id=f"s{i}", queue="sales"))
    clock.now += 1.0
    engine.submit(TaskSpec(id="plain", type="email"))
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    clock.now += 30.0
    report = aggregator.report()
    offered = {row.queue: row.counts.offered for row in report.queue_intervals}
    assert offered == {"sales": 1, "general": 2, "email": 1}
