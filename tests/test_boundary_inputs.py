"""What users hand in at the boundary: text that is not Unicode, numbers no score can carry,
documents that expand without bound, regular expressions too costly to run.

Each input is either refused with a valueroute error that names the field (and
changes nothing), or accepted and then usable everywhere: submitted, scored by
every built-in policy, run through rules, digested.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute._documents import MAX_NESTING, MAX_NODES, DocumentError, parse_document
from valueroute.errors import InvalidInputError, RuleError, ValueRouteError, bounded_repr
from valueroute.journal import DurableEngine
from valueroute.models import (
    MAX_ATTRIBUTE_NUMBER,
    MAX_CAPACITY,
    MAX_PRIORITY,
    MAX_SECONDS,
    MAX_SKILL_LEVEL,
    MAX_VALUE,
)
from valueroute.rules import MAX_PROGRAM_SIZE, RuleSet, load_rules, parse_rules
from valueroute.scoring import (
    AgingPriority,
    CMu,
    CMuTheta,
    Composite,
    EarliestDue,
    Fifo,
    Kleinrock,
    LeastSlack,
    Policy,
    PriorityRamp,
    Ramp,
    StrictPriority,
    ValueAtRisk,
    explain,
)
from valueroute.sim.scenario import parse_scenario
from valueroute.task import Task

ROOT = Path(__file__).resolve().parents[1]
SURROGATE = json.loads('"refund \\ud83d"')  # what a JSON body with a broken emoji decodes to


def rules_on(
    field: str, op: str, value: Any, *, kind: str = "text", then: Any = None
) -> dict[str, Any]:
    attribute = field.removeprefix("attributes.")
    return {
        "name": "boundary",
        "attributes": {attribute: kind} if field.startswith("attributes.") else {},
        "classification": {
            "rules": [
                {
                    "name": "probe",
                    "when": {"field": field, "op": op, "value": value},
                    "then": then or {"priority": 3},
                }
            ]
        },
    }


# ---------------------------------------------------------------------- 1. text


TASK_TEXT_FIELDS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("id", lambda s: {"id": s}),
    ("type", lambda s: {"type": s}),
    ("channel", lambda s: {"channel": s}),
    ("department", lambda s: {"department": s}),
    ("process", lambda s: {"process": s}),
    ("skills", lambda s: {"skills": {s: 1}}),
    ("attributes", lambda s: {"attributes": {s: 1}}),
    ("attributes", lambda s: {"attributes": {"subject": s}}),
]


@pytest.mark.parametrize(("field", "make"), TASK_TEXT_FIELDS)
def test_a_lone_surrogate_is_refused_in_every_text_field_of_a_task(
    field: str, make: Callable[[str], dict[str, Any]]
) -> None:
    with pytest.raises(InvalidInputError, match=rf"TaskSpec\.{field}") as caught:
        TaskSpec(**make(SURROGATE))
    assert caught.value.errors[0][0] == field


AGENT_TEXT_FIELDS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("id", lambda s: {"id": s}),
    ("skills", lambda s: {"skills": {s: 1}}),
    ("capacity", lambda s: {"capacity": {s: 1}}),
    ("department", lambda s: {"department": s}),
    ("team", lambda s: {"team": s}),
]


@pytest.mark.parametrize(("field", "make"), AGENT_TEXT_FIELDS)
def test_a_lone_surrogate_is_refused_in_every_text_field_of_an_agent(
    field: str, make: Callable[[str], dict[str, Any]]
) -> None:
    with pytest.raises(InvalidInputError, match=rf"AgentSpec\.{field}"):
        AgentSpec(**{"id": "ann", **make(SURROGATE)})


def test_valid_text_outside_ascii_is_accepted() -> None:
    text = "réclamation 😀 保险"  # an astral emoji is one code point, not a surrogate pair
    spec = TaskSpec(department=text, skills={text: 1}, attributes={text: text})
    assert spec.attributes[text] == text


def test_a_refused_surrogate_submission_changes_nothing_and_the_engine_goes_on() -> None:
    rules = load_rules(rules_on("attributes.subject", "matches", "(?i)refund"))
    engine = Engine(rules=rules, clock=lambda: 0.0)
    events: list[Any] = []
    engine.subscribe(events.append)
    digest = engine.digest()
    with pytest.raises(InvalidInputError, match="attributes"):
        engine.submit({"id": "t1", "attributes": {"subject": SURROGATE}})
    assert engine.digest() == digest
    assert events == []
    task = engine.submit({"id": "t1", "attributes": {"subject": "refund 😀"}})
    assert task.priority == 3


def test_a_durable_engine_refuses_surrogate_text_and_keeps_taking_commands(
    tmp_path: Path,
) -> None:
    rules = load_rules(rules_on("attributes.subject", "matches", "(?i)refund"))

    def factory(clock: Callable[[], float]) -> Engine:
        return Engine(rules=rules, clock=clock)

    durable = DurableEngine.open(tmp_path / "journal.db", factory, clock=lambda: 0.0)
    try:
        with pytest.raises(InvalidInputError, match="attributes"):
            durable.submit({"id": "t1", "attributes": {"subject": SURROGATE}})
        assert durable.position == 0
        durable.submit(TaskSpec(id="t2", attributes={"subject": "refund"}))
        assert durable.position == 1
    finally:
        durable.close()


def test_an_update_refuses_a_surrogate_skill_name() -> None:
    engine = Engine(clock=lambda: 0.0)
    engine.submit(TaskSpec(id="t1"))
    digest = engine.digest()
    with pytest.raises(InvalidInputError, match="surrogate"):
        engine.update("t1", skills={SURROGATE: 1})
    assert engine.digest() == digest


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("refund", SURROGATE, True),
        ("\ufffd", SURROGATE, True),  # the surrogate reads as the replacement character
        ("^refund .$", SURROGATE, True),
        ("complaint", SURROGATE, False),
        ("refund", "refund", True),
    ],
)
def test_matches_never_raises_on_a_task_record_holding_a_surrogate(
    pattern: str, text: str, found: bool
) -> None:
    # A task record built without TaskSpec can hold any str: rules still never raise.
    rules = load_rules(rules_on("attributes.subject", "matches", pattern))
    task = Task(id="t", seq=0, created=0.0, attributes={"subject": text})
    outcome = rules.apply(task, 0.0)
    assert (outcome.fired == ("probe",)) is found


def test_a_rule_pattern_holding_a_surrogate_is_a_rule_error() -> None:
    # From a mapping, the document check refuses it; from a model, the compiler does.
    with pytest.raises(RuleError, match="surrogate"):
        load_rules(rules_on("type", "matches", "a\ud800"))
    with pytest.raises(RuleError, match=r"probe.*not valid Unicode"):
        load_rules(RuleSet.model_validate(rules_on("type", "matches", "a\ud800")))


def test_a_rule_file_with_a_surrogate_escape_is_a_rule_error() -> None:
    text = json.dumps(rules_on("type", "==", "x"), ensure_ascii=True).replace('"x"', '"\\ud83d"')
    with pytest.raises(RuleError, match="surrogate"):
        parse_rules(text, format="json")


# ---------------------------------------------------------------------- 2. numbers


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"priority": 10**400}, "priority"),
        ({"priority": MAX_PRIORITY + 1}, "priority"),
        ({"priority": -MAX_PRIORITY - 1}, "priority"),
        ({"value": 10**5000}, "value"),
        ({"value": MAX_VALUE * 2}, "value"),
        ({"due": 10**400}, "due"),
        ({"due": MAX_SECONDS * 2}, "due"),
        ({"created": -(10**400)}, "created"),
        ({"skills": {"claims": MAX_SKILL_LEVEL * 2}}, "skills"),
        ({"skills": {"claims": 10**400}}, "skills"),
        ({"attributes": {"n": 10**5000}}, "attributes"),
        ({"attributes": {"n": 10**309}}, "attributes"),
        ({"attributes": {"n": -(10**309)}}, "attributes"),
        ({"attributes": {"n": math.inf}}, "attributes"),
        ({"attributes": {"n": math.nan}}, "attributes"),
    ],
)
def test_numbers_beyond_what_scoring_carries_are_refused_naming_the_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError, match=rf"TaskSpec\.{field}[.\w]*: got ") as caught:
        TaskSpec(**fields)
    assert len(str(caught.value)) < 400


def test_numbers_at_the_bounds_are_accepted() -> None:
    spec = TaskSpec(
        priority=-MAX_PRIORITY,
        value=MAX_VALUE,
        due=MAX_SECONDS,
        created=-MAX_SECONDS,
        skills={"claims": MAX_SKILL_LEVEL},
        attributes={"big": 10**308, "float": MAX_ATTRIBUTE_NUMBER},
    )
    assert spec.priority == -MAX_PRIORITY
    assert AgentSpec(id="bot", capacity={"chat": MAX_CAPACITY}).capacity["chat"] == MAX_CAPACITY


@pytest.mark.parametrize(
    "slots", [MAX_CAPACITY + 1, 10**5000, -1], ids=["over", "huge", "negative"]
)
def test_an_agent_capacity_beyond_the_bound_is_refused(slots: int) -> None:
    with pytest.raises(InvalidInputError, match=r"AgentSpec\.capacity: got "):
        AgentSpec(id="ann", capacity={"voice": slots})


def test_a_refused_huge_priority_changes_nothing() -> None:
    engine = Engine(policy=StrictPriority(), clock=lambda: 0.0)
    events: list[Any] = []
    engine.subscribe(events.append)
    digest = engine.digest()
    with pytest.raises(InvalidInputError, match="priority"):
        engine.submit({"id": "t1", "priority": 10**400})
    with pytest.raises(InvalidInputError, match="attributes"):
        engine.submit({"id": "t1", "attributes": {"n": 10**5000}})
    assert engine.digest() == digest
    assert events == []


@pytest.mark.parametrize(
    "then",
    [
        {"priority": 10**400},
        {"add_priority": 10**16},
        {"value": 10**400},
        {"scale_value": 1e300},
        {"due_in": 1e300},
        {"ramp": {"step": 1, "every": 1e-300}},
        {"ramp": {"step": 1e300, "every": 60}},
    ],
)
def test_rule_actions_beyond_the_bounds_are_rule_errors(then: dict[str, Any]) -> None:
    field = next(iter(then))
    with pytest.raises(RuleError, match=rf"rules\.0\.then\.{field}[.\w]*: got "):
        load_rules(rules_on("type", "==", "claim", then=then))


@pytest.mark.parametrize("literal", [10**400, -(10**400), [1, 10**400]])
def test_a_rule_literal_beyond_float_range_is_a_rule_error(literal: Any) -> None:
    op = "in" if isinstance(literal, list) else ">"
    with pytest.raises(RuleError, match="probe"):
        load_rules(rules_on("priority", op, literal, kind="number"))


def test_a_decision_table_literal_beyond_float_range_is_a_rule_error() -> None:
    table = {
        "name": "t",
        "classification": {
            "rules": [{"name": "probe", "rows": [{"when": {"priority": 10**5000}, "then": {}}]}]
        },
    }
    with pytest.raises(RuleError, match="probe"):
        load_rules(table)


def test_rules_never_take_value_or_priority_past_the_bounds() -> None:
    many = [
        {"name": f"r{i}", "then": {"scale_value": MAX_VALUE, "add_priority": MAX_PRIORITY}}
        for i in range(40)
    ]
    rules = load_rules({"name": "grow", "classification": {"mode": "all", "rules": many}})
    task = Task(id="t", seq=0, created=0.0, value=2.0, priority=1)
    rules.apply(task, 0.0)
    assert task.value == MAX_VALUE
    assert task.priority == MAX_PRIORITY
    segment = CMuTheta(handle_seconds=300, patience_seconds=600).segment(task, 0.0)
    assert math.isfinite(segment.base)


# ---------------------------------------------------------------------- property: all fields

# Strings with surrogates and numbers beyond every bound, into every field.
texts = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
    min_size=0,
    max_size=12,
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**5000), max_value=10**5000),
    st.sampled_from([10**15, 10**15 + 1, -(10**15), 10**308, 10**309, 2**1024]),
    st.floats(),
    st.floats(min_value=-1e13, max_value=1e13),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308, 1e15, 1e12]),
)
scalars = st.one_of(texts, numbers, st.booleans(), st.none())

POLICIES: list[Policy] = [
    Fifo(),
    StrictPriority(),
    AgingPriority(seconds_per_point=60),
    EarliestDue(),
    EarliestDue(due_after=3600),
    LeastSlack(300),
    PriorityRamp(default=Ramp(step=1, every=60, cap=50, overdue_step=5, overdue_every=60)),
    CMu(300),
    Kleinrock(0.01),
    CMuTheta(300, 600),
    ValueAtRisk(600, handle_seconds=300),
    ValueAtRisk(600, handle_seconds=300, mode="linear"),
    Composite([(1.0, Fifo()), (2.0, CMu(300)), (0.5, ValueAtRisk(600, mode="linear"))]),
]
SUBJECT_RULES = load_rules(
    {
        "name": "p",
        "attributes": {"subject": "text", "amount": "number"},
        "classification": {
            "mode": "all",
            "rules": [
                {
                    "name": "words",
                    "when": {"field": "attributes.subject", "op": "matches", "value": "(?i)a"},
                    "then": {"add_priority": 1},
                },
                {
                    "name": "big",
                    "when": {"field": "attributes.amount", "op": ">", "value": 1e6},
                    "then": {"scale_value": 2},
                },
            ],
        },
    }
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.fixed_dictionaries(
        {},
        optional={
            "id": texts,
            "type": texts,
            "channel": texts,
            "department": texts,
            "process": texts,
        },
    ),
    numbers=st.fixed_dictionaries(
        {}, optional={"value": numbers, "priority": numbers, "due": numbers, "created": numbers}
    ),
    skills=st.dictionaries(texts, numbers, max_size=3),
    attributes=st.dictionaries(
        st.one_of(texts, st.sampled_from(["subject", "amount"])), scalars, max_size=4
    ),
)
def test_any_task_is_refused_or_usable_everywhere(
    text: dict[str, Any],
    numbers: dict[str, Any],
    skills: dict[str, Any],
    attributes: dict[str, Any],
) -> None:
    fields = {**text, **numbers, "skills": skills, "attributes": attributes}
    try:
        spec = TaskSpec(**fields)
    except InvalidInputError as exc:
        error: str | None = str(exc)
    else:
        error = None
    if error is not None:
        assert len(error) < 2000
        return
    now = spec.created if spec.created is not None else 0.0
    for policy in POLICIES:
        task = Task.from_spec(spec, seq=0, now=now)
        SUBJECT_RULES.apply(task, now)
        for at in (now, now + 1.0, now + 86_400.0, (task.due or now) + 3600.0):
            segment = policy.segment(task, at)
            assert math.isfinite(segment.base), (policy, segment)
            assert math.isfinite(segment.slope), (policy, segment)
            assert math.isfinite(segment.at(at)), (policy, segment)
            assert math.isfinite(explain(policy, task, at).score)
    engine = Engine(
        policy=AgingPriority(seconds_per_point=60), rules=SUBJECT_RULES, clock=lambda: now
    )
    engine.submit(spec)
    engine.tasklist.top(1, now=now)
    assert len(engine.digest()) > 0


@settings(max_examples=200, deadline=None)
@given(
    agent_id=texts,
    skills=st.dictionaries(texts, numbers, max_size=3),
    capacity=st.dictionaries(texts, numbers, max_size=3),
    team=st.one_of(texts, st.none()),
)
def test_any_agent_is_refused_or_registered(
    agent_id: str, skills: dict[str, Any], capacity: dict[str, Any], team: str | None
) -> None:
    try:
        spec = AgentSpec(id=agent_id, skills=skills, capacity=capacity, team=team)
    except InvalidInputError:
        return
    engine = Engine(clock=lambda: 0.0)
    engine.add_agent(spec, ready=True)
    assert len(engine.digest()) > 0


# ---------------------------------------------------------------------- 5. documents


def yaml_bomb(levels: int = 8) -> str:
    names = "abcdefghijklmnop"
    lines = ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    for previous, current in itertools.pairwise(names[:levels]):
        lines.append(f"{current}: &{current} [{','.join([f'*{previous}'] * 9)}]")
    lines += ["horizon_seconds: 10", f"name: *{names[levels - 1]}"]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 8) -> str:
    names = "abcdefghijklmnop"
    keys = ", ".join(f"k{i}: 1" for i in range(9))
    lines = [f"a: &a {{{keys}}}"]
    for previous, current in itertools.pairwise(names[:levels]):
        lines.append(f"{current}: &{current} {{<<: [{', '.join([f'*{previous}'] * 9)}]}}")
    lines.append("name: x")
    return "\n".join(lines) + "\n"


def run_bounded(code: str, seconds: float = 30.0) -> str:
    """Run ``code`` in a fresh interpreter; a hang is a failure, not a stuck test run."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {seconds} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_yaml_alias_bomb_is_refused_quickly_by_the_scenario_loader() -> None:
    assert len(yaml_bomb().encode()) < 340
    out = run_bounded(
        "import time\n"
        "from valueroute.errors import InvalidInputError\n"
        "from valueroute.sim.scenario import parse_scenario\n"
        f"text = {yaml_bomb()!r}\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    parse_scenario(text, format='yaml')\n"
        "except InvalidInputError as exc:\n"
        "    print(len(str(exc)), time.perf_counter() - start, str(exc))\n"
    )
    length, seconds, message = out.split(" ", 2)
    assert int(length) < 400
    assert float(seconds) < 2.0
    assert str(MAX_NODES) in message


