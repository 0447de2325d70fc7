"""Everything that counts business hours, together, against a model that counts them by hand.

The engine has the office calendar of ``working_time.py``; tasks are
submitted with it or without one (then every clock below is wall time):

- rules (prioritisation, every rule in order): a task two working hours old
  gains 2 priority points; a task with less than one working hour left to
  its due time gains 3;
- claims follow a workflow with ``clock="working"``: experts (``claims`` 3)
  for 3 working hours, then anyone with ``claims`` 1 at priority 5 for 4,
  then they stay; a claim away (held, deferred) when its step's time is up
  takes the steps that ran out when it comes back, each from the end of the
  one before;
- mail waits in a queue with ``clock="working"`` and a ``max_wait`` of 5
  working hours, told with a ``queue_limit_reached`` event when the time is
  up while it waits (read at that moment only), expires after 8 working
  hours (``time_to_live_clock="working"``), waiting, held or deferred, and
  requires one level less of ``mail`` after 1 and after 3 working hours
  (``relaxation_clock="working"``), checked while it waits.

No agent is logged on, so tasks wait. The model knows only those
statements and the timetable: working time comes from ``working_between``
and ``working_end`` (counted over the open periods written out by hand),
never from the calendar. After every step it checks each task's priority,
its workflow step and when that step started, and the queue events; the
engine checks its own invariants at the end, and part of the way through
the engine is replaced by one restored from a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine_support import restored_copy
from valueroute import Engine, RelaxationStep, TaskSpec
from valueroute.events import Event, EventKind
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules
from working_time import DAY, HOUR, MONDAY, office, working_between, working_end

RULES = {
    "name": "business hours",
    "prioritisation": {
        "mode": "all",
        "rules": [
            {
                "name": "two working hours old",
                "when": {"field": "working_age", "op": ">=", "value": 2 * HOUR},
                "then": {"add_priority": 2},
            },
            {
                "name": "last working hour",
                "when": {"field": "working_time_to_due", "op": "<", "value": HOUR},
                "then": {"add_priority": 3},
            },
        ],
    },
}
STEPS = (({"claims": 3.0}, None, 3 * HOUR), ({"claims": 1.0}, 5, 4 * HOUR))
"""(requirements, priority, working seconds) of each step of the claims workflow."""
MAX_WAIT = 5 * HOUR
MAIL_LIFE = 8 * HOUR
MAIL_STEPS = (HOUR, 3 * HOUR)


@dataclass
class Expected:
    created: float
    working: bool  # has the office calendar
    priority: int  # before the rules
    due: float | None
    step: int | None = None
    step_since: float = 0.0
    step_ends: float = float("inf")
    waiting: bool = True
    deferred_until: float | None = None
    queue_until: float | None = None  # mail: when its max_wait is up
    expires: float | None = None  # mail: when it expires
    told: int = 0  # mail: queue_limit_reached events expected
    history: list[str] = field(default_factory=list)

    def end_after(self, start: float, seconds: float) -> float:
        return working_end(start, seconds) if self.working else start + seconds

    def between(self, a: float, b: float) -> float:
        return working_between(a, b) if self.working else b - a

    def ruled_priority(self, now: float) -> int:
        priority = self.priority
        if self.between(self.created, now) >= 2 * HOUR:
            priority += 2
        if self.due is not None and self.between(now, self.due) < HOUR:
            priority += 3
        return priority


class WorkingClock(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.now = MONDAY + 8 * HOUR  # an hour before the office opens
        self.engine = self.build_engine()
        self.expected: dict[str, Expected] = {}
        self.count = 0
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.expired: set[str] = set()

    def build_engine(self) -> Engine:
        calendar = office()
        return Engine(
            clock=lambda: self.now,
            calendars={"office": calendar},
            rules=load_rules(RULES),
            queues=[QueueSpec(name="inbox", max_wait=MAX_WAIT, clock="working")],
            time_to_live={"mail": MAIL_LIFE},
            time_to_live_clock="working",
            relaxation={"mail": [RelaxationStep(after=a, lower_by=1.0) for a in MAIL_STEPS]},
            relaxation_clock="working",
            workflows=[
                WorkflowSpec(
                    name="claims",
                    types=["claim"],
                    clock="working",
                    steps=[
                        WorkflowStep(skills=skills, priority=priority, timeout=seconds)
                        for skills, priority, seconds in STEPS
                    ],
                )
            ],
        )

    @rule()
    def snapshot_and_restore(self) -> None:
        self.engine = restored_copy(self.engine, self.build_engine)
        self.engine.subscribe(self.events.append)

    def _time_passes(self) -> None:
        """What the model expects once the clock has moved to ``now`` and the engine
        advanced: deferrals over, steps whose time ran out taken, queue limits read."""
        for task_id, task in list(self.expected.items()):
            if task.expires is not None and task.expires <= self.now:
                # Expired in any state a task without an agent can be in.
                del self.expected[task_id]
                self.expired.add(task_id)
                continue
            if task.queue_until is not None and task.queue_until <= self.now:
                # Read at that moment only: told if the task waited then (a
                # deferral ending later in this advance had it away; timers due
                # at one instant fire in the order they were set, and the
                # limit's was set at submission, before any deferral).
                back = task.deferred_until
                if task.waiting or (back is not None and back < task.queue_until):
                    task.told += 1
                task.queue_until = None
            if task.deferred_until is not None and task.deferred_until <= self.now:
                task.waiting, task.deferred_until = True, None
            self._steps_due(task)

    def _steps_due(self, task: Expected) -> None:
        while task.waiting and task.step is not None and task.step_ends <= self.now:
            task.step += 1
            if task.step == len(STEPS):
                task.step = None
                break
            _, priority, seconds = STEPS[task.step]
            if priority is not None:
                task.priority = priority
            task.step_since = task.step_ends
            task.step_ends = task.end_after(task.step_since, seconds)
            task.history.append(f"step {task.step} at {task.step_since - MONDAY}")

    @rule(
        claim=st.booleans(),
        working=st.booleans(),
        priority=st.integers(0, 3),
        due_in=st.sampled_from([None, 2 * HOUR, 10 * HOUR, 2 * DAY]),
    )
    def submit(self, claim: bool, working: bool, priority: int, due_in: float | None) -> None:
        task_id = f"t{self.count}"
        self.count += 1
        due = None if due_in is None else self.now + due_in
        self.engine.submit(
            TaskSpec(
                id=task_id,
                type="claim" if claim else "mail",
                priority=priority,
                due=due,
                calendar="office" if working else None,
                queue=None if claim else "inbox",
                skills={} if claim else {"mail": 3},
            )
        )
        task = Expected(self.now, working, priority, due, history=[f"submitted {working}"])
        if claim:
            task.step, task.step_since = 0, self.now
            task.step_ends = task.end_after(self.now, STEPS[0][2])
        else:
            task.queue_until = task.end_after(self.now, MAX_WAIT)
            task.expires = task.end_after(self.now, MAIL_LIFE)
        self.expected[task_id] = task

    @rule(seconds=st.sampled_from([20 * 60.0, HOUR, 2.5 * HOUR, 9 * HOUR, DAY, 2.3 * DAY]))
    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.engine.advance()
        self._time_passes()

    @rule(data=st.data(), priority=st.integers(0, 3))
    def update(self, data: st.DataObject, priority: int) -> None:
        if self.expected:
            task_id = data.draw(st.sampled_from(sorted(self.expected)))
            self.engine.update(task_id, priority=priority)
            self.expected[task_id].priority = priority
            self.expected[task_id].history.append(f"update {priority}")

    def _ids(self, waiting: bool) -> list[str]:
        return sorted(t for t, task in self.expected.items() if task.waiting == waiting)

    @rule(data=st.data())
    def hold(self, data: st.DataObject) -> None:
        waiting = self._ids(waiting=True)
        if waiting:
            task_id = data.draw(st.sampled_from(waiting))
            self.engine.hold(task_id)
            self.expected[task_id].waiting = False
            self.expected[task_id].history.append("hold")

    @rule(data=st.data(), seconds=st.sampled_from([30 * 60.0, 5 * HOUR, 1.5 * DAY]))
    def defer(self, data: st.DataObject, seconds: float) -> None:
        candidates = self._ids(waiting=True) + [
            t for t in self._ids(waiting=False) if self.expected[t].deferred_until is None
        ]
        if candidates:
            task_id = data.draw(st.sampled_from(sorted(candidates)))
            self.engine.defer(task_id, until=self.now + seconds)
            task = self.expected[task_id]
            task.waiting, task.deferred_until = False, self.now + seconds
            task.history.append(f"defer {seconds}")

    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        away = self._ids(waiting=False)
        if away:
            task_id = data.draw(st.sampled_from(away))
            self.engine.resume(task_id)
            task = self.expected[task_id]
            task.waiting, task.deferred_until = True, None
            task.history.append("resume")
            self._steps_due(task)

    @invariant()
    def tasks_are_where_working_time_says(self) -> None:
        if not hasattr(self, "engine"):
            return
        for task_id, expected in self.expected.items():
            task = self.engine.get(task_id)
            context = (task_id, self.now - MONDAY, expected.history)
            assert task.priority == expected.ruled_priority(self.now), context
            explained = self.engine.explain(task_id)
            assert explained["workflow_step"] == expected.step, context
            if expected.step is not None:
                assert explained["step_since"] == expected.step_since, context
                assert explained["step_ends"] == expected.step_ends, context
            if expected.queue_until is not None:
                assert explained["queue_wait_ends"] == expected.queue_until, context
            if expected.expires is not None and expected.waiting:
                # Mail: each relaxation step whose working time has come.
                taken = sum(expected.end_after(expected.created, a) <= self.now for a in MAIL_STEPS)
                assert dict(task.skills) == {"mail": 3.0 - taken}, context

    @invariant()
    def queue_limits_are_told_when_the_working_wait_is_up(self) -> None:
        if not hasattr(self, "engine"):
            return
        told: dict[str, int] = {}
        for event in self.events:
            if event.kind is EventKind.queue_limit_reached:
                assert event.data["limit"] == "max_wait"
                told[str(event.task)] = told.get(str(event.task), 0) + 1
        for task_id, expected in self.expected.items():
            assert told.get(task_id, 0) == expected.told, (task_id, expected.history)

    @invariant()
    def mail_expires_when_its_working_life_is_over(self) -> None:
        if not hasattr(self, "engine"):
            return
        expired = {str(e.task) for e in self.events if e.kind is EventKind.task_expired}
        assert expired == self.expired
        for task_id in self.expired:
            assert self.engine.get(task_id).state.value == "expired"

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine._check()


WorkingClock.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestWorkingClock = WorkingClock.TestCase
