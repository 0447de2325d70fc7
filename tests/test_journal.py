"""The journal: replay, snapshots, sync policies, corruption and the event export.

The reference for every state is a plain :class:`Engine` driven directly by
the commands that succeeded, with the same clock readings: a journal is
right when the engine it rebuilds has the same digest as that reference.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from valueroute import AgentSpec, Engine, RelaxationStep, TaskSpec
from valueroute._snapshot import restore, snapshot
from valueroute.agents import RoundRobin
from valueroute.errors import InvalidInputError, PolicyError, ValueRouteError
from valueroute.events import Event, EventKind
from valueroute.journal import (
    DurableEngine,
    JournalCorruptError,
    JournalFormatError,
    JournalStateError,
    Record,
    SQLiteStore,
    StoredSnapshot,
    export_events,
    import_events,
)
from valueroute.pgstore import PostgresStore
from valueroute.rules import parse_rules
from valueroute.scoring import Segment, policy_by_name

RULES = """
name = "test rules"
version = "1"

[attributes]
amount = "number"

[prioritisation]
mode = "all"

[[prioritisation.rules]]
name = "big"
when = { field = "attributes.amount", op = ">=", value = 500 }
then = { add_priority = 2, scale_value = 1.5 }

[[prioritisation.rules]]
name = "waited"
when = { field = "age", op = ">=", value = 40 }
then = { add_priority = 1 }
"""

TASKS = [f"t{i}" for i in range(6)]
AGENTS = ["a0", "a1", "a2"]


def make_engine(clock: Callable[[], float]) -> Engine:
    """Every timer kind is live: offers time out, wrap-ups, TTLs, relaxation, cool-downs."""
    return Engine(
        clock=clock,
        offer_timeout=30.0,
        reject_cooldown=10.0,
        max_offers=4,
        wrap_up={"claim": 5.0, "*": 0.0},
        time_to_live=400.0,
        relaxation=[RelaxationStep(after=25.0, lower_by=1.0)],
        agent_selection=RoundRobin(),
        closed_memory=3,
    )


# ---------------------------------------------------------------------- commands


task_specs = st.builds(
    lambda task, kind, channel, value, priority, due, level, amount, created: TaskSpec(
        id=task,
        type=kind,
        channel=channel,
        value=value,
        priority=priority,
        due=due,
        created=created,
        skills={"billing": level},
        attributes={"amount": amount},
    ),
    st.sampled_from(TASKS),
    st.sampled_from(["claim", "chat"]),
    st.sampled_from(["voice", "chat"]),
    st.floats(0, 1000, allow_nan=False) | st.sampled_from([0.1, 1 / 3, 2e-308, 5e-324]),
    st.integers(-3, 3),
    st.none() | st.floats(0, 500, allow_nan=False),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from([0, 100, 500.5, 1e6]),
    st.none() | st.just(0.5),
)
agent_specs = st.builds(
    lambda agent, level, chats: AgentSpec(
        id=agent, skills={"billing": level}, capacity={"voice": 1, "chat": chats}
    ),
    st.sampled_from(AGENTS),
    st.sampled_from([0.0, 1.0, 3.0]),
    st.integers(1, 2),
)
task_ids = st.sampled_from(TASKS)
agent_ids = st.sampled_from(AGENTS)

Command = tuple[str, tuple[Any, ...], dict[str, Any]]

commands: st.SearchStrategy[Command] = st.one_of(
    st.tuples(st.just("submit"), st.tuples(task_specs), st.just({})),
    st.tuples(
        st.just("add_agent"),
        st.tuples(agent_specs),
        st.fixed_dictionaries({"ready": st.booleans()}),
    ),
    st.tuples(
        st.sampled_from(["accept", "reject", "revoke", "cancel", "hold", "resume", "end_wrap_up"]),
        st.tuples(task_ids),
        st.just({}),
    ),
    st.tuples(
        st.just("complete"),
        st.tuples(task_ids),
        st.fixed_dictionaries({"wrap_up": st.none() | st.sampled_from([0.0, 8.0])}),
    ),
    st.tuples(st.just("defer"), st.tuples(task_ids, st.floats(-5, 60)), st.just({})),
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
        st.fixed_dictionaries(
            {"skills": st.none() | st.just({"billing": 0.0}), "keep_age": st.booleans()}
        ),
    ),
    st.tuples(st.just("remove_agent"), st.tuples(agent_ids), st.just({})),
    st.tuples(
        st.just("set_agent_state"),
        st.tuples(agent_ids, st.sampled_from(["ready", "not_ready", "offline", "wrap_up"])),
        st.just({}),
    ),
    st.tuples(st.just("next_task"), st.tuples(agent_ids), st.just({})),
    st.tuples(st.just("advance"), st.just(()), st.just({})),
    st.tuples(
        st.just("set_policy"), st.sampled_from([("fifo",), ("strict_priority",)]), st.just({})
    ),
    st.tuples(
        st.just("set_policy"),
        st.just(("aging_priority",)),
        st.fixed_dictionaries({"seconds_per_point": st.sampled_from([7.0, 30.0])}),
    ),
    st.tuples(st.just("set_rules"), st.sampled_from([(RULES,), (None,)]), st.just({})),
)
steps = st.lists(st.tuples(st.floats(0, 20), commands), max_size=40)


# Every drawn sequence starts from a busy centre, so that most drawn commands
# act on tasks and agents that exist (offers, cool-downs, wrap-ups, timers).
SETUP: list[tuple[float, Command]] = [
    (
        1.0,
        (
            "add_agent",
            (AgentSpec(id="a0", skills={"billing": 3}, capacity={"voice": 1, "chat": 2}),),
            {"ready": True},
        ),
    ),
    (1.0, ("add_agent", (AgentSpec(id="a1", skills={"billing": 1}),), {"ready": True})),
    (1.0, ("set_rules", (RULES,), {})),
    *[
        (
            0.5,
            (
                "submit",
                (
                    TaskSpec(
                        id=t,
                        type=("claim", "chat")[i % 2],
                        channel=("voice", "chat")[i % 2],
                        value=i / 3,
                        skills={"billing": float(i % 3)},
                        attributes={"amount": 300 * i},
                    ),
                ),
                {},
            ),
        )
        for i, t in enumerate(TASKS[:4])
    ],
    (1.0, ("accept", ("t0",), {})),
    (12.0, ("advance", (), {})),
]


def relative(command: Command, now: float) -> Command:
    """Defer takes an absolute time: make the drawn offset relative to the clock."""
    name, args, kwargs = command
    if name == "defer":
        return name, (args[0], now + args[1]), kwargs
    return command


def run_plain(engine: Engine, command: Command) -> None:
    """The reference: the engine's own methods with configuration objects built here."""
    name, args, kwargs = command
    if name == "set_policy":
        engine.set_policy(policy_by_name(args[0], **kwargs))
    elif name == "set_rules":
        engine.set_rules(None if args[0] is None else parse_rules(args[0]).compile())
    else:
        getattr(engine, name)(*args, **kwargs)


