"""Random requirement expressions against a brute-force interpreter written here.

The test has its own expression tree, renders it to text in many spellings
(spacing, quotes, parentheses, literal on either side, number forms), and
evaluates the tree directly with the semantics the guide states. The
compiled expression must agree on random attribute maps, read exactly the
tree's names, give every spelling the same canonical object, and refuse
exactly the texts nested beyond the documented depth.
"""

from __future__ import annotations

import math
import operator
import re
import sys
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from valueroute.errors import InvalidInputError, LimitExceededError
from valueroute.expressions import (
    KEYWORDS,
    MAX_DEPTH,
    Expression,
    check_agent_attributes,
    compile_expression,
)

NAMES = ["a", "b", "lang", "years", "tags", "team", "flag"]
TEXTS = ["", "a", "ab", "b", "é", "fr", "Fr", 'q"', "x'y", "a\\b", "tab\t", "a\\n", "end\\"]
NUMBERS = [0, 1, -1, 2, 3, 1.5, -0.5, 2.0, 1e300, -1e-300, 2**53, 2**53 + 1, float(2**53)]
COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
MIRRORED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

# Patterns on which Python's re and RE2 agree: literals, ., classes, quantifiers,
# anchors, alternation.
atoms = st.sampled_from(["a", "b", "é", ".", "[ab]", "[^a]", "(a|b)", "(ab|é)"])
pieces = st.tuples(atoms, st.sampled_from(["", "*", "+", "?"])).map("".join)
patterns = st.tuples(
    st.sampled_from(["", "^"]), st.lists(pieces, min_size=1, max_size=4), st.sampled_from(["", "$"])
).map(lambda parts: parts[0] + "".join(parts[1]) + parts[2])

names = st.sampled_from(NAMES)
texts = st.sampled_from(TEXTS)
numbers = st.sampled_from(NUMBERS) | st.integers(-5, 5) | st.floats(-4, 4, allow_nan=False)
scalars = texts | numbers | st.booleans()

leaves = st.one_of(
    st.tuples(st.just("const"), st.booleans()),
    st.tuples(st.just("name"), names),
    st.tuples(st.just("cmp"), names, st.sampled_from(sorted(COMPARISONS)), texts | numbers),
    st.tuples(st.just("cmp"), names, st.sampled_from(["==", "!="]), st.booleans()),
    st.tuples(
        st.just("in"),
        names,
        st.one_of(
            st.lists(texts, min_size=1, max_size=4),
            st.lists(numbers, min_size=1, max_size=4),
            st.lists(st.booleans(), min_size=1, max_size=2),
        ),
        st.booleans(),
    ),
    st.tuples(st.just("has"), names, texts, st.booleans()),
    st.tuples(st.just("matches"), names, patterns),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=4)),
    ),
    max_leaves=14,
)

set_values = st.lists(texts, max_size=4) | st.lists(texts, max_size=3).map(tuple)
set_values |= st.frozensets(texts, max_size=3)
values = st.one_of(
    scalars,
    set_values,
    st.none(),
    st.just({"nested": 1}),
    st.just(float("inf")),
    st.just(b"fr"),
    st.just(["fr", 1, None]),
)


# ---------------------------------------------------------------------- the oracle


def kind(value: Any) -> str | None:
    """The kind the guide gives a value; None for anything that counts as missing."""
    if type(value) is bool:
        return "boolean"
    if type(value) is str:
        return "text"
    if type(value) in (int, float):
        return "number"
    if type(value) in (list, tuple, set, frozenset):
        return "set"
    return None


def evaluate(tree: tuple[Any, ...], attributes: dict[str, Any]) -> bool:
    """The guide's semantics, read directly off the tree."""
    tag = tree[0]
    if tag == "const":
        return bool(tree[1])
    if tag == "not":
        return not evaluate(tree[1], attributes)
    if tag == "and":
        return all(evaluate(t, attributes) for t in tree[1])
    if tag == "or":
        return any(evaluate(t, attributes) for t in tree[1])
    value = attributes.get(tree[1])
    if tag == "name":
        return value is True
    if tag == "cmp":
        _, _, op, literal = tree
        if kind(value) != kind(literal):
            return False
        return bool(COMPARISONS[op](value, literal))
    if tag == "in":
        _, _, items, negated = tree
        if kind(value) != kind(items[0]):
            return False
        member = any(value == item for item in items)
        return member != negated
    if tag == "has":
        _, _, text, negated = tree
        if kind(value) != "set":
            return False
        member = any(item == text for item in value)
        return member != negated
    assert tag == "matches"
    pattern = tree[2]
    if kind(value) == "text":
        return re.search(pattern, value) is not None
    if kind(value) == "set":
        return any(type(item) is str and re.search(pattern, item) for item in value)
    return False


