"""Bad input to the task list, the agent pool, the hosting helpers and event records.

Each test hands a public constructor or method of the core a value of the
wrong type, a number no float holds, an unhashable id or a megabyte of text,
and checks that it is refused with a short
:class:`~valueroute.errors.ValueRouteError` naming the parameter (not a
TypeError, OverflowError or AttributeError from deep inside, nor a message
that repeats the whole value), and that the refusal changed nothing.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute import scoring as s
from valueroute.agents import AgentPool, RandomAgent, selection_by_name
from valueroute.errors import (
    CapacityError,
    ClockError,
    InvalidInputError,
    InvalidTransitionError,
    UnknownAgentError,
    UnknownTaskError,
    ValueRouteError,
    bounded_repr,
)
from valueroute.events import Event, EventKind
from valueroute.hosting import LockedEngine, LockedView, TimerLoop
from valueroute.models import MAX_PRIORITY, MAX_SECONDS, MAX_VALUE
from valueroute.tasklist import TaskList, check_changes

MAX_MESSAGE = 600
MB = 1_000_000


def repr_id(value: object) -> str:
    """A short test id for any value."""
    return bounded_repr(value, 20)


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


def refusal(
    call: Any, kind: type[ValueRouteError] = InvalidInputError, field: str | None = None
) -> str:
    """Run ``call``; it must raise ``kind`` with a short message naming ``field``."""
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert 0 < len(message) <= MAX_MESSAGE, message[:300]
    if field is not None:
        assert field in message, message[:300]
    return message


def filled_list() -> TaskList:
    tasks = TaskList(s.Fifo())
    tasks.add(TaskSpec(id="a", channel="email", priority=1), now=1.0)
    tasks.add(TaskSpec(id="b", channel="email", priority=2), now=2.0)
    return tasks


def list_state(tasks: TaskList) -> tuple[object, ...]:
    tasks._check()
    return (
        tasks.now,
        tasks.policy,
        len(tasks),
        tasks.next_seq_peek(),
        [(t.id, t.priority, t.value, t.due, dict(t.skills), t.version) for t in tasks],
        [t.id for t, _ in tasks.top(10, tasks.now)],
    )


# ====================================================================== task list


@pytest.mark.parametrize("policy", [5, "fifo", Opaque(), None.__class__, s.Fifo])
def test_tasklist_refuses_something_that_is_not_a_policy(policy: object) -> None:
    refusal(lambda: TaskList(policy), field="policy")  # type: ignore[arg-type]
    tasks = filled_list()
    before = list_state(tasks)
    refusal(lambda: tasks.set_policy(policy, now=3.0), field="policy")  # type: ignore[arg-type]
    assert list_state(tasks) == before


def test_tasklist_takes_none_or_a_policy() -> None:
    assert isinstance(TaskList().policy, s.StrictPriority)
    fifo = s.Fifo()
    assert TaskList(fifo).policy is fifo


@pytest.mark.parametrize("item", [5, None, {"id": []}, {"id": "x"}, "t"])
def test_tasklist_add_refuses_what_is_not_a_spec_or_record(item: object) -> None:
    tasks = filled_list()
    before = list_state(tasks)
    refusal(lambda: tasks.add(item, now=3.0), field="item")  # type: ignore[arg-type]
    refusal(lambda: tasks.extend([item], now=3.0), field="item")  # type: ignore[list-item]
    assert list_state(tasks) == before


@pytest.mark.parametrize(
    "now", ["x", None, [], b"1", True, math.nan, math.inf, 10**400, -(10**400)], ids=repr_id
)
def test_tasklist_commands_refuse_a_time_that_is_not_a_finite_number(now: object) -> None:
    tasks = filled_list()
    before = list_state(tasks)
    refusal(lambda: tasks.add(TaskSpec(id="c"), now=now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: tasks.extend([TaskSpec(id="c")], now=now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: tasks.update("a", now=now, priority=3), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: tasks.set_policy(s.Fifo(), now=now), ClockError, "now")  # type: ignore[arg-type]
    assert list_state(tasks) == before


@pytest.mark.parametrize("now", [-math.inf, math.nan, "x", None, 10**400, True], ids=repr_id)
def test_queries_refuse_a_time_that_is_not_a_finite_number(now: object) -> None:
    tasks = filled_list()
    refusal(lambda: tasks.top(3, now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: tasks.ranked(now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: tasks.oldest(now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: tasks.best(tasks.groups, now), ClockError, "now")  # type: ignore[arg-type]


@pytest.mark.parametrize("task_id", [[], {"id": "a"}, {"a"}, 5, None, b"a", Opaque()])
def test_tasklist_get_and_remove_refuse_an_id_that_is_not_text(task_id: object) -> None:
    tasks = filled_list()
    before = list_state(tasks)
    for call in (tasks.get, tasks.remove, lambda i: tasks.update(i, now=3.0, priority=1)):
        refusal(lambda c=call: c(task_id), field="task_id")
    assert list_state(tasks) == before


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=5000))
def test_an_unknown_task_id_of_any_length_gives_a_short_message(task_id: str) -> None:
    tasks = filled_list()
    if task_id in ("a", "b"):
        return
    refusal(lambda: tasks.get(task_id), UnknownTaskError)
    refusal(lambda: tasks.remove(task_id), UnknownTaskError)


def test_a_megabyte_task_id_gives_a_short_message() -> None:
    tasks = filled_list()
    refusal(lambda: tasks.get("x" * MB), UnknownTaskError, "task_id")
    refusal(lambda: tasks.counts("x" * MB), field="by")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("channel", "skills", "field"),
    [
        (5, {}, "channel"),
        (None, {"a": 1.0}, "channel"),
        ("", {}, "channel"),
        ("voice", 5, "skills"),
        ("voice", ["a"], "skills"),
        ("voice", {"a": []}, "skills"),
        ("voice", {"a": math.nan}, "skills"),
        ("voice", {"a": 10**400}, "skills"),
        ("voice", {"a": True}, "skills"),
        ("voice", {1: 1.0, "a": 2.0}, "skills"),
        ("voice", {("x" * MB,): 1.0}, "skills"),
    ],
)
def test_group_for_refuses_what_is_not_a_requirement_set(
    channel: object, skills: object, field: str
) -> None:
    tasks = filled_list()
    groups = list(tasks.groups)
    refusal(lambda: tasks.group_for(channel, skills), field=field)  # type: ignore[arg-type]
    assert list(tasks.groups) == groups


@pytest.mark.parametrize(
    "key",
    [5, None, [], ("voice",), ("voice", [("a", 1.0)]), ("voice", (("b", 1.0), ("a", 1.0)))],
)
def test_group_of_key_refuses_what_is_not_a_key(key: object) -> None:
    tasks = filled_list()
    groups = list(tasks.groups)
    refusal(lambda: tasks.group_of_key(key))  # type: ignore[arg-type]
    assert list(tasks.groups) == groups


def test_group_for_takes_a_requirement_set_in_any_order() -> None:
    tasks = TaskList()
    group = tasks.group_for("chat", {"b": 1, "a": 2.5})
    assert group.key == ("chat", (("a", 2.5), ("b", 1)))
    assert tasks.group_for("chat", {"a": 2.5, "b": 1.0}) is group


# --------------------------------------------------------------- update's bounds


def _spec_accepts(**fields: Any) -> bool:
    """Whether a TaskSpec takes these field values: the reference for update."""
    try:
        TaskSpec(id="t", **fields)
    except InvalidInputError:
        return False
    return True


def _changes_accept(**fields: Any) -> bool:
    changes: dict[str, Any] = {"priority": None, "value": None, "due": None, "skills": None}
    changes.update(fields)
    message = ""
    try:
        check_changes(clear_due=False, **changes)
    except InvalidInputError as exc:
        message = str(exc)
    assert len(message) <= MAX_MESSAGE
    return not message


def _around(bound: float) -> st.SearchStrategy[float]:
    return st.sampled_from([bound, -bound, math.nextafter(bound, math.inf), -bound * 1.5])


@settings(max_examples=200, deadline=None)
@given(
    st.integers()
    | st.integers(min_value=MAX_PRIORITY - 3, max_value=MAX_PRIORITY + 3)
    | st.integers(min_value=-MAX_PRIORITY - 3, max_value=-MAX_PRIORITY + 3)
    | st.sampled_from([10**400, -(10**400), 2**1024])
)
def test_update_takes_exactly_the_priorities_a_task_spec_takes(priority: int) -> None:
    assert _changes_accept(priority=priority) == _spec_accepts(priority=priority)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(allow_nan=True, allow_infinity=True)
    | _around(MAX_VALUE)
    | st.sampled_from([10**400, 0, 1, int(MAX_VALUE), int(MAX_VALUE) + 1])
)
def test_update_takes_exactly_the_values_a_task_spec_takes(value: float) -> None:
    assert _changes_accept(value=value) == _spec_accepts(value=value)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(allow_nan=True, allow_infinity=True)
    | _around(MAX_SECONDS)
    | st.sampled_from([10**400, -(10**400), int(MAX_SECONDS), int(MAX_SECONDS) + 1])
)
def test_update_takes_exactly_the_due_times_a_task_spec_takes(due: float) -> None:
    assert _changes_accept(due=due) == _spec_accepts(due=due)


@pytest.mark.parametrize(
    "changes",
    [
        {"priority": 10**400},
        {"priority": MAX_PRIORITY + 1},
        {"value": MAX_VALUE * 2},
        {"value": 10**400},
        {"due": MAX_SECONDS * 2},
        {"due": 10**400},
        {"skills": {"a": 10**400}},
        {"skills": {5: 1.0}},
        {"skills": {"a": "x" * MB}},
        {"skills": {"x" * MB: 1.0}},
        {"skills": 5},
    ],
    ids=lambda c: f"{next(iter(c))}",
)
def test_update_refuses_out_of_range_changes_and_changes_nothing(changes: dict[str, Any]) -> None:
    field = next(iter(changes))
    tasks = filled_list()
    before = list_state(tasks)
    refusal(lambda: tasks.update("a", now=3.0, **changes), field=field)
    assert list_state(tasks) == before
    now = [0.0]
    engine = Engine(policy=s.Fifo(), clock=lambda: now[0])
    engine.submit(TaskSpec(id="a", channel="email"))
    digest, events = engine.digest(), engine.event_count
    now[0] = 1.0
    refusal(lambda: engine.update("a", **changes), field=field)
    assert (engine.digest(), engine.event_count) == (digest, events)


def test_update_at_the_bounds_is_scored() -> None:
    tasks = filled_list()
    tasks.update("a", now=3.0, priority=MAX_PRIORITY, value=MAX_VALUE, due=MAX_SECONDS)
    tasks.update("b", now=4.0, priority=-MAX_PRIORITY, due=-MAX_SECONDS)
    tasks._check()
    assert [t.id for t, _ in tasks.top(2, 4.0)] == ["a", "b"]


# ====================================================================== agent pool


def pool_with_ann() -> AgentPool:
    pool = AgentPool()
    pool.add(AgentSpec(id="ann", capacity={"email": 2}), now=0.0, presence="ready")
    return pool


def pool_state(pool: AgentPool) -> tuple[object, ...]:
    pool._check()
    return tuple((a.id, a.state, a.reason, dict(a.load), a.idle_since) for a in pool)


@pytest.mark.parametrize(
    "channels", [5, None, [1], Opaque(), [b"voice"], {"voice": 1, 2: 3}, [["voice"]], b"voice"]
)
def test_pool_refuses_exclusive_channels_that_are_not_channel_names(channels: object) -> None:
    refusal(lambda: AgentPool(exclusive_channels=channels), field="exclusive_channels")  # type: ignore[arg-type]


def test_pool_takes_any_collection_of_channel_names() -> None:
    assert AgentPool(exclusive_channels=["voice", "video"]).exclusive_channels == {"voice", "video"}
    assert AgentPool(exclusive_channels=()).exclusive_channels == frozenset()
    assert AgentPool(exclusive_channels=iter(["x"])).exclusive_channels == {"x"}


@pytest.mark.parametrize("name", ["x" * MB, [], {"a": 1}, 5, None, "\ud83d"])
def test_selection_by_name_refuses_with_a_short_message(name: object) -> None:
    refusal(lambda: selection_by_name(name), field="name")  # type: ignore[arg-type]


def test_selection_by_name_bad_rng_gives_a_short_message() -> None:
    refusal(lambda: selection_by_name("random", rng="x" * MB), field="rng")
    refusal(lambda: RandomAgent("x" * MB), field="rng")  # type: ignore[arg-type]


@pytest.mark.parametrize("agent_id", [[], {"id": "ann"}, 5, None, Opaque()])
def test_pool_refuses_an_agent_id_that_is_not_text(agent_id: object) -> None:
    pool = pool_with_ann()
    before = pool_state(pool)
    refusal(lambda: pool.get(agent_id), field="agent_id")  # type: ignore[arg-type]
    refusal(lambda: pool.remove(agent_id), field="agent_id")  # type: ignore[arg-type]
    refusal(lambda: pool.set_presence(agent_id, "ready", now=1.0), field="agent_id")  # type: ignore[arg-type]
    assert pool_state(pool) == before


def test_pool_messages_about_long_values_are_short() -> None:
    pool = pool_with_ann()
    before = pool_state(pool)
    refusal(lambda: pool.get("x" * MB), UnknownAgentError, "agent_id")
    refusal(lambda: pool.set_presence("ann", "x" * MB, now=1.0), field="presence")
    refusal(lambda: pool.set_presence("ann", "offline", now=1.0, reason="x" * MB), field="reason")
    refusal(
        lambda: pool.set_presence("ann", "not_ready", now=1.0, reason=["x" * MB]), field="reason"
    )
    refusal(
        lambda: pool.set_presence("ann", "wrap_up", now=1.0, wrap_up_until="x" * MB),
        field="wrap_up_until",
    )
    ann = pool.get("ann")
    refusal(lambda: pool.take(ann, "x" * MB, now=1.0), CapacityError, "channel")
    refusal(lambda: pool.release(ann, "x" * MB, now=1.0), InvalidTransitionError, "channel")
    assert pool_state(pool) == before


@pytest.mark.parametrize("now", [10**400, -(10**400), "x", None, math.nan, True], ids=repr_id)
def test_pool_refuses_a_time_that_is_not_a_finite_number(now: object) -> None:
    pool = pool_with_ann()
    before = pool_state(pool)
    group = TaskList().group_for("email", {})
    refusal(lambda: pool.add(AgentSpec(id="bob"), now=now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: pool.set_presence("ann", "not_ready", now=now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: pool.select(group, now=now), ClockError, "now")  # type: ignore[arg-type]
    refusal(lambda: pool.take(pool.get("ann"), "email", now=now), ClockError, "now")  # type: ignore[arg-type]
    assert pool_state(pool) == before


@pytest.mark.parametrize("channel", [[], 5, None])
def test_take_and_release_refuse_a_channel_that_is_not_text(channel: object) -> None:
    pool = pool_with_ann()
    before = pool_state(pool)
    ann = pool.get("ann")
    refusal(lambda: pool.take(ann, channel, now=1.0), field="channel")  # type: ignore[arg-type]
    refusal(lambda: pool.release(ann, channel, now=1.0), field="channel")  # type: ignore[arg-type]
    assert pool_state(pool) == before


@pytest.mark.parametrize(("agent", "channel"), [(5, "email"), (None, "email"), ("ann", [])])
def test_can_take_refuses_what_is_not_an_agent_and_a_channel(agent: str, channel: object) -> None:
    pool = pool_with_ann()
    record = pool.get(agent) if agent == "ann" else agent
    refusal(lambda: pool.can_take(record, channel), field="channel" if agent == "ann" else "agent")  # type: ignore[arg-type]
    assert pool.can_take(pool.get("ann"), "email")
    assert not pool.can_take(pool.get("ann"), "voice")


@pytest.mark.parametrize("group", [5, None, "email", Opaque()])
def test_select_and_available_agents_refuse_what_is_not_a_group(group: object) -> None:
    pool = pool_with_ann()
    refusal(lambda: pool.select(group, now=1.0), field="group")  # type: ignore[arg-type]
    refusal(lambda: pool.available_agents(group), field="group")  # type: ignore[arg-type]


@pytest.mark.parametrize("groups", [5, None, Opaque(), [5]])
def test_eligible_groups_refuses_what_is_not_a_sequence_of_groups(groups: object) -> None:
    pool = pool_with_ann()
    refusal(lambda: pool.eligible_groups(pool.get("ann"), groups), field="groups")  # type: ignore[arg-type]


# ====================================================================== hosting


@pytest.mark.parametrize("lock", [5, "lock", object()])
def test_locked_engine_and_view_refuse_what_is_not_a_lock(lock: object) -> None:
    engine = Engine(clock=lambda: 0.0)
    refusal(lambda: LockedEngine(engine, lock=lock), field="lock")  # type: ignore[arg-type]
    refusal(lambda: LockedView(TaskList(), lock), field="lock")  # type: ignore[arg-type]


def test_locked_view_needs_a_lock() -> None:
    refusal(lambda: LockedView(TaskList(), None), field="lock")  # type: ignore[arg-type]


def test_locked_engine_takes_a_given_reentrant_lock() -> None:
    lock = threading.RLock()
    locked = LockedEngine(Engine(clock=lambda: 0.0), lock=lock)
    assert locked.lock is lock
    assert len(LockedView(TaskList(), lock)) == 0


@pytest.mark.parametrize("engine", [5, None, "engine", TaskList()])
def test_timer_loop_refuses_what_is_not_an_engine(engine: object) -> None:
    refusal(lambda: TimerLoop(engine), field="engine")  # type: ignore[arg-type]


@pytest.mark.parametrize("clock", [5, None, "time"])
def test_timer_loop_refuses_a_clock_that_cannot_be_called(clock: object) -> None:
    refusal(lambda: TimerLoop(Engine(clock=lambda: 0.0), clock=clock), field="clock")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "max_sleep", ["x", None, [], True, 10**400, math.nan, math.inf, 0.0, -1.0, "x" * MB]
)
def test_timer_loop_refuses_a_max_sleep_that_is_not_positive_seconds(max_sleep: object) -> None:
    refusal(
        lambda: TimerLoop(Engine(clock=lambda: 0.0), max_sleep=max_sleep),  # type: ignore[arg-type]
        field="max_sleep",
    )


def test_timer_loop_takes_a_locked_engine_and_whole_seconds() -> None:
    loop = TimerLoop(LockedEngine(Engine(clock=lambda: 0.0)), max_sleep=5)
    assert loop.fired == 0


def test_timer_loop_takes_a_durable_engine(tmp_path: Path) -> None:
    from valueroute.journal import DurableEngine

    durable = DurableEngine.open(
        tmp_path / "journal.db", lambda clock: Engine(clock=clock), clock=lambda: 0.0
    )
    try:
        assert TimerLoop(durable).fired == 0
    finally:
        durable.close()


# ====================================================================== events


def good_event() -> dict[str, Any]:
    return Event(3, 12.5, EventKind.task_offered, "t", "ann", {"expires": 42.5}).to_dict()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 1e400),
        ("seq", "12"),
        ("seq", 1.5),
        ("seq", True),
        ("seq", -1),
        ("seq", None),
        ("time", 10**400),
        ("time", "x" * MB),
        ("time", None),
        ("time", math.nan),
        ("kind", "bogus"),
        ("kind", "x" * MB),
        ("kind", []),
        ("task", 5),
        ("task", ["x"]),
        ("agent", {"a": 1}),
        ("data", 5),
        ("data", ["x"]),
    ],
)
def test_event_from_dict_refuses_a_bad_field(field: str, value: object) -> None:
    data = good_event()
    data[field] = value
    refusal(lambda: Event.from_dict(data), field=field)


@pytest.mark.parametrize("data", [5, None, [], "event", {}, {"seq": 1}])
def test_event_from_dict_refuses_what_is_not_an_event_mapping(data: object) -> None:
    refusal(lambda: Event.from_dict(data))  # type: ignore[arg-type]


def test_event_from_dict_reads_back_to_dict() -> None:
    event = Event(3, 12.5, EventKind.task_offered, "t", "ann", {"expires": 42.5})
    assert Event.from_dict(event.to_dict()) == event
    minimal = {"seq": 0, "time": 1, "kind": "task_submitted"}
    assert Event.from_dict(minimal) == Event(0, 1.0, EventKind.task_submitted)


@pytest.mark.parametrize(
    "line",
    [
        '{"seq": 1e400, "time": 1.0, "kind": "task_submitted"}',
        '{"seq": 1, "time": 1' + "0" * 400 + ', "kind": "task_submitted"}',
    ],
    ids=["seq-1e400", "time-400-digits"],
)
def test_an_exported_event_file_with_a_number_no_float_holds_is_refused(
    tmp_path: Path, line: str
) -> None:
    from valueroute.journal import JournalFormatError, export_events, import_events

    path = tmp_path / "events.jsonl"
    export_events([Event(0, 0.0, EventKind.task_submitted, "t")], path)
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
    refusal(lambda: import_events(path), JournalFormatError, "line 3")


@pytest.mark.parametrize("groups", [5, "voice", [5], [None], ({"a": 1},), {"a": 1}])
def test_best_and_ranked_refuse_what_is_not_groups(groups: object) -> None:
    tasks = filled_list()
    before = list_state(tasks)
    refusal(lambda: tasks.best(groups, 3.0), field="groups")  # type: ignore[arg-type]
    refusal(lambda: tasks.ranked(3.0, groups=groups), field="groups")  # type: ignore[arg-type]
    refusal(lambda: tasks.top(3, 3.0, groups=groups), field="groups")  # type: ignore[arg-type]
    assert list_state(tasks) == before


def test_best_needs_groups_where_ranked_takes_none_for_all() -> None:
    tasks = filled_list()
    refusal(lambda: tasks.best(None, 3.0), field="groups")  # type: ignore[arg-type]
    assert [t.id for t, _ in tasks.ranked(3.0, groups=None)] == ["a", "b"]


def test_best_and_ranked_take_any_iterable_of_groups() -> None:
    tasks = filled_list()
    group = tasks.group_for("email", {})
    assert tasks.best(iter([group]), 3.0) is tasks.get("a")
    assert [t.id for t, _ in tasks.ranked(3.0, groups=(g for g in [group]))] == ["a", "b"]


@pytest.mark.parametrize("task", [5, None, "a", Opaque()])
def test_score_refuses_what_is_not_a_task(task: object) -> None:
    refusal(lambda: filled_list().score(task, 3.0), field="task")  # type: ignore[arg-type]


@pytest.mark.parametrize("where", [5, "a", Opaque()])
def test_ranked_refuses_a_filter_that_cannot_be_called(where: object) -> None:
    refusal(lambda: filled_list().ranked(3.0, where=where), field="where")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["type", "channel", "department", "process", "state"])
@pytest.mark.parametrize("value", [5, ["email"], "x" * MB])
def test_top_and_oldest_refuse_a_filter_that_is_not_text(name: str, value: object) -> None:
    tasks = filled_list()
    if isinstance(value, str):
        # Text is a valid filter: it matches nothing here.
        assert tasks.top(3, 3.0, **{name: value}) == []
        assert tasks.oldest(3.0, **{name: value}) is None
        return
    refusal(lambda: tasks.top(3, 3.0, **{name: value}), field=name)
    refusal(lambda: tasks.oldest(3.0, **{name: value}), field=name)
