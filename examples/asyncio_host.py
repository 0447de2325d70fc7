"""A live asyncio host: the engine on the wall clock, its timers driven by TimerLoop.

Run: python examples/asyncio_host.py

Two agents, a burst of tasks; one offer is left unanswered and times out
after two seconds, the rest are accepted and completed. Prints the events.
"""

from __future__ import annotations

import asyncio

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.hosting import TimerLoop


async def main() -> None:
    engine = Engine(offer_timeout=2.0, reject_cooldown=30.0)
    engine.subscribe(
        lambda e: print(f"{e.seq:>3} {e.kind.value:<20} {e.task or '':<6} {e.agent or ''}")
    )
    timers = TimerLoop(engine)
    runner = asyncio.create_task(timers.run())

    engine.add_agent(AgentSpec(id="ann", skills={"billing": 2}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"billing": 1}), ready=True)
    for i in range(4):
        engine.submit(TaskSpec(id=f"t{i}", priority=i, skills={"billing": 1}))
        timers.poke()

    # ann handles her offers; bob never answers his first one.
    for _ in range(3):
        for task in engine.tasks_of("ann"):
            if task.state.value == "offered":
                engine.accept(task.id)
            elif task.state.value == "assigned":
                engine.complete(task.id)
            timers.poke()
        await asyncio.sleep(1.0)

    timers.stop()
    await runner
    print("open tasks:", len(engine))


if __name__ == "__main__":
    asyncio.run(main())
