"""Due times the rules set after submission are warned of and breached like any other.

Rules may set ``due_in`` whenever they are applied again: as a task ages
(a condition on ``age``), when the host updates a field a condition reads,
on a transfer, on a workflow step's entry, or when the rule set changes.
Each case: the SLA warning and breach fire at the new due time, once, and
``Engine._check`` finds every due time not yet breached armed.
"""

from __future__ import annotations

import datetime as dt

from valueroute import Engine, TaskSpec
from valueroute.calendar import BusinessCalendar
from valueroute.events import Event
from valueroute.models import WorkflowSpec, WorkflowStep
from valueroute.rules import CompiledRules, load_rules, parse_rules

WARNING = 20.0


def rules(condition: str, due_in: float) -> CompiledRules:
    return load_rules(
        parse_rules(
            f"""
name = "sla"
[prioritisation]
mode = "all"
[[prioritisation.rules]]
name = "due"
when = {condition}
then = {{ due_in = {due_in} }}
"""
        )
    )


OFFICE = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("08:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    name="office",
)


class Centre:
    def __init__(self, now: float = 0.0, **settings: object) -> None:
        self.now = now
        settings.setdefault("sla_warning", WARNING)
        self.engine = Engine(clock=lambda: self.now, **settings)  # type: ignore[arg-type]
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)

    def at(self, now: float) -> None:
        self.now = now
        self.engine.advance()
        self.engine._check()

    def sla(self, task: str) -> list[tuple[str, float, float]]:
        """(kind, due, time) of the task's warnings and breaches so far."""
        return [
            (event.kind.value, event.data["due"], event.time)
            for event in self.events
            if event.task == task and event.kind.value in ("sla_warning", "sla_breached")
        ]


def test_a_due_time_set_as_the_task_ages_is_warned_of_and_breached() -> None:
    centre = Centre(rules=rules('{ field = "age", op = ">=", value = 100 }', 150))
    centre.engine.submit(TaskSpec(id="t"))
    centre.at(100.0)
    assert centre.engine.get("t").due == 150.0
    assert centre.engine.next_wakeup() == 130.0
    for now in (129.0, 130.0, 149.0, 150.0, 400.0):
        centre.at(now)
    assert centre.sla("t") == [("sla_warning", 150.0, 130.0), ("sla_breached", 150.0, 150.0)]


def test_a_due_time_set_by_an_update_the_rules_react_to_is_breached() -> None:
    centre = Centre(rules=rules('{ field = "priority", op = ">=", value = 5 }', 60))
    centre.engine.submit(TaskSpec(id="t", priority=1))
    centre.at(10.0)
    centre.engine.update("t", priority=7)
    assert centre.engine.get("t").due == 60.0
    centre.at(40.0)
    centre.at(60.0)
    assert centre.sla("t") == [("sla_warning", 60.0, 40.0), ("sla_breached", 60.0, 60.0)]


def test_a_transfer_that_restarts_the_age_moves_the_due_time_and_its_breach() -> None:
    centre = Centre(rules=rules('{ field = "type", op = "==", value = "claim" }', 100))
    centre.engine.submit(TaskSpec(id="t", type="claim"))
    centre.at(50.0)
    centre.engine.transfer("t", skills={"senior": 1}, keep_age=False)  # due 50 + 100
    assert centre.engine.get("t").due == 150.0
    centre.at(100.0)
    assert centre.sla("t") == []  # the old due time (100) is gone
    centre.at(130.0)
    centre.at(150.0)
    assert centre.sla("t") == [("sla_warning", 150.0, 130.0), ("sla_breached", 150.0, 150.0)]


def test_a_due_time_set_at_a_workflow_step_is_breached() -> None:
    flow = WorkflowSpec(
        name="escalate",
        types=["claim"],
        steps=[WorkflowStep(skills={"claims": 3}, timeout=30.0), WorkflowStep(priority=9)],
    )
    centre = Centre(
        rules=rules('{ field = "priority", op = ">=", value = 9 }', 100),
        workflows=[flow],
    )
    centre.engine.submit(TaskSpec(id="t", type="claim"))
    assert centre.engine.get("t").due is None
    centre.at(30.0)  # the second step sets priority 9: the rule gives a due time
    assert centre.engine.get("t").due == 100.0
    centre.at(80.0)
    centre.at(100.0)
    assert centre.sla("t") == [("sla_warning", 100.0, 80.0), ("sla_breached", 100.0, 100.0)]


