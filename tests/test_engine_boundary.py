"""The engine's boundary: wrong-typed or non-finite arguments and settings are refused.

Every public command and query of :class:`~valueroute.engine.Engine`, and
every constructor setting, meets bad values of many kinds: wrong types,
``None`` where it is not allowed, ``bool`` where a number is expected, NaN,
infinities, integers too large for a float, containers. Each must raise
:class:`~valueroute.errors.InvalidInputError` whose message names the
argument and shows the value bounded in length, before the engine reads its
clock or changes anything: ``digest()``, ``event_count``, the events told and
the clock reads stay as they were.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute import AgentSpec, AgingPriority, TaskSpec, ValueRouteError
from valueroute.agents import Presence
from valueroute.calendar import BusinessCalendar
from valueroute.engine import Engine, RelaxationStep, StarvationGuard
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.rules import load_rules, parse_rules
from valueroute.scoring import Segment, StrictPriority
from valueroute.task import Task, TaskState

RULES = """
name = "boundary"
version = "1"

[attributes]
tier = "text"

[classification]
mode = "first"

[[classification.rules]]
name = "vip"
when = { field = "attributes.tier", op = "==", value = "gold" }
then = { priority = 5 }
"""

HUGE = 10**400  # an int no float can hold
LONG = "x" * 100_000  # a value whose repr must not end up whole in a message


class CountingClock:
    """A clock the test sets by hand and that counts how often it is read."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def busy_engine() -> tuple[Engine, CountingClock, list[Event]]:
    """An engine with a task in every open state and agents in several presences.

    ann (email x3): "o" offered, "a" assigned, "w" in wrap-up; "q" queued
    (ann is full), "h" held, "d" deferred; bob offline, cy not ready.
    """
    clock = CountingClock()
    engine = Engine(clock=clock, policy=AgingPriority(seconds_per_point=60))
    log: list[Event] = []
    engine.subscribe(log.append)
    engine.add_agent(AgentSpec(id="ann", skills={"billing": 3}, capacity={"email": 3}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"billing": 3}, capacity={"email": 1}))
    engine.add_agent(AgentSpec(id="cy", skills={"claims": 1}, capacity={"voice": 1}))
    engine.set_agent_state("cy", "not_ready", reason="break")
    clock.now = 1.0
    for task_id in ("o", "a", "w", "q", "h", "d"):
        engine.submit(TaskSpec(id=task_id, channel="email", skills={"billing": 1}))
    engine.accept("a")
    engine.accept("w")
    engine.complete("w", wrap_up=60.0)
    engine.hold("h")
    engine.defer("d", 500.0)
    assert {t: engine.get(t).state.value for t in "oawqhd"} == {
        "o": "offered",
        "a": "assigned",
        "w": "wrap_up",
        "q": "queued",
        "h": "held",
        "d": "deferred",
    }
    # A later time: a command that read the clock would move the engine's time.
    clock.now = 2.0
    return engine, clock, log


def state_of(engine: Engine, clock: CountingClock, log: list[Event]) -> tuple[object, ...]:
    return (
        engine.digest(),
        engine.event_count,
        len(log),
        clock.reads,
        engine.now,
        engine.policy,
        engine._rules,
        len(engine._subscribers),
    )


# --------------------------------------------------------------- bad values

NOT_STR = [None, 0, 7, 2.5, True, b"q", bytearray(b"q"), ["q"], ("q",), {"q": 1}, {"q"}, object()]
NOT_STR_OR_NONE = [v for v in NOT_STR if v is not None]
NOT_TEXT_OR_NONE = [5, 2.5, True, b"r", ["r"], {"r": 1}, object()]
NOT_BOOL = [None, 0, 1, "yes", "", 1.0, [True], {"a": True}, np.float64(1.0)]
NON_FINITE = [math.nan, math.inf, -math.inf, HUGE, -HUGE, np.float64("nan")]
NOT_A_NUMBER = ["30", "x", b"30", True, False, [30.0], {"s": 30.0}, (1.0,), 1j, object()]
NOT_SECONDS_OR_NONE = NOT_A_NUMBER + NON_FINITE
NOT_SECONDS = [None, *NOT_SECONDS_OR_NONE]
NOT_INT_OR_NONE = ["1", 1.5, 2.0, True, math.nan, math.inf, [1], {"p": 1}]
NOT_PRIORITY = [*NOT_INT_OR_NONE, HUGE, -HUGE]  # scores are floats
NOT_SKILLS_OR_NONE = [
    5,
    "billing",
    b"billing",
    ["billing"],
    [("billing", 1.0)],
    {"billing": "1"},
    {"billing": True},
    {1: 1.0},
    {"billing": math.nan},
    {"billing": math.inf},
    {"billing": HUGE},
    {"billing": [1.0]},
    {"billing": None},
    {"billing": -1.0},
    {"": 1.0},
    {"s" * 65: 1.0},
    {f"s{i}": 1.0 for i in range(65)},
]
NOT_STATE = [None, 5, True, "busy", "", "READY", ["ready"], {"ready"}, b"ready", object()]


