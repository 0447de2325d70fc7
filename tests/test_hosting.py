"""Live hosting: a locked engine under threads, and an asyncio timer loop."""

from __future__ import annotations

import asyncio
import threading
import time

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.hosting import LockedEngine, TimerLoop
from valueroute.task import TaskState


def test_commands_from_many_threads_lose_nothing() -> None:
    locked = LockedEngine(Engine(offer_timeout=None))
    for i in range(4):
        locked.add_agent(AgentSpec(id=f"a{i}", capacity={"chat": 3}), ready=True)
    errors: list[Exception] = []

    def worker(start: int) -> None:
        try:
            for i in range(start, start + 200):
                task = locked.submit(TaskSpec(id=f"t{i}", channel="chat"))
                if locked.agent_of(task.id) is not None:
                    locked.accept(task.id)
                    locked.complete(task.id)
        except Exception as exc:  # noqa: BLE001 - a worker's failure must reach the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with locked.lock:
        engine = locked.engine
        engine._check()
        completed = sum(
            1
            for n in range(4)
            for i in range(n * 1000, n * 1000 + 200)
            if engine.get(f"t{i}").state is TaskState.completed
        )
        assert completed + len(engine) == 800


def test_timer_loop_fires_offer_timeouts_on_the_wall_clock() -> None:
    engine = Engine(offer_timeout=0.05)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    assert engine.get("t").state is TaskState.offered

    async def main() -> None:
        loop = TimerLoop(engine)
        runner = asyncio.create_task(loop.run())
        deadline = time.time() + 5.0
        while engine.get("t").state is TaskState.offered and time.time() < deadline:
            await asyncio.sleep(0.01)
        loop.stop()
        await runner
        assert loop.fired >= 1

    asyncio.run(main())
    # Timed out, re-queued, and (the cool-down keeping ann away) still waiting.
    assert engine.get("t").state is TaskState.queued