def test_new_rules_give_open_tasks_due_times_and_removing_them_restores_the_given_one() -> None:
    centre = Centre()
    centre.engine.submit(TaskSpec(id="given", due=500.0))
    centre.engine.submit(TaskSpec(id="none"))
    centre.at(10.0)
    centre.engine.set_rules(rules('{ field = "type", op = "==", value = "task" }', 50))
    centre.engine._check()
    assert centre.engine.get("none").due == 50.0
    assert centre.engine.get("given").due == 50.0
    centre.at(30.0)
    centre.at(50.0)
    assert centre.sla("none") == [("sla_warning", 50.0, 30.0), ("sla_breached", 50.0, 50.0)]
    centre.engine.set_rules(None)  # back to what the host gave: 500, not yet breached
    centre.engine._check()
    assert centre.engine.get("given").due == 500.0
    centre.at(480.0)
    centre.at(500.0)
    assert centre.sla("given")[-2:] == [
        ("sla_warning", 500.0, 480.0),
        ("sla_breached", 500.0, 500.0),
    ]


def test_a_rule_applied_again_to_the_same_due_time_breaches_it_once() -> None:
    centre = Centre(rules=rules('{ field = "type", op = "==", value = "task" }', 100))
    centre.engine.submit(TaskSpec(id="t", priority=1))
    centre.at(100.0)
    centre.engine.update("t", priority=2)  # the rules apply again: still due at 100
    centre.at(200.0)
    assert centre.sla("t") == [("sla_warning", 100.0, 100.0), ("sla_breached", 100.0, 100.0)]


def test_removing_rules_that_replaced_a_due_time_watches_the_submitted_one() -> None:
    centre = Centre(rules=rules('{ field = "type", op = "==", value = "task" }', 50))
    centre.engine.submit(TaskSpec(id="t", due=300.0))
    assert centre.engine.get("t").due == 50.0
    centre.at(10.0)
    centre.engine.set_rules(None)
    centre.engine._check()
    assert centre.engine.get("t").due == 300.0
    centre.at(280.0)
    centre.at(300.0)
    assert centre.sla("t") == [("sla_warning", 300.0, 280.0), ("sla_breached", 300.0, 300.0)]


def test_a_calendar_set_as_the_task_ages_moves_its_warning_into_working_time() -> None:
    def berlin(day: int, hour: int) -> float:
        return dt.datetime(2026, 12, day, hour, tzinfo=OFFICE.zone).timestamp()

    office_later = load_rules(
        parse_rules(
            """
name = "office"
[prioritisation]
mode = "all"
[[prioritisation.rules]]
name = "office hours"
when = { field = "age", op = ">=", value = 3600 }
then = { calendar = "office" }
"""
        ),
        calendars={"office": OFFICE},
    )
    centre = Centre(
        berlin(7, 9), rules=office_later, calendars={"office": OFFICE}, sla_warning=2 * 3600.0
    )
    due = berlin(8, 9)  # Tuesday 09:00; Monday 09:00 now
    centre.engine.submit(TaskSpec(id="t", due=due))
    assert centre.engine.next_wakeup() == berlin(7, 10)  # the rule; the wall warning Tue 07:00
    centre.at(berlin(7, 10))
    assert centre.engine.get("t").calendar is OFFICE
    # Two working hours before Tuesday 09:00: Monday 17:00.
    centre.at(berlin(7, 17))
    centre.at(berlin(8, 7))
    centre.at(berlin(8, 9))
    assert centre.sla("t") == [
        ("sla_warning", due, berlin(7, 17)),
        ("sla_breached", due, berlin(8, 9)),
    ]


def test_an_update_to_a_due_time_the_rules_override_breaches_it_once() -> None:
    centre = Centre(rules=rules('{ field = "type", op = "==", value = "task" }', 100))
    centre.engine.submit(TaskSpec(id="t"))
    centre.at(100.0)
    centre.engine.update("t", due=400.0)  # the rule has the last word: still due at 100
    assert centre.engine.get("t").due == 100.0
    centre.at(200.0)
    assert centre.sla("t") == [("sla_warning", 100.0, 100.0), ("sla_breached", 100.0, 100.0)]


def test_a_host_update_to_the_same_due_time_breaches_it_once() -> None:
    centre = Centre()
    centre.engine.submit(TaskSpec(id="t", due=100.0))
    centre.at(100.0)
    centre.engine.update("t", due=100.0)
    centre.at(200.0)
    centre.engine.update("t", due=300.0)  # moved: warned of and breached again
    centre.at(300.0)
    assert centre.sla("t") == [
        ("sla_warning", 100.0, 100.0),
        ("sla_breached", 100.0, 100.0),
        ("sla_warning", 300.0, 300.0),
        ("sla_breached", 300.0, 300.0),
    ]