class NamedOnly:
    name = "named_only"


class SegmentOnly:
    def segment(self, task: Task, now: float) -> Segment:
        return Segment(0.0, 0.0)


class NumberName:
    name = 42

    def segment(self, task: Task, now: float) -> Segment:
        return Segment(0.0, 0.0)


class SegmentNotCallable:
    name = "not_callable"
    segment = 5


NOT_POLICY = [
    None,
    42,
    "fifo",
    StrictPriority,  # the class, not an instance
    NamedOnly(),
    SegmentOnly(),
    NumberName(),
    SegmentNotCallable(),
    [StrictPriority()],
]
NOT_RULES = [
    42,
    "rules.toml",
    b"rules",
    Path("rules.toml"),
    parse_rules(RULES),  # parsed, never compiled
    {"name": "x"},
    object(),
    [load_rules(parse_rules(RULES))],
]


def _ok_subscriber(event: Event) -> None:
    """A subscriber that ignores what it hears."""


Call = Callable[[Engine, Any], object]


def _rows() -> Iterator[tuple[str, str, Call, list[Any]]]:
    """(label, argument name the message must show, call with the bad value, bad values)."""
    # Task ids of every command and query that takes one.
    task_commands: list[tuple[str, Call]] = [
        ("accept", lambda e, v: e.accept(v)),
        ("reject", lambda e, v: e.reject(v)),
        ("revoke", lambda e, v: e.revoke(v)),
        ("complete", lambda e, v: e.complete(v)),
        ("end_wrap_up", lambda e, v: e.end_wrap_up(v)),
        ("cancel", lambda e, v: e.cancel(v)),
        ("hold", lambda e, v: e.hold(v)),
        ("resume", lambda e, v: e.resume(v)),
        ("defer", lambda e, v: e.defer(v, 100.0)),
        ("transfer", lambda e, v: e.transfer(v)),
        ("update", lambda e, v: e.update(v, priority=1)),
        ("get", lambda e, v: e.get(v)),
        ("offer_of", lambda e, v: e.offer_of(v)),
        ("offers_of", lambda e, v: e.offers_of(v)),
        ("agent_of", lambda e, v: e.agent_of(v)),
        ("explain", lambda e, v: e.explain(v)),
    ]
    for label, call in task_commands:
        yield f"{label}-task_id", "task_id", call, NOT_STR
    agent_commands: list[tuple[str, Call]] = [
        ("remove_agent", lambda e, v: e.remove_agent(v)),
        ("set_agent_state", lambda e, v: e.set_agent_state(v, "ready")),
        ("next_task", lambda e, v: e.next_task(v)),
        ("tasks_of", lambda e, v: e.tasks_of(v)),
    ]
    for label, call in agent_commands:
        yield f"{label}-agent_id", "agent_id", call, NOT_STR
    yield "accept-agent_id", "agent_id", lambda e, v: e.accept("o", v), NOT_STR_OR_NONE
    yield "reject-agent_id", "agent_id", lambda e, v: e.reject("o", v), NOT_STR_OR_NONE
    yield (
        "complete-wrap_up",
        "wrap_up",
        lambda e, v: e.complete("a", wrap_up=v),
        [*NOT_SECONDS_OR_NONE, -1.0],
    )
    yield "cancel-reason", "reason", lambda e, v: e.cancel("q", reason=v), NOT_TEXT_OR_NONE
    yield "defer-until", "until", lambda e, v: e.defer("q", v), NOT_SECONDS
    yield "transfer-to_agent", "to_agent", lambda e, v: e.transfer("a", to_agent=v), NOT_STR_OR_NONE
    yield (
        "transfer-channel",
        "channel",
        lambda e, v: e.transfer("a", channel=v),
        [*NOT_STR_OR_NONE, "", "\ud800", "voice\udfff"],
    )
    yield "transfer-skills", "skills", lambda e, v: e.transfer("a", skills=v), NOT_SKILLS_OR_NONE
    yield "transfer-keep_age", "keep_age", lambda e, v: e.transfer("a", keep_age=v), NOT_BOOL
    for task_id in ("q", "a"):  # in the list, and out of it
        yield (
            f"update-{task_id}-priority",
            "priority",
            lambda e, v, t=task_id: e.update(t, priority=v),
            NOT_PRIORITY,
        )
        yield (
            f"update-{task_id}-value",
            "value",
            lambda e, v, t=task_id: e.update(t, value=v),
            [*NOT_SECONDS_OR_NONE, -1.0],
        )
        yield (
            f"update-{task_id}-due",
            "due",
            lambda e, v, t=task_id: e.update(t, due=v),
            NOT_SECONDS_OR_NONE,
        )
        yield (
            f"update-{task_id}-clear_due",
            "clear_due",
            lambda e, v, t=task_id: e.update(t, clear_due=v),
            NOT_BOOL,
        )
        yield (
            f"update-{task_id}-skills",
            "skills",
            lambda e, v, t=task_id: e.update(t, skills=v),
            NOT_SKILLS_OR_NONE,
        )
        yield (
            f"update-{task_id}-expected_version",
            "expected_version",
            lambda e, v, t=task_id: e.update(t, priority=1, expected_version=v),
            NOT_INT_OR_NONE,
        )
    yield "set_agent_state-state", "state", lambda e, v: e.set_agent_state("bob", v), NOT_STATE
    yield (
        "set_agent_state-reason",
        "reason",
        lambda e, v: e.set_agent_state("bob", "not_ready", reason=v),
        NOT_TEXT_OR_NONE,
    )
    yield (
        "set_agent_state-until",
        "until",
        lambda e, v: e.set_agent_state("cy", "wrap_up", until=v),
        NOT_SECONDS_OR_NONE,
    )
    # A reason goes only with not_ready, an end time only with wrap_up.
    yield (
        "set_agent_state-reason-elsewhere",
        "reason",
        lambda e, v: e.set_agent_state("bob", "ready", reason=v),
        ["lunch", LONG],
    )
    yield (
        "set_agent_state-until-elsewhere",
        "until",
        lambda e, v: e.set_agent_state("bob", "ready", until=v),
        [100.0, 10**300],
    )
    yield (
        "add_agent-ready",
        "ready",
        lambda e, v: e.add_agent(AgentSpec(id="dee"), ready=v),
        NOT_BOOL,
    )
    yield "add_agent-spec", "AgentSpec", lambda e, v: e.add_agent(v), [*NOT_STR, "dee"]
    yield "submit-spec", "TaskSpec", lambda e, v: e.submit(v), [*NOT_STR, "t9"]
    yield "set_policy-policy", "policy", lambda e, v: e.set_policy(v), NOT_POLICY
    yield "set_rules-rules", "rules", lambda e, v: e.set_rules(v), NOT_RULES
    yield (
        "subscribe-subscriber",
        "subscriber",
        lambda e, v: e.subscribe(v),
        [None, 5, "print", [print], b"x"],
    )
    yield (
        "subscribe-kinds",
        "kinds",
        lambda e, v: e.subscribe(_ok_subscriber, kinds=v),
        [5, "task_queued", b"task_queued", [5], ["nope"], [["task_queued"]], [None], object()],
    )
    yield (
        "watch_wakeup-watcher",
        "watcher",
        lambda e, v: e.watch_wakeup(v),
        [None, 5, "print", [print], b"x"],
    )


