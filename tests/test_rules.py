"""Rules: operators, semantics, load-time errors, exact next_change, dry run."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from valueroute.errors import RuleError
from valueroute.models import TaskSpec
from valueroute.rules import (
    OPERATORS,
    CompiledRules,
    RuleOutcome,
    dry_run,
    load_rules,
    parse_rules,
)
from valueroute.scoring import PriorityRamp, Ramp, StrictPriority
from valueroute.task import Task

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "rules"

ATTRIBUTES = {"subject": "text", "amount": "number", "vip": "bool", "tier": "text"}


def rules_of(*rules: dict[str, Any], mode: str = "all", **extra: Any) -> CompiledRules:
    return load_rules(
        {
            "name": "test",
            "attributes": ATTRIBUTES,
            "prioritisation": {"mode": mode, "rules": list(rules)},
            **extra,
        }
    )


def task(**fields: Any) -> Task:
    base: dict[str, Any] = {"id": "t", "seq": 0, "created": 0.0}
    base.update(fields)
    return Task(**base)


def fires(condition: dict[str, Any], subject: Task, now: float = 0.0) -> bool:
    compiled = rules_of({"name": "r", "when": condition, "then": {"add_priority": 1}})
    return compiled.apply(subject, now).fired == ("r",)


def cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


# ---------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("type", "==", "claim"), True),
        (cond("type", "!=", "claim"), False),
        (cond("type", "<", "d"), True),
        (cond("type", ">=", "d"), False),
        (cond("type", "in", ["sales", "claim"]), True),
        (cond("type", "not in", ["sales", "claim"]), False),
        (cond("type", "contains", "lai"), True),
        (cond("type", "matches", "^cl.im$"), True),
        (cond("type", "between", ["a", "d"]), True),
        (cond("value", ">", 99.5), True),
        (cond("value", "<=", 99.5), False),
        (cond("value", "between", [100, 100]), True),
        (cond("priority", "in", [1, 2, 3]), True),
        (cond("priority", "not in", [1, 2, 3]), False),
        (cond("attributes.subject", "contains", "Refund"), True),
        (cond("attributes.subject", "matches", "(?i)URGENT"), True),
        (cond("attributes.subject", "matches", "^refund"), False),
        (cond("attributes.amount", ">=", 5000), True),
        (cond("attributes.amount", "between", [0, 4999]), False),
        (cond("attributes.vip", "==", True), True),
        (cond("attributes.vip", "!=", True), False),
        (cond("department", "==", "claims"), False),  # no department: comparisons are false
        (cond("department", "!=", "claims"), False),
        (cond("attributes.tier", "==", "gold"), False),  # missing attribute
        ({"not": cond("attributes.tier", "==", "gold")}, True),
        ({"all": [cond("type", "==", "claim"), cond("value", ">", 1000)]}, False),
        ({"any": [cond("type", "==", "sales"), cond("value", ">", 10)]}, True),
        ({"all": [cond("type", "==", "claim"), {"not": cond("priority", "<", 2)}]}, True),
    ],
)
def test_operator_examples(condition: dict[str, Any], expected: bool) -> None:
    subject = task(
        type="claim",
        value=100.0,
        priority=2,
        attributes={"subject": "Refund please, urgent", "amount": 7000, "vip": True},
    )
    assert fires(condition, subject) is expected


def test_every_operator_has_an_example() -> None:
    source = Path(__file__).read_text()
    for op in OPERATORS:
        assert f'"{op}",' in source, op


def test_attribute_of_another_type_than_declared_is_false_not_an_error() -> None:
    crafted = task(attributes={"amount": "9999999", "subject": 12, "vip": 1})
    assert not fires(cond("attributes.amount", ">", 0), crafted)
    assert not fires(cond("attributes.subject", "matches", ".*"), crafted)
    assert not fires(cond("attributes.vip", "==", True), crafted)
    assert not fires(cond("attributes.amount", ">", 0), task(attributes={"amount": True}))


def test_time_conditions_compare_age_and_time_to_due() -> None:
    subject = task(created=100.0, due=1000.0)
    assert fires(cond("age", ">=", 50), subject, now=150.0)
    assert not fires(cond("age", ">", 50), subject, now=150.0)
    assert fires(cond("time_to_due", "<=", 850), subject, now=150.0)
    assert not fires(cond("time_to_due", "<", 850), subject, now=150.0)
    assert fires(cond("time_to_due", "between", [0, 900]), subject, now=150.0)
    assert not fires(cond("time_to_due", "<", 1e9), task(), now=5.0)  # no due time


# ---------------------------------------------------------------- semantics


def test_first_match_stops_and_all_match_accumulates() -> None:
    rules = [
        {"name": "a", "when": cond("value", ">", 10), "then": {"add_priority": 1}},
        {"name": "b", "when": cond("value", ">", 20), "then": {"add_priority": 10}},
        {"name": "c", "when": cond("value", ">", 1e6), "then": {"add_priority": 100}},
    ]
    first = task(value=50.0)
    assert rules_of(*rules, mode="first").apply(first, 0.0).fired == ("a",)
    assert first.priority == 1
    every = task(value=50.0)
    assert rules_of(*rules, mode="all").apply(every, 0.0).fired == ("a", "b")
    assert every.priority == 11


def test_classification_runs_before_prioritisation_and_later_rules_see_changes() -> None:
    compiled = load_rules(
        {
            "name": "two stages",
            "attributes": ATTRIBUTES,
            "classification": {
                "rules": [
                    {
                        "name": "big",
                        "when": cond("attributes.amount", ">=", 1000),
                        "then": {"type": "large", "value": 500, "skills": {"claims": 3}},
                    }
                ]
            },
            "prioritisation": {
                "rules": [
                    {"name": "large", "when": cond("type", "==", "large"), "then": {"priority": 7}}
                ]
            },
        }
    )
    subject = task(attributes={"amount": 1500})
    outcome = compiled.apply(subject, 0.0)
    assert outcome.fired == ("big", "large")
    assert (subject.type, subject.value, dict(subject.skills), subject.priority) == (
        "large",
        500.0,
        {"claims": 3.0},
        7,
    )
    assert set(outcome.changed) == {"type", "value", "skills", "priority"}


def test_every_action() -> None:
    compiled = rules_of(
        {
            "name": "all actions",
            "then": {
                "department": "claims",
                "process": "intake",
                "skills": {"claims": 2},
                "add_skills": {"german": 1},
                "priority": 4,
                "add_priority": -1,
                "value": 100,
                "add_value": 20,
                "scale_value": 0.5,
                "due_in": 3600,
                "ramp": {"step": 1, "every": 60, "cap": 9},
            },
        }
    )
    subject = task(created=10.0)
    compiled.apply(subject, 10.0)
    assert subject.department == "claims"
    assert subject.process == "intake"
    assert dict(subject.skills) == {"claims": 2.0, "german": 1.0}
    assert subject.priority == 3
    assert subject.value == 60.0
    assert subject.due == 3610.0
    assert subject.ramp == Ramp(step=1, every=60, cap=9)
    assert rules_of({"name": "n", "then": {"add_value": -1e9}}).apply(subject, 10.0).fired
    assert subject.value == 0.0


def test_decision_table_hit_policies() -> None:
    rows = [
        {"name": "gold", "when": {"attributes.tier": "gold"}, "then": {"add_priority": 3}},
        {"when": {"type": "claim", "value": {"op": ">", "value": 10}}, "then": {"add_priority": 1}},
    ]
    gold_claim = task(type="claim", value=50.0, attributes={"tier": "gold"})
    first = rules_of({"name": "tier", "rows": rows})
    assert first.apply(gold_claim, 0.0).fired == ("tier[gold]",)
    every = rules_of({"name": "tier", "rows": rows, "hit": "all"})
    again = task(type="claim", value=50.0, attributes={"tier": "gold"})
    assert every.apply(again, 0.0).fired == ("tier[gold]", "tier[1]")
    assert again.priority == 4


def test_reapplying_from_the_baseline_does_not_compound() -> None:
    compiled = rules_of(
        {"name": "late", "when": cond("age", ">=", 60), "then": {"add_priority": 5}},
        {"name": "bump", "then": {"add_priority": 1, "scale_value": 2}},
    )
    subject = task(value=10.0, priority=1)
    first = compiled.apply(subject, 0.0)
    assert (subject.priority, subject.value, first.next_change) == (2, 20.0, 60.0)
    second = compiled.apply(subject, 60.0, baseline=first.baseline)
    assert second.fired == ("late", "bump")
    assert (subject.priority, subject.value) == (7, 20.0)
    assert second.baseline == first.baseline


def test_apply_spec_returns_the_classified_spec() -> None:
    compiled = load_rules(EXAMPLES / "claims.toml")
    spec = TaskSpec(id="s", type="claim", attributes={"subject": "fraud!", "amount": 10})
    classified = compiled.apply_spec(spec, 0.0)
    assert classified.type == "fraud_review"
    assert classified.department == "special investigations"
    assert classified.due == 14400.0
    assert spec.type == "claim"


# ---------------------------------------------------------------- next_change


def evaluate_directly(spec: tuple[str, str, list[float]], subject: Task, now: float) -> bool:
    """The oracle: a condition on age or time to due, computed the obvious way."""
    field, op, literals = spec
    if field == "age":
        amount = now - subject.created
    else:
        if subject.due is None:
            return False
        amount = subject.due - now
    if op == "between":
        return literals[0] <= amount <= literals[1]
    if op == "in":
        return amount in literals
    if op == "not in":
        return amount not in literals
    return bool(
        {
            "==": amount == literals[0],
            "!=": amount != literals[0],
            "<": amount < literals[0],
            "<=": amount <= literals[0],
            ">": amount > literals[0],
            ">=": amount >= literals[0],
        }[op]
    )


time_conditions = st.tuples(
    st.sampled_from(["age", "time_to_due"]),
    st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "between", "in", "not in"]),
    st.lists(st.integers(-50, 400).map(float), min_size=2, max_size=3).map(sorted),
)


def as_rule(index: int, spec: tuple[str, str, list[float]]) -> dict[str, Any]:
    field, op, literals = spec
    value: Any = literals if op in ("in", "not in") else literals[0]
    if op == "between":
        value = literals[:2]
    return {"name": f"r{index}", "when": cond(field, op, value), "then": {"add_priority": 1}}


@given(
    conds=st.lists(time_conditions, min_size=1, max_size=5),
    created=st.integers(0, 100).map(float),
    due_in=st.none() | st.integers(0, 300).map(float),
    now=st.integers(0, 500).map(float),
    probes=st.lists(st.floats(0, 1), max_size=5),
)
def test_next_change_is_exact(
    conds: list[tuple[str, str, list[float]]],
    created: float,
    due_in: float | None,
    now: float,
    probes: list[float],
) -> None:
    compiled = rules_of(*[as_rule(i, c) for i, c in enumerate(conds)], mode="all")
    due = None if due_in is None else created + due_in
    now = max(now, created)

    def outcome_at(t: float) -> tuple[RuleOutcome, Task]:
        subject = task(created=created, due=due)
        return compiled.apply(subject, t), subject

    outcome, _ = outcome_at(now)
    oracle = tuple(
        f"r{i}"
        for i, c in enumerate(conds)
        if evaluate_directly(c, task(created=created, due=due), now)
    )
    assert outcome.fired == oracle
    change = outcome.next_change
    assert change > now
    if math.isinf(change):
        # Nothing can change: every condition is settled for good.
        for later in (now + 1.0, now + 1e6):
            assert outcome_at(later)[0].fired == oracle
        return
    for fraction in probes:
        t = now + fraction * (change - now)
        if t < change:
            assert outcome_at(t)[0].fired == oracle, t
    assert outcome_at(math.nextafter(change, -math.inf))[0].fired == oracle
    # Every rule is evaluated (all-match, one test each): the flip shows in the outcome.
    assert outcome_at(change)[0].fired != oracle


@given(
    conds=st.lists(time_conditions, min_size=1, max_size=4),
    now=st.floats(0, 1e4),
)
def test_rule_evaluation_is_deterministic(
    conds: list[tuple[str, str, list[float]]], now: float
) -> None:
    compiled = rules_of(*[as_rule(i, c) for i, c in enumerate(conds)], mode="first")
    first, second = task(created=3.0, due=400.0), task(created=3.0, due=400.0)
    a, b = compiled.apply(first, now), compiled.apply(second, now)
    assert (a.fired, a.next_change, a.changed) == (b.fired, b.next_change, b.changed)
    assert first.priority == second.priority


# ---------------------------------------------------------------- load-time errors


@pytest.mark.parametrize(
    ("rule", "fragments"),
    [
        (
            {"name": "x", "when": cond("type", "like", "a"), "then": {"priority": 1}},
            ["'x'", "like"],
        ),
        (
            {"name": "x", "when": cond("priority", "==", "high"), "then": {"priority": 1}},
            ["'high'"],
        ),
        ({"name": "x", "when": cond("colour", "==", "red"), "then": {"priority": 1}}, ["colour"]),
        (
            {"name": "x", "when": cond("attributes.vat", "==", 1), "then": {"priority": 1}},
            ["attributes.vat", "declare"],
        ),
        (
            {"name": "x", "when": cond("attributes.subject", "matches", "("), "then": {"value": 1}},
            ["RE2", "missing )"],
        ),
        (
            {"name": "bref", "when": cond("type", "matches", r"(a)\1"), "then": {"value": 1}},
            ["bref", "backreferences"],
        ),
        (
            {"name": "look", "when": cond("type", "matches", "(?=a)"), "then": {"value": 1}},
            ["look", "lookaround"],
        ),
        ({"name": "x", "when": cond("value", "contains", 3), "then": {"value": 1}}, ["contains"]),
        ({"name": "x", "when": cond("value", "between", [5, 1]), "then": {"value": 1}}, ["low"]),
        ({"name": "x", "when": cond("value", "in", []), "then": {"value": 1}}, ["list"]),
        ({"name": "x", "when": cond("attributes.vip", "<", True), "then": {"value": 1}}, ["bool"]),
        ({"name": "x", "when": {"field": "type"}, "then": {"value": 1}}, ["field and op"]),
        (
            {"name": "x", "when": {"all": [], "any": []}, "then": {"value": 1}},
            ["exactly one"],
        ),
        ({"name": "x", "then": {}}, ["no actions"]),
        ({"name": "x"}, ["then"]),
        (
            {
                "name": "tbl",
                "rows": [
                    {"when": {"type": "a"}, "then": {"priority": 1}},
                    {"when": {"type": "a"}, "then": {"priority": 2}},
                ],
            },
            ["tbl", "rows[1]", "contradictory"],
        ),
        (
            {"name": "x", "then": {"ramp": {"step": 1, "every": -5}}},
            ["ramp", "every"],
        ),
    ],
)
def test_bad_rules_fail_at_load_time_naming_rule_and_field(
    rule: dict[str, Any], fragments: list[str]
) -> None:
    with pytest.raises(RuleError) as caught:
        rules_of(rule)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_duplicate_rule_names_are_refused() -> None:
    rule = {"name": "same", "then": {"priority": 1}}
    with pytest.raises(RuleError, match="used twice"):
        rules_of(rule, rule)


def test_structural_errors_are_rule_errors() -> None:
    with pytest.raises(RuleError, match="priority"):
        rules_of({"name": "x", "then": {"priority": "high"}})
    with pytest.raises(RuleError, match="not valid toml"):
        parse_rules("name = ", format="toml")
    with pytest.raises(RuleError, match="suffix"):
        load_rules("rules.ini")
    with pytest.raises(RuleError, match="cannot be read"):
        load_rules("missing-rules.toml")


# ---------------------------------------------------------------- formats, dry run


def test_toml_json_and_yaml_load_the_same_rules(tmp_path: Path) -> None:
    from_toml = parse_rules((EXAMPLES / "claims.toml").read_text())
    data = from_toml.model_dump(by_alias=True, exclude_none=True)
    (tmp_path / "claims.json").write_text(json.dumps(data))
    (tmp_path / "claims.yaml").write_text(yaml.safe_dump(data))
    subjects = [
        TaskSpec.model_validate_json(line)
        for line in (EXAMPLES / "tasks.jsonl").read_text().splitlines()
    ]
    orders = []
    for path in (EXAMPLES / "claims.toml", tmp_path / "claims.json", tmp_path / "claims.yaml"):
        rows = dry_run(load_rules(path), StrictPriority(), subjects, now=5400.0)
        orders.append([(row.task.id, row.score, row.explanation.rules) for row in rows])
    assert orders[0] == orders[1] == orders[2]


def test_dry_run_orders_classified_tasks_by_the_policy() -> None:
    compiled = load_rules(EXAMPLES / "claims.toml")
    subjects = [
        TaskSpec.model_validate_json(line)
        for line in (EXAMPLES / "tasks.jsonl").read_text().splitlines()
    ]
    policy = PriorityRamp()
    rows = dry_run(compiled, policy, subjects, now=5400.0)
    assert sorted(row.task.id for row in rows) == sorted(s.id for s in subjects)
    # Independent check: classify copies by hand and sort by (score desc, created, seq).
    expected = []
    for seq, spec in enumerate(subjects):
        record = Task.from_spec(spec, seq=seq, now=5400.0)
        compiled.apply(record, 5400.0)
        expected.append((-policy.segment(record, 5400.0).at(5400.0), record.created, seq, spec.id))
    assert [row.task.id for row in rows] == [item[3] for item in sorted(expected)]
    assert [row.rank for row in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert row.explanation.score == row.score
        assert row.explanation.task_id == row.task.id


def test_rules_do_not_mutate_their_source_mapping() -> None:
    source = {
        "name": "m",
        "prioritisation": {"rules": [{"name": "a", "then": {"priority": 1}}]},
    }
    snapshot = copy.deepcopy(source)
    load_rules(source)
    assert source == snapshot


keyed_rules = st.lists(
    st.tuples(
        st.sampled_from(["claim", "sales", "other", None]),
        st.sampled_from(["value", "age", "time_to_due"]),
        st.integers(0, 300).map(float),
    ),
    min_size=1,
    max_size=12,
)


def keyed_rule_set(spec: list[tuple[str | None, str, float]], mode: str, hide: bool) -> Any:
    rules = []
    for index, (task_type, field, amount) in enumerate(spec):
        tests = [cond(field, ">=", amount)]
        if task_type is not None:
            key = cond("type", "==", task_type)
            # Wrapped in a one-element "any": a different expression, the same meaning.
            tests.insert(0, {"any": [key]} if hide else key)
        rules.append({"name": f"k{index}", "when": {"all": tests}, "then": {"add_priority": 1}})
    return rules_of(*rules, mode=mode)


@given(
    spec=keyed_rules,
    mode=st.sampled_from(["first", "all"]),
    task_type=st.sampled_from(["claim", "sales", "misc"]),
    now=st.integers(0, 400).map(float),
)
def test_a_test_wrapped_in_a_one_element_any_gives_the_same_outcome(
    spec: list[tuple[str | None, str, float]], mode: str, task_type: str, now: float
) -> None:
    indexed = keyed_rule_set(spec, mode, hide=False)
    scanned = keyed_rule_set(spec, mode, hide=True)
    a, b = (
        task(type=task_type, value=150.0, due=250.0),
        task(type=task_type, value=150.0, due=250.0),
    )
    first, second = indexed.apply(a, now), scanned.apply(b, now)
    assert (first.fired, first.next_change) == (second.fired, second.next_change)
    assert a.priority == b.priority


def test_rule_text_never_becomes_code() -> None:
    hostile = '") or __import__("os").system("false") or ("'
    compiled = rules_of(
        {
            "name": hostile,
            "when": cond("attributes.subject", "==", hostile),
            "then": {"department": hostile},
        }
    )
    plain = task(attributes={"subject": "hello"})
    assert compiled.apply(plain, 0.0).fired == ()
    crafted = task(attributes={"subject": hostile})
    assert compiled.apply(crafted, 0.0).fired == (hostile,)
    assert crafted.department == hostile


@pytest.mark.parametrize(("depth", "loads"), [(32, True), (33, False)])
def test_nesting_is_limited_at_load_time(depth: int, loads: bool) -> None:
    condition: dict[str, Any] = cond("attributes.subject", "between", ["a", "b"])
    for level in range(depth):
        condition = [{"all": [condition]}, {"any": [condition]}, {"not": condition}][level % 3]
    rule = {"name": "deep", "when": condition, "then": {"priority": 1}}
    if loads:
        subject = task(attributes={"subject": "abc"})  # "a" <= "abc" <= "b": true
        negations = sum(1 for level in range(depth) if level % 3 == 2)
        expected = ("deep",) if negations % 2 == 0 else ()
        assert rules_of(rule).apply(subject, 0.0).fired == expected
    else:
        with pytest.raises(RuleError, match="nested deeper than 32"):
            rules_of(rule)


def test_a_rule_set_with_many_problems_is_refused_in_one_bounded_line() -> None:
    # Found by the hostile-input fuzzer: every field wrong at once made a
    # message of 609 characters. The first problems are quoted, then a note.
    from valueroute import RuleError, load_rules

    document = {
        "classification": None,
        "version": b"\x80",
        "prioritisation": -11691790091195238039398063304547537673632400539648,
        "rules": -10000,
    }
    with pytest.raises(RuleError) as info:
        load_rules(document)
    message = str(info.value)
    assert message.startswith("rule set: RuleSet.name: got nothing")
    assert len(message) <= 600
    assert "(and more problems)" in message
