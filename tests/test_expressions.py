"""Requirement expressions: what they mean, their canonical text, and what they refuse."""

from __future__ import annotations

import gc
import pickle
import re
import threading
import time
import weakref
from typing import Any

import pytest
from pydantic import Field

from valueroute import models, rules
from valueroute.errors import InvalidInputError, LimitExceededError, ValueRouteError
from valueroute.expressions import (
    KEYWORDS,
    MAX_AGENT_ATTRIBUTES,
    MAX_ATTRIBUTE_NAME,
    MAX_ATTRIBUTE_TEXT,
    MAX_DEPTH,
    MAX_LIST,
    MAX_NODES,
    MAX_PATTERN,
    MAX_PROGRAM_SIZE,
    MAX_SET_ITEM,
    MAX_SET_ITEMS,
    MAX_SOURCE,
    AgentAttributes,
    Expression,
    Requirement,
    check_agent_attributes,
    compile_expression,
)
from valueroute.models import BoundaryModel

ANN = {
    "language": "fr",
    "region": "EU",
    "trainee": False,
    "years": 3,
    "languages": ["fr", "spanish"],
    "team": "support-billing",
}
BOB = {"language": "en", "region": "US", "trainee": True, "years": 1, "certified_level3": True}
CAROL: dict[str, Any] = {}


# ---------------------------------------------------------------------- meaning


@pytest.mark.parametrize(
    ("source", "ann", "bob", "carol"),
    [
        ('language == "fr" and region in ["EU", "UK"] and not trainee', True, False, False),
        ("years >= 2 or certified_level3", True, True, False),
        ('"spanish" in languages', True, False, False),
        ('matches(team, "^support-")', True, False, False),
        ("not trainee", True, False, True),
        ("trainee", False, True, False),
        ("trainee == false", True, False, False),
        ("trainee != true", True, False, False),
        ("years < 2", False, True, False),
        ("not years >= 2", False, True, True),
        ('region not in ["EU", "UK"]', False, True, False),
        ('"german" not in languages', True, False, False),
        ('language != "fr"', False, True, False),
        ("true", True, True, True),
        ("false or not false", True, True, True),
    ],
)
def test_the_guide_examples_hold_for_three_agents(
    source: str, ann: bool, bob: bool, carol: bool
) -> None:
    expression = compile_expression(source)
    assert (expression(ANN), expression(BOB), expression(CAROL)) == (ann, bob, carol)


@pytest.mark.parametrize(
    ("source", "attributes"),
    [
        ("years == 2", {"years": "2"}),
        ('years == "2"', {"years": 2}),
        ("flag == 1", {"flag": True}),
        ("flag", {"flag": 1}),
        ("flag", {"flag": "true"}),
        ('language == "fr"', {"language": ["fr"]}),
        ('"fr" in language', {"language": "fr"}),
        ('"fr" in language', {"language": "french"}),
        ("years in [1, 2]", {"years": True}),
        ("flag in [true]", {"flag": 1}),
        ('region < "Z"', {"region": 1}),
        ("years > 1", {"years": "9"}),
        ('matches(team, "a")', {"team": 97}),
        ("years >= 1", {"years": None}),
    ],
)
def test_values_are_never_converted_between_kinds(source: str, attributes: dict[str, Any]) -> None:
    expression = compile_expression(source)
    assert expression(attributes) is False
    assert compile_expression(f"not ({source})")(attributes) is True


def test_a_comparison_on_a_missing_attribute_is_false_and_its_negation_true() -> None:
    for source in ("x == 1", "x != 1", "x < 1", 'x in ["a"]', 'x not in ["a"]', '"a" not in x'):
        assert compile_expression(source)({}) is False, source
        assert compile_expression(f"not ({source})")({}) is True, source


def test_numbers_compare_exactly_across_int_and_float() -> None:
    assert compile_expression("n == 2")({"n": 2.0})
    assert compile_expression("n == 2.0")({"n": 2})
    assert compile_expression("n in [2, 3]")({"n": 3.0})
    assert not compile_expression("n == 9007199254740992")({"n": 9007199254740993})
    assert compile_expression("n > 9007199254740992")({"n": 9007199254740993})
    assert compile_expression("n >= -0.5")({"n": 0})


