"""Restoring snapshots: exact submitted content, the version 1 layout, refused content,
stepwise relaxation kept as the relaxer kept it before it ran on workflows.

The references are independent of the snapshot code: the engine built by the
commands themselves (its digest, its ``_check()`` of every invariant), and the
engine's own ``_fingerprint`` of the spec each task was first submitted with
(what idempotent resubmission compares; the digest does not cover it for
open tasks, so it is checked here task by task).
"""

from __future__ import annotations

import copy
import gc
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, RelaxationStep, TaskSpec
from valueroute._snapshot import SNAPSHOT_VERSION, SnapshotContentError, restore, snapshot
from valueroute.calendar import BusinessCalendar
from valueroute.errors import DuplicateTaskError, InvalidInputError, ValueRouteError
from valueroute.journal import DurableEngine, StoredSnapshot
from valueroute.relaxation import ContinuousRelaxation
from valueroute.rules import load_rules, parse_rules

WEEKDAYS = {day: [("08:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS, name="berlin")
# Thursday 3 December 2026, 10:00 in Berlin: the calendar is open.
START = 1_796_288_400.0

RULES = """
name = "restore rules"
version = "1"

[attributes]
amount = "number"

[prioritisation]
mode = "all"

[[prioritisation.rules]]
name = "big"
when = { field = "attributes.amount", op = ">=", value = 500 }
then = { add_priority = 2, scale_value = 1.5 }
"""

TASK_IDS = [f"t{i}" for i in range(5)]
AGENT_IDS = ["ann", "bob", "cy"]


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(
        clock=clock,
        calendars={"berlin": BERLIN},
        offer_timeout=30.0,
        reject_cooldown=10.0,
        wrap_up=4.0,
        relaxation=[RelaxationStep(after=25.0, lower_by=1.0)],
        closed_memory=4,
        rules=AGING_RULES,
    )


AGING_RULES = load_rules(
    {
        "name": "aging",
        "prioritisation": {
            "rules": [
                {
                    "name": "waiting 20 s",
                    "when": {"field": "age", "op": ">=", "value": 20},
                    "then": {"add_priority": 1},
                }
            ]
        },
    }
)
"""Rules that look again as tasks age: their baselines are part of what is restored."""


def _spec(
    task: str,
    kind: str,
    channel: str,
    value: float,
    priority: int,
    level: float,
    attributes: dict[str, Any],
    created: float | None,
    timing: tuple[str, float] | None,
    prefer: tuple[list[str], float | None] | None,
    related: bool,
    requires: str | None,
) -> TaskSpec:
    fields: dict[str, Any] = {
        "id": task,
        "type": kind,
        "channel": channel,
        "value": value,
        "priority": priority,
        "skills": {"billing": level} if level else {},
        "attributes": attributes,
        "requires": requires,
    }
    if created is not None:
        fields["created"] = START + created
    if timing is not None:
        how, seconds = timing
        if how == "due":
            fields["due"] = START + seconds
        elif how == "due_in":
            fields["due_in"] = seconds
        else:
            fields.update(calendar="berlin", due_in=seconds)
    if prefer is not None:
        fields.update(preferred_agents=prefer[0], preferred_for=prefer[1])
    if related:
        fields.update(related_to="t0", preferred_for=prefer[1] if prefer else None)
    return TaskSpec(**fields)


task_specs = st.builds(
    _spec,
    st.sampled_from(TASK_IDS),
    st.sampled_from(["task", "claim"]),
    st.sampled_from(["voice", "chat"]),
    st.sampled_from([0.0, 1.0, 1 / 3, 250.0, 5e-324]),
    st.integers(-2, 3),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from([{}, {"amount": 600}, {"amount": 600.0}, {"vip": True}, {"vip": 1}]),
    st.none() | st.sampled_from([-5.0, 0.0]),
    st.none()
    | st.tuples(st.sampled_from(["due", "due_in", "calendar"]), st.sampled_from([60.0, 900.0])),
    st.none()
    | st.tuples(
        st.sampled_from([["ann"], ["bob", "ann"]]), st.none() | st.sampled_from([20.0, 300.0])
    ),
    st.booleans(),
    st.none() | st.sampled_from(["senior", "not senior"]),
)
agent_specs = st.builds(
    lambda agent, level, senior: AgentSpec(
        id=agent,
        skills={"billing": level},
        capacity={"voice": 1, "chat": 2},
        attributes={"senior": senior},
    ),
    st.sampled_from(AGENT_IDS),
    st.sampled_from([0.0, 1.0, 3.0]),
    st.booleans(),
)
task_ids = st.sampled_from(TASK_IDS)

Command = tuple[str, tuple[Any, ...], dict[str, Any]]

commands: st.SearchStrategy[Command] = st.one_of(
    st.tuples(st.just("submit"), st.tuples(task_specs), st.just({})),
    st.tuples(st.just("submit"), st.tuples(task_specs), st.just({})),
    st.tuples(
        st.just("add_agent"),
        st.tuples(agent_specs),
        st.fixed_dictionaries({"ready": st.booleans()}),
    ),
    st.tuples(
        st.sampled_from(["accept", "reject", "cancel", "hold", "resume", "end_wrap_up"]),
        st.tuples(task_ids),
        st.just({}),
    ),
    st.tuples(st.sampled_from(["accept", "complete"]), st.tuples(task_ids), st.just({})),
    st.tuples(st.sampled_from(["accept", "complete"]), st.tuples(task_ids), st.just({})),
    st.tuples(
        st.just("update"),
        st.tuples(task_ids),
        st.fixed_dictionaries(
            {"priority": st.none() | st.integers(-2, 4), "value": st.none() | st.floats(0, 10)}
        ),
    ),
    st.tuples(
        st.just("transfer"),
        st.tuples(task_ids),
        st.fixed_dictionaries({"skills": st.none() | st.just({"billing": 0.5})}),
    ),
    st.tuples(
        st.just("set_agent_state"),
        st.tuples(st.sampled_from(AGENT_IDS), st.sampled_from(["ready", "not_ready"])),
        st.just({}),
    ),
    st.tuples(st.just("advance"), st.just(()), st.just({})),
    st.tuples(st.just("set_rules"), st.sampled_from([(RULES,), (None,)]), st.just({})),
)
steps = st.lists(st.tuples(st.sampled_from([0.0, 0.5, 7.0, 40.0]), commands), max_size=30)


def run(engine: Engine, command: Command) -> None:
    name, args, kwargs = command
    if name == "set_rules":
        engine.set_rules(None if args[0] is None else parse_rules(args[0]).compile())
    else:
        getattr(engine, name)(*args, **kwargs)


# Every drawn sequence starts from a staffed centre with rules in force, so that
# drawn commands offer, assign, complete and change tasks.
SETUP: list[tuple[float, Command]] = [
    (0.0, ("set_rules", (RULES,), {})),
    (
        1.0,
        (
            "add_agent",
            (AgentSpec(id="ann", skills={"billing": 3}, attributes={"senior": True}),),
            {"ready": True},
        ),
    ),
    (1.0, ("add_agent", (AgentSpec(id="bob", capacity={"voice": 1, "chat": 2}),), {"ready": True})),
    (1.0, ("submit", (TaskSpec(id="t0", value=2.0, skills={"billing": 1}),), {})),
    (1.0, ("submit", (TaskSpec(id="t1", created=START, attributes={"amount": 900}),), {})),
    (
        1.0,
        ("submit", (TaskSpec(id="t2", calendar="berlin", due_in=60.0, requires="senior"),), {}),
    ),
    (1.0, ("submit", (TaskSpec(id="t3", channel="chat", preferred_agents=["bob"]),), {})),
]


def drive(drawn: list[tuple[float, Command]]) -> tuple[Engine, list[float], dict[str, TaskSpec]]:
    """An engine after the drawn commands, its clock, and the spec each task was submitted with."""
    clock = [START]
    engine = make_engine(lambda: clock[0])
    submitted: dict[str, TaskSpec] = {}
    for dt, command in SETUP + drawn:
        clock[0] += dt
        try:
            run(engine, command)
        except ValueRouteError:
            continue
        if command[0] == "submit":
            spec = command[1][0]
            submitted.setdefault(spec.id, spec)
    return engine, clock, submitted


def restored(data: dict[str, Any], original: Engine, clock: list[float]) -> Engine:
    """A fresh engine of the same configuration filled from ``data`` (through strict JSON)."""
    fresh = make_engine(lambda: clock[0])
    fresh._rules = original._rules  # configuration comes from the host, not the snapshot
    restore(json.loads(json.dumps(data, allow_nan=False)), fresh)
    return fresh


def remembered(engine: Engine) -> Iterator[Any]:
    yield from engine._tasks.values()
    yield from engine._closed.values()


# ---------------------------------------------------------------------- exact content


@given(steps, steps)
def test_a_restored_engine_keeps_each_tasks_submitted_content_exactly(
    before: list[tuple[float, Command]], after: list[tuple[float, Command]]
) -> None:
    original, clock, submitted = drive(before)
    copy_ = restored(snapshot(original), original, clock)
    copy_._check()
    assert copy_.digest() == original.digest()
    for task in remembered(original):
        twin = copy_._tasks.get(task.id) or copy_._closed[task.id]
        # Exact: the same values of the same types (True is not 1, 600 is not 600.0).
        assert repr(twin.fingerprint) == repr(task.fingerprint)
        assert twin.fingerprint == original._fingerprint(submitted[task.id])
    # Resubmissions after the restore are answered as by the original engine.
    for dt, command in after:
        clock[0] += dt
        outcomes = []
        for engine in (original, copy_):
            try:
                run(engine, command)
                outcomes.append("ok")
            except ValueRouteError as exc:
                outcomes.append(type(exc).__name__)
        assert outcomes[0] == outcomes[1], command
        assert copy_.digest() == original.digest(), command
    copy_._check()


def test_resubmitting_after_a_restore_is_idempotent_and_other_content_is_refused() -> None:
    clock = [START]
    original = make_engine(lambda: clock[0])
    original.set_rules(parse_rules(RULES).compile())
    first = TaskSpec(id="t1", value=2.0, attributes={"amount": 600}, created=START - 5)
    second = TaskSpec(id="t2", calendar="berlin", due_in=600.0, preferred_agents=["ann"])
    original.submit(first)
    original.submit(second)
    copy_ = restored(snapshot(original), original, clock)
    # The rule raised t1's priority and value: its fields no longer say what was submitted.
    assert copy_.get("t1").priority == 2
    assert copy_.submit(first) is copy_.get("t1")
    assert copy_.submit(second) is copy_.get("t2")
    with pytest.raises(DuplicateTaskError):
        copy_.submit(first.model_copy(update={"created": None}))
    with pytest.raises(DuplicateTaskError):
        copy_.submit(first.model_copy(update={"attributes": {"amount": 600.5}}))
    with pytest.raises(DuplicateTaskError):
        copy_.submit(second.model_copy(update={"preferred_agents": ("bob",)}))


def test_a_plain_task_is_written_as_its_id_seq_creation_state_and_index() -> None:
    clock = [START]
    engine = make_engine(lambda: clock[0])
    engine.submit(TaskSpec(id="plain"))
    engine.submit(TaskSpec(id="valued", value=3.0, skills={"billing": 1}))
    records = {r["id"]: r for r in snapshot(engine)["engine"]["tasks"]}
    assert sorted(records["plain"]) == ["created", "id", "index", "seq", "state"]
    assert sorted(records["valued"]) == [
        "created",
        "id",
        "index",
        "seq",
        "skills",
        "state",
        "value",
    ]


def test_the_snapshot_layout_is_version_2() -> None:
    data = snapshot(make_engine(lambda: START))
    assert (data["format"], data["version"], SNAPSHOT_VERSION) == ("valueroute-snapshot", 2, 2)


# ---------------------------------------------------------------------- version 1


_V1_DEFAULTS: dict[str, Any] = {
    "type": "task",
    "channel": "voice",
    "value": 0.0,
    "priority": 0,
    "due": None,
    "skills": {},
    "department": None,
    "process": None,
    "attributes": {},
    "version": 0,
    "ramp": None,
    "prefer": None,
    "last_agent": None,
    "requires": None,
}


def as_version_1(data: dict[str, Any], submitted: dict[str, TaskSpec]) -> dict[str, Any]:
    """The layout version 1 wrote: every field of each task and its whole submitted spec."""
    old = copy.deepcopy(data)
    old["version"] = 1
    for record in old["engine"]["tasks"] + old["engine"]["closed"]:
        record.pop("submitted", None)
        for name, default in _V1_DEFAULTS.items():
            record.setdefault(name, default)
        record["spec"] = submitted[record["id"]].model_dump(mode="json")
    return old


@given(steps)
def test_a_version_1_snapshot_is_still_restored(drawn: list[tuple[float, Command]]) -> None:
    original, clock, submitted = drive(drawn)
    copy_ = restored(as_version_1(snapshot(original), submitted), original, clock)
    copy_._check()
    assert copy_.digest() == original.digest()
    for task in remembered(original):
        twin = copy_._tasks.get(task.id) or copy_._closed[task.id]
        assert twin.fingerprint == task.fingerprint


def test_another_version_is_refused_by_number() -> None:
    data = snapshot(make_engine(lambda: START))
    data["version"] = 3
    with pytest.raises(InvalidInputError, match=r"version 3 .*expected 'valueroute-snapshot' ver"):
        restore(data, make_engine(lambda: START))


# ---------------------------------------------------------------------- refused content


def busy() -> tuple[dict[str, Any], Callable[[], Engine]]:
    """A snapshot with queued, offered, assigned, deferred and closed tasks, and a fresh engine."""
    clock = [START]
    engine = make_engine(lambda: clock[0])
    engine.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"billing": 3}), ready=True)
    engine.add_agent(AgentSpec(id="cy", skills={"billing": 3}), ready=False)
    for number in range(6):
        clock[0] += 1.0
        engine.submit(TaskSpec(id=f"t{number}", value=number, skills={"billing": 1}))
    engine.accept("t0")
    engine.reject("t1")
    queued = [task.id for task in engine.tasklist]
    engine.defer(queued[0], clock[0] + 100)
    engine.cancel(queued[1])
    states = sorted(task.state.value for task in engine._tasks.values())
    assert states == ["assigned", "deferred", "offered", "queued", "queued"], states
    data = json.loads(json.dumps(snapshot(engine), allow_nan=False))
    return data, lambda: make_engine(lambda: clock[0])


