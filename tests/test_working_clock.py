"""Workflow step timeouts and queue waits counted in working time (``clock="working"``).

The oracle finds each step's end (each queue wait's end) by walking the open
periods of a fixed weekly timetable written out by hand (``working_time.py``),
independently of the calendar's tables: the first instant at which the
timeout of open time has passed since the step started (the task entered
the queue).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine_support import restored_copy
from valueroute import ContinuousRelaxation, Engine, RelaxationStep, TaskSpec
from valueroute.calendar import BusinessCalendar
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules
from working_time import DAY, HOLIDAY, HOUR, HOURS, MONDAY, office, working_end

office_calendar = office()


def engine_with(steps: list[float], clock: list[float], **spec: Any) -> Engine:
    return Engine(
        clock=lambda: clock[0],
        calendars={"office": office()},
        workflows=[
            WorkflowSpec(
                name="escalate",
                clock="working",
                then="hold",
                steps=[WorkflowStep(priority=i + 1, timeout=t) for i, t in enumerate(steps)],
                **spec,
            )
        ],
    )


def run_to_the_end(engine: Engine, clock: list[float]) -> list[Event]:
    """Advance to each wake-up until none is left, checking the engine after each;
    the events of the run."""
    events: list[Event] = []
    engine.subscribe(events.append)
    for _ in range(1000):
        wakeup = engine.next_wakeup()
        if wakeup == float("inf"):
            return events
        clock[0] = wakeup
        engine.advance()
        engine._check()
    raise AssertionError("the engine kept waking up")


def step_events(events: list[Event]) -> list[tuple[float, Any]]:
    return [(e.time, e.data["step"]) for e in events if e.kind is EventKind.workflow_step]


@given(
    start=st.integers(0, 14 * 24 * 60).map(lambda m: MONDAY + m * 60.0),
    steps=st.lists(st.integers(1, 4 * 30).map(lambda q: q * 900.0), min_size=1, max_size=3),
)
def test_each_step_ends_when_its_timeout_of_working_time_has_passed(
    start: float, steps: list[float]
) -> None:
    clock = [start]
    engine = engine_with(steps, clock)
    engine.submit(TaskSpec(id="claim", calendar="office", workflow="escalate"))
    expected = []
    at = start
    for index, timeout in enumerate(steps):
        at = working_end(at, timeout)
        expected.append((at, index + 1 if index + 1 < len(steps) else None))
    assert step_events(run_to_the_end(engine, clock)) == expected


def test_a_task_without_a_calendar_counts_wall_time() -> None:
    friday = MONDAY + 4 * DAY + 16.5 * HOUR
    clock = [friday]
    engine = engine_with([2 * HOUR], clock)
    engine.submit(TaskSpec(id="chat", workflow="escalate"))
    engine.submit(TaskSpec(id="claim", calendar="office", workflow="escalate"))
    clock[0] = friday + 2 * HOUR
    engine.advance()
    assert engine.get("chat").state.value == "held"
    assert engine.get("claim").state.value == "queued"
    # Half an hour on Friday, then Saturday 10:00-11:30.
    assert engine.next_wakeup() == MONDAY + 5 * DAY + 11.5 * HOUR


def test_a_wall_clock_workflow_keeps_wall_time_for_tasks_with_a_calendar() -> None:
    friday = MONDAY + 4 * DAY + 16.5 * HOUR
    clock = [friday]
    engine = Engine(
        clock=lambda: clock[0],
        calendars={"office": office()},
        workflows=[WorkflowSpec(name="w", then="hold", steps=[WorkflowStep(timeout=2 * HOUR)])],
    )
    engine.submit(TaskSpec(id="claim", calendar="office", workflow="w"))
    assert engine.next_wakeup() == friday + 2 * HOUR


def test_a_step_end_survives_a_snapshot_and_a_restore() -> None:
    friday = MONDAY + 4 * DAY + 16.5 * HOUR
    clock = [friday]

    def build() -> Engine:
        return engine_with([2 * HOUR, HOUR], clock)

    engine = build()
    engine.submit(TaskSpec(id="claim", calendar="office", workflow="escalate"))
    restored = restored_copy(engine, build)
    assert step_events(run_to_the_end(restored, clock)) == [
        (MONDAY + 5 * DAY + 11.5 * HOUR, 1),
        (MONDAY + 5 * DAY + 12.5 * HOUR, None),
    ]


def test_a_calendar_without_enough_open_time_never_ends_the_step() -> None:
    # An hour a week: a billion working seconds are over 5,000 years away.
    once = BusinessCalendar(timezone="UTC", hours={"mon": [("09:00", "10:00")]}, name="once")
    clock = [MONDAY]
    engine = Engine(
        clock=lambda: clock[0],
        calendars={"office": once},
        workflows=[
            WorkflowSpec(name="w", clock="working", steps=[WorkflowStep(timeout=1e9)], then="hold")
        ],
    )
    engine.submit(TaskSpec(id="claim", calendar="office", workflow="w"))
    assert engine.next_wakeup() == float("inf")
    assert engine.explain("claim")["workflow"] == "w"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"clock": "business"}, "clock"),
        ({"clock": "working", "steps": [{"timeout": 2e9}]}, "at most 1000000000"),
    ],
)
def test_bad_clocks_are_refused_naming_the_field(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        Engine(workflows=[{"name": "w", "steps": [{"timeout": 60}], **spec}])


def queues_engine(max_wait: float, clock: list[float]) -> Engine:
    """Tasks wait in "first" for ``max_wait`` working seconds, then in "second" as
    long again, then "third" (each wait counted afresh on entering)."""
    return Engine(
        clock=lambda: clock[0],
        calendars={"office": office()},
        queues=[
            QueueSpec(
                name="first",
                max_wait=max_wait,
                clock="working",
                when_too_old="overflow",
                overflow_to="second",
            ),
            QueueSpec(
                name="second",
                max_wait=max_wait,
                clock="working",
                when_too_old="overflow",
                overflow_to="third",
            ),
            QueueSpec(name="third"),
        ],
    )


def overflows(engine: Engine, clock: list[float]) -> list[tuple[float, str | None, Any]]:
    return [
        (e.time, e.task, e.data["queue"])
        for e in run_to_the_end(engine, clock)
        if e.kind is EventKind.task_overflowed
    ]


@given(
    start=st.integers(0, 14 * 24 * 60).map(lambda m: MONDAY + m * 60.0),
    max_wait=st.integers(1, 4 * 30).map(lambda q: q * 900.0),
)
def test_a_queue_wait_ends_when_its_max_wait_of_working_time_has_passed(
    start: float, max_wait: float
) -> None:
    clock = [start]
    engine = queues_engine(max_wait, clock)
    engine.submit(TaskSpec(id="claim", calendar="office", queue="first"))
    engine.submit(TaskSpec(id="chat", queue="first"))
    second = working_end(start, max_wait)
    assert sorted(overflows(engine, clock)) == sorted(
        [
            (second, "claim", "second"),
            (working_end(second, max_wait), "claim", "third"),
            (start + max_wait, "chat", "second"),
            (start + 2 * max_wait, "chat", "third"),
        ]
    )


def test_working_max_wait_is_bounded() -> None:
    with pytest.raises(InvalidInputError, match="max_wait"):
        QueueSpec(name="q", max_wait=2e9, clock="working")
    assert QueueSpec(name="q", max_wait=2e9).clock == "wall"


def test_a_simulated_workflow_counts_its_steps_in_the_task_types_calendar(tmp_path: Any) -> None:
    """The simulator runs the same engine: a claim type with the office calendar
    follows a working-clock workflow, each step ending where the hand count says."""
    from valueroute.sim import Scenario, World

    arrivals = [4 * DAY + 16.5 * HOUR, 2 * DAY + 10 * HOUR, 5 * DAY + 13.25 * HOUR, 11 * HOUR]
    trace = tmp_path / "claims.csv"
    trace.write_text("time,task_type\n" + "".join(f"{t!r},claim\n" for t in sorted(arrivals)))
    world = World(
        Scenario.model_validate(
            {
                "horizon_seconds": 10 * DAY,
                "start": "2026-12-07T00:00:00+00:00",
                "calendars": {
                    "office": {
                        "timezone": "UTC",
                        "hours": {day: [list(r) for r in ranges] for day, ranges in HOURS.items()},
                        "holidays": [HOLIDAY],
                    }
                },
                "task_types": [
                    {
                        "name": "claim",
                        "calendar": "office",
                        "skills": {"claims": 1},
                        "handle": {"kind": "exponential", "mean_seconds": 300},
                    }
                ],
                "arrivals": [{"kind": "trace", "path": str(trace)}],
                # Nobody has what the steps ask: each claim goes through every step.
                "agent_groups": [{"name": "clerks", "count": 1, "skills": {"claims": 1}}],
                "routing": {
                    "workflows": [
                        {
                            "name": "claims",
                            "types": ["claim"],
                            "clock": "working",
                            "then": "hold",
                            "steps": [
                                {"skills": {"claims": 3}, "timeout": 2 * HOUR},
                                {"skills": {"claims": 3}, "timeout": 3 * HOUR},
                            ],
                        }
                    ]
                },
            }
        )
    )
    events: list[Event] = []
    world.engine.subscribe(events.append)
    world.run()
    submitted = {e.task: e.time for e in events if e.kind is EventKind.task_submitted}
    assert len(submitted) == len(arrivals)
    for task_id, at in submitted.items():
        first = working_end(at, 2 * HOUR)
        steps = [
            (e.time, e.data["step"])
            for e in events
            if e.kind is EventKind.workflow_step and e.task == task_id
        ]
        assert steps == [(at, 0), (first, 1), (working_end(first, 3 * HOUR), None)], task_id


@given(
    start=st.integers(0, 14 * 24 * 60).map(lambda m: MONDAY + m * 60.0),
    ttl=st.integers(1, 4 * 40).map(lambda q: q * 900.0),
)
def test_a_task_expires_when_its_time_to_live_of_working_time_has_passed(
    start: float, ttl: float
) -> None:
    clock = [start]
    engine = Engine(
        clock=lambda: clock[0],
        calendars={"office": office()},
        time_to_live={"claim": ttl, "*": 2 * ttl},
        time_to_live_clock="working",
    )
    engine.submit(TaskSpec(id="claim", type="claim", calendar="office"))
    engine.submit(TaskSpec(id="mail", type="mail", calendar="office"))
    engine.submit(TaskSpec(id="chat", type="claim"))
    events = run_to_the_end(engine, clock)
    expired = {e.task: e.time for e in events if e.kind is EventKind.task_expired}
    assert expired == {
        "claim": working_end(start, ttl),
        "mail": working_end(start, 2 * ttl),
        "chat": start + ttl,  # no calendar: wall time
    }


def test_a_wall_time_to_live_is_the_default_and_bad_clocks_are_refused() -> None:
    clock = [MONDAY + 16 * HOUR]
    engine = Engine(clock=lambda: clock[0], calendars={"office": office()}, time_to_live=HOUR)
    engine.submit(TaskSpec(id="claim", calendar="office"))
    assert engine.next_wakeup() == MONDAY + 17 * HOUR
    with pytest.raises(InvalidInputError, match="time_to_live_clock"):
        Engine(time_to_live=60, time_to_live_clock="business")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="at most 1000000000"):
        Engine(time_to_live={"*": 2e9}, time_to_live_clock="working")
    assert Engine(time_to_live={"*": 2e9}).submit(TaskSpec(id="t")).state.value == "queued"


@given(
    start=st.integers(0, 14 * 24 * 60).map(lambda m: MONDAY + m * 60.0),
    afters=st.lists(st.integers(1, 4 * 30).map(lambda q: q * 900.0), min_size=1, max_size=3)
    .map(sorted)
    .filter(lambda a: len(set(a)) == len(a)),
)
def test_relaxation_steps_come_when_their_working_time_has_passed(
    start: float, afters: list[float]
) -> None:
    clock = [start]

    def build() -> Engine:
        return Engine(
            clock=lambda: clock[0],
            calendars={"office": office_calendar},
            relaxation=[RelaxationStep(after=after, lower_by=1.0) for after in afters],
            relaxation_clock="working",
        )

    engine = build()
    engine.submit(TaskSpec(id="claim", calendar="office", skills={"claims": 5}))
    engine.submit(TaskSpec(id="chat", skills={"claims": 5}))
    # Steps worked out in the calendar come back from a snapshot as they were.
    engine = restored_copy(engine, build)
    relaxed: dict[str, list[tuple[float, float]]] = {"claim": [], "chat": []}
    for event in run_to_the_end(engine, clock):
        if event.kind is EventKind.task_relaxed:
            relaxed[str(event.task)].append((event.time, event.data["skills"]["claims"]))
    assert relaxed == {
        "claim": [(working_end(start, a), 5.0 - i) for i, a in enumerate(afters, 1)],
        "chat": [(start + a, 5.0 - i) for i, a in enumerate(afters, 1)],  # no calendar
    }


def test_a_working_relaxation_survives_a_calendar_given_later_and_a_restore() -> None:
    """A rule gives the task a calendar after its first step's end was worked out in
    wall time: that end stands, the engine's checks and a restore accept it, and the
    next step counts working time."""
    friday = MONDAY + 4 * DAY + 16.5 * HOUR
    clock = [friday]
    rules = load_rules(
        {
            "name": "late calendar",
            "classification": {
                "rules": [
                    {
                        "name": "office after a while",
                        "when": {"field": "age", "op": ">=", "value": 600},
                        "then": {"calendar": "office"},
                    }
                ]
            },
        },
        calendars={"office": office_calendar},
    )

    def build() -> Engine:
        return Engine(
            clock=lambda: clock[0],
            calendars={"office": office_calendar},
            rules=rules,
            relaxation=[
                RelaxationStep(after=HOUR, lower_by=1.0),
                RelaxationStep(after=3 * HOUR, lower_by=1.0),
            ],
            relaxation_clock="working",
        )

    engine = build()
    engine.submit(TaskSpec(id="claim", skills={"claims": 5}))
    clock[0] = friday + 900
    engine.advance()
    assert engine.get("claim").calendar is office_calendar
    assert engine.explain("claim")["step_ends"] == friday + HOUR  # worked out before
    engine._check()
    steps = [
        (e.time, e.data["skills"]["claims"])
        for e in run_to_the_end(restored_copy(engine, build), clock)
        if e.kind is EventKind.task_relaxed
    ]
    # 17:30 in wall time; then three working hours from creation: Saturday 12:30.
    assert steps == [(friday + HOUR, 4.0), (working_end(friday, 3 * HOUR), 3.0)]


def test_working_relaxation_refuses_what_a_calendar_cannot_count() -> None:
    with pytest.raises(InvalidInputError, match="relaxation_clock"):
        Engine(relaxation=ContinuousRelaxation(rate=0.1), relaxation_clock="working")
    with pytest.raises(InvalidInputError, match="at most 1000000000"):
        Engine(relaxation=[RelaxationStep(after=2e9, lower_by=1)], relaxation_clock="working")
    assert Engine(relaxation=[RelaxationStep(after=2e9, lower_by=1)]) is not None
