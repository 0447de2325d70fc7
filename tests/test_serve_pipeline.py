"""The service's pipelined journal store: commits overlap new appends, in order, each once."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute.journal import JournalStateError, Record, SQLiteStore, StoredSnapshot
from valueroute.serve._pipeline import PipelinedStore


def _records(first: int, count: int) -> list[Record]:
    return [Record.make(p, float(p), "advance", "{}") for p in range(first, first + count)]


@settings(max_examples=25, deadline=None)
@given(batches=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=25))
def test_every_appended_record_is_committed_once_in_order(batches: list[int]) -> None:
    commits: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as scratch:
        store = PipelinedStore(
            SQLiteStore(Path(scratch) / "j.sqlite"),
            lambda position, count: commits.append((position, count)),
            lambda exc: pytest.fail(f"the writer failed: {exc}"),
        )
        position = 1
        for size in batches:
            store.append(_records(position, size))
            position += size
        store.drain()
        stored = [record.position for record in store.read(after=0)]
        store.close()
    assert stored == list(range(1, position))
    # Each commit reports the last position it made durable, increasing; the
    # counts add up to every record exactly once.
    assert [p for p, _ in commits] == sorted({p for p, _ in commits})
    assert commits[-1][0] == position - 1
    assert sum(count for _, count in commits) == position - 1


def test_a_snapshot_waits_for_the_records_before_it(tmp_path: Path) -> None:
    store = PipelinedStore(SQLiteStore(tmp_path / "j.sqlite"), lambda p, c: None, print)
    store.append(_records(1, 50))
    store.write_snapshot(StoredSnapshot.make(50, "{}"))
    assert [r.position for r in store.read(after=45)] == [46, 47, 48, 49, 50]
    assert next(store.snapshots()).position == 50
    store.close()


def test_a_failing_commit_is_reported_and_refuses_later_appends(tmp_path: Path) -> None:
    failed = threading.Event()
    inner = SQLiteStore(tmp_path / "j.sqlite")
    store = PipelinedStore(inner, lambda p, c: None, lambda exc: failed.set())
    store.append(_records(1, 3))
    store.drain()
    store.append(_records(2, 1))  # a position already taken: the insert fails
    assert failed.wait(10)
    with pytest.raises(JournalStateError, match="writer failed"):
        store.append(_records(4, 1))
    with pytest.raises(JournalStateError):
        store.drain()
    store.close()
    reopened = SQLiteStore(tmp_path / "j.sqlite")
    assert [r.position for r in reopened.read(after=0)] == [1, 2, 3]
    reopened.close()
