"""Recovery of a durable engine that uses every routing feature, under random commands.

``tests/test_journal.py`` checks replay and snapshots on an engine with the
core settings. This machine drives a :class:`~valueroute.journal.DurableEngine`
(SQLite, written without fsync: recovery reads the file, power loss is not
the question here) whose engine has queues with length and wait limits and
overflow, a workflow with time, queue-length, oldest-wait, expected-wait
and no-agent triggers, stepwise and continuous relaxation, rules that look
again as tasks age, concurrent offers, auto-accept on one channel, wrap-up,
time to live, preferred agents with a fallback and requirement expressions. At random
moments it snapshots into the journal, or drops the durable engine and
recovers a new one from the file alone; the recovered engine must have the
same digest and next wake-up as the one that ran the commands, and goes on
in its place. The reference is the engine that ran the commands: replay
must reproduce it exactly, whatever the mix of features.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from valueroute import AgentSpec, Engine, RelaxationStep, TaskSpec, ValueRouteError
from valueroute.journal import DurableEngine
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.relaxation import ContinuousRelaxation
from valueroute.rules import load_rules, parse_rules

RULES = """
name = "recovery"
version = "1"

[attributes]
vip = "bool"

[classification]
mode = "all"

[[classification.rules]]
name = "vip"
when = { field = "attributes.vip", op = "==", value = true }
then = { add_skills = { fr = 1 } }

[prioritisation]
mode = "all"

