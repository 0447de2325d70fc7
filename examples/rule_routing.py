"""Rules that route: a rule names the queue and the workflow a task goes through.

French-speaking customers go to the "french" queue, which only French
speakers serve; claims over 10,000 follow the "large_claims" workflow
(experts first, anyone after two minutes). The rules decide when each task
is submitted; the engine routes it as if its spec had named them.

    python examples/rule_routing.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules

RULES = {
    "name": "routing",
    "attributes": {"language": "text", "amount": "number"},
    "classification": {
        "mode": "all",
        "rules": [
            {
                "name": "french speakers",
                "when": {"field": "attributes.language", "op": "==", "value": "fr"},
                "then": {"queue": "french"},
            },
            {
                "name": "large claim",
                "when": {"field": "attributes.amount", "op": ">=", "value": 10_000},
                "then": {"workflow": "large_claims", "add_priority": 2},
            },
        ],
    },
}


def main() -> None:
    now = [0.0]
    engine = Engine(
        clock=lambda: now[0],
        auto_accept=True,
        rules=load_rules(RULES),
        queues=[QueueSpec(name="french", requires='"fr" in languages')],
        workflows=[
            WorkflowSpec(
                name="large_claims",
                steps=[WorkflowStep(skills={"claims": 3}, timeout=120), WorkflowStep(skills={})],
            )
        ],
    )
    engine.add_agent(AgentSpec(id="ann", attributes={"languages": ["en", "fr"]}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"claims": 1}), ready=True)
    tasks = [
        TaskSpec(id="c1", attributes={"language": "fr", "amount": 200}),
        TaskSpec(id="c2", attributes={"language": "en", "amount": 25_000}),
        TaskSpec(id="c3", attributes={"language": "en", "amount": 300}),
    ]
    for spec in tasks:
        task = engine.submit(spec)
        explained = engine.explain(task.id)
        holder = engine.agent_of(task.id)
        print(
            f"{task.id}: queue {explained['queue']}, workflow {explained['workflow']}, "
            f"priority {task.priority}, with {None if holder is None else holder.id}"
        )
    now[0] = 130.0
    engine.advance()  # past the experts-only step: anyone may take c2 now
    engine.complete("c3")
    print("after two minutes, c2 is with", engine.agent_of("c2").id)  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
