"""Routing by attribute expressions: who may take a task, besides how skilled they are.

Three agents with the same claims skill differ in language, region and
seniority. Each task says who may take it; the engine offers it to the
longest idle agent whose skills and attributes both meet it.

    python examples/attribute_routing.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec


def main() -> None:
    now = [0.0]
    engine = Engine(clock=lambda: now[0], offer_timeout=None, auto_accept=True)
    team = {
        "ann": {"language": "en", "region": "UK", "years": 6},
        "bo": {"language": "fr", "region": "EU", "trainee": True},
        "cy": {"language": "fr", "region": "EU", "years": 3, "languages": {"fr", "de"}},
    }
    for agent_id, attributes in team.items():
        engine.add_agent(
            AgentSpec(id=agent_id, skills={"claims": 2}, attributes=attributes), ready=True
        )
    tasks = {
        "fr-claim": 'language == "fr" and not trainee',
        "de-claim": '"de" in languages',
        "senior-review": "years >= 5",
        "any-claim": None,
    }
    for task_id, requires in tasks.items():
        now[0] += 1.0
        engine.submit(TaskSpec(id=task_id, skills={"claims": 1}, requires=requires))
        agent = engine.agent_of(task_id)
        print(f"{task_id:<14} requires {requires or '-':<36} -> {agent.id if agent else 'waits'}")


if __name__ == "__main__":
    main()