def test_the_cli_refuses_a_yaml_alias_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(yaml_bomb(9))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "valueroute", "simulate", str(bomb)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("valueroute simulate gave no answer within 60 s")
    assert done.returncode != 0
    assert "expands to more than" in done.stdout + done.stderr


@pytest.mark.parametrize("load", ["scenario", "rules", "document"])
def test_a_merge_key_bomb_is_refused_before_it_is_built(load: str) -> None:
    text = merge_bomb()
    start = time.perf_counter()
    if load == "scenario":
        with pytest.raises(InvalidInputError, match="expands to more than"):
            parse_scenario(text, format="yaml")
    elif load == "rules":
        with pytest.raises(RuleError, match="expands to more than"):
            parse_rules(text, format="yaml")
    else:
        with pytest.raises(DocumentError, match="expands to more than"):
            parse_document(text, "yaml")
    assert time.perf_counter() - start < 2.0


def test_shared_yaml_anchors_within_the_limits_still_load() -> None:
    data = parse_document(yaml_bomb(4), "yaml")  # 9**4 values: well within the limit
    assert len(data["name"]) == 9
    merged = parse_document("a: &a {x: 1}\nb: {<<: *a, y: 2}\n", "yaml")
    assert merged["b"] == {"x": 1, "y": 2}


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n"])
def test_a_recursive_yaml_alias_is_refused(text: str) -> None:
    with pytest.raises(DocumentError, match="own anchor"):
        parse_document(text, "yaml")