def test_text_orders_by_code_point_and_is_not_normalised() -> None:
    assert compile_expression('name < "b"')({"name": "a"})
    assert not compile_expression('name < "B"')({"name": "a"})  # lower case sorts after
    ligature = compile_expression('word == "\ufb01"')  # the ligature fi
    assert ligature({"word": "\ufb01"})
    assert not ligature({"word": "fi"})
    decomposed = compile_expression('city == "Zu\\u0308rich"')
    assert not decomposed({"city": "Z\u00fcrich"})


def test_set_attributes_may_be_lists_tuples_or_sets() -> None:
    has_fr = compile_expression('"fr" in languages')
    for languages in (["fr"], ("en", "fr"), {"fr"}, frozenset({"fr", "de"})):
        assert has_fr({"languages": languages})
    assert not has_fr({"languages": ["FR"]})
    assert compile_expression('"fr" not in languages')({"languages": []})


def test_matches_searches_a_text_or_any_member_of_a_set() -> None:
    support = compile_expression('matches(team, "^support-")')
    assert support({"team": ["sales", "support-eu"]})
    assert not support({"team": ["sales", "eu-support-"]})
    assert compile_expression('matches(team, "port")')({"team": "support"})
    assert not compile_expression('matches(team, "^port$")')({"team": "support"})
    assert compile_expression('matches(code, "\\d{3}")')({"code": "ab123"})


def test_evaluation_never_raises_whatever_the_values() -> None:
    expression = compile_expression(
        'a == 1 or b < "x" or c in [1] or "x" in d or matches(e, ".") or f or not g'
    )
    odd: list[Any] = [None, {"k": 1}, object(), float("nan"), b"x", [1, None], ("\ud800",)]
    for value in odd:
        attributes = dict.fromkeys("abcdefg", value)
        assert expression(attributes) in (True, False)
    # A text holding a lone surrogate (only unchecked attributes can) is searched all the same.
    assert compile_expression('matches(e, "b")')({"e": "a\ud800b"})


def test_the_names_read_are_reported() -> None:
    expression = compile_expression(
        'language == "fr" and (region in ["EU"] or matches(team, "x")) and not trainee or true'
    )
    assert expression.names == {"language", "region", "team", "trainee"}
    assert compile_expression("true").names == frozenset()


def test_an_expression_reads_only_the_attributes_it_names() -> None:
    class Recording(dict[str, Any]):
        read: list[str]

        def get(self, key: str, default: Any = None) -> Any:
            self.read.append(key)
            return super().get(key, default)

    attributes = Recording(a=1, b=2, c=3)
    attributes.read = []
    compile_expression("a == 1 and b == 2")(attributes)
    assert set(attributes.read) <= {"a", "b"}


# ---------------------------------------------------------------------- canonical text


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("language=='fr'", 'language == "fr"'),
        ("2 <= years", "years >= 2"),
        ('"fr" == language', 'language == "fr"'),
        ("x == 2.0", "x == 2"),
        ("x == 1e3", "x == 1000"),
        ("x == -0.0", "x == 0"),
        ("x == 2.5e0", "x == 2.5"),
        ("x == 1e300", "x == 1e+300"),
        ("flag == True", "flag"),
        ("flag != true", "flag == false"),
        ("flag != False", "flag"),
        ("r in ['UK', 'EU', 'UK']", 'r in ["EU", "UK"]'),
        ("n not in [3, 1.0, 2]", "n not in [1, 2, 3]"),
        ("a and (b and c)", "a and b and c"),
        ("(a or b) or (c)", "a or b or c"),
        ("a and (b or c)", "a and (b or c)"),
        ("not (a and b)", "not (a and b)"),
        ("not  not\na", "not not a"),
        ("matches( team ,'^s' )", 'matches(team, "^s")'),
        ("s == 'say \"hi\"'", 's == "say \\"hi\\""'),
        ('s == "\\d\\n\\\\n"', 's == "\\d\\n\\\\n"'),
        ('s == "\\u200b"', 's == "\\u200b"'),
        ('s == "caf\\u00e9"', 's == "café"'),
    ],
)
def test_the_canonical_text(source: str, canonical: str) -> None:
    expression = compile_expression(source)
    assert expression.source == canonical
    assert compile_expression(canonical) is expression


def test_equal_canonical_texts_are_one_interned_object() -> None:
    first = compile_expression("region in ['UK','EU'] and years>=2")
    second = compile_expression('years >= 2 and region in ["EU", "UK"]')
    same = compile_expression('region in ["EU", "UK"] and years >= 2')
    assert same is first
    assert second is not first  # and is not reordered: evaluation order is the writer's
    assert len({first, same, compile_expression("years >= 2")}) == 2
    assert first == same
    assert first != second
    assert first != "years >= 2"


