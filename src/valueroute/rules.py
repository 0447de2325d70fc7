"""Classification and prioritisation rules, compiled once into plain Python functions.

A rule set (:class:`RuleSet`, loaded from TOML, JSON or YAML) has two stages
that run in order: *classification* (set type, department, process, required
skills, business value, due time from the task's attributes) and
*prioritisation* (adjust priority, value and due time, or start a priority
ramp). Each stage evaluates its rules in order with ``first`` (stop at the
first rule that fires) or ``all`` (every rule that matches fires, later rules
see the changes of earlier ones) semantics. A rule is a condition and actions,
or a decision table: rows of conditions and actions with a hit policy.

:func:`load_rules` validates and compiles in one step; every problem (unknown
field or operator, literal of the wrong type, invalid or non-linear regular
expression, contradictory table rows) raises
:class:`~valueroute.errors.RuleError` naming the rule and the field, at load
time. Compiled rules never raise at dispatch time: a missing attribute or one
of another type than declared simply makes its comparison false.

Safety: task attributes come from customers, so regular expressions run on
RE2 (linear time in the text; patterns needing backtracking are refused, and
so are patterns whose compiled program exceeds :data:`MAX_PROGRAM_SIZE`,
since the time per character grows with it), text attributes are at most
4,096 characters (see :mod:`valueroute.models`), a text holding a lone
surrogate (which RE2 cannot read) is matched with each surrogate read as
U+FFFD, and rule files are bounded (:data:`MAX_RULE_FILE_BYTES`,
:data:`MAX_RULES`, :data:`MAX_DEPTH`, :data:`MAX_LIST`, :data:`MAX_PATTERN`,
and the document limits of nodes and nesting). Numbers in actions are bounded
as task fields are, and actions never take a task's priority beyond
±``MAX_PRIORITY`` or its value beyond ``MAX_VALUE`` (they stop at the bound),
so every score a built-in policy computes stays finite.

Compilation happens once, at load time: each stage becomes one generated
Python function in which every condition is an inline expression and every
action an inline statement, so evaluating a rule costs a few bytecodes rather
than a chain of calls (about as fast as the same rules written by hand; see
``docs/rules.md``). No text from the rule file is ever placed in that source:
literals, patterns and names are bound from a namespace.

Time-dependent conditions (``age``, ``time_to_due``) are compared as
``now`` against a threshold time (``created + c``, ``due - c``), so
:attr:`RuleOutcome.next_change` — the earliest time one of the evaluated
conditions flips — is exact to the float: nothing changes before it.
Re-applying the rules then (with the outcome's ``baseline``, so relative
actions do not compound) makes waiting-time rules take effect at the exact
moment. :meth:`CompiledRules.apply` is a pure function of the baseline fields
and ``now``; replacing a rule set means re-applying the new one to every
queued task from its baseline.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal, NamedTuple, TypeAlias

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints
from pydantic import ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from valueroute._documents import (
    SUFFIXES,
    DocumentError,
    check_shape,
    is_unicode_text,
    parse_document,
)
from valueroute.calendar import MAX_SPAN_SECONDS, BusinessCalendar, _or_never
from valueroute.errors import InvalidInputError, RuleError, bounded_repr
from valueroute.models import (
    MAX_PRIORITY,
    MAX_RAMP_STEP,
    MAX_SECONDS,
    MAX_SKILL_LEVEL,
    MAX_SKILL_NAME,
    MAX_SKILLS,
    MAX_VALUE,
    MIN_RAMP_EVERY,
    BoundaryModel,
    TaskSpec,
)
from valueroute.scoring import Explanation, Policy, Ramp, explain
from valueroute.task import Task

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST",
    "MAX_PATTERN",
    "MAX_PROGRAM_SIZE",
    "MAX_RAMP_STEP",
    "MAX_RULES",
    "MAX_RULE_FILE_BYTES",
    "MIN_RAMP_EVERY",
    "OPERATORS",
    "Actions",
    "Baseline",
    "CompiledRules",
    "Condition",
    "DryRunRow",
    "RampSpec",
    "Rule",
    "RuleOutcome",
    "RuleSet",
    "Stage",
    "TableRow",
    "dry_run",
    "load_rules",
    "parse_rules",
]

MAX_RULE_FILE_BYTES = 1_000_000
MAX_RULES = 2_000
"""Rules (decision-table rows count as rules) per stage."""
MAX_DEPTH = 32
"""Nesting of all/any/not in one condition."""
MAX_LIST = 1_000
"""Literals in one ``in`` / ``not in`` list."""
MAX_PATTERN = 1_000
"""Characters in one regular expression."""
MAX_PROGRAM_SIZE = 1_000
"""Size of one compiled RE2 program (``programsize``): what a search costs per character."""
_FLOAT_MAX = sys.float_info.max

OPERATORS: tuple[str, ...] = (
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "contains",
    "matches",
    "between",
)

Kind = Literal["text", "number", "bool"]
_FIELDS: dict[str, Kind] = {
    "type": "text",
    "channel": "text",
    "department": "text",
    "process": "text",
    "value": "number",
    "priority": "number",
    "age": "number",
    "time_to_due": "number",
    "working_age": "number",
    "working_time_to_due": "number",
}
_TIME_FIELDS = frozenset({"age", "time_to_due", "working_age", "working_time_to_due"})
_WORKING_FIELDS = frozenset({"working_age", "working_time_to_due"})
# On a working clock a value holds over a whole closed stretch: equality is no test.
_WORKING_OPS = frozenset({"<", "<=", ">", ">=", "between"})
_OPS_FOR: dict[Kind, frozenset[str]] = {
    "text": frozenset(OPERATORS),
    "number": frozenset(OPERATORS) - {"contains", "matches"},
    "bool": frozenset({"==", "!=", "in", "not in"}),
}
_INF = math.inf

# ---------------------------------------------------------------------- models


class Condition(BoundaryModel):
    """A test on one field (``field``, ``op``, ``value``) or a combination.

    Exactly one of: ``field`` with ``op`` and ``value``; ``all`` (and);
    ``any`` (or); ``not``. Fields: ``type``, ``channel``, ``department``,
    ``process``, ``value``, ``priority``, ``age``, ``time_to_due``,
    ``working_age``, ``working_time_to_due`` (in the working time of the
    task's calendar; wall time for a task without one) and
    ``attributes.<name>`` for attributes declared in the rule set.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, populate_by_name=True
    )

    field: str | None = None
    op: str | None = None
    value: Any = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    negate: Condition | None = Field(default=None, alias="not")


