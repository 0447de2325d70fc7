"""A Twilio TaskRouter workspace, written in valueroute's vocabulary.

The configuration below is the kind a TaskRouter user keeps: workers with
attributes, task queues that select workers by an expression, a workflow
whose filters send each task through a list of targets with timeouts, a
reservation timeout and a task timeout. ``engine_for`` writes each piece in
valueroute's terms (see docs/migrating.md for the whole table):

- a worker's ``skills`` array -> the agent's numeric skills (level 1 each);
  other attributes -> agent attributes (a list becomes a set);
- a task queue's ``target_workers`` -> a ``QueueSpec`` with the skills it
  names and an attribute expression for the rest;
- the workflow's filters, first match wins -> classification rules in
  ``mode = "first"`` naming a workflow; each filter's targets -> the steps
  of that workflow (queue, priority, timeout); the default filter -> a last
  rule without a condition;
- ``task_reservation_timeout`` -> ``offer_timeout``; a task's ``timeout``
  -> ``time_to_live``; TaskRouter's order (priority first, then age) ->
  the ``StrictPriority`` policy.

Then a short morning runs through it: a Spanish support call waits a minute
for the Spanish speaker, who is busy, and moves on to every support agent at
priority 10, as the workflow's second target says.

    python examples/from_taskrouter.py
"""

from __future__ import annotations

from typing import Any

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules
from valueroute.scoring import StrictPriority

# What a TaskRouter workspace holds, field names as TaskRouter spells them.
WORKERS: dict[str, dict[str, list[str]]] = {
    "lucia": {"skills": ["support"], "languages": ["es", "en"]},
    "sam": {"skills": ["support"], "languages": ["en"]},
    "kim": {"skills": ["sales"], "languages": ["en"]},
}
TASK_QUEUES: dict[str, dict[str, Any]] = {
    # target_workers: 'skills HAS "support" AND languages HAS "es"'
    "Spanish Support": {"skills": ["support"], "languages_has": "es"},
    # target_workers: 'skills HAS "support"'
    "Support": {"skills": ["support"]},
    # target_workers: 'skills HAS "sales"'
    "Sales": {"skills": ["sales"]},
}
WORKFLOW: dict[str, Any] = {
    "task_reservation_timeout": 30,
    "task_routing": {
        "filters": [
            {
                "filter_friendly_name": "Spanish support",
                # expression: 'type == "support" AND language == "es"'
                "match": {"type": "support", "language": "es"},
                "targets": [
                    {"queue": "Spanish Support", "timeout": 60},
                    {"queue": "Support", "priority": 10},
                ],
            },
            {
                "filter_friendly_name": "Support",
                # expression: 'type == "support"'
                "match": {"type": "support"},
                "targets": [{"queue": "Support"}],
            },
        ],
        "default_filter": {"queue": "Sales"},
    },
}
TASK_TIMEOUT = 4 * 3600  # a task's "timeout": how long it may wait to be assigned


def _name(friendly: str) -> str:
    return friendly.lower().replace(" ", "_")


def queue_spec(name: str, target: dict[str, Any]) -> QueueSpec:
    requires = None
    if "languages_has" in target:
        requires = f'"{target["languages_has"]}" in languages'
    return QueueSpec(name=_name(name), skills=dict.fromkeys(target["skills"], 1), requires=requires)


def _condition(match: dict[str, str]) -> dict[str, Any]:
    tests = [
        {"field": "type" if field == "type" else f"attributes.{field}", "op": "==", "value": value}
        for field, value in match.items()
    ]
    return tests[0] if len(tests) == 1 else {"all": tests}


def engine_for(clock: Any) -> Engine:
    """An engine routing as the TaskRouter workspace above does."""
    routing = WORKFLOW["task_routing"]
    workflows = []
    rules = []
    for task_filter in routing["filters"]:
        name = _name(task_filter["filter_friendly_name"])
        workflows.append(
            WorkflowSpec(
                name=name,
                # After the last target the task stays where it is, as in TaskRouter.
                then="stay",
                steps=[
                    WorkflowStep(
                        queue=_name(target["queue"]),
                        priority=target.get("priority"),
                        timeout=target.get("timeout"),
                    )
                    for target in task_filter["targets"]
                ],
            )
        )
        rules.append(
            {
                "name": task_filter["filter_friendly_name"],
                "when": _condition(task_filter["match"]),
                "then": {"workflow": name},
            }
        )
    default_queue = _name(routing["default_filter"]["queue"])
    rules.append({"name": "default filter", "then": {"queue": default_queue}})
    return Engine(
        clock=clock,
        policy=StrictPriority(),
        offer_timeout=WORKFLOW["task_reservation_timeout"],
        time_to_live=TASK_TIMEOUT,
        queues=[queue_spec(name, target) for name, target in TASK_QUEUES.items()],
        workflows=workflows,
        rules=load_rules(
            {
                "name": "taskrouter workflow",
                "attributes": {"language": "text"},
                "classification": {"mode": "first", "rules": rules},
            }
        ),
    )


def main() -> None:
    now = [0.0]
    engine = engine_for(lambda: now[0])
    engine.subscribe(
        lambda e: print(
            f"{e.time:4.0f} s  {e.kind.value:<14} {e.task or '':<8} {e.agent or ''}"
            f"{'  step ' + str(e.data['step']) if e.kind.value == 'workflow_step' else ''}"
        ),
        kinds=["task_offered", "workflow_step", "task_completed"],
    )
    for worker, attributes in WORKERS.items():
        engine.add_agent(
            AgentSpec(
                id=worker,
                skills=dict.fromkeys(attributes["skills"], 1),
                attributes={"languages": attributes["languages"]},
            ),
            ready=True,
        )

    # lucia, the Spanish speaker, takes an English support call first.
    engine.submit(TaskSpec(id="call-1", type="support", attributes={"language": "en"}))
    engine.accept("call-1")
    now[0] = 5.0
    engine.submit(TaskSpec(id="call-2", type="support", attributes={"language": "en"}))
    engine.accept("call-2")  # sam
    now[0] = 10.0
    engine.submit(TaskSpec(id="call-3", type="support", attributes={"language": "es"}))
    engine.submit(TaskSpec(id="order-1", type="sales"))  # the default filter: Sales, kim
    engine.accept("order-1")
    print("call-3 waits in", engine.explain("call-3")["queue"])

    now[0] = 40.0
    engine.complete("call-2")  # sam is free, but not a Spanish speaker: call-3 waits on
    now[0] = 70.0
    engine.advance()  # a minute in Spanish Support: on to Support, priority 10
    explanation = engine.explain("call-3")
    print(f"call-3 now in {explanation['queue']} at priority {engine.get('call-3').priority}")
    holder = engine.agent_of("call-3")
    assert holder is not None
    assert holder.id == "sam"
    engine.accept("call-3")


if __name__ == "__main__":
    main()