class Run:
    """One drawn sequence run through a durable engine and a reference engine side by side."""

    def __init__(self, durable: DurableEngine, clock: list[float]) -> None:
        self.durable = durable
        self.clock = clock
        self.reference_clock = [0.0]
        self.reference = make_engine(lambda: self.reference_clock[0])
        self.digests = [self.reference.digest()]
        self.applied: list[tuple[float, Command]] = []

    def step(self, dt: float, command: Command) -> None:
        self.clock[0] += dt
        command = relative(command, self.clock[0])
        name, args, kwargs = command
        try:
            getattr(self.durable, name)(*args, **kwargs)
        except ValueRouteError:
            return
        self.reference_clock[0] = self.clock[0]
        run_plain(self.reference, command)
        self.applied.append((self.clock[0], command))
        self.digests.append(self.reference.digest())
        assert self.durable.digest() == self.digests[-1], command


class MemoryStore:
    """A Store in lists: the protocol needs nothing of SQLite."""

    chained = True

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.stored: list[StoredSnapshot] = []

    def append(self, records: Sequence[Record]) -> None:
        self.records.extend(records)

    def read(self, *, after: int) -> Iterator[Record]:
        return iter([r for r in self.records if r.position > after])

    def write_snapshot(self, snapshot: StoredSnapshot) -> None:
        self.stored.append(snapshot)

    def snapshots(self) -> Iterator[StoredSnapshot]:
        return iter(sorted(self.stored, key=lambda s: -s.position))

    def truncate(self, *, through: int) -> int:
        before = len(self.records)
        self.records = [r for r in self.records if r.position > through]
        self.stored = [s for s in self.stored if s.position >= through]
        return before - len(self.records)

    def quarantine(self, *, after: int, reason: str) -> int:
        before = len(self.records)
        self.records = [r for r in self.records if r.position <= after]
        return before - len(self.records)

    def check(self) -> str | None:
        return None

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------- replay and snapshots


