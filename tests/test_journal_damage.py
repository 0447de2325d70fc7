"""The journal under damaged files, damaged snapshots and refused commands.

Each test damages what a crash, a failing disk or a careless hand can damage
(the ``-wal`` file, the main file, a snapshot, the journal's mark) or drives
the durable engine with arguments of the wrong type, and checks that recovery
either rebuilds exactly the commands it reports or says what was lost.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.journal import (
    DurableEngine,
    JournalCorruptError,
    JournalFormatError,
    Record,
    SQLiteStore,
    StoredSnapshot,
    import_events,
)


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "routing.journal"


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A journal in a SQLite file or in a PostgreSQL database of this test's own."""
    if request.param == "sqlite":
        return tmp_path / "routing.journal"
    url: str = request.getfixturevalue("postgres_url")
    return url


# ---------------------------------------------------------------------- refused commands


def busy(path: Path | str, clock: list[float]) -> DurableEngine:
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
    target: Path | str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    clock = [10.0]
    durable = busy(target, clock)
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
    reopened = DurableEngine.open(target, make_engine, clock=lambda: clock[0])
    assert reopened.report.clean, reopened.report
    assert reopened.position == position + 1
    assert reopened.digest() == after
    reopened.close()


class Counted:
    """An element whose repr may not be asked for beyond the first few."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __repr__(self) -> str:
        assert self.number < 10, "the whole value was repr'd for an error message"
        return f"Counted({self.number})"


def test_an_unbounded_argument_is_not_repeated_whole_in_the_error(path: Path) -> None:
    durable = busy(path, [1.0])
    with pytest.raises(InvalidInputError) as refused:
        durable.cancel("t1", reason=["x" * 100_000])  # type: ignore[arg-type]
    assert len(str(refused.value)) < 400
    # Nor is it repr'd whole to be cut afterwards: the work is bounded too.
    with pytest.raises(InvalidInputError, match="reason: got list") as refused:
        durable.cancel("t1", reason=[Counted(n) for n in range(100_000)])  # type: ignore[arg-type]
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


def rewrite_snapshot(
    path: Path | str, position: int, change: Callable[[dict[str, Any]], None]
) -> None:
    """Edit a stored snapshot's content and give it a matching checksum."""
    if isinstance(path, str):
        with psycopg.connect(path, autocommit=True) as conn:
            row = conn.execute(
                "SELECT data FROM valueroute_snapshots WHERE position = %s", (position,)
            ).fetchone()
            assert row is not None
            data = json.loads(row[0])
            change(data)
            stored = StoredSnapshot.make(position, json.dumps(data, separators=(",", ":")))
            conn.execute(
                "UPDATE valueroute_snapshots SET data = %s, checksum = %s WHERE position = %s",
                (stored.data, stored.checksum, position),
            )
        return
    with closing(sqlite3.connect(path)) as db, db:
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
    target: Path | str, damage: str
) -> None:
    clock = [0.0]
    durable = busy(target, clock)
    older = durable.snapshot()
    clock[0] = 5.0
    durable.submit(TaskSpec(id="t2", priority=2))
    newer = durable.snapshot()
    clock[0] = 6.0
    durable.submit(TaskSpec(id="t3"))
    expected = durable.digest()
    durable.close()
    rewrite_snapshot(target, newer, CONTENT_DAMAGE[damage])

    reopened = DurableEngine.open(target, make_engine, clock=lambda: clock[0])
    report = reopened.report
    assert report.snapshot == older
    assert [p for p, _ in report.snapshots_skipped] == [newer]
    assert report.snapshots_skipped[0][1].startswith("unusable")
    assert not report.clean
    assert reopened.digest() == expected
    reopened.engine._check()
    reopened.close()

    # Both snapshots wrong: replay from the start.
    rewrite_snapshot(target, older, CONTENT_DAMAGE[damage])
    reopened = DurableEngine.open(target, make_engine, clock=lambda: clock[0])
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


# ---------------------------------------------------------------------- the -wal file and the mark