ROWS = list(_rows())
CASES = [
    pytest.param(name, call, value, id=f"{label}-{index}")
    for label, name, call, values in ROWS
    for index, value in enumerate(values)
]


def _bounded(message: str) -> None:
    # Long enough to say what was wrong, never the whole of a huge value.
    assert len(message) < 400, message[:200]


@pytest.mark.parametrize(("name", "call", "value"), CASES)
def test_a_bad_argument_is_refused_naming_it_and_changes_nothing(
    name: str, call: Call, value: Any
) -> None:
    engine, clock, log = busy_engine()
    before = state_of(engine, clock, log)
    with pytest.raises(InvalidInputError) as raised:
        call(engine, value)
    assert isinstance(raised.value, ValueRouteError)
    message = str(raised.value)
    assert name in message, message
    assert "got " in message, message  # the value received
    if not name.endswith("Spec"):  # specs are validated (and worded) by their models
        assert "expected" in message, message
    _bounded(message)
    assert state_of(engine, clock, log) == before
    engine._check()


def test_every_public_command_and_query_taking_arguments_is_in_the_table() -> None:
    public = {
        name for name in dir(Engine) if not name.startswith("_") and callable(getattr(Engine, name))
    }
    without_arguments = {"advance", "digest", "next_wakeup", "queue_statistics", "statistics"}
    covered = {label.split("-")[0] for label, _, _, _ in ROWS}
    assert public - without_arguments == covered