class RampSpec(BoundaryModel):
    """A priority ramp a rule starts (see :class:`valueroute.scoring.Ramp`)."""

    step: float = Field(ge=-MAX_RAMP_STEP, le=MAX_RAMP_STEP)
    every: float = Field(ge=MIN_RAMP_EVERY, le=MAX_SECONDS)
    cap: float | None = Field(default=None, ge=-MAX_RAMP_STEP, le=MAX_RAMP_STEP)
    after: float = Field(default=0.0, ge=-MAX_SECONDS, le=MAX_SECONDS)
    overdue_step: float = Field(default=0.0, ge=-MAX_RAMP_STEP, le=MAX_RAMP_STEP)
    overdue_every: float | None = Field(default=None, ge=MIN_RAMP_EVERY, le=MAX_SECONDS)
    overdue_cap: float | None = Field(default=None, ge=-MAX_RAMP_STEP, le=MAX_RAMP_STEP)


class Actions(BoundaryModel):
    """What a rule does, applied in this order: labels, skills, priority, value, due, ramp.

    ``priority``/``value`` set; ``add_priority``/``add_value`` add (value never
    below 0); ``scale_value`` multiplies; ``due_in`` sets the due time that
    many seconds after the task was created; ``skills`` replaces the required
    skills, ``add_skills`` adds or overrides some.

    ``calendar`` names one of the calendars given to :func:`load_rules` and
    makes it the task's business calendar (applied before ``due_in``).

    ``queue`` and ``workflow`` name one of the engine's queues and workflows
    (checked when the rules are given to an engine): the engine routes the
    task through them as if its spec named them. They are decided once, when
    the task is submitted (the last rule to fire that names one wins); a
    later re-application does not move the task (move work over time with a
    workflow's steps or a queue's ``max_wait``).
    ``due_in`` is a number of seconds or a duration text,
    ``"N seconds|minutes|hours"`` (wall time) or ``"N business
    seconds|minutes|hours"`` (working time in the task's calendar, counted
    from its creation with ``calendar.add``); a task without a calendar that
    a business ``due_in`` applies to is refused with
    :class:`~valueroute.errors.RuleError` naming the rule and the task.
    """

    type: str | None = Field(default=None, min_length=1)
    department: str | None = None
    process: str | None = None
    skills: dict[str, float] | None = None
    add_skills: dict[str, float] | None = None
    priority: int | None = Field(default=None, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    add_priority: int | None = Field(default=None, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    value: float | None = Field(default=None, ge=0, le=MAX_VALUE, allow_inf_nan=False)
    add_value: float | None = Field(default=None, ge=-MAX_VALUE, le=MAX_VALUE, allow_inf_nan=False)
    scale_value: float | None = Field(default=None, ge=0, le=MAX_VALUE, allow_inf_nan=False)
    due_in: float | str | None = None
    calendar: str | None = Field(default=None, min_length=1, max_length=128)
    ramp: RampSpec | None = None
    queue: str | None = Field(default=None, min_length=1, max_length=128)
    workflow: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("due_in", mode="before")
    @classmethod
    def _due_in(cls, due_in: Any) -> Any:
        if due_in is None:
            return None
        if isinstance(due_in, str):
            if _duration(due_in) is None:
                raise PydanticCustomError("duration", _DURATION_EXPECTED)
            return due_in
        number = None
        # Compared before converting: an integer beyond float range cannot be converted.
        if (
            isinstance(due_in, int | float)
            and not isinstance(due_in, bool)
            and -MAX_SECONDS <= due_in <= MAX_SECONDS
        ):
            number = float(due_in)
        if number is None:
            raise PydanticCustomError(
                "due_in",
                "expected a number of seconds from {low} to {high}, or a duration text",
                {"low": f"{-MAX_SECONDS:g}", "high": f"{MAX_SECONDS:g}"},
            )
        return number


class TableRow(BoundaryModel):
    """One decision-table row: ``when`` maps fields to a literal (``==``) or ``{op, value}``."""

    name: str | None = None
    when: dict[str, Any] = Field(default_factory=dict)
    then: Actions


class Rule(BoundaryModel):
    """A named rule: ``when`` (absent: always) and ``then``; or a decision table (``rows``)."""

    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    when: Condition | None = None
    then: Actions | None = None
    rows: list[TableRow] | None = None
    hit: Literal["first", "all"] = "first"
    """Decision tables: stop at the first matching row, or apply every matching row."""


class Stage(BoundaryModel):
    """An ordered list of rules with first-match or all-match semantics."""

    mode: Literal["first", "all"] = "first"
    rules: list[Rule] = Field(default_factory=list)


class RuleSet(BoundaryModel):
    """A versioned rule set: attribute declarations and two stages."""

    name: str = Field(min_length=1, max_length=128)
    version: str | int = 1
    attributes: dict[str, Literal["text", "number", "bool"]] = Field(default_factory=dict)
    """Attributes the rules may read, with their type (checked against literals)."""
    classification: Stage = Field(default_factory=Stage)
    prioritisation: Stage = Field(default_factory=Stage)

    def compile(self, *, calendars: Mapping[str, BusinessCalendar] | None = None) -> CompiledRules:
        """Check every rule and build the closures; O(size of the rule set).

        ``calendars`` are the business calendars rules may name (``then.calendar``).
        """
        return _Compiler(self, _calendar_table(calendars)).compile()


# ---------------------------------------------------------------------- outcome


class Baseline(NamedTuple):
    """The fields rules may change, as they were before the rules ran."""

    type: str
    department: str | None
    process: str | None
    skills: Mapping[str, float]
    priority: int
    value: float
    due: float | None
    ramp: object | None
    calendar: BusinessCalendar | None = None

    @classmethod
    def of(cls, task: Task) -> Baseline:
        """The task's rule-controlled fields as they are now."""
        result: Baseline = _tuple_new(cls, _snapshot(task))
        return result

    def restore(self, task: Task) -> None:
        """Set the task's rule-controlled fields back to these."""
        (
            task.type,
            task.department,
            task.process,
            task.skills,
            task.priority,
            task.value,
            task.due,
            task.ramp,
            task.calendar,
        ) = self


class RuleOutcome(NamedTuple):
    """What :meth:`CompiledRules.apply` did.

    ``fired``: names of the rules that fired, in order (decision-table rows as
    ``table[row]``). ``next_change``: the earliest time after ``now`` at which
    an evaluated time-dependent condition flips (``inf`` if none): the outcome
    is the same at every time before it. ``baseline``: the fields before any
    rule ran, to pass back when re-applying. ``previous`` and ``current``: the
    fields before and after the call; :attr:`changed` names those that differ.
    """

    fired: tuple[str, ...]
    next_change: float
    baseline: Baseline
    previous: Baseline
    current: Baseline

    @property
    def changed(self) -> tuple[str, ...]:
        """Fields whose value differs from before the call. O(fields)."""
        return tuple(
            name
            for name, old, new in zip(Baseline._fields, self.previous, self.current, strict=True)
            if old != new
        )


# Built in C: a NamedTuple's own constructor costs a Python frame per task.
_snapshot = attrgetter(*Baseline._fields)
_tuple_new = tuple.__new__

Runner = Callable[[Task, float, list[float], list[str]], bool]


Route: TypeAlias = tuple[str | None, str | None]
"""A queue name and a workflow name rules route a task to (``None``: not named)."""


class CompiledRules:
    """A rule set compiled into closures; apply it to tasks many times."""

    def __init__(
        self,
        name: str,
        version: str,
        classification: Runner,
        prioritisation: Runner,
        calendars: Mapping[str, BusinessCalendar] | None = None,
        routes: Sequence[Mapping[str, Route]] = ({}, {}),
    ):
        self.name = name
        self.version = version
        self._classification = classification
        self._prioritisation = prioritisation
        self.calendars: Mapping[str, BusinessCalendar] = MappingProxyType(dict(calendars or {}))
        """The calendars given to :func:`load_rules`, by name (an engine must have them too)."""
        # Per stage: fired rule (or row) label -> the (queue, workflow) it names.
        self._routes = (dict(routes[0]), dict(routes[1]))
        self.routes_tasks = bool(self._routes[0] or self._routes[1])
        """Whether some rule names a queue or a workflow."""
        named = [route for stage in self._routes for route in stage.values()]
        self.queues_named = frozenset(q for q, _ in named if q is not None)
        """The queues the rules name (an engine must have them)."""
        self.workflows_named = frozenset(w for _, w in named if w is not None)
        """The workflows the rules name (an engine must have them)."""

    def route(self, task: Task, now: float) -> Route:
        """The queue and workflow the rules name for ``task`` at ``now`` (each
        ``None`` when no rule that fires names one; the last that does wins).

        Runs the rules on ``task`` as :meth:`apply` does, so it changes it:
        give it a task made for the question. Raises as :meth:`apply` does.
        """
        fired: list[str] = []
        horizon = [_INF]
        self._classification(task, now, horizon, fired)
        split = len(fired)
        self._prioritisation(task, now, horizon, fired)
        queue = workflow = None
        for index, label in enumerate(fired):
            named = self._routes[0 if index < split else 1].get(label)
            if named is not None:
                queue = named[0] if named[0] is not None else queue
                workflow = named[1] if named[1] is not None else workflow
        return queue, workflow

    def apply(self, task: Task, now: float, *, baseline: Baseline | None = None) -> RuleOutcome:
        """Run classification then prioritisation on ``task`` at ``now``; mutates the task.

        With ``baseline`` (from an earlier outcome) the task's rule-controlled
        fields are first restored from it, so re-applying gives the same
        result as applying once to the original task. Never raises for any
        task, but for two: a business-time ``due_in`` that fires for a task
        without a calendar raises :class:`~valueroute.errors.RuleError`
        (the engine then refuses the submission), and a condition on a
        working time raises :class:`~valueroute.calendar.CalendarError` when the
        task's calendar cannot answer for its instants (the engine only keeps
        tasks whose instants it can). A working time the calendar does not
        reach in the years it searches never makes its condition flip. O(rules evaluated ×
        condition size). Apply it to a task that is
        not filed in a :class:`~valueroute.tasklist.TaskList` (or re-file it
        after), since rules may change its score and skills.
        """
        before: Baseline = _tuple_new(Baseline, _snapshot(task))
        if baseline is None:
            baseline = before
        else:
            baseline.restore(task)
        horizon = [_INF]
        fired: list[str] = []
        self._classification(task, now, horizon, fired)
        self._prioritisation(task, now, horizon, fired)
        after: Baseline = _tuple_new(Baseline, _snapshot(task))
        return _tuple_new(RuleOutcome, (tuple(fired), horizon[0], baseline, before, after))

    def apply_spec(self, spec: TaskSpec, now: float) -> TaskSpec:
        """Classify a task before it exists: the spec with the rules' changes.

        A ramp started by a rule is not part of a :class:`TaskSpec`; use
        :meth:`apply` on the task record to keep it. ``spec.calendar`` names
        one of :attr:`calendars` (the result names the calendar the task ends
        with); a spec with ``due_in`` is refused, since its due time counts
        from a submission. Both refusals are
        :class:`~valueroute.errors.InvalidInputError` naming the field.
        """
        if spec.due_in is not None:
            raise InvalidInputError(
                f"spec.due_in: got {bounded_repr(spec.due_in)} (expected None: a due time in "
                "seconds after submission is set by the engine; give due instead)",
                [("spec.due_in", spec.due_in, "None")],
            )
        task = Task.from_spec(spec, seq=0, now=now)
        if spec.calendar is not None:
            calendar = self.calendars.get(spec.calendar)
            if calendar is None:
                raise InvalidInputError(
                    f"spec.calendar: got {bounded_repr(spec.calendar)} (expected one of the "
                    f"rules' calendars {bounded_repr(sorted(self.calendars))})",
                    [("spec.calendar", spec.calendar, "one of the rules' calendars")],
                )
            task.calendar = calendar
        route: Route = (None, None)
        if self.routes_tasks:
            scratch = Task.from_spec(spec, seq=0, now=now)
            scratch.calendar = task.calendar if spec.calendar is not None else None
            route = self.route(scratch, now)
        self.apply(task, now)
        calendar_name = spec.calendar
        if task.calendar is not None:
            calendar_name = next(
                name for name, known in self.calendars.items() if known is task.calendar
            )
        return spec.model_copy(
            update={
                "type": task.type,
                "department": task.department,
                "process": task.process,
                "skills": dict(task.skills),
                "priority": task.priority,
                "value": task.value,
                "due": task.due,
                "calendar": calendar_name,
                "queue": spec.queue if route[0] is None else route[0],
                "workflow": spec.workflow if route[1] is None else route[1],
            }
        )

    def __repr__(self) -> str:
        return f"CompiledRules(name={self.name!r}, version={self.version!r})"


# ---------------------------------------------------------------------- compiling


def _kind_of(literal: Any) -> Kind | None:
    if isinstance(literal, bool):
        return "bool"
    if isinstance(literal, int | float):
        # Compared, not converted: an integer beyond float range cannot be converted.
        return "number" if -_FLOAT_MAX <= literal <= _FLOAT_MAX else None
    if isinstance(literal, str):
        return "text"
    return None


def _threshold_times(op: str) -> tuple[bool, bool]:
    """For ``now OP T``: whether the truth flips at T, and at the float just after T."""
    if op in (">=", "<"):
        return True, False
    if op in (">", "<="):
        return False, True
    return True, True  # == and !=


_DURATION = re.compile(
    r"^\s*(?P<amount>\d{1,15}(?:\.\d{1,15})?)\s+(?P<business>business\s+)?"
    r"(?P<unit>seconds?|minutes?|hours?)\s*$"
)
_UNIT_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_DURATION_EXPECTED = (
    "expected a number of seconds, or 'N seconds|minutes|hours' (wall time) or "
    "'N business seconds|minutes|hours' (working time in the task's calendar), N from 0 "
    "to 1e12 seconds"
)


def _duration(text: str) -> tuple[float, bool] | None:
    """``(seconds, business)`` of a duration text, or ``None`` when it does not parse."""
    match = _DURATION.match(text)
    if match is None:
        return None
    seconds = float(match["amount"]) * _UNIT_SECONDS[match["unit"].rstrip("s")]
    business = match["business"] is not None
    if not seconds <= (MAX_SPAN_SECONDS if business else MAX_SECONDS):
        return None
    return seconds, business


def _no_calendar(rule: str, due_in: str, task: Task) -> None:
    """Refuse a business-time due for a task without a calendar (raised by compiled rules)."""
    raise RuleError(
        f"rule {bounded_repr(rule, 130)}: due_in {bounded_repr(due_in)} counts business time, "
        f"but task {bounded_repr(task.id)} has no calendar (expected a calendar from the task, "
        "a rule or the engine's default)"
    )


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

# A working-clock test as ``now`` against a threshold time: for each operator on
# the field, the operator on ``now`` and whether the threshold is the last
# instant of the working value (True) or its first (False); see _working_age_at.
_WORKING_NOW: dict[str, dict[str, tuple[str, bool]]] = {
    "working_age": {">=": (">=", False), "<": ("<", False), ">": (">", True), "<=": ("<=", True)},
    "working_time_to_due": {
        ">=": ("<=", True),
        ">": ("<", False),
        "<=": (">=", False),
        "<": (">", True),
    },
}


def _working_age_at(task: Task, amount: float, last: bool) -> float:
    """When ``task``'s working age reaches ``amount`` seconds: the first instant it
    does (``last`` false), or the last instant it still equals it (``last`` true).

    With W the working time of the task's calendar and X = W(created) + amount,
    W(t) >= X exactly from the first instant ``A = calendar.add(created,
    amount)``, and W(t) <= X exactly up to ``B = calendar.next_open(A)`` (W
    stays at X while the calendar is closed, and rises right after an
    opening). So ``working_age >= c`` is ``now >= A`` and ``working_age > c``
    is ``now > B``. Without a calendar both are ``created + amount`` (wall
    time, as ``age``). O(log n) in the calendar's table.
    """
    calendar = task.calendar
    if calendar is None:
        return task.created + amount
    first = _or_never(calendar.add, task.created, amount)
    return _or_never(calendar.next_open, first) if last and first != _INF else first


def _working_due_at(task: Task, due: float, amount: float, last: bool) -> float:
    """When ``task``'s working time to ``due`` falls to ``amount`` seconds: the
    first instant W(t) reaches W(due) - amount (``last`` false), or the last
    instant W(t) still equals it (``last`` true); see :func:`_working_age_at`.

    Found from the task's creation: when W(due) - amount is at or below
    W(created) (``due`` is too close or already past), every instant from the
    creation on is past both, and ``-inf`` is returned. Without a calendar
    both are ``due - amount`` (wall time, as ``time_to_due``).
    """
    calendar = task.calendar
    if calendar is None:
        return due - amount
    span = calendar.elapsed(task.created, due) - amount
    if span < 0.0:
        return -_INF
    # W(due) - amount is W(created) + span: the working age reaching span.
    return _working_age_at(task, span, last)


class _Compiler:
    """Validates a rule set and generates one Python function per stage.

    Conditions become inline expressions and actions inline statements, so a
    rule costs a few bytecodes instead of a chain of closure calls. Every
    literal, pattern and time test is bound by name from a namespace (never
    written into the source), so nothing in a rule file becomes code.
    """

    def __init__(
        self, rule_set: RuleSet, calendars: Mapping[str, BusinessCalendar] | None = None
    ) -> None:
        self.rule_set = rule_set
        self.calendars = calendars or {}
        self.rule = ""
        self.re2_options = re2.Options()
        self.re2_options.log_errors = False
        self.namespace: dict[str, Any] = {
            "_NUMBER": (int, float),
            "_MAX_PRIORITY": MAX_PRIORITY,
            "_MAX_VALUE": MAX_VALUE,
            "_nextafter": math.nextafter,
            "_INF": _INF,
            "_no_calendar": _no_calendar,
            "_working_age_at": _working_age_at,
            "_working_due_at": _working_due_at,
        }
        self.temporaries = 0
        # Per stage: rule (or row) label -> the (queue, workflow) its actions name.
        self.routes: tuple[dict[str, Route], dict[str, Route]] = ({}, {})
        self.stage = 0

    def note_route(self, label: str, actions: Actions) -> None:
        if actions.queue is not None or actions.workflow is not None:
            if label in self.routes[self.stage]:
                raise self.fail(
                    "rows",
                    f"two rows named {bounded_repr(label)} route tasks (expected distinct row "
                    "names where rows name a queue or a workflow)",
                )
            self.routes[self.stage][label] = (actions.queue, actions.workflow)

    def fail(self, where: str, problem: str) -> RuleError:
        return RuleError(
            f"rule set {bounded_repr(self.rule_set.name, 130)}, rule "
            f"{bounded_repr(self.rule, 130)}, {where}: {problem}"
        )

    def const(self, value: Any) -> str:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temporary(self) -> str:
        self.temporaries += 1
        return f"_v{self.temporaries}"

    def compile(self) -> CompiledRules:
        runners: list[Runner] = []
        for self.stage, stage_name in enumerate(("classification", "prioritisation")):
            stage: Stage = getattr(self.rule_set, stage_name)
            size = sum(len(rule.rows) if rule.rows is not None else 1 for rule in stage.rules)
            if size > MAX_RULES:
                raise RuleError(
                    f"rule set {self.rule_set.name!r}, {stage_name}: got {size} rules "
                    f"(expected at most {MAX_RULES})"
                )
            first = stage.mode == "first"
            lines = [
                f"def _{stage_name}(task, now, h, fired):",
                "    attrs = task.attributes",
                "    hz = h[0]",
                "    hit = False",
            ]
            seen: set[str] = set()
            for rule in stage.rules:
                self.rule = rule.name
                if rule.name in seen:
                    raise self.fail("name", f"used twice in {stage_name} (expected unique names)")
                seen.add(rule.name)
                lines.extend(self.rule_lines(rule, first))
            lines.append("    h[0] = hz")
            lines.append("    return hit")
            source = "\n".join(lines) + "\n"
            try:
                code = compile(source, f"<rule set {self.rule_set.name!r}: {stage_name}>", "exec")
            except (SyntaxError, RecursionError, MemoryError) as exc:
                # The limits above keep generated code within the parser's limits; this
                # names the stage if a future change ever breaks that.
                raise RuleError(
                    f"rule set {self.rule_set.name!r}, {stage_name}: too complex to compile "
                    f"({type(exc).__name__}: {exc})"
                ) from None
            exec(code, self.namespace)
            runners.append(self.namespace[f"_{stage_name}"])
        return CompiledRules(
            self.rule_set.name,
            str(self.rule_set.version),
            runners[0],
            runners[1],
            self.calendars,
            self.routes,
        )

    # -- rules

    def rule_lines(self, rule: Rule, first: bool) -> list[str]:
        on_fire = "h[0] = hz; return True" if first else "hit = True"
        if rule.rows is not None:
            if rule.when is not None or rule.then is not None:
                raise self.fail("rows", "a decision table has rows, not when/then (expected one)")
            return self.table_lines(rule, first)
        if rule.then is None:
            raise self.fail("then", "missing (expected the rule's actions, or rows for a table)")
        test = "True" if rule.when is None else self.condition(rule.when, "when", 0)
        self.note_route(rule.name, rule.then)
        return [
            f"    if {test}:",
            *(f"        {line}" for line in self.actions(rule.then, "then")),
            f"        fired.append({self.const(rule.name)})",
            f"        {on_fire}",
        ]

    def table_lines(self, rule: Rule, first: bool) -> list[str]:
        assert rule.rows is not None
        if not rule.rows:
            raise self.fail("rows", "empty (expected at least one row)")
        lines: list[str] = ["    table_hit = False"]
        seen: dict[str, tuple[int, Actions]] = {}
        for index, row in enumerate(rule.rows):
            where = f"rows[{index}]"
            # The tests first: they refuse every literal json.dumps could not write
            # (an integer beyond float range).
            tests = [
                self.test(name, _as_test(spec), f"{where}.when.{bounded_repr(name)}")
                for name, spec in row.when.items()
            ]
            key = json.dumps(row.when, sort_keys=True, default=repr)
            if key in seen:
                other, actions = seen[key]
                if actions != row.then:
                    raise self.fail(
                        where,
                        f"same conditions as rows[{other}] but different actions "
                        "(contradictory rows)",
                    )
                raise self.fail(where, f"repeats rows[{other}] (duplicate row)")
            seen[key] = (index, row.then)
            test = " and ".join(f"({t})" for t in tests) or "True"
            label = f"{rule.name}[{row.name if row.name is not None else index}]"
            self.note_route(label, row.then)
            keyword = "elif" if rule.hit == "first" and index > 0 else "if"
            lines.extend(
                [
                    f"    {keyword} {test}:",
                    *(f"        {line}" for line in self.actions(row.then, f"{where}.then")),
                    f"        fired.append({self.const(label)})",
                    "        table_hit = True",
                ]
            )
        lines.append("    if table_hit:")
        lines.append("        h[0] = hz; return True" if first else "        hit = True")
        return lines

    # -- conditions

    def condition(self, cond: Condition, where: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise self.fail(where, f"nested deeper than {MAX_DEPTH} levels")
        given = [
            name
            for name, present in (
                ("field", cond.field is not None or cond.op is not None),
                ("all", cond.all is not None),
                ("any", cond.any is not None),
                ("not", cond.negate is not None),
            )
            if present
        ]
        if len(given) != 1:
            raise self.fail(
                where,
                f"got {given or 'nothing'} (expected exactly one of field/op/value, all, any, not)",
            )
        if cond.all is not None:
            parts = [
                self.condition(c, f"{where}.all[{i}]", depth + 1) for i, c in enumerate(cond.all)
            ]
            return "(" + " and ".join(f"({p})" for p in parts) + ")" if parts else "True"
        if cond.any is not None:
            parts = [
                self.condition(c, f"{where}.any[{i}]", depth + 1) for i, c in enumerate(cond.any)
            ]
            return "(" + " or ".join(f"({p})" for p in parts) + ")" if parts else "False"
        if cond.negate is not None:
            return f"(not ({self.condition(cond.negate, f'{where}.not', depth + 1)}))"
        if cond.field is None or cond.op is None:
            raise self.fail(where, "a test needs both field and op")
        return self.test(
            cond.field, (cond.op, cond.value), f"{where} (field {bounded_repr(cond.field)})"
        )

    def field_kind(self, name: str, where: str) -> Kind:
        if name.startswith("attributes."):
            attribute = name[len("attributes.") :]
            declared = self.rule_set.attributes.get(attribute)
            if declared is None:
                raise self.fail(
                    where,
                    f"unknown field {bounded_repr(name)} (declare attribute "
                    f"{bounded_repr(attribute)} with its type under 'attributes'; declared: "
                    f"{bounded_repr(sorted(self.rule_set.attributes), 200)})",
                )
            return declared
        kind = _FIELDS.get(name)
        if kind is None:
            raise self.fail(
                where,
                f"unknown field {bounded_repr(name)} (expected one of {sorted(_FIELDS)} "
                "or attributes.<name>)",
            )
        return kind

    def literal(self, value: Any, kind: Kind, where: str, op: str) -> Any:
        got = _kind_of(value)
        if got != kind:
            raise self.fail(
                where,
                f"operator {bounded_repr(op)} got literal {bounded_repr(value)} (expected a "
                f"{kind} to compare with the field's type"
                + (", within float range)" if kind == "number" else ")"),
            )
        return float(value) if kind == "number" else value

    def test(self, name: str, test: tuple[str, Any], where: str) -> str:
        """An expression for one test; names ``task``, ``attrs``, ``now`` and ``h``."""
        op, literal = test
        kind = self.field_kind(name, where)
        if not isinstance(op, str) or op not in OPERATORS:
            raise self.fail(
                where, f"unknown operator {bounded_repr(op)} (expected one of {list(OPERATORS)})"
            )
        if op not in _OPS_FOR[kind]:
            raise self.fail(where, f"operator {op!r} does not apply to a {kind} field")
        if name in _WORKING_FIELDS and op not in _WORKING_OPS:
            raise self.fail(
                where,
                f"operator {op!r} does not apply to {name} (expected one of "
                f"{sorted(_WORKING_OPS)}: a working time holds one value over a whole closed "
                "stretch, so equality tests nothing useful)",
            )
        if op in ("in", "not in", "between"):
            if not isinstance(literal, list) or not literal:
                raise self.fail(
                    where, f"operator {op!r} got {bounded_repr(literal)} (expected a list)"
                )
            if len(literal) > MAX_LIST:
                raise self.fail(
                    where, f"operator {op!r} got {len(literal)} items (at most {MAX_LIST})"
                )
            items = [self.literal(item, kind, where, op) for item in literal]
            if op == "between" and (len(items) != 2 or not items[0] <= items[1]):
                raise self.fail(
                    where,
                    f"'between' got {bounded_repr(literal)} "
                    "(expected [low, high] with low <= high)",
                )
            if name in _TIME_FIELDS:
                if name in _WORKING_FIELDS:
                    self.working_amounts(name, items, where)
                return self.time_test(name, op, items)
            if op == "between":
                low, high = self.const(items[0]), self.const(items[1])
                return self.guarded(name, kind, lambda v: f"{low} <= {v} <= {high}")
            members = self.const(frozenset(items))
            return self.guarded(name, kind, lambda v: f"{v} {op} {members}")
        if op == "matches":
            if not isinstance(literal, str):
                raise self.fail(
                    where, f"'matches' got {bounded_repr(literal)} (expected a regex string)"
                )
            if len(literal) > MAX_PATTERN:
                raise self.fail(
                    where, f"pattern of {len(literal)} characters (at most {MAX_PATTERN})"
                )
            if not is_unicode_text(literal):
                raise self.fail(
                    where,
                    f"pattern {bounded_repr(literal)} is not valid Unicode text (expected no "
                    "lone surrogates)",
                )
            try:
                pattern = re2.compile(literal, options=self.re2_options)
            except re2.error as exc:
                reason = exc.args[0] if exc.args else exc
                if isinstance(reason, bytes):
                    reason = reason.decode("utf-8", "replace")
                raise self.fail(
                    where,
                    f"pattern {bounded_repr(literal)} is not a linear-time (RE2) regular "
                    f"expression: {reason} (backreferences and lookaround are not supported)",
                ) from None
            if pattern.programsize > MAX_PROGRAM_SIZE:
                raise self.fail(
                    where,
                    f"pattern {bounded_repr(literal)} compiles to an RE2 program of size "
                    f"{pattern.programsize} (expected at most {MAX_PROGRAM_SIZE}: the time a "
                    "search takes per character grows with it; use fewer or smaller counted "
                    "repetitions such as {n})",
                )
            found = self.const(_finder(pattern))
            return self.guarded(name, kind, lambda v: f"{found}({v})")
        value = self.literal(literal, kind, where, op)
        if name in _TIME_FIELDS:
            if name in _WORKING_FIELDS:
                self.working_amounts(name, [value], where)
            return self.time_test(name, op, [value])
        constant = self.const(value)
        if op == "contains":
            return self.guarded(name, kind, lambda v: f"{constant} in {v}")
        return self.guarded(name, kind, lambda v: f"{v} {op} {constant}")

    def working_amounts(self, name: str, amounts: list[float], where: str) -> None:
        """Refuse an amount of working time a calendar cannot count (negative, or over
        ``MAX_SPAN_SECONDS``)."""
        for amount in amounts:
            if not 0.0 <= amount <= MAX_SPAN_SECONDS:
                raise self.fail(
                    where,
                    f"{name} compared with {bounded_repr(amount)} (expected seconds of "
                    f"working time from 0 to {MAX_SPAN_SECONDS:g})",
                )

    def time_test(self, name: str, op: str, items: list[float]) -> str:
        """Age or time to due as ``now`` against threshold times, updating ``hz``.

        age OP c  <=>  now OP (created + c);  time_to_due OP c  <=>  now OP' (due - c)
        with OP' mirrored. The truth of ``now OP T`` flips at T (>=, <, ==, !=)
        or at the next float after T (>, <=, ==, !=); the earliest such time
        after ``now`` among the evaluated tests is kept in ``hz``. The working
        fields are the same with threshold times in the task's calendar
        (:meth:`working_compare`).
        """
        if name in _WORKING_FIELDS:
            if op == "between":
                low, high = items
                parts = [(">=", low), ("<=", high)]
                return "(" + " and ".join(self.working_compare(name, o, c) for o, c in parts) + ")"
            return self.working_compare(name, op, items[0])
        is_age = name == "age"
        if op == "between":
            low, high = items
            parts = [(">=", low), ("<=", high)] if is_age else [(">=", high), ("<=", low)]
            return "(" + " and ".join(self.time_compare(is_age, o, c) for o, c in parts) + ")"
        if op == "in":
            return "(" + " or ".join(self.time_compare(is_age, "==", c) for c in items) + ")"
        if op == "not in":
            # All of the != tests, so a task without a due time is false, as every
            # comparison on a missing value is.
            return "(" + " and ".join(self.time_compare(is_age, "!=", c) for c in items) + ")"
        return self.time_compare(is_age, op if is_age else _MIRROR[op], items[0])

    def time_compare(self, is_age: bool, op: str, amount: float) -> str:
        t, d = self.temporary(), self.temporary()
        k = self.const(amount)
        threshold = f"({t} := task.created + {k})" if is_age else f"({t} := {d} - {k})"
        body = self.now_against(op, t, threshold)
        if is_age:
            return body
        return f"((({d} := task.due) is not None) and {body})"

    def working_compare(self, name: str, op: str, amount: float) -> str:
        """``working_age OP c`` or ``working_time_to_due OP c`` as ``now`` against a
        threshold time of the task's calendar (see :func:`_working_age_at`)."""
        now_op, after = _WORKING_NOW[name][op]
        t, d = self.temporary(), self.temporary()
        k = self.const(amount)
        if name == "working_age":
            return self.now_against(now_op, t, f"({t} := _working_age_at(task, {k}, {after}))")
        threshold = f"({t} := _working_due_at(task, {d}, {k}, {after}))"
        return f"((({d} := task.due) is not None) and {self.now_against(now_op, t, threshold)})"

    def now_against(self, op: str, t: str, threshold: str) -> str:
        """``now OP t`` once ``threshold`` binds ``t``, keeping in ``hz`` the time its
        truth flips when that is the earliest after ``now``."""
        at_threshold, just_after = _threshold_times(op)
        updates = []
        # "(hz := x) is None" is always false: an assignment inside an expression.
        # "threshold is None" is always false too: it only binds the threshold first.
        if at_threshold:
            updates.append(f"(now < {t} < hz and (hz := {t}) is None)")
        if just_after:
            a = self.temporary()
            updates.append(f"(now < ({a} := _nextafter({t}, _INF)) < hz and (hz := {a}) is None)")
        return f"({threshold} is None or " + " or ".join(updates) + f" or now {op} {t})"

    def guarded(self, name: str, kind: Kind, compare: Callable[[str], str]) -> str:
        """``compare`` applied to the field, false when it is missing or of another type."""
        if name.startswith("attributes."):
            key = self.const(name[len("attributes.") :])
            v = self.temporary()
            if kind == "number":
                guard = f"({v} := attrs.get({key})).__class__ in _NUMBER"
            else:
                guard = (
                    f"({v} := attrs.get({key})).__class__ is {'str' if kind == 'text' else 'bool'}"
                )
            return f"({guard} and {compare(v)})"
        if name in ("department", "process"):
            v = self.temporary()
            return f"(({v} := task.{name}) is not None and {compare(v)})"
        return f"({compare(f'task.{name}')})"

    # -- actions

    def actions(self, actions: Actions, where: str) -> list[str]:
        lines: list[str] = []
        if actions.type is not None:
            lines.append(f"task.type = {self.const(sys.intern(actions.type))}")
        for label in ("department", "process"):
            text = getattr(actions, label)
            if text is not None:
                lines.append(f"task.{label} = {self.const(sys.intern(text))}")
        if actions.skills is not None:
            skills = self.skills(actions.skills, f"{where}.skills")
            lines.append(f"task.skills = {self.const(skills)}")
        if actions.add_skills is not None:
            extra = self.const(dict(self.skills(actions.add_skills, f"{where}.add_skills")))
            lines.append(f"task.skills = {{**task.skills, **{extra}}}")
        if actions.priority is not None:
            lines.append(f"task.priority = {self.const(actions.priority)}")
        if actions.add_priority is not None:
            # Stops at the bound, so that no number of rules takes it beyond. Compared
            # inline: cheaper than calls to min and max.
            lines.append(f"_a = task.priority + {self.const(actions.add_priority)}")
            lines.append(
                "task.priority = _a if -_MAX_PRIORITY <= _a <= _MAX_PRIORITY "
                "else (_MAX_PRIORITY if _a > 0 else -_MAX_PRIORITY)"
            )
        if actions.value is not None:
            lines.append(f"task.value = {self.const(float(actions.value))}")
        if actions.add_value is not None:
            lines.append(f"_a = task.value + {self.const(actions.add_value)}")
            lines.append(
                "task.value = _a if 0.0 <= _a <= _MAX_VALUE else (_MAX_VALUE if _a > 0.0 else 0.0)"
            )
        if actions.scale_value is not None:
            lines.append(f"_a = task.value * {self.const(actions.scale_value)}")
            lines.append("task.value = _a if _a <= _MAX_VALUE else _MAX_VALUE")
        if actions.calendar is not None:
            calendar = self.calendars.get(actions.calendar)
            if calendar is None:
                raise self.fail(
                    f"{where}.calendar",
                    f"unknown calendar {bounded_repr(actions.calendar)} (expected one of "
                    f"{bounded_repr(sorted(self.calendars))}, the calendars given to load_rules)",
                )
            lines.append(f"task.calendar = {self.const(calendar)}")
        if actions.due_in is not None:
            seconds, business = self.duration(actions.due_in, f"{where}.due_in")
            if business:
                rule = self.const(self.rule)
                text = self.const(str(actions.due_in))
                lines.append(f"if task.calendar is None: _no_calendar({rule}, {text}, task)")
                lines.append(f"task.due = task.calendar.add(task.created, {self.const(seconds)})")
            else:
                lines.append(f"task.due = task.created + {self.const(seconds)}")
        if actions.ramp is not None:
            try:
                ramp = Ramp(**actions.ramp.model_dump())
            except InvalidInputError as exc:
                raise self.fail(f"{where}.ramp", str(exc)) from None
            lines.append(f"task.ramp = {self.const(ramp)}")
        if not lines and actions.queue is None and actions.workflow is None:
            raise self.fail(where, "no actions (expected at least one)")
        return lines or ["pass"]

    def duration(self, due_in: float | str, where: str) -> tuple[float, bool]:
        """``(seconds, business)`` of a ``due_in`` the model has checked."""
        if isinstance(due_in, str):
            parsed = _duration(due_in)
            if parsed is None:  # pragma: no cover - the model refuses it first
                raise self.fail(where, f"got {bounded_repr(due_in)} ({_DURATION_EXPECTED})")
            return parsed
        return float(due_in), False

    def skills(self, skills: dict[str, float], where: str) -> Mapping[str, float]:
        if len(skills) > MAX_SKILLS:
            raise self.fail(where, f"{len(skills)} skills (at most {MAX_SKILLS})")
        for skill, level in skills.items():
            if (
                not skill
                or len(skill) > MAX_SKILL_NAME
                or not is_unicode_text(skill)
                or not 0 <= level <= MAX_SKILL_LEVEL
            ):
                raise self.fail(
                    where,
                    f"skill {bounded_repr(skill)} with level {bounded_repr(level)} (expected a "
                    f"name of 1 to {MAX_SKILL_NAME} characters of valid Unicode and a level "
                    f"from 0 to {MAX_SKILL_LEVEL:g})",
                )
        return MappingProxyType(dict(skills))


def _as_test(spec: Any) -> tuple[Any, Any]:
    if isinstance(spec, Mapping) and set(spec) <= {"op", "value"} and "op" in spec:
        return spec["op"], spec.get("value")
    return "==", spec


def _finder(pattern: Any) -> Callable[[str], bool]:
    """Whether ``pattern`` is found in a text; never raises for a str.

    RE2 reads UTF-8, which cannot carry a lone surrogate; such a text (only
    a task record built without :class:`TaskSpec` can hold one) is searched
    with each surrogate read as U+FFFD, the replacement character.
    """
    search = pattern.search

    def found(text: str) -> bool:
        try:
            return search(text) is not None
        except UnicodeEncodeError:
            return search(_SURROGATES.sub("\ufffd", text)) is not None

    return found


_SURROGATES = re.compile("[\ud800-\udfff]")


# ---------------------------------------------------------------------- loading


def _check_shape(data: Any) -> None:
    """Refuse a rule set mapping that documents may not be (too large, too deep, not Unicode)."""
    try:
        check_shape(data, "rule set")
    except DocumentError as exc:
        raise RuleError(f"rule set: {exc.reason}") from None
    _check_keys(data, "rule set")


def _check_keys(data: Any, what: str) -> None:
    """Refuse a mapping anywhere in ``data`` with a key that is not text (YAML allows them).

    Iterative: ``data`` passed :func:`_check_shape`'s limits of size and depth.
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, value in item.items():
                if not isinstance(key, str):
                    raise RuleError(
                        f"{what}: got the key {bounded_repr(key)} of type {type(key).__name__} "
                        "(expected field names as text)"
                    )
                stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)


def parse_rules(text: str | bytes, *, format: Literal["toml", "json", "yaml"] = "toml") -> RuleSet:
    """Parse and validate a rule file's text (not yet compiled).

    Raises :class:`~valueroute.errors.RuleError` for any malformed input,
    including ``text`` that is neither text nor bytes.
    """
    if not isinstance(text, str | bytes):
        raise RuleError(
            f"text: got {bounded_repr(text)} of type {type(text).__name__} "
            "(expected the rule file's text, str or bytes)"
        )
    if len(text) > MAX_RULE_FILE_BYTES:
        raise RuleError(f"rule file: {len(text)} bytes (expected at most {MAX_RULE_FILE_BYTES})")
    try:
        data = parse_document(text, format)
    except DocumentError as exc:
        where = "format" if exc.field == "format" else "rule file"
        raise RuleError(f"{where}: {exc.reason}") from None
    if not isinstance(data, Mapping):
        raise RuleError(f"rule file: got a {type(data).__name__} (expected a table/object)")
    _check_keys(data, "rule file")
    try:
        return RuleSet.model_validate(data)
    except InvalidInputError as exc:
        raise RuleError(
            f"rule file: {_cut(str(exc), _MESSAGE_ROOM)}{_rule_names(data, exc)}"
        ) from None
    except RecursionError:
        raise RuleError("rule file: nested too deeply") from None


def load_rules(
    source: str | Path | RuleSet | Mapping[str, Any],
    *,
    calendars: Mapping[str, BusinessCalendar] | None = None,
) -> CompiledRules:
    """Load, validate and compile a rule set from a file path, a mapping or a model.

    The file format follows the suffix (``.toml``, ``.json``, ``.yaml``/``.yml``).
    ``calendars`` are the business calendars rules may name
    (``then.calendar``), the engine's own. Every problem raises
    :class:`~valueroute.errors.RuleError` here, never later (a ``source`` of
    another type too).
    """
    table = _calendar_table(calendars)
    if isinstance(source, RuleSet):
        return source.compile(calendars=table)
    if isinstance(source, Mapping):
        _check_shape(source)
        try:
            return RuleSet.model_validate(source).compile(calendars=table)
        except InvalidInputError as exc:
            raise RuleError(
                f"rule set: {_cut(str(exc), _MESSAGE_ROOM)}{_rule_names(source, exc)}"
            ) from None
    if not isinstance(source, str | Path):
        raise RuleError(
            f"source: got {bounded_repr(source)} of type {type(source).__name__} "
            "(expected a file path, a mapping or a RuleSet)"
        )
    path = Path(source)
    file_format = SUFFIXES.get(path.suffix.lower())
    if file_format is None:
        raise RuleError(
            f"rule file {str(path)!r}: unknown suffix {path.suffix!r} "
            f"(expected one of {sorted(SUFFIXES)})"
        )
    try:
        size = path.stat().st_size
        if size > MAX_RULE_FILE_BYTES:
            raise RuleError(
                f"rule file {str(path)!r}: {size} bytes (expected at most {MAX_RULE_FILE_BYTES})"
            )
        with path.open("rb") as file:
            # Read no more than the limit: a device or a growing file has no true size.
            raw = file.read(MAX_RULE_FILE_BYTES + 1)
        if len(raw) > MAX_RULE_FILE_BYTES:
            raise RuleError(
                f"rule file {str(path)!r}: more than {MAX_RULE_FILE_BYTES} bytes "
                f"(expected at most {MAX_RULE_FILE_BYTES})"
            )
    except OSError as exc:
        raise RuleError(f"rule file {str(path)!r}: cannot be read ({exc.strerror})") from None
    return parse_rules(raw, format=file_format).compile(calendars=table)


_MESSAGE_ROOM = 420
"""How much of a model's message a RuleError quotes: with the rule names it
stays one readable line (a model lists every problem; the first ones say
what to fix first)."""


def _cut(text: str, room: int) -> str:
    """``text``, or its first ``room`` characters and a note that more was said."""
    return text if len(text) <= room else text[: room - 30] + " ... (and more problems)"


def _rule_names(data: Mapping[str, Any], exc: InvalidInputError) -> str:
    """`` (rules 'a', 'b')``: the names of the rules the problems of ``exc`` are in, if any."""
    names: list[str] = []
    for field, _value, _expected in exc.errors[:10]:
        parts = field.split(".")
        if len(parts) < 3 or parts[1] != "rules" or not parts[2].isdigit():
            continue
        stage = data.get(parts[0])
        rules = stage.get("rules") if isinstance(stage, Mapping) else None
        index = int(parts[2])
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], Mapping):
            name = rules[index].get("name")
            if isinstance(name, str) and bounded_repr(name, 130) not in names:
                names.append(bounded_repr(name, 130))
    return f" (rules {', '.join(names)})" if names else ""


def _calendar_table(calendars: object) -> dict[str, BusinessCalendar]:
    """The calendars rules may name, checked: names (text) to BusinessCalendar."""
    if calendars is None:
        return {}
    if not isinstance(calendars, Mapping):
        raise RuleError(
            f"calendars: got {bounded_repr(calendars)} (expected a mapping of names to "
            "BusinessCalendar, or None)"
        )
    for name, calendar in calendars.items():
        if not isinstance(name, str) or not isinstance(calendar, BusinessCalendar):
            raise RuleError(
                f"calendars: got {bounded_repr(name)}: {bounded_repr(calendar)} (expected "
                "names as text, each to a valueroute.calendar.BusinessCalendar)"
            )
    return dict(calendars)


# ---------------------------------------------------------------------- dry run


@dataclass(frozen=True, slots=True)
class DryRunRow:
    """One task of a dry run: its rank, score, rules fired and explanation."""

    rank: int
    task: Task
    score: float
    explanation: Explanation


def dry_run(
    rules: CompiledRules | None, policy: Policy, specs: Iterable[TaskSpec], *, now: float
) -> list[DryRunRow]:
    """Apply ``rules`` and ``policy`` to task specs and return the dispatch order at ``now``.

    No engine: the tasks are classified at ``now`` and filed in a fresh
    :class:`~valueroute.tasklist.TaskList`. O(n log n).

    ``rules`` is compiled rules or ``None``, ``policy`` a policy, ``specs``
    an iterable of :class:`~valueroute.models.TaskSpec` and ``now`` a finite
    number of seconds; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument. A spec
    naming a calendar or a ``due_in`` is refused: they need an engine's
    calendars (rules may set a task's calendar).
    """
    from valueroute.tasklist import TaskList

    if rules is not None and not isinstance(rules, CompiledRules):
        raise InvalidInputError(
            f"rules: got {bounded_repr(rules)} of type {type(rules).__name__} "
            "(expected compiled rules from load_rules, or None)",
            [("rules", rules, "compiled rules or None")],
        )
    if isinstance(specs, str | bytes | Mapping) or not isinstance(specs, Iterable):
        raise InvalidInputError(
            f"specs: got {bounded_repr(specs)} (expected an iterable of TaskSpec)",
            [("specs", specs, "an iterable of TaskSpec")],
        )
    tasks = TaskList(policy)
    fired: dict[str, tuple[str, ...]] = {}
    for seq, spec in enumerate(specs):
        if not isinstance(spec, TaskSpec):
            raise InvalidInputError(
                f"specs[{seq}]: got {bounded_repr(spec)} of type {type(spec).__name__} "
                "(expected a TaskSpec)",
                [(f"specs[{seq}]", spec, "a TaskSpec")],
            )
        if spec.calendar is not None or spec.due_in is not None:
            raise InvalidInputError(
                f"specs[{seq}]: got a spec with calendar {bounded_repr(spec.calendar)} and "
                f"due_in {bounded_repr(spec.due_in)} (expected neither outside an engine: "
                "submit it to an Engine with calendars)",
                [(f"specs[{seq}]", spec, "a TaskSpec without calendar and due_in")],
            )
        task = Task.from_spec(spec, seq=seq, now=now)
        if rules is not None:
            fired[task.id] = rules.apply(task, now).fired
        tasks.add(task, now=now)
    return [
        DryRunRow(rank, task, score, explain(policy, task, now, rules=fired.get(task.id, ())))
        for rank, (task, score) in enumerate(tasks.ranked(now), start=1)
    ]