def crash_image(path: Path, folder: Path) -> Path:
    """The journal's files as a killed process leaves them: main file, -wal, mark.

    The running process keeps nothing committed in memory (SQLite has
    written every commit to the -wal file, the mark is written after each
    commit), so a copy taken between commands is what a SIGKILL leaves. The
    ``-shm`` index is left out: SQLite rebuilds it from the -wal file.
    """
    folder.mkdir()
    for suffix in ("", "-wal", ".mark"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            shutil.copy(source, folder / f"{path.name}{suffix}")
    return folder / path.name


def files_of(path: Path) -> dict[str, bytes]:
    return {
        f.name: f.read_bytes()
        for f in sorted(path.parent.iterdir())
        if f.name.startswith(path.name) and not f.name.endswith("-shm")
    }


WAL_HEADER, FRAME = 32, 24 + 4096


@pytest.mark.parametrize("sync", ["every", "group"])
@pytest.mark.parametrize("seed", range(6))
def test_an_overwritten_wal_tail_after_a_crash_is_reported_as_lost_records(
    tmp_path: Path, sync: str, seed: int
) -> None:
    durable, digests = history(tmp_path / "live.journal", 60, sync=sync)
    durable.flush()
    total = len(digests) - 1
    image = crash_image(durable.store.path, tmp_path / "crash")  # type: ignore[attr-defined]
    durable.close()
    wal = Path(f"{image}-wal")
    data = bytearray(wal.read_bytes())
    frames = (len(data) - WAL_HEADER) // FRAME
    assert frames > 4
    rng = np.random.default_rng(seed)
    frame = int(rng.integers(1, frames))
    at = WAL_HEADER + frame * FRAME + int(rng.integers(0, FRAME - 8))
    data[at : at + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
    wal.write_bytes(bytes(data))
    before = files_of(image)

    with pytest.raises(JournalCorruptError, match=r"records \d+ to 60 were committed") as refused:
        DurableEngine.open(image, make_engine, clock=lambda: 1e6, repair=False)
    assert files_of(image) == before, "a refused repair changed the files"
    report = refused.value.report
    assert report is not None
    assert report.lost > 0
    assert report.position + report.lost == total

    recovered = reopens_at_a_prefix(image, digests)
    report = recovered.report
    assert not report.clean
    assert report.position < total
    assert (report.lost, report.lost_from) == (total - report.position, report.position + 1)
    assert report.repair is not None
    assert "mark reset" in report.repair
    # The -wal file as it was found is kept: SQLite drops its damaged frames.
    assert Path(f"{image}.lost-1-wal").read_bytes() == bytes(data)
    recovered.submit(TaskSpec(id="after"))
    after = recovered.digest()
    recovered.close()
    again = DurableEngine.open(image, make_engine, clock=lambda: 1e6)
    assert again.report.clean, again.report
    assert again.digest() == after
    again.close()


def test_a_deleted_wal_after_a_crash_is_reported_as_lost_records(tmp_path: Path) -> None:
    durable, digests = history(tmp_path / "live.journal", 40, sync="every")
    image = crash_image(durable.store.path, tmp_path / "crash")  # type: ignore[attr-defined]
    durable.close()
    Path(f"{image}-wal").unlink()
    with pytest.raises(JournalCorruptError, match="records 1 to 40 were committed"):
        DurableEngine.open(image, make_engine, clock=lambda: 1e6, repair=False)
    recovered = reopens_at_a_prefix(image, digests)
    assert (recovered.report.position, recovered.report.lost) == (0, 40)
    assert not recovered.report.clean
    recovered.close()


@pytest.mark.parametrize("sync", ["every", "group", "none"])
def test_a_crash_image_without_damage_recovers_clean_and_whole(tmp_path: Path, sync: str) -> None:
    durable, digests = history(tmp_path / "live.journal", 50, sync=sync)
    durable.flush()
    image = crash_image(durable.store.path, tmp_path / "crash")  # type: ignore[attr-defined]
    durable.close()
    recovered = reopens_at_a_prefix(image, digests)
    assert recovered.report.clean, recovered.report
    assert recovered.position == 50
    recovered.close()


def test_a_mark_behind_the_journal_is_not_damage(path: Path) -> None:
    durable, digests = history(path, 30, sync="every")
    durable.close()
    # As after a crash between a commit and the mark's write.
    with closing(sqlite3.connect(path)) as db, db:
        (checksum,) = db.execute("SELECT checksum FROM records WHERE position = 20").fetchone()
    store = SQLiteStore(path)
    store.set_mark(20, checksum)
    store.close()
    recovered = reopens_at_a_prefix(path, digests)
    assert recovered.report.clean, recovered.report
    assert recovered.position == 30
    recovered.close()


def test_a_missing_mark_file_is_reported(path: Path) -> None:
    durable, digests = history(path, 10, sync="every")
    durable.close()
    Path(f"{path}.mark").unlink()
    with pytest.raises(JournalCorruptError, match=r"mark file .* is missing"):
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)
    recovered = reopens_at_a_prefix(path, digests)
    assert recovered.position == 10
    assert not recovered.report.clean
    recovered.close()
    again = DurableEngine.open(path, make_engine, clock=lambda: 1e6)
    assert again.report.clean, again.report
    again.close()


def test_a_garbled_mark_file_is_reported(path: Path) -> None:
    durable, digests = history(path, 10, sync="every")
    durable.close()
    Path(f"{path}.mark").write_bytes(b"valueroute-mark 1 10 99 00000000\n")
    with pytest.raises(JournalCorruptError, match=r"mark file .* holds"):
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)
    recovered = reopens_at_a_prefix(path, digests)
    assert recovered.position == 10
    assert not recovered.report.clean
    recovered.close()