def tasks_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in data["engine"]["tasks"]}


def queued_of(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in data["engine"]["tasks"] if r["state"] == "queued")


def set_field(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        queued_of(data)[field] = value

    return change


def duplicate_task(data: dict[str, Any]) -> None:
    data["engine"]["tasks"].append(dict(queued_of(data)))


def shared_seq(data: dict[str, Any]) -> None:
    records = [r for r in data["engine"]["tasks"] if r["state"] == "queued"]
    records[1]["seq"] = records[0]["seq"]


def seq_past_next(data: dict[str, Any]) -> None:
    queued_of(data)["seq"] = data["tasklist"]["next_seq"]


def drop_index(data: dict[str, Any]) -> None:
    del queued_of(data)["index"]


def index_on_held_task(data: dict[str, Any]) -> None:
    held = next(r for r in data["engine"]["tasks"] if r["state"] != "queued")
    held["index"] = [0.0, 0.0, "inf"]


def order_twice(data: dict[str, Any]) -> None:
    data["tasklist"]["order"].append(data["tasklist"]["order"][0])


def order_unknown(data: dict[str, Any]) -> None:
    data["tasklist"]["order"][0] = "nobody"


def order_short(data: dict[str, Any]) -> None:
    data["tasklist"]["order"].pop()


def breakpoint_past(data: dict[str, Any]) -> None:
    queued_of(data)["index"][2] = data["tasklist"]["now"] - 1.0


def nan_base(data: dict[str, Any]) -> None:
    queued_of(data)["index"][0] = float("nan")


def closed_task_open(data: dict[str, Any]) -> None:
    data["engine"]["closed"][0]["state"] = "queued"


def held_without_holder(data: dict[str, Any]) -> None:
    data["engine"]["holder"].popitem()


def offer_to_another(data: dict[str, Any]) -> None:
    offer = data["engine"]["offers"][0]
    offer[1] = "ann" if offer[1] == "bob" else "bob"


def deferral_of_queued(data: dict[str, Any]) -> None:
    data["engine"]["deferred_until"][queued_of(data)["id"]] = 1e12


def cooldown_of_closed(data: dict[str, Any]) -> None:
    data["engine"]["cooldown"].append([data["engine"]["closed"][0]["id"], "ann", 1e12])


def load_without_tasks(data: dict[str, Any]) -> None:
    for agent in data["pool"]["agents"]:
        if not any(agent["load"].values()):
            agent["load"] = {"voice": 1}
            return
    raise AssertionError("every agent holds a task")


def queue_wait_of_unknown_task(data: dict[str, Any]) -> None:
    data["engine"].setdefault("in_queue_since", {})["ghost"] = [START, 1e12]


def bad_submitted(data: dict[str, Any]) -> None:
    queued_of(data)["submitted"] = [10, [12, "x"]]


def bad_submitted_float(data: dict[str, Any]) -> None:
    queued_of(data)["submitted"] = [10, [2, {"float": "huge"}]]


CONTENT = {
    "seq as text": set_field("seq", "first"),
    "negative seq": set_field("seq", -1),
    "seq as a float": set_field("seq", 1.0),
    "created as text": set_field("created", "now"),
    "value as a boolean": set_field("value", True),
    "value not finite": set_field("value", "inf"),
    "priority as a float": set_field("priority", 1.5),
    "unknown state": set_field("state", "lost"),
    "type not text": set_field("type", 7),
    "empty channel": set_field("channel", ""),
    "skills as a list": set_field("skills", ["billing"]),
    "attributes holding a list": set_field("attributes", {"tags": ["a"]}),
    "prefer as text": set_field("prefer", "ann"),
    "version as text": set_field("version", "2"),
    "department not text": set_field("department", 3),
    "task listed twice": duplicate_task,
    "two tasks with one seq": shared_seq,
    "seq at the next number": seq_past_next,
    "queued task without index": drop_index,
    "held task with an index": index_on_held_task,
    "order names a task twice": order_twice,
    "order names an unknown task": order_unknown,
    "order misses a queued task": order_short,
    "breakpoint before the list's time": breakpoint_past,
    "base not a number": nan_base,
    "closed task in an open state": closed_task_open,
    "held task without holder": held_without_holder,
    "offer to another agent than the holder": offer_to_another,
    "deferral of a queued task": deferral_of_queued,
    "cool-down of a closed task": cooldown_of_closed,
    "load without tasks": load_without_tasks,
    "queue wait of an unknown task": queue_wait_of_unknown_task,
    "submitted position past its length": bad_submitted,
    "submitted float tag unknown": bad_submitted_float,
}


@pytest.mark.parametrize("damage", sorted(CONTENT))
def test_content_that_is_not_a_consistent_state_is_refused(damage: str) -> None:
    data, fresh = busy()
    restore(copy.deepcopy(data), fresh())  # the undamaged snapshot is accepted
    CONTENT[damage](data)
    with pytest.raises(SnapshotContentError, match=r"^snapshot content: "):
        restore(data, fresh())


def test_a_refusal_names_the_task_the_field_and_what_was_expected() -> None:
    data, fresh = busy()
    record = queued_of(data)
    record["priority"] = "high"
    with pytest.raises(SnapshotContentError) as caught:
        restore(data, fresh())
    message = str(caught.value)
    assert f"task '{record['id']}' field priority: got 'high' (expected an integer)" in message


def test_a_version_1_record_still_needs_its_spec() -> None:
    data, fresh = busy()
    records = data["engine"]["tasks"] + data["engine"]["closed"]
    old = as_version_1(data, {r["id"]: TaskSpec(id=r["id"]) for r in records})
    del queued_of(old)["spec"]
    with pytest.raises(SnapshotContentError, match=r"nothing under 'spec' \(expected a field"):
        restore(old, fresh())


# ---------------------------------------------------------------------- the garbage collector


@pytest.mark.parametrize("enabled", [True, False])
def test_restore_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    data, fresh = busy()
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        restore(copy.deepcopy(data), fresh())
        assert gc.isenabled() is enabled
        data["engine"]["tasks"][0]["seq"] = "first"
        with pytest.raises(SnapshotContentError):
            restore(data, fresh())
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# ---------------------------------------------------------------------- through the journal


def test_a_journal_skips_a_checksum_matching_snapshot_whose_tasks_share_a_number(
    tmp_path: Path,
) -> None:
    clock = [START]
    path = tmp_path / "centre.journal"
    durable = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    durable.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=False)
    for number in range(4):
        clock[0] += 1.0
        durable.submit(TaskSpec(id=f"t{number}", value=number))
    position = durable.snapshot()
    clock[0] += 1.0
    durable.submit(TaskSpec(id="late"))
    expected = durable.digest()
    durable.close()
    with closing(sqlite3.connect(path)) as db, db:
        (text,) = db.execute(
            "SELECT data FROM snapshots WHERE position = ?", (position,)
        ).fetchone()
        data = json.loads(text)
        shared_seq(data)
        stored = StoredSnapshot.make(position, json.dumps(data, separators=(",", ":")))
        db.execute(
            "UPDATE snapshots SET data = ?, checksum = ? WHERE position = ?",
            (stored.data, stored.checksum, position),
        )

    reopened = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    assert reopened.report.snapshot is None
    ((skipped, reason),) = reopened.report.snapshots_skipped
    assert skipped == position
    assert "share a submission number" in reason
    assert reopened.digest() == expected
    reopened.close()