@pytest.mark.parametrize("format", ["json", "yaml", "toml"])
def test_documents_are_bounded_in_nesting_and_size_in_every_format(format: str) -> None:
    deep = {
        "json": "[" * (MAX_NESTING + 2) + "]" * (MAX_NESTING + 2),
        "yaml": "[" * (MAX_NESTING + 2) + "]" * (MAX_NESTING + 2),
        "toml": "a = " + "[" * (MAX_NESTING + 2) + "]" * (MAX_NESTING + 2),
    }[format]
    with pytest.raises(DocumentError, match=r"nested deeper|not valid"):
        parse_document(deep, format)
    wide = {
        "json": "[" + ",".join(["0"] * (MAX_NODES + 1)) + "]",
        "yaml": "[" + ",".join(["0"] * (MAX_NODES + 1)) + "]",
        "toml": "a = [" + ",".join(["0"] * (MAX_NODES + 1)) + "]",
    }[format]
    with pytest.raises(DocumentError, match="expands to more than"):
        parse_document(wide, format)


@pytest.mark.parametrize(
    "text", ["name: " + "1" * 5000 + "\nhorizon_seconds: 10\n", 'name: "\\ud83d"\n']
)
def test_yaml_scalars_no_program_can_carry_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError, match="Scenario"):
        parse_scenario(text, format="yaml")


