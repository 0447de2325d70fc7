"""Why this agent: what the engine says about who took a task and who could have.

Three French-speaking agents with different proficiency; the centre routes
to the most proficient available agent. Each offer event names how its agent
was chosen (``by``) and the agent as it was then, and
``explain(task)["routing"]`` lists the eligible agents with their idle time,
proficiency and load, the strategy's choice for a waiting task, and the
decision for a task someone holds.

    python examples/why_this_agent.py
"""

from __future__ import annotations

import json

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.agents import MostProficient


def main() -> None:
    now = [0.0]
    engine = Engine(clock=lambda: now[0], agent_selection=MostProficient())
    for agent_id, level in (("ann", 3), ("bo", 5), ("cy", 4)):
        now[0] += 10.0
        engine.add_agent(AgentSpec(id=agent_id, skills={"fr": level}), ready=True)
    engine.subscribe(
        lambda event: print(
            f"offered {event.task} to {event.agent}, by {event.data['by']} "
            f"(idle since {event.data['idle_since']:g}, proficiency "
            f"{event.data['proficiency']:g}, load {event.data['load']:g})"
        ),
        kinds=["task_offered"],
    )

    now[0] += 5.0
    engine.submit(TaskSpec(id="claim-1", skills={"fr": 3}))  # bo, the most proficient
    routing = engine.explain("claim-1")["routing"]
    print("decision:", json.dumps(routing["decision"]))
    print("still available:", [c["agent"] for c in routing["candidates"]])

    engine.submit(TaskSpec(id="claim-2", skills={"fr": 4}))  # cy: ann's level 3 is too low
    engine.submit(TaskSpec(id="claim-3", skills={"fr": 4}))  # nobody free at level 4: it waits
    waiting = engine.explain("claim-3")["routing"]
    print("claim-3 waits; eligible agents:", waiting["eligible"])
    assert waiting["eligible"] == {"available": 0, "busy": 2, "away": 0}


if __name__ == "__main__":
    main()
