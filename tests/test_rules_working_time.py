"""Rule conditions on working time: ``working_age`` and ``working_time_to_due``.

The oracle counts working seconds by hand (``working_time.py``): the overlap
of an interval with the open periods of a fixed weekly timetable, written
out day by day, independently of the calendar's tables.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute import Engine, TaskSpec
from valueroute.calendar import BusinessCalendar, CalendarError
from valueroute.errors import RuleError
from valueroute.events import EventKind
from valueroute.rules import CompiledRules, load_rules
from valueroute.task import Task
from working_time import DAY, HOUR, MONDAY, office, working_between


def compare(amount: float, op: str, literal: Any) -> bool:
    if op == "between":
        return bool(literal[0] <= amount <= literal[1])
    return bool(
        {
            "<": amount < literal,
            "<=": amount <= literal,
            ">": amount > literal,
            ">=": amount >= literal,
        }[op]
    )


def oracle(field: str, op: str, literal: Any, subject: Task, now: float) -> bool:
    if field == "working_age":
        return compare(working_between(subject.created, now), op, literal)
    if subject.due is None:
        return False
    return compare(working_between(now, subject.due), op, literal)


def rules_of(conditions: list[tuple[str, str, Any]]) -> CompiledRules:
    return load_rules(
        {
            "name": "working",
            "prioritisation": {
                "mode": "all",
                "rules": [
                    {
                        "name": f"r{i}",
                        "when": {"field": field, "op": op, "value": literal},
                        "then": {"add_priority": 1},
                    }
                    for i, (field, op, literal) in enumerate(conditions)
                ],
            },
        }
    )


# Amounts in whole quarter hours up to a week of working time (the timetable
# opens 39 hours a week), including the lengths of whole open periods.
amounts = st.integers(0, 4 * 45).map(lambda q: q * 900.0)
working_conditions = st.tuples(
    st.sampled_from(["working_age", "working_time_to_due"]),
    st.sampled_from(["<", "<=", ">", ">=", "between"]),
    st.lists(amounts, min_size=2, max_size=2).map(sorted),
).map(lambda c: (c[0], c[1], c[2] if c[1] == "between" else c[2][0]))
# Instants on the minute over two weeks, so that many fall on openings and closings.
instants = st.integers(0, 14 * 24 * 60).map(lambda m: MONDAY + m * 60.0)


@given(
    conditions=st.lists(working_conditions, min_size=1, max_size=4),
    created=instants,
    due_after=st.none() | st.integers(0, 7 * 24 * 60).map(lambda m: m * 60.0),
    later=st.integers(0, 10 * 24 * 60).map(lambda m: m * 60.0),
    probes=st.lists(st.floats(0, 1), max_size=4),
)
def test_working_conditions_match_hand_counted_working_time_and_next_change_is_exact(
    conditions: list[tuple[str, str, Any]],
    created: float,
    due_after: float | None,
    later: float,
    probes: list[float],
) -> None:
    calendar = office()
    compiled = rules_of(conditions)
    due = None if due_after is None else created + due_after
    now = created + later

    def subject() -> Task:
        task = Task(id="t", seq=0, created=created, due=due)
        task.calendar = calendar
        return task

    def fired_at(t: float) -> tuple[str, ...]:
        return compiled.apply(subject(), t).fired

    expected = tuple(
        f"r{i}"
        for i, (field, op, literal) in enumerate(conditions)
        if oracle(field, op, literal, subject(), now)
    )
    outcome = compiled.apply(subject(), now)
    assert outcome.fired == expected
    change = outcome.next_change
    assert change > now
    if math.isinf(change):
        for t in (now + DAY, now + 30 * DAY):
            assert fired_at(t) == expected
            assert expected == tuple(
                f"r{i}"
                for i, (field, op, literal) in enumerate(conditions)
                if oracle(field, op, literal, subject(), t)
            )
        return
    for fraction in probes:
        t = now + fraction * (change - now)
        if t < change:
            assert fired_at(t) == expected, t
    assert fired_at(math.nextafter(change, -math.inf)) == expected
    after = fired_at(change)
    assert after != expected
    # ... and the flip is the oracle's too: the truth moved at that instant.
    assert after == tuple(
        f"r{i}"
        for i, (field, op, literal) in enumerate(conditions)
        if oracle(field, op, literal, subject(), change)
    )


def test_a_task_without_a_calendar_counts_wall_time() -> None:
    compiled = rules_of([("working_age", ">=", 600.0), ("working_time_to_due", "<", 300.0)])
    task = Task(id="t", seq=0, created=1000.0, due=2000.0)
    outcome = compiled.apply(task, 1599.0)
    assert outcome.fired == ()
    assert outcome.next_change == 1600.0
    assert compiled.apply(Task(id="t", seq=0, created=1000.0, due=2000.0), 1700.5).fired == (
        "r0",
        "r1",
    )


def test_working_age_waits_over_the_weekend() -> None:
    # Friday 16:30: half an hour of work left that day, then Saturday 10:00-14:00.
    friday = MONDAY + 4 * DAY + 16.5 * HOUR
    compiled = rules_of([("working_age", ">=", 2 * HOUR), ("working_age", ">", 30 * 60.0)])
    task = Task(id="t", seq=0, created=friday)
    task.calendar = office()
    outcome = compiled.apply(task, friday + 60.0)
    # Half an hour of work is done at 17:00 Friday; more than that from Saturday 10:00.
    assert outcome.fired == ()
    assert outcome.next_change == math.nextafter(MONDAY + 5 * DAY + 10 * HOUR, math.inf)
    saturday = MONDAY + 5 * DAY
    later = compiled.apply(task, saturday + 11.5 * HOUR)
    assert later.fired == ("r0", "r1")


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ({"field": "working_age", "op": "==", "value": 60}, "operator '==' does not apply"),
        ({"field": "working_time_to_due", "op": "in", "value": [60]}, "does not apply"),
        ({"field": "working_age", "op": ">=", "value": -1}, "from 0 to"),
        ({"field": "working_age", "op": "between", "value": [0, 1e13]}, "from 0 to"),
        ({"field": "working_age", "op": ">=", "value": "1 hour"}, "expected a number"),
    ],
)
def test_bad_working_conditions_are_refused_at_load(
    condition: dict[str, Any], problem: str
) -> None:
    with pytest.raises(RuleError, match=problem) as info:
        load_rules(
            {
                "name": "bad",
                "prioritisation": {
                    "rules": [{"name": "r", "when": condition, "then": {"add_priority": 1}}]
                },
            }
        )
    assert "rule 'r'" in str(info.value)


def test_the_engine_applies_a_working_age_rule_at_the_exact_working_instant() -> None:
    friday = MONDAY + 4 * DAY + 16.5 * HOUR
    clock = [friday]
    calendar = office()
    rules = load_rules(
        {
            "name": "escalate",
            "prioritisation": {
                "rules": [
                    {
                        "name": "two working hours",
                        "when": {"field": "working_age", "op": ">=", "value": 7200},
                        "then": {"add_priority": 5},
                    }
                ]
            },
        }
    )
    engine = Engine(clock=lambda: clock[0], calendars={"office": calendar}, rules=rules)
    events: list[Any] = []
    engine.subscribe(events.append)
    engine.submit(TaskSpec(id="claim", type="claim", priority=1, calendar="office"))
    # 30 minutes on Friday, 90 on Saturday from 10:00: two hours at 11:30.
    due = MONDAY + 5 * DAY + 11.5 * HOUR
    assert engine.next_wakeup() == due
    clock[0] = due - 1.0
    engine.advance()
    assert engine.get("claim").priority == 1
    clock[0] = due
    engine.advance()
    assert engine.get("claim").priority == 6
    updated = [e for e in events if e.kind is EventKind.task_updated]
    assert [(e.time, e.data["reason"]) for e in updated] == [(due, "rules")]
    engine._check()


def test_every_operator_agrees_with_hand_counted_time_around_openings_and_closings() -> None:
    """A sweep over instants at, just before and after the openings and closings of
    two days (where the working value stands still over closed stretches), every
    amount that ends there, and every operator on both fields."""
    calendar = office()
    edges = [MONDAY + h * HOUR for h in (0, 9, 12, 13, 17, 24 + 9, 24 + 12, 24 + 13, 24 + 17)]
    grid = sorted({t + d for t in edges for d in (-60.0, 0.0, 60.0)})
    ops = ["<", "<=", ">", ">=", "between"]
    for amount in (0.0, 1800.0, HOUR, 3 * HOUR, 7 * HOUR):
        literals = {op: ([0.0, amount] if op == "between" else amount) for op in ops}
        conditions = [
            (field, op, literals[op])
            for field in ("working_age", "working_time_to_due")
            for op in ops
        ]
        compiled = rules_of(conditions)
        for created in grid[::2]:
            for due in (None, *grid[1::3]):
                for now in grid:
                    if now < created:
                        continue
                    task = Task(id="t", seq=0, created=created, due=due)
                    task.calendar = calendar
                    expected = tuple(
                        f"r{i}"
                        for i, (field, op, literal) in enumerate(conditions)
                        if oracle(field, op, literal, task, now)
                    )
                    assert compiled.apply(task, now).fired == expected, (amount, created, due, now)


def test_a_working_time_the_calendar_never_reaches_never_flips() -> None:
    # An hour a week: 5e8 working seconds are some 2,700 years away.
    sparse = BusinessCalendar(timezone="UTC", hours={"mon": [("09:00", "10:00")]}, name="s")
    compiled = rules_of([("working_age", ">=", 5e8), ("working_age", "<=", 5e8)])
    task = Task(id="t", seq=0, created=MONDAY)
    task.calendar = sparse
    outcome = compiled.apply(task, MONDAY + DAY)
    assert outcome.fired == ("r1",)
    assert outcome.next_change == math.inf
    task = Task(id="t", seq=0, created=-1e13)  # an instant no calendar answers for
    task.calendar = sparse
    with pytest.raises(CalendarError):
        compiled.apply(task, MONDAY)