def test_an_unused_expression_is_not_kept() -> None:
    expression = compile_expression("kept_only_while_used == 1")
    ref = weakref.ref(expression)
    del expression
    gc.collect()
    assert ref() is None


def test_an_expression_is_immutable_and_pickles_by_its_text() -> None:
    expression = compile_expression("years >= 2 or certified_level3")
    with pytest.raises(AttributeError):
        expression.source = "true"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(expression))
    assert copy is expression
    assert repr(expression) == "Expression('years >= 2 or certified_level3')"


def test_compiling_from_many_threads_gives_one_object() -> None:
    results: list[Expression] = []

    def compile_many() -> None:
        for _ in range(200):
            results.append(compile_expression("threads == 1 and not shared"))

    threads = [threading.Thread(target=compile_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(result) for result in results}) == 1


def test_no_text_of_the_expression_becomes_code() -> None:
    expression = compile_expression(
        "x == \"__import__('os').system('true')\" or matches(y, \"'; import os\")"
    )
    code = expression.predicate.__code__
    assert "__import__" not in code.co_names
    assert "os" not in code.co_names
    assert expression.predicate.__globals__["__builtins__"] == {}
    assert expression({"x": "__import__('os').system('true')"})


# ---------------------------------------------------------------------- refusals


def refused(source: Any, error: type[InvalidInputError] = InvalidInputError) -> str:
    """Compile ``source`` expecting a refusal of that class within one second; the message."""
    start = time.perf_counter()
    with pytest.raises(error) as caught:
        compile_expression(source, field="TaskSpec.requires")
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"took {elapsed:.2f} s to refuse {source!r:.80}"
    message = str(caught.value)
    assert message.startswith("TaskSpec.requires: got "), message
    assert "expected" in message
    assert len(message) < 1000
    ((field, value, expected),) = caught.value.errors
    assert field == "TaskSpec.requires"
    assert value is source
    assert expected
    return message


HOSTILE_LIMITS = {
    "parentheses 2,000 deep": "(" * 2000 + "a" + ")" * 2000,
    "parentheses one level too deep": "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
    "not 33 times": "not " * (MAX_DEPTH + 1) + "a",
    "not 1,000 times": "not " * 1000 + "a",
    "a long or chain": " or ".join(["a"] * (MAX_NODES + 1)),
    "a long and chain of comparisons": " and ".join(["x==1"] * 300),
    "a long text": "a" * (MAX_SOURCE + 1),
    "a megabyte": "x == 1 or " * 100_000 + "true",
    "a huge text literal": 'x == "' + "a" * 5000 + '"',
    "a number of 401 digits": "x == " + "9" * 401,
    "an integer beyond float range": "x == " + "9" * 400,
    "a float beyond float range": "x == 1e400",
    "a negative float beyond float range": "x > -1.8e308",
    "a list of 1,001 items": "x in [" + ",".join(["1"] * (MAX_LIST + 1)) + "]",
    "a pattern of 1,001 characters": 'matches(x, "' + "a" * (MAX_PATTERN + 1) + '")',
    "a pattern with a large program": 'matches(x, "a{1000}")',
    "a pattern with nested counts": 'matches(x, "(a{10}){100}")',
    "a name no agent can have": "a" * (MAX_ATTRIBUTE_NAME + 1) + " == 1",
}


@pytest.mark.parametrize("source", HOSTILE_LIMITS.values(), ids=HOSTILE_LIMITS.keys())
def test_hostile_expressions_beyond_a_limit_are_refused_quickly(source: str) -> None:
    refused(source, LimitExceededError)


