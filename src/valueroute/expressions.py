"""Requirement expressions over agent attributes, compiled once into plain functions.

A task may require more of an agent than numeric skill levels: a language, a
region, a certification, a team. Agents carry *attributes* (text, numbers,
booleans and sets of text) and a task carries a *requirement expression*
over them:

    language == "fr" and region in ["EU", "UK"] and not trainee
    years >= 2 or certified_level3
    "spanish" in languages
    matches(team, "^support-")

:func:`compile_expression` checks an expression completely and compiles it
into an :class:`Expression`: a callable ``attributes -> bool`` that never
raises for any mapping, hashable and interned by its canonical text (so a
pool can cache eligibility per requirement group and recognise the same
requirement written twice), which also names the attributes it reads (so a
pool re-evaluates it only when one of those changes).

Grammar
-------

    expression  := or
    or          := and ("or" and)*
    and         := not ("and" not)*
    not         := "not" not | comparison
    comparison  := operand [operator operand]
    operator    := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in"
    operand     := NAME | literal | list | match | "(" expression ")"
    match       := "matches" "(" NAME "," TEXT ")"
    list        := "[" literal ("," literal)* [","] "]"
    literal     := TEXT | NUMBER | "true" | "false"

``NAME`` is an ASCII identifier (``[A-Za-z_][A-Za-z0-9_]*``) other than the
keywords ``and or not in true false True False matches``. ``TEXT`` is quoted
with ``"`` or ``'``; the escapes ``\\\\ \\" \\' \\n \\t \\r \\uXXXX
\\UXXXXXXXX`` are read, any other backslash stays a backslash (so ``"\\d+"``
is the pattern ``\\d+``). ``NUMBER`` is a decimal integer or float with an
optional sign and exponent (``2``, ``-0.5``, ``1e3``). Outside quotes only
ASCII is allowed: a look-alike letter (Cyrillic ``а``, full-width ``ａ``)
would silently name another attribute, so it is refused; inside quotes
control and invisible formatting characters (a right-to-left override, a
zero-width space) must be written as escapes, so what a reviewer reads is
what is compared. Text is compared by code points, without normalisation.

A comparison has an attribute name on one side and a literal on the other
(``2 <= years`` is ``years >= 2``). A bare name is true when the attribute is
the boolean ``true``. ``true`` and ``false`` alone are constants.

Semantics
---------
Every attribute value has one *kind*: text (``str``), number (``int`` or
``float``, not ``bool``), boolean (``bool``) or set (``list``, ``tuple``,
``set`` or ``frozenset`` of text), by exact type. A value of any other
type counts as missing: ``None``, and subclasses such as an enum member
(:func:`check_agent_attributes` turns those into plain values).

- ``name == v`` / ``name != v``: the attribute is present, of the kind of
  ``v``, and equal / different. Numbers compare exactly (``2 == 2.0``).
- ``<``, ``<=``, ``>``, ``>=``: a number against a number, or a text against
  a text (code point order); never with a boolean.
- ``name in [v, ...]`` / ``name not in [...]``: the attribute is present,
  of the list's kind (every item of a list has one kind), and a member / not
  a member.
- ``"v" in name`` / ``"v" not in name``: the attribute is a set, and holds /
  does not hold ``v``.
- ``matches(name, "pattern")``: the attribute is a text in which the RE2
  pattern is found (a search: anchor it with ``^`` and ``$`` to match the
  whole text), or a set with a member in which it is found.
- ``name``: the attribute is the boolean ``true``.
- ``not``, ``and``, ``or``: the usual logic on those truths.

So a comparison with a missing attribute, or with one of another kind, is
false, and ``not`` is the only way absence makes something true: ``not
trainee`` holds for an agent without a ``trainee`` attribute, ``years < 2``
does not hold for an agent without ``years`` while ``not years >= 2`` does.
Nothing is ever converted (``"2"`` is not ``2``).

Canonical text and interning
----------------------------
:attr:`Expression.source` is the canonical text: one space around words and
operators, text in double quotes, literal on the right of a comparison,
``and``/``or`` chains flattened, list items sorted without repeats, integral
floats below 10**16 written as integers, ``x == true`` as ``x``, ``x != v``
of a boolean as ``x == (not v)``. Expressions with the same canonical text
are the same object while one is alive (a weak intern table, so nothing is
kept once unused), and compiling the canonical text gives it back.

Safety and limits
-----------------
Compilation follows :mod:`valueroute.rules`: the text is parsed by a small
recursive-descent parser (never ``eval``), every limit is checked while
parsing, and the result is one generated Python function in which no text of
the expression appears (names, literals and patterns are bound from a
namespace without builtins). Patterns run on RE2 (linear time in the text:
backreferences and lookaround are refused) with the same bounds as rules on
pattern length and compiled program size. Limits: :data:`MAX_SOURCE`
characters (the text and its canonical form), :data:`MAX_DEPTH` nested
parentheses and ``not``, :data:`MAX_NODES` conditions and operators,
:data:`MAX_LIST` items in a list, :data:`MAX_NUMBER_TEXT` characters in a
number (and numbers within float range), :data:`MAX_PATTERN` characters in a
pattern and :data:`MAX_PROGRAM_SIZE` for its RE2 program. Every refusal is an
:class:`~valueroute.errors.InvalidInputError` (a
:class:`~valueroute.errors.LimitExceededError` for a limit) naming the field,
showing the text and the character where the problem is, and saying what was
expected; it is raised at compile time, never at evaluation time.

Validation models
-----------------
:data:`AgentAttributes` and :data:`Requirement` are annotated types for
pydantic models: ``attributes: AgentAttributes`` on an agent (bounded count,
names that expressions can read, values of the kinds above, text without
lone surrogates) and ``requires: Requirement`` on a task (``None`` or an
expression that compiles). :func:`check_agent_attributes` is the same check
outside pydantic.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import unicodedata
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, NoReturn, TypeAlias, final

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from valueroute._documents import is_unicode_text
from valueroute.errors import InvalidInputError, LimitExceededError, bounded_repr

__all__ = [
    "KEYWORDS",
    "MAX_AGENT_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME",
    "MAX_ATTRIBUTE_TEXT",
    "MAX_DEPTH",
    "MAX_LIST",
    "MAX_NODES",
    "MAX_NUMBER_TEXT",
    "MAX_PATTERN",
    "MAX_PROGRAM_SIZE",
    "MAX_SET_ITEM",
    "MAX_SET_ITEMS",
    "MAX_SOURCE",
    "AgentAttributeValue",
    "AgentAttributes",
    "Expression",
    "Requirement",
    "check_agent_attributes",
    "compile_expression",
]

MAX_SOURCE: Final = 4_096
"""Characters in an expression, and in its canonical text."""
MAX_DEPTH: Final = 32
"""Nesting of parentheses and ``not`` in an expression (as :data:`valueroute.rules.MAX_DEPTH`)."""
MAX_NODES: Final = 256
"""Conditions, operators and constants in an expression."""
MAX_LIST: Final = 500
"""Literals in one list (what fits in :data:`MAX_SOURCE` characters of canonical text)."""
MAX_NUMBER_TEXT: Final = 400
"""Characters of one number literal (float range needs at most 309 digits)."""
MAX_PATTERN: Final = 1_000
"""Characters in one regular expression (as :data:`valueroute.rules.MAX_PATTERN`)."""
MAX_PROGRAM_SIZE: Final = 1_000
"""Size of one compiled RE2 program (as :data:`valueroute.rules.MAX_PROGRAM_SIZE`):
what a search costs per character."""

MAX_AGENT_ATTRIBUTES: Final = 64
"""Attributes per agent."""
MAX_ATTRIBUTE_NAME: Final = 64
"""Characters of an attribute name."""
MAX_ATTRIBUTE_TEXT: Final = 4_096
"""Characters of a text attribute (as :data:`valueroute.models.MAX_ATTRIBUTE_TEXT`)."""
MAX_SET_ITEMS: Final = 256
"""Members of a set attribute."""
MAX_SET_ITEM: Final = 128
"""Characters of one member of a set attribute."""

KEYWORDS: Final = frozenset({"and", "or", "not", "in", "true", "false", "True", "False", "matches"})
"""Words an expression reserves: no attribute may be named so."""

AgentAttributeValue: TypeAlias = str | int | float | bool | list[str]
"""What one agent attribute holds: text, a number, a boolean or a set of texts."""

_FLOAT_MAX = sys.float_info.max
_INTEGRAL_AS_INT = 1e16  # below this an integral float is written as an int (shorter, exact)
_SET_TYPES = (list, tuple, set, frozenset)
_NUMBER_TYPES = (int, float)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SURROGATES = re.compile("[\ud800-\udfff]")

# ---------------------------------------------------------------------- tree

_LiteralValue: TypeAlias = str | int | float | bool


@dataclass(frozen=True, slots=True)
class _Const:
    value: bool


@dataclass(frozen=True, slots=True)
class _Truthy:
    name: str


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Chain:
    op: str  # "and" | "or"
    operands: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Compare:
    name: str
    op: str  # == != < <= > >=
    literal: _LiteralValue


@dataclass(frozen=True, slots=True)
class _InList:
    name: str
    items: tuple[_LiteralValue, ...]  # canonical: one kind, sorted, no repeats
    negated: bool


@dataclass(frozen=True, slots=True)
class _Contains:
    name: str
    text: str
    negated: bool


@dataclass(frozen=True, slots=True)
class _Matches:
    name: str
    pattern: str


_Node: TypeAlias = _Const | _Truthy | _Not | _Chain | _Compare | _InList | _Contains | _Matches


def _kind(literal: _LiteralValue) -> str:
    if isinstance(literal, bool):
        return "boolean"
    if isinstance(literal, str):
        return "text"
    return "number"


# ---------------------------------------------------------------------- refusals


class _Refused(Exception):
    """A problem found while compiling: where it is, what it is, what was expected."""

    def __init__(self, position: int | None, problem: str, expected: str, *, limit: bool) -> None:
        super().__init__(problem)
        self.position = position
        self.problem = problem
        self.expected = expected
        self.limit = limit

    def reason(self, source: str) -> str:
        """The problem with its place in ``source`` and the expectation, for a message."""
        where = ""
        if self.position is not None:
            near = source[self.position : self.position + 24]
            where = (
                f"at character {self.position + 1} "
                f"({'near ' + bounded_repr(near, 30) if near else 'at the end'}): "
            )
        return f"{where}{self.problem} (expected {self.expected})"


def _limit(position: int | None, problem: str, expected: str) -> NoReturn:
    raise _Refused(position, problem, expected, limit=True)


def _wrong(position: int | None, problem: str, expected: str) -> NoReturn:
    raise _Refused(position, problem, expected, limit=False)


# ---------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
     (?P<space>[ \t\r\n]+)
    |(?P<number>-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<text>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_HEX = re.compile(r"[0-9A-Fa-f]+")
_WORDS = {"and", "or", "not", "in", "matches"}
_BOOLEANS = {"true": True, "false": False, "True": True, "False": False}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, word, bool, text, op, end
    text: str
    value: Any
    position: int


def _is_hidden(char: str) -> bool:
    """Control, formatting (bidi, zero-width) and line/paragraph separator characters."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _text_value(raw: str, position: int) -> str:
    """The text a quoted literal stands for (``raw`` without its quotes)."""
    for offset, char in enumerate(raw):
        if _is_hidden(char):
            _wrong(
                position + 1 + offset,
                f"the invisible or control character U+{ord(char):04X} inside quoted text",
                f"such characters written as escapes, \\u{ord(char):04x}, so that they show",
            )
    if "\\" not in raw:
        return raw
    parts: list[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char != "\\" or index + 1 == len(raw):
            parts.append(char)
            index += 1
            continue
        follower = raw[index + 1]
        if follower in _ESCAPES:
            parts.append(_ESCAPES[follower])
            index += 2
        elif follower in "uU":
            width = 4 if follower == "u" else 8
            digits = raw[index + 2 : index + 2 + width]
            if len(digits) != width or _HEX.fullmatch(digits) is None:
                _wrong(
                    position + 1 + index,
                    f"the escape {bounded_repr(raw[index : index + 2 + width])}",
                    f"\\{follower} followed by {width} hexadecimal digits",
                )
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                _wrong(
                    position + 1 + index,
                    f"the escape \\{follower}{digits}, which is not a Unicode character "
                    "(a surrogate or beyond U+10FFFF)",
                    "a character RE2, journals and logs can encode",
                )
            parts.append(chr(code))
            index += 2 + width
        else:
            parts.append(char)  # any other backslash is kept, as regular expressions want
            index += 1
    return "".join(parts)


def _number_value(text: str, position: int) -> int | float:
    if len(text) > MAX_NUMBER_TEXT:
        _limit(
            position,
            f"a number of {len(text)} characters",
            f"at most {MAX_NUMBER_TEXT} characters, within float range",
        )
    if any(mark in text for mark in ".eE"):
        value: int | float = float(text)
        if not math.isfinite(value):
            _limit(position, f"the number {bounded_repr(text)} beyond float range", _FINITE)
        return _canonical_number(value)
    number = int(text)
    if not -_FLOAT_MAX <= number <= _FLOAT_MAX:
        _limit(position, f"the number {bounded_repr(number)} beyond float range", _FINITE)
    return 0 if number == 0 else number


_FINITE = f"a finite number of magnitude at most {_FLOAT_MAX:g}"


def _canonical_number(value: int | float) -> int | float:
    """Integral floats that an int writes shorter become that int (the comparisons are exact)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _INTEGRAL_AS_INT:
        return int(value)
    return value


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    match = _TOKEN.match
    while position < len(source):
        found = match(source, position)
        if found is None:
            _unexpected(source, position)
        kind = found.lastgroup
        text = found.group()
        if kind == "number":
            tokens.append(_Token("number", text, _number_value(text, position), position))
        elif kind == "name":
            if text in _BOOLEANS:
                tokens.append(_Token("bool", text, _BOOLEANS[text], position))
            elif text in _WORDS:
                tokens.append(_Token("word", text, text, position))
            elif len(text) > MAX_ATTRIBUTE_NAME:
                _limit(
                    position,
                    f"an attribute name of {len(text)} characters, which no agent can have",
                    f"names of at most {MAX_ATTRIBUTE_NAME} characters",
                )
            else:
                tokens.append(_Token("name", text, text, position))
        elif kind == "text":
            tokens.append(_Token("text", text, _text_value(text[1:-1], position), position))
        elif kind == "op":
            tokens.append(_Token("op", text, text, position))
        position = found.end()
    tokens.append(_Token("end", "", None, len(source)))
    return tokens


def _unexpected(source: str, position: int) -> NoReturn:
    char = source[position]
    if char in "\"'":
        _wrong(
            position,
            "quoted text that does not end on its line",
            f"a closing {char}; write a line break inside text as \\n",
        )
    if not char.isascii():
        _wrong(
            position,
            f"the non-ASCII character U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')}) "
            "outside quoted text",
            "ASCII attribute names, numbers and operators outside quotes: a look-alike or "
            "full-width letter would name another attribute",
        )
    if char == "-":
        _wrong(position, "a '-' not followed by a number", "a negative number such as -2")
    _wrong(
        position,
        f"the character {char!r}",
        "an attribute name, a literal, a list, matches(...), parentheses, and, or, not, "
        "or one of == != < <= > >= in",
    )


# ---------------------------------------------------------------------- parsing


_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDER_OPS = frozenset({"<", "<=", ">", ">="})


class _Parser:
    """Recursive descent over the token list, checking every limit on the way."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.index = 0
        self.nodes = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.tokens[self.index]
        return token.kind == kind and (text is None or token.text == text)

    def expect_op(self, text: str, what: str) -> _Token:
        if not self.at("op", text):
            self.fail(f"{text!r} {what}")
        return self.advance()

    def fail(self, expected: str) -> NoReturn:
        token = self.token
        got = "the end of the expression" if token.kind == "end" else repr(token.text)
        if len(got) > 40:
            got = bounded_repr(token.text, 40)
        _wrong(token.position, f"got {got}", expected)

    def count(self, position: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            _limit(position, f"more than {MAX_NODES} conditions and operators", _SPLIT)

    def parse(self) -> _Node:
        if self.at("end"):
            _wrong(None, "an empty expression", "a condition; give no requirement as None")
        node = self.disjunction(0)
        if not self.at("end"):
            self.fail("and, or, or the end of the expression")
        return node

    def disjunction(self, depth: int) -> _Node:
        return self.chain("or", self.conjunction, depth)

    def conjunction(self, depth: int) -> _Node:
        return self.chain("and", self.negation, depth)

    def chain(self, word: str, operand: Callable[[int], _Node], depth: int) -> _Node:
        first = operand(depth)
        if not self.at("word", word):
            return first
        operands = [first]
        while self.at("word", word):
            self.count(self.advance().position)
            operands.append(operand(depth))
        flat: list[_Node] = []
        for node in operands:
            # a and (b and c) is a and b and c: one canonical text for both
            flat.extend(node.operands if isinstance(node, _Chain) and node.op == word else [node])
        return _Chain(word, tuple(flat))

    def negation(self, depth: int) -> _Node:
        if self.at("word", "not"):
            token = self.advance()
            self.deeper(depth, token.position)
            self.count(token.position)
            return _Not(self.negation(depth + 1))
        return self.comparison(depth)

    def deeper(self, depth: int, position: int) -> None:
        if depth + 1 > MAX_DEPTH:
            _limit(
                position,
                f"parentheses and 'not' nested more than {MAX_DEPTH} levels deep",
                f"at most {MAX_DEPTH} levels",
            )

    def comparison(self, depth: int) -> _Node:
        start = self.token.position
        left = self.operand(depth)
        op = self.operator()
        if op is None:
            return self.alone(left, start)
        op_position = self.tokens[self.index - 1].position
        right_start = self.token.position
        right = self.operand(depth)
        self.count(op_position)
        if (self.at("op") and self.token.text in _MIRROR) or self.at("word", "in"):
            self.fail(f"and/or after a comparison (chains such as 1 < x < 3 are written {_AND})")
        return self.compare(left, op, right, start, right_start)

    def operator(self) -> str | None:
        token = self.token
        if token.kind == "op" and token.text in _MIRROR:
            self.advance()
            return token.text
        if token.kind == "word" and token.text == "in":
            self.advance()
            return "in"
        if (
            token.kind == "word"
            and token.text == "not"
            and self.tokens[self.index + 1].kind == "word"
            and self.tokens[self.index + 1].text == "in"
        ):
            self.index += 2
            return "not in"
        return None

    def operand(self, depth: int) -> Any:
        """``(kind, value)``: a name, a literal, a list, or a condition (match, parentheses)."""
        token = self.token
        if token.kind == "name":
            self.advance()
            return ("name", token.text)
        if token.kind in ("number", "text", "bool"):
            self.advance()
            return ("literal", token.value)
        if token.kind == "op" and token.text == "[":
            return ("list", self.list_literal())
        if token.kind == "op" and token.text == "(":
            self.advance()
            self.deeper(depth, token.position)
            node = self.disjunction(depth + 1)
            self.expect_op(")", "closing the parenthesis")
            return ("condition", node)
        if token.kind == "word" and token.text == "matches":
            return ("condition", self.match())
        self.fail("an attribute name, a literal, a list, matches(...), 'not' or '('")

    def list_literal(self) -> tuple[_LiteralValue, ...]:
        opening = self.advance()
        items: list[_LiteralValue] = []
        while not self.at("op", "]"):
            token = self.token
            if token.kind not in ("number", "text", "bool"):
                self.fail("a text, number or boolean literal in the list, or ']'")
            self.advance()
            if items and _kind(token.value) != _kind(items[0]):
                _wrong(
                    token.position,
                    f"a {_kind(token.value)} in a list of {_kind(items[0])}s",
                    "every item of a list of one kind",
                )
            items.append(token.value)
            if len(items) > MAX_LIST:
                _limit(token.position, f"more than {MAX_LIST} items in a list", _SPLIT)
            if not self.at("op", "]"):
                self.expect_op(",", "between list items")
        self.advance()
        if not items:
            _wrong(opening.position, "an empty list", "at least one literal in a list")
        return tuple(sorted(set(items)))  # one kind, so comparable

    def match(self) -> _Matches:
        token = self.advance()
        self.count(token.position)
        self.expect_op("(", "after matches")
        if not self.at("name"):
            self.fail("an attribute name as the first argument of matches")
        name = self.advance().text
        self.expect_op(",", "between the arguments of matches")
        if not self.at("text"):
            self.fail("a quoted pattern as the second argument of matches")
        pattern_token = self.advance()
        self.expect_op(")", "closing matches(...)")
        _check_pattern(pattern_token.value, pattern_token.position)
        return _Matches(name, pattern_token.value)

    def alone(self, operand: Any, start: int) -> _Node:
        kind, value = operand
        if kind == "name":
            self.count(start)
            return _Truthy(value)
        if kind == "condition":
            return value  # type: ignore[no-any-return]
        if kind == "literal" and isinstance(value, bool):
            self.count(start)
            return _Const(value)
        _wrong(
            start,
            f"a {'list' if kind == 'list' else _kind(value)} literal standing alone",
            "a condition: compare an attribute with it, such as name == literal",
        )

    def compare(self, left: Any, op: str, right: Any, start: int, right_start: int) -> _Node:
        (lkind, lvalue), (rkind, rvalue) = left, right
        if op in ("in", "not in"):
            negated = op == "not in"
            if lkind == "name" and rkind == "list":
                return _InList(lvalue, rvalue, negated)
            if lkind == "literal" and rkind == "name":
                if not isinstance(lvalue, str):
                    _wrong(
                        start,
                        f"a {_kind(lvalue)} looked up in the attribute {rvalue!r}",
                        "a text: set attributes hold texts",
                    )
                return _Contains(rvalue, lvalue, negated)
            _wrong(
                start,
                f"'{op}' between {_describe(lkind, lvalue)} and {_describe(rkind, rvalue)}",
                'name in [literal, ...] or "text" in name',
            )
        if lkind == "literal" and rkind == "name":
            lkind, lvalue, rkind, rvalue = rkind, rvalue, lkind, lvalue
            op = _MIRROR[op]
        if lkind != "name" or rkind != "literal":
            _wrong(
                start,
                f"'{op}' between {_describe(lkind, lvalue)} and {_describe(rkind, rvalue)}",
                "an attribute name on one side and a text, number or boolean literal on the other",
            )
        if isinstance(rvalue, bool):
            if op in _ORDER_OPS:
                _wrong(right_start, f"'{op}' with a boolean", "== or != with true or false")
            truth = rvalue if op == "==" else not rvalue
            return _Truthy(lvalue) if truth else _Compare(lvalue, "==", False)
        return _Compare(lvalue, op, rvalue)


_SPLIT = "a smaller expression: split the requirement, or give agents an attribute that says it"
_AND = "as 1 < x and x < 3"


def _describe(kind: str, value: Any) -> str:
    if kind == "name":
        return f"the attribute {value!r}"
    if kind == "literal":
        return f"the {_kind(value)} {bounded_repr(value, 30)}"
    if kind == "list":
        return "a list"
    return "a condition"


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.never_capture = True  # only whether it is found counts: no groups to record


def _check_pattern(pattern: str, position: int) -> None:
    """Refuse a pattern RE2 cannot run in linear time, or runs slowly per character."""
    if len(pattern) > MAX_PATTERN:
        _limit(position, f"a pattern of {len(pattern)} characters", f"at most {MAX_PATTERN}")
    _compiled_pattern(pattern, position)


def _compiled_pattern(pattern: str, position: int) -> Any:
    try:
        compiled = re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        _wrong(
            position,
            f"the pattern {bounded_repr(pattern)} is not a linear-time (RE2) regular "
            f"expression: {reason}",
            "an RE2 pattern; backreferences and lookaround are not supported",
        )
    if compiled.programsize > MAX_PROGRAM_SIZE:
        _limit(
            position,
            f"the pattern {bounded_repr(pattern)} compiles to an RE2 program of size "
            f"{compiled.programsize}",
            f"at most {MAX_PROGRAM_SIZE}: the time a search takes per character grows with "
            "it; use fewer or smaller counted repetitions such as {n}",
        )
    return compiled


# ---------------------------------------------------------------------- canonical text


def _render(node: _Node) -> str:
    if isinstance(node, _Const):
        return "true" if node.value else "false"
    if isinstance(node, _Truthy):
        return node.name
    if isinstance(node, _Not):
        inner = node.operand
        text = _render(inner)
        return f"not ({text})" if isinstance(inner, _Chain) else f"not {text}"
    if isinstance(node, _Chain):
        return f" {node.op} ".join(
            f"({_render(o)})" if isinstance(o, _Chain) else _render(o) for o in node.operands
        )
    if isinstance(node, _Compare):
        return f"{node.name} {node.op} {_literal_text(node.literal)}"
    if isinstance(node, _InList):
        items = ", ".join(_literal_text(item) for item in node.items)
        return f"{node.name} {'not in' if node.negated else 'in'} [{items}]"
    if isinstance(node, _Contains):
        return f"{_literal_text(node.text)} {'not in' if node.negated else 'in'} {node.name}"
    return f"matches({node.name}, {_literal_text(node.pattern)})"


def _literal_text(value: _LiteralValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return _quoted(value)


_NAMED_ESCAPES = {'"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quoted(text: str) -> str:
    parts = ['"']
    for index, char in enumerate(text):
        if char in _NAMED_ESCAPES:
            parts.append(_NAMED_ESCAPES[char])
        elif char == "\\":
            follower = text[index + 1 : index + 2]
            # A backslash stays single unless the parser would read it with what follows.
            parts.append("\\\\" if follower == "" or follower in "\\\"'ntruU" else "\\")
        elif _is_hidden(char):
            code = ord(char)
            parts.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


# ---------------------------------------------------------------------- code generation


class _Generator:
    """One Python function per expression; nothing of the expression's text becomes code."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "__builtins__": {},
            "_NUMBER": _NUMBER_TYPES,
            "_SET": _SET_TYPES,
            "_str": str,
            "_bool": bool,
        }
        self.constants: dict[tuple[type, Any], str] = {}
        self.temporaries = 0

    def const(self, value: Any) -> str:
        key = (type(value), value)
        name = self.constants.get(key)
        if name is None:
            name = f"_k{len(self.constants)}"
            self.constants[key] = name
            self.namespace[name] = value
        return name

    def function(self, node: _Node) -> Callable[[Mapping[str, Any]], bool]:
        body = self.code(node)
        source = f"def _requirement(attributes):\n    _g = attributes.get\n    return {body}\n"
        code = compile(source, "<requirement expression>", "exec")
        exec(code, self.namespace)
        function: Callable[[Mapping[str, Any]], bool] = self.namespace["_requirement"]
        return function

    def read(self, name: str) -> tuple[str, str]:
        """``(_vN := _g(key))`` binding a new temporary to the attribute, and ``_vN``."""
        self.temporaries += 1
        temporary = f"_v{self.temporaries}"
        return f"({temporary} := _g({self.const(name)}))", temporary

    def code(self, node: _Node) -> str:
        if isinstance(node, _Const):
            return "True" if node.value else "False"
        if isinstance(node, _Truthy):
            return f"(_g({self.const(node.name)}) is True)"
        if isinstance(node, _Not):
            return f"(not {self.code(node.operand)})"
        if isinstance(node, _Chain):
            return "(" + f" {node.op} ".join(self.code(o) for o in node.operands) + ")"
        if isinstance(node, _Compare):
            literal = node.literal
            if isinstance(literal, bool):  # only x == false remains after parsing
                return f"(_g({self.const(node.name)}) is False)"
            bound, value = self.read(node.name)
            guard = "is _str" if isinstance(literal, str) else "in _NUMBER"
            return f"({bound}.__class__ {guard} and {value} {node.op} {self.const(literal)})"
        if isinstance(node, _InList):
            bound, value = self.read(node.name)
            first = node.items[0]
            if isinstance(first, bool):
                guard = "is _bool"
            elif isinstance(first, str):
                guard = "is _str"
            else:
                guard = "in _NUMBER"
            member = "not in" if node.negated else "in"
            items = self.const(frozenset(node.items))
            return f"({bound}.__class__ {guard} and {value} {member} {items})"
        if isinstance(node, _Contains):
            bound, value = self.read(node.name)
            member = "not in" if node.negated else "in"
            return f"({bound}.__class__ in _SET and {self.const(node.text)} {member} {value})"
        matcher = self.const(_matcher(_compiled_pattern(node.pattern, 0)))
        return f"{matcher}(_g({self.const(node.name)}))"


_REMEMBERED_TEXTS = 4_096
_REMEMBERED_LENGTH = 128


def _matcher(pattern: Any) -> Callable[[object], bool]:
    """Whether the pattern is found in a text, or in a text member of a set; never raises.

    An RE2 search through its Python binding costs microseconds, mostly in
    building the match object, while attribute texts repeat (teams, regions,
    certifications): the answer for each distinct short text is remembered
    (up to 4,096 texts of at most 128 characters per pattern). The text is
    searched as UTF-8 bytes, which RE2 reads as it reads text (the pattern
    is compiled for UTF-8), at about half the cost.

    RE2 reads UTF-8, which cannot carry a lone surrogate; a text holding one
    (only attributes that skipped validation can) is searched with each
    surrogate read as U+FFFD, as :mod:`valueroute.rules` does.
    """
    search = pattern.search
    remembered: dict[str, bool] = {}

    def found(text: str) -> bool:
        known = remembered.get(text)
        if known is not None:
            return known
        try:
            encoded = text.encode()
        except UnicodeEncodeError:
            encoded = _SURROGATES.sub("\ufffd", text).encode()
        # RE2 reads UTF-8 either way; given bytes, the binding skips mapping byte
        # offsets back to characters, which is most of the cost of a found match.
        result = search(encoded) is not None
        if len(text) <= _REMEMBERED_LENGTH and len(remembered) < _REMEMBERED_TEXTS:
            remembered[text] = result
        return result

    def matches(value: object) -> bool:
        cls = value.__class__
        if cls is str:
            return found(value)  # type: ignore[arg-type]
        if cls in _SET_TYPES:
            return any(found(item) for item in value if item.__class__ is str)  # type: ignore[attr-defined]
        return False

    return matches


# ---------------------------------------------------------------------- the compiled expression


def _names(node: _Node) -> set[str]:
    if isinstance(node, _Const):
        return set()
    if isinstance(node, _Not):
        return _names(node.operand)
    if isinstance(node, _Chain):
        return set().union(*(_names(o) for o in node.operands))
    return {node.name}


@final
class Expression:
    """A compiled requirement expression: call it with an agent's attributes.

    Build it with :func:`compile_expression`. ``expression(attributes)`` is
    ``True`` when the attributes meet the requirement; it never raises for
    a mapping, whatever its values (a value of an unexpected type counts as
    missing). Cost: O(size of the expression), a few bytecodes per condition
    (a list membership is one set lookup); :attr:`predicate` is the same test
    as a plain function, one call cheaper for a loop over many agents.

    Two expressions are equal (and hash alike) when their canonical texts
    are; while one is alive, compiling an equal text returns that very
    object. Pickling keeps the text and compiles it again.

    >>> e = compile_expression("region in ['UK', 'EU'] and not trainee")
    >>> e.source
    'region in ["EU", "UK"] and not trainee'
    >>> sorted(e.names)
    ['region', 'trainee']
    >>> e({"region": "EU"}), e({"region": "EU", "trainee": True}), e({})
    (True, False, False)
    """

    __slots__ = ("__weakref__", "names", "predicate", "source")

    source: str
    """The canonical text (see the module documentation)."""
    names: frozenset[str]
    """The attribute names the expression reads: its result can change only when one does."""
    predicate: Callable[[Mapping[str, Any]], bool]
    """The test as a plain function of the attributes."""

    def __init__(
        self,
        source: str,
        names: frozenset[str],
        predicate: Callable[[Mapping[str, Any]], bool],
    ) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "predicate", predicate)

    def __call__(self, attributes: Mapping[str, Any]) -> bool:
        """Whether ``attributes`` meet the requirement. O(size of the expression)."""
        return self.predicate(attributes)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Expression is immutable (cannot set {name!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return self.source == other.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def __reduce__(self) -> tuple[Callable[[str], Expression], tuple[str]]:
        return (compile_expression, (self.source,))


_INTERNED: weakref.WeakValueDictionary[str, Expression] = weakref.WeakValueDictionary()
"""Live expressions by canonical text. Identity is the only thing it adds:
an expression is an immutable value, so sharing one changes no result."""
_BY_TEXT: weakref.WeakValueDictionary[str, Expression] = weakref.WeakValueDictionary()
"""Live expressions by the text they were compiled from: the same text again costs a lookup."""
_LOCK = threading.Lock()


def compile_expression(source: str, *, field: str = "requires") -> Expression:
    """Check ``source`` completely and compile it into an :class:`Expression`.

    ``field`` names the input in error messages (``"TaskSpec.requires"``,
    ``"queues[2].members"``). Every problem raises
    :class:`~valueroute.errors.InvalidInputError` (a
    :class:`~valueroute.errors.LimitExceededError` beyond a limit) naming the
    field, showing the text and the character where the problem is, and
    saying what was expected; nothing is cached then. Cost: O(length of the
    text) to parse and compile; a text compiled before and still in use
    costs one lookup.

    >>> compile_expression('years >= 2 or certified_level3')({"years": 3})
    True
    >>> compile_expression('language = "fr"')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    valueroute.errors.InvalidInputError: requires: got 'language = "fr"': at character 10 ...
    """
    if not isinstance(source, str):
        raise InvalidInputError(
            f"{field}: got {bounded_repr(source)} of type {type(source).__name__} "
            "(expected a requirement expression as text)",
            [(field, source, "a requirement expression as text")],
        )
    try:
        return _compile(source)
    except _Refused as refused:
        error = LimitExceededError if refused.limit else InvalidInputError
        raise error(
            f"{field}: got {bounded_repr(source)}: {refused.reason(source)}",
            [(field, source, refused.expected)],
        ) from None


def _compile(source: str) -> Expression:
    """:func:`compile_expression` for a text; problems raise :class:`_Refused`."""
    if len(source) > MAX_SOURCE:
        _limit(None, f"{len(source)} characters", f"at most {MAX_SOURCE} characters")
    known = _BY_TEXT.get(source)
    if known is not None:
        return known
    if not is_unicode_text(source):
        at = _SURROGATES.search(source)
        _wrong(
            at.start() if at is not None else None,
            "a lone surrogate, which UTF-8 cannot encode",
            "valid Unicode text",
        )
    tree = _Parser(source).parse()
    canonical = _render(tree)
    if len(canonical) > MAX_SOURCE:
        _limit(
            None,
            f"a canonical text of {len(canonical)} characters",
            f"at most {MAX_SOURCE} characters",
        )
    with _LOCK:
        expression = _INTERNED.get(canonical)
        if expression is None:
            expression = Expression(canonical, frozenset(_names(tree)), _Generator().function(tree))
            _INTERNED[canonical] = expression
        _BY_TEXT[source] = expression
    return expression


# ---------------------------------------------------------------------- validation


def _attribute_problem(name: object, value: object) -> tuple[str, bool] | None:
    """``(problem, beyond a limit)`` for one agent attribute, or ``None`` when it is fine."""
    if not isinstance(name, str):
        return f"the name {bounded_repr(name)} of type {type(name).__name__} is not text", False
    if len(name) > MAX_ATTRIBUTE_NAME:
        return (
            f"the name {bounded_repr(name)} has {len(name)} characters, at most "
            f"{MAX_ATTRIBUTE_NAME} allowed",
            True,
        )
    if _IDENTIFIER.fullmatch(name) is None or name in KEYWORDS:
        return (
            f"the name {bounded_repr(name)} cannot be read by an expression (expected an "
            "ASCII identifier, letters, digits and _, not starting with a digit, and none of "
            f"{', '.join(sorted(KEYWORDS))})",
            False,
        )
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > MAX_ATTRIBUTE_TEXT:
            return (
                f"attribute {name!r} has {len(value)} characters, at most {MAX_ATTRIBUTE_TEXT}",
                True,
            )
        if not value.isascii() and not is_unicode_text(value):
            return f"attribute {name!r} holds a lone surrogate (expected valid Unicode)", False
        return None
    if isinstance(value, int | float):
        # Compared, not converted: fails for nan and infinities, and integers beyond float range.
        if not -_FLOAT_MAX <= value <= _FLOAT_MAX:
            return (
                f"attribute {name!r} is {bounded_repr(value)} (expected {_FINITE})",
                False,
            )
        return None
    if isinstance(value, _SET_TYPES):
        if len(value) > MAX_SET_ITEMS:
            return (
                f"attribute {name!r} has {len(value)} members, at most {MAX_SET_ITEMS}",
                True,
            )
        for item in value:
            if not isinstance(item, str):
                return (
                    f"attribute {name!r} holds the member {bounded_repr(item)} of type "
                    f"{type(item).__name__} (expected a set of texts)",
                    False,
                )
            if len(item) > MAX_SET_ITEM:
                return (
                    f"attribute {name!r} has a member of {len(item)} characters, at most "
                    f"{MAX_SET_ITEM}",
                    True,
                )
            if not item.isascii() and not is_unicode_text(item):
                return (
                    f"attribute {name!r} has a member holding a lone surrogate "
                    "(expected valid Unicode)",
                    False,
                )
        return None
    return (
        f"attribute {name!r} is {bounded_repr(value)} of type {type(value).__name__} "
        "(expected text, a number, a boolean or a list of texts; leave a missing "
        "attribute out)",
        False,
    )


def _checked_attributes(attributes: object) -> tuple[dict[str, AgentAttributeValue], list[Any]]:
    """The attributes with sets as sorted lists, and the problems found (at most one per name)."""
    if not isinstance(attributes, Mapping):
        message = (
            f"got {bounded_repr(attributes)} of type {type(attributes).__name__} "
            "(expected a mapping of attribute names to values)"
        )
        return {}, [(message, False)]
    problems: list[Any] = []
    if len(attributes) > MAX_AGENT_ATTRIBUTES:
        problems.append(
            (f"{len(attributes)} attributes, at most {MAX_AGENT_ATTRIBUTES} allowed", True)
        )
        return {}, problems
    result: dict[str, AgentAttributeValue] = {}
    for name, value in attributes.items():
        problem = _attribute_problem(name, value)
        if problem is not None:
            problems.append(problem)
            continue
        result[name] = _plain(value)
    return result, problems


def _plain(value: Any) -> AgentAttributeValue:
    """A checked value as the exact builtin type an expression tests for.

    Subclasses (a ``StrEnum`` member, ``numpy.float64``) would otherwise
    pass the check and then count as missing, since expressions test the
    exact type.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    members = [str.__str__(item) for item in value]
    # A set has no order of its own: give it one for the record.
    return sorted(members) if isinstance(value, set | frozenset) else members


def check_agent_attributes(
    attributes: object, *, field: str = "attributes"
) -> dict[str, AgentAttributeValue]:
    """Check an agent's attributes; return them as plain values, sets and tuples as lists.

    Names are ASCII identifiers an expression can read (at most
    :data:`MAX_ATTRIBUTE_NAME` characters, not one of :data:`KEYWORDS`);
    values are text (at most :data:`MAX_ATTRIBUTE_TEXT` characters), finite
    numbers, booleans or sets of texts (at most :data:`MAX_SET_ITEMS`
    members of :data:`MAX_SET_ITEM` characters; a ``set`` becomes a sorted
    list); at most :data:`MAX_AGENT_ATTRIBUTES` of them; text without lone
    surrogates. Anything else raises
    :class:`~valueroute.errors.InvalidInputError`
    (:class:`~valueroute.errors.LimitExceededError` beyond a limit) naming
    ``field`` and every attribute in error. O(total size).

    >>> check_agent_attributes({"languages": {"fr", "en"}, "years": 4})
    {'languages': ['en', 'fr'], 'years': 4}
    """
    result, problems = _checked_attributes(attributes)
    if problems:
        shown = "; ".join(problem for problem, _ in problems[:10])
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        error = LimitExceededError if any(limit for _, limit in problems) else InvalidInputError
        raise error(
            f"{field}: {shown}{more}",
            [(field, attributes, problem) for problem, _ in problems],
        )
    return result


def _validate_agent_attributes(attributes: object) -> object:
    result, problems = _checked_attributes(attributes)
    if problems:
        kind = "limit_exceeded" if any(limit for _, limit in problems) else "agent_attributes"
        shown = "; ".join(problem for problem, _ in problems[:10])
        raise PydanticCustomError(kind, "{problems}", {"problems": shown})
    return result


def _check_requirement(source: str, field: str = "requires") -> None:
    """Raise, for a model validator, the pydantic error of a text that does not
    compile, naming ``field``; nothing for one that does."""
    try:
        _compile(source)
    except _Refused as refused:
        kind = "limit_exceeded" if refused.limit else "requirement"
        raise PydanticCustomError(
            kind, "{field}: {reason}", {"field": field, "reason": refused.reason(source)}
        ) from None


def _validate_requirement(source: str | None) -> str | None:
    if source is None:
        return None
    try:
        _compile(source)
    except _Refused as refused:
        # Pydantic names the field and shows the value; the message says the rest.
        kind = "limit_exceeded" if refused.limit else "requirement"
        raise PydanticCustomError(kind, "{reason}", {"reason": refused.reason(source)}) from None
    return source


AgentAttributes: TypeAlias = Annotated[
    dict[str, AgentAttributeValue], BeforeValidator(_validate_agent_attributes)
]
"""An agent's attributes, for a pydantic field.

``attributes: AgentAttributes = Field(default_factory=dict)``.

Checked as :func:`check_agent_attributes` does; a problem is a pydantic
error of type ``limit_exceeded`` (beyond a limit) or ``agent_attributes``."""

Requirement: TypeAlias = Annotated[str | None, AfterValidator(_validate_requirement)]
"""A task's requirement expression, for a pydantic field: ``requires: Requirement = None``.

``None`` (no requirement) or a text :func:`compile_expression` accepts; the
text is kept as given (the engine compiles it again, which costs a lookup
while the compiled expression is alive). A problem is a pydantic error of
type ``limit_exceeded`` or ``requirement``."""
