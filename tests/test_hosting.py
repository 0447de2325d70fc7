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


def test_timer_loop_notices_commands_by_itself() -> None:
    """A small asyncio service: the loop is asleep for its full minute when
    twelve calls arrive; their offers time out after 0.2 s with no poke()."""
    engine = Engine(offer_timeout=0.2)
    for i in range(12):
        engine.add_agent(AgentSpec(id=f"a{i}", capacity={"voice": 1}), ready=True)
    timed_out: list[str | None] = []
    engine.subscribe(lambda event: timed_out.append(event.task), kinds=["offer_timed_out"])

    async def service() -> None:
        loop = TimerLoop(engine, max_sleep=60.0)
        runner = asyncio.create_task(loop.run())
        await asyncio.sleep(0.05)  # the loop now sleeps: nothing is due
        for i in range(12):
            engine.submit(TaskSpec(id=f"t{i}", channel="voice"))
        await asyncio.sleep(1.0)
        loop.stop()
        await asyncio.wait_for(runner, timeout=5.0)

    asyncio.run(service())
    assert sorted(set(timed_out)) == sorted(f"t{i}" for i in range(12))


def test_timer_loop_hears_commands_from_other_threads() -> None:
    locked = LockedEngine(Engine(offer_timeout=0.2))
    locked.add_agent(AgentSpec(id="ann", capacity={"voice": 1}), ready=True)
    timed_out: list[float] = []
    locked.subscribe(lambda event: timed_out.append(time.time()), kinds=["offer_timed_out"])

    async def service() -> float:
        loop = TimerLoop(locked, max_sleep=60.0)
        runner = asyncio.create_task(loop.run())
        await asyncio.sleep(0.05)
        submitted = time.time()
        worker = threading.Thread(target=locked.submit, args=(TaskSpec(id="t", channel="voice"),))
        worker.start()
        worker.join()
        for _ in range(100):
            if timed_out:
                break
            await asyncio.sleep(0.02)
        loop.stop()
        await asyncio.wait_for(runner, timeout=5.0)
        return submitted

    submitted = asyncio.run(service())
    assert timed_out, "the offer never timed out: the loop slept through it"
    assert timed_out[0] - submitted < 1.5