# A huge value, of a valid type or not, is never written out whole.
HUGE_VALUES = {
    "str": LONG,
    "list": [0] * 100_000,
    "dict": {str(i): i for i in range(10_000)},
    "int": 10**5000,
    "bytes": LONG.encode(),
    "skill": {LONG: 1.0},
}
HUGE_CALLS: dict[str, Call] = {
    "get": lambda e, v: e.get(v),
    "accept": lambda e, v: e.accept(v),
    "accept-agent": lambda e, v: e.accept("o", v),
    "wrap_up": lambda e, v: e.complete("a", wrap_up=v),
    "until": lambda e, v: e.defer("q", v),
    "cancel": lambda e, v: e.cancel(v),
    "to_agent": lambda e, v: e.transfer("a", to_agent=v),
    "channel": lambda e, v: e.transfer("a", channel=v),
    "tasks_of": lambda e, v: e.tasks_of(v),
    "next_task": lambda e, v: e.next_task(v),
    "state": lambda e, v: e.set_agent_state("bob", v),
    "policy": lambda e, v: e.set_policy(v),
    "rules": lambda e, v: e.set_rules(v),
    "kinds": lambda e, v: e.subscribe(_ok_subscriber, kinds=v),
    "skills": lambda e, v: e.update("q", skills=v),
    "expected_version": lambda e, v: e.update("q", priority=1, expected_version=v),
    "channel-to-agent": lambda e, v: e.transfer("a", channel=v, to_agent="bob"),
    "reason": lambda e, v: e.set_agent_state("bob", "ready", reason=v),
}
HUGE_CASES = [
    pytest.param(call, value, id=f"{call_id}-{value_id}")
    for call_id, call in HUGE_CALLS.items()
    for value_id, value in HUGE_VALUES.items()
    # A long channel name is a channel name (tasks have no limit on it either).
    if (call_id, value_id) != ("channel", "str")
]


@pytest.mark.parametrize(("call", "value"), HUGE_CASES)
def test_a_huge_value_is_refused_with_a_bounded_message(call: Call, value: Any) -> None:
    engine, clock, log = busy_engine()
    before = state_of(engine, clock, log)
    with pytest.raises(ValueRouteError) as raised:
        call(engine, value)
    _bounded(str(raised.value))
    assert state_of(engine, clock, log) == before


# --------------------------------------------------------------- clock readings

BAD_READINGS = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "huge-int": HUGE,
    "text": "12:00",
    "numeric-text": "30",
    "None": None,
    "bool": True,
    "list": [30.0],
    "complex": 3j,
}
READING_CALLS: dict[str, Call] = {
    "submit": lambda e, _: e.submit(TaskSpec(id="new", channel="email")),
    "accept": lambda e, _: e.accept("o"),
    "complete": lambda e, _: e.complete("a"),
    "cancel": lambda e, _: e.cancel("q"),
    "advance": lambda e, _: e.advance(),
    "set_agent_state": lambda e, _: e.set_agent_state("bob", "ready"),
    "explain": lambda e, _: e.explain("q"),
    "statistics": lambda e, _: e.statistics(),
}