def test_a_record_replaced_by_one_with_its_own_valid_checksum_breaks_the_chain(
    path: Path,
) -> None:
    durable, digests = history(path, 20, sync="every")
    durable.close()
    # A record from another history, with a checksum that matches its own
    # content (as an unchained CRC would accept): the chain does not.
    forged = Record.make(
        7, 7.0, "submit", json.dumps({"spec": TaskSpec(id="x").model_dump(mode="json")})
    )
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE records SET time = ?, arguments = ?, checksum = ? WHERE position = 7",
            (forged.time, forged.arguments, forged.checksum),
        )
    with pytest.raises(JournalCorruptError, match="record 7"):
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)
    recovered = reopens_at_a_prefix(path, digests)
    assert recovered.position == 6
    assert recovered.report.reason == "checksum mismatch in record 7"
    recovered.close()


def test_a_journal_rolled_back_and_rewritten_differs_from_the_mark(path: Path) -> None:
    durable, _digests = history(path, 12, sync="every")
    durable.close()
    kept = Path(f"{path}.mark").read_bytes()
    # The journal replaced by an older copy that then recorded other commands
    # up to the same position: positions agree, the chain does not.
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM records WHERE position > 8")
    Path(f"{path}.mark").unlink()
    other = DurableEngine.open(path, make_engine, clock=lambda: 50.0)
    for number in range(4):
        other.submit(TaskSpec(id=f"other-{number}"))
    other.close()
    Path(f"{path}.mark").write_bytes(kept)
    with pytest.raises(JournalCorruptError, match="record 12 differs from the one committed"):
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)


def write_version_1_journal(path: Path, count: int) -> list[str]:
    """A journal as valueroute wrote it before records were chained (schema version 1)."""
    clock = [0.0]
    reference = make_engine(lambda: clock[0])
    digests = [reference.digest()]
    with closing(sqlite3.connect(path, isolation_level=None)) as db, db:
        db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA_1.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("PRAGMA application_id = 1985112625")
        db.execute("PRAGMA user_version = 1")
        for position in range(1, count + 1):
            clock[0] = float(position)
            spec = TaskSpec(id=f"old-{position}")
            reference.submit(spec)
            digests.append(reference.digest())
            record = Record.make(
                position,
                clock[0],
                "submit",
                json.dumps({"spec": spec.model_dump(mode="json")}, separators=(",", ":")),
            )
            db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                (record.position, record.time, record.command, record.arguments, record.checksum),
            )
    db.close()
    return digests


SCHEMA_1 = """
CREATE TABLE records (position INTEGER PRIMARY KEY, time REAL NOT NULL, command TEXT NOT NULL,
    arguments TEXT NOT NULL, checksum INTEGER NOT NULL);
CREATE TABLE snapshots (position INTEGER PRIMARY KEY, data TEXT NOT NULL,
    checksum INTEGER NOT NULL);
CREATE TABLE quarantine (position INTEGER NOT NULL, time REAL, command TEXT, arguments TEXT,
    checksum INTEGER, reason TEXT NOT NULL);
"""


