"""The journal under damaged files, damaged snapshots and refused commands.

Each test damages what a crash, a failing disk or a careless hand can damage
(the ``-wal`` file, the main file, a snapshot, the journal's mark) or drives
the durable engine with arguments of the wrong type, and checks that recovery
either rebuilds exactly the commands it reports or says what was lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.journal import (
    DurableEngine,
    JournalCorruptError,
    JournalFormatError,
    StoredSnapshot,
)


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "routing.journal"


# ---------------------------------------------------------------------- refused commands


def busy(path: Path, clock: list[float]) -> DurableEngine:
    """A journal with an agent holding one assigned task and one task queued."""
    durable = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    durable.add_agent(AgentSpec(id="a0", capacity={"voice": 1}), ready=True)
    durable.submit(TaskSpec(id="t0"))
    durable.accept("t0")
    durable.submit(TaskSpec(id="t1"))
    return durable


WRONG: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("accept", (["t0"],), {}),
    ("accept", ("t0",), {"agent": ["a0"]}),
    ("reject", ({"t": 1},), {}),
    ("revoke", (3,), {}),
    ("cancel", ({"task": "t1"},), {}),
    ("cancel", ("t1",), {"reason": ["why"]}),
    ("hold", (b"t1",), {}),
    ("resume", (None,), {}),
    ("defer", ("t1", "tomorrow"), {}),
    ("defer", (("t1",), 50.0), {}),
    ("transfer", ("t0",), {"to_agent": ["a0"]}),
    ("transfer", ("t0",), {"channel": 5}),
    ("transfer", ("t0",), {"skills": ["billing"]}),
    ("transfer", ("t0",), {"skills": {"billing": "high"}}),
    ("transfer", ("t0",), {"keep_age": "no"}),
    ("complete", ("t0",), {"wrap_up": "x"}),
    ("complete", (["t0"],), {}),
    ("end_wrap_up", ({"t0"},), {}),
    ("update", ("t1",), {"priority": "high"}),
    ("update", ("t1",), {"value": [1]}),
    ("update", ("t1",), {"due": "soon"}),
    ("update", ("t1",), {"clear_due": "yes"}),
    ("update", ("t1",), {"skills": {1: 2.0}}),
    ("update", ("t1",), {"expected_version": 1.5}),
    ("update", (["t1"],), {"priority": 1}),
    ("next_task", (["a0"],), {}),
    ("remove_agent", ({"a0": 1},), {}),
    ("set_agent_state", (["a0"], "ready"), {}),
    ("set_agent_state", ("a0", 3), {}),
    ("set_agent_state", ("a0", "not_ready"), {"reason": 7}),
    ("set_agent_state", ("a0", "wrap_up"), {"until": "later"}),
    ("submit", (["t9"],), {}),
    ("add_agent", ("a9",), {}),
    ("set_policy", (["fifo"],), {}),
    ("set_rules", (None,), {"format": "ini"}),
    ("get", (["t0"],), {}),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"), WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)]
)
def test_a_wrong_typed_argument_is_refused_and_never_wedges_the_journal(
    path: Path, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    clock = [10.0]
    durable = busy(path, clock)
    digest, position = durable.digest(), durable.position
    seq = durable.engine._event_seq
    clock[0] = 20.0
    with pytest.raises(InvalidInputError) as refused:
        getattr(durable, name)(*args, **kwargs)
    assert isinstance(refused.value, ValueRouteError)
    assert len(str(refused.value)) < 400
    assert (durable.digest(), durable.position, durable.engine._event_seq) == (
        digest,
        position,
        seq,
    )
    # Still in step: a good command works and is journaled.
    durable.complete("t0", wrap_up=0.0)
    after = durable.digest()
    durable.close()
    reopened = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    assert reopened.report.clean, reopened.report
    assert reopened.position == position + 1
    assert reopened.digest() == after
    reopened.close()


def test_an_unbounded_argument_is_not_repeated_whole_in_the_error(path: Path) -> None:
    durable = busy(path, [1.0])
    with pytest.raises(InvalidInputError) as refused:
        durable.cancel("t1", reason=["x" * 100_000])  # type: ignore[arg-type]
    assert len(str(refused.value)) < 400
    durable.close()


# ---------------------------------------------------------------------- paths


def test_a_directory_is_refused_with_a_clear_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "journals"
    folder.mkdir()
    with pytest.raises(JournalFormatError, match=r"journals'?: is a directory"):
        DurableEngine.open(folder, make_engine)
    assert list(folder.iterdir()) == []


# ---------------------------------------------------------------------- snapshots


def rewrite_snapshot(path: Path, position: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit a stored snapshot's content and give it a matching checksum."""
    with sqlite3.connect(path) as db:
        (text,) = db.execute(
            "SELECT data FROM snapshots WHERE position = ?", (position,)
        ).fetchone()
        data = json.loads(text)
        change(data)
        stored = StoredSnapshot.make(position, json.dumps(data, separators=(",", ":")))
        db.execute(
            "UPDATE snapshots SET data = ?, checksum = ? WHERE position = ?",
            (stored.data, stored.checksum, position),
        )


