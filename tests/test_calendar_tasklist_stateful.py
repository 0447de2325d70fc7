"""Random operation sequences on a TaskList whose policy counts working time.

Tasks carry business calendars (an office calendar, a night-shift calendar
across midnight, or none); time moves by random amounts and also lands
exactly on openings and closings. After every step the list's best task must
be the best of a brute-force ranking that scores every task with a formula
written here from the calendar's ``elapsed`` and ``add`` (not from the
policies' segments): working age for aging, working slack, log value at risk
over working time, ramp steps found by counting ``add`` instants one by one,
the starvation limit, and a composite of working-time aging and wall-time
age (parts on two clocks, summed as wall pieces).

Scores are compared within a rounding tolerance (epoch-sized times carry
about 1e-7 of rounding per unit of slope); a tie within it may go either way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from valueroute import (
    AgingPriority,
    Composite,
    Fifo,
    LeastSlack,
    PriorityRamp,
    StrictPriority,
    TaskList,
    ValueAtRisk,
)
from valueroute.calendar import BusinessCalendar
from valueroute.engine import StarvationGuard
from valueroute.scoring import Ramp
from valueroute.task import Task

OFFICE = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("08:00", "12:00"), ("13:00", "18:00")] for day in ("mon", "tue", "wed", "thu")}
    | {"fri": [("08:00", "16:00")]},
    holidays=["2026-12-08"],
    name="office",
)
NIGHTS = BusinessCalendar(
    timezone="America/New_York",
    hours={day: [("22:00", "06:00")] for day in ("sun", "mon", "tue", "wed", "thu", "fri")},
    name="nights",
)
CALENDARS: tuple[BusinessCalendar | None, ...] = (OFFICE, NIGHTS, None)
START = dt.datetime(2026, 12, 3, 7, 0, tzinfo=OFFICE.zone).timestamp()
TOLERANCE = 1e-5
SECONDS_PER_POINT = 900.0
HANDLE = 600.0
RAMP = Ramp(step=1.0, every=1800.0, cap=6.0, after=600.0)
MAX_WAIT = 4 * 3600.0
EXPECTED_WAIT = 7200.0
OFFSET = 1e6


def working(task: Task, a: float, b: float) -> float:
    """Working seconds of the task's calendar from a to b (wall seconds without one)."""
    calendar = task.calendar
    return b - a if calendar is None else calendar.elapsed(a, b)


def later(task: Task, t: float, seconds: float) -> float:
    """The instant ``seconds`` of the task's working time after t."""
    calendar = task.calendar
    return t + seconds if calendar is None else calendar.add(t, seconds)


def aging(task: Task, now: float) -> float:
    return task.priority + working(task, task.created, now) / SECONDS_PER_POINT


def slack(task: Task, now: float) -> float:
    assert task.due is not None
    return -(working(task, now, task.due) - HANDLE)


def ramp(task: Task, now: float) -> float:
    steps = 0
    while later(task, task.created, RAMP.after + (steps + 1) * RAMP.every) <= now:
        steps += 1
    assert RAMP.cap is not None
    return task.priority + min(steps * RAMP.step, max(0.0, RAMP.cap - task.priority))


def log_value_at_risk(task: Task, now: float) -> float:
    assert task.due is not None
    lead = working(task, task.due, now) + HANDLE
    return math.log(task.value) + min(0.0, lead / EXPECTED_WAIT)


def aging_plus_wall_age(task: Task, now: float) -> float:
    """Working-time aging plus a point per wall hour: parts on two clocks."""
    return aging(task, now) + (now - task.created) / 3600.0


def starved(task: Task, now: float) -> float:
    if now >= later(task, task.created, MAX_WAIT):
        return OFFSET + working(task, task.created, now)
    return float(task.priority)


ORACLES: dict[str, tuple[Callable[[], Any], Callable[[Task, float], float]]] = {
    "aging": (lambda: AgingPriority(SECONDS_PER_POINT, clock="working"), aging),
    "least_slack": (lambda: LeastSlack(HANDLE, clock="working"), slack),
    "ramp": (lambda: PriorityRamp(default=RAMP, clock="working"), ramp),
    "value_at_risk": (
        lambda: ValueAtRisk(EXPECTED_WAIT, handle_seconds=HANDLE, clock="working"),
        log_value_at_risk,
    ),
    "two_clocks": (
        lambda: Composite(
            [(1.0, AgingPriority(SECONDS_PER_POINT, clock="working")), (1 / 3600.0, Fifo())]
        ),
        aging_plus_wall_age,
    ),
    "starvation": (
        lambda: StarvationGuard(StrictPriority(), MAX_WAIT, offset=OFFSET, clock="working"),
        starved,
    ),
}


class CalendarListMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.seq = 0
        self.open: dict[str, Task] = {}
        self.oracle: Callable[[Task, float], float] = aging
        self.tasks = TaskList(AgingPriority())

    @initialize(kind=st.sampled_from(sorted(ORACLES)))
    def choose_policy(self, kind: str) -> None:
        make, self.oracle = ORACLES[kind]
        self.tasks = TaskList(make())

    @rule(
        age=st.floats(0.0, 3 * 86_400.0),
        priority=st.integers(0, 5),
        due_after=st.floats(60.0, 4 * 86_400.0),
        calendar=st.sampled_from(CALENDARS),
    )
    def add(
        self, age: float, priority: int, due_after: float, calendar: BusinessCalendar | None
    ) -> None:
        created = self.now - age
        task = Task(
            id=f"t{self.seq}",
            seq=self.seq,
            created=created,
            priority=priority,
            value=float(priority + 1),
            due=created + due_after,
        )
        task.calendar = calendar
        self.seq += 1
        self.tasks.add(task, now=self.now)
        self.open[task.id] = task

    @rule(step=st.floats(0.0, 30_000.0))
    def wait(self, step: float) -> None:
        self.now += step

    @rule(calendar=st.sampled_from((OFFICE, NIGHTS)), opening=st.booleans())
    def to_a_breakpoint(self, calendar: BusinessCalendar, opening: bool) -> None:
        """Land exactly on the next opening or closing of a calendar."""
        target = calendar.next_open(self.now) if opening else calendar.next_close(self.now)
        if target == self.now:
            target = calendar.next_close(self.now)
        self.now = target

    @rule()
    def take_the_best(self) -> None:
        best = self.tasks.best(list(self.tasks._groups.values()), self.now)
        if best is not None:
            self.tasks.remove(best.id)
            del self.open[best.id]

    @invariant()
    def structure_holds(self) -> None:
        self.tasks._check()

    @invariant()
    def best_is_the_brute_force_best(self) -> None:
        best = self.tasks.best(list(self.tasks._groups.values()), self.now)
        if not self.open:
            assert best is None
            return
        assert best is not None
        scores = {task_id: self.oracle(task, self.now) for task_id, task in self.open.items()}
        top = max(scores.values())
        assert math.isfinite(top)
        assert scores[best.id] >= top - TOLERANCE, (best.id, scores[best.id], top)
        # Among tasks tied within the tolerance the list takes the oldest, then the first.
        tied = [self.open[i] for i, s in scores.items() if s >= top - TOLERANCE]
        if len(tied) == 1:
            assert best is tied[0]


TestCalendarList = CalendarListMachine.TestCase
TestCalendarList.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