@given(
    value=st.recursive(
        st.one_of(
            st.integers(min_value=-(10**6000), max_value=10**6000),
            st.floats(),
            st.text(max_size=500),
            st.binary(max_size=50),
            st.none(),
        ),
        lambda inner: (
            st.lists(inner, max_size=20)
            | st.dictionaries(st.text(max_size=20), inner, max_size=20)
            | st.tuples(inner, inner)
        ),
        max_leaves=200,
    ),
    limit=st.integers(min_value=10, max_value=200),
)
def test_bounded_repr_is_short_and_never_raises(value: Any, limit: int) -> None:
    assert len(bounded_repr(value, limit)) <= limit


def test_bounded_repr_of_an_alias_bomb_is_quick() -> None:
    item: Any = ["lol"] * 9
    for _ in range(12):  # 9**13 values if expanded
        item = [item] * 9
    start = time.perf_counter()
    shown = bounded_repr({"name": item})
    assert time.perf_counter() - start < 0.5
    assert len(shown) <= 80


def test_model_errors_show_a_huge_integer_without_converting_it() -> None:
    with pytest.raises(InvalidInputError, match=r"TaskSpec\.value: got <integer of about 5001"):
        TaskSpec(value=10**5000)


# ---------------------------------------------------------------------- 7. regular expressions


