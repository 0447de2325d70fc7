"""Two-phase commit: ``DurableEngine.detach_pending`` hands out records, ``commit_detached``
makes them durable (possibly in another thread while commands go on).

The reference for every state is a plain engine that ran the same commands
at the same clock readings (``Run`` from the journal's tests): whatever the
interleaving of commands, detaches and commits, the journal must hold
exactly the committed records, and reopening it must rebuild the reference
state after the last committed command.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from test_journal import Journal, Run, journal, make_engine, scripted  # noqa: F401 (fixture)
from valueroute import AgentSpec, TaskSpec
from valueroute.errors import InvalidInputError
from valueroute.journal import DetachedBatch, DurableEngine, JournalStateError, SQLiteStore


def group_engine(target: Path | str, clock: list[float]) -> DurableEngine:
    """A durable engine that never commits by itself: only detach and commit do."""
    return DurableEngine.open(
        target,
        make_engine,
        sync="group",
        group_size=1 << 30,
        group_seconds=1e9,
        clock=lambda: clock[0],
    )


def committed_positions(target: Path) -> list[int]:
    store = SQLiteStore(target)
    try:
        return [record.position for record in store.read(after=0)]
    finally:
        store.close()


def test_records_are_durable_only_once_their_detached_batch_is_committed(
    journal: Journal,  # noqa: F811 (the imported fixture)
) -> None:
    clock = [0.0]
    durable = group_engine(journal.target, clock)
    run = scripted(durable, clock, 3)
    assert durable.durable_position == 0
    batch = durable.detach_pending()
    assert batch is not None
    assert (batch.first, batch.last, len(batch)) == (1, durable.position, len(run.applied))
    assert durable.detach_pending() is None
    assert durable.durable_position == 0
    # A reader sees nothing before the commit...
    with DurableEngine.open(journal.reader(), make_engine) as before:
        assert before.digest() == run.digests[0]
    assert durable.commit_detached(batch) == batch.last == durable.durable_position
    # ... and the whole batch after it.
    with DurableEngine.open(journal.reader(), make_engine) as after:
        assert after.digest() == run.digests[-1]
    durable.close()


def test_commands_go_on_while_a_batch_commits_in_another_thread(tmp_path: Path) -> None:
    clock = [0.0]
    target = tmp_path / "j.sqlite"
    durable = group_engine(target, clock)
    run = Run(durable, clock)
    run.step(1.0, ("add_agent", (AgentSpec(id="a0"),), {"ready": True}))
    for round_number in range(20):
        for i in range(5):
            run.step(0.5, ("submit", (TaskSpec(id=f"t{round_number}-{i}", value=i),), {}))
        batch = durable.detach_pending()
        assert batch is not None
        committer = threading.Thread(target=durable.commit_detached, args=(batch,))
        committer.start()
        # The next batch's commands run while this one is written.
        run.step(0.25, ("advance", (), {}))
        committer.join()
        assert durable.durable_position == batch.last
    last = durable.detach_pending()
    assert last is not None
    durable.commit_detached(last)
    durable.close()
    assert committed_positions(target) == list(range(1, len(run.applied) + 1))
    with DurableEngine.open(target, make_engine) as again:
        assert again.digest() == run.digests[-1]


def test_batches_commit_only_in_the_order_they_were_detached(tmp_path: Path) -> None:
    clock = [0.0]
    target = tmp_path / "j.sqlite"
    durable = group_engine(target, clock)
    run = Run(durable, clock)
    run.step(1.0, ("submit", (TaskSpec(id="first"),), {}))
    first = durable.detach_pending()
    run.step(1.0, ("submit", (TaskSpec(id="second"),), {}))
    second = durable.detach_pending()
    assert first is not None
    assert second is not None
    with pytest.raises(JournalStateError, match="records 2 to 2 after durable position 0"):
        durable.commit_detached(second)
    assert durable.out_of_step is None
    assert committed_positions(target) == []
    # Nothing else commits or snapshots past a batch still out.
    run.step(1.0, ("submit", (TaskSpec(id="third"),), {}))
    for refused in (durable.flush, durable.snapshot, durable.catch_up):
        with pytest.raises(JournalStateError, match="not committed"):
            refused()
    durable.commit_detached(first)
    with pytest.raises(JournalStateError, match="records 1 to 1 after durable position 1"):
        durable.commit_detached(first)
    durable.commit_detached(second)
    durable.flush()
    assert committed_positions(target) == [1, 2, 3]
    durable.close()
    with DurableEngine.open(target, make_engine) as again:
        assert again.digest() == run.digests[-1]


def test_a_batch_that_is_not_one_is_refused(tmp_path: Path) -> None:
    durable = group_engine(tmp_path / "j.sqlite", [0.0])
    for wrong in (None, [], DetachedBatch(())):
        with pytest.raises(InvalidInputError, match="batch: got"):
            durable.commit_detached(wrong)  # type: ignore[arg-type]
    durable.close()


def test_a_failing_commit_leaves_the_durable_engine_out_of_step(tmp_path: Path) -> None:
    clock = [0.0]
    durable = group_engine(tmp_path / "j.sqlite", clock)
    Run(durable, clock).step(1.0, ("submit", (TaskSpec(id="lost"),), {}))
    batch = durable.detach_pending()
    assert batch is not None
    durable.store.close()
    with pytest.raises(Exception, match="closed"):
        durable.commit_detached(batch)
    assert durable.out_of_step is not None
    assert durable.durable_position == 0
    with pytest.raises(JournalStateError, match="may disagree"):
        durable.submit(TaskSpec(id="after"))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.sampled_from(["command", "command", "command", "detach", "commit"]),
        min_size=1,
        max_size=40,
    )
)
def test_any_interleaving_keeps_exactly_the_committed_commands(steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "j.sqlite"
        clock = [0.0]
        durable = group_engine(target, clock)
        run = Run(durable, clock)
        run.step(1.0, ("add_agent", (AgentSpec(id="a0"),), {"ready": True}))
        out: list[DetachedBatch] = []
        committed = 0
        number = 0
        for step in steps:
            if step == "command":
                number += 1
                task = TaskSpec(id=f"t{number}", value=number % 4)
                run.step(0.5, ("submit", (task,), {}))
                run.step(0.5, ("next_task", ("a0",), {}))
            elif step == "detach":
                batch = durable.detach_pending()
                if batch is not None:
                    out.append(batch)
            elif out:
                committed = durable.commit_detached(out.pop(0))
            assert durable.durable_position == committed
        assert committed_positions(target) == list(range(1, committed + 1))
        with DurableEngine.open(target, make_engine, repair=False) as reader:
            assert reader.digest() == run.digests[committed]
        for batch in out:
            durable.commit_detached(batch)
        durable.close()
        with DurableEngine.open(target, make_engine, repair=False) as again:
            assert again.digest() == run.digests[-1]
