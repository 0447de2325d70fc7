"""Rules that route: a rule's ``queue`` and ``workflow`` actions.

A property test draws random rule sets whose rules and decision-table rows
name queues and workflows under random conditions, and random tasks; a
direct reading of the documented rule (the last rule to fire, classification
before prioritisation, that names a queue or a workflow wins; a workflow's
first step's queue wins over a queue; a workflow follows the type as the
rules classified it) predicts where each task goes, and the engine must put
it there. Unit tests cover the refusals and what a later re-application does
not do.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError, LimitExceededError, RuleError
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules

QUEUES = ("billing", "french", "general")
TIERS = ("gold", "silver", "bronze")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def engine_with(rules: Any, clock: Clock | None = None, **settings_: Any) -> Engine:
    return Engine(
        clock=clock or Clock(),
        rules=rules,
        queues=[QueueSpec(name=name) for name in QUEUES],
        workflows=[
            WorkflowSpec(
                name="escalate",
                steps=[WorkflowStep(queue="billing", timeout=60), WorkflowStep(queue="general")],
            ),
            WorkflowSpec(name="fraud", types=["fraud_review"], steps=[WorkflowStep()]),
        ],
        **settings_,
    )


def rule_set(rules: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Any:
    return load_rules(
        {
            "name": "routes",
            "attributes": {"tier": "text", "amount": "number"},
            "classification": {"mode": "all", "rules": rules},
            "prioritisation": {"mode": "all", "rules": [{"name": "tiers", "rows": rows}]},
        }
    )


@st.composite
def routing_rules(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rules = []
    for index in range(draw(st.integers(1, 4))):
        then: dict[str, Any] = {}
        if draw(st.booleans()):
            then["queue"] = draw(st.sampled_from(QUEUES))
        if draw(st.booleans()):
            then["workflow"] = "escalate"
        if draw(st.booleans()):
            then["type"] = draw(st.sampled_from(["claim", "fraud_review"]))
        if not then:
            then["add_priority"] = 1
        rules.append(
            {
                "name": f"r{index}",
                "when": {
                    "field": "attributes.amount",
                    "op": ">=",
                    "value": draw(st.integers(0, 100)),
                },
                "then": then,
            }
        )
    rows = [
        {"name": tier, "when": {"attributes.tier": tier}, "then": {"queue": queue}}
        for tier, queue in draw(
            st.dictionaries(st.sampled_from(TIERS), st.sampled_from(QUEUES), max_size=2)
        ).items()
    ] or [{"name": "none", "when": {"attributes.tier": "none"}, "then": {"add_priority": 1}}]
    return rules, rows


def expected_route(
    rules: list[dict[str, Any]], rows: list[dict[str, Any]], spec: TaskSpec
) -> tuple[str | None, str | None]:
    """Where the documented rule sends ``spec``: (queue, workflow)."""
    queue, workflow, task_type = spec.queue, spec.workflow, spec.type
    amount = spec.attributes["amount"]
    for rule in rules:  # classification, mode "all": every rule that holds, in order
        if amount >= rule["when"]["value"]:
            queue = rule["then"].get("queue", queue)
            workflow = rule["then"].get("workflow", workflow)
            task_type = rule["then"].get("type", task_type)
    for row in rows:  # the table: the first row that holds
        if spec.attributes["tier"] == row["when"]["attributes.tier"]:
            queue = row["then"].get("queue", queue)
            break
    if workflow is None and task_type == "fraud_review":
        workflow = "fraud"
    if workflow == "escalate":
        queue = "billing"  # the workflow's first step's queue
    return queue, workflow


@settings(max_examples=150, deadline=None)
@given(
    drawn=routing_rules(),
    tasks=st.lists(
        st.tuples(
            st.integers(0, 100),
            st.sampled_from(TIERS),
            st.sampled_from([None, *QUEUES]),
            st.sampled_from([None, "escalate"]),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_rules_route_tasks_as_documented(
    drawn: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tasks: list[tuple[int, str, str | None, str | None]],
) -> None:
    rules, rows = drawn
    engine = engine_with(rule_set(rules, rows))
    submitted: list[Any] = []
    engine.subscribe(submitted.append, kinds=["task_submitted"])
    for index, (amount, tier, queue, workflow) in enumerate(tasks):
        spec = TaskSpec(
            id=f"t{index}",
            attributes={"amount": amount, "tier": tier},
            queue=queue,
            workflow=workflow,
        )
        want_queue, want_workflow = expected_route(rules, rows, spec)
        engine.submit(spec)
        explained = engine.explain(spec.id)
        assert (explained["queue"], explained["workflow"]) == (want_queue, want_workflow), spec
        assert submitted[-1].data.get("queue") == want_queue
    counts = {name: figures["waiting"] for name, figures in engine.queue_statistics().items()}
    assert sum(counts.values()) == sum(1 for e in submitted if "queue" in e.data)


def test_rules_naming_unknown_queues_or_workflows_are_refused() -> None:
    to_nowhere = rule_set(
        [{"name": "r", "then": {"queue": "nowhere"}}],
        [{"name": "a", "when": {"attributes.tier": "gold"}, "then": {"add_priority": 1}}],
    )
    with pytest.raises(InvalidInputError, match="rules name queue 'nowhere'"):
        engine_with(to_nowhere)
    no_flow = rule_set(
        [{"name": "r", "then": {"workflow": "nowhere"}}],
        [{"name": "a", "when": {"attributes.tier": "gold"}, "then": {"add_priority": 1}}],
    )
    engine = engine_with(None)
    engine.submit(TaskSpec(id="t", attributes={"amount": 1, "tier": "gold"}))
    before = engine.digest()
    with pytest.raises(InvalidInputError, match="rules name workflow 'nowhere'"):
        engine.set_rules(no_flow)
    assert engine.digest() == before
    with pytest.raises(RuleError, match="two rows named"):
        rule_set(
            [{"name": "r", "then": {"add_priority": 1}}],
            [
                {"name": "x", "when": {"attributes.tier": "gold"}, "then": {"queue": "billing"}},
                {"name": "x", "when": {"attributes.tier": "silver"}, "then": {"queue": "french"}},
            ],
        )


def test_a_full_queue_a_rule_names_refuses_the_task_and_nothing_changes() -> None:
    clock = Clock()
    rules = rule_set(
        [
            {
                "name": "big",
                "when": {"field": "attributes.amount", "op": ">=", "value": 50},
                "then": {"queue": "vip"},
            }
        ],
        [{"name": "a", "when": {"attributes.tier": "gold"}, "then": {"add_priority": 1}}],
    )
    engine = Engine(clock=clock, rules=rules, queues=[QueueSpec(name="vip", max_length=1)])
    engine.submit(TaskSpec(id="t1", attributes={"amount": 80, "tier": "gold"}))
    clock.now = 5.0
    before = (engine.digest(), engine.now, engine.event_count)
    with pytest.raises(LimitExceededError, match="vip"):
        engine.submit(TaskSpec(id="t2", attributes={"amount": 90, "tier": "gold"}))
    assert (engine.digest(), engine.now, engine.event_count) == before
    # A task the rule does not send there is taken.
    engine.submit(TaskSpec(id="t3", attributes={"amount": 10, "tier": "gold"}))
    assert engine.explain("t3")["queue"] is None


def test_routes_are_decided_at_submission_only() -> None:
    """A rule over waiting time that names a queue sends tasks submitted after
    it holds; a task already waiting when it starts to hold stays put."""
    clock = Clock()
    rules = rule_set(
        [
            {
                "name": "waited",
                "when": {"field": "age", "op": ">=", "value": 60},
                "then": {"queue": "general", "add_priority": 5},
            }
        ],
        [{"name": "a", "when": {"attributes.tier": "gold"}, "then": {"queue": "french"}}],
    )
    engine = engine_with(rules, clock)
    engine.submit(TaskSpec(id="t1", attributes={"amount": 1, "tier": "gold"}))
    assert engine.explain("t1")["queue"] == "french"
    clock.now = 61.0
    engine.advance()
    explained = engine.explain("t1")
    assert explained["queue"] == "french"
    assert "waited" in explained["rules"]  # the rule holds now, and did apply
    assert engine.get("t1").priority == 5
    engine.submit(TaskSpec(id="t2", created=0.0, attributes={"amount": 1, "tier": "silver"}))
    assert engine.explain("t2")["queue"] == "general"  # waited 61 s when submitted


def test_apply_spec_names_the_route() -> None:
    rules = rule_set(
        [{"name": "r", "then": {"workflow": "escalate", "type": "claim"}}],
        [{"name": "a", "when": {"attributes.tier": "gold"}, "then": {"queue": "french"}}],
    )
    spec = rules.apply_spec(TaskSpec(id="t", attributes={"amount": 1, "tier": "gold"}), 0.0)
    assert (spec.queue, spec.workflow, spec.type) == ("french", "escalate", "claim")
    plain = rules.apply_spec(TaskSpec(id="u", attributes={"amount": 1, "tier": "bronze"}), 0.0)
    assert (plain.queue, plain.workflow) == (None, "escalate")


def test_a_rule_routed_task_reaches_its_queues_agents() -> None:
    clock = Clock()
    rules = rule_set(
        [
            {
                "name": "fr",
                "when": {"field": "attributes.tier", "op": "==", "value": "gold"},
                "then": {"queue": "french"},
            }
        ],
        [{"name": "a", "when": {"attributes.tier": "none"}, "then": {"add_priority": 1}}],
    )
    engine = Engine(
        clock=clock,
        rules=rules,
        auto_accept=True,
        queues=[QueueSpec(name="french", requires='"fr" in languages')],
    )
    engine.add_agent(AgentSpec(id="ann", attributes={"languages": ["en"]}), ready=True)
    engine.add_agent(AgentSpec(id="bea", attributes={"languages": ["fr"]}), ready=True)
    engine.submit(TaskSpec(id="t1", attributes={"amount": 1, "tier": "gold"}))
    assert engine.agent_of("t1").id == "bea"  # type: ignore[union-attr]
