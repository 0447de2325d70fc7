"""Boundary models: validation, conversion of times, limits, one error root."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute import AgentSpec, InvalidInputError, LimitExceededError, TaskSpec, ValueRouteError
from valueroute.models import MAX_ATTRIBUTE_TEXT, MAX_ATTRIBUTES, MAX_SKILLS


def test_aware_datetimes_and_seconds_are_both_accepted() -> None:
    due = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    spec = TaskSpec(due=due, created=1000)
    assert spec.due == due.timestamp()
    assert spec.created == 1000.0


def test_naive_datetimes_are_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidInputError, match=r"TaskSpec\.due: .*naive datetime"):
        TaskSpec(due=datetime(2026, 1, 1))


def test_negative_value_names_field_value_and_expectation() -> None:
    with pytest.raises(InvalidInputError) as caught:
        TaskSpec(value=-1)
    message = str(caught.value)
    assert "TaskSpec.value" in message
    assert "got -1" in message
    assert "greater than or equal to 0" in message
    assert caught.value.errors[0][:2] == ("value", -1)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        TaskSpec(value=-1, priority="high", skills={"x": -2})
    fields = {field for field, _, _ in caught.value.errors}
    assert fields == {"value", "priority", "skills"}


def test_validation_errors_are_value_route_errors_and_value_errors() -> None:
    for call in (
        lambda: TaskSpec(channel=""),
        lambda: TaskSpec.model_validate({"value": "lots"}),
        lambda: TaskSpec.model_validate_json('{"priority": 1.5}'),
        lambda: AgentSpec(id="a", capacity={"chat": -1}),
        lambda: TaskSpec(colour="red"),
    ):
        with pytest.raises(ValueRouteError):
            call()
        with pytest.raises(ValueError, match=r"TaskSpec|AgentSpec"):
            call()


def test_limits_raise_limit_exceeded() -> None:
    with pytest.raises(LimitExceededError, match="attributes"):
        TaskSpec(attributes={f"a{i}": i for i in range(MAX_ATTRIBUTES + 1)})
    with pytest.raises(LimitExceededError, match="characters"):
        TaskSpec(attributes={"subject": "x" * (MAX_ATTRIBUTE_TEXT + 1)})
    with pytest.raises(LimitExceededError, match="skills"):
        AgentSpec(id="a", skills={f"s{i}": 1 for i in range(MAX_SKILLS + 1)})
    with pytest.raises(LimitExceededError):
        TaskSpec(id="x" * 129)


def test_attributes_accept_only_json_scalars() -> None:
    assert TaskSpec(attributes={"vip": True, "n": 3, "s": "x", "none": None}).attributes["vip"]
    with pytest.raises(InvalidInputError, match="attributes"):
        TaskSpec(attributes={"nested": {"a": 1}})
    with pytest.raises(InvalidInputError, match="finite"):
        TaskSpec(attributes={"x": float("nan")})


def test_models_are_frozen() -> None:
    spec = TaskSpec(id="a")
    with pytest.raises(ValueError, match="frozen"):
        spec.priority = 3  # type: ignore[misc]


def test_generated_ids_are_unique() -> None:
    assert len({TaskSpec().id for _ in range(100)}) == 100


@given(
    value=st.floats(min_value=0, max_value=1e12, allow_nan=False),
    priority=st.integers(-(10**6), 10**6),
    level=st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_valid_specs_roundtrip_through_json(value: float, priority: int, level: float) -> None:
    spec = TaskSpec(id="t", value=value, priority=priority, skills={"a": level}, due=5.0)
    assert TaskSpec.model_validate_json(spec.model_dump_json()) == spec


def test_model_validate_reports_the_field_not_the_model() -> None:
    for call in (
        lambda: TaskSpec.model_validate({"value": -1}),
        lambda: TaskSpec.model_validate_json('{"value": -1}'),
    ):
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.errors[0][:2] == ("value", -1)


def test_nested_boundary_models_keep_the_full_field_path() -> None:
    from valueroute.models import BoundaryModel

    class Outer(BoundaryModel):
        task: TaskSpec

    with pytest.raises(InvalidInputError) as caught:
        Outer(task={"value": -1})
    assert caught.value.errors[0][:2] == ("task.value", -1)
    assert "Outer.task.value: got -1" in str(caught.value)


@pytest.mark.parametrize("build", ["model_validate", "constructor"])
def test_a_boundary_model_built_inside_a_validator_keeps_the_full_field_path(build: str) -> None:
    # A validator that builds another boundary model itself (by model_validate
    # or by calling the class) runs inside the outer one's validation: the
    # inner error must reach pydantic untouched so that it is reported once,
    # under the outer field's path, not as a "Value error" of the outer field.
    from pydantic import field_validator

    from valueroute.models import BoundaryModel

    class Outer(BoundaryModel):
        task: TaskSpec

        @field_validator("task", mode="before")
        @classmethod
        def _built_here(cls, value: Any) -> TaskSpec:
            if build == "model_validate":
                return TaskSpec.model_validate(value)
            return TaskSpec(**value)

    for call in (
        lambda: Outer(task={"value": -1}),
        lambda: Outer.model_validate({"task": {"value": -1}}),
    ):
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.errors[0][:2] == ("task.value", -1)
        assert "Outer.task.value: got -1" in str(caught.value)
    # The same model on its own still raises the valueroute error.
    with pytest.raises(InvalidInputError, match=r"TaskSpec\.value: got -1"):
        TaskSpec.model_validate({"value": -1})


def test_a_misspelt_key_names_the_closest_valid_one() -> None:
    import json
    import tomllib
    from pathlib import Path

    from valueroute.sim import parse_scenario

    demo = Path(__file__).resolve().parents[1] / "src/valueroute/data/demo_scenario.toml"
    document = tomllib.loads(demo.read_text())
    document["horizon_second"] = document.pop("horizon_seconds")
    document["task_types"][0]["sla_second"] = 5
    with pytest.raises(InvalidInputError) as raised:
        parse_scenario(json.dumps(document), format="json")
    message = str(raised.value)
    assert (
        "Scenario.horizon_second: got 28800 (not a known key; did you mean 'horizon_seconds'?"
        in (message)
    )
    assert "task_types.0.sla_second: got 5 (not a known key; did you mean 'sla_seconds'?" in message
    # A missing field does not repeat the document it is missing from.
    assert "Scenario.horizon_seconds: got nothing (Field required)" in message
    assert "sales_specialists" not in message


def test_a_misspelt_task_field_is_named_with_a_suggestion() -> None:
    with pytest.raises(InvalidInputError, match="did you mean 'priority'"):
        TaskSpec(id="t", priorty=3)  # type: ignore[call-arg]


@pytest.mark.parametrize("key", [None, 5, ("a",)])
def test_a_mapping_with_a_key_that_is_not_text_is_refused(key: object) -> None:
    with pytest.raises(InvalidInputError, match="expected field names as text"):
        TaskSpec.model_validate({key: 1, "id": "t"})
