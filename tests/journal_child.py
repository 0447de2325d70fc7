"""Drive a durable engine under load until killed, printing each acknowledged command.

Used by ``tests/test_journal_crash.py``: ``python journal_child.py PATH SYNC RUN``.
A line ``ACK position command task`` is printed (and flushed) only once the
command is durable under the sync policy, so every printed line must survive
a SIGKILL at any moment.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.journal import DurableEngine
from valueroute.task import TaskState

AGENTS = ["a0", "a1", "a2", "a3"]


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None, closed_memory=1_000_000)


def main() -> None:
    path, sync, run = sys.argv[1], sys.argv[2], sys.argv[3]
    out = sys.stdout
    waiting: list[tuple[int, str]] = []

    def on_durable(position: int) -> None:
        while waiting and waiting[0][0] <= position:
            out.write(waiting.pop(0)[1])
        out.flush()

    durable = DurableEngine.open(
        path, make_engine, sync=sync, group_size=16, group_seconds=0.002, on_durable=on_durable
    )
    out.write(f"OPEN {durable.position}\n")
    out.flush()

    def done(command: str, task: str) -> None:
        waiting.append((durable.position, f"ACK {durable.position} {command} {task}\n"))
        if durable.durable_position >= durable.position:
            on_durable(durable.durable_position)

    for agent in AGENTS:
        if agent not in durable.engine.agents:
            durable.add_agent(AgentSpec(id=agent, capacity={"voice": 1}), ready=True)
            done("add_agent", agent)
    number = 0
    while True:
        number += 1
        task = f"{run}-{number}"
        durable.submit(TaskSpec(id=task, value=number % 7, priority=number % 3))
        done("submit", task)
        for agent in AGENTS:
            for held in durable.engine.tasks_of(agent):
                if held.state is TaskState.offered:
                    durable.accept(held.id)
                    done("accept", held.id)
                elif held.state is TaskState.assigned:
                    durable.complete(held.id, wrap_up=0.0)
                    done("complete", held.id)
        if number % 150 == 0:
            durable.compact()


if __name__ == "__main__":
    main()