@pytest.mark.parametrize("reading", BAD_READINGS.values(), ids=BAD_READINGS.keys())
@pytest.mark.parametrize("call", READING_CALLS.values(), ids=READING_CALLS.keys())
def test_a_clock_reading_that_is_not_a_finite_number_is_refused_and_changes_nothing(
    call: Call, reading: Any
) -> None:
    engine, clock, log = busy_engine()
    before = state_of(engine, clock, log)[:3]
    clock.now = reading
    with pytest.raises(InvalidInputError) as raised:
        call(engine, None)
    assert "clock" in str(raised.value)
    _bounded(str(raised.value))
    assert (engine.digest(), engine.event_count, len(log)) == before
    assert engine.now == 1.0
    clock.now = 3.0
    call(engine, None)  # the same command goes through once the clock reads a number
    engine._check()


# --------------------------------------------------------------- random junk


def _junk(*, allow: Callable[[Any], bool]) -> st.SearchStrategy[Any]:
    """Values of every kind but those ``allow`` accepts."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=2**1024),
        st.floats(),
        st.text(max_size=20),
        st.binary(max_size=10),
        st.lists(st.integers(), max_size=3),
        st.tuples(st.text(max_size=3)),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
        st.frozensets(st.integers(), max_size=3),
        st.complex_numbers(),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=30),
            lambda inner: (
                st.lists(inner, max_size=5)
                | st.dictionaries(st.text(max_size=30), inner, max_size=5)
            ),
            max_leaves=30,
        ),
    ).filter(lambda v: not allow(v))


def _is_text(v: Any) -> bool:
    return isinstance(v, str)


def _is_text_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _is_seconds(v: Any) -> bool:
    return (
        isinstance(v, int | float)
        and not isinstance(v, bool)
        and (isinstance(v, float) or abs(v) < 2**1000)
        and math.isfinite(v)
    )


def _is_seconds_or_none(v: Any) -> bool:
    return v is None or _is_seconds(v)


def _is_state(v: Any) -> bool:
    return isinstance(v, str) and v in {p.value for p in Presence}


def _is_kinds(v: Any) -> bool:
    names = {k.value for k in EventKind}
    return v is None or (
        isinstance(v, list | tuple | frozenset)
        and all(isinstance(k, str) and k in names for k in v)
    )


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


RANDOM: list[tuple[str, Call, Callable[[Any], bool]]] = [
    ("task_id", lambda e, v: e.accept(v), _is_text),
    ("task_id", lambda e, v: e.complete(v), _is_text),
    ("task_id", lambda e, v: e.cancel(v), _is_text),
    ("task_id", lambda e, v: e.get(v), _is_text),
    ("task_id", lambda e, v: e.agent_of(v), _is_text),
    ("task_id", lambda e, v: e.update(v, value=1.0), _is_text),
    ("agent_id", lambda e, v: e.accept("o", v), _is_text_or_none),
    ("agent_id", lambda e, v: e.next_task(v), _is_text),
    ("agent_id", lambda e, v: e.remove_agent(v), _is_text),
    ("agent_id", lambda e, v: e.tasks_of(v), _is_text),
    ("wrap_up", lambda e, v: e.complete("a", wrap_up=v), _is_seconds_or_none),
    ("until", lambda e, v: e.defer("q", v), _is_seconds),
    ("until", lambda e, v: e.set_agent_state("cy", "wrap_up", until=v), _is_seconds_or_none),
    ("reason", lambda e, v: e.cancel("h", reason=v), _is_text_or_none),
    ("reason", lambda e, v: e.set_agent_state("cy", "not_ready", reason=v), _is_text_or_none),
    ("state", lambda e, v: e.set_agent_state("cy", v), _is_state),
    ("to_agent", lambda e, v: e.transfer("a", to_agent=v), _is_text_or_none),
    ("keep_age", lambda e, v: e.transfer("q", keep_age=v), _is_bool),
    ("value", lambda e, v: e.update("q", value=v), _is_seconds_or_none),
    ("due", lambda e, v: e.update("h", due=v), _is_seconds_or_none),
    ("clear_due", lambda e, v: e.update("a", clear_due=v), _is_bool),
    ("ready", lambda e, v: e.add_agent(AgentSpec(id="dee"), ready=v), _is_bool),
    ("policy", lambda e, v: e.set_policy(v), lambda v: False),
    ("rules", lambda e, v: e.set_rules(v), lambda v: v is None),
    ("kinds", lambda e, v: e.subscribe(_ok_subscriber, kinds=v), _is_kinds),
    ("subscriber", lambda e, v: e.subscribe(v), callable),
]


@given(st.data())
def test_random_junk_for_random_commands_is_refused_and_changes_nothing(
    data: st.DataObject,
) -> None:
    engine, clock, log = busy_engine()
    clock.now = data.draw(st.floats(min_value=2.0, max_value=400.0))
    name, call, allow = data.draw(st.sampled_from(RANDOM))
    value = data.draw(_junk(allow=allow))
    before = state_of(engine, clock, log)
    with pytest.raises(InvalidInputError) as raised:
        call(engine, value)
    message = str(raised.value)
    assert name in message
    _bounded(message)
    assert state_of(engine, clock, log) == before
    engine._check()


# --------------------------------------------------------------- settings

_CALENDAR = BusinessCalendar(timezone="UTC", hours="24/7")

# Settings given per task type also take a mapping of types to seconds.
NOT_PER_TYPE = [v for v in NOT_SECONDS if not isinstance(v, dict)]
SETTINGS: list[tuple[str, list[Any]]] = [
    ("dispatch", ["PUSH", None, 5, ["push"], b"push"]),
    ("offer_timeout", [*NOT_SECONDS_OR_NONE, 0, 0.0, -1.0]),
    ("auto_accept", NOT_BOOL),
    ("reject_cooldown", [*NOT_SECONDS, -1.0]),
    ("timeout_sets_not_ready", NOT_BOOL),
    ("max_offers", ["3", 3.0, True, False, 0, -1, math.nan, [3], {"n": 3}, b"3"]),
    ("concurrent_offers", ["3", 3.0, True, False, 0, -1, None, math.nan, [3], {"n": 3}, b"3"]),
    (
        "wrap_up",
        [
            *NOT_PER_TYPE,
            -1.0,
            {"*": "x"},
            {"*": -1.0},
            {"*": math.nan},
            {"*": HUGE},
            {"*": None},
            {"*": True},
            {5: 1.0},
        ],
    ),
    (
        "time_to_live",
        [
            *(v for v in NOT_PER_TYPE if v is not None),
            -1.0,
            {"*": "x"},
            {"claim": math.inf},
            {"*": None},
            {"*": False},
            {None: 1.0},
        ],
    ),
    ("time_to_live_clock", [None, 5, True, "business", "Working", b"wall", ["wall"]]),
    ("relaxation", [None, 5, "abc", b"abc", [5], {"*": 5}, {5: ()}, {"*": "abc"}, [None]]),
    ("relaxation_clock", [None, 5, True, "business", "Working", b"wall", ["wall"]]),
    ("max_wait", [*NOT_SECONDS_OR_NONE, 0, -5.0]),
    ("sla_warning", [*NOT_SECONDS_OR_NONE, 0, -5.0]),
    ("exclusive_channels", [None, 5, "voice", b"voice", [5], ["voice", None], [""], [b"voice"]]),
    ("closed_memory", ["x", "10", 1.5, True, -1, None, math.nan, [1], {}]),
    ("clock", [5, "time", [0.0], 0.0]),
    ("agent_selection", [5, "longest_idle", object(), [print]]),
    ("policy", [p for p in NOT_POLICY if p is not None]),
    ("rules", NOT_RULES),
    ("calendars", [5, "b", [1], {"b": 5}, {1: _CALENDAR}, {"": _CALENDAR}]),
    ("calendar", [5, "nope", b"x"]),
    ("queues", [5, "q", {"name": "q"}, [5], [{"name": 5}], [{"name": "q"}, {"name": "q"}]]),
    ("workflows", [5, "w", {"name": "w"}, [5], [{"name": "w", "steps": []}]]),
]
SETTING_CASES = [
    pytest.param(name, value, id=f"{name}-{index}")
    for name, values in SETTINGS
    for index, value in enumerate(values)
]


@pytest.mark.parametrize(("name", "value"), SETTING_CASES)
def test_a_bad_setting_is_refused_at_construction_naming_it(name: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Engine(**{name: value})
    message = str(raised.value)
    assert name in message, message
    _bounded(message)


def test_every_setting_is_in_the_table() -> None:
    import inspect

    parameters = set(inspect.signature(Engine).parameters)
    assert parameters == {name for name, _ in SETTINGS}


def test_rules_that_were_parsed_but_not_compiled_are_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInputError, match=r"rules: .*compile"):
        Engine(rules=parse_rules(RULES))
    with pytest.raises(InvalidInputError, match=r"rules: .*load_rules"):
        Engine(rules="rules.toml")


def test_a_refused_policy_or_rule_set_leaves_the_running_one_in_place() -> None:
    engine, _, _ = busy_engine()
    rules = load_rules(parse_rules(RULES))
    engine.set_rules(rules)
    policy = engine.policy
    for bad in NOT_POLICY:
        with pytest.raises(InvalidInputError):
            engine.set_policy(bad)
    for bad in NOT_RULES:
        with pytest.raises(InvalidInputError):
            engine.set_rules(bad)
    assert engine.policy is policy
    assert engine._rules is rules
    # Both still work.
    engine.submit(TaskSpec(id="vip", channel="email", attributes={"tier": "gold"}))
    assert engine.get("vip").priority == 5
    engine._check()


# --------------------------------------------------------------- good values still work


def test_numbers_of_other_real_types_and_ints_are_taken_as_seconds() -> None:
    engine, _, _ = busy_engine()
    engine.defer("q", np.int64(300))
    assert engine._deferred_until["q"] == 300.0
    engine.resume("q")
    engine.defer("q", Fraction(601, 2))
    assert engine._deferred_until["q"] == 300.5
    engine.complete("a", wrap_up=np.float64(5.0))
    assert engine._wrap_up_until["a"] == 7.0
    engine.set_agent_state("cy", "wrap_up", until=10)
    assert engine.agents.get("cy").wrap_up_until == 10
    engine.update("h", value=np.float32(2.5), due=100, priority=np.int64(3))
    assert (engine.get("h").value, engine.get("h").due, engine.get("h").priority) == (2.5, 100.0, 3)
    engine._check()


def test_settings_of_the_right_types_are_taken() -> None:
    now = [0.0]
    engine = Engine(
        clock=lambda: now[0],
        dispatch="pull",
        offer_timeout=np.float64(20.0),
        auto_accept=True,
        reject_cooldown=0,
        timeout_sets_not_ready=True,
        max_offers=np.int64(3),
        concurrent_offers=np.int64(2),
        wrap_up={"claim": 30, "*": 0.0},
        time_to_live={"claim": np.float64(3600.0)},
        relaxation={"claim": [RelaxationStep(after=60.0, lower_by=1.0)]},
        max_wait=Fraction(600),
        sla_warning=60,
        exclusive_channels=iter(["voice", "video"]),
        closed_memory=np.int64(5),
        agent_selection=lambda candidates, task, now: candidates[-1],
        policy=AgingPriority(seconds_per_point=60),
        rules=load_rules(parse_rules(RULES)),
    )
    assert engine.agents.exclusive_channels == frozenset({"voice", "video"})
    engine.add_agent(AgentSpec(id="ann", skills={"claims": 1}, capacity={"voice": 1}), ready=True)
    engine.submit(TaskSpec(id="c", type="claim", skills={"claims": 1}))
    offer = engine.next_task("ann")
    assert offer is not None
    assert offer.task.id == "c"
    assert engine.get("c").state is TaskState.assigned
    engine.complete("c")
    assert engine.get("c").state is TaskState.wrap_up
    engine._check()


def test_event_kinds_as_names_or_members_are_taken() -> None:
    engine, _, _ = busy_engine()
    heard: list[Event] = []
    engine.subscribe(heard.append, kinds=["task_held", EventKind.task_resumed])
    engine.subscribe(heard.append, kinds=(k for k in ["task_canceled"]))
    engine.resume("h")
    engine.cancel("q", reason="dup")
    assert [e.kind.value for e in heard] == ["task_resumed", "task_canceled"]


def test_a_starvation_guard_refuses_a_bad_limit_or_offset() -> None:
    for bad in [*NOT_SECONDS, 0, -1.0]:
        with pytest.raises(InvalidInputError, match="max_wait"):
            StarvationGuard(StrictPriority(), bad)
    for bad in NOT_SECONDS:
        with pytest.raises(InvalidInputError, match="offset"):
            StarvationGuard(StrictPriority(), 60.0, offset=bad)
