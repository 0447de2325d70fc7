"""Rules, workflow steps, host updates and transfers together, against a reference model.

The model knows one statement: a task's rule-controlled fields are its
rules applied at ``now`` to its *baseline*, the task as its host and its
routing made it. The baseline starts as the submitted spec routed by its
workflow's first step; a workflow step replaces the requirements and
priority it names; ``update`` replaces the fields the host gives; a
transfer replaces the requirements and ends the workflow. Rules never undo
any of these, however often they look again.

The rules here: VIP tasks also require ``y`` 2 (classification); a task
waiting 100 s or more gains 2 priority points, then a task of priority 5 or
more is worth twice its value (prioritisation, every rule in order).
Claims follow a workflow: experts (``claims`` 3) for 60 s, then anyone with
``claims`` 1 at priority 5 for 100 s, then they stay. Mail follows a
relaxation plan: from 50 s of age every level required is one lower (the
rules' requirements, lowered). No agent is logged on, so a task waits
unless held or deferred (claims only), and steps follow time while it
waits; a claim back from a hold or a deferral takes the steps that ran out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine_support import restored_copy
from valueroute import Engine, RelaxationStep, TaskSpec
from valueroute.events import Event
from valueroute.models import WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules, parse_rules

RULES = """
name = "interplay"
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
name = "waiting"
when = { field = "age", op = ">=", value = 100 }
then = { add_priority = 2, due_in = 150 }
[[prioritisation.rules]]
name = "urgent"
when = { field = "priority", op = ">=", value = 5 }
then = { scale_value = 2 }
"""

DUE_IN, SLA_WARNING = 150.0, 20.0

STEPS = (({"claims": 3.0}, None, 60.0), ({"claims": 1.0}, 5, 100.0))
"""(requirements, priority, seconds) of each step of the claims workflow."""

SKILLS = st.dictionaries(st.sampled_from(["claims", "billing"]), st.sampled_from([1, 2, 4]))


@dataclass
class Expected:
    created: float
    mail: bool
    vip: bool
    priority: int
    value: float
    skills: dict[str, float]
    step: int | None  # the workflow step, None once it ended or for no workflow
    step_ends: float = float("inf")
    history: list[str] = field(default_factory=list)
    waiting: bool = True  # in the list: held and deferred tasks take no steps
    deferred_until: float | None = None

    def fields(self, now: float) -> tuple[int, float, dict[str, float]]:
        skills = dict(self.skills)
        if self.vip:
            skills["y"] = 2.0
        if self.mail and now - self.created >= 50.0:
            skills = {name: max(0.0, level - 1.0) for name, level in skills.items()}
        priority = self.priority + (2 if now - self.created >= 100.0 else 0)
        value = self.value * 2.0 if priority >= 5 else self.value
        return priority, value, skills

    def due(self, now: float) -> float | None:
        """Set by the "waiting" rule once the task is 100 s old: created + 150 s."""
        return self.created + DUE_IN if now - self.created >= 100.0 else None


class RulesAndRouting(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.now = 0.0
        self.engine = self.build_engine()
        self.expected: dict[str, Expected] = {}
        self.count = 0
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        # Each open task's due time and the moment it was set, as the model sees them.
        self.dues: dict[str, tuple[float | None, float]] = {}

    def build_engine(self) -> Engine:
        return Engine(
            clock=lambda: self.now,
            rules=load_rules(parse_rules(RULES)),
            sla_warning=SLA_WARNING,
            relaxation={"mail": [RelaxationStep(after=50.0, lower_by=1.0)]},
            workflows=[
                WorkflowSpec(
                    name="claims",
                    types=["claim"],
                    steps=[
                        WorkflowStep(skills=skills, priority=priority, timeout=seconds)
                        for skills, priority, seconds in STEPS
                    ],
                )
            ],
        )

    @rule()
    def snapshot_and_restore(self) -> None:
        """Go on with an engine restored from a snapshot (through JSON): rules'
        baselines and timers, workflow steps and relaxation must come back."""
        self.engine = restored_copy(self.engine, self.build_engine)
        self.engine.subscribe(self.events.append)

    def _steps_due(self) -> None:
        """Move the model's waiting claims through the steps whose time is up
        (a claim back from a deferral or a hold takes those that ran out while
        it was away, each from the end of the one before)."""
        for task in self.expected.values():
            if task.deferred_until is not None and task.deferred_until <= self.now:
                task.waiting, task.deferred_until = True, None
            while task.waiting and task.step is not None and task.step_ends <= self.now:
                task.step += 1
                if task.step == len(STEPS):
                    task.step = None
                    break
                skills, priority, seconds = STEPS[task.step]
                task.skills = dict(skills)
                if priority is not None:
                    task.priority = priority
                task.step_ends += seconds
                task.history.append(f"step {task.step}")

    @rule(
        claim=st.booleans(),
        priority=st.integers(0, 6),
        value=st.sampled_from([0.0, 1.0, 7.5]),
        vip=st.booleans(),
        skills=SKILLS,
    )
    def submit(
        self, claim: bool, priority: int, value: float, vip: bool, skills: dict[str, int]
    ) -> None:
        task_id = f"t{self.count}"
        self.count += 1
        self.engine.submit(
            TaskSpec(
                id=task_id,
                type="claim" if claim else "mail",
                priority=priority,
                value=value,
                skills=skills,
                attributes={"vip": vip},
            )
        )
        requirements = {k: float(v) for k, v in skills.items()}
        step = None
        ends = float("inf")
        if claim:
            requirements = dict(STEPS[0][0])
            step, ends = 0, self.now + STEPS[0][2]
        self.expected[task_id] = Expected(
            self.now, not claim, vip, priority, value, requirements, step, ends, ["submitted"]
        )

    @rule(seconds=st.sampled_from([1.0, 30.0, 59.0, 61.0, 100.0, 150.0]))
    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.engine.advance()
        self._steps_due()

    @rule(
        data=st.data(),
        priority=st.one_of(st.none(), st.integers(0, 6)),
        value=st.one_of(st.none(), st.sampled_from([0.0, 3.0])),
        skills=st.one_of(st.none(), SKILLS),
    )
    def update(
        self,
        data: st.DataObject,
        priority: int | None,
        value: float | None,
        skills: dict[str, int] | None,
    ) -> None:
        if not self.expected:
            return
        task_id = data.draw(st.sampled_from(sorted(self.expected)))
        self.engine.update(task_id, priority=priority, value=value, skills=skills)
        task = self.expected[task_id]
        if priority is not None:
            task.priority = priority
        if value is not None:
            task.value = value
        if skills is not None:
            task.skills = {k: float(v) for k, v in skills.items()}
        task.history.append(f"update {priority} {value} {skills}")

    @rule(data=st.data(), skills=st.one_of(st.none(), SKILLS), keep_age=st.booleans())
    def transfer(self, data: st.DataObject, skills: dict[str, int] | None, keep_age: bool) -> None:
        if not self.expected:
            return
        waiting = sorted(t for t, task in self.expected.items() if task.waiting)
        if not waiting:
            return
        task_id = data.draw(st.sampled_from(waiting))
        self.engine.transfer(task_id, skills=skills, keep_age=keep_age)
        task = self.expected[task_id]
        if skills is not None:
            task.skills = {k: float(v) for k, v in skills.items()}
        if not keep_age:
            task.created = self.now  # ages, rules and relaxation count from now
        task.step = None
        task.history.append(f"transfer {skills} keep_age={keep_age}")

    def _claims(self, waiting: bool) -> list[str]:
        return sorted(
            t for t, task in self.expected.items() if not task.mail and task.waiting == waiting
        )

    @rule(data=st.data())
    def hold(self, data: st.DataObject) -> None:
        claims = self._claims(waiting=True)
        if claims:
            task_id = data.draw(st.sampled_from(claims))
            self.engine.hold(task_id)
            self.expected[task_id].waiting = False
            self.expected[task_id].history.append("hold")

    @rule(data=st.data(), seconds=st.sampled_from([5.0, 70.0, 200.0]))
    def defer(self, data: st.DataObject, seconds: float) -> None:
        claims = self._claims(waiting=True) + [
            t for t in self._claims(waiting=False) if self.expected[t].deferred_until is None
        ]
        if claims:
            task_id = data.draw(st.sampled_from(sorted(claims)))
            self.engine.defer(task_id, until=self.now + seconds)
            task = self.expected[task_id]
            task.waiting, task.deferred_until = False, self.now + seconds
            task.history.append(f"defer {seconds}")

    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        claims = self._claims(waiting=False)
        if claims:
            task_id = data.draw(st.sampled_from(claims))
            self.engine.resume(task_id)
            task = self.expected[task_id]
            task.waiting, task.deferred_until = True, None
            task.history.append("resume")
            self._steps_due()

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if not self.expected:
            return
        task_id = data.draw(st.sampled_from(sorted(self.expected)))
        self.engine.cancel(task_id)
        del self.expected[task_id]

    @invariant()
    def every_task_is_its_rules_applied_to_its_baseline(self) -> None:
        if not hasattr(self, "engine"):
            return
        for task_id, expected in self.expected.items():
            task = self.engine.get(task_id)
            seen: tuple[Any, ...] = (task.priority, task.value, dict(task.skills))
            assert seen == expected.fields(self.now), (task_id, self.now, expected.history)
            assert self.engine.explain(task_id)["workflow_step"] == expected.step, task_id
            assert task.due == expected.due(self.now), (task_id, self.now, expected.history)

    @invariant()
    def a_due_time_set_by_rules_is_warned_of_and_breached(self) -> None:
        """Each due time the rules set is breached once it has passed, and warned of
        SLA_WARNING s before when it was set before that moment; never early."""
        if not hasattr(self, "engine"):
            return
        told: dict[tuple[str, str, float], int] = {}
        for event in self.events:
            if event.kind.value in ("sla_breached", "sla_warning"):
                key = (event.kind.value, str(event.task), float(event.data["due"]))
                told[key] = told.get(key, 0) + 1
        for task_id, expected in self.expected.items():
            due = expected.due(self.now)
            if self.dues.get(task_id, (None, 0.0))[0] != due:
                self.dues[task_id] = (due, self.now)
            if due is None:
                continue
            since = self.dues[task_id][1]
            breaches = told.get(("sla_breached", task_id, due), 0)
            assert breaches == (1 if due <= self.now else 0), (task_id, due, expected.history)
            warning = due - SLA_WARNING
            warned = told.get(("sla_warning", task_id, due), 0)
            assert warned == (1 if since < warning <= self.now else 0), (task_id, due, since)

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine._check()


RulesAndRouting.TestCase.settings = settings(
    max_examples=300, stateful_step_count=30, deadline=None
)
TestRulesAndRouting = RulesAndRouting.TestCase
