"""The PostgreSQL store against a real server: schema, migrations, fencing, damage.

The journal's own behaviour on both stores is in test_journal.py (parametrised);
these tests cover what only the PostgreSQL store has: numbered migrations and
their version rows, the leadership lease, the term that fences every write,
and damage done to its tables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postgres_support import Cluster, postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from test_journal import SETUP, Command, Run, steps
from test_journal import make_engine as journal_engine
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError
from valueroute.journal import (
    DurableEngine,
    JournalCorruptError,
    JournalFencedError,
    JournalFormatError,
    JournalStateError,
    Record,
)
from valueroute.pgstore import PostgresStore, is_postgres_url, migrations, schema_version
from valueroute.task import TaskState


@pytest.fixture
def database(postgres_url: str) -> str:  # noqa: F811 (the imported fixture)
    """An empty database of this test's own."""
    return postgres_url


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None)


def sql(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement.encode(), params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def busy(durable: DurableEngine, count: int) -> list[str]:
    """Commands on one agent; returns the digest after each position (index 0: empty)."""
    digests = [durable.digest()]

    def done() -> None:
        assert durable.position == len(digests)
        digests.append(durable.digest())

    durable.add_agent(AgentSpec(id="a0", capacity={"voice": 1}), ready=True)
    done()
    for number in range(count):
        durable.submit(TaskSpec(id=f"t{number}", value=number))
        done()
        for held in durable.engine.tasks_of("a0"):
            if held.state is TaskState.offered:
                durable.accept(held.id)
                done()
            elif held.state is TaskState.assigned:
                durable.complete(held.id, wrap_up=0.0)
                done()
    return digests


def records(url: str) -> list[tuple[object, ...]]:
    return sql(url, "SELECT position, term FROM valueroute_records ORDER BY position")


# ---------------------------------------------------------------------- schema


def test_the_shipped_migrations_are_numbered_from_one_without_gaps() -> None:
    found = migrations()
    assert [version for version, _, _ in found] == list(range(1, len(found) + 1))
    assert schema_version() == found[-1][0]
    assert all(name.endswith(".sql") and text.strip() for _, name, text in found)


def test_opening_an_empty_database_applies_every_migration_once(database: str) -> None:
    store = PostgresStore(database)
    assert store.notes == [f"schema migration {name} applied" for _, name, _ in migrations()]
    store.close()
    again = PostgresStore(database)
    assert again.notes == []
    again.close()
    rows = sql(database, "SELECT version, name FROM valueroute_schema ORDER BY version")
    assert rows == [(version, name) for version, name, _ in migrations()]


def test_a_schema_from_the_future_is_refused_and_left_as_it_is(database: str) -> None:
    PostgresStore(database).close()
    future = schema_version() + 1
    sql(database, "INSERT INTO valueroute_schema (version, name) VALUES (%s, 'x')", future)
    with pytest.raises(JournalFormatError, match=rf"schema version {future} .*newer valueroute"):
        DurableEngine.open(database, make_engine)
    assert sql(database, "SELECT max(version) FROM valueroute_schema") == [(future,)]


def test_urls_are_recognised_and_bad_options_are_named(database: str) -> None:
    assert is_postgres_url(database)
    assert not is_postgres_url("routing.journal")
    with pytest.raises(InvalidInputError, match="lease_seconds: got 0"):
        PostgresStore(database, lease_seconds=0)
    with pytest.raises(InvalidInputError, match="connect_timeout: got 0"):
        PostgresStore(database, connect_timeout=0)
    with pytest.raises(InvalidInputError, match="name: got 3"):
        PostgresStore(database, name=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="url: got 5"):
        PostgresStore(5)  # type: ignore[arg-type]
    with pytest.raises(JournalStateError, match="cannot connect to PostgreSQL"):
        PostgresStore(database.replace("port=", "port=1"), connect_timeout=2)


def test_the_url_password_is_not_shown_in_errors() -> None:
    with pytest.raises(JournalStateError) as refused:
        PostgresStore("postgresql://ann:s3cret@127.0.0.1:1/db", connect_timeout=1)
    assert "s3cret" not in str(refused.value)
    assert "ann@127.0.0.1:1/db" in str(refused.value)


# ---------------------------------------------------------------------- damage


def test_a_record_with_a_bad_checksum_is_quarantined_with_everything_after_it(
    database: str,
) -> None:
    durable = DurableEngine.open(database, make_engine)
    digests = busy(durable, 6)
    total = durable.position
    durable.close()
    sql(database, "UPDATE valueroute_records SET checksum = checksum # 1 WHERE position = 4")
    with pytest.raises(JournalCorruptError, match="checksum mismatch in record 4"):
        DurableEngine.open(database, make_engine, repair=False)
    assert len(records(database)) == total
    recovered = DurableEngine.open(database, make_engine)
    assert (recovered.report.replayed, recovered.report.dropped) == (3, total - 3)
    assert sql(database, "SELECT count(*) FROM valueroute_quarantine") == [(total - 3,)]
    assert recovered.digest() == digests[3]
    recovered.close()


def test_a_missing_record_stops_the_replay_before_it(database: str) -> None:
    durable = DurableEngine.open(database, make_engine)
    digests = busy(durable, 4)
    durable.close()
    sql(database, "DELETE FROM valueroute_records WHERE position = 3")
    with pytest.raises(JournalCorruptError, match=r"record 4 follows 2 \(expected 3\)"):
        DurableEngine.open(database, make_engine, repair=False)
    recovered = DurableEngine.open(database, make_engine)
    assert recovered.report.position == 2
    assert recovered.report.reason == "record 4 follows 2 (expected 3)"
    assert recovered.digest() == digests[2]
    recovered.close()


def test_a_record_rewritten_with_its_own_valid_checksum_breaks_the_chain(
    database: str,
) -> None:
    durable = DurableEngine.open(database, make_engine)
    busy(durable, 4)
    durable.close()
    forged = Record.make(3, 1.0, "submit", '{"spec":{"id":"forged"}}')
    sql(
        database,
        "UPDATE valueroute_records SET time = %s, command = %s, arguments = %s, checksum = %s "
        "WHERE position = 3",
        forged.time,
        forged.command,
        forged.arguments,
        forged.checksum,
    )
    with pytest.raises(JournalCorruptError, match="checksum mismatch in record 3"):
        DurableEngine.open(database, make_engine, repair=False)


def test_a_missing_lease_row_is_a_clear_error(database: str) -> None:
    PostgresStore(database).close()
    sql(database, "DELETE FROM valueroute_lease")
    with pytest.raises(JournalCorruptError, match="lease row is missing"):
        PostgresStore(database)


# ---------------------------------------------------------------------- leadership and fencing


def test_a_second_leader_is_refused_while_the_first_lives(database: str) -> None:
    first = DurableEngine.open(database, make_engine)
    with pytest.raises(JournalStateError, match="another process leads this journal"):
        DurableEngine.open(database, make_engine)
    first.close()
    # Closing stepped down: the lead is free at once, with the next term.
    second = PostgresStore(database)
    assert second.term == 2
    second.close()


def test_a_follower_refuses_commands_and_changes_nothing(database: str) -> None:
    leader = DurableEngine.open(database, make_engine)
    busy(leader, 3)
    follower = DurableEngine.open(PostgresStore(database, lead=False), make_engine)
    before = follower.digest()
    with pytest.raises(JournalStateError, match="follows the journal and does not lead"):
        follower.submit(TaskSpec(id="sneaky"))
    assert follower.digest() == before
    assert follower.position == leader.position
    with pytest.raises(JournalFencedError):
        follower.store.append([Record.make(99, 0.0, "advance", "{}")])
    leader.submit(TaskSpec(id="later"))
    assert follower.catch_up() == 1
    assert follower.digest() == leader.digest()
    leader.close()
    follower.close()


def test_a_leader_whose_term_was_taken_writes_nothing_and_knows_it(database: str) -> None:
    leader = DurableEngine.open(database, make_engine)
    busy(leader, 2)
    written = records(database)
    assert {term for _, term in written} == {1}
    sql(database, "UPDATE valueroute_lease SET term = term + 1")
    with pytest.raises(JournalFencedError, match="term 1 is no longer current"):
        leader.submit(TaskSpec(id="stale"))
    assert records(database) == written
    assert not leader.store.is_leader  # type: ignore[attr-defined]
    with pytest.raises(JournalStateError):
        leader.submit(TaskSpec(id="again"))
    leader.close()


def test_an_expired_lease_is_taken_over_and_the_paused_leader_is_fenced(
    database: str,
) -> None:
    old = PostgresStore(database, lease_seconds=0.3, name="old")
    new = PostgresStore(database, lead=False, lease_seconds=0.3, name="new")
    assert not new.try_lead()  # the lease is live and its holder's session too
    time.sleep(0.4)
    assert new.try_lead()
    assert (old.term, new.term) == (1, 2)
    lease = new.lease()
    assert (lease.term, lease.holder, lease.expired) == (2, "new", False)
    # The old leader's session was ended: its next write cannot commit.
    with pytest.raises(JournalFencedError):
        old.append([Record.make(1, 0.0, "advance", "{}", 0x76526A31)])
    assert records(database) == []
    assert not old.renew()
    assert old.lost is not None
    new.append([Record.make(1, 0.0, "advance", "{}", 0x76526A31)])
    assert records(database) == [(1, 2)]
    old.close()
    new.close()


def test_a_takeover_waits_for_a_write_in_progress_and_sees_it(database: str) -> None:
    old = PostgresStore(database, lease_seconds=0.2, name="old")
    record = Record.make(1, 0.0, "advance", "{}", 0x76526A31)
    # Hold a write of the old term open: the lease row is locked until it commits.
    writing = old._leading()
    conn = writing.__enter__()
    conn.execute(
        "INSERT INTO valueroute_records VALUES (%s, %s, %s, %s, %s, %s)",
        (record.position, record.time, record.command, record.arguments, record.checksum, 1),
    )
    time.sleep(0.3)
    new = PostgresStore(database, lead=False, lease_seconds=0.2, name="new")
    outcome: list[bool] = []
    taker = threading.Thread(target=lambda: outcome.append(new.try_lead()))
    taker.start()
    taker.join(timeout=10)
    # The old session was ended (its lease had run out): its write rolled back,
    # so the new term starts from an empty journal and nothing of term 1 follows.
    assert outcome == [True]
    assert new.term == 2
    with pytest.raises(JournalFencedError, match="the database failed"):
        writing.__exit__(None, None, None)
    assert records(database) == []
    old.close()
    new.close()


# ---------------------------------------------------------------------- property: replay


@pytest.fixture(scope="module")
def shared_database(postgres_cluster: Cluster) -> str:  # noqa: F811 (the imported fixture)
    """One database for every example of a property test (emptied before each)."""
    return postgres_cluster.new_database()


def emptied(url: str) -> str:
    PostgresStore(url, lead=False).close()
    sql(
        url,
        "TRUNCATE valueroute_records, valueroute_snapshots, valueroute_quarantine; "
        "UPDATE valueroute_lease SET term = 0, holder = NULL, backend_pid = NULL, "
        "expires_at = '-infinity'",
    )
    return url


@settings(max_examples=25, deadline=None)
@given(steps, st.integers(0, 40), st.sampled_from(["every", "group", "none"]))
def test_any_command_sequence_reopens_from_postgresql_with_the_reference_digest(
    shared_database: str, drawn: list[tuple[float, Command]], snapshot_at: int, sync: str
) -> None:
    url = emptied(shared_database)
    clock = [0.0]
    durable = DurableEngine.open(url, journal_engine, sync=sync, clock=lambda: clock[0])
    run = Run(durable, clock)
    for index, (dt, command) in enumerate(SETUP + drawn):
        if index == len(SETUP) + snapshot_at:
            durable.snapshot()
        run.step(dt, command)
    durable.close()
    assert len(records(url)) == len(run.applied)
    reopened = DurableEngine.open(url, journal_engine, clock=lambda: clock[0])
    assert reopened.digest() == run.digests[-1]
    assert reopened.report.clean
    reopened.close()