@given(steps, st.integers(0, 40))
def test_replay_and_snapshot_recovery_reproduce_the_reference_digest(
    drawn: list[tuple[float, Command]], snapshot_at: int
) -> None:
    store = MemoryStore()
    clock = [0.0]
    durable = DurableEngine.open(store, make_engine, sync="none", clock=lambda: clock[0])
    run = Run(durable, clock)
    for index, (dt, command) in enumerate(SETUP + drawn):
        if index == len(SETUP) + snapshot_at:
            durable.snapshot()
        run.step(dt, command)
    durable.close()
    assert len(store.records) == len(run.applied)

    replayed = DurableEngine.open(store, make_engine, clock=lambda: clock[0])
    assert replayed.digest() == run.digests[-1]
    assert replayed.report.replayed + (replayed.report.snapshot or 0) == len(run.applied)

    full = MemoryStore()
    full.records = list(store.records)
    from_scratch = DurableEngine.open(full, make_engine, clock=lambda: clock[0])
    assert from_scratch.report.snapshot is None
    assert from_scratch.digest() == run.digests[-1]


@given(steps, steps)
def test_snapshot_then_restore_gives_the_same_digest_and_the_same_future(
    before: list[tuple[float, Command]], after: list[tuple[float, Command]]
) -> None:
    clock = [0.0]
    original = make_engine(lambda: clock[0])
    specs: dict[str, TaskSpec] = {}
    for dt, command in SETUP + before:
        clock[0] += dt
        command = relative(command, clock[0])
        try:
            run_plain(original, command)
        except ValueRouteError:
            continue
        if command[0] == "submit":
            specs.setdefault(command[1][0].id, command[1][0])
    data = json.loads(json.dumps(snapshot(original, specs=specs), allow_nan=False))
    copy = make_engine(lambda: clock[0])
    copy._rules = original._rules  # configuration comes from the host, not the snapshot
    copy._policy = original._policy
    copy._list._policy = original._list.policy
    restore(data, copy)
    copy._check()
    assert copy.digest() == original.digest()
    for dt, command in after:
        clock[0] += dt
        command = relative(command, clock[0])
        outcomes = []
        for engine in (original, copy):
            try:
                run_plain(engine, command)
                outcomes.append("ok")
            except ValueRouteError as exc:
                outcomes.append(type(exc).__name__)
        assert outcomes[0] == outcomes[1], command
        assert copy.digest() == original.digest(), command
    copy._check()


def test_restore_refuses_an_engine_of_another_configuration() -> None:
    clock = [0.0]
    original = make_engine(lambda: clock[0])
    data = snapshot(original)
    other = Engine(clock=lambda: clock[0], offer_timeout=10.0)
    with pytest.raises(InvalidInputError, match="offer_timeout"):
        restore(data, other)


def test_restore_refuses_an_engine_that_already_ran_commands() -> None:
    clock = [0.0]
    data = snapshot(make_engine(lambda: clock[0]))
    used = make_engine(lambda: clock[0])
    used.add_agent(AgentSpec(id="ann"))
    with pytest.raises(InvalidInputError, match="freshly built"):
        restore(data, used)


def test_task_spec_floats_survive_the_json_round_trip() -> None:
    for value in (0.1, 1 / 3, 5e-324, 1.7976931348623157e308, 123456789.123456789):
        # Values and due times are bounded by the model; attributes are not.
        spec = TaskSpec(
            id="t", value=min(value, 1e15), due=min(value, 1e12), attributes={"x": value, "n": 3}
        )
        back = TaskSpec.model_validate(json.loads(json.dumps(spec.model_dump(mode="json"))))
        assert back == spec
        assert type(back.attributes["n"]) is int


