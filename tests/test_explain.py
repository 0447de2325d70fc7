"""Explanations: the terms of every built-in policy add up to its score."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.scoring import (
    AgingPriority,
    Composite,
    Policy,
    PriorityRamp,
    Ramp,
    ValueAtRisk,
    as_policy,
    explain,
    policy_by_name,
)
from valueroute.task import Task

POLICIES: dict[str, Policy] = {
    "fifo": policy_by_name("fifo"),
    "strict_priority": policy_by_name("strict_priority"),
    "aging_priority": policy_by_name("aging_priority", seconds_per_point=30),
    "edd": policy_by_name("edd"),
    "least_slack": policy_by_name("least_slack", handle_seconds={"claim": 600, "*": 120}),
    "ramp": policy_by_name(
        "ramp", default={"step": 2, "every": 60, "cap": 9, "overdue_step": 3, "overdue_every": 30}
    ),
    "cmu": policy_by_name("cmu", handle_seconds=300),
    "kleinrock": policy_by_name("kleinrock", rates={"claim": 0.2, "*": 0.05}),
    "cmu_theta": policy_by_name("cmu_theta", handle_seconds=300, patience_seconds=90),
    "value_at_risk": policy_by_name("value_at_risk", expected_wait=120, handle_seconds=60),
    "value_at_risk_linear": ValueAtRisk(120, handle_seconds=60, mode="linear"),
    "composite": Composite(
        [
            (1.5, AgingPriority(30)),
            (-0.5, policy_by_name("edd")),
            (0.01, ValueAtRisk(120, mode="linear")),
            (1.0, PriorityRamp(default=Ramp(step=1, every=45))),
        ]
    ),
    "user_callable": as_policy(lambda task, now: task.value * 2 + now, interval=10),
}

tasks = st.builds(
    lambda created, type_, priority, value, due_in: Task(
        id="x",
        seq=0,
        created=created,
        type=type_,
        priority=priority,
        value=value,
        due=None if due_in is None else created + due_in,
    ),
    created=st.floats(0, 2e9),
    type_=st.sampled_from(["claim", "sales"]),
    priority=st.integers(-5, 20),
    value=st.floats(0, 1e6),
    due_in=st.none() | st.floats(-1e4, 1e5),
)


@pytest.mark.parametrize("name", sorted(POLICIES))
@given(task=tasks, waited=st.floats(0, 1e5))
def test_terms_add_up_to_the_score(name: str, task: Task, waited: float) -> None:
    policy = POLICIES[name]
    now = task.created + waited
    explanation = explain(policy, task, now)
    score = policy.segment(task, now).at(now)
    assert explanation.score == score
    total = math.fsum(term.contribution for term in explanation.terms)
    magnitude = sum(abs(term.contribution) for term in explanation.terms)
    # Both sides are float sums of the same quantities, grouped differently:
    # they agree up to rounding relative to the largest intermediate (now × slope).
    segment = explanation.segment
    rounding = 1e-12 * (1.0 + magnitude + abs(segment.base) + abs(segment.slope * now))
    assert total == pytest.approx(score, rel=0, abs=1e3 * rounding)


def test_explanation_carries_fields_rules_and_serialises_to_json() -> None:
    policy = POLICIES["ramp"]
    task = Task(id="claim-7", seq=0, created=100.0, priority=4, value=250.0, due=400.0)
    explanation = explain(policy, task, 250.0, rules=["gold customer", "late claim"])
    document = json.loads(explanation.to_json())
    assert document["task_id"] == "claim-7"
    assert document["policy"] == "ramp"
    assert document["rules"] == ["gold customer", "late claim"]
    assert document["value"] == 250.0
    assert document["priority"] == 4
    assert document["age"] == 150.0
    assert document["time_to_due"] == 150.0
    # Ramp origin 100: steps at 160 and 220, 2 points each; not yet overdue.
    assert {t["name"]: t["contribution"] for t in document["terms"]} == {
        "priority": 4.0,
        "ramp": 4.0,
        "overdue": 0.0,
    }
    assert document["score"] == 8.0
    assert document["segment"] == {"base": 8.0, "slope": 0.0, "until": 280.0, "clock": None}


def test_infinite_segment_end_serialises_as_null() -> None:
    task = Task(id="f", seq=0, created=0.0)
    document = json.loads(explain(POLICIES["fifo"], task, 5.0).to_json())
    assert document["segment"]["until"] is None
    assert document["time_to_due"] is None


def test_value_at_risk_explanation_shows_the_amount_at_risk() -> None:
    task = Task(id="v", seq=0, created=0.0, value=100.0, due=1000.0)
    explanation = explain(POLICIES["value_at_risk"], task, 700.0)
    # d = 1000 - 60; risk = 100 * exp((700 - 940) / 120)
    assert explanation.extra["value_at_risk"] == pytest.approx(100.0 * math.exp(-2.0))
    assert math.exp(explanation.score) == pytest.approx(100.0 * math.exp(-2.0))


def test_policy_without_terms_is_explained_by_one_term() -> None:
    class Flat:
        name = "flat"

        def segment(self, task: Task, now: float) -> tuple[float, float, float]:
            from valueroute.scoring import Segment

            return Segment(7.0, 0.0)

    explanation = explain(Flat(), Task(id="z", seq=0, created=0.0), 1.0)  # type: ignore[arg-type]
    assert [(t.name, t.contribution) for t in explanation.terms] == [("score", 7.0)]