# ------------------------------------------------- stepwise relaxation, older layout

STEPWISE_FIXTURE = Path(__file__).parent / "data" / "snapshot_stepwise_relaxation.json"


class SetClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def relaxing_engine(clock: Callable[[], float]) -> Engine:
    return Engine(
        clock=clock,
        offer_timeout=None,
        reject_cooldown=100.0,
        relaxation={
            "claim": [
                RelaxationStep(after=10.0, lower_by=1.0),
                RelaxationStep(after=30.0, lower_by=1.0, drop=("fr",)),
            ],
            "chat": ContinuousRelaxation(rate=0.1),
            "*": [RelaxationStep(after=20.0, lower_by=2.0)],
        },
    )


def relaxing_commands(engine: Engine, clock: SetClock) -> None:
    """The commands the fixture's engine ran: tasks in each relaxation step,
    one arriving already old, one offered, one whose requirements were
    replaced after a step, one under continuous relaxation."""
    engine.add_agent(AgentSpec(id="low", skills={"claims": 0.5, "billing": 1.0}))
    engine.add_agent(AgentSpec(id="mid", skills={"claims": 2.0, "fr": 1.0}), ready=True)
    engine.submit(TaskSpec(id="c1", type="claim", skills={"claims": 3, "fr": 2}))
    engine.submit(TaskSpec(id="c2", type="claim", skills={"claims": 4, "fr": 3}, created=-15.0))
    clock.now = 1.0
    engine.submit(TaskSpec(id="o1", type="email", skills={"billing": 3}))
    clock.now = 2.0
    engine.submit(TaskSpec(id="ch1", type="chat", channel="chat", skills={"claims": 3}))
    clock.now = 5.0
    engine.submit(TaskSpec(id="c3", type="claim", skills={"claims": 6, "fr": 4}))
    clock.now = 12.0
    engine.advance()
    clock.now = 16.0
    engine.advance()
    clock.now = 17.0
    engine.update("c3", skills={"claims": 8, "fr": 4})
    clock.now = 18.0
    engine.reject("c1")


