"""Preferred agents and last-agent routing: a callback goes back to the agent who took the call.

A customer called, ann took the call; later the customer asks to be called
back. The callback names the call (``related_to``), so ann is preferred for
ten minutes while she finishes another call; bo, idle all along, takes other
work but never the callback. Once the ten minutes are up, anyone may take it.

    python examples/preferred_agents.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec


def main() -> None:
    now = [0.0]
    engine = Engine(clock=lambda: now[0], offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bo"), ready=True)
    engine.subscribe(
        lambda event: print(
            f"{event.time:6.0f} s  {event.kind.value:<17} {event.task or ''} {event.agent or ''}"
        ),
        kinds=["task_offered", "preference_ended"],
    )

    engine.submit(TaskSpec(id="call-1"))  # ann, the longest idle
    engine.accept("call-1")
    engine.complete("call-1")

    now[0] = 60.0
    engine.submit(TaskSpec(id="call-2"))  # ann again (idle as long as bo, registered first)
    engine.accept("call-2")

    now[0] = 90.0
    engine.submit(TaskSpec(id="callback-1", related_to="call-1", preferred_for=600))
    engine.submit(TaskSpec(id="call-3"))  # bo takes it; the callback waits for ann
    print("callback waits for", engine.explain("callback-1")["preferred_agents"])

    now[0] = 300.0
    engine.complete("call-2")  # ann is free: the callback is hers
    assert engine.agent_of("callback-1").id == "ann"  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