def test_depth_and_size_limits_are_exact() -> None:
    for depth in range(MAX_DEPTH - 1, MAX_DEPTH + 1):
        assert compile_expression("(" * depth + "a" + ")" * depth)({"a": True})
        assert compile_expression("not " * depth + "a")({}) is (depth % 2 == 1)
    refused("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), LimitExceededError)
    assert len(compile_expression(" or ".join(["a"] * (MAX_NODES // 2))).names) == 1
    assert compile_expression("x in [" + ",".join(str(i) for i in range(MAX_LIST)) + "]")(
        {"x": MAX_LIST - 1}
    )


def test_a_text_whose_canonical_form_is_too_long_is_refused() -> None:
    # 500 numbers written short (1e13 scale) whose canonical integers take 16 digits each.
    source = "x in [" + ",".join(f"{i}e13" for i in range(100, 100 + MAX_LIST)) + "]"
    assert len(source) <= MAX_SOURCE
    message = refused(source, LimitExceededError)
    assert "a canonical text of" in message


HOSTILE_SYNTAX = {
    "backreference": ('matches(x, "(a)\\\\1")', "not a linear-time"),
    "lookahead": ('matches(x, "(?=a)a")', "not a linear-time"),
    "unbalanced pattern": ('matches(x, "(a")', "not a linear-time"),
    "full-width letters": ("\uff4c\uff41\uff4e\uff47 == 1", "U+FF4C"),
    "a Cyrillic look-alike": ("l\u0430ng == 1", "CYRILLIC SMALL LETTER A"),
    "a zero-width space outside quotes": ("x\u200b == 1", "U+200B"),
    "a right-to-left override in quotes": ('x == "\u202eabc"', "U+202E"),
    "a zero-width space in quotes": ('x == "a\u200bb"', "U+200B"),
    "a raw tab in quotes": ('x == "a\tb"', "U+0009"),
    "a NUL in quotes": ('x == "a\x00b"', "U+0000"),
    "a lone surrogate": ('x == "\ud800"', "lone surrogate"),
    "an escaped surrogate": ('x == "\\ud800"', "not a Unicode character"),
    "a short escape": ('x == "\\u12"', "hexadecimal"),
    "an unterminated text": ('x == "abc', "does not end"),
    "a text across lines": ('x == "a\nb"', "does not end"),
    "empty": ("", "empty expression"),
    "blank": (" \n\t", "empty expression"),
    "a dangling operator": ("x ==", "the end of the expression"),
    "assignment": ("x = 1", "'='"),
    "a chained comparison": ("1 < x < 3", "chains"),
    "two names": ("x == y", "attribute 'x' and the attribute 'y'"),
    "two literals": ('"a" == "b"', "the text 'a' and the text 'b'"),
    "in a text": ('x in "abc"', "'in' between"),
    "a number in a set": ("2 in tags", "a text: set attributes hold texts"),
    "an ordered boolean": ("x < true", "'<' with a boolean"),
    "a mixed list": ('x in [1, "a"]', "a text in a list of numbers"),
    "an empty list": ("x in []", "empty list"),
    "a nested list": ("x in [[1]]", "literal in the list"),
    "a list alone": ("[1, 2]", "list literal standing alone"),
    "a number alone": ("5", "number literal standing alone"),
    "matches without a pattern": ("matches(x)", "','"),
    "matches on a literal": ('matches("a", "b")', "attribute name as the first argument"),
    "a keyword as a name": ("in == 1", "attribute name"),
    "a trailing and": ("x and", "the end of the expression"),
    "python calls": ("__import__('os')", "'('"),
    "attribute access": ("x.y == 1", "'.'"),
    "a minus before a name": ("-x == 1", "'-' not followed by a number"),
    "an unclosed parenthesis": ("(a or b", "closing the parenthesis"),
}


@pytest.mark.parametrize(("source", "says"), HOSTILE_SYNTAX.values(), ids=HOSTILE_SYNTAX.keys())
def test_malformed_expressions_are_refused_with_the_place_and_the_expectation(
    source: str, says: str
) -> None:
    message = refused(source)
    assert says in message, message


def test_the_message_points_at_the_character() -> None:
    message = refused('language == "fr" and region in ["EU", 5]')
    assert "at character 39" in message
    assert "near '5]'" in message
    assert "expected every item of a list of one kind" in message


@pytest.mark.parametrize("source", [None, b"x == 1", 5, ["x == 1"]])
def test_a_requirement_that_is_not_text_is_refused(source: Any) -> None:
    message = refused(source)
    assert "expected a requirement expression as text" in message


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    # RE2 needs no backtracking: the classic exponential patterns are accepted and fast.
    for pattern in ("(a+)+$", "(a|aa)*c", "(.*a){12}$"):
        expression = compile_expression(f'matches(x, "{pattern}")')
        text = "a" * MAX_ATTRIBUTE_TEXT + "!"
        start = time.perf_counter()
        assert expression({"x": text}) is False
        assert time.perf_counter() - start < 1.0


def test_a_refusal_is_an_error_of_the_library_and_a_value_error() -> None:
    with pytest.raises(ValueRouteError):
        compile_expression("x ==")
    with pytest.raises(ValueError, match="expected"):
        compile_expression("x ==")


def test_the_limits_match_the_rules_and_the_models() -> None:
    assert MAX_PATTERN == rules.MAX_PATTERN
    assert MAX_PROGRAM_SIZE == rules.MAX_PROGRAM_SIZE
    assert MAX_DEPTH == rules.MAX_DEPTH
    assert MAX_ATTRIBUTE_TEXT == models.MAX_ATTRIBUTE_TEXT
    assert MAX_ATTRIBUTE_NAME == models.MAX_ATTRIBUTE_NAME
    assert MAX_AGENT_ATTRIBUTES == models.MAX_ATTRIBUTES


# ---------------------------------------------------------------------- agent attributes


def test_agent_attributes_are_checked_and_sets_become_sorted_lists() -> None:
    checked = check_agent_attributes(
        {"languages": {"fr", "en"}, "certs": ("b", "a"), "years": 4, "rate": 0.5, "lead": True}
    )
    assert checked == {
        "languages": ["en", "fr"],
        "certs": ["b", "a"],
        "years": 4,
        "rate": 0.5,
        "lead": True,
    }
    assert check_agent_attributes({}) == {}


BAD_ATTRIBUTES: dict[str, tuple[Any, str, bool]] = {
    "a name with a dash": ({"certified-level3": True}, "cannot be read by an expression", False),
    "a keyword": ({"in": True}, "cannot be read by an expression", False),
    "a name starting with a digit": ({"3d": True}, "ASCII identifier", False),
    "a non-ASCII name": ({"r\u00e9gion": "EU"}, "ASCII identifier", False),
    "a name that is not text": ({1: "x"}, "is not text", False),
    "a long name": ({"a" * (MAX_ATTRIBUTE_NAME + 1): 1}, "at most 64", True),
    "None": ({"region": None}, "leave a missing attribute out", False),
    "a mapping": ({"region": {"a": 1}}, "of type dict", False),
    "nan": ({"years": float("nan")}, "finite number", False),
    "infinity": ({"years": float("inf")}, "finite number", False),
    "a huge integer": ({"years": 10**400}, "integer of about 401 digits", False),
    "a long text": ({"note": "x" * (MAX_ATTRIBUTE_TEXT + 1)}, "at most 4096", True),
    "a lone surrogate": ({"note": "a\ud800"}, "lone surrogate", False),
    "a set of numbers": ({"tags": [1, 2]}, "expected a set of texts", False),
    "a large set": ({"tags": [str(i) for i in range(MAX_SET_ITEMS + 1)]}, "members", True),
    "a long member": ({"tags": ["x" * (MAX_SET_ITEM + 1)]}, "at most 128", True),
    "a member with a surrogate": ({"tags": ["\udfff"]}, "lone surrogate", False),
    "too many": ({f"a{i}": i for i in range(MAX_AGENT_ATTRIBUTES + 1)}, "at most 64", True),
    "not a mapping": (["a", 1], "expected a mapping", False),
}


@pytest.mark.parametrize(
    ("attributes", "says", "limit"), BAD_ATTRIBUTES.values(), ids=BAD_ATTRIBUTES.keys()
)
def test_bad_agent_attributes_are_refused_naming_the_attribute(
    attributes: Any, says: str, limit: bool
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_agent_attributes(attributes, field="AgentSpec.attributes")
    message = str(caught.value)
    assert message.startswith("AgentSpec.attributes: "), message
    assert says in message, message
    assert isinstance(caught.value, LimitExceededError) is limit
    assert len(message) < 2000


def test_every_problem_is_listed() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_agent_attributes({"a-b": 1, "c": None, "ok": 1, "d": float("nan")})
    assert [field for field, _, _ in caught.value.errors] == ["attributes"] * 3


def test_every_keyword_is_refused_as_a_name() -> None:
    for word in sorted(KEYWORDS):
        with pytest.raises(InvalidInputError, match="cannot be read"):
            check_agent_attributes({word: True})


# ---------------------------------------------------------------------- in boundary models


class AgentLike(BoundaryModel):
    id: str
    attributes: AgentAttributes = Field(default_factory=dict)


class TaskLike(BoundaryModel):
    id: str
    requires: Requirement = None


def test_the_validation_types_drop_into_boundary_models() -> None:
    agent = AgentLike(id="ann", attributes={"languages": {"fr"}, "years": 3, "trainee": False})
    task = TaskLike(id="t", requires='"fr" in languages and years >= 2 and not trainee')
    assert agent.attributes == {"languages": ["fr"], "years": 3, "trainee": False}
    assert type(agent.attributes["trainee"]) is bool
    assert type(agent.attributes["years"]) is int
    assert task.requires is not None
    assert compile_expression(task.requires)(agent.attributes)
    assert TaskLike(id="u").requires is None
    assert AgentLike.model_validate_json(agent.model_dump_json()) == agent
    assert agent.model_dump(mode="json")["attributes"]["languages"] == ["fr"]


def test_boundary_models_name_the_field_the_value_and_the_expectation() -> None:
    with pytest.raises(InvalidInputError) as caught:
        TaskLike(id="t", requires='language == "fr" and')
    message = str(caught.value)
    assert message.startswith("TaskLike.requires: got 'language == \"fr\" and' ("), message
    assert "at the end" in message
    assert "expected an attribute name" in message
    with pytest.raises(LimitExceededError, match=r"TaskLike\.requires: .*nested more than"):
        TaskLike(id="t", requires="(" * 40 + "a" + ")" * 40)
    with pytest.raises(InvalidInputError, match=r"TaskLike\.requires: got 5 "):
        TaskLike(id="t", requires=5)
    with pytest.raises(InvalidInputError, match=r"AgentLike\.attributes: .*'region-1'"):
        AgentLike(id="a", attributes={"region-1": "EU"})
    with pytest.raises(LimitExceededError, match=r"AgentLike\.attributes: .*at most 4096"):
        AgentLike(id="a", attributes={"note": "x" * 5000})


def test_a_pattern_with_braces_is_reported_as_written() -> None:
    with pytest.raises(LimitExceededError) as caught:
        TaskLike(id="t", requires='matches(x, "a{1000}")')
    assert "a{1000}" in str(caught.value)


# ---------------------------------------------------------------------- the guide


GUIDE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_the_guide_python_blocks_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    page = root / "docs" / "expressions.md"
    namespace: dict[str, object] = {"__name__": "__docs__"}
    blocks = GUIDE_BLOCK.findall(page.read_text())
    assert blocks
    for number, code in enumerate(blocks, start=1):
        # As a reader types them: without this module's `from __future__ import annotations`.
        where = f"docs/expressions.md#block{number}"
        exec(compile(code, where, "exec", dont_inherit=True), namespace)


def test_a_pattern_is_right_for_many_distinct_and_long_texts() -> None:
    expression = compile_expression('matches(team, "^support-[a-z]+[0-9]$")')
    texts = [f"{'support' if i % 3 else 'sales'}-{'x' * (i % 200)}{i % 10}" for i in range(6000)]
    for _ in range(2):  # the second pass reads remembered answers where there are some
        for text in texts:
            expected = re.search("^support-[a-z]+[0-9]$", text) is not None
            assert expression({"team": text}) is expected


@pytest.mark.parametrize("text", ["é", "€", "\U0001f600", "\u4e2d"])
def test_a_pattern_reads_characters_not_bytes(text: str) -> None:
    assert compile_expression('matches(x, "^.$")')({"x": text})
    assert compile_expression('matches(x, "^[^a]$")')({"x": text})
    assert not compile_expression('matches(x, "^..$")')({"x": text})
    assert compile_expression(f'matches(x, "^{text}+$")')({"x": text * 3})


def test_subclasses_of_the_value_types_become_plain_values() -> None:
    import enum

    class Region(enum.StrEnum):
        EU = "EU"

    class Level(enum.IntEnum):
        THREE = 3

    checked = check_agent_attributes(
        {"region": Region.EU, "level": Level.THREE, "tags": [Region.EU], "rate": np_float(0.5)}
    )
    assert checked == {"region": "EU", "level": 3, "tags": ["EU"], "rate": 0.5}
    assert [type(value) for value in checked.values()] == [str, int, list, float]
    assert type(checked["tags"][0]) is str  # type: ignore[index]
    assert compile_expression('region == "EU" and level >= 3 and "EU" in tags')(checked)


def np_float(value: float) -> float:
    import numpy as np

    return np.float64(value)  # type: ignore[return-value]