def later(engine: Engine, clock: SetClock) -> list[object]:
    """Go on past every remaining change; what each moment shows and tells."""
    heard: list[object] = []
    engine.subscribe(lambda e: heard.append((e.time, e.kind.value, e.task, e.agent, e.data)))
    seen: list[object] = []
    for now in (21.0, 27.0, 30.0, 35.0, 36.0, 60.0):
        clock.now = now
        engine.advance()
        if now == 30.0:
            engine.add_agent(AgentSpec(id="hi", skills={"claims": 1.0}), ready=True)
        if now == 35.0:
            engine.reject("c1")
        seen.append(
            [
                (t.id, t.state.value, dict(t.skills))
                for t in sorted(engine._tasks.values(), key=_seq)
            ]
        )
        seen.append(engine.next_wakeup())
    engine._check()
    return [seen, heard]


def _seq(task: Any) -> int:
    return int(task.seq)


def test_a_snapshot_from_before_stepwise_plans_ran_as_workflows_restores_the_same_engine() -> None:
    """The fixture is what snapshot() wrote for ``relaxing_commands`` when the
    relaxer kept stepwise plans itself (original requirements, steps done,
    next change, relaxation timers), before they ran as workflows. Restored,
    it is the engine the same commands build now: same digest, and the same
    requirements, timers and events from there on."""
    data = json.loads(STEPWISE_FIXTURE.read_text())
    old = data["engine"]["relaxation"]
    assert old["steps_done"] == {"c1": 1, "c2": 2, "c3": 1, "o1": 0}  # the older layout
    assert "relaxing" not in data["engine"]
    built_clock = SetClock()
    built = relaxing_engine(built_clock)
    relaxing_commands(built, built_clock)
    restored_clock = SetClock(18.0)
    restored = relaxing_engine(restored_clock)
    restore(data, restored)
    restored._check()
    assert restored.digest() == built.digest()
    explained = restored.explain("c2")
    assert (explained["relaxation"], explained["relaxation_step"]) == ("claim", 2)
    assert restored.explain("ch1")["relaxation"] is None  # continuous: not a step
    assert later(restored, restored_clock) == later(built, built_clock)


