"""Fuzzing rule files: malformed input raises a ValueRouteError, never anything else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from valueroute.errors import ValueRouteError
from valueroute.rules import load_rules, parse_rules
from valueroute.task import Task

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rules" / "claims.toml"
VALID = parse_rules(EXAMPLE.read_text()).model_dump(by_alias=True, exclude_none=True)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["==", "in", "matches", "between", "(a)\\1", "[", "age", "attributes.x"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "when", "then", "rows", "field", "op", "value", "all", "not"])
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(paths(value, (*prefix, index)))
    return found


ALL_PATHS = paths(VALID)[1:]


def mutated(where: tuple[Any, ...], replacement: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(VALID))
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = replacement
    return dict(data)


def outcome_or_error(load: Any) -> None:
    try:
        compiled = load()
    except ValueRouteError:
        return
    # A rule set that loads never fails at dispatch time.
    compiled.apply(Task(id="f", seq=0, created=0.0, attributes={"subject": "x"}), 10.0)


@given(where=st.sampled_from(ALL_PATHS), replacement=json_values)
def test_mutated_rule_sets_load_or_raise_a_valueroute_error(
    where: tuple[Any, ...], replacement: Any
) -> None:
    data = mutated(where, replacement)
    outcome_or_error(lambda: load_rules(data))
    try:
        text = json.dumps(data)
    except ValueError:
        return
    outcome_or_error(lambda: parse_rules(text, format="json").compile())


@given(document=json_values)
def test_arbitrary_documents_raise_a_valueroute_error(document: Any) -> None:
    try:
        text = json.dumps(document)
    except ValueError:
        return
    outcome_or_error(lambda: parse_rules(text, format="json").compile())
    outcome_or_error(lambda: parse_rules(yaml.safe_dump(document), format="yaml").compile())


@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_raise_a_valueroute_error(raw: bytes) -> None:
    for file_format in ("toml", "json", "yaml"):
        outcome_or_error(lambda f=file_format: parse_rules(raw, format=f).compile())


@given(cut=st.integers(0, len(EXAMPLE.read_bytes())))
def test_truncated_example_raises_a_valueroute_error(cut: int) -> None:
    outcome_or_error(lambda: parse_rules(EXAMPLE.read_bytes()[:cut]).compile())


def test_hostile_documents_are_refused_quickly() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    outcome_or_error(lambda: parse_rules(deep, format="json").compile())
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12)
    )
    outcome_or_error(lambda: parse_rules(bomb, format="yaml").compile())
    outcome_or_error(lambda: parse_rules("x" * 2_000_000, format="toml").compile())
