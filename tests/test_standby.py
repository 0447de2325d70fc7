"""Standbys in one process against a real server: following, taking over, being fenced.

Each node is a :class:`Standby` with its own connections, as in separate
processes; a "dead" leader is one whose connections are closed without
stepping down, a "paused" one simply stops calling poll. The reference for
every state is a fresh replay of the journal (a follower opened afterwards).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError
from valueroute.events import Event
from valueroute.journal import DurableEngine, JournalFencedError, JournalStateError
from valueroute.pgstore import PostgresStore
from valueroute.standby import Standby
from valueroute.task import TaskState


@pytest.fixture
def database(postgres_url: str) -> str:  # noqa: F811 (the imported fixture)
    """An empty database of this test's own."""
    return postgres_url


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=20.0)


def fresh_replay(url: str, factory: Callable[[Callable[[], float]], Engine] = make_engine) -> str:
    """The digest a new follower rebuilds from the journal as it is now."""
    reader = DurableEngine.open(PostgresStore(url, lead=False), factory, repair=False)
    try:
        return reader.digest()
    finally:
        reader.close()


def node(url: str, name: str, **options: object) -> Standby:
    return Standby(url, make_engine, name=name, sync="every", **options)  # type: ignore[arg-type]


def work(durable: DurableEngine, first: int, count: int) -> None:
    if "a0" not in durable.engine.agents:
        durable.add_agent(AgentSpec(id="a0", capacity={"voice": 1}), ready=True)
    for number in range(first, first + count):
        durable.submit(TaskSpec(id=f"t{number}", value=number % 5))
        for held in durable.engine.tasks_of("a0"):
            if held.state is TaskState.offered:
                durable.accept(held.id)
            elif held.state is TaskState.assigned:
                durable.complete(held.id, wrap_up=0.0)


def test_the_first_node_leads_and_the_second_follows_every_commit(database: str) -> None:
    first, second = node(database, "one"), node(database, "two")
    assert first.poll()
    assert not second.poll()
    assert (first.term, second.term) == (1, None)
    work(first.durable, 0, 10)
    assert second.poll(timeout=2.0) is False
    assert second.position == first.position
    assert second.engine.digest() == first.engine.digest() == fresh_replay(database)
    with pytest.raises(JournalStateError, match="does not lead"):
        second.durable.submit(TaskSpec(id="refused"))
    assert second.position == first.position
    first.close()
    second.close()


def test_a_dead_leader_is_replaced_at_once_without_waiting_for_its_lease(database: str) -> None:
    leader = node(database, "one", lease_seconds=30.0)
    standby = node(database, "two", lease_seconds=30.0)
    leader.poll()
    work(leader.durable, 0, 8)
    acknowledged = leader.position
    # The process dies: its sessions close without stepping down (the lease
    # stays live), and the server frees its advisory lock.
    assert leader.store._conn is not None
    leader.store._conn.close()
    assert leader._listener is not None
    leader._listener.close()
    # The server notices the closed session within moments; the lease has 30 s to run.
    deadline = time.monotonic() + 5.0
    while not standby.poll(timeout=0.1):
        assert time.monotonic() < deadline
    assert standby.term == 2
    # Takeover applied everything acknowledged, then fired what was due (one advance).
    assert standby.position == acknowledged + 1
    assert standby.engine.digest() == fresh_replay(database)
    work(standby.durable, 8, 3)
    assert standby.engine.digest() == fresh_replay(database)
    standby.close()
    leader.close()


def test_a_paused_leader_is_fenced_and_then_follows(database: str) -> None:
    roles: list[str] = []
    old = node(database, "old", lease_seconds=0.5, on_follow=lambda why: roles.append(why))
    # new leads for longer than old did: old, paused, must not get the lead back.
    new = node(
        database, "new", lease_seconds=5.0, on_lead=lambda term: roles.append(f"lead {term}")
    )
    old.poll()
    work(old.durable, 0, 4)
    # old stops calling poll (paused); its lease runs out and new takes over.
    deadline = time.monotonic() + 10
    while not new.poll(timeout=0.1):
        assert time.monotonic() < deadline
    assert roles == ["lead 2"]
    work(new.durable, 4, 3)
    journal_before = fresh_replay(database)
    # old resumes and tries to write: fenced, nothing written.
    with pytest.raises(JournalFencedError):
        old.durable.submit(TaskSpec(id="from the past"))
    assert fresh_replay(database) == journal_before
    assert old.poll(timeout=0.5) is False
    assert len(roles) == 2
    assert "no longer current" in roles[1] or "the database failed" in roles[1]
    old.poll(timeout=0.5)
    assert old.engine.digest() == new.engine.digest() == journal_before
    old.close()
    new.close()


