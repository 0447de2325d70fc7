"""A back-office morning: agents pull work, cases wait for customers, come back, move on.

The engine runs in pull mode (nothing is offered until an agent asks with
``next_task``), as case-management teams usually work. Along the way:

- a claim held from the list while the customer sends documents
  (``hold`` / ``resume``);
- a call-back case deferred to a promised time (``defer``): out of routing
  until then, back in line with its original age afterwards;
- a case moved to the fraud team with new requirements (``transfer``);
- due times with an ``sla_warning`` 10 minutes before and ``sla_breached``
  at the due time, for whatever is still open;
- a ``time_to_live`` on address changes: one nobody takes within an hour
  expires.

Every state change is an event; the example prints them as a supervisor's
feed would, and checks the counts at the end.

    python examples/backoffice_lifecycle.py
"""

from __future__ import annotations

from collections import Counter

from valueroute import AgentSpec, Engine, Event, TaskSpec

MINUTE = 60.0


def main() -> None:
    now = [8 * 3600.0]  # 08:00, in seconds of the day
    engine = Engine(
        clock=lambda: now[0],
        dispatch="pull",
        sla_warning=10 * MINUTE,
        time_to_live={"address": 60 * MINUTE},
    )
    told: Counter[str] = Counter()

    def feed(event: Event) -> None:
        told[event.kind.value] += 1
        clock = f"{int(event.time // 3600):02d}:{int(event.time % 3600 // 60):02d}"
        who = f" ({event.agent})" if event.agent else ""
        print(f"{clock}  {event.kind.value:16s} {event.task or ''}{who}")

    engine.subscribe(
        feed,
        kinds=[
            "task_offered",
            "task_held",
            "task_resumed",
            "task_deferred",
            "task_transferred",
            "task_completed",
            "task_expired",
            "sla_warning",
            "sla_breached",
        ],
    )

    def at(hour: int, minute: int) -> None:
        """Move the clock to hh:mm, letting every timer due on the way fire."""
        until = hour * 3600.0 + minute * MINUTE
        while engine.next_wakeup() <= until:
            now[0] = engine.next_wakeup()
            engine.advance()
        now[0] = until

    engine.add_agent(AgentSpec(id="ines", skills={"claims": 2}), ready=True)
    engine.add_agent(AgentSpec(id="omar", skills={"claims": 1, "fraud": 2}), ready=True)

    due = 9 * 3600.0
    engine.submit(TaskSpec(id="claim-1", type="claim", skills={"claims": 2}, due=due, value=300))
    engine.submit(TaskSpec(id="claim-2", type="claim", skills={"claims": 1}, due=due, value=120))
    engine.submit(TaskSpec(id="callback-1", type="callback", skills={"claims": 1}, value=80))
    engine.submit(TaskSpec(id="address-1", type="address", skills={"fraud": 3}))

    at(8, 5)
    assert engine.next_task("ines").task.id == "claim-1"  # type: ignore[union-attr]
    engine.accept("claim-1")
    engine.transfer("claim-1", skills={"fraud": 2})  # ines spots fraud: back to the list
    assert engine.next_task("omar").task.id == "claim-1"  # type: ignore[union-attr]
    engine.accept("claim-1")

    at(8, 10)
    engine.defer("callback-1", 10 * 3600.0)  # the customer asked for a call at 10:00
    engine.hold("claim-2")  # documents missing: out of routing until they arrive
    assert engine.next_task("ines") is None  # nothing ines may take is waiting

    at(8, 40)
    engine.complete("claim-1")
    at(9, 30)  # warnings at 08:50, breach at 09:00 for the held claim
    engine.resume("claim-2")  # the documents arrived
    assert engine.next_task("ines").task.id == "claim-2"  # type: ignore[union-attr]
    engine.accept("claim-2")
    engine.complete("claim-2")

    at(10, 0)  # the call-back is back in the list; address-1 expired at 09:00
    assert engine.next_task("omar").task.id == "callback-1"  # type: ignore[union-attr]
    engine.accept("callback-1")
    engine.complete("callback-1")

    print()
    print(dict(sorted(told.items())))
    assert told["task_completed"] == 3
    assert told["task_expired"] == 1
    assert told["sla_breached"] == 1  # claim-2, held past its due time
    assert len(engine) == 0  # nothing open, nothing lost


if __name__ == "__main__":
    main()