def first_task(state: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for record in data["engine"]["tasks"]:
            if record["state"] == "queued":
                record["state"] = state
                return
        raise AssertionError("no queued task in the snapshot")

    return change


def drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def unknown_holder(data: dict[str, Any]) -> None:
    holder = data["engine"]["holder"]
    for task in holder:
        holder[task] = "nobody"


def phantom_load(data: dict[str, Any]) -> None:
    data["pool"]["agents"][0]["load"] = {"voice": 1, "chat": 3}


def wrong_type(data: dict[str, Any]) -> None:
    data["engine"]["tasks"][0]["seq"] = "first"


CONTENT_DAMAGE = {
    "queued task marked completed": first_task("completed"),
    "queued task marked assigned": first_task("assigned"),
    "queued task marked deferred": first_task("deferred"),
    "holder missing": drop("engine", "holder"),
    "pool missing": drop("pool"),
    "holder is no agent": unknown_holder,
    "load without tasks": phantom_load,
    "wrong-typed field": wrong_type,
}


@pytest.mark.parametrize("damage", sorted(CONTENT_DAMAGE))
def test_a_snapshot_with_a_valid_checksum_but_wrong_content_falls_back(
    path: Path, damage: str
) -> None:
    clock = [0.0]
    durable = busy(path, clock)
    older = durable.snapshot()
    clock[0] = 5.0
    durable.submit(TaskSpec(id="t2", priority=2))
    newer = durable.snapshot()
    clock[0] = 6.0
    durable.submit(TaskSpec(id="t3"))
    expected = durable.digest()
    durable.close()
    rewrite_snapshot(path, newer, CONTENT_DAMAGE[damage])

    reopened = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    report = reopened.report
    assert report.snapshot == older
    assert [p for p, _ in report.snapshots_skipped] == [newer]
    assert report.snapshots_skipped[0][1].startswith("unusable")
    assert not report.clean
    assert reopened.digest() == expected
    reopened.engine._check()
    reopened.close()

    # Both snapshots wrong: replay from the start.
    rewrite_snapshot(path, older, CONTENT_DAMAGE[damage])
    reopened = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    assert reopened.report.snapshot is None
    assert [p for p, _ in reopened.report.snapshots_skipped] == [newer, older]
    assert reopened.digest() == expected
    reopened.close()


# ---------------------------------------------------------------------- damaged files


def history(path: Path, count: int, **options: Any) -> tuple[DurableEngine, list[str]]:
    """``count`` commands through a durable engine; the reference digest after each."""
    clock = [0.0]
    reference = make_engine(lambda: clock[0])
    options.setdefault("sync", "group")
    durable = DurableEngine.open(path, make_engine, clock=lambda: clock[0], **options)
    digests = [reference.digest()]
    for number in range(count):
        clock[0] += 1.0
        if number % 10 == 0:
            spec = AgentSpec(id=f"a{number}", capacity={"voice": 1})
            durable.add_agent(spec, ready=True)
            reference.add_agent(spec, ready=True)
        else:
            spec = TaskSpec(id=f"t{number}", value=number % 7, attributes={"note": "x" * 40})
            durable.submit(spec)
            reference.submit(spec)
        digests.append(reference.digest())
    assert durable.digest() == digests[-1]
    return durable, digests


def reopens_at_a_prefix(path: Path, digests: list[str]) -> DurableEngine:
    """Open with repair: the state must be exactly that after the reported prefix."""
    recovered = DurableEngine.open(path, make_engine, clock=lambda: 1e6)
    position = recovered.report.position
    assert recovered.digest() == digests[position]
    return recovered


@pytest.mark.parametrize("pages", [1, 2, 3, 7])
def test_a_main_file_cut_at_a_page_boundary_is_repaired_keeping_every_readable_record(
    path: Path, pages: int
) -> None:
    durable, digests = history(path, 300)
    durable.close()
    size = path.stat().st_size
    page = 4096
    assert size % page == 0
    assert size // page > pages + 2
    with path.open("r+b") as file:
        file.truncate(size - pages * page)
    cut = path.read_bytes()

    with pytest.raises(JournalCorruptError, match="repair=True") as refused:
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)
    assert path.read_bytes() == cut, "a refused repair changed the file"
    assert refused.value.report is not None
    readable = refused.value.report.position

    recovered = reopens_at_a_prefix(path, digests)
    report = recovered.report
    assert report.position == readable
    # Only the records on the pages cut off (and after them) are lost: a
    # record is about 150 bytes, so a 4 KB page holds at most about 30.
    assert len(digests) - 1 - report.position <= 30 * pages + 30
    assert not report.clean
    assert report.dropped_from == report.position + 1
    assert report.repair is not None
    assert "damaged-1" in report.repair
    assert (path.parent / f"{path.name}.damaged-1").read_bytes() == cut
    recovered.submit(TaskSpec(id="after the repair"))
    after = recovered.digest()
    recovered.close()
    again = DurableEngine.open(path, make_engine, clock=lambda: 1e6)
    assert again.report.clean, again.report
    assert again.digest() == after
    again.close()
