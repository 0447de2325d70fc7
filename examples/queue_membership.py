"""A queue served by listed agents, choosing them its own way, and its expected wait.

The "vip" queue is served only by the agents it lists (ann and bob), and
sends each call to the most proficient of them who is free, while the
"general" queue keeps the engine's longest-idle choice. After a few calls
the queues report their mean handle time and the expected wait a new call
would have: (waiting + 1) * mean handle / agents serving.

    python examples/queue_membership.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.models import QueueSpec

SALES = {"sales": 1}


def main() -> None:
    now = [0.0]
    engine = Engine(
        clock=lambda: now[0],
        auto_accept=True,
        queues=[
            QueueSpec(name="vip", agents=["ann", "bob"], agent_selection="most_proficient"),
            QueueSpec(name="general"),
        ],
    )
    engine.subscribe(
        lambda e: print(f"{e.time:5.0f} s  {e.task} -> {e.agent} (by {e.data['by']})"),
        kinds=["task_assigned"],
    )
    for agent_id, level in [("cy", 5), ("ann", 2), ("bob", 4)]:
        engine.add_agent(AgentSpec(id=agent_id, skills={"sales": level}), ready=True)
        now[0] += 1.0

    engine.submit(TaskSpec(id="vip-1", queue="vip", skills=SALES))  # bob: most proficient listed
    engine.submit(TaskSpec(id="gen-1", queue="general", skills=SALES))  # cy: idle longest
    engine.submit(TaskSpec(id="vip-2", queue="vip", skills=SALES))  # ann: the only listed one free
    engine.submit(TaskSpec(id="vip-3", queue="vip", skills=SALES))  # waits: cy is not listed
    now[0] = 180.0
    engine.complete("vip-1")  # bob takes vip-3 at once
    now[0] = 300.0
    engine.complete("vip-2")
    engine.submit(TaskSpec(id="vip-4", queue="vip", skills=SALES))  # ann, free again
    engine.submit(TaskSpec(id="vip-5", queue="vip", skills=SALES))  # waits
    for name, figures in engine.queue_statistics().items():
        print(
            f"{name:8} waiting {figures['waiting']}  agents {figures['agents']}  "
            f"mean handle {figures['mean_handle']}  expected wait {figures['expected_wait']}"
        )


if __name__ == "__main__":
    main()
