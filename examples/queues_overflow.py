"""Named queues with limits: a billing queue that overflows to a general one.

Billing calls need an agent with billing skill level 2. The billing queue
takes at most two waiting calls; more go to the general queue, which
everyone serves. A billing call that waits a minute overflows too. An agent
serving both queues takes the single best call across them.

    python examples/queues_overflow.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.models import QueueSpec


def main() -> None:
    now = [0.0]
    engine = Engine(
        clock=lambda: now[0],
        auto_accept=True,
        queues=[
            QueueSpec(
                name="billing",
                skills={"billing": 2},
                max_length=2,
                when_full="overflow",
                max_wait=60,
                when_too_old="overflow",
                overflow_to="general",
            ),
            QueueSpec(name="general", max_length=10),
        ],
    )
    engine.subscribe(
        lambda e: print(
            f"{e.time:5.0f} s  {e.task} {e.data['from_queue']} -> {e.data['queue']}"
            f" ({e.data['reason']})"
        ),
        kinds=["task_overflowed"],
    )
    engine.add_agent(AgentSpec(id="bo", skills={"billing": 3}))
    engine.add_agent(AgentSpec(id="cy"))

    for i in range(4):
        now[0] += 5.0
        engine.submit(TaskSpec(id=f"bill-{i}", queue="billing", priority=i))
    now[0] = 70.0
    engine.advance()  # bill-0 and bill-1 have waited a minute in billing
    for name, figures in engine.queue_statistics().items():
        print(f"{name:8} waiting {figures['waiting']}  oldest {figures['oldest_wait']} s")

    engine.set_agent_state("cy", "ready")  # serves general only: takes its best task
    engine.set_agent_state("bo", "ready")  # serves both: the best of what is left
    for agent in ("cy", "bo"):
        print(agent, "takes", [task.id for task in engine.tasks_of(agent)])


if __name__ == "__main__":
    main()