# ---------------------------------------------------------------------- both stores


class Journal:
    """One journal under test, in SQLite or PostgreSQL, with direct access for damage.

    ``target`` is what :meth:`DurableEngine.open` takes to write the journal;
    :meth:`reader` opens it beside a writer that is still open (a second
    SQLite connection, or a PostgreSQL store that follows without leading);
    :meth:`sql` runs a statement on the underlying tables as a careless hand
    or a failing disk would, ``{records}``/``{snapshots}`` naming the tables
    and ``?`` the parameters.
    """

    def __init__(self, kind: str, target: Path | str) -> None:
        self.kind = kind
        self.target = target

    def reader(self) -> Path | PostgresStore:
        if isinstance(self.target, Path):
            return self.target
        return PostgresStore(self.target, lead=False)

    def sql(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        if isinstance(self.target, Path):
            text = statement.format(records="records", snapshots="snapshots")
            with closing(sqlite3.connect(self.target)) as db, db:
                return list(db.execute(text, params))
        text = statement.format(records="valueroute_records", snapshots="valueroute_snapshots")
        with psycopg.connect(self.target, autocommit=True) as conn:
            cursor = conn.execute(text.replace("?", "%s").encode(), params)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


@pytest.fixture(params=["sqlite", "postgres"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Journal:
    if request.param == "sqlite":
        return Journal("sqlite", tmp_path / "routing.journal")
    return Journal("postgres", request.getfixturevalue("postgres_url"))


# ---------------------------------------------------------------------- SQLite files


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "routing.journal"


def scripted(durable: DurableEngine, clock: list[float], count: int) -> Run:
    """A fixed busy sequence: agents, tasks offered, accepted, completed, refused."""
    run = Run(durable, clock)
    run.step(1.0, ("add_agent", (AgentSpec(id="a0", skills={"billing": 3}),), {"ready": True}))
    run.step(1.0, ("add_agent", (AgentSpec(id="a1", skills={"billing": 1}),), {"ready": True}))
    for i in range(count):
        task = TASKS[i % len(TASKS)]
        run.step(
            0.5, ("submit", (TaskSpec(id=f"{task}-{i}", skills={"billing": 1}, value=i / 7),), {})
        )
        run.step(0.5, ("next_task", ("a0",), {}))
        offers = [t.id for t in durable.engine.tasks_of("a0") if t.state.value == "offered"]
        if offers and i % 3:
            run.step(0.5, ("accept", (offers[0],), {}))
            run.step(2.0, ("complete", (offers[0],), {"wrap_up": 0.0}))
        elif offers:
            run.step(0.5, ("reject", (offers[0],), {}))
        run.step(0.1, ("advance", (), {}))
    return run


def test_every_command_is_durable_before_it_returns(journal: Journal) -> None:
    clock = [0.0]
    positions: list[int] = []
    durable = DurableEngine.open(
        journal.target, make_engine, clock=lambda: clock[0], on_durable=positions.append
    )
    run = scripted(durable, clock, 5)
    assert durable.durable_position == durable.position == len(run.applied)
    assert positions == list(range(1, len(run.applied) + 1))
    # A second reader sees every acknowledged command without any flush or close.
    reader = DurableEngine.open(journal.reader(), make_engine, clock=lambda: clock[0])
    assert reader.digest() == run.digests[-1]
    reader.close()
    durable.close()


def test_group_commit_loses_only_unacknowledged_commands(journal: Journal) -> None:
    clock = [0.0]
    acknowledged: list[int] = []
    durable = DurableEngine.open(
        journal.target,
        make_engine,
        sync="group",
        group_size=4,
        group_seconds=3600.0,
        clock=lambda: clock[0],
        on_durable=acknowledged.append,
    )
    run = Run(durable, clock)
    run.step(1.0, ("add_agent", (AgentSpec(id="a0"),), {"ready": True}))
    for i in range(2):
        run.step(1.0, ("submit", (TaskSpec(id=f"t{i}"),), {}))
    assert durable.position == 3
    assert durable.durable_position == 0
    assert acknowledged == []
    # A crash now: what another process reads is the state before any of the three.
    crashed = DurableEngine.open(journal.reader(), make_engine, clock=lambda: clock[0])
    assert crashed.report.position == 0
    assert crashed.digest() == run.digests[0]
    crashed.close()
    run.step(1.0, ("submit", (TaskSpec(id="t2"),), {}))
    assert durable.durable_position == 4
    assert acknowledged == [4]
    run.step(1.0, ("advance", (), {}))
    assert durable.flush() == 5
    assert acknowledged == [4, 5]
    crashed = DurableEngine.open(journal.reader(), make_engine, clock=lambda: clock[0])
    assert crashed.digest() == run.digests[5]
    crashed.close()
    durable.close()


def test_group_commit_commits_when_the_oldest_record_has_waited_long_enough(
    journal: Journal,
) -> None:
    clock = [0.0]
    durable = DurableEngine.open(
        journal.target,
        make_engine,
        sync="group",
        group_size=1000,
        group_seconds=0.0,
        clock=lambda: clock[0],
    )
    durable.add_agent(AgentSpec(id="a0"))
    assert durable.durable_position == 1
    durable.close()


def test_no_sync_commits_on_flush_and_close(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, sync="none", clock=lambda: clock[0])
    run = scripted(durable, clock, 4)
    assert durable.durable_position == 0
    durable.close()
    reopened = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert reopened.digest() == run.digests[-1]
    assert reopened.report.replayed == len(run.applied)
    reopened.close()


def test_refused_commands_are_not_journaled_and_leave_no_trace(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    run = Run(durable, clock)
    run.step(1.0, ("submit", (TaskSpec(id="t0"),), {}))
    # Defer reads the clock before refusing a time in the past.
    run.step(5.0, ("defer", ("t0", -10.0), {}))
    run.step(1.0, ("remove_agent", ("nobody",), {}))
    assert durable.position == 1
    assert durable.digest() == run.digests[-1]
    with pytest.raises(InvalidInputError, match="policy"):
        durable.set_policy("no_such_policy")
    with pytest.raises(InvalidInputError, match="reason: got object"):
        durable.cancel("t0", reason=object())  # type: ignore[arg-type]
    assert durable.position == 1
    durable.close()


def test_a_failure_outside_the_error_tree_stops_further_commands(journal: Journal) -> None:
    clock = [0.0]

    def explode(candidates: Any, task: Any, now: float) -> Any:
        raise ZeroDivisionError("strategy bug")

    def factory(engine_clock: Callable[[], float]) -> Engine:
        return Engine(clock=engine_clock, agent_selection=explode)

    durable = DurableEngine.open(journal.target, factory, clock=lambda: clock[0])
    durable.add_agent(AgentSpec(id="a0"), ready=True)
    with pytest.raises(ZeroDivisionError):
        durable.submit(TaskSpec(id="t0"))
    with pytest.raises(JournalStateError, match="open the journal again"):
        durable.submit(TaskSpec(id="t1"))
    durable.close()
    reopened = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert reopened.position == 1
    reopened.close()


def test_an_error_after_a_command_took_effect_stops_further_commands(journal: Journal) -> None:
    clock = [0.0]
    broken = [False]

    class Flaky:
        name = "flaky"

        def segment(self, task: Any, now: float) -> Segment:
            return Segment(math.nan if broken[0] else 0.0, 0.0)

    def factory(engine_clock: Callable[[], float]) -> Engine:
        return Engine(clock=engine_clock, policy=Flaky())

    durable = DurableEngine.open(journal.target, factory, clock=lambda: clock[0])
    durable.add_agent(AgentSpec(id="a0"), ready=True)
    durable.submit(TaskSpec(id="t0"))
    broken[0] = True
    # The rejection takes effect, then the task cannot be scored: a
    # PolicyError, yet not a refusal the journal could leave out.
    with pytest.raises(PolicyError):
        durable.reject("t0")
    with pytest.raises(JournalStateError, match="after taking effect"):
        durable.submit(TaskSpec(id="t1"))
    durable.close()


def test_compaction_keeps_recovery_exact_and_drops_old_records(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    run = scripted(durable, clock, 6)
    first = durable.snapshot()
    run.step(1.0, ("submit", (TaskSpec(id="late", skills={"billing": 1}),), {}))
    dropped = durable.compact(keep=2)
    assert dropped == first
    run.step(1.0, ("advance", (), {}))
    durable.close()
    reopened = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert reopened.report.snapshot == len(run.applied) - 1
    assert reopened.report.replayed == 1
    assert reopened.digest() == run.digests[-1]
    reopened.close()


def test_a_damaged_newest_snapshot_falls_back_to_the_older_one(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    run = scripted(durable, clock, 3)
    older = durable.snapshot()
    run.step(1.0, ("submit", (TaskSpec(id="late"),), {}))
    newer = durable.compact(keep=2) and durable.position
    durable.close()
    journal.sql(
        "UPDATE {snapshots} SET data = replace(data, 'late', 'lame') WHERE position = ?", newer
    )
    reopened = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert reopened.report.snapshot == older
    assert reopened.report.snapshots_skipped == [(newer, "checksum mismatch")]
    assert not reopened.report.clean
    assert reopened.digest() == run.digests[-1]
    reopened.close()


def test_a_snapshot_of_another_configuration_is_refused(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    scripted(durable, clock, 2)
    durable.compact(keep=1)
    durable.close()

    def other(engine_clock: Callable[[], float]) -> Engine:
        return Engine(clock=engine_clock, offer_timeout=5.0)

    with pytest.raises(JournalFormatError, match="offer_timeout"):
        DurableEngine.open(journal.target, other, clock=lambda: clock[0])


# ---------------------------------------------------------------------- corruption


def corrupt_record(journal: Journal, position: int) -> None:
    journal.sql("UPDATE {records} SET arguments = arguments || ' ' WHERE position = ?", position)


def test_a_corrupt_record_drops_it_and_the_tail_and_keeps_the_rest(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    run = scripted(durable, clock, 6)
    total = len(run.applied)
    durable.close()
    corrupt_record(journal, 7)

    with pytest.raises(JournalCorruptError, match="record 7") as refused:
        DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0], repair=False)
    assert refused.value.report is not None
    assert refused.value.report.replayed == 6
    assert journal.sql("SELECT count(*) FROM {records}") == [(total,)]

    recovered = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    report = recovered.report
    assert (report.replayed, report.dropped, report.dropped_from) == (6, total - 6, 7)
    assert report.reason == "checksum mismatch in record 7"
    assert recovered.digest() == run.digests[6]
    assert isinstance(recovered.store, SQLiteStore | PostgresStore)
    assert [p for p, _ in recovered.store.quarantined()] == list(range(7, total + 1))
    recovered.submit(TaskSpec(id="after"))
    recovered.close()
    again = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert again.report.clean
    assert again.position == 7
    again.close()


def test_a_gap_in_positions_is_reported_as_damage(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    run = scripted(durable, clock, 3)
    durable.close()
    journal.sql("DELETE FROM {records} WHERE position = 4")
    recovered = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert recovered.report.reason == "record 5 follows 3 (expected 4)"
    assert recovered.digest() == run.digests[3]
    recovered.close()


@pytest.mark.parametrize("seed", range(12))
def test_random_damage_gives_a_clear_error_or_an_exact_prefix(path: Path, seed: int) -> None:
    clock = [0.0]
    durable = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    run = scripted(durable, clock, 25)
    durable.close()
    rng = np.random.default_rng(seed)
    data = bytearray(path.read_bytes())
    if seed % 3 == 0:
        del data[int(rng.integers(len(data) // 4, len(data))) :]
    else:
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(100, len(data)))
            data[at] ^= 1 << int(rng.integers(8))
    path.write_bytes(bytes(data))
    try:
        recovered = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    except (JournalCorruptError, JournalFormatError) as exc:
        message = str(exc)
        assert "journal" in message or "SQLite" in message, message
        return
    position = recovered.report.position
    assert recovered.digest() == run.digests[position]
    recovered.submit(TaskSpec(id="still routing", skills={"billing": 1}))
    recovered.close()
    reopened = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    assert reopened.position == position + 1
    reopened.close()


def test_an_empty_file_starts_a_new_journal(path: Path) -> None:
    path.write_bytes(b"")
    durable = DurableEngine.open(path, make_engine, clock=lambda: 1.0)
    assert "the file was empty" in str(durable.report)
    durable.close()


def test_a_file_that_is_not_sqlite_is_refused_untouched(path: Path) -> None:
    path.write_bytes(b"task,agent\nt1,ann\n")
    with pytest.raises(JournalFormatError, match="expected a SQLite database"):
        DurableEngine.open(path, make_engine)
    assert path.read_bytes() == b"task,agent\nt1,ann\n"


def test_a_foreign_sqlite_file_is_refused(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(JournalFormatError, match="expected a valueroute journal"):
        DurableEngine.open(path, make_engine)


def test_a_newer_schema_is_refused(path: Path) -> None:
    DurableEngine.open(path, make_engine).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA user_version = 3")
    with pytest.raises(JournalFormatError, match=r"schema version 3 .*newer"):
        DurableEngine.open(path, make_engine)


def test_a_wrong_schema_is_refused(path: Path) -> None:
    DurableEngine.open(path, make_engine).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP TABLE quarantine")
    with pytest.raises(JournalFormatError, match="expected version 1 to 2 with records"):
        DurableEngine.open(path, make_engine)


def test_compacted_records_without_a_usable_snapshot_are_an_error(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    scripted(durable, clock, 3)
    durable.compact(keep=1)
    durable.submit(TaskSpec(id="late"))
    durable.close()
    journal.sql("UPDATE {snapshots} SET checksum = checksum + 1")
    with pytest.raises(JournalCorruptError, match="no snapshot before it"):
        DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert journal.sql("SELECT count(*) FROM {records}") == [(1,)]


def test_rules_and_policy_set_through_the_journal_survive_a_snapshot(journal: Journal) -> None:
    clock = [0.0]
    durable = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    run = Run(durable, clock)
    run.step(1.0, ("set_rules", (RULES,), {}))
    run.step(1.0, ("set_policy", ("aging_priority",), {"seconds_per_point": 7.0}))
    run.step(1.0, ("submit", (TaskSpec(id="big", attributes={"amount": 900}),), {}))
    durable.compact(keep=1)
    run.step(50.0, ("advance", (), {}))
    durable.close()
    reopened = DurableEngine.open(journal.target, make_engine, clock=lambda: clock[0])
    assert reopened.report.snapshot == 3
    assert reopened.digest() == run.digests[-1]
    assert reopened.engine.get("big").priority == 3
    reopened.close()


def test_bad_options_name_the_option(path: Path) -> None:
    with pytest.raises(InvalidInputError, match="sync: got 'sometimes'"):
        DurableEngine.open(path, make_engine, sync="sometimes")
    with pytest.raises(InvalidInputError, match="group_size: got 0"):
        DurableEngine.open(path, make_engine, group_size=0)
    with pytest.raises(InvalidInputError, match="target: got int"):
        DurableEngine.open(3, make_engine)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- event export


def test_events_round_trip_through_json_lines(tmp_path: Path) -> None:
    clock = [0.0]
    events: list[Event] = []
    with tempfile.TemporaryDirectory() as folder:
        durable = DurableEngine.open(Path(folder) / "j", make_engine, clock=lambda: clock[0])
        durable.subscribe(events.append)
        scripted(durable, clock, 4)
        durable.close()
    target = tmp_path / "day.jsonl"
    assert export_events(events, target) == len(events)
    lines = target.read_text().splitlines()
    assert json.loads(lines[0]) == {"schema": "valueroute-events", "version": 1}
    assert import_events(target) == events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert EventKind.task_completed in {e.kind for e in events}


def test_event_import_names_the_bad_line(tmp_path: Path) -> None:
    target = tmp_path / "day.jsonl"
    target.write_text('{"schema": "valueroute-events", "version": 1}\n{"seq": 1}\n')
    with pytest.raises(JournalFormatError, match="line 2"):
        import_events(target)
    target.write_text('{"schema": "valueroute-events", "version": 9}\n')
    with pytest.raises(JournalFormatError, match="version 9"):
        import_events(target)
    target.write_text("")
    with pytest.raises(JournalFormatError, match="line 1"):
        import_events(target)
