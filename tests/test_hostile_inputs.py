"""Bad input everywhere: every public command, constructor, loader and CLI subcommand.

Each case hands valueroute something it must refuse (a wrong type, a
non-finite or huge number, a lone surrogate, an oversized or absurdly nested
document, a YAML alias bomb, bytes that are not UTF-8) and checks that:

- the refusal is a :class:`~valueroute.errors.ValueRouteError` (never a
  TypeError, KeyError, OverflowError, UnicodeEncodeError, RecursionError...);
- it comes within a time bound (2 s in-process, 10 s in a child process);
- the message is short (about 500 characters, at most 600) and names the field;
- for the engine, nothing changed: ``digest()`` and ``event_count`` are as
  before, and a good command still works afterwards; for the durable engine
  also reopening the journal gives the same digest;
- for the command line: exit code 2 and exactly one line on stderr, no
  traceback.

Documents that could hang a careless reader in C code (alias bombs) are read
in a child process with a memory cap (see ``tests/hostile_cases.py``).
"""

from __future__ import annotations

import json
import math
import re
import reprlib
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_cases import (
    HUGE_INTS,
    MB,
    NON_FINITE,
    NOT_NUMBERS,
    NOT_STRINGS,
    NOT_UTF8,
    SURROGATE,
    Opaque,
    alias_bomb_yaml,
    deep_json,
    deep_toml,
    deep_yaml,
    nested_dict,
    nested_list,
)
from valueroute import (
    AgentSpec,
    Engine,
    TaskSpec,
    ValueRouteError,
)
from valueroute.errors import ErlangError, InvalidInputError
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.queues import build_queues
from valueroute.workflows import build_workflows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULES_FILE = ROOT / "examples" / "rules" / "claims.toml"
TASKS_FILE = ROOT / "examples" / "rules" / "tasks.jsonl"
# "About 500 characters": room for a message that lists the valid choices (the 26
# event kinds take 506), none for one that grows with the input.
MAX_MESSAGE = 600
IN_PROCESS_SECONDS = 2.0
CHILD_SECONDS = 10.0

# ====================================================================== harness


class CaseTimeout(BaseException):
    """Raised in the main thread when a case outlives its time bound.

    A BaseException, so that no ``except Exception`` in the code under test
    can swallow it.
    """


@contextmanager
def time_bound(seconds: float = IN_PROCESS_SECONDS) -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(call: Callable[[], object], field: str | None = None) -> ValueRouteError:
    """Run ``call`` under the time bound; it must raise a ValueRouteError, short, naming ``field``.

    Any other exception propagates, so the test report shows its type and
    place.
    """
    error: ValueRouteError | None = None
    outcome = "accepted"
    try:
        with time_bound():
            try:
                result = call()
            except ValueRouteError as exc:
                error = exc
            else:
                outcome = f"accepted, returned {reprlib.repr(result)}"
    except CaseTimeout:
        # Failed out here, not where the alarm struck: a traceback thousands
        # of frames deep (a parser's recursion) is more than a report needs.
        outcome = f"no answer within {IN_PROCESS_SECONDS} s"
    if error is None:
        pytest.fail(outcome, pytrace=False)
    message = str(error)
    assert message, "empty error message"
    assert len(message) <= message_limit(error), (
        f"message of {len(message)} characters (at most {message_limit(error)}): {message[:200]}..."
    )
    if field is not None:
        # "a|b": the field may go by either name (an argument and the concept it sets).
        assert any(_names(message, name) for name in field.split("|")), (
            f"message does not name {field!r}: {message[:300]}"
        )
    return error


def message_limit(error: ValueRouteError) -> int:
    """MAX_MESSAGE per problem listed: the models list every problem at once, as documented."""
    problems = len(error.errors) if isinstance(error, InvalidInputError) else 1
    return MAX_MESSAGE * max(1, problems)


def _names(message: str, field: str) -> bool:
    """Whether ``message`` names ``field`` as a word ("id" in "TaskSpec.id:", not in "valid")."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(field)}(?![A-Za-z0-9_])", message) is not None


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[..., object]
    field: str | None = None


def params(cases: list[Case]) -> list[Any]:
    ids = [case.id for case in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates
    return [pytest.param(case, id=case.id) for case in cases]


def _ids_of(builder: Callable[[Path], list[Case]]) -> list[str]:
    """Case ids of a builder that writes files: built once in a scratch folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        return [case.id for case in builder(Path(scratch))]


_BUILT: dict[str, dict[str, Case]] = {}


def built(
    builder: Callable[[Path], list[Case]], factory: pytest.TempPathFactory
) -> dict[str, Case]:
    """The cases of a builder that writes files, built once per run (they only read them)."""
    name = builder.__name__
    if name not in _BUILT:
        _BUILT[name] = {case.id: case for case in builder(factory.mktemp(name))}
    return _BUILT[name]


# ====================================================================== engine

now = [0.0]


def build_engine(clock: Callable[[], float] | None = None) -> Engine:
    """A pull engine with: ann (ready), q1 and q2 queued, a1 assigned to ann, o1 offered to ann."""
    now[0] = 0.0
    engine = Engine(dispatch="pull", clock=clock or (lambda: now[0]))
    populate(engine)
    return engine


def populate(engine: Any) -> None:
    engine.add_agent(
        AgentSpec(id="ann", skills={"claims": 3}, capacity={"email": 5, "voice": 1}), ready=True
    )
    for task_id, priority in (("q1", 0), ("q2", 0), ("a1", 9), ("o1", 8)):
        engine.submit(
            TaskSpec(id=task_id, channel="email", priority=priority, skills={"claims": 1})
        )
    now[0] = 10.0
    engine.next_task("ann")
    engine.accept("a1", "ann")
    engine.next_task("ann")
    now[0] = 20.0


def good_submit(engine: Any, task_id: str = "fresh") -> None:
    task = engine.submit(TaskSpec(id=task_id, channel="email", skills={"claims": 1}))
    assert task.id == task_id


ID_COMMANDS: dict[str, Callable[[Any, Any], object]] = {
    "get": lambda e, x: e.get(x),
    "offer_of": lambda e, x: e.engine.offer_of(x) if hasattr(e, "engine") else e.offer_of(x),
    "agent_of": lambda e, x: e.engine.agent_of(x) if hasattr(e, "engine") else e.agent_of(x),
    "explain": lambda e, x: e.engine.explain(x) if hasattr(e, "engine") else e.explain(x),
    "accept": lambda e, x: e.accept(x),
    "reject": lambda e, x: e.reject(x),
    "revoke": lambda e, x: e.revoke(x),
    "complete": lambda e, x: e.complete(x),
    "end_wrap_up": lambda e, x: e.end_wrap_up(x),
    "cancel": lambda e, x: e.cancel(x),
    "hold": lambda e, x: e.hold(x),
    "resume": lambda e, x: e.resume(x),
    "defer": lambda e, x: e.defer(x, 100.0),
    "transfer": lambda e, x: e.transfer(x, channel="email"),
    "update": lambda e, x: e.update(x, priority=1),
}
AGENT_COMMANDS: dict[str, Callable[[Any, Any], object]] = {
    "tasks_of": lambda e, x: e.engine.tasks_of(x) if hasattr(e, "engine") else e.tasks_of(x),
    "next_task": lambda e, x: e.next_task(x),
    "remove_agent": lambda e, x: e.remove_agent(x),
    "set_agent_state": lambda e, x: e.set_agent_state(x, "ready"),
    "accept_as": lambda e, x: e.accept("o1", x),
    "reject_as": lambda e, x: e.reject("o1", x),
    "transfer_to": lambda e, x: e.transfer("a1", to_agent=x),
}
HOSTILE_IDS: dict[str, Any] = {
    **NOT_STRINGS,
    "surrogate": SURROGATE,
    "1MB": "x" * MB,
}


def _id_cases() -> list[Case]:
    cases = []
    for command, call in {**ID_COMMANDS, **AGENT_COMMANDS}.items():
        for name, value in HOSTILE_IDS.items():
            if command == "agent_of" and isinstance(value, str):
                continue  # an unknown (string) id: None, as documented
            if command in ("accept_as", "reject_as", "transfer_to") and value is None:
                continue  # None is the documented default (the offered agent; the queue)
            cases.append(Case(f"{command}-id-{name}", lambda e, c=call, v=value: c(e, v)))
    return cases


def _spec_values() -> dict[str, list[tuple[str, Any]]]:
    """Hostile values per TaskSpec field (all refused by the documented model)."""
    numbers = [(k, v) for k, v in {**NON_FINITE, **HUGE_INTS}.items()]
    # pydantic's lax mode turns "5" and b"5" into numbers and b"x" into text:
    # not counted as hostile here.
    wrong = [(k, v) for k, v in NOT_NUMBERS.items() if k not in ("str", "bytes")]
    strings = [(k, v) for k, v in NOT_STRINGS.items() if k not in ("None", "bytes")]
    return {
        "id": [
            *strings,
            ("surrogate", SURROGATE),
            ("empty", ""),
            ("129", "x" * 129),
            ("1MB", "x" * MB),
        ],
        "type": [*strings, ("surrogate", SURROGATE), ("empty", "")],
        "channel": [*strings, ("surrogate", SURROGATE), ("empty", "")],
        "value": [*numbers, *wrong, ("negative", -1.0)],
        "priority": [
            ("nan", math.nan),
            ("inf", math.inf),
            ("fraction", 1.5),
            ("text", "high"),
            *[(k, v) for k, v in wrong if k != "None"],
            *HUGE_INTS.items(),
        ],
        "due": [
            *numbers,
            *[(k, v) for k, v in wrong if k != "None"],
            ("text", "tomorrow"),
            ("naive", datetime(2026, 1, 1)),
        ],
        "created": [*numbers, *[(k, v) for k, v in wrong if k != "None"], ("text", "now")],
        "skills": [
            ("list", ["claims"]),
            ("str", "claims"),
            ("nan", {"claims": math.nan}),
            ("inf", {"claims": math.inf}),
            ("negative", {"claims": -1}),
            ("10**400", {"claims": 10**400}),
            ("text-level", {"claims": "high"}),
            ("none-level", {"claims": None}),
            ("int-key", {1: 1}),
            ("empty-name", {"": 1}),
            ("long-name", {"x" * 65: 1}),
            ("65", {f"s{i}": 1 for i in range(65)}),
            ("surrogate-name", {SURROGATE: 1}),
        ],
        "department": [*strings, ("surrogate", SURROGATE)],
        "process": [*strings, ("surrogate", SURROGATE)],
        "attributes": [
            ("list", ["a"]),
            ("str", "a"),
            ("list-value", {"k": [1]}),
            ("dict-value", {"k": {"a": 1}}),
            ("nested-200", {"k": nested_list(200)}),
            ("nan", {"k": math.nan}),
            ("inf", {"k": math.inf}),
            ("object-value", {"k": Opaque()}),
            ("int-key", {1: "a"}),
            ("long-name", {"x" * 65: 1}),
            ("long-text", {"k": "x" * 4097}),
            ("1MB-text", {"k": "x" * MB}),
            ("65", {f"a{i}": 1 for i in range(65)}),
            ("surrogate-key", {SURROGATE: 1}),
            ("surrogate-value", {"k": SURROGATE}),
        ],
    }


def _agent_values() -> dict[str, list[tuple[str, Any]]]:
    strings = [(k, v) for k, v in NOT_STRINGS.items() if k not in ("None", "bytes")]
    spec = _spec_values()
    return {
        "id": [*spec["id"], ("None", None)],
        "skills": spec["skills"],
        "capacity": [
            ("list", ["voice"]),
            ("negative", {"voice": -1}),
            ("nan", {"voice": math.nan}),
            ("fraction", {"voice": 1.5}),
            ("text", {"voice": "one"}),
            ("empty-channel", {"": 1}),
            ("int-key", {1: 1}),
            ("surrogate-channel", {SURROGATE: 1}),
        ],
        "department": [*strings, ("surrogate", SURROGATE)],
        "team": [*strings, ("surrogate", SURROGATE)],
    }


def _step_values() -> dict[str, list[tuple[str, Any]]]:
    """Hostile values per WorkflowStep field."""
    queue = _queue_values()
    return {
        "queue": queue["name"],
        "skills": _spec_values()["skills"],
        "requires": queue["requires"],
        "priority": [("fraction", 1.5), ("text", "5"), ("bool", True), ("huge", 10**400)],
        "timeout": queue["max_wait"],
        "queue_length_at_least": [("zero", 0), ("text", "3"), ("without-queue", 3)],
        "oldest_wait_at_least": [("nan", math.nan), ("zero", 0.0), ("without-queue", 5.0)],
        "expected_wait_at_least": [
            ("nan", math.nan),
            ("inf", math.inf),
            ("zero", 0.0),
            ("bool", True),
            ("without-queue", 5.0),
        ],
        "no_agent": [("text", "yes"), ("int", 1)],
        "lower_by": [("nan", math.nan), ("negative", -1.0), ("bool", True), ("text", "one")],
        "drop": [("str", "claims"), ("int-item", [5]), ("empty-item", [""]), ("65", ["x" * 65])],
    }