def tree_names(tree: tuple[Any, ...]) -> set[str]:
    tag = tree[0]
    if tag == "const":
        return set()
    if tag == "not":
        return tree_names(tree[1])
    if tag in ("and", "or"):
        return set().union(*(tree_names(t) for t in tree[1]))
    return {tree[1]}


def relevant_values(tree: tuple[Any, ...], found: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Per name, values near the tree's literals: so that conditions are often true too."""
    tag = tree[0]
    if tag == "const":
        return found
    if tag == "not":
        return relevant_values(tree[1], found)
    if tag in ("and", "or"):
        for t in tree[1]:
            relevant_values(t, found)
        return found
    near = found.setdefault(tree[1], [])
    if tag == "name":
        near += [True, True, False, 1]
    elif tag == "cmp":
        literal = tree[3]
        near.append(literal)
        if isinstance(literal, bool):
            near += [not literal, int(literal)]
        elif isinstance(literal, str):
            near += [literal + "a", literal[:-1], [literal]]
        else:
            near += [literal + 1, literal - 0.5, float(literal), str(literal)]
    elif tag == "in":
        near += [*tree[2], [tree[2][0]]]
    elif tag == "has":
        near += [[tree[2]], (tree[2], "zz"), frozenset({tree[2]}), ["zz"], tree[2]]
    else:
        near += ["ab", "ba", "é", "xbx", ["b", "aa"], ("ccc",)]
    return found


@st.composite
def maps_for(draw: Any, tree: tuple[Any, ...]) -> dict[str, Any]:
    near = relevant_values(tree, {})
    attributes = {}
    for name in NAMES:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            continue
        if choice == 1:
            attributes[name] = draw(values)
        else:
            attributes[name] = draw(st.sampled_from(near.get(name) or [None]))
    return attributes


# ---------------------------------------------------------------------- spelling


class Speller:
    """Renders a tree as text, spelling each part one of the ways the grammar allows."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.deepest = 0

    def choose(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def flip(self) -> bool:
        return bool(self.draw(st.booleans()))

    def optional_parentheses(self) -> bool:
        return bool(self.draw(st.integers(0, 5)) == 0)

    def space(self) -> str:
        return str(self.choose([" ", "  ", "\n", "\t "]))

    def tight(self) -> str:
        return str(self.choose(["", " ", "\n"]))

    def text(self, value: str) -> str:
        quote = self.choose(['"', "'"])
        out = []
        for char in value:
            if char == quote or char == "\\":
                out.append("\\" + char)
            elif char == "\t":
                out.append(self.choose(["\\t", "\\u0009"]))
            elif char == "é" and self.flip():
                out.append("\\u00e9")
            else:
                out.append(char)
        return quote + "".join(out) + quote

    def number(self, value: int | float) -> str:
        forms = [repr(value)]
        if isinstance(value, int) and abs(value) < 2**53:
            forms += [f"{value}.0", f"{value}e0"]
        if isinstance(value, float):
            forms.append(format(value, ".17e"))
        return self.choose(forms)

    def literal(self, value: Any) -> str:
        if isinstance(value, bool):
            return self.choose(["true", "True"] if value else ["false", "False"])
        if isinstance(value, str):
            return self.text(value)
        return self.number(value)

    def spell(self, tree: tuple[Any, ...], depth: int, context: str) -> str:
        """``context``: what encloses the tree ('top', 'or', 'and', 'not')."""
        self.deepest = max(self.deepest, depth)
        tag = tree[0]
        needs = (tag == "or" and context in ("and", "not")) or (tag == "and" and context == "not")
        wrap = needs or self.optional_parentheses()
        if wrap:
            depth += 1
            self.deepest = max(self.deepest, depth)
        text = self.bare(tree, depth)
        return f"({self.tight()}{text}{self.tight()})" if wrap else text

    def bare(self, tree: tuple[Any, ...], depth: int) -> str:
        tag = tree[0]
        if tag == "const":
            return self.literal(tree[1])
        if tag == "name":
            return tree[1]
        if tag == "not":
            self.deepest = max(self.deepest, depth + 1)
            return f"not{self.space()}{self.spell(tree[1], depth + 1, 'not')}"
        if tag in ("and", "or"):
            joiner = f"{self.space()}{tag}{self.space()}"
            return joiner.join(self.spell(t, depth, tag) for t in tree[1])
        if tag == "cmp":
            _, name, op, literal = tree
            if self.flip():
                return f"{self.literal(literal)}{self.tight()}{MIRRORED[op]}{self.tight()}{name}"
            return f"{name}{self.tight()}{op}{self.tight()}{self.literal(literal)}"
        if tag == "in":
            _, name, items, negated = tree
            inside = f",{self.tight()}".join(self.literal(item) for item in items)
            trailing = self.choose(["", ","])
            op = "not in" if negated else "in"
            return f"{name}{self.space()}{op}{self.space()}[{inside}{trailing}]"
        if tag == "has":
            _, name, text, negated = tree
            op = "not in" if negated else "in"
            return f"{self.text(text)}{self.space()}{op}{self.space()}{name}"
        _, name, pattern = tree
        return f"matches({self.tight()}{name},{self.tight()}{self.text(pattern)})"


class PlainSpeller(Speller):
    """Always the first spelling: single spaces, double quotes, no optional parentheses."""

    def __init__(self) -> None:
        super().__init__(None)

    def choose(self, options: list[Any]) -> Any:
        return options[0]

    def flip(self) -> bool:
        return False

    def optional_parentheses(self) -> bool:
        return False

    def tight(self) -> str:
        return " "


@st.composite
def spellings(draw: Any, tree: tuple[Any, ...]) -> tuple[str, int]:
    speller = Speller(draw)
    text = speller.spell(tree, 0, "top")
    return text, speller.deepest


@st.composite
def cases(draw: Any) -> tuple[tuple[Any, ...], str, int, str, int]:
    tree = draw(trees)
    first, first_depth = draw(spellings(tree))
    second, second_depth = draw(spellings(tree))
    return tree, first, first_depth, second, second_depth


# ---------------------------------------------------------------------- properties


@settings(max_examples=400, deadline=None)
@given(cases(), st.data())
def test_compiled_expressions_agree_with_the_interpreter(
    case: tuple[tuple[Any, ...], str, int, str, int], data: st.DataObject
) -> None:
    tree, first, first_depth, second, second_depth = case
    maps = data.draw(st.lists(maps_for(tree), min_size=1, max_size=8))
    if max(first_depth, second_depth) > MAX_DEPTH:
        deeper = first if first_depth > MAX_DEPTH else second
        with pytest.raises(LimitExceededError, match="nested more than"):
            compile_expression(deeper)
        return
    expression = compile_expression(first)
    assert expression.names == tree_names(tree)
    for attributes in maps:
        assert expression(attributes) is evaluate(tree, attributes), (first, attributes)
        assert expression.predicate(attributes) is evaluate(tree, attributes)
    # Every spelling of one tree is one expression, and its canonical text is a fixed point.
    assert compile_expression(second) is expression, (first, second)
    assert compile_expression(expression.source) is expression


@settings(max_examples=150, deadline=None)
@given(trees, st.data())
def test_the_canonical_text_reads_back_to_the_same_truths(
    tree: tuple[Any, ...], data: st.DataObject
) -> None:
    maps = data.draw(st.lists(maps_for(tree), min_size=1, max_size=5))
    # Spelled the plainest way: single spaces, double quotes, no optional parentheses.
    text = PlainSpeller().spell(tree, 0, "top")
    expression = compile_expression(text)
    again = compile_expression(expression.source)
    assert again is expression
    for attributes in maps:
        assert again(attributes) is evaluate(tree, attributes), (text, attributes)


# ---------------------------------------------------------------------- the intern table


SPELLINGS = [
    # Three expressions, each spelt several ways.
    ['region in ["EU", "UK"]', "region in ['UK','EU']", "region in ['EU', 'UK', 'EU']"],
    ["years >= 2", "2 <= years", "years>=2.0", "(years >= 2)"],
    ["not trainee and a", "not trainee and (a)", "(not trainee) and a == true"],
]


class InternTable(RuleBasedStateMachine):
    """Compile and drop in any order: a live expression is the one for its text.

    (That an unused expression is released is tested in test_expressions.py.)
    """

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[int, Expression]] = []
        self.dropped: list[weakref.ref[Expression]] = []

    @rule(group=st.integers(0, len(SPELLINGS) - 1), spelling=st.integers(0, 3))
    def compile(self, group: int, spelling: int) -> None:
        texts = SPELLINGS[group]
        expression = compile_expression(texts[spelling % len(texts)])
        live = [e for g, e in self.held if g == group]
        if live:
            assert expression is live[0]
        self.held.append((group, expression))

    @precondition(lambda self: bool(self.held))
    @rule(index=st.integers(0, 100))
    def drop(self, index: int) -> None:
        _, expression = self.held.pop(index % len(self.held))
        self.dropped.append(weakref.ref(expression))

    @rule()
    def check_dropped(self) -> None:
        # Released by reference counting once no one holds it (no collection needed); one
        # that survives (something else may hold it) is still the one for its text.
        for ref in self.dropped:
            expression = ref()
            if expression is not None:
                assert compile_expression(expression.source) is expression
        self.dropped = [ref for ref in self.dropped if ref() is not None]

    @invariant()
    def one_object_per_text(self) -> None:
        by_group: dict[int, Expression] = {}
        for group, expression in self.held:
            assert by_group.setdefault(group, expression) is expression
            assert compile_expression(expression.source) is expression
            for other_group, other in by_group.items():
                assert (other == expression) is (other_group == group)


TestInternTable = InternTable.TestCase
TestInternTable.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.text(alphabet="ab-sé", max_size=150), min_size=1, max_size=60), patterns)
def test_remembered_pattern_answers_stay_right(texts: list[str], pattern: str) -> None:
    # More distinct texts than are remembered, long ones that are not, and repeats.
    expression = compile_expression(f'matches(team, "{pattern}")')
    many = [f"{text}{i}" for i in range(5000 // len(texts) + 1) for text in texts]
    for _ in range(2):
        for text in [*texts, *many[:5000]]:
            assert expression({"team": text}) is (re.search(pattern, text) is not None)


# ---------------------------------------------------------------------- agent attributes


def attributes_are_valid(attributes: dict[Any, Any]) -> bool:
    """The guide's rules for agent attributes, written out directly."""
    if len(attributes) > 64:
        return False
    for name, value in attributes.items():
        if not isinstance(name, str) or len(name) > 64 or name in KEYWORDS:
            return False
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is None:
            return False
        if not value_is_valid(value):
            return False
    return True


def value_is_valid(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return len(value) <= 4096 and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return abs(value) <= sys.float_info.max  # exact for integers of any size
    if isinstance(value, list | tuple | set | frozenset):
        return len(value) <= 256 and all(
            isinstance(item, str) and len(item) <= 128 and value_is_valid(item) for item in value
        )
    return False


attribute_names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,70}", fullmatch=True),
    st.sampled_from(sorted(KEYWORDS)),
    st.sampled_from(["a-b", "", "1x", "r\u00e9gion", "x y", "\ud800"]),
    st.integers(0, 3),
)
attribute_values = st.one_of(
    st.booleans(),
    st.integers(-(2**1100), 2**1100),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["x" * 4096, "x" * 4097, "a\ud800"]),
    st.lists(st.text(max_size=130), max_size=4),
    st.frozensets(st.sampled_from(["fr", "en", "x" * 129, "\udfff"]), max_size=3),
    st.lists(st.integers(), max_size=2),
    st.none(),
    st.just({"k": 1}),
    st.just([str(i) for i in range(257)]),
)


def many_attributes() -> dict[Any, Any]:
    return {f"a{i}": i for i in range(65)}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(attribute_names, attribute_values, max_size=6) | st.just(many_attributes()))
def test_agent_attributes_are_accepted_exactly_when_the_rules_allow(
    attributes: dict[Any, Any],
) -> None:
    if attributes_are_valid(attributes):
        checked = check_agent_attributes(attributes)
        assert checked.keys() == attributes.keys()
        for name, value in attributes.items():
            if isinstance(value, list | tuple | set | frozenset):
                assert sorted(checked[name]) == sorted(value)  # type: ignore[arg-type]
            else:
                assert checked[name] == value
                assert type(checked[name]) is type(value)
    else:
        with pytest.raises(InvalidInputError):
            check_agent_attributes(attributes)