@pytest.mark.parametrize("pattern", ["(.?){500}a{500}", "(.*a){200}", ".{200}"])
def test_patterns_with_a_large_re2_program_are_refused_naming_the_rule(pattern: str) -> None:
    with pytest.raises(RuleError, match=rf"rule 'probe'.*program of size \d+ .*{MAX_PROGRAM_SIZE}"):
        load_rules(rules_on("attributes.subject", "matches", pattern))


def test_a_hundred_keyword_alternation_fits_the_program_bound() -> None:
    words = [f"{chr(97 + i % 26)}{chr(97 + i // 26)}word{i:02d}" for i in range(100)]
    pattern = "(?i)\\b(" + "|".join(words) + ")\\b"
    rules = load_rules(rules_on("attributes.subject", "matches", pattern))
    task = Task(id="t", seq=0, created=0.0, attributes={"subject": f"about {words[42]}"})
    assert rules.apply(task, 0.0).fired == ("probe",)


def test_every_shipped_rule_pattern_fits_the_program_bound() -> None:
    rules = load_rules(ROOT / "examples" / "rules" / "claims.toml")
    assert rules.name
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_rules  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert load_rules(bench_rules.rule_set()).name


def test_loading_never_raises_outside_the_error_tree_for_hostile_literals() -> None:
    for literal in [10**5000, math.nan, math.inf, "\ud800", [10**5000], {"op": 10**5000}]:
        for op in ["==", "in", "matches", "between"]:
            with contextlib.suppress(ValueRouteError):
                load_rules(rules_on("attributes.x", op, literal))