def test_a_snapshot_keeps_a_stepwise_plans_step_and_requirements() -> None:
    clock = SetClock()
    engine = relaxing_engine(clock)
    relaxing_commands(engine, clock)
    data = json.loads(json.dumps(snapshot(engine)))
    assert data["engine"]["relaxing"]["c3"] == ["claim", 1, 15.0, 35.0, {"claims": 8.0, "fr": 4.0}]
    assert set(data["engine"]["relaxation"]["original"]) == {"ch1"}
    again_clock = SetClock(18.0)
    again = relaxing_engine(again_clock)
    restore(data, again)
    assert again.digest() == engine.digest()
    assert later(again, again_clock) == later(engine, clock)


def test_a_snapshot_naming_a_relaxation_plan_the_engine_lacks_is_refused() -> None:
    clock = SetClock()
    engine = relaxing_engine(clock)
    relaxing_commands(engine, clock)
    data = json.loads(json.dumps(snapshot(engine)))
    data["engine"]["relaxing"]["c3"][0] = "letter"
    with pytest.raises(SnapshotContentError, match="relaxation plan for 'letter'"):
        restore(data, relaxing_engine(SetClock(18.0)))


@pytest.mark.parametrize(
    ("position", "damage", "named"),
    [
        (3, 36.0, "step end '36.0'"),
        (3, "soon", "step end 'soon'"),
        (2, "15", "step start '15'"),
        (2, float("nan"), "step start 'nan'"),
        (4, [["claims", 8.0]], "requirements"),
        (4, {"claims": "high"}, "requirements"),
    ],
)
def test_a_relaxing_task_s_step_with_damaged_content_is_refused(
    position: int, damage: object, named: str
) -> None:
    clock = SetClock()
    engine = relaxing_engine(clock)
    relaxing_commands(engine, clock)
    data = json.loads(json.dumps(snapshot(engine)))
    data["engine"]["relaxing"]["c3"][position] = damage
    with pytest.raises(SnapshotContentError, match=re.escape(named)):
        restore(data, relaxing_engine(SetClock(18.0)))
