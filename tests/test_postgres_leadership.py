"""Leadership and fencing as a state machine: random takeovers, deaths, expiries and writes.

Three stores share one database. Hypothesis drives them through random
sequences of: try to lead, append a record, let the lease run out, kill a
process (its session closes without stepping down), open a fresh store in
its place. A model says who must lead and which appends must succeed; after
every step the database must agree with it: the lease's term is the
model's, every record was written by the term that held the lead when it
was appended, terms never decrease along the journal, and an append by
anyone but the current leader wrote nothing.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from postgres_support import Cluster, postgres_cluster  # noqa: F401 (fixture)
from valueroute.journal import JournalFencedError, Record
from valueroute.pgstore import PostgresStore

NODES = 3


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement.encode())
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


class Leadership(RuleBasedStateMachine):
    """Stores on one database against a model of who leads."""

    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.stores: list[PostgresStore] = []
        self.term = 0  # the model's current term
        self.leader: int | None = None  # which store holds it, if its session lives
        self.expired = True
        self.written: list[int] = []  # term of each record, in position order

    @initialize()
    def empty_database(self) -> None:
        PostgresStore(self.url, lead=False).close()
        sql(
            self.url,
            "TRUNCATE valueroute_records; UPDATE valueroute_lease SET term = 0, holder = NULL, "
            "backend_pid = NULL, expires_at = '-infinity'",
        )
        self.stores = [
            PostgresStore(self.url, lead=False, lease_seconds=60.0, name=f"n{i}")
            for i in range(NODES)
        ]

    def teardown(self) -> None:
        for store in self.stores:
            store.close()

    @rule(node=st.integers(0, NODES - 1))
    def try_lead(self, node: int) -> None:
        store = self.stores[node]
        believed = store.is_leader
        led = store.try_lead(wait_seconds=2.0)
        if believed:
            # A store that believes it leads is not asked again; only a write tells it.
            assert led
            return
        if self.leader is None or self.expired:
            assert led, "the lead was free (no live holder, or its lease expired)"
            self.term += 1
            self.leader = node
            self.expired = False
            assert store.term == self.term
        else:
            assert not led, "took the lead from a live leader with a live lease"

    @rule(node=st.integers(0, NODES - 1))
    def append(self, node: int) -> None:
        store = self.stores[node]
        position = len(self.written) + 1
        record = Record.make(position, float(position), "advance", "{}")
        current = self.leader == node and store.term == self.term
        if current:
            store.append([record])
            self.written.append(self.term)
            self.expired = False  # each write renews the lease
        elif store.is_leader or node != self.leader:
            with pytest.raises(JournalFencedError):
                store.append([record])
            assert not store.is_leader

    @rule()
    def lease_runs_out(self) -> None:
        sql(self.url, "UPDATE valueroute_lease SET expires_at = '-infinity'")
        self.expired = True

    @rule(node=st.integers(0, NODES - 1))
    def process_dies(self, node: int) -> None:
        store = self.stores[node]
        conn = store._conn
        pid = None if conn is None or conn.closed else conn.info.backend_pid
        if conn is not None:
            conn.close()
        if pid is not None:
            # The server frees the session's lock once its backend has exited.
            deadline = time.monotonic() + 10
            while sql(self.url, f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"):
                assert time.monotonic() < deadline
                time.sleep(0.01)
        self.stores[node] = PostgresStore(self.url, lead=False, lease_seconds=60.0, name=f"n{node}")
        store._closed = True
        if self.leader == node:
            self.leader = None

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        if not self.stores:
            return
        (lease,) = sql(self.url, "SELECT term FROM valueroute_lease")
        assert lease == (self.term,)
        terms = [
            row[0] for row in sql(self.url, "SELECT term FROM valueroute_records ORDER BY position")
        ]
        assert terms == self.written
        assert terms == sorted(terms)
        leading = [i for i, s in enumerate(self.stores) if s.is_leader and s.term == self.term]
        assert leading == ([] if self.leader is None else [self.leader])


@pytest.fixture
def leadership_url(postgres_cluster: Cluster) -> str:  # noqa: F811 (the imported fixture)
    return postgres_cluster.new_database()


def test_leadership_and_fencing_follow_the_model(leadership_url: str) -> None:
    Leadership.url = leadership_url
    machine = Leadership.TestCase
    machine.settings = settings(max_examples=20, stateful_step_count=25, deadline=None)
    machine().runTest()