def test_a_follower_catches_up_across_a_compaction(database: str) -> None:
    leader, follower = node(database, "one"), node(database, "two", lead=False)
    leader.poll()
    work(leader.durable, 0, 5)
    follower.poll(timeout=1.0)
    work(leader.durable, 5, 5)
    leader.durable.compact(keep=1)
    work(leader.durable, 10, 2)
    follower.poll(timeout=1.0)
    assert follower.position == leader.position
    assert follower.engine.digest() == leader.engine.digest()
    leader.close()
    follower.close()


def test_a_leader_that_steps_down_hands_over_with_nothing_lost(database: str) -> None:
    first, second = node(database, "one"), node(database, "two")
    first.poll()
    work(first.durable, 0, 5)
    first.step_down()
    assert not first.is_leader
    assert second.poll(timeout=1.0)
    assert first.poll(timeout=0.2) is False
    assert first.engine.digest() == second.engine.digest() == fresh_replay(database)
    first.close()
    second.close()


def test_the_example_kills_its_leader_and_the_standby_takes_over(database: str) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "postgres_standby.py"
    done = subprocess.run(
        [sys.executable, str(example), database],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "standby leads term 2" in done.stdout
    assert "probe is offered" in done.stdout
    # The example's engine: the same configuration in every process.
    replayed = fresh_replay(database, lambda clock: Engine(clock=clock, offer_timeout=60.0))
    assert replayed.startswith(done.stdout.split("digest ")[1].strip())


def test_a_follower_emits_the_leaders_events_with_the_same_sequence_numbers(
    database: str,
) -> None:
    leader, follower = node(database, "one"), node(database, "two", lead=False)
    leader.poll()
    at_leader: list[Event] = []
    at_follower: list[Event] = []
    leader.subscribe(at_leader.append)
    stop = follower.subscribe(at_follower.append)
    work(leader.durable, 0, 6)
    while follower.position < leader.position:
        follower.poll(timeout=1.0)
    assert at_follower == at_leader
    assert at_follower
    stop()
    seen = len(at_follower)
    work(leader.durable, 6, 1)
    while follower.position < leader.position:
        follower.poll(timeout=1.0)
    assert len(at_leader) > seen
    assert len(at_follower) == seen
    leader.close()
    follower.close()


def test_an_offer_that_expired_in_the_gap_times_out_at_takeover(database: str) -> None:
    now = [1000.0]
    leader = node(database, "one", clock=lambda: now[0])
    standby = node(database, "two", clock=lambda: now[0])
    leader.poll()
    leader.durable.add_agent(AgentSpec(id="a0", capacity={"voice": 1}), ready=True)
    offered = leader.durable.submit(TaskSpec(id="call"))
    assert offered.state is TaskState.offered
    standby.poll(timeout=1.0)
    timed_out: list[Event] = []
    standby.subscribe(timed_out.append, kinds=["offer_timed_out"])
    assert leader.store._conn is not None
    leader.store._conn.close()  # the leader dies with the offer open
    now[0] += 45.0  # past the 20 s offer timeout
    deadline = time.monotonic() + 5.0
    while not standby.poll(timeout=0.1):
        assert time.monotonic() < deadline
    assert [(e.kind.value, e.task) for e in timed_out] == [("offer_timed_out", "call")]
    assert standby.engine.digest() == fresh_replay(database)
    standby.close()
    leader.close()


def test_a_follower_waits_for_the_leaders_next_commit_without_touching_its_engine(
    database: str,
) -> None:
    leader = node(database, "leader")
    follower = node(database, "follower")
    try:
        assert leader.poll(timeout=0.0)
        assert leader.lease_renewed_at <= time.monotonic()
        assert not follower.poll(timeout=0.0)
        follower.wait_for_commit(0.2)  # the takeover's own commit, already announced
        start = time.monotonic()
        follower.wait_for_commit(0.3)
        assert time.monotonic() - start >= 0.25  # nothing committed: waited it out
        position = follower.position
        work(leader.durable, 0, 2)
        start = time.monotonic()
        follower.wait_for_commit(5.0)
        assert time.monotonic() - start < 2.0  # woken by the commit's NOTIFY
        assert follower.position == position  # waiting applies nothing ...
        follower.poll(timeout=0.0)
        assert follower.position == leader.position  # ... the next poll does
        assert follower.engine.digest() == leader.engine.digest()
        for wrong in (-1, 4000, True, "1"):
            with pytest.raises(InvalidInputError, match="timeout: got"):
                follower.wait_for_commit(wrong)  # type: ignore[arg-type]
    finally:
        follower.close()
        leader.close()
    with pytest.raises(JournalStateError, match="closed"):
        follower.wait_for_commit(0.0)