def test_a_version_1_journal_opens_with_a_note_and_stays_readable(path: Path) -> None:
    digests = write_version_1_journal(path, 8)
    durable = reopens_at_a_prefix(path, digests)
    assert durable.position == 8
    assert durable.report.clean, durable.report
    assert any("schema version 1" in note for note in durable.report.notes)
    durable.submit(TaskSpec(id="new"))
    durable.snapshot()
    durable.submit(TaskSpec(id="newer"))
    after = durable.digest()
    durable.close()
    with closing(sqlite3.connect(path)) as db, db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        rows = db.execute("SELECT position, time, command, arguments, checksum FROM records")
        # Still unchained, as version 1 readers expect.
        assert all(Record(*row).intact() for row in rows)
    again = DurableEngine.open(path, make_engine, clock=lambda: 1e6)
    assert again.report.clean, again.report
    assert again.digest() == after
    again.close()


def test_unreadable_snapshots_do_not_stop_the_replay_of_the_records(path: Path) -> None:
    durable, digests = history(path, 40, sync="every")
    durable.snapshot()
    durable.close()
    with closing(sqlite3.connect(path)) as db, db:
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'snapshots'"
        ).fetchone()
        (page,) = db.execute("PRAGMA page_size").fetchone()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page : root * page] = b"\xa5" * page
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorruptError, match="snapshots"):
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)
    assert path.read_bytes() == bytes(data)
    recovered = reopens_at_a_prefix(path, digests)
    assert recovered.position == 40
    assert recovered.report.replayed == 40
    assert not recovered.report.clean
    recovered.close()


def test_a_mark_whose_journal_file_is_gone_reports_the_records_lost(path: Path) -> None:
    durable, _ = history(path, 10, sync="every")
    durable.close()
    path.unlink()
    with pytest.raises(JournalCorruptError, match="records 1 to 10 were committed"):
        DurableEngine.open(path, make_engine, clock=lambda: 1e6, repair=False)
    fresh = DurableEngine.open(path, make_engine, clock=lambda: 1e6)
    assert (fresh.position, fresh.report.lost) == (0, 10)
    fresh.close()


# ---------------------------------------------------------------------- options and event files


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"engine_factory": 5}, "engine_factory"),
        ({"group_seconds": "x"}, "group_seconds"),
        ({"group_seconds": None}, "group_seconds"),
        ({"group_seconds": True}, "group_seconds"),
        ({"group_size": "5"}, "group_size"),
        ({"sync": ["every"]}, "sync"),
        ({"sync": "s" * 10_000}, "sync"),
    ],
)
def test_bad_options_are_refused_before_any_file_is_created(
    path: Path, options: dict[str, Any], field: str
) -> None:
    factory = options.pop("engine_factory", make_engine)
    with pytest.raises(InvalidInputError, match=f"^{field}: got") as refused:
        DurableEngine.open(path, factory, **options)
    assert len(str(refused.value)) < 300
    assert not path.exists()
    assert not Path(f"{path}.mark").exists()


def test_a_store_path_that_is_not_a_path_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="path: got int"):
        SQLiteStore(5)  # type: ignore[arg-type]


def test_unreadable_event_files_are_format_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(JournalFormatError, match=r"missing\.jsonl'?: cannot be read"):
        import_events(tmp_path / "missing.jsonl")
    with pytest.raises(JournalFormatError, match="cannot be read"):
        import_events(tmp_path)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"schema": "valueroute-events", "version": 1}\n{"caf\xe9": 1}\n')
    with pytest.raises(JournalFormatError, match="is not UTF-8"):
        import_events(latin)
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"schema": "valueroute-events", "version": 1}\n' + "[" * 100_000 + "\n")
    with pytest.raises(JournalFormatError, match="line 2") as refused:
        import_events(deep)
    assert len(str(refused.value)) < 400


# ---------------------------------------------------------------------- the chain, as a property