def _queue_values() -> dict[str, list[tuple[str, Any]]]:
    """Hostile values per QueueSpec field (all refused by the documented model)."""
    strings = [(k, v) for k, v in NOT_STRINGS.items() if k not in ("None", "bytes")]
    spec = _spec_values()
    return {
        "name": [*strings, ("surrogate", SURROGATE), ("empty", ""), ("129", "x" * 129)],
        "skills": spec["skills"],
        "requires": [
            ("int", 5),
            ("empty", ""),
            ("unparsable", "team =="),
            ("deep", "(" * 500 + "a" + ")" * 500),
            ("1MB", "a or " * (MB // 5) + "a"),
        ],
        "max_length": [
            ("zero", 0),
            ("negative", -1),
            ("fraction", 1.5),
            ("text", "5"),
            ("bool", True),
            ("huge", 10**400),
            ("nan", math.nan),
        ],
        "when_full": [("bogus", "drop"), ("int", 1), ("None", None)],
        "max_wait": [
            *NON_FINITE.items(),
            ("zero", 0.0),
            ("negative", -1.0),
            ("bool", True),
            ("text", "soon"),
        ],
        "when_too_old": [("refuse", "refuse"), ("bogus", "x"), ("None", None)],
        "overflow_to": [*strings, ("surrogate", SURROGATE), ("itself", "q")],
        "agents": [
            ("str", "ann"),
            ("int-item", [5]),
            ("empty-item", [""]),
            ("surrogate-item", [SURROGATE]),
            ("129", ["x" * 129]),
            ("twice", ["ann", "ann"]),
            ("too-many", [f"a{i}" for i in range(100_001)]),
        ],
        "agent_selection": [("random", "random"), ("bogus", "fastest"), ("int", 1)],
        "offer_timeout": [
            *NON_FINITE.items(),
            ("zero", 0.0),
            ("negative", -1.0),
            ("bool", True),
            ("text", "soon"),
        ],
        "concurrent_offers": [
            ("zero", 0),
            ("fraction", 1.5),
            ("bool", True),
            ("text", "3"),
            ("huge", 10**400),
            ("10001", 10_001),
        ],
        "auto_accept": [("text", "yes"), ("int", 1), ("list", ["voice"])],
        "description": [("int", 5), ("surrogate", SURROGATE), ("long", "x" * 1001)],
    }


def _submit_cases() -> list[Case]:
    cases = []
    for field, values in _spec_values().items():
        for name, value in values:
            base = {"id": "new", "channel": "email"}
            base[field] = value
            cases.append(Case(f"submit-{field}-{name}", lambda e, d=base: e.submit(d), field=field))
    for name, value in {
        "int": 5,
        "str": "q9",
        "None": None,
        "list": [("id", "x")],
        "object": Opaque(),
        "unknown-field": {"id": "new", "bogus": 1},
        "nested-200": nested_dict(200),
    }.items():
        cases.append(Case(f"submit-spec-{name}", lambda e, v=value: e.submit(v)))
    return cases


def _add_agent_cases() -> list[Case]:
    cases = []
    for field, values in _agent_values().items():
        for name, value in values:
            base: dict[str, Any] = {"id": "bob"}
            base[field] = value
            cases.append(
                Case(f"add_agent-{field}-{name}", lambda e, d=base: e.add_agent(d), field=field)
            )
    for name, value in {"int": 5, "str": "bob", "None": None, "object": Opaque()}.items():
        cases.append(Case(f"add_agent-spec-{name}", lambda e, v=value: e.add_agent(v)))
    return cases


def _argument_cases() -> list[Case]:
    """Hostile values for the non-id arguments of commands (the task in the right state)."""
    numbers = {**NON_FINITE, **HUGE_INTS, **{k: v for k, v in NOT_NUMBERS.items() if k != "None"}}
    cases: list[Case] = []

    def add(
        prefix: str, field: str, values: dict[str, Any], call: Callable[[Any, Any], object]
    ) -> None:
        for name, value in values.items():
            cases.append(Case(f"{prefix}-{name}", lambda e, v=value: call(e, v), field=field))

    add(
        "defer-until",
        "until",
        {**numbers, "past": 5.0, "None": None},
        lambda e, v: e.defer("q1", v),
    )
    add(
        "complete-wrap_up",
        "wrap_up",
        {**numbers, "negative": -1.0},
        lambda e, v: e.complete("a1", wrap_up=v),
    )
    add(
        "update-priority",
        "priority",
        {
            "nan": math.nan,
            "fraction": 1.5,
            "text": "high",
            "list": [],
            "object": Opaque(),
            **HUGE_INTS,
        },
        lambda e, v: e.update("q1", priority=v),
    )
    add(
        "update-value", "value", {**numbers, "negative": -1.0}, lambda e, v: e.update("q1", value=v)
    )
    add("update-due", "due", numbers, lambda e, v: e.update("q1", due=v))
    add(
        "update-skills",
        "skills",
        {
            "list": ["claims"],
            "str": "claims",
            "nan": {"claims": math.nan},
            "negative": {"claims": -1},
            "int-key": {1: 1},
            "empty-name": {"": 1},
            "65": {f"s{i}": 1 for i in range(65)},
            "surrogate-name": {SURROGATE: 1},
        },
        lambda e, v: e.update("q1", skills=v),
    )
    add(
        "update-expected_version",
        "expected_version",
        {"text": "1", "fraction": 1.5, "nan": math.nan, "list": []},
        lambda e, v: e.update("q1", priority=1, expected_version=v),
    )
    add(
        "transfer-channel",
        "channel",
        {"int": 5, "list": [], "empty": "", "surrogate": SURROGATE},
        lambda e, v: e.transfer("a1", channel=v),
    )
    add(
        "transfer-skills",
        "skills",
        {"str": "claims", "nan": {"claims": math.nan}, "negative": {"claims": -1}},
        lambda e, v: e.transfer("a1", skills=v),
    )
    add(
        "cancel-reason",
        "reason",
        {"int": 5, "list": [], "object": Opaque()},
        lambda e, v: e.cancel("q1", reason=v),
    )
    add(
        "set_agent_state-state",
        "state|presence",
        {"bogus": "bogus", "int": 5, "list": [], "None": None, "object": Opaque(), "1MB": "x" * MB},
        lambda e, v: e.set_agent_state("ann", v),
    )
    add(
        "set_agent_state-reason",
        "reason",
        {"int": 5, "list": [], "object": Opaque()},
        lambda e, v: e.set_agent_state("ann", "not_ready", reason=v),
    )
    add(
        "set_agent_state-until",
        "until",
        {**NON_FINITE, **HUGE_INTS, "text": "later", "list": []},
        lambda e, v: e.set_agent_state("ann", "wrap_up", until=v),
    )
    return cases


def _engine_only_cases() -> list[Case]:
    """Commands whose signature differs on the durable engine."""
    cases: list[Case] = []
    for name, value in {"int": 5, "str": "fifo", "object": Opaque(), "None": None}.items():
        cases.append(Case(f"set_policy-{name}", lambda e, v=value: e.set_policy(v), "policy"))
    for name, value in {
        "int": 5,
        "str": "not rules",
        "object": Opaque(),
        "list": [],
        "mapping": {"bogus": 1},
    }.items():
        cases.append(Case(f"set_rules-{name}", lambda e, v=value: e.set_rules(v), "rules"))
    for name, value in {"int": 5, "None": None, "str": "print"}.items():
        cases.append(Case(f"subscribe-{name}", lambda e, v=value: e.subscribe(v), "subscriber"))
    for name, value in {
        "bogus": ["bogus"],
        "int": 5,
        "unhashable": [[]],
        "object": Opaque(),
    }.items():
        cases.append(
            Case(f"subscribe-kinds-{name}", lambda e, v=value: e.subscribe(print, kinds=v), "kinds")
        )
    return cases


def _durable_only_cases() -> list[Case]:
    cases: list[Case] = []
    for name, value in {"int": 5, "bogus": "bogus", "object": Opaque(), "None": None}.items():
        cases.append(Case(f"durable-set_policy-{name}", lambda e, v=value: e.set_policy(v)))
    for name, value in {
        "nan": math.nan,
        "negative": -1.0,
        "text": "x",
        "bogus-param": None,
    }.items():
        if name == "bogus-param":
            cases.append(
                Case(
                    "durable-set_policy-unknown-param",
                    lambda e: e.set_policy("aging_priority", bogus=1),
                )
            )
        else:
            cases.append(
                Case(
                    f"durable-set_policy-seconds_per_point-{name}",
                    lambda e, v=value: e.set_policy("aging_priority", seconds_per_point=v),
                    "seconds_per_point",
                )
            )
    for name, text in {
        "garbage": "not = [rules",
        "int": 5,
        "deep-json": deep_json(),
        "surrogate-name": '{"name": "\\ud83d"}',
    }.items():
        fmt = "json" if name.endswith("json") or name.startswith("surrogate") else "toml"
        cases.append(
            Case(f"durable-set_rules-{name}", lambda e, t=text, f=fmt: e.set_rules(t, format=f))
        )
    cases.append(
        Case("durable-set_rules-format", lambda e: e.set_rules("name = 'x'", format="bogus"))
    )
    for name, value in {"int": 5, "None": None, "str": "print"}.items():
        cases.append(Case(f"durable-subscribe-{name}", lambda e, v=value: e.subscribe(v)))
    for name, value in {"bogus": ["bogus"], "int": 5, "unhashable": [[]]}.items():
        cases.append(
            Case(f"durable-subscribe-kinds-{name}", lambda e, v=value: e.subscribe(print, kinds=v))
        )
    for name, value in {"zero": 0, "negative": -1, "nan": math.nan, "str": "2"}.items():
        cases.append(Case(f"durable-compact-keep-{name}", lambda e, v=value: e.compact(keep=v)))
    return cases


COMMAND_CASES = _id_cases() + _submit_cases() + _add_agent_cases() + _argument_cases()


@pytest.mark.parametrize("case", params(COMMAND_CASES + _engine_only_cases()))
def test_engine_refuses_and_changes_nothing(case: Case) -> None:
    engine = build_engine()
    digest, events = engine.digest(), engine.event_count
    refused(lambda: case.call(engine), case.field)
    assert engine.digest() == digest
    assert engine.event_count == events
    good_submit(engine)


# ----------------------------------------------------------------- engine clock


@pytest.mark.parametrize(
    "reading",
    [
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="inf"),
        pytest.param(-math.inf, id="-inf"),
        pytest.param(10**400, id="10**400"),
        pytest.param("12:00", id="text"),
        pytest.param(None, id="None"),
    ],
)
def test_a_hostile_clock_reading_is_refused_and_changes_nothing(reading: Any) -> None:
    readings = [0.0]
    engine = build_engine(clock=lambda: readings[0])
    readings[0] = 30.0
    engine.submit(TaskSpec(id="before", channel="email"))
    digest, events = engine.digest(), engine.event_count
    readings[0] = reading
    refused(lambda: engine.submit(TaskSpec(id="during", channel="email")), None)
    assert engine.digest() == digest
    assert engine.event_count == events
    readings[0] = 40.0
    good_submit(engine)


# ----------------------------------------------------------------- engine settings

_NUM = {**NON_FINITE, **HUGE_INTS, **{k: v for k, v in NOT_NUMBERS.items() if k != "None"}}
ENGINE_SETTINGS: dict[str, dict[str, Any]] = {
    "policy": {"int": 5, "str": "fifo", "object": Opaque()},
    "rules": {"int": 5, "str": "not rules", "object": Opaque(), "list": []},
    "agent_selection": {"int": 5, "str": "longest_idle", "object": Opaque()},
    "clock": {"int": 5, "str": "now", "object": Opaque()},
    "dispatch": {"bogus": "bogus", "int": 5, "list": [], "None": None},
    "offer_timeout": {**_NUM, "zero": 0, "negative": -1.0},
    "auto_accept": {"str": "yes", "list": [5], "empty-name": [""], "None": None},
    "reject_cooldown": {**_NUM, "negative": -1.0, "None": None},
    "timeout_sets_not_ready": {"str": "no", "list": []},
    "max_offers": {
        "zero": 0,
        "nan": math.nan,
        "inf": math.inf,
        "fraction": 1.5,
        "str": "3",
        "list": [],
    },
    "concurrent_offers": {
        **HUGE_INTS,
        "zero": 0,
        "negative": -1,
        "nan": math.nan,
        "inf": math.inf,
        "fraction": 1.5,
        "bool": True,
        "str": "3",
        "list": [],
        "None": None,
    },
    "wrap_up": {
        **NON_FINITE,
        "negative": -1.0,
        "str": "5",
        "list": [],
        "map-nan": {"claim": math.nan},
        "map-text": {"claim": "x"},
        "map-int-key": {1: 5.0},
        "map-negative": {"claim": -1.0},
    },
    "time_to_live": {**NON_FINITE, "negative": -1.0, "str": "5", "map-nan": {"claim": math.nan}},
    "relaxation": {"int": 5, "str": "x", "object": Opaque(), "map-bad": {"claim": 5}},
    "max_wait": {**NON_FINITE, "zero": 0.0, "negative": -1.0, "str": "5", "list": []},
    "sla_warning": {**_NUM, "zero": 0.0, "negative": -1.0},
    "queues": {
        "int": 5,
        "str": "billing",
        "map": {"name": "billing"},
        "item-int": [5],
        "item-bad": [{"name": ""}],
        "twice": [{"name": "a"}, {"name": "a"}],
        "overflow-unknown": [{"name": "a", "when_full": "overflow", "overflow_to": "b"}],
        "object": Opaque(),
    },
    "workflows": {
        "int": 5,
        "str": "claims",
        "map": {"name": "w", "steps": [{}]},
        "item-int": [5],
        "no-steps": [{"name": "w", "steps": []}],
        "unknown-queue": [{"name": "w", "steps": [{"queue": "nowhere"}]}],
        "twice": [{"name": "w", "steps": [{}]}, {"name": "w", "steps": [{}]}],
        "type-twice": [
            {"name": "a", "steps": [{}], "types": ["claim"]},
            {"name": "b", "steps": [{}], "types": ["claim"]},
        ],
        "object": Opaque(),
    },
    "exclusive_channels": {"int": 5, "list-int": [1], "None": None, "object": Opaque()},
    "closed_memory": {
        "negative": -1,
        "nan": math.nan,
        "inf": math.inf,
        "fraction": 1.5,
        "str": "5",
        "None": None,
        "list": [],
    },
}
SETTING_CASES = (
    [
        Case(f"Engine-{setting}-{name}", lambda s=setting, v=value: Engine(**{s: v}), setting)
        for setting, values in ENGINE_SETTINGS.items()
        for name, value in values.items()
    ]
    + [
        Case(f"build_queues-{name}", lambda v=value: build_queues(v), "queues")
        for name, value in ENGINE_SETTINGS["queues"].items()
    ]
    + [
        Case(f"build_workflows-{name}", lambda v=value: build_workflows(v, {}), "workflows")
        for name, value in ENGINE_SETTINGS["workflows"].items()
    ]
)


@pytest.mark.parametrize("case", params(SETTING_CASES))
def test_engine_settings_are_checked(case: Case) -> None:
    refused(case.call, case.field)


# ----------------------------------------------------------------- specs


SPEC_CASES = (
    [
        Case(f"TaskSpec-{field}-{name}", lambda f=field, v=value: TaskSpec(**{f: v}), field)
        for field, values in _spec_values().items()
        for name, value in values
    ]
    + [
        Case(
            f"AgentSpec-{field}-{name}",
            lambda f=field, v=value: AgentSpec(**{"id": "bob", f: v}),
            field,
        )
        for field, values in _agent_values().items()
        for name, value in values
    ]
    + [
        Case(
            f"QueueSpec-{field}-{name}",
            lambda f=field, v=value: QueueSpec(**{"name": "q", f: v}),
            field,
        )
        for field, values in _queue_values().items()
        for name, value in values
    ]
    + [
        Case(
            f"WorkflowStep-{field}-{name}",
            lambda f=field, v=value: WorkflowStep(**{f: v}),
            field,
        )
        for field, values in _step_values().items()
        for name, value in values
    ]
    + [
        Case(
            f"WorkflowSpec-{field}-{name}",
            lambda f=field, v=value: WorkflowSpec(**{"name": "w", "steps": [{}], f: v}),
            field,
        )
        for field, values in {
            "name": [("int", 5), ("empty", ""), ("surrogate", SURROGATE)],
            "steps": [("empty", []), ("int", 5), ("33", [{}] * 33), ("bad-item", [5])],
            "then": [("bogus", "drop"), ("None", None)],
            "check_every": [*NON_FINITE.items(), ("zero", 0.0), ("bool", True)],
            "types": [("str", "claim"), ("int-item", [5]), ("empty-item", [""])],
        }.items()
        for name, value in values
    ]
    + [
        Case(
            "TaskSpec-json-deep",
            lambda: TaskSpec.model_validate_json(deep_json(10_000, "attributes")),
        ),
        Case("TaskSpec-json-not-utf8", lambda: TaskSpec.model_validate_json(b'{"id": "\xff"}')),
        Case(
            "TaskSpec-json-surrogate",
            lambda: TaskSpec.model_validate_json('{"id": "\\ud83d"}'),
            "id",
        ),
        Case("TaskSpec-validate-nested", lambda: TaskSpec.model_validate(nested_dict(200))),
        Case("TaskSpec-validate-list", lambda: TaskSpec.model_validate([1, 2])),
    ]
)


@pytest.mark.parametrize("case", params(SPEC_CASES))
def test_specs_refuse(case: Case) -> None:
    refused(case.call, case.field)


# ====================================================================== durable engine

# Spec fields are checked by the same models for both engines; the durable
# engine gets one value of each kind per field (enough to catch a refused
# submission that still reaches the journal) and every other command case.
_DURABLE_SPEC_VALUES = ("-list", "-nan", "-10**400", "-surrogate", "-1MB", "-int-key", "-65")


def _durable_worthy(case: Case) -> bool:
    if case.id.startswith(("submit-spec-", "add_agent-spec-")):
        return True
    if case.id.startswith(("submit-", "add_agent-")):
        return case.id.endswith(_DURABLE_SPEC_VALUES)
    return True


# The durable engine takes the same positional arguments; its queries go to .engine.
DURABLE_CASES = [case for case in COMMAND_CASES if _durable_worthy(case)] + _durable_only_cases()


def _factory(clock: Callable[[], float]) -> Engine:
    return Engine(dispatch="pull", clock=clock)


@pytest.fixture
def journal_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder for a journal: in memory-backed /dev/shm where there is one (no disk syncs)."""
    import tempfile

    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="valueroute-hostile-") as folder:
        yield Path(folder)


@pytest.mark.parametrize("case", params(DURABLE_CASES))
def test_durable_engine_refuses_journals_nothing_and_reopens_the_same(
    case: Case, journal_dir: Path
) -> None:
    from valueroute.journal import DurableEngine

    path = journal_dir / "journal.db"
    durable = DurableEngine.open(path, _factory, sync="none", clock=lambda: now[0])
    try:
        populate(durable)
        digest, events = durable.digest(), durable.engine.event_count
        position = durable.position
        refused(
            lambda: case.call(durable), case.field if not case.id.startswith("durable") else None
        )
        assert durable.digest() == digest
        assert durable.engine.event_count == events
        assert durable.position == position, "a refused command was journaled"
        good_submit(durable)
        after = durable.digest()
    finally:
        durable.close()
    reopened = DurableEngine.open(path, _factory, sync="none", clock=lambda: now[0])
    try:
        assert reopened.digest() == after
    finally:
        reopened.close()


def _durable_open_cases(tmp: Path) -> list[Case]:
    from valueroute.journal import DurableEngine, SQLiteStore, import_events

    garbage = tmp / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database" * 100)
    events_garbage = tmp / "events.json"
    events_garbage.write_bytes(NOT_UTF8)
    events_deep = tmp / "deep.json"
    events_deep.write_text(deep_json())
    journal = tmp / "ok.db"
    cases = [
        Case("open-target-int", lambda: DurableEngine.open(5, _factory), "target"),  # type: ignore[arg-type]
        Case("open-target-object", lambda: DurableEngine.open(Opaque(), _factory), "target"),  # type: ignore[arg-type]
        Case("open-garbage-file", lambda: DurableEngine.open(garbage, _factory)),
        Case("open-directory", lambda: DurableEngine.open(tmp, _factory)),
        Case(
            "open-missing-folder",
            lambda: DurableEngine.open(tmp / "no" / "such" / "j.db", _factory),
        ),
        Case("open-factory-int", lambda: DurableEngine.open(journal, 5)),  # type: ignore[arg-type]
        Case("SQLiteStore-int", lambda: SQLiteStore(5)),  # type: ignore[arg-type]
        Case(
            "SQLiteStore-synchronous",
            lambda: SQLiteStore(tmp / "s.db", synchronous="bogus"),
            "synchronous",
        ),  # type: ignore[arg-type]
        Case("import_events-missing", lambda: import_events(tmp / "missing.json")),
        Case("import_events-not-utf8", lambda: import_events(events_garbage)),
        Case("import_events-deep", lambda: import_events(events_deep)),
        Case("import_events-directory", lambda: import_events(tmp)),
    ]
    for field, values in {
        "sync": {"bogus": "bogus", "int": 5, "list": []},
        "group_size": {"zero": 0, "bool": True, "fraction": 1.5, "nan": math.nan, "str": "5"},
        "group_seconds": {**NON_FINITE, "negative": -1.0, "str": "x", "None": None},
    }.items():
        for name, value in values.items():
            cases.append(
                Case(
                    f"open-{field}-{name}",
                    lambda f=field, v=value: DurableEngine.open(
                        tmp / f"{f}.db", _factory, **{f: v}
                    ),
                    field,
                )
            )
    return cases


@pytest.mark.parametrize("case_id", _ids_of(_durable_open_cases))
def test_journal_openers_refuse(case_id: str, tmp_path: Path) -> None:
    case = {c.id: c for c in _durable_open_cases(tmp_path)}[case_id]
    refused(case.call, case.field)


# ====================================================================== policies


def _policy_cases() -> list[Case]:
    from valueroute import scoring as s

    bad_positive = {**_NUM, "zero": 0.0, "negative": -1.0, "None": None}
    cases: list[Case] = []

    def add(
        prefix: str, field: str | None, values: dict[str, Any], make: Callable[[Any], object]
    ) -> None:
        for name, value in values.items():
            cases.append(Case(f"{prefix}-{name}", lambda v=value: make(v), field))

    add(
        "AgingPriority-seconds_per_point",
        "seconds_per_point",
        bad_positive,
        lambda v: s.AgingPriority(v),
    )
    add(
        "Rescored-function",
        "function",
        {"int": 5, "str": "f", "None": None},
        lambda v: s.Rescored(v, interval=60),
    )
    add(
        "Rescored-interval",
        "interval",
        bad_positive,
        lambda v: s.Rescored(lambda t, n: 0.0, interval=v),
    )
    add(
        "EarliestDue-due_after",
        "due_after",
        {**NON_FINITE, "str": "x", "list": []},
        lambda v: s.EarliestDue(due_after=v),
    )
    per_type_bad = {
        **bad_positive,
        "map-nan": {"claim": math.nan},
        "map-negative": {"claim": -1.0},
        "map-text": {"claim": "x"},
        "map-int-key": {1: 5.0},
    }
    add(
        "LeastSlack-handle_seconds",
        "handle_seconds",
        {k: v for k, v in per_type_bad.items() if k not in ("zero",)},
        lambda v: s.LeastSlack(v),
    )
    add("CMu-handle_seconds", "handle_seconds", per_type_bad, lambda v: s.CMu(v))
    add(
        "CMu-cost",
        "cost",
        {**NON_FINITE, "negative": -1.0, "str": "x", "map-nan": {"claim": math.nan}},
        lambda v: s.CMu(60.0, cost=v),
    )
    add("Kleinrock-rates", "rates", per_type_bad, lambda v: s.Kleinrock(v))
    add("CMuTheta-handle_seconds", "handle_seconds", per_type_bad, lambda v: s.CMuTheta(v, 60.0))
    add(
        "CMuTheta-patience_seconds", "patience_seconds", per_type_bad, lambda v: s.CMuTheta(60.0, v)
    )
    add("ValueAtRisk-expected_wait", "expected_wait", per_type_bad, lambda v: s.ValueAtRisk(v))
    add(
        "ValueAtRisk-handle_seconds",
        "handle_seconds",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: s.ValueAtRisk(60.0, handle_seconds=v),
    )
    add(
        "ValueAtRisk-mode",
        "mode",
        {"bogus": "bogus", "int": 5},
        lambda v: s.ValueAtRisk(60.0, mode=v),
    )
    add(
        "ValueAtRisk-tolerance",
        "tolerance",
        {**NON_FINITE, "zero": 0.0, "negative": -1.0, "two": 2.0, "str": "x"},
        lambda v: s.ValueAtRisk(60.0, tolerance=v),
    )
    add(
        "PriorityRamp-ramps",
        "ramps|ramp",
        {"int": 5, "str": "x", "map-int": {"claim": 5}, "map-bogus": {"claim": {"bogus": 1}}},
        lambda v: s.PriorityRamp(v),
    )
    add(
        "Composite-parts",
        "parts",
        {
            "int": 5,
            "empty": [],
            "not-pairs": [1],
            "nan-weight": [(math.nan, s.Fifo())],
            "text-weight": [("x", s.Fifo())],
            "not-policy": [(1.0, 5)],
        },
        lambda v: s.Composite(v),
    )
    add(
        "as_policy",
        None,
        {"int": 5, "None": None, "object": Opaque(), "list": []},
        lambda v: s.as_policy(v),
    )
    add(
        "as_policy-interval",
        "interval",
        {**NON_FINITE, "zero": 0.0, "str": "x"},
        lambda v: s.as_policy(lambda t, n: 0.0, interval=v),
    )
    add(
        "policy_by_name",
        "name|policy",
        {
            "bogus": "bogus",
            "int": 5,
            "list": [],
            "None": None,
            "1MB": "x" * MB,
            "surrogate": SURROGATE,
        },
        lambda v: s.policy_by_name(v),
    )
    add(
        "policy_by_name-param",
        "seconds_per_point",
        {**NON_FINITE, "str": "x", "list": [], "negative": -1.0},
        lambda v: s.policy_by_name("aging_priority", seconds_per_point=v),
    )
    cases.append(
        Case(
            "policy_by_name-unknown-param",
            lambda: s.policy_by_name("aging_priority", bogus=1),
            "bogus",
        )
    )
    cases.append(
        Case(
            "policy_by_name-composite-deep",
            lambda: s.policy_by_name("composite", parts=nested_list(200)),
        )
    )
    cases.append(
        Case(
            "policy_by_name-composite-dicts",
            lambda: s.policy_by_name("composite", parts=[{"policy": "bogus"}]),
        )
    )
    cases.append(
        Case("policy_by_name-missing-param", lambda: s.policy_by_name("kleinrock"), "rates")
    )
    add(
        "policy_parameters",
        "policy",
        {"bogus": "bogus", "int": 5, "list": [], "None": None, "1MB": "x" * MB},
        lambda v: s.policy_parameters(v),
    )
    return cases


@pytest.mark.parametrize("case", params(_policy_cases()))
def test_policies_refuse(case: Case) -> None:
    refused(case.call, case.field)


# ====================================================================== rules


def _rule_cases(tmp: Path) -> list[Case]:
    from valueroute.rules import dry_run, load_rules, parse_rules
    from valueroute.scoring import Fifo

    files: dict[str, tuple[str, bytes]] = {
        "garbage": ("r.toml", b"name = [unclosed"),
        "not-utf8": ("r.toml", NOT_UTF8),
        "deep-json": ("r.json", deep_json().encode()),
        "deep-toml": ("r.toml", deep_toml().encode()),
        "deep-yaml": ("r.yaml", deep_yaml().encode()),
        "empty": ("r.toml", b""),
        "list-json": ("r.json", b"[1, 2]"),
        "huge": ("r.json", b'{"name": "' + b"x" * (MB + 10) + b'"}'),
        "surrogate-json": ("r.json", b'{"name": "\\ud83d"}'),
        "bad-suffix": ("r.txt", b'name = "x"'),
    }
    cases = []
    for name, (filename, content) in files.items():
        folder = tmp / name
        folder.mkdir()
        path = folder / filename
        path.write_bytes(content)
        cases.append(Case(f"load_rules-file-{name}", lambda p=path: load_rules(p)))
    cases += [
        Case("load_rules-missing", lambda: load_rules(tmp / "missing.toml")),
        Case("load_rules-directory", lambda: load_rules(tmp / "garbage")),
        Case("load_rules-int", lambda: load_rules(5)),  # type: ignore[arg-type]
        Case("load_rules-None", lambda: load_rules(None)),  # type: ignore[arg-type]
        Case("load_rules-object", lambda: load_rules(Opaque())),  # type: ignore[arg-type]
        Case("load_rules-list", lambda: load_rules([])),  # type: ignore[arg-type]
        Case(
            "load_rules-nested-200",
            lambda: load_rules({"name": "x", "classification": nested_dict(200)}),
        ),
        Case("load_rules-nested-list-200", lambda: load_rules({"name": nested_list(200)})),
        Case("load_rules-name-1MB", lambda: load_rules({"name": "x" * MB})),
        Case("load_rules-name-surrogate", lambda: load_rules({"name": SURROGATE})),
        Case("load_rules-name-int", lambda: load_rules({"name": 5}), "name"),
        Case("parse_rules-int", lambda: parse_rules(5)),  # type: ignore[arg-type]
        Case("parse_rules-None", lambda: parse_rules(None)),  # type: ignore[arg-type]
        Case("parse_rules-list", lambda: parse_rules([])),  # type: ignore[arg-type]
        Case("parse_rules-format", lambda: parse_rules('name = "x"', format="bogus"), "format"),  # type: ignore[arg-type]
        Case("parse_rules-format-int", lambda: parse_rules('name = "x"', format=5), "format"),  # type: ignore[arg-type]
        Case("parse_rules-deep-json", lambda: parse_rules(deep_json(), format="json")),
        Case("parse_rules-deep-toml", lambda: parse_rules(deep_toml())),
        Case("parse_rules-deep-yaml", lambda: parse_rules(deep_yaml(), format="yaml")),
        Case("parse_rules-not-utf8", lambda: parse_rules(NOT_UTF8)),
        Case("parse_rules-surrogate-text", lambda: parse_rules(f'name = "{SURROGATE}"')),
        Case("parse_rules-huge", lambda: parse_rules("#" * (MB + 10))),
        Case("dry_run-rules", lambda: dry_run(5, Fifo(), [TaskSpec(id="x")], now=0.0)),  # type: ignore[arg-type]
        Case("dry_run-policy", lambda: dry_run(None, 5, [TaskSpec(id="x")], now=0.0)),  # type: ignore[arg-type]
        Case("dry_run-specs", lambda: dry_run(None, Fifo(), [5], now=0.0)),  # type: ignore[list-item]
        Case(
            "dry_run-now-nan",
            lambda: dry_run(None, Fifo(), [TaskSpec(id="x")], now=math.nan),
            "now",
        ),
        Case("dry_run-now-text", lambda: dry_run(None, Fifo(), [TaskSpec(id="x")], now="x"), "now"),  # type: ignore[arg-type]
    ]
    cyclic: dict[str, Any] = {"name": "x"}
    cyclic["classification"] = cyclic
    cases.append(Case("load_rules-cyclic", lambda: load_rules(cyclic)))
    return cases


@pytest.mark.parametrize("case_id", _ids_of(_rule_cases))
def test_rule_loaders_refuse(case_id: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = built(_rule_cases, tmp_path_factory)[case_id]
    refused(case.call, case.field)


# ====================================================================== scenarios

MINIMAL_SCENARIO: dict[str, Any] = {
    "horizon_seconds": 3600,
    "task_types": [{"name": "calls", "handle": {"kind": "exponential", "mean_seconds": 60}}],
    "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 30}],
    "agent_groups": [{"name": "agents", "count": 2}],
}


def scenario_with(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(MINIMAL_SCENARIO))
    data.update(changes)
    return data


def _scenario_cases(tmp: Path) -> list[Case]:
    from valueroute.bench import load_bench_scenario
    from valueroute.sim import Scenario, load_scenario, parse_scenario

    files: dict[str, tuple[str, bytes]] = {
        "garbage": ("s.toml", b"horizon_seconds = [unclosed"),
        "not-utf8": ("s.toml", NOT_UTF8),
        "deep-json": ("s.json", deep_json().encode()),
        "deep-toml": ("s.toml", deep_toml().encode()),
        "deep-yaml": ("s.yaml", deep_yaml().encode()),
        "empty": ("s.toml", b""),
        "list-json": ("s.json", b"[1, 2]"),
        "bad-suffix": ("s.txt", b"horizon_seconds = 5"),
        "nan-horizon": (
            "s.json",
            json.dumps(scenario_with(horizon_seconds="NaN")).replace('"NaN"', "NaN").encode(),
        ),
        "huge-horizon": ("s.json", json.dumps(scenario_with(horizon_seconds=10**400)).encode()),
        "surrogate-name": ("s.json", json.dumps(scenario_with(name="\ud83d")).encode()),
    }
    cases = []
    for name, (filename, content) in files.items():
        folder = tmp / name
        folder.mkdir()
        path = folder / filename
        path.write_bytes(content)
        cases.append(Case(f"load_scenario-file-{name}", lambda p=path: load_scenario(p)))
        if filename.endswith((".toml", ".json", ".txt")):
            cases.append(
                Case(f"load_bench_scenario-file-{name}", lambda p=path: load_bench_scenario(p))
            )
    for who, load in (
        ("load_scenario", load_scenario),
        ("load_bench_scenario", load_bench_scenario),
    ):
        cases += [
            Case(f"{who}-missing", lambda f=load: f(tmp / "missing.toml")),
            Case(f"{who}-directory", lambda f=load: f(tmp / "garbage")),
            Case(f"{who}-int", lambda f=load: f(5)),
            Case(f"{who}-None", lambda f=load: f(None)),
        ]
    cases += [
        Case("parse_scenario-int", lambda: parse_scenario(5)),  # type: ignore[arg-type]
        Case("parse_scenario-format", lambda: parse_scenario("x = 1", format="bogus"), "format"),  # type: ignore[arg-type]
        Case("parse_scenario-deep-json", lambda: parse_scenario(deep_json(), format="json")),
        Case("parse_scenario-deep-yaml", lambda: parse_scenario(deep_yaml(), format="yaml")),
        Case("parse_scenario-not-utf8", lambda: parse_scenario(NOT_UTF8)),
        Case(
            "parse_scenario-base_dir",
            lambda: parse_scenario(json.dumps(MINIMAL_SCENARIO), format="json", base_dir=5),
        ),  # type: ignore[arg-type]
        Case("Scenario-nested-200", lambda: Scenario.model_validate(nested_dict(200))),
        Case(
            "Scenario-name-nested-200",
            lambda: Scenario.model_validate(scenario_with(name=nested_list(200))),
            "name",
        ),
        Case("Scenario-list", lambda: Scenario.model_validate([1])),
    ]
    for field, values in {
        "horizon_seconds": {**NON_FINITE, **HUGE_INTS, "zero": 0, "str": "x", "list": []},
        "warmup_seconds": {**NON_FINITE, "negative": -1.0, "str": "x"},
        "replications": {
            "zero": 0,
            "negative": -1,
            "10**400": 10**400,
            "nan": math.nan,
            "fraction": 1.5,
        },
        "seed": {"negative": -1, "nan": math.nan, "fraction": 1.5, "str": "x"},
        "interval_minutes": {"seven": 7, "nan": math.nan, "str": "x"},
        "name": {"int": 5, "list": [], "1MB": "x" * MB, "surrogate": SURROGATE},
        "task_types": {"int": 5, "empty": [], "nested": nested_list(200)},
        "agent_groups": {"int": 5, "empty": [], "huge-count": [{"name": "a", "count": 10**400}]},
        "arrivals": {
            "int": 5,
            "nan-rate": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": math.nan}],
            "inf-rate": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": math.inf}],
            # A rate whose gaps fall below the spacing of float times would never end a run.
            "1e308-rate": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 1e308}],
            "1e308-volume": [
                {
                    "kind": "profile",
                    "task_type": "calls",
                    "interval_minutes": 15,
                    "volumes": [1e308],
                }
            ],
            "bad-kind": [{"kind": "bogus"}],
        },
    }.items():
        for name, value in values.items():
            cases.append(
                Case(
                    f"Scenario-{field}-{name}",
                    lambda f=field, v=value: Scenario.model_validate(scenario_with(**{f: v})),
                    field,
                )
            )
    return cases


@pytest.mark.parametrize("case_id", _ids_of(_scenario_cases))
def test_scenario_loaders_refuse(case_id: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = built(_scenario_cases, tmp_path_factory)[case_id]
    refused(case.call, case.field)


# ----------------------------------------------------------------- hang cases in a child


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    cap = 3 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run_child(args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=CHILD_SECONDS,
            preexec_fn=_limit_memory,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {CHILD_SECONDS} s: {args[1:]}")


BOMB_DOCUMENTS: dict[str, tuple[str, str, str]] = {
    # id: (loader, file name, text)
    "scenario-name": ("load_scenario", "s.yaml", alias_bomb_yaml("name: *h\n")),
    "scenario-horizon": ("load_scenario", "s.yaml", alias_bomb_yaml("horizon_seconds: *h\n")),
    "scenario-parse": ("parse_scenario_yaml", "s.yaml", alias_bomb_yaml("name: *h\n")),
    "rules-name": ("load_rules", "r.yaml", alias_bomb_yaml("name: *h\n")),
    "rules-parse": ("parse_rules_yaml", "r.yaml", alias_bomb_yaml("name: *h\n")),
    "calendar-timezone": ("load_calendar", "c.yaml", alias_bomb_yaml("timezone: *h\n")),
    "calendar-hours": ("load_calendar", "c.yaml", alias_bomb_yaml("timezone: UTC\nhours: *h\n")),
    # Bench scenarios are TOML or JSON only: the bomb is refused by its suffix.
    "bench-name": ("load_bench_scenario", "b.yaml", alias_bomb_yaml("name: *h\n")),
}


@pytest.mark.parametrize(
    "case_id",
    [*BOMB_DOCUMENTS, "bench-deep-json", "rules-dev-zero"],
)
def test_document_bombs_are_refused_in_bounded_time(case_id: str, tmp_path: Path) -> None:
    if case_id == "bench-deep-json":
        loader, path = "load_bench_scenario", tmp_path / "b.json"
        path.write_text(deep_json(100_000))
    elif case_id == "rules-dev-zero":
        # A rule file that never ends: the documented size limit must hold.
        loader, path = "load_rules", tmp_path / "r.toml"
        path.symlink_to("/dev/zero")
    else:
        loader, name, text = BOMB_DOCUMENTS[case_id]
        path = tmp_path / name
        path.write_text(text)
    child = run_child([sys.executable, str(HERE / "hostile_cases.py"), loader, str(path)])
    assert child.returncode == 0, child.stderr[-1000:]
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcome["valueroute_error"], outcome
    assert 0 < outcome["message_length"] <= MAX_MESSAGE, outcome


# ====================================================================== erlang


def _erlang_cases() -> list[Case]:
    from valueroute import erlang as e

    # Array-like arguments take what numpy takes ("5", b"5", [] are arrays to it).
    bad_load = {
        **NON_FINITE,
        **HUGE_INTS,
        "negative": -1.0,
        **{k: v for k, v in NOT_NUMBERS.items() if k not in ("list", "bytes", "str", "bool")},
    }
    bad_agents = {
        "negative": -1,
        "fraction": 1.5,
        "nan": math.nan,
        "inf": math.inf,
        "10**400": 10**400,
        "None": None,
        "object": Opaque(),
        "dict": {},
    }
    cases: list[Case] = []

    def add(
        prefix: str, field: str | None, values: dict[str, Any], call: Callable[[Any], object]
    ) -> None:
        for name, value in values.items():
            cases.append(Case(f"{prefix}-{name}", lambda v=value: call(v), field))

    add("erlang_b-agents", "agents", bad_agents, lambda v: e.erlang_b(v, 5.0))
    add("erlang_b-traffic", "traffic", bad_load, lambda v: e.erlang_b(10, v))
    add("erlang_c-agents", "agents", bad_agents, lambda v: e.erlang_c(v, 5.0))
    add("erlang_c-traffic", "traffic", bad_load, lambda v: e.erlang_c(10, v))
    add("erlang_a-agents", "agents", bad_agents, lambda v: e.erlang_a(v, 5.0, aht=180, patience=60))
    add("erlang_a-traffic", "traffic", bad_load, lambda v: e.erlang_a(10, v, aht=180, patience=60))
    add(
        "erlang_a-aht",
        "aht",
        {**bad_load, "zero": 0.0},
        lambda v: e.erlang_a(10, 5.0, aht=v, patience=60),
    )
    add(
        "erlang_a-patience",
        "patience",
        {**bad_load, "zero": 0.0},
        lambda v: e.erlang_a(10, 5.0, aht=180, patience=v),
    )
    add(
        "erlang_a-awt",
        "awt",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: e.erlang_a(10, 5.0, aht=180, patience=60, awt=v),
    )
    add(
        "service_level-aht",
        "aht",
        {**NON_FINITE, "zero": 0.0, "str": "x"},
        lambda v: e.service_level(10, 5.0, aht=v, awt=20),
    )
    add(
        "service_level-awt",
        "awt",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: e.service_level(10, 5.0, aht=180, awt=v),
    )
    add(
        "average_speed_of_answer-aht",
        "aht",
        {**NON_FINITE, "zero": 0.0, "str": "x"},
        lambda v: e.average_speed_of_answer(10, 5.0, aht=v),
    )
    add("occupancy-traffic", "traffic", bad_load, lambda v: e.occupancy(10, v))
    add("sqrt_staffing-traffic", "traffic", bad_load, lambda v: e.sqrt_staffing(v, beta=0.5))
    add(
        "sqrt_staffing-beta",
        "beta",
        {**NON_FINITE, "str": "x", "None": None},
        lambda v: e.sqrt_staffing(5.0, beta=v),
    )
    add(
        "halfin_whitt_beta",
        "p_wait",
        {**NON_FINITE, "zero": 0.0, "two": 2.0, "str": "x", "None": None},
        lambda v: e.halfin_whitt_beta(v),
    )
    add(
        "scheduled_agents-shrinkage",
        "shrinkage",
        {**NON_FINITE, "one": 1.0, "negative": -0.1, "str": "x"},
        lambda v: e.scheduled_agents(10, shrinkage=v),
    )
    add(
        "scheduled_agents-agents",
        "agents",
        bad_agents,
        lambda v: e.scheduled_agents(v, shrinkage=0.1),
    )
    target = {"service_level": 0.8, "awt": 20.0}
    add(
        "required_agents-traffic",
        "traffic",
        {**bad_load, "1e308": 1e308},
        lambda v: e.required_agents(v, aht=180, **target),
    )
    add(
        "required_agents-aht",
        "aht",
        {**bad_load, "zero": 0.0},
        lambda v: e.required_agents(5.0, aht=v, **target),
    )
    add(
        "required_agents-service_level",
        "service_level",
        {**NON_FINITE, "two": 2.0, "negative": -0.1, "str": "x"},
        lambda v: e.required_agents(5.0, aht=180, service_level=v, awt=20),
    )
    add(
        "required_agents-awt",
        "awt",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: e.required_agents(5.0, aht=180, service_level=0.8, awt=v),
    )
    add(
        "required_agents-asa",
        "asa",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: e.required_agents(5.0, aht=180, asa=v),
    )
    add(
        "required_agents-max_occupancy",
        "max_occupancy",
        {**NON_FINITE, "zero": 0.0, "two": 2.0, "str": "x"},
        lambda v: e.required_agents(5.0, aht=180, max_occupancy=v),
    )
    add(
        "required_agents-abandon",
        "abandon",
        {**NON_FINITE, "two": 2.0, "str": "x"},
        lambda v: e.required_agents(5.0, aht=180, abandon=v, patience=60),
    )
    add(
        "required_agents-patience",
        "patience",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: e.required_agents(5.0, aht=180, service_level=0.8, awt=20, patience=v),
    )
    add(
        "required_agents-definition",
        "definition",
        {"bogus": "bogus", "int": 5},
        lambda v: e.required_agents(
            5.0, aht=180, service_level=0.8, awt=20, patience=60, definition=v
        ),
    )
    cases.append(Case("required_agents-no-target", lambda: e.required_agents(5.0, aht=180)))
    add(
        "staff_intervals-calls",
        "calls",
        {
            "nan": [math.nan],
            "inf": [math.inf],
            "1e308": [1e308],
            "negative": [-1.0],
            "str": ["x"],
            "nested": [[1.0]],
        },
        lambda v: e.staff_intervals(v, interval=900, aht=180, **target),
    )
    add(
        "staff_intervals-interval",
        "interval",
        {**NON_FINITE, "zero": 0.0, "str": "x", "None": None},
        lambda v: e.staff_intervals([10.0], interval=v, aht=180, **target),
    )
    add(
        "staff_intervals-aht",
        "aht",
        {**NON_FINITE, "zero": 0.0, "str": "x", "wrong-length": [180.0, 180.0]},
        lambda v: e.staff_intervals([10.0], interval=900, aht=v, **target),
    )
    add(
        "staff_intervals-labels",
        "labels",
        {"int": 5, "wrong-length": ["a", "b"]},
        lambda v: e.staff_intervals([10.0], interval=900, aht=180, labels=v, **target),
    )
    add(
        "staff_intervals-shrinkage",
        "shrinkage",
        {**NON_FINITE, "one": 1.0, "negative": -0.1},
        lambda v: e.staff_intervals([10.0], interval=900, aht=180, shrinkage=v, **target),
    )
    add(
        "read_forecast-lines",
        None,
        {
            "garbage": ["not,a,forecast", "x,y"],
            "nan": ["interval,calls", "09:00,nan"],
            "inf": ["interval,calls", "09:00,inf"],
            "int": 5,
            "None": None,
        },
        lambda v: e.read_forecast(v),
    )
    return cases


@pytest.mark.parametrize("case", params(_erlang_cases()))
def test_erlang_refuses(case: Case) -> None:
    error = refused(case.call, case.field)
    assert isinstance(error, InvalidInputError | ErlangError)


@pytest.mark.parametrize(
    ("formula", "traffic"),
    [
        pytest.param(name, traffic, id=f"{name}-{label}")
        for name in ("erlang_b", "erlang_c", "erlang_a")
        for label, traffic in (("1e308", 1e308), ("1e300", 1e300), ("1e18", 1e18))
    ],
)
def test_erlang_at_extreme_traffic_answers_or_refuses_in_bounded_time(
    formula: str, traffic: float
) -> None:
    """Huge but finite traffic: a correct limit value or an ErlangError, promptly."""
    from valueroute import erlang as e

    error: ValueRouteError | None = None
    result: Any = None
    timed_out = False
    try:
        with time_bound():
            try:
                if formula == "erlang_a":
                    result = e.erlang_a(10, traffic, aht=180, patience=60).p_wait
                else:
                    result = getattr(e, formula)(10, traffic)
            except ValueRouteError as exc:
                error = exc
    except CaseTimeout:
        timed_out = True
    if timed_out:
        pytest.fail(f"no answer within {IN_PROCESS_SECONDS} s", pytrace=False)
    if error is not None:
        assert len(str(error)) <= MAX_MESSAGE
        return
    assert math.isfinite(result), result
    assert 0.0 <= result <= 1.0, result
    assert result == pytest.approx(1.0), result  # ten agents cannot carry it


def _forecast_file_cases(tmp: Path) -> list[Case]:
    from valueroute.erlang import read_forecast

    files = {
        "garbage": b"not a forecast\n\x00\x01",
        "not-utf8": b"interval,calls\n09:00,\xff\n",
        "empty": b"",
        "nan": b"interval,calls\n09:00,nan\n",
        "huge": b"interval,calls\n09:00," + b"9" * 400 + b"\n",
    }
    cases = []
    for name, content in files.items():
        path = tmp / f"{name}.csv"
        path.write_bytes(content)
        cases.append(Case(f"read_forecast-file-{name}", lambda p=path: read_forecast(p)))
    cases.append(Case("read_forecast-missing", lambda: read_forecast(tmp / "missing.csv")))
    cases.append(Case("read_forecast-directory", lambda: read_forecast(tmp)))
    return cases


@pytest.mark.parametrize("case_id", _ids_of(_forecast_file_cases))
def test_forecast_files_refused(case_id: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = built(_forecast_file_cases, tmp_path_factory)[case_id]
    refused(case.call, case.field)


# ====================================================================== datasets and sim inputs


@pytest.fixture(scope="module")
def calls() -> Any:
    from valueroute.datasets import load_anonymous_bank

    return load_anonymous_bank(days=["1999-05-09"])


def _dataset_cases(tmp: Path) -> list[Case]:
    from valueroute import datasets as d
    from valueroute.sim import (
        RandomStreams,
        arrival_process_from,
        distribution_from,
        load_profile_csv,
        load_trace,
        mean_ci,
        student_t_quantile,
    )

    files = {
        "garbage.csv": b"not,the,columns\n1,2,3\n",
        "not-utf8.csv": b"\xff\xfe\x00garbage\n",
        "empty.csv": b"",
        "bad.csv.gz": b"this is not gzip",
        "deep.jsonl": deep_json().encode() + b"\n",
        "nan.csv": b"time,task_type,handle_time\nnan,calls,30\n",
        "inf.csv": b"time,task_type,handle_time\ninf,calls,30\n",
        "huge.csv": b"time,task_type,handle_time\n1e999,calls,30\n",
        "profile.csv": b"interval_start,volume\n09:00,10\n09:30,12\n",
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp / name
        paths[name].write_bytes(content)
    cases = []
    for name in ("garbage.csv", "not-utf8.csv", "empty.csv", "bad.csv.gz"):
        cases.append(
            Case(f"load_anonymous_bank-{name}", lambda p=paths[name]: d.load_anonymous_bank(p))
        )
    cases += [
        Case("load_anonymous_bank-missing", lambda: d.load_anonymous_bank(tmp / "missing.csv")),
        Case("load_anonymous_bank-directory", lambda: d.load_anonymous_bank(tmp)),
        Case("load_anonymous_bank-int", lambda: d.load_anonymous_bank(5)),  # type: ignore[arg-type]
        Case(
            "load_anonymous_bank-days-bogus", lambda: d.load_anonymous_bank(days=["bogus"]), "days"
        ),
        Case("load_anonymous_bank-days-int", lambda: d.load_anonymous_bank(days=5)),  # type: ignore[arg-type]
        Case("load_anonymous_bank-days-list-int", lambda: d.load_anonymous_bank(days=[5])),  # type: ignore[list-item]
        Case(
            "excerpt_anonymous_bank-missing",
            lambda: d.excerpt_anonymous_bank(
                tmp / "missing.csv", tmp / "out.csv.gz", days=["1999-05-09"]
            ),
        ),
        Case(
            "excerpt_anonymous_bank-garbage",
            lambda: d.excerpt_anonymous_bank(
                paths["not-utf8.csv"], tmp / "out.csv.gz", days=["1999-05-09"]
            ),
        ),
        Case("KaplanMeier-nan", lambda: d.KaplanMeier([math.nan], [True])),
        Case("KaplanMeier-inf", lambda: d.KaplanMeier([math.inf], [True])),
        Case("KaplanMeier-negative", lambda: d.KaplanMeier([-1.0], [True])),
        Case("KaplanMeier-lengths", lambda: d.KaplanMeier([1.0], [True, False])),
        Case("KaplanMeier-text", lambda: d.KaplanMeier(["x"], [True])),
        Case("KaplanMeier-int", lambda: d.KaplanMeier(5, 5)),  # type: ignore[arg-type]
        Case("KaplanMeier-observed-text", lambda: d.KaplanMeier([1.0], ["yes"])),
    ]
    for name in ("garbage.csv", "not-utf8.csv", "deep.jsonl", "nan.csv", "inf.csv", "huge.csv"):
        cases.append(Case(f"load_trace-{name}", lambda p=paths[name]: load_trace(p)))
    cases += [
        Case("load_trace-missing", lambda: load_trace(tmp / "missing.csv")),
        Case("load_trace-format", lambda: load_trace(paths["nan.csv"], format="bogus"), "format"),  # type: ignore[arg-type]
        Case("load_trace-int", lambda: load_trace(5)),  # type: ignore[arg-type]
        Case("load_profile_csv-garbage", lambda: load_profile_csv(paths["garbage.csv"])),
        Case("load_profile_csv-not-utf8", lambda: load_profile_csv(paths["not-utf8.csv"])),
        Case("load_profile_csv-missing", lambda: load_profile_csv(tmp / "missing.csv")),
    ]
    for field, values in {
        "repeat": {"zero": 0, "nan": math.nan, "10**400": 10**400, "list": [2]},
        "interval_minutes": {"seven": 7, "str": "x"},
    }.items():
        for name, value in values.items():
            cases.append(
                Case(
                    f"load_profile_csv-{field}-{name}",
                    lambda f=field, v=value: load_profile_csv(
                        paths["profile.csv"], task_type="calls", **{f: v}
                    ),
                    field,
                )
            )
    for name, value in {
        "int": 5,
        "None": None,
        "bogus-kind": {"kind": "bogus"},
        "nan-mean": {"kind": "exponential", "mean_seconds": math.nan},
        "inf-mean": {"kind": "exponential", "mean_seconds": math.inf},
        "huge-mean": {"kind": "exponential", "mean_seconds": 10**400},
        "negative-mean": {"kind": "exponential", "mean_seconds": -1},
        "nested": nested_dict(200),
        "empirical-nan": {"kind": "empirical", "samples": [math.nan]},
        "surrogate-kind": {"kind": SURROGATE},
    }.items():
        cases.append(Case(f"distribution_from-{name}", lambda v=value: distribution_from(v)))
    for name, value in {
        "int": 5,
        "bogus-kind": {"kind": "bogus"},
        "nan-rate": {"kind": "poisson", "task_type": "calls", "rate_per_hour": math.nan},
        "huge-rate": {"kind": "poisson", "task_type": "calls", "rate_per_hour": 10**400},
        "1e308-rate": {"kind": "poisson", "task_type": "calls", "rate_per_hour": 1e308},
        "1e12-volume": {
            "kind": "profile",
            "task_type": "calls",
            "interval_minutes": 60,
            "volumes": [10, 1e12],
        },
        "nested": nested_dict(200),
    }.items():
        cases.append(Case(f"arrival_process_from-{name}", lambda v=value: arrival_process_from(v)))
    cases += [
        Case("RandomStreams-seed-negative", lambda: RandomStreams(-1), "seed"),
        Case("RandomStreams-seed-nan", lambda: RandomStreams(math.nan), "seed"),  # type: ignore[arg-type]
        Case("RandomStreams-seed-str", lambda: RandomStreams("x"), "seed"),  # type: ignore[arg-type]
        Case(
            "RandomStreams-replication-negative",
            lambda: RandomStreams(1, replication=-1),
            "replication",
        ),
        Case("student_t_quantile-nan", lambda: student_t_quantile(math.nan, 3)),
        Case("student_t_quantile-two", lambda: student_t_quantile(2.0, 3)),
        Case("student_t_quantile-df", lambda: student_t_quantile(0.9, 0)),
        Case("mean_ci-confidence", lambda: mean_ci([1.0, 2.0], confidence=2.0), "confidence"),
        Case(
            "mean_ci-confidence-nan", lambda: mean_ci([1.0, 2.0], confidence=math.nan), "confidence"
        ),
        Case("mean_ci-values-text", lambda: mean_ci(["x", "y"])),  # type: ignore[list-item]
    ]
    return cases


@pytest.mark.parametrize("case_id", _ids_of(_dataset_cases))
def test_dataset_and_input_loaders_refuse(
    case_id: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    case = built(_dataset_cases, tmp_path_factory)[case_id]
    refused(case.call, case.field)


CALLS_CASES: dict[str, Callable[[Any], object]] = {}


def _calls_cases() -> dict[str, tuple[str | None, Callable[[Any], object]]]:
    # Imported when a case runs, so that case ids never depend on importing them.
    import importlib

    class _Lazy:
        def __init__(self, name: str) -> None:
            self.name = name

        def __getattr__(self, attribute: str) -> Any:
            return getattr(importlib.import_module(self.name), attribute)

    d: Any = _Lazy("valueroute.datasets")
    r: Any = _Lazy("valueroute.replay")
    return {
        "agents_on_duty-interval-7": (
            "interval_minutes",
            lambda c: d.agents_on_duty(c, interval_minutes=7),
        ),
        "agents_on_duty-interval-nan": (
            "interval_minutes",
            lambda c: d.agents_on_duty(c, interval_minutes=math.nan),
        ),
        "agents_on_duty-interval-str": (
            "interval_minutes",
            lambda c: d.agents_on_duty(c, interval_minutes="60"),
        ),
        "agents_on_duty-basis": ("basis", lambda c: d.agents_on_duty(c, basis="bogus")),
        "agents_on_duty-calls-int": (None, lambda c: d.agents_on_duty(5)),
        "available_agents-interval-0": (
            "interval_minutes",
            lambda c: d.available_agents(c, interval_minutes=0),
        ),
        "available_agents-interval-nan": (
            "interval_minutes",
            lambda c: d.available_agents(c, interval_minutes=math.nan),
        ),
        "available_agents-calls-int": (None, lambda c: d.available_agents(5)),
        "patience_observations-task_type-int": (
            "task_type",
            lambda c: d.patience_observations(c, task_type=5),
        ),
        "patience_observations-priority-str": (
            "priority",
            lambda c: d.patience_observations(c, priority="x"),
        ),
        "build_replay-calls-int": (None, lambda c: r.build_replay(5)),
        "build_replay-days-bogus": ("days", lambda c: r.build_replay(c, days=["bogus"])),
        "build_replay-interval-7": (
            "interval_minutes",
            lambda c: r.build_replay(c, interval_minutes=7),
        ),
        "build_replay-interval-nan": (
            "interval_minutes",
            lambda c: r.build_replay(c, interval_minutes=math.nan),
        ),
        "build_replay-staffing": ("staffing", lambda c: r.build_replay(c, staffing="bogus")),
        "build_replay-patience": ("patience", lambda c: r.build_replay(c, patience=5)),
        "run_replay-int": (None, lambda c: r.run_replay(5)),
        "ReplicationRedraw-int": (None, lambda c: r.ReplicationRedraw(5)),
    }


@pytest.mark.parametrize("case_id", list(_calls_cases()))
def test_call_record_helpers_refuse(case_id: str, calls: Any) -> None:
    field, call = _calls_cases()[case_id]
    refused(lambda: call(calls), field)


# ====================================================================== simulation and staffing


@pytest.fixture(scope="module")
def scenario() -> Any:
    from valueroute.sim import Scenario

    return Scenario.model_validate(MINIMAL_SCENARIO)


def _sim_cases() -> dict[str, tuple[str | None, Callable[[Any], object]]]:
    from valueroute.sim import StaffingTarget, compare, simulate, staff_by_simulation

    cases: dict[str, tuple[str | None, Callable[[Any], object]]] = {
        "simulate-scenario-int": (None, lambda s: simulate(5)),
        "simulate-scenario-dict": (None, lambda s: simulate(dict(MINIMAL_SCENARIO))),
        "compare-policies-bogus": (None, lambda s: compare(s, policies=["bogus"])),
        "compare-policies-empty": ("policies", lambda s: compare(s, policies=[])),
        "compare-policies-int": ("policies", lambda s: compare(s, policies=5)),
        "compare-policies-str": ("policies", lambda s: compare(s, policies="fifo")),
        "compare-kpis-bogus": (
            "kpis",
            lambda s: compare(s, policies=["fifo", "strict_priority"], kpis=["bogus"]),
        ),
        "StaffingTarget-service_level-two": (
            "service_level",
            lambda s: StaffingTarget(service_level=2.0, awt=20),
        ),
        "StaffingTarget-service_level-nan": (
            "service_level",
            lambda s: StaffingTarget(service_level=math.nan, awt=20),
        ),
        "StaffingTarget-awt-nan": (
            "awt",
            lambda s: StaffingTarget(service_level=0.8, awt=math.nan),
        ),
        "StaffingTarget-asa-inf": ("asa", lambda s: StaffingTarget(asa=math.inf)),
        "StaffingTarget-task_type-int": (
            "task_type",
            lambda s: StaffingTarget(task_type=5, asa=20),
        ),
        "StaffingTarget-none": (None, lambda s: StaffingTarget()),
        "staff_by_simulation-targets-int": ("targets", lambda s: staff_by_simulation(s, targets=5)),
        "staff_by_simulation-confidence-two": (
            "confidence",
            lambda s: staff_by_simulation(
                s, targets=StaffingTarget(asa=20), replications=4, confidence=2.0
            ),
        ),
        "staff_by_simulation-confidence-nan": (
            "confidence",
            lambda s: staff_by_simulation(
                s, targets=StaffingTarget(asa=20), replications=4, confidence=math.nan
            ),
        ),
        "staff_by_simulation-max_agents-zero": (
            "max_agents",
            lambda s: staff_by_simulation(
                s, targets=StaffingTarget(asa=20), replications=4, max_agents=0
            ),
        ),
        "staff_by_simulation-max_agents-nan": (
            "max_agents",
            lambda s: staff_by_simulation(
                s, targets=StaffingTarget(asa=20), replications=4, max_agents=math.nan
            ),
        ),
        "staff_by_simulation-start-bogus": (
            "start",
            lambda s: staff_by_simulation(
                s, targets=StaffingTarget(asa=20), replications=4, start={"bogus": 1}
            ),
        ),
        "staff_by_simulation-cost-nan": (
            "cost_per_hour",
            lambda s: staff_by_simulation(
                s, targets=StaffingTarget(asa=20), replications=4, cost_per_hour=math.nan
            ),
        ),
    }
    for name, value in {
        "zero": 0,
        "negative": -1,
        "nan": math.nan,
        "fraction": 1.5,
        "str": "2",
        "10**400": 10**400,
        "bool": True,
    }.items():
        cases[f"simulate-replications-{name}"] = (
            "replications",
            lambda s, v=value: simulate(s, replications=v),
        )
    for name, value in {"negative": -1, "nan": math.nan, "fraction": 1.5, "str": "x"}.items():
        cases[f"simulate-seed-{name}"] = (
            "seed",
            lambda s, v=value: simulate(s, replications=1, seed=v),
        )
    return cases


@pytest.mark.parametrize("case_id", list(_sim_cases()))
def test_simulation_entry_points_refuse(case_id: str, scenario: Any) -> None:
    field, call = _sim_cases()[case_id]
    refused(lambda: call(scenario), field)


def _hosting_cases() -> list[Case]:
    from valueroute.hosting import LockedEngine, TimerLoop

    engine = Engine(clock=lambda: 0.0)
    return [
        Case("LockedEngine-int", lambda: LockedEngine(5), "engine"),  # type: ignore[arg-type]
        Case("LockedEngine-lock", lambda: LockedEngine(engine, lock=5), "lock"),  # type: ignore[arg-type]
        Case("TimerLoop-int", lambda: TimerLoop(5), "engine"),  # type: ignore[arg-type]
        Case("TimerLoop-clock", lambda: TimerLoop(engine, clock=5), "clock"),  # type: ignore[arg-type]
        *[
            Case(
                f"TimerLoop-max_sleep-{name}",
                lambda v=value: TimerLoop(engine, max_sleep=v),
                "max_sleep",
            )
            for name, value in {
                **NON_FINITE,
                "zero": 0.0,
                "negative": -1.0,
                "str": "x",
                "None": None,
            }.items()
        ],
    ]


@pytest.mark.parametrize("case", params(_hosting_cases()))
def test_hosting_refuses(case: Case) -> None:
    refused(case.call, case.field)


# ====================================================================== command line


def _cli_files(tmp: Path) -> dict[str, Path]:
    files = {
        "garbage.toml": b"horizon_seconds = [unclosed",
        "not-utf8.toml": NOT_UTF8,
        "deep.json": deep_json().encode(),
        "empty.toml": b"",
        "garbage.csv": b"not a forecast\n\x00\x01",
        "not-utf8.csv": b"interval,calls\n09:00,\xff\n",
        "nan.csv": b"interval,calls\n09:00,nan\n",
        "huge.csv": b"interval,calls\n09:00,1e308\n",
        "tasks-garbage.jsonl": b"{not json\n",
        "tasks-deep.jsonl": deep_json(10_000, "attributes").encode() + b"\n",
        "tasks-not-utf8.jsonl": b'{"id": "\xff"}\n',
        "tasks-nan.jsonl": b'{"id": "a", "value": NaN}\n',
        "tasks-surrogate.jsonl": b'{"id": "\\ud83d"}\n',
        "tasks-list.jsonl": b"[1, 2]\n",
        "scenario.json": json.dumps(MINIMAL_SCENARIO).encode(),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp / name
        paths[name].write_bytes(content)
    return paths


BT_TRAIN = ["--train", "1999-05-09", "1999-05-10"]
BT_PREDICT = ["--predict", "1999-05-11", "1999-05-11"]
CLI_CASES: dict[str, list[str]] = {
    # erlang
    "erlang-traffic-nan": ["erlang", "--traffic", "nan", "--agents", "10"],
    "erlang-traffic-inf": ["erlang", "--traffic", "inf", "--agents", "10"],
    "erlang-traffic-1e999": ["erlang", "--traffic", "1e999", "--agents", "10"],
    "erlang-traffic-negative": ["erlang", "--traffic", "-5", "--agents", "10"],
    "erlang-traffic-1e308-target": [
        "erlang",
        "--traffic",
        "1e308",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "erlang-agents-negative": ["erlang", "--traffic", "5", "--agents", "-1"],
    "erlang-agents-10**400": ["erlang", "--traffic", "5", "--agents", "1" + "0" * 400],
    "erlang-calls-nan": ["erlang", "--calls", "nan", "--interval", "1800", "--agents", "10"],
    "erlang-interval-zero": ["erlang", "--calls", "100", "--interval", "0", "--agents", "10"],
    "erlang-interval-nan": ["erlang", "--calls", "100", "--interval", "nan", "--agents", "10"],
    "erlang-aht-nan": ["erlang", "--traffic", "5", "--aht", "nan", "--agents", "10"],
    "erlang-aht-zero": ["erlang", "--traffic", "5", "--aht", "0", "--agents", "10"],
    "erlang-target-two": ["erlang", "--traffic", "5", "--target", "2", "--awt", "20"],
    "erlang-target-nan": ["erlang", "--traffic", "5", "--target", "nan", "--awt", "20"],
    "erlang-awt-nan": ["erlang", "--traffic", "5", "--target", "0.8", "--awt", "nan"],
    "erlang-patience-nan": ["erlang", "--traffic", "5", "--agents", "10", "--patience", "nan"],
    "erlang-patience-negative": ["erlang", "--traffic", "5", "--agents", "10", "--patience", "-1"],
    "erlang-abandon-two": ["erlang", "--traffic", "5", "--abandon", "2", "--patience", "60"],
    "erlang-max-occupancy-nan": ["erlang", "--traffic", "5", "--max-occupancy", "nan"],
    "erlang-no-load": ["erlang", "--agents", "10"],
    # staff
    "staff-missing": [
        "staff",
        "{tmp}/missing.csv",
        "--aht",
        "180",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-directory": ["staff", "{tmp}", "--aht", "180", "--target", "0.8", "--awt", "20"],
    "staff-garbage": [
        "staff",
        "{tmp}/garbage.csv",
        "--aht",
        "180",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-not-utf8": [
        "staff",
        "{tmp}/not-utf8.csv",
        "--aht",
        "180",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-nan": ["staff", "{tmp}/nan.csv", "--aht", "180", "--target", "0.8", "--awt", "20"],
    "staff-huge": ["staff", "{tmp}/huge.csv", "--aht", "180", "--target", "0.8", "--awt", "20"],
    "staff-interval-nan": [
        "staff",
        "{root}/examples/forecast_day.csv",
        "--interval",
        "nan",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-shrinkage-one": [
        "staff",
        "{root}/examples/forecast_day.csv",
        "--shrinkage",
        "1",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-simulate-missing": [
        "staff",
        "--simulate",
        "{tmp}/missing.toml",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-simulate-garbage": [
        "staff",
        "--simulate",
        "{tmp}/garbage.toml",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-simulate-confidence-two": [
        "staff",
        "--simulate",
        "{tmp}/scenario.json",
        "--confidence",
        "2",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    "staff-simulate-max-agents-zero": [
        "staff",
        "--simulate",
        "{tmp}/scenario.json",
        "--max-agents",
        "0",
        "--target",
        "0.8",
        "--awt",
        "20",
    ],
    # simulate and compare
    "simulate-missing": ["simulate", "{tmp}/missing.toml"],
    "simulate-directory": ["simulate", "{tmp}"],
    "simulate-garbage": ["simulate", "{tmp}/garbage.toml"],
    "simulate-not-utf8": ["simulate", "{tmp}/not-utf8.toml"],
    "simulate-deep": ["simulate", "{tmp}/deep.json"],
    "simulate-empty": ["simulate", "{tmp}/empty.toml"],
    "simulate-replications-zero": ["simulate", "{tmp}/scenario.json", "--replications", "0"],
    "simulate-replications-negative": ["simulate", "{tmp}/scenario.json", "--replications", "-1"],
    "simulate-replications-10**400": [
        "simulate",
        "{tmp}/scenario.json",
        "--replications",
        "1" + "0" * 400,
    ],
    "simulate-seed-negative": ["simulate", "{tmp}/scenario.json", "--seed", "-1"],
    "simulate-seed-10**400": [
        "simulate",
        "{tmp}/scenario.json",
        "--replications",
        "1",
        "--seed",
        "1" + "0" * 400,
    ],
    "compare-policy-bogus": ["compare", "{tmp}/scenario.json", "--policy", "bogus"],
    "compare-garbage": ["compare", "{tmp}/garbage.toml", "--policy", "fifo"],
    "compare-policy-surrogate": ["compare", "{tmp}/scenario.json", "--policy", SURROGATE],
    # bench
    "bench-missing": ["bench", "{tmp}/missing.toml"],
    "bench-garbage": ["bench", "{tmp}/garbage.toml"],
    "bench-not-utf8": ["bench", "{tmp}/not-utf8.toml"],
    "bench-deep": ["bench", "{tmp}/deep.json"],
    "bench-replications-zero": ["bench", "{tmp}/scenario.json", "--replications", "0"],
    "bench-jobs-zero": ["bench", "{tmp}/scenario.json", "--jobs", "0"],
    "bench-jobs-negative": ["bench", "{tmp}/scenario.json", "--jobs", "-1"],
    "bench-policy-bogus": ["bench", "{tmp}/scenario.json", "--policy", "bogus"],
    "bench-selection-bogus": ["bench", "{tmp}/scenario.json", "--selection", "bogus"],
    "bench-seed-negative": ["bench", "{tmp}/scenario.json", "--seed", "-1"],
    # rules
    "rules-check-missing": ["rules", "check", "{tmp}/missing.toml"],
    "rules-check-garbage": ["rules", "check", "{tmp}/garbage.toml"],
    "rules-check-not-utf8": ["rules", "check", "{tmp}/not-utf8.toml"],
    "rules-check-deep": ["rules", "check", "{tmp}/deep.json"],
    "rules-check-directory": ["rules", "check", "{tmp}"],
    "rules-dry-run-tasks-missing": ["rules", "dry-run", str(RULES_FILE), "{tmp}/missing.jsonl"],
    "rules-dry-run-tasks-garbage": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        "{tmp}/tasks-garbage.jsonl",
    ],
    "rules-dry-run-tasks-deep": ["rules", "dry-run", str(RULES_FILE), "{tmp}/tasks-deep.jsonl"],
    "rules-dry-run-tasks-not-utf8": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        "{tmp}/tasks-not-utf8.jsonl",
    ],
    "rules-dry-run-tasks-nan": ["rules", "dry-run", str(RULES_FILE), "{tmp}/tasks-nan.jsonl"],
    "rules-dry-run-tasks-surrogate": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        "{tmp}/tasks-surrogate.jsonl",
    ],
    "rules-dry-run-tasks-list": ["rules", "dry-run", str(RULES_FILE), "{tmp}/tasks-list.jsonl"],
    "rules-dry-run-at-nan": ["rules", "dry-run", str(RULES_FILE), str(TASKS_FILE), "--at", "nan"],
    "rules-dry-run-at-inf": ["rules", "dry-run", str(RULES_FILE), str(TASKS_FILE), "--at", "inf"],
    "rules-dry-run-policy-bogus": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        str(TASKS_FILE),
        "--policy",
        "bogus",
    ],
    "rules-dry-run-param-garbage": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        str(TASKS_FILE),
        "--policy",
        "aging_priority",
        "--param",
        "seconds_per_point=[[[",
    ],
    "rules-dry-run-param-nan": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        str(TASKS_FILE),
        "--policy",
        "aging_priority",
        "--param",
        "seconds_per_point=NaN",
    ],
    "rules-dry-run-param-deep": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        str(TASKS_FILE),
        "--policy",
        "aging_priority",
        "--param",
        "seconds_per_point=" + "[" * 10_000 + "]" * 10_000,
    ],
    "rules-dry-run-param-no-equals": [
        "rules",
        "dry-run",
        str(RULES_FILE),
        str(TASKS_FILE),
        "--param",
        "seconds_per_point",
    ],
    # demo
    "demo-seconds-per-point-nan": ["demo", "--seconds-per-point", "nan"],
    "demo-seconds-per-point-zero": ["demo", "--seconds-per-point", "0"],
    "demo-seconds-per-point-negative": ["demo", "--seconds-per-point", "-1"],
    "demo-seconds-per-point-inf": ["demo", "--seconds-per-point", "inf"],
    "demo-at-nan": ["demo", "--at", "nan"],
    "demo-at-inf": ["demo", "--at", "inf"],
    # replay
    "replay-missing": ["replay", "{tmp}/missing.csv"],
    "replay-directory": ["replay", "{tmp}"],
    "replay-garbage-log": ["replay", "{tmp}/garbage.csv"],
    "replay-not-a-day": ["replay", "excerpt", "--days", "monday"],
    "replay-day-not-in-log": ["replay", "excerpt", "--days", "1999-05-12"],
    "replay-days-empty": ["replay", "excerpt", "--days"],
    "replay-replications-zero": ["replay", "excerpt", "--replications", "0"],
    "replay-replications-huge": ["replay", "excerpt", "--replications", "1" + "0" * 400],
    "replay-seed-negative": ["replay", "excerpt", "--seed", "-1"],
    "replay-interval-minutes-20": ["replay", "excerpt", "--interval-minutes", "20"],
    "replay-staffing-unknown": ["replay", "excerpt", "--staffing", "rostered"],
    "replay-calls-csv-folder": ["replay", "excerpt", "--calls-csv", "{tmp}"],
    "replay-calls-csv-no-folder": ["replay", "excerpt", "--calls-csv", "{tmp}/no/such/calls.csv"],
    # backtest
    "backtest-missing": ["backtest", "{tmp}/missing.csv", *BT_TRAIN, *BT_PREDICT],
    "backtest-directory": ["backtest", "{tmp}", *BT_TRAIN, *BT_PREDICT],
    "backtest-garbage-log": ["backtest", "{tmp}/garbage.csv", *BT_TRAIN, *BT_PREDICT],
    "backtest-train-reversed": [
        "backtest",
        "excerpt",
        "--train",
        "1999-05-10",
        "1999-05-09",
        *BT_PREDICT,
    ],
    "backtest-predict-before-train": [
        "backtest",
        "excerpt",
        "--train",
        "1999-05-10",
        "1999-05-11",
        "--predict",
        "1999-05-09",
        "1999-05-09",
    ],
    "backtest-overlap": ["backtest", "excerpt", *BT_TRAIN, "--predict", "1999-05-10", "1999-05-11"],
    "backtest-not-a-day": ["backtest", "excerpt", "--train", "monday", "1999-05-10", *BT_PREDICT],
    "backtest-replications-zero": [
        "backtest",
        "excerpt",
        *BT_TRAIN,
        *BT_PREDICT,
        "--replications",
        "0",
    ],
    "backtest-replications-huge": [
        "backtest",
        "excerpt",
        *BT_TRAIN,
        *BT_PREDICT,
        "--replications",
        "1" + "0" * 400,
    ],
    "backtest-interval-zero": [
        "backtest",
        "excerpt",
        *BT_TRAIN,
        *BT_PREDICT,
        "--interval-minutes",
        "0",
    ],
    "backtest-hours-reversed": [
        "backtest",
        "excerpt",
        *BT_TRAIN,
        *BT_PREDICT,
        "--hours",
        "22",
        "7",
    ],
    "backtest-roster-missing": [
        "backtest",
        "excerpt",
        *BT_TRAIN,
        *BT_PREDICT,
        "--roster",
        "{tmp}/none.csv",
    ],
    "backtest-roster-garbage": [
        "backtest",
        "excerpt",
        *BT_TRAIN,
        *BT_PREDICT,
        "--roster",
        "{tmp}/garbage.csv",
    ],
    # forecast
    "forecast-missing": ["forecast", "{tmp}/missing.csv", "--start", "1999-05-11"],
    "forecast-directory": ["forecast", "{tmp}", "--start", "1999-05-11"],
    "forecast-start-not-a-day": ["forecast", "excerpt", "--start", "tomorrow"],
    "forecast-days-zero": ["forecast", "excerpt", "--start", "1999-05-11", "--days", "0"],
    "forecast-days-huge": [
        "forecast",
        "excerpt",
        "--start",
        "1999-05-11",
        "--days",
        "1" + "0" * 400,
    ],
    "forecast-level-nan": ["forecast", "excerpt", "--start", "1999-05-11", "--level", "nan"],
    "forecast-holidays-bogus": ["forecast", "excerpt", "--start", "1999-05-11", "--holidays", "XX"],
    "forecast-garbage-log": ["forecast", "{tmp}/garbage.csv", "--start", "1999-05-11"],
    "forecast-not-utf8-log": ["forecast", "{tmp}/not-utf8.csv", "--start", "1999-05-11"],
    # serve (each refused before anything binds)
    "serve-port-negative": ["serve", "--journal", "{tmp}/j.sqlite", "--port", "-1"],
    "serve-port-huge": ["serve", "--journal", "{tmp}/j.sqlite", "--port", "1" + "0" * 400],
    "serve-port-text": ["serve", "--journal", "{tmp}/j.sqlite", "--port", "http"],
    "serve-tokens-missing": [
        "serve",
        "--journal",
        "{tmp}/j.sqlite",
        "--tokens",
        "{tmp}/missing.toml",
    ],
    "serve-tokens-garbage": [
        "serve",
        "--journal",
        "{tmp}/j.sqlite",
        "--tokens",
        "{tmp}/garbage.toml",
    ],
    "serve-public-without-tokens": ["serve", "--journal", "{tmp}/j.sqlite", "--host", "0.0.0.0"],
    "serve-config-not-utf8": [
        "serve",
        "--journal",
        "{tmp}/j.sqlite",
        "--config",
        "{tmp}/not-utf8.toml",
    ],
    "serve-rules-garbage": [
        "serve",
        "--journal",
        "{tmp}/j.sqlite",
        "--rules",
        "{tmp}/garbage.toml",
    ],
    "serve-journal-directory": ["serve", "--journal", "{tmp}"],
    "serve-journal-no-folder": ["serve", "--journal", "{tmp}/no/such/folder/j.sqlite"],
    # schedule
    "schedule-missing": ["schedule", "{tmp}/missing.toml"],
    "schedule-directory": ["schedule", "{tmp}"],
    "schedule-garbage": ["schedule", "{tmp}/garbage.toml"],
    "schedule-not-utf8": ["schedule", "{tmp}/not-utf8.toml"],
    "schedule-deep-json": ["schedule", "{tmp}/deep.json"],
    "schedule-empty": ["schedule", "{tmp}/empty.toml"],
    "schedule-budget-nan": ["schedule", "{root}/examples/schedule_day.toml", "--budget", "nan"],
    "schedule-budget-negative": ["schedule", "{root}/examples/schedule_day.toml", "--budget", "-1"],
    "schedule-requirements-missing": [
        "schedule",
        "{root}/examples/schedule_day.toml",
        "--requirements",
        "{tmp}/missing.csv",
    ],
    "schedule-time-limit-nan": [
        "schedule",
        "{root}/examples/schedule_day.toml",
        "--time-limit",
        "nan",
    ],
}


def _argv(template: list[str], tmp: Path) -> list[str]:
    return [part.replace("{tmp}", str(tmp)).replace("{root}", str(ROOT)) for part in template]


def check_cli_failure(code: object, err: str) -> None:
    assert "Traceback" not in err, err[-2000:]
    assert code == 2, f"exit code {code!r}; stderr: {err[-500:]}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"stderr is not one line: {err[-1000:]}"
    assert err.strip() == lines[0], f"stderr is not one line: {err[-1000:]}"
    assert len(lines[0]) <= MAX_MESSAGE + 100, f"stderr line of {len(lines[0])} characters"


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_refuses_with_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from valueroute.cli import main

    _cli_files(tmp_path)
    argv = _argv(CLI_CASES[name], tmp_path)
    code: object = None
    timed_out = False
    try:
        with time_bound(5.0):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
    except CaseTimeout:
        timed_out = True
    if timed_out:
        pytest.fail("no answer within 5 s", pytrace=False)
    err = capsys.readouterr().err
    check_cli_failure(code, err)


CLI_BOMBS: dict[str, tuple[str, list[str]]] = {
    "simulate-alias-bomb": ("s.yaml", ["simulate", "{file}"]),
    "compare-alias-bomb": ("s.yaml", ["compare", "{file}", "--policy", "fifo"]),
    "staff-simulate-alias-bomb": (
        "s.yaml",
        ["staff", "--simulate", "{file}", "--target", "0.8", "--awt", "20"],
    ),
    "rules-check-alias-bomb": ("r.yaml", ["rules", "check", "{file}"]),
    "rules-dry-run-alias-bomb": ("r.yaml", ["rules", "dry-run", "{file}", str(TASKS_FILE)]),
    "bench-deep-json": ("b.json", ["bench", "{file}"]),
    "erlang-traffic-1e308-target": (
        "",
        ["erlang", "--traffic", "1e308", "--target", "0.8", "--awt", "20"],
    ),
    # A scenario (and a bench scenario) whose routing rules are an alias bomb.
    "simulate-rules-alias-bomb": ("s.json", ["simulate", "{file}"]),
    "bench-rules-alias-bomb": ("b.json", ["bench", "{file}"]),
}


@pytest.mark.parametrize("name", list(CLI_BOMBS))
def test_cli_hostile_documents_in_a_child(name: str, tmp_path: Path) -> None:
    filename, template = CLI_BOMBS[name]
    file = tmp_path / (filename or "unused")
    if filename.endswith(".yaml"):
        file.write_text(alias_bomb_yaml("name: *h\n"))
    elif name.endswith("rules-alias-bomb"):
        (tmp_path / "r.yaml").write_text(alias_bomb_yaml("name: *h\n"))
        document = scenario_with(routing={"rules": "r.yaml"})
        document["bench"] = {"policies": ["fifo"], "fast": {"replications": 2}}
        file.write_text(json.dumps(document))
    elif filename.endswith(".json"):
        file.write_text(deep_json(100_000))
    argv = [part.replace("{file}", str(file)) for part in template]
    child = run_child([sys.executable, "-m", "valueroute", *argv])
    check_cli_failure(child.returncode, child.stderr)


# ====================================================================== the rest of the surface


def _surface_cases(tmp: Path) -> list[Case]:
    """Constructors and functions of the public surface not driven above."""
    import numpy as np

    from valueroute import agents as ag
    from valueroute import bench as b
    from valueroute import journal as j
    from valueroute import models as m
    from valueroute import replay as r
    from valueroute import rules as ru
    from valueroute import scoring as s
    from valueroute import sim
    from valueroute.engine import StarvationGuard
    from valueroute.hosting import LockedView
    from valueroute.relaxation import ContinuousRelaxation, RelaxationStep
    from valueroute.sim import scenario as sc
    from valueroute.tasklist import TaskList

    rng = np.random.default_rng(0)

    def _list_at_zero() -> TaskList:
        tasks = TaskList(s.Fifo())
        tasks.add(TaskSpec(id="t0"), now=0.0)
        return tasks

    task = TaskList(s.Fifo()).add(TaskSpec(id="t", channel="email"), now=0.0)
    scenario = sim.Scenario.model_validate(MINIMAL_SCENARIO)
    bad_seconds = {**NON_FINITE, **HUGE_INTS, "negative": -1.0, "str": "x", "list": []}
    cases: list[Case] = []

    def add(
        prefix: str, field: str | None, values: dict[str, Any], call: Callable[[Any], object]
    ) -> None:
        for name, value in values.items():
            cases.append(Case(f"{prefix}-{name}", lambda v=value: call(v), field))

    # agents
    add(
        "AgentPool-exclusive_channels",
        "exclusive_channels",
        {"int": 5, "None": None, "list-int": [1], "object": Opaque()},
        lambda v: ag.AgentPool(exclusive_channels=v),
    )
    add("RandomAgent-rng", "rng", {"int": 5, "None": None, "str": "x"}, lambda v: ag.RandomAgent(v))
    add(
        "selection_by_name",
        "name|selection",
        {"bogus": "bogus", "int": 5, "None": None, "1MB": "x" * MB, "surrogate": SURROGATE},
        lambda v: ag.selection_by_name(v),
    )
    # engine helpers
    add(
        "StarvationGuard-max_wait",
        "max_wait",
        {**bad_seconds, "zero": 0.0, "None": None},
        lambda v: StarvationGuard(s.Fifo(), v),
    )
    add(
        "StarvationGuard-policy",
        "policy",
        {"int": 5, "None": None},
        lambda v: StarvationGuard(v, 60.0),
    )
    add(
        "StarvationGuard-offset",
        "offset",
        {**NON_FINITE, "str": "x"},
        lambda v: StarvationGuard(s.Fifo(), 60.0, offset=v),
    )
    add("ContinuousRelaxation-rate", "rate", bad_seconds, lambda v: ContinuousRelaxation(v))
    add(
        "ContinuousRelaxation-floor",
        "floor",
        {**NON_FINITE, "str": "x"},
        lambda v: ContinuousRelaxation(0.1, floor=v),
    )
    add(
        "ContinuousRelaxation-value_scale",
        "value_scale",
        {**NON_FINITE, "str": "x"},
        lambda v: ContinuousRelaxation(0.1, value_scale=v),
    )
    add("RelaxationStep-after", "after", bad_seconds, lambda v: RelaxationStep(v))
    add(
        "RelaxationStep-lower_by",
        "lower_by",
        {**NON_FINITE, "str": "x"},
        lambda v: RelaxationStep(10.0, lower_by=v),
    )
    add(
        "RelaxationStep-drop",
        "drop",
        {"int": 5, "list-int": (1,)},
        lambda v: RelaxationStep(10.0, drop=v),
    )
    # task list
    add(
        "TaskList-policy",
        "policy",
        {"int": 5, "str": "fifo", "object": Opaque()},
        lambda v: TaskList(v),
    )
    add(
        "TaskList-add-item",
        None,
        {"int": 5, "None": None, "dict": {"id": []}},
        lambda v: TaskList(s.Fifo()).add(v, now=0.0),
    )
    add(
        "TaskList-add-now",
        "now",
        {**NON_FINITE, "str": "x", "None": None},
        lambda v: TaskList(s.Fifo()).add(TaskSpec(id="t"), now=v),
    )
    add(
        "TaskList-top-n",
        "n",
        {"negative": -1, "nan": math.nan, "str": "3"},
        lambda v: TaskList(s.Fifo()).top(v, 0.0),
    )
    add(
        "TaskList-top-now",
        "now",
        {**NON_FINITE, "str": "x"},
        # A list that has a time: a fresh one answers at its own time, -inf.
        lambda v: _list_at_zero().top(3, v),
    )
    add(
        "TaskList-ranked-now",
        "now",
        {"nan": math.nan, "-inf": -math.inf, "str": "x"},
        lambda v: list(_list_at_zero().ranked(v)),
    )
    add(
        "TaskList-counts",
        "by",
        {"bogus": "bogus", "list": []},
        lambda v: TaskList(s.Fifo()).counts(v),
    )
    add(
        "TaskList-get",
        None,
        {"list": [], "int": 5, "1MB": "x" * MB},
        lambda v: TaskList(s.Fifo()).get(v),
    )
    add(
        "TaskList-remove",
        None,
        {"list": [], "int": 5, "1MB": "x" * MB},
        lambda v: TaskList(s.Fifo()).remove(v),
    )
    # models and scoring helpers
    add(
        "to_seconds",
        None,
        {
            **NON_FINITE,
            **HUGE_INTS,
            "str": "x",
            "None": None,
            "list": [],
            "bool": True,
            "naive": datetime(2026, 1, 1),
        },
        lambda v: m.to_seconds(v),
    )
    add(
        "model_by_kind",
        None,
        {"int": 5, "no-kind": {}, "bogus-kind": {"kind": "bogus"}},
        lambda v: m.model_by_kind("Thing", v, {"a": sim.Exponential}),
    )
    add("explain-policy", None, {"int": 5, "None": None}, lambda v: s.explain(v, task, 0.0))
    add("explain-task", None, {"int": 5, "None": None}, lambda v: s.explain(s.Fifo(), v, 0.0))
    add("explain-now", "now", {"nan": math.nan, "str": "x"}, lambda v: s.explain(s.Fifo(), task, v))
    # rule models
    add(
        "Condition-op",
        "op",
        {"int": 5, "list": []},
        lambda v: ru.Condition(field="priority", op=v, value=1),
    )
    add(
        "Condition-field",
        "field",
        {"int": 5, "list": []},
        lambda v: ru.Condition(field=v, op="==", value=1),
    )
    add(
        "RampSpec-step", "step", {**NON_FINITE, "str": "x"}, lambda v: ru.RampSpec(step=v, every=60)
    )
    add(
        "RampSpec-every",
        "every",
        {**NON_FINITE, "zero": 0, "negative": -1},
        lambda v: ru.RampSpec(step=1, every=v),
    )
    add(
        "Actions-value",
        "value",
        {**NON_FINITE, "negative": -1.0, "str": "x"},
        lambda v: ru.Actions(value=v),
    )
    add(
        "Actions-priority",
        "priority",
        {"nan": math.nan, "fraction": 1.5, "str": "x", **HUGE_INTS},
        lambda v: ru.Actions(priority=v),
    )
    add("Actions-due_in", "due_in", {**NON_FINITE, "str": "x"}, lambda v: ru.Actions(due_in=v))
    add("Rule-name", "name", {"empty": "", "int": 5, "long": "x" * 129}, lambda v: ru.Rule(name=v))
    add("Stage-mode", "mode", {"bogus": "bogus", "int": 5}, lambda v: ru.Stage(mode=v))
    add(
        "RuleSet-name",
        "name",
        {"empty": "", "int": 5, "1MB": "x" * MB},
        lambda v: ru.RuleSet(name=v),
    )
    add("TableRow-when", "when", {"int": 5, "list": []}, lambda v: ru.TableRow(when=v))
    # scenario models
    add(
        "TaskType-name",
        "name",
        {"int": 5, "empty": "", "1MB": "x" * MB},
        lambda v: sc.TaskType(name=v, handle={"kind": "exponential", "mean_seconds": 60}),
    )
    add(
        "TaskType-handle",
        "handle",
        {
            "int": 5,
            "bogus": {"kind": "bogus"},
            "nan": {"kind": "exponential", "mean_seconds": math.nan},
        },
        lambda v: sc.TaskType(name="calls", handle=v),
    )
    add(
        "AgentGroup-count",
        "count",
        {"negative": -1, "nan": math.nan, "fraction": 1.5, "str": "x", "10**400": 10**400},
        lambda v: sc.AgentGroup(name="a", count=v),
    )
    add("Routing-policy", "policy", {"bogus": "bogus", "int": 5}, lambda v: sc.Routing(policy=v))
    add(
        "Shift-start_seconds",
        "start_seconds",
        {**NON_FINITE, "str": "x", "negative": -1.0},
        lambda v: sc.Shift(start_seconds=v, end_seconds=3600, count=1),
    )
    add(
        "Shift-count",
        "count",
        {"negative": -1, "nan": math.nan, "10**400": 10**400},
        lambda v: sc.Shift(start_seconds=0, end_seconds=3600, count=v),
    )
    add(
        "Break-duration_seconds",
        "duration_seconds",
        {**bad_seconds, "zero": 0.0},
        lambda v: sc.Break(start_seconds=0, duration_seconds=v),
    )
    add(
        "RelaxationSpec-after_seconds",
        "after_seconds",
        bad_seconds,
        lambda v: sc.RelaxationSpec(after_seconds=v),
    )
    # distributions and arrivals
    add(
        "Exponential-mean_seconds",
        "mean_seconds",
        {**bad_seconds, "zero": 0.0},
        lambda v: sim.Exponential(mean_seconds=v),
    )
    add(
        "Deterministic-value_seconds",
        "value_seconds",
        bad_seconds,
        lambda v: sim.Deterministic(value_seconds=v),
    )
    add(
        "Uniform-high_seconds",
        "high_seconds",
        {**bad_seconds, "below-low": 1.0},
        lambda v: sim.Uniform(low_seconds=5.0, high_seconds=v),
    )
    add(
        "Lognormal-cv",
        "cv",
        {**bad_seconds, "zero": 0.0},
        lambda v: sim.Lognormal(mean_seconds=60, cv=v),
    )
    add(
        "Gamma-shape",
        "shape",
        {**bad_seconds, "zero": 0.0},
        lambda v: sim.Gamma(shape=v, scale_seconds=10),
    )
    add(
        "Empirical-samples_seconds",
        "samples_seconds",
        {"empty": [], "nan": [math.nan], "negative": [-1.0], "int": 5, "str": ["x"]},
        lambda v: sim.Empirical(samples_seconds=v),
    )
    add(
        "PoissonArrivals-rate_per_hour",
        "rate_per_hour",
        bad_seconds,
        lambda v: sim.PoissonArrivals(task_type="calls", rate_per_hour=v),
    )
    add(
        "PoissonArrivals-task_type",
        "task_type",
        {"int": 5, "empty": "", "1MB": "x" * MB},
        lambda v: sim.PoissonArrivals(task_type=v, rate_per_hour=1),
    )
    add(
        "ProfileArrivals-volumes",
        "volumes",
        {"empty": [], "nan": [math.nan], "negative": [-1.0], "int": 5},
        lambda v: sim.ProfileArrivals(task_type="calls", interval_minutes=30, volumes=v),
    )
    add(
        "ProfileArrivals-repeat",
        "repeat",
        {"zero": 0, "huge": 10**7, "nan": math.nan},
        lambda v: sim.ProfileArrivals(
            task_type="calls", interval_minutes=30, volumes=[1.0], repeat=v
        ),
    )
    add("TraceArrivals-path", "path", {"empty": "", "int": 5}, lambda v: sim.TraceArrivals(path=v))
    add(
        "Sampler-distribution",
        "distribution",
        {"int": 5, "None": None},
        lambda v: sim.Sampler(v, rng),
    )
    add(
        "Sampler-rng",
        "rng",
        {"int": 5, "None": None},
        lambda v: sim.Sampler(sim.Exponential(mean_seconds=1), v),
    )
    add(
        "Sampler-block",
        "block",
        {"zero": 0, "negative": -1, "nan": math.nan, "str": "x"},
        lambda v: sim.Sampler(sim.Exponential(mean_seconds=1), rng, block=v),
    )
    add("merge_arrivals", None, {"int": 5, "list-int": [5]}, lambda v: list(sim.merge_arrivals(v)))
    add("stream_key", None, {"int": 5, "None": None}, lambda v: sim.stream_key(v))
    add(
        "run_replication-replication",
        "replication",
        {"negative": -1, "nan": math.nan, "str": "x"},
        lambda v: sim.run_replication(scenario, v),
    )
    add(
        "run_replication-seed",
        "seed",
        {"negative": -1, "nan": math.nan, "str": "x"},
        lambda v: sim.run_replication(scenario, seed=v),
    )
    add(
        "World-scenario",
        "scenario",
        {"int": 5, "dict": dict(MINIMAL_SCENARIO)},
        lambda v: sim.World(v),
    )
    add(
        "World-replication",
        "replication",
        {"negative": -1, "nan": math.nan},
        lambda v: sim.World(scenario, replication=v),
    )
    add(
        "staff_intervals_by_simulation-targets",
        "targets",
        {"int": 5, "None": None},
        lambda v: sim.staff_intervals_by_simulation(scenario, targets=v, replications=4),
    )
    add(
        "staff_intervals_by_simulation-confidence",
        "confidence",
        {"two": 2.0, "nan": math.nan},
        lambda v: sim.staff_intervals_by_simulation(
            scenario, targets=sim.StaffingTarget(asa=20), confidence=v, replications=4
        ),
    )
    # bench
    add(
        "run_bench-scenarios",
        None,
        {"int": 5, "missing": [tmp / "missing.toml"], "list-int": [5]},
        lambda v: b.run_bench(v),
    )
    add(
        "run_bench-replications",
        "replications",
        {"zero": 0, "negative": -1, "nan": math.nan, "str": "2"},
        lambda v: b.run_bench([scenario], replications=v),
    )
    add(
        "run_bench-policies",
        None,
        {"bogus": ["bogus"], "int": 5},
        lambda v: b.run_bench([scenario], policies=v),
    )
    add(
        "run_bench-selections",
        None,
        {"bogus": ["bogus"], "int": 5},
        lambda v: b.run_bench([scenario], selections=v),
    )
    add("run_scenario-bench", None, {"int": 5, "None": None}, lambda v: b.run_scenario(v))
    add(
        "default_policy_params-name",
        "name|policy",
        {"list": [], "None": None},
        lambda v: b.default_policy_params(v, scenario),
    )
    add(
        "default_policy_params-scenario",
        "scenario",
        {"int": 5},
        lambda v: b.default_policy_params("cmu", v),
    )
    add(
        "rank_variants-samples",
        None,
        {
            "int": 5,
            "nan": {"a": [math.nan, 1.0], "b": [1.0, 2.0]},
            "text": {"a": ["x"], "b": ["y"]},
        },
        lambda v: b.rank_variants(v),
    )
    add(
        "rank_variants-direction",
        "direction",
        {"bogus": "bogus", "int": 5},
        lambda v: b.rank_variants({"a": [1.0, 2.0], "b": [1.0, 3.0]}, direction=v),
    )
    add(
        "standard_suite-directory",
        None,
        {"missing": tmp / "missing", "int": 5},
        lambda v: b.standard_suite(v),
    )
    add(
        "BenchSpec-policies",
        "policies",
        {"int": 5, "list-int": [5]},
        lambda v: b.BenchSpec(policies=v),
    )
    add(
        "Relation-kind",
        "kind",
        {"bogus": "bogus", "int": 5},
        lambda v: b.Relation(kind=v, kpi="asa"),
    )
    add(
        "Relation-share",
        "share",
        {**NON_FINITE, "zero": 0.0, "two": 2.0},
        lambda v: b.Relation(kind="best", kpi="asa", share=v),
    )
    # replay
    add(
        "bench_replay-table",
        None,
        {"int": 5, "bogus-days": {"days": ["bogus"]}, "nested": nested_dict(200)},
        lambda v: r.bench_replay(v, {}, base_dir=tmp),
    )
    add(
        "replay_scenario-replay",
        None,
        {"int": 5, "None": None},
        lambda v: r.replay_scenario(v, rng=rng),
    )
    add("simulate_calls-replay", None, {"int": 5}, lambda v: r.simulate_calls(scenario, v))
    # planning: forecasts into simulator inputs
    from valueroute.sim import planning as pl

    forecast = ROOT / "examples" / "forecast_day.csv"
    profile = pl.profile_from_forecast(forecast, task_type="calls")
    add(
        "profile_from_forecast-forecast",
        None,
        {"int": 5, "missing": tmp / "missing.csv", "not-utf8": tmp / "not-utf8.csv"},
        lambda v: pl.profile_from_forecast(v, task_type="calls"),
    )
    (tmp / "not-utf8.csv").write_bytes(b"interval,calls\n09:00,\xff\n")
    add(
        "profile_from_forecast-task_type",
        "task_type",
        {"int": 5, "empty": "", "surrogate": SURROGATE, "1MB": "x" * MB},
        lambda v: pl.profile_from_forecast(forecast, task_type=v),
    )
    add(
        "profile_from_forecast-aht",
        "aht",
        {**bad_seconds, "zero": 0.0, "bool": True},
        lambda v: pl.profile_from_forecast(forecast, task_type="calls", aht=v),
    )
    add(
        "profile_from_forecast-interval_minutes",
        "interval_minutes",
        {"seven": 7, "nan": math.nan, "str": "15"},
        lambda v: pl.profile_from_forecast(forecast, task_type="calls", interval_minutes=v),
    )
    add(
        "profile_from_forecast-start_seconds",
        "start_seconds",
        {**NON_FINITE, **HUGE_INTS, "str": "x"},
        lambda v: pl.profile_from_forecast(forecast, task_type="calls", start_seconds=v),
    )
    add(
        "scenario_from_forecast-staffing",
        "staffing",
        {
            "negative": -1,
            "fraction": [1.5],
            "str": "x",
            "10**400": 10**400,
            "nan": [math.nan],
            "wrong-length": [1, 2],
            "object": Opaque(),
        },
        lambda v: pl.scenario_from_forecast(forecast, staffing=v),
    )
    add(
        "scenario_from_forecast-service_level",
        "service_level",
        {"two": (2.0, 20.0), "nan-awt": (0.8, math.nan), "int": 5, "short": (0.8,)},
        lambda v: pl.scenario_from_forecast(forecast, service_level=v),
    )
    add(
        "scenario_from_forecast-replications",
        "replications",
        {"zero": 0, "10**400": 10**400, "nan": math.nan},
        lambda v: pl.scenario_from_forecast(forecast, replications=v),
    )
    add(
        "scenario_from_forecast-seed",
        "seed",
        {"negative": -1, "nan": math.nan, "str": "x"},
        lambda v: pl.scenario_from_forecast(forecast, seed=v),
    )
    add(
        "scenario_from_forecast-name",
        "name",
        {"int": 5, "surrogate": SURROGATE, "1MB": "x" * MB},
        lambda v: pl.scenario_from_forecast(forecast, name=v),
    )
    add(
        "scenario_from_forecast-handle",
        "handle",
        {"int": 5, "bogus": {"kind": "bogus"}},
        lambda v: pl.scenario_from_forecast(forecast, handle=v),
    )
    add(
        "scenario_from_forecast-skills",
        "skills",
        {"empty-name": {"": 1}, "nan": {"a": math.nan}, "str": "a"},
        lambda v: pl.scenario_from_forecast(forecast, skills=v),
    )
    add("scenario_to_toml", None, {"int": 5, "None": None, "dict": {}}, pl.scenario_to_toml)
    add(
        "write_profile_csv-profiles",
        None,
        {"int": 5, "list-int": [5], "None": None},
        lambda v: pl.write_profile_csv(v, tmp / "p.csv"),
    )
    add(
        "write_profile_csv-path",
        None,
        {"directory": tmp, "missing-folder": tmp / "no" / "p.csv", "int": 5},
        lambda v: pl.write_profile_csv(profile, v),
    )
    add(
        "write_scenario-scenario",
        None,
        {"int": 5, "dict": dict(MINIMAL_SCENARIO)},
        lambda v: pl.write_scenario(v, tmp / "s.toml"),
    )
    add(
        "write_scenario-path",
        None,
        {
            "directory": tmp,
            "missing-folder": tmp / "no" / "s.toml",
            "int": 5,
            "suffix": tmp / "s.txt",
        },
        lambda v: pl.write_scenario(scenario, v),
    )
    # business calendars
    from valueroute import calendar as cal
    from valueroute import scenarios as bundled
    from valueroute import schemas
    from valueroute.sim import report

    week = {"mon": [("08:00", "18:00")]}
    add(
        "BusinessCalendar-timezone",
        "timezone",
        {
            "bogus": "Mars/Olympus",
            "int": 5,
            "empty": "",
            "surrogate": SURROGATE,
            "path": "../../../etc/passwd",
            "1MB": "x" * MB,
        },
        lambda v: cal.BusinessCalendar(timezone=v, hours=week),
    )
    add(
        "BusinessCalendar-hours",
        "hours",
        {
            "int": 5,
            "bogus-day": {"someday": [("08:00", "18:00")]},
            "bad-time": {"mon": [("25:00", "26:00")]},
            "overlap": {"mon": [("08:00", "12:00"), ("11:00", "13:00")]},
            "closed": {},
            "nested": {"mon": nested_list(200)},
            "surrogate": {"mon": [(SURROGATE, "18:00")]},
        },
        lambda v: cal.BusinessCalendar(timezone="UTC", hours=v),
    )
    add(
        "BusinessCalendar-holidays",
        "holidays",
        {"bogus": ["bogus"], "int": 5, "list-int": [5], "nested": nested_dict(200)},
        lambda v: cal.BusinessCalendar(timezone="UTC", hours=week, holidays=v),
    )
    add(
        "BusinessCalendar-exceptions",
        "exceptions",
        {"bogus-date": {"bogus": []}, "int": 5, "bad-range": {"2026-01-01": [("x", "y")]}},
        lambda v: cal.BusinessCalendar(timezone="UTC", hours=week, exceptions=v),
    )
    office = cal.BusinessCalendar(timezone="UTC", hours=week)
    times = {**NON_FINITE, **HUGE_INTS, "1e308": 1e308, "str": "x", "None": None, "bool": True}
    for method in ("is_open", "next_open", "next_close", "working_time", "piece"):
        add(
            f"BusinessCalendar-{method}",
            "t",
            times,
            lambda v, m=method: getattr(office, m)(v),
        )
    add("BusinessCalendar-add-t", "t", times, lambda v: office.add(v, 60.0))
    add(
        "BusinessCalendar-add-seconds",
        "seconds",
        {**times, "negative": -1.0},
        lambda v: office.add(0.0, v),
    )
    add("BusinessCalendar-elapsed-a", "a", times, lambda v: office.elapsed(v, 0.0))
    add(
        "parse_calendar",
        None,
        {
            "int": 5,
            "None": None,
            "garbage": "timezone = [unclosed",
            "not-utf8": NOT_UTF8,
            "deep-toml": deep_toml(),
            "list": "[1, 2]",
        },
        lambda v: cal.parse_calendar(v),
    )
    add(
        "parse_calendar-json",
        None,
        {"deep": deep_json(), "surrogate": '{"timezone": "\\ud83d", "hours": "24/7"}'},
        lambda v: cal.parse_calendar(v, format="json"),
    )
    add(
        "parse_calendar-yaml",
        None,
        {"deep": deep_yaml()},
        lambda v: cal.parse_calendar(v, format="yaml"),
    )
    add(
        "parse_calendar-format",
        "format",
        {"bogus": "bogus", "int": 5},
        lambda v: cal.parse_calendar("timezone = 'UTC'", format=v),
    )
    add(
        "calendar_from",
        None,
        {
            "int": 5,
            "None": None,
            "list": [],
            "nested": nested_dict(200),
            "unknown-key": {"timezone": "UTC", "hours": "24/7", "bogus": 1},
            "int-key": {"timezone": "UTC", "hours": "24/7", 1: 2},
            "timezone-int": {"timezone": 5, "hours": "24/7"},
        },
        lambda v: cal.calendar_from(v),
    )
    add(
        "load_calendar",
        None,
        {"missing": tmp / "missing.toml", "directory": tmp, "int": 5, "suffix": tmp / "c.txt"},
        lambda v: cal.load_calendar(v),
    )
    # bundled scenarios, schemas, reports
    add(
        "bundled_text",
        "name",
        {"bogus": "bogus", "int": 5, "None": None, "path": "../../pyproject", "1MB": "x" * MB},
        lambda v: bundled.bundled_text(v),
    )
    add(
        "scenarios-load_scenario",
        None,
        {"bogus": "bogus", "int": 5, "None": None, "missing": tmp / "missing.toml"},
        lambda v: bundled.load_scenario(v),
    )
    add(
        "shipped_schema",
        "name",
        {"bogus": "bogus", "int": 5, "None": None, "path": "../__init__"},
        lambda v: schemas.shipped_schema(v),
    )
    (tmp / "a-file").write_text("x")
    add(
        "write_schemas",
        "directory",
        {"int": 5, "None": None, "a-file": tmp / "a-file"},
        lambda v: schemas.write_schemas(v),
    )
    add("report_html", None, {"int": 5, "None": None, "dict": {}}, lambda v: report.report_html(v))
    add(
        "write_report",
        None,
        {"int": 5, "None": None},
        lambda v: report.write_report(v, tmp / "report.html"),
    )
    # journal and hosting
    add(
        "export_events-events",
        None,
        {"int": 5, "list-int": [5], "list-dict": [{"kind": "bogus"}]},
        lambda v: j.export_events(v, tmp / "events.json"),
    )
    add(
        "export_events-path",
        None,
        {"directory": tmp, "missing-folder": tmp / "no" / "e.json", "int": 5},
        lambda v: j.export_events([], v),
    )
    add(
        "LockedView-lock",
        "lock",
        {"int": 5, "None": None},
        lambda v: LockedView(TaskList(s.Fifo()), v),
    )
    return cases


@pytest.mark.parametrize("case_id", _ids_of(_surface_cases))
def test_the_rest_of_the_surface_refuses(
    case_id: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    case = built(_surface_cases, tmp_path_factory)[case_id]
    refused(case.call, case.field)


# Public callables that take no user input worth attacking (result records,
# enums, protocols, plain records the core builds itself), each with why.
NOT_AN_INPUT_BOUNDARY: dict[str, str] = {
    "Agent": "the pool's record, built by add_agent from an AgentSpec",
    "AgentSelection": "a protocol",
    "AgentState": "an enum",
    "AgentsOnDuty": "a result record",
    "Arrival": "a record the arrival processes build",
    "ArrivalProcess": "a type alias",
    "AvailableAgents": "a result record",
    "Queue": "the engine's record of a queue, built from a QueueSpec by build_queues",
    "DetachedBatch": "a record DurableEngine.detach_pending returns",
    "check_vocabulary": "checks the library's own command table when the journal is imported",
    "replay": "applies records read back from a journal, each checked against its checksum",
    "Step": "the engine's record of a workflow step, built by build_workflows",
    "Workflow": "the engine's record of a workflow, built from a WorkflowSpec by build_workflows",
    "relaxation_workflow": "the engine's workflow for a relaxation plan that "
    "Engine(relaxation=...) has validated (relaxation_table), built by the engine itself",
    "Baseline": "a result record of compiled rules",
    "BenchReport": "a result record",
    "BenchScenario": "built by load_bench_scenario",
    "BoundaryModel": "the base class of the models driven here",
    "CallOutcomes": "a result record",
    "CallRecords": "a column store built by load_anonymous_bank",
    "ComparisonResult": "a result record",
    "CompiledRules": "built by RuleSet.compile / load_rules",
    "Distribution": "a type alias",
    "DryRunRow": "a result record",
    "ErlangAResult": "a result record",
    "Evaluation": "a result record",
    "Event": "a record the engine emits",
    "EventKind": "an enum",
    "Explanation": "a result record",
    "FewestTasks": "a strategy without parameters",
    "Forecast": "a result record of read_forecast",
    "HourFigures": "a result record",
    "InlineExecutor": "an executor without parameters",
    "IntervalStaffingResult": "a result record",
    "LeastOccupied": "a strategy without parameters",
    "LeastSkilled": "a strategy without parameters",
    "LeastTalkTime": "a strategy without parameters",
    "LongestIdle": "a strategy without parameters",
    "MostProficient": "a strategy without parameters",
    "Offer": "a record the engine hands out",
    "PatienceObservations": "a result record",
    "Policy": "a protocol",
    "Presence": "an enum",
    "Ramp": "a record PriorityRamp builds from a mapping (driven through PriorityRamp)",
    "Rank": "a result record",
    "Record": "a journal record the durable engine writes",
    "RecoveryReport": "a result record",
    "RelationOutcome": "a result record",
    "Relaxer": "built by the engine from its relaxation setting (driven through Engine)",
    "Replay": "built by build_replay",
    "ReplayComparison": "a result record",
    "ReplicationResult": "a result record",
    "RequirementGroup": "built by the task list",
    "RoundRobin": "a strategy without parameters",
    "RuleOutcome": "a result record",
    "ScenarioResult": "a result record",
    "Segment": "a named tuple a policy returns",
    "SelectionCallable": "a type alias",
    "ServiceLevelDefinition": "a type alias",
    "SimulationResult": "a result record",
    "SkillLevels": "built by the engine",
    "StaffingResult": "a result record",
    "StaffingTable": "a result record",
    "Store": "a protocol",
    "StoredSnapshot": "a record the journal reads back",
    "StrictPriority": "a policy without parameters",
    "Fifo": "a policy without parameters",
    "SyncPolicy": "an enum (driven through DurableEngine.open's sync)",
    "TargetCheck": "a result record",
    "Task": "the core's lean record, built from a validated TaskSpec",
    "TaskState": "an enum",
    "Term": "a result record",
    "TopDown": "a strategy without parameters",
    "Variant": "a bench variant built from validated bench settings",
    "WaitHistogram": "a result record",
    "WorkingClock": "a protocol (a BusinessCalendar is one)",
    "bench_scenario_schema": "takes no arguments",
    "rules_schema": "takes no arguments",
    "scenario_schema": "takes no arguments",
    "build_parser": "takes no arguments (the command line is driven through main)",
    "bundled_bench_scenarios": "takes no arguments",
    "file_row_error": "builds an error from values the loaders checked",
    "intern_text": "an internal helper for text the models validated",
}

# Public callables the cases above drive with hostile input.
DRIVEN: frozenset[str] = frozenset(
    [
        "Actions",
        "AgentGroup",
        "AgentPool",
        "AgentSpec",
        "AgingPriority",
        "QueueSpec",
        "build_queues",
        "WorkflowSpec",
        "WorkflowStep",
        "build_workflows",
        "Break",
        "CMu",
        "CMuTheta",
        "Composite",
        "Condition",
        "ContinuousRelaxation",
        "Deterministic",
        "DurableEngine",
        "EarliestDue",
        "Empirical",
        "Engine",
        "Exponential",
        "Gamma",
        "KaplanMeier",
        "Kleinrock",
        "LeastSlack",
        "LockedEngine",
        "LockedView",
        "Lognormal",
        "PoissonArrivals",
        "PriorityRamp",
        "ProfileArrivals",
        "RampSpec",
        "RandomAgent",
        "RandomStreams",
        "Relation",
        "RelaxationSpec",
        "RelaxationStep",
        "ReplicationRedraw",
        "Rescored",
        "Routing",
        "Rule",
        "RuleSet",
        "SQLiteStore",
        "Sampler",
        "Scenario",
        "Shift",
        "StaffingTarget",
        "Stage",
        "StarvationGuard",
        "TableRow",
        "TaskList",
        "TaskSpec",
        "TaskType",
        "TimerLoop",
        "TraceArrivals",
        "Uniform",
        "ValueAtRisk",
        "World",
        "BenchSpec",
        "agents_on_duty",
        "arrival_process_from",
        "as_policy",
        "available_agents",
        "average_speed_of_answer",
        "bench_replay",
        "build_replay",
        "compare",
        "default_policy_params",
        "distribution_from",
        "dry_run",
        "erlang_a",
        "erlang_b",
        "erlang_c",
        "excerpt_anonymous_bank",
        "explain",
        "export_events",
        "halfin_whitt_beta",
        "import_events",
        "load_anonymous_bank",
        "load_bench_scenario",
        "load_profile_csv",
        "load_rules",
        "load_scenario",
        "load_trace",
        "main",
        "mean_ci",
        "merge_arrivals",
        "model_by_kind",
        "occupancy",
        "parse_rules",
        "parse_scenario",
        "patience_observations",
        "policy_by_name",
        "policy_parameters",
        "rank_variants",
        "read_forecast",
        "replay_scenario",
        "required_agents",
        "run_bench",
        "run_replay",
        "run_replication",
        "run_scenario",
        "scheduled_agents",
        "selection_by_name",
        "service_level",
        "simulate",
        "simulate_calls",
        "sqrt_staffing",
        "staff_by_simulation",
        "staff_intervals",
        "staff_intervals_by_simulation",
        "standard_suite",
        "stream_key",
        "student_t_quantile",
        "to_seconds",
        "calendar_from",
        "BusinessCalendar",
        "load_calendar",
        "parse_calendar",
        "bundled_text",
        "shipped_schema",
        "write_schemas",
        "report_html",
        "write_report",
        "profile_from_forecast",
        "scenario_from_forecast",
        "scenario_to_toml",
        "write_profile_csv",
        "write_scenario",
    ]
)

PUBLIC_MODULES = (
    "valueroute",
    "valueroute.sim",
    "valueroute.erlang",
    "valueroute.journal",
    "valueroute.bench",
    "valueroute.replay",
    "valueroute.datasets",
    "valueroute.scoring",
    "valueroute.rules",
    "valueroute.hosting",
    "valueroute.models",
    "valueroute.queues",
    "valueroute.workflows",
    "valueroute.sim.planning",
    "valueroute.sim.report",
    "valueroute.calendar",
    "valueroute.scenarios",
    "valueroute.schemas",
    "valueroute.cli",
)


def test_every_public_callable_is_driven_or_said_not_to_take_input() -> None:
    """A public name added later fails here until hostile cases drive it (or it is exempted)."""
    import importlib
    import inspect

    public: set[str] = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            public.add(name)
    missing = sorted(public - DRIVEN - set(NOT_AN_INPUT_BOUNDARY))
    assert not missing, f"public callables no hostile case drives: {missing}"
    assert not DRIVEN & set(NOT_AN_INPUT_BOUNDARY)


def test_every_cli_subcommand_has_hostile_cases() -> None:
    import argparse

    from valueroute.cli import build_parser

    def commands(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += commands(sub, f"{prefix}{name}-") or [f"{prefix}{name}"]
        return found

    names = commands(build_parser(), "")
    assert names, "no subcommands found"
    missing = [name for name in names if not any(case.startswith(name) for case in CLI_CASES)]
    assert not missing, f"CLI subcommands without hostile cases: {missing}"


# ====================================================================== any value at all


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.binary(max_size=4),
)
# Mostly bare scalars (where the sharp ones hide), sometimes small containers.
ANY_VALUE = _SCALARS | st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.none() | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)


def accepted_or_refused(call: Callable[[], object]) -> ValueRouteError | None:
    """Run ``call``: it may succeed; if it fails, with a short ValueRouteError, in time."""
    error: ValueRouteError | None = None
    timed_out = False
    try:
        with time_bound():
            try:
                call()
            except ValueRouteError as exc:
                error = exc
    except CaseTimeout:
        timed_out = True
    if timed_out:
        pytest.fail(f"no answer within {IN_PROCESS_SECONDS} s", pytrace=False)
    if error is not None:
        assert 0 < len(str(error)) <= message_limit(error), str(error)[:300]
    return error


@given(field=st.sampled_from(sorted(TaskSpec.model_fields)), value=ANY_VALUE)
def test_submit_of_any_value_in_any_field_succeeds_or_refuses_cleanly(
    field: str, value: Any
) -> None:
    engine = build_engine()
    digest, events = engine.digest(), engine.event_count
    spec = {"id": "any", "channel": "email", field: value}
    if accepted_or_refused(lambda: engine.submit(spec)) is not None:
        assert engine.digest() == digest
        assert engine.event_count == events
    good_submit(engine)


@given(field=st.sampled_from(sorted(AgentSpec.model_fields)), value=ANY_VALUE)
def test_add_agent_of_any_value_in_any_field_succeeds_or_refuses_cleanly(
    field: str, value: Any
) -> None:
    engine = build_engine()
    digest, events = engine.digest(), engine.event_count
    spec = {"id": "any", field: value}
    if accepted_or_refused(lambda: engine.add_agent(spec)) is not None:
        assert engine.digest() == digest
        assert engine.event_count == events
    good_submit(engine)


# Each command with one argument open to any value; the others put the task
# or agent in the state where that argument is looked at.
ARGUMENT_COMMANDS: dict[str, Callable[[Any, Any], object]] = {
    "get": lambda e, v: e.get(v),
    "accept": lambda e, v: e.accept(v),
    "accept-agent": lambda e, v: e.accept("o1", v),
    "reject-agent": lambda e, v: e.reject("o1", v),
    "cancel": lambda e, v: e.cancel(v),
    "cancel-reason": lambda e, v: e.cancel("q1", reason=v),
    "complete-wrap_up": lambda e, v: e.complete("a1", wrap_up=v),
    "defer-until": lambda e, v: e.defer("q1", v),
    "update-priority": lambda e, v: e.update("q1", priority=v),
    "update-value": lambda e, v: e.update("q1", value=v),
    "update-due": lambda e, v: e.update("q1", due=v),
    "update-skills": lambda e, v: e.update("q1", skills=v),
    "update-expected_version": lambda e, v: e.update("q1", priority=1, expected_version=v),
    "transfer-skills": lambda e, v: e.transfer("a1", skills=v),
    "transfer-channel": lambda e, v: e.transfer("a1", channel=v),
    "transfer-to_agent": lambda e, v: e.transfer("a1", to_agent=v),
    "set_agent_state": lambda e, v: e.set_agent_state("ann", v),
    "set_agent_state-until": lambda e, v: e.set_agent_state("ann", "wrap_up", until=v),
    "next_task": lambda e, v: e.next_task(v),
    "tasks_of": lambda e, v: e.tasks_of(v),
    "explain": lambda e, v: e.explain(v),
    "subscribe-kinds": lambda e, v: e.subscribe(print, kinds=v),
}


@pytest.mark.parametrize("command", sorted(ARGUMENT_COMMANDS))
@settings(max_examples=30)  # per command: 22 commands
@given(value=ANY_VALUE)
def test_engine_commands_with_any_value_succeed_or_refuse_cleanly(command: str, value: Any) -> None:
    engine = build_engine()
    digest, events = engine.digest(), engine.event_count
    if accepted_or_refused(lambda: ARGUMENT_COMMANDS[command](engine, value)) is not None:
        assert engine.digest() == digest
        assert engine.event_count == events
    good_submit(engine)


_DOCUMENT_FIELDS = st.sampled_from(
    ["name", "version", "classification", "prioritisation", "attributes", "rules", "mode"]
)


@given(document=st.dictionaries(_DOCUMENT_FIELDS, ANY_VALUE, max_size=4))
def test_rule_documents_of_any_shape_load_or_refuse_cleanly(document: dict[str, Any]) -> None:
    from valueroute.rules import load_rules

    accepted_or_refused(lambda: load_rules(document))


_SCENARIO_FIELDS = st.sampled_from(
    [
        *("name", "horizon_seconds", "warmup_seconds", "replications", "seed", "task_types"),
        *("arrivals", "agent_groups", "routing", "interval_minutes"),
    ]
)


@given(changes=st.dictionaries(_SCENARIO_FIELDS, ANY_VALUE, max_size=3))
def test_scenarios_with_any_value_in_any_field_parse_or_refuse_cleanly(
    changes: dict[str, Any],
) -> None:
    from valueroute.sim import Scenario

    accepted_or_refused(lambda: Scenario.model_validate(scenario_with(**changes)))
