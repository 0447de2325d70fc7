"""Escalate back-office work in business hours, not over the weekend.

A claim arrives on Friday at 16:30 in Berlin; the office is open on weekdays
from 08:00 to 18:00. Two rules count working time of the claim's calendar:
after two business hours it gains priority (Monday 08:30, not Friday
18:30), and in the last business hour before its due time (8 business
hours, Monday 14:30) it gains more. The engine re-applies the rules at
those exact instants. A workflow whose steps count working time
(``clock="working"``) first asks for experts, and after three business
hours (Monday 09:30) lowers the level it requires. The claim waits in an
inbox queue that sends what waited four business hours there to the
seniors' queue (Monday 10:30), counted in working time too. An e-mail
asks for one mail level less after two business hours (Monday 08:30), and
expires when nobody took it within five (Monday 11:30).

    python examples/business_hours_escalation.py
"""

from __future__ import annotations

import datetime as dt

from valueroute import Engine, RelaxationStep, TaskSpec
from valueroute.calendar import BusinessCalendar
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules, parse_rules

RULES = """
name = "claims escalation"

[[classification.rules]]
name = "claims are due in 8 business hours"
when = { field = "type", op = "==", value = "claim" }
then = { calendar = "office", due_in = "8 business hours" }

[prioritisation]
mode = "all"  # every rule that holds adds its priority

[[prioritisation.rules]]
name = "two business hours old"
when = { field = "working_age", op = ">=", value = 7200 }
then = { add_priority = 2 }

[[prioritisation.rules]]
name = "last business hour before due"
when = { field = "working_time_to_due", op = "<", value = 3600 }
then = { add_priority = 5 }
"""


def main() -> None:
    weekdays = {day: [("08:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = BusinessCalendar(timezone="Europe/Berlin", hours=weekdays, name="office")
    berlin = office.zone

    def shown(t: float) -> str:
        return dt.datetime.fromtimestamp(t, berlin).strftime("%a %d %b %H:%M")

    rules = load_rules(parse_rules(RULES), calendars={"office": office})
    friday = dt.datetime(2026, 12, 4, 16, 30, tzinfo=berlin).timestamp()
    clock = [friday]
    experts_first = WorkflowSpec(
        name="experts first",
        types=["claim"],
        clock="working",
        steps=[
            WorkflowStep(skills={"claims": 3}, timeout=3 * 3600),
            WorkflowStep(lower_by=2),  # anyone with claims 1 from then on
        ],
    )
    inbox = QueueSpec(
        name="inbox",
        max_wait=4 * 3600,
        clock="working",
        when_too_old="overflow",
        overflow_to="seniors",
    )
    engine = Engine(
        clock=lambda: clock[0],
        calendars={"office": office},
        rules=rules,
        workflows=[experts_first],
        queues=[inbox, QueueSpec(name="seniors")],
        time_to_live={"email": 5 * 3600},
        time_to_live_clock="working",
        relaxation={"email": [RelaxationStep(after=2 * 3600, lower_by=1)]},
        relaxation_clock="working",
    )
    expired: list[str] = []
    engine.subscribe(lambda event: expired.append(shown(event.time)), kinds=["task_expired"])
    relaxed: list[tuple[str, dict[str, float]]] = []
    engine.subscribe(
        lambda event: relaxed.append((shown(event.time), event.data["skills"])),
        kinds=["task_relaxed"],
    )
    claim = engine.submit(TaskSpec(id="claim-1", type="claim", priority=1, queue="inbox"))
    engine.submit(TaskSpec(id="mail-1", type="email", calendar="office", skills={"mail": 2}))
    assert claim.due is not None
    print(f"submitted {shown(friday)}, due {shown(claim.due)}, priority {claim.priority}")
    moments = []
    while (wakeup := engine.next_wakeup()) < claim.due:
        clock[0] = wakeup
        engine.advance()
        task = engine.get("claim-1")
        queue = None if task.queue is None else task.queue.name
        moments.append((shown(wakeup), task.priority, dict(task.skills), queue))
        print(
            f"{shown(wakeup)}: priority {task.priority}, requires {dict(task.skills)}, in {queue}"
        )
    assert moments == [
        ("Mon 07 Dec 08:30", 3, {"claims": 3.0}, "inbox"),
        ("Mon 07 Dec 09:30", 3, {"claims": 1.0}, "inbox"),
        ("Mon 07 Dec 10:30", 3, {"claims": 1.0}, "seniors"),
        ("Mon 07 Dec 11:30", 3, {"claims": 1.0}, "seniors"),
        ("Mon 07 Dec 13:30", 8, {"claims": 1.0}, "seniors"),
    ], moments
    print(f"mail-1 relaxed at {relaxed[0][0]} to {relaxed[0][1]}")
    print(f"mail-1 {engine.get('mail-1').state.value} at {expired[0]}")
    assert relaxed == [("Mon 07 Dec 08:30", {"mail": 1.0})]
    assert expired == ["Mon 07 Dec 11:30"]


if __name__ == "__main__":
    main()