def test_an_error_message_is_bounded_whatever_the_keys_and_the_number_of_problems() -> None:
    with pytest.raises(InvalidInputError, match=r"TaskSpec\.skills\.xxx") as caught:
        TaskSpec(skills={"x" * 100_000: "bad"})
    assert len(str(caught.value)) < 400
    with pytest.raises(InvalidInputError, match=r"and \d+ more") as caught:
        TaskSpec(attributes={str(i): [i] for i in range(1_000)})
    assert len(str(caught.value)) < 3_000
    assert len(caught.value.errors) >= 1_000  # every problem is still listed for the host


@settings(max_examples=60, deadline=None)
@given(
    fanout=st.integers(min_value=1, max_value=12),
    levels=st.integers(min_value=1, max_value=9),
    merge=st.booleans(),
)
def test_aliased_documents_load_or_are_refused_by_their_expanded_size(
    fanout: int, levels: int, merge: bool
) -> None:
    # Level 0 holds `fanout` scalars; each further level repeats the previous one
    # `fanout` times, so the last expands to fanout**(levels + 1) values (and a merge
    # chain copies as many key/value pairs). Far below the limit: loaded; far above: refused.
    names = [f"n{i}" for i in range(levels + 1)]
    if merge:
        keys = ", ".join(f"k{i}: 1" for i in range(fanout))
        lines = [f"{names[0]}: &{names[0]} {{{keys}}}"]
        lines += [
            f"{b}: &{b} {{<<: [{', '.join([f'*{a}'] * fanout)}]}}"
            for a, b in itertools.pairwise(names)
        ]
    else:
        lines = [f"{names[0]}: &{names[0]} [{', '.join(['x'] * fanout)}]"]
        lines += [
            f"{b}: &{b} [{', '.join([f'*{a}'] * fanout)}]" for a, b in itertools.pairwise(names)
        ]
    expanded = sum(fanout ** (level + 1) for level in range(levels + 1))
    start = time.perf_counter()
    try:
        parse_document("\n".join(lines) + "\n", "yaml")
    except DocumentError as exc:
        refused: str | None = str(exc)
    else:
        refused = None
    assert time.perf_counter() - start < 2.0
    if expanded * 3 < MAX_NODES:
        assert refused is None
    if expanded > MAX_NODES:
        assert refused is not None
        assert "expands to more than" in refused