[[prioritisation.rules]]
name = "waiting 30 s"
when = { field = "age", op = ">=", value = 30 }
then = { add_priority = 1 }
"""

QUEUES = [
    QueueSpec(name="front", max_length=2, when_full="overflow", overflow_to="back"),
    QueueSpec(
        name="back",
        requires="not trainee",
        max_wait=25.0,
        when_too_old="overflow",
        overflow_to="front",
    ),
]
WORKFLOWS = [
    WorkflowSpec(
        name="claims",
        types=["claim"],
        steps=[
            WorkflowStep(
                queue="front",
                timeout=20.0,
                queue_length_at_least=2,
                oldest_wait_at_least=15.0,
                expected_wait_at_least=30.0,
            ),
            WorkflowStep(skills={"billing": 1.0}, priority=2, timeout=15.0, no_agent=True),
            WorkflowStep(lower_by=1.0),
        ],
        then="hold",
        check_every=4.0,
    )
]
TYPES = ("claim", "chat", "mail", "call")
AGENTS = ("a0", "a1", "a2", "a3")
CHANNEL = {"claim": "voice", "chat": "chat", "mail": "email", "call": "voice"}


def build_engine(clock: Any) -> Engine:
    return Engine(
        clock=clock,
        rules=load_rules(parse_rules(RULES)),
        queues=QUEUES,
        workflows=WORKFLOWS,
        relaxation={
            "mail": [RelaxationStep(after=20.0, lower_by=1.0), RelaxationStep(after=40.0)],
            "chat": ContinuousRelaxation(rate=0.125, value_scale=64.0),
        },
        concurrent_offers=2,
        auto_accept=["email"],
        offer_timeout=12.0,
        reject_cooldown=8.0,
        max_offers=4,
        wrap_up={"call": 3.0, "*": 0.0},
        time_to_live={"mail": 300.0},
        closed_memory=5,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recovery(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vr-recovery-"))
        self.path = self.folder / "journal.sqlite"
        self.clock = Clock()
        self.durable = DurableEngine.open(self.path, build_engine, clock=self.clock, sync="none")
        self.count = 0
        # A staffed centre from the start, so that most commands act on offers.
        for agent, level, trainee in (("a0", 2, False), ("a1", 1, True), ("a2", 3, False)):
            self.add_agent(agent, level, True, trainee, "EU", True)

    def teardown(self) -> None:
        if hasattr(self, "durable"):
            self.durable.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def run(self, name: str, *args: Any, **kwargs: Any) -> None:
        """A command through the journal; a refused one must change nothing."""
        before = self.durable.digest()
        position = self.durable.position
        try:
            getattr(self.durable, name)(*args, **kwargs)
        except ValueRouteError:
            assert self.durable.digest() == before
            assert self.durable.position == position
        self.durable.engine._check()

    def open_tasks(self, *states: str) -> list[str]:
        engine = self.durable.engine
        ids = [f"t{i}" for i in range(1, self.count + 1)]
        found = []
        for task_id in ids:
            try:
                state = engine.get(task_id).state.value
            except ValueRouteError:
                continue  # closed and forgotten
            if not states or state in states:
                found.append(task_id)
        return found

    def pick(self, data: st.DataObject, *states: str) -> str:
        """An open task in one of ``states``, else an id no task has (refused)."""
        return data.draw(st.sampled_from(self.open_tasks(*states) or ["missing"]))

    def registered(self) -> list[str]:
        return sorted(agent.id for agent in self.durable.engine.agents) or ["a0"]

    # ------------------------------------------------------------ commands

    @rule(
        kind=st.sampled_from(TYPES),
        level=st.sampled_from([0, 1, 2]),
        value=st.sampled_from([0.0, 32.0, 64.0]),
        priority=st.integers(0, 2),
        queue=st.sampled_from([None, None, "front", "back"]),
        preferred=st.sampled_from([(), ("a1",), ("a2", "a0")]),
        requires=st.sampled_from([None, "not trainee", 'region == "EU"']),
        vip=st.booleans(),
        age=st.sampled_from([0.0, 0.0, 25.0]),
        due_in=st.sampled_from([None, 30.0]),
    )
    def submit(
        self,
        kind: str,
        level: int,
        value: float,
        priority: int,
        queue: str | None,
        preferred: tuple[str, ...],
        requires: str | None,
        vip: bool,
        age: float,
        due_in: float | None,
    ) -> None:
        self.count += 1
        spec: dict[str, Any] = {
            "id": f"t{self.count}",
            "type": kind,
            "channel": CHANNEL[kind],
            "skills": {"billing": level},
            "value": value,
            "priority": priority,
            "created": self.clock.now - age,
            "attributes": {"vip": vip},
        }
        if queue is not None and kind != "claim":
            spec["queue"] = queue
        if preferred:
            spec["preferred_agents"] = list(preferred)
            spec["preferred_for"] = 10.0
        if requires is not None:
            spec["requires"] = requires
        if due_in is not None:
            spec["due_in"] = due_in
        self.run("submit", TaskSpec(**spec))

    @rule(
        agent=st.sampled_from(AGENTS),
        level=st.sampled_from([0, 1, 2, 3]),
        french=st.booleans(),
        trainee=st.booleans(),
        region=st.sampled_from(["EU", "US"]),
        ready=st.booleans(),
    )
    def add_agent(
        self, agent: str, level: int, french: bool, trainee: bool, region: str, ready: bool
    ) -> None:
        skills = {"billing": level} | ({"fr": 1} if french else {})
        spec = AgentSpec(
            id=agent,
            skills=skills,
            capacity={"voice": 1, "chat": 2, "email": 1},
            attributes={"trainee": trainee, "region": region},
        )
        self.run("add_agent", spec, ready=ready)

    @rule(data=st.data(), state=st.sampled_from(["ready", "ready", "not_ready", "offline"]))
    def set_agent_state(self, data: st.DataObject, state: str) -> None:
        self.run("set_agent_state", data.draw(st.sampled_from(self.registered())), state)

    @rule(data=st.data())
    def remove_agent(self, data: st.DataObject) -> None:
        self.run("remove_agent", data.draw(st.sampled_from(self.registered())))

    def answer_an_offer(self, data: st.DataObject, action: str) -> None:
        offered = self.open_tasks("offered")
        if not offered:
            return
        task = data.draw(st.sampled_from(offered))
        if action == "revoke":
            self.run(action, task)
            return
        offers = self.durable.engine.offers_of(task)
        self.run(action, task, data.draw(st.sampled_from([o.agent.id for o in offers])))

    # Answers are drawn three times as often as other commands: offers are
    # where most of the engine's state moves.
    answer = rule(data=st.data(), action=st.sampled_from(["accept", "accept", "reject", "revoke"]))(
        answer_an_offer
    )
    answer_again = rule(data=st.data(), action=st.just("accept"))(answer_an_offer)
    answer_once_more = rule(data=st.data(), action=st.just("accept"))(answer_an_offer)

    @precondition(lambda self: self.count > 0)
    @rule(data=st.data(), action=st.sampled_from(["complete", "complete", "end_wrap_up"]))
    def finish(self, data: st.DataObject, action: str) -> None:
        self.run(action, self.pick(data, "assigned", "wrap_up"))

    @precondition(lambda self: self.count > 0)
    @rule(data=st.data(), action=st.sampled_from(["cancel", "hold", "resume"]))
    def act(self, data: st.DataObject, action: str) -> None:
        self.run(action, self.pick(data))

    @precondition(lambda self: self.count > 0)
    @rule(
        data=st.data(),
        skills=st.sampled_from([None, {"billing": 0.0}, {"billing": 2.0}]),
        keep_age=st.booleans(),
    )
    def transfer(
        self, data: st.DataObject, skills: dict[str, float] | None, keep_age: bool
    ) -> None:
        task = self.pick(data, "queued", "assigned")
        self.run("transfer", task, skills=skills, keep_age=keep_age)

    @precondition(lambda self: self.count > 0)
    @rule(
        data=st.data(),
        value=st.sampled_from([None, 0.0, 64.0]),
        priority=st.sampled_from([None, 0, 3]),
        skills=st.sampled_from([None, {"billing": 1.0}]),
    )
    def update(
        self,
        data: st.DataObject,
        value: float | None,
        priority: int | None,
        skills: dict[str, float] | None,
    ) -> None:
        task = self.pick(data)
        self.run("update", task, value=value, priority=priority, skills=skills)

    @precondition(lambda self: self.count > 0)
    @rule(data=st.data(), seconds=st.sampled_from([5.0, 40.0]))
    def defer(self, data: st.DataObject, seconds: float) -> None:
        task = self.pick(data, "queued", "held")
        self.run("defer", task, self.clock.now + seconds)

    @rule(data=st.data())
    def next_task(self, data: st.DataObject) -> None:
        self.run("next_task", data.draw(st.sampled_from(self.registered())))

    @rule(seconds=st.sampled_from([1.0, 2.0, 4.0, 10.0, 25.0]))
    def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        self.run("advance")

    # ------------------------------------------------------------ recovery

    @rule()
    def snapshot(self) -> None:
        self.durable.snapshot()

    @rule()
    def recover(self) -> None:
        """Drop the durable engine and rebuild it from the journal file alone."""
        digest = self.durable.digest()
        wakeup = self.durable.next_wakeup()
        self.durable.close()
        self.durable = DurableEngine.open(self.path, build_engine, clock=self.clock, sync="none")
        assert self.durable.digest() == digest
        assert self.durable.next_wakeup() == wakeup
        self.durable.engine._check()


Recovery.TestCase.settings = settings(max_examples=50, stateful_step_count=60, deadline=None)
test_recovery_reproduces_an_engine_using_every_feature = Recovery.TestCase


def test_a_hold_and_resume_in_a_step_with_triggers_recovers_to_the_same_digest(
    tmp_path: Path,
) -> None:
    """Step checks set again after a resume leave older copies for the same
    moment behind; next_wakeup() drops the live engine's, a replay keeps its
    own: the digest counts each due moment once, so the two agree."""
    clock = Clock()
    path = tmp_path / "journal.sqlite"
    durable = DurableEngine.open(path, build_engine, clock=clock, sync="none")
    for number in range(3):
        durable.submit(TaskSpec(id=f"c{number}", type="claim", attributes={"vip": False}))
    for number in range(3):
        durable.hold(f"c{number}")
    # A query, as a host's timer loop makes: the step checks of held tasks
    # are invalid, and it drops those it finds first in line.
    durable.next_wakeup()
    durable.resume("c2")
    digest, wakeup = durable.digest(), durable.next_wakeup()
    durable.close()
    recovered = DurableEngine.open(path, build_engine, clock=clock, sync="none")
    assert recovered.digest() == digest
    assert recovered.next_wakeup() == wakeup
    recovered.close()