class ListStore:
    """A chained Store in a list, so that records can be swapped at will."""

    chained = True

    def __init__(self) -> None:
        self.records: list[Record] = []

    def append(self, records: Sequence[Record]) -> None:
        self.records.extend(records)

    def read(self, *, after: int) -> Iterator[Record]:
        return iter([r for r in self.records if r.position > after])

    def write_snapshot(self, snapshot: StoredSnapshot) -> None:
        raise AssertionError("not used")

    def snapshots(self) -> Iterator[StoredSnapshot]:
        return iter(())

    def truncate(self, *, through: int) -> int:
        raise AssertionError("not used")

    def quarantine(self, *, after: int, reason: str) -> int:
        before = len(self.records)
        self.records = [r for r in self.records if r.position <= after]
        return before - len(self.records)

    def check(self) -> str | None:
        return None

    def close(self) -> None:
        pass


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 30),
    st.sampled_from(["other task", "same task later", "earlier record"]),
)
def test_any_record_swapped_for_one_with_a_valid_checksum_of_its_own_ends_the_replay_there(
    at: int, forgery: str
) -> None:
    clock = [0.0]
    store = ListStore()
    reference = make_engine(lambda: clock[0])
    digests = [reference.digest()]
    durable = DurableEngine.open(store, make_engine, clock=lambda: clock[0])
    for number in range(30):
        clock[0] += 1.0
        spec = TaskSpec(id=f"t{number}", value=number)
        durable.submit(spec)
        reference.submit(spec)
        digests.append(reference.digest())
    durable.close()
    original = store.records[at - 1]
    if forgery == "other task":
        arguments = json.dumps({"spec": TaskSpec(id="x").model_dump(mode="json")})
        forged = Record.make(at, original.time, "submit", arguments)
    elif forgery == "same task later":
        forged = Record.make(at, original.time + 0.5, original.command, original.arguments)
    else:
        source = store.records[(at + 7) % 30]
        forged = Record.make(at, source.time, source.command, source.arguments)
    assert forged.intact(), "the forgery passes an unchained check"
    store.records[at - 1] = forged

    recovered = DurableEngine.open(store, make_engine, clock=lambda: 1e6)
    assert recovered.report.position == at - 1
    assert recovered.report.reason == f"checksum mismatch in record {at}"
    assert recovered.digest() == digests[at - 1]
    recovered.close()


def test_a_damaged_file_is_moved_aside_as_found_with_its_wal(tmp_path: Path) -> None:
    durable, digests = history(tmp_path / "live.journal", 200)
    durable.close()
    durable = DurableEngine.open(tmp_path / "live.journal", make_engine, clock=lambda: 1e3)
    durable.submit(TaskSpec(id="in the -wal file"))
    image = crash_image(durable.store.path, tmp_path / "crash")  # type: ignore[attr-defined]
    durable.close()
    main = bytearray(image.read_bytes())
    # The page holding an early record (the -wal file holds only later pages):
    # its b-tree page header overwritten.
    page = main.index(b'"id":"t5"') // 4096
    main[page * 4096 : page * 4096 + 8] = b"\xa5" * 8
    image.write_bytes(bytes(main))
    wal = Path(f"{image}-wal").read_bytes()
    assert wal

    recovered = DurableEngine.open(image, make_engine, clock=lambda: 1e6)
    assert recovered.report.repair is not None
    assert "damaged-1" in recovered.report.repair
    assert recovered.digest() == digests[recovered.position]
    recovered.close()
    assert Path(f"{image}.damaged-1").read_bytes() == bytes(main)
    assert Path(f"{image}.damaged-1-wal").read_bytes() == wal


def test_a_salvaged_journal_keeps_its_sync_mode(path: Path) -> None:
    durable, digests = history(path, 300, sync="none")
    durable.close()
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size - 4096)
    recovered = DurableEngine.open(path, make_engine, sync="none", clock=lambda: 1e6)
    assert recovered.report.repair is not None
    assert recovered.digest() == digests[recovered.position]
    assert isinstance(recovered.store, SQLiteStore)
    assert recovered.store.synchronous == "off"
    recovered.close()


def test_flush_after_closing_a_broken_durable_engine_is_a_journal_state_error(
    tmp_path: Path,
) -> None:
    from valueroute import AgentSpec, TaskSpec
    from valueroute.journal import DurableEngine, JournalStateError

    durable = DurableEngine.open(tmp_path / "j.db", make_engine, sync="group")

    def failing(event: object) -> None:
        raise RuntimeError("subscriber down")

    durable.add_agent(AgentSpec(id="ann"))
    durable.subscribe(failing)
    with pytest.raises(ExceptionGroup):  # each event told failed
        durable.submit(TaskSpec(id="t1"))
    durable.close()
    with pytest.raises(JournalStateError, match="closed"):
        durable.flush()


@pytest.mark.parametrize("command", ["get", "cancel", "hold", "remove_agent"])
def test_a_huge_integer_id_is_refused_with_a_short_message(command: str, tmp_path: Path) -> None:
    from valueroute.errors import InvalidInputError

    durable = DurableEngine.open(tmp_path / "j.db", make_engine)
    with pytest.raises(InvalidInputError, match="<integer of about 5001 digits>"):
        getattr(durable, command)(10**5000)
    durable.close()
