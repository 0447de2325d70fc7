"""Durability: a command log with snapshots, and crash recovery.

:class:`DurableEngine` wraps an :class:`~valueroute.engine.Engine`. For each
command it reads the clock once, runs the command on the engine with the
clock pinned to that reading and, only if the command succeeded, appends a
:class:`Record` ``(position, time, command, arguments)`` to a :class:`Store`.
The engine is deterministic, so replaying the records on a fresh engine with
the same configuration rebuilds the same state (equal ``digest()``).
Snapshots (:mod:`valueroute._snapshot`) bound the replay: recovery restores
the latest readable snapshot and replays only the records after it.

Sync policies (:class:`SyncPolicy`)
-----------------------------------
``every``
    Each record is committed (and fsynced) before the command returns. A
    crash loses nothing that was returned to the caller.
``group``
    Records are buffered and committed together when ``group_size`` are
    waiting, when the oldest has waited ``group_seconds`` (checked at the
    next command: there is no background thread) or on :meth:`~DurableEngine.flush`.
    A command is *acknowledged* once its position is at most
    :attr:`DurableEngine.durable_position` (``on_durable`` is called with
    it after each commit). A crash loses exactly the commands after the last
    commit: never an acknowledged one, and at most ``group_size - 1``
    unacknowledged ones (plus any left unflushed when commands stopped).
    A host replies to its clients only after acknowledgement.
``none``
    For simulations: records are committed in large batches without fsync.
    A process crash loses the uncommitted batch; an operating-system crash
    may lose more.

Files and corruption
--------------------
:class:`SQLiteStore` (the default) keeps everything in one SQLite file in WAL
mode, marked with ``PRAGMA application_id`` and a schema version in
``PRAGMA user_version``; a file from another program or a newer version is
refused with :class:`JournalFormatError`. Each record carries a CRC-32 of its
contents chained from the previous record's, each snapshot a CRC-32 of its
own, and a mark file beside the journal holds the last committed position
and checksum. Recovery keeps every record up to the first one that is
unreadable, fails its checksum or breaks the sequence; that record and all
after it (they cannot be replayed without it) are moved to a ``quarantine``
table, and the :class:`RecoveryReport` says how many and why. Records the
mark says were committed but the file no longer holds (a ``-wal`` file that
lost its tail) are reported as lost. A file that SQLite itself finds damaged
is moved aside and a new one started from a snapshot of what was recovered.
``repair=False`` raises :class:`JournalCorruptError` instead of changing
anything.

A ``postgresql://`` URL opens a :class:`valueroute.pgstore.PostgresStore`
instead (``pip install "valueroute[postgres]"``): the same records and
snapshots in PostgreSQL tables, every write fenced by a leadership term
(:class:`JournalFencedError` once another process has taken over). A store
that follows (``is_leader`` false) refuses commands with
:class:`JournalStateError` and changes nothing; :meth:`DurableEngine.catch_up`
applies what its leader wrote since (see :mod:`valueroute.standby`).

Configuration is not journaled as objects: :meth:`DurableEngine.set_policy`
takes a built-in policy's name and parameters (see
:func:`~valueroute.scoring.policy_by_name`) and :meth:`DurableEngine.set_rules`
the text of a rule file; everything else comes from the engine factory, which
must build the same engine at every open.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import time as _time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol, Self, TextIO, runtime_checkable

from valueroute import _snapshot
from valueroute.agents import Agent, Presence
from valueroute.commands import COMMANDS, Command, compile_rules, spec_form
from valueroute.engine import Engine, Offer
from valueroute.errors import InvalidInputError, ValueRouteError, bounded_repr
from valueroute.events import Event, EventKind
from valueroute.models import AgentSpec, TaskSpec
from valueroute.rules import parse_rules
from valueroute.scoring import policy_by_name
from valueroute.task import Task

__all__ = [
    "SCHEMA_VERSION",
    "DetachedBatch",
    "DurableEngine",
    "JournalCorruptError",
    "JournalError",
    "JournalFencedError",
    "JournalFormatError",
    "JournalStateError",
    "Record",
    "RecoveryReport",
    "SQLiteStore",
    "Store",
    "StoredSnapshot",
    "SyncPolicy",
    "check_vocabulary",
    "export_events",
    "import_events",
    "replay",
]

SCHEMA_VERSION = 2
"""Version of the journal file layout (``PRAGMA user_version``).

2: records are chained (each checksum starts from the previous record's) and
a mark file ``NAME.mark`` holds the last committed position. Version 1 files
(unchained, no mark) are still read and written as version 1."""

APPLICATION_ID = 0x76526A31
"""``PRAGMA application_id`` of a valueroute journal ("vRj1")."""

EngineFactory = Callable[[Callable[[], float]], Engine]
"""Builds the engine to journal, given the clock it must use."""


# ---------------------------------------------------------------------- errors


class JournalError(ValueRouteError):
    """Root of the journal's errors."""


class JournalFormatError(JournalError, ValueError):
    """The file is not a valueroute journal, or is of a newer schema version."""


class JournalCorruptError(JournalError, RuntimeError):
    """Damaged journal contents that recovery was not allowed to, or cannot, repair.

    ``report`` holds the :class:`RecoveryReport` of what was found, when known.
    """

    def __init__(self, message: str, report: RecoveryReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class JournalStateError(JournalError, RuntimeError):
    """The durable engine is closed, or its engine and journal may disagree."""


class JournalFencedError(JournalStateError):
    """This process no longer leads the journal: a newer term took over, or it lost its database.

    Raised by a fenced store's writes (see :mod:`valueroute.pgstore`);
    nothing of the refused write is in the journal. The durable engine that
    hit it is out of step with its journal: open it again (as a follower).
    """


# ---------------------------------------------------------------------- records


def _checksum(*parts: str, previous: int = 0) -> int:
    return zlib.crc32("\x1f".join(parts).encode(), previous)


# A record's arguments as JSON text: json.dumps(arguments, separators=(",", ":")),
# with the encoder built once rather than per command.
_encode_arguments = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Record:
    """One journaled command: position (1, 2, ...), clock reading, name, JSON arguments.

    ``checksum`` is the CRC-32 of the contents, started from ``previous``:
    the previous record's checksum in a chained journal (so each record
    vouches for every one before it), 0 in an unchained one.
    """

    position: int
    time: float
    command: str
    arguments: str
    checksum: int

    @classmethod
    def make(
        cls, position: int, time: float, command: str, arguments: str, previous: int = 0
    ) -> Record:
        """A record with its checksum computed from the contents and ``previous``. O(size).

        ``previous`` is the checksum of the record before in a chained journal
        (``0x76526A31``, the application id, before the first), 0 in an unchained one.
        """
        return cls(
            position,
            time,
            command,
            arguments,
            _checksum(str(position), repr(time), command, arguments, previous=previous),
        )

    def intact(self, previous: int = 0) -> bool:
        """Whether the checksum matches the contents (chained from ``previous``). O(size)."""
        expected = _checksum(
            str(self.position), repr(self.time), self.command, self.arguments, previous=previous
        )
        return self.checksum == expected


@dataclass(frozen=True, slots=True)
class DetachedBatch:
    """Records a :class:`DurableEngine` applied and handed out to be committed elsewhere.

    From :meth:`DurableEngine.detach_pending`; made durable by
    :meth:`DurableEngine.commit_detached`. ``records`` are consecutive, from
    position ``first`` to ``last``.
    """

    records: tuple[Record, ...]

    @property
    def first(self) -> int:
        """Position of the first record."""
        return self.records[0].position

    @property
    def last(self) -> int:
        """Position of the last record: durable once the batch is committed."""
        return self.records[-1].position

    def __len__(self) -> int:
        """The number of records."""
        return len(self.records)


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot as stored: the record position it follows, JSON text, checksum."""

    position: int
    data: str
    checksum: int

    @classmethod
    def make(cls, position: int, data: str) -> StoredSnapshot:
        """A snapshot of ``data`` (JSON text) taken after record ``position``, with its checksum.

        O(size).
        """
        return cls(position, data, _checksum(str(position), data))

    def intact(self) -> bool:
        """Whether the checksum matches the position and data. O(size)."""
        return self.checksum == _checksum(str(self.position), self.data)


@runtime_checkable
class Store(Protocol):
    """Where records and snapshots live. Implement it to journal elsewhere (PostgreSQL...).

    Reading may raise :class:`JournalCorruptError` part-way; records yielded
    before stay valid.
    """

    def append(self, records: Sequence[Record]) -> None:
        """Write records atomically (all or none); durable when this returns."""
        ...

    def read(self, *, after: int) -> Iterator[Record]:
        """Records with position > ``after`` in position order."""
        ...

    def write_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Keep a snapshot (durable when this returns)."""
        ...

    def snapshots(self) -> Iterator[StoredSnapshot]:
        """Stored snapshots, newest first."""
        ...

    def truncate(self, *, through: int) -> int:
        """Drop records up to ``through`` and older snapshots; returns records dropped."""
        ...

    def quarantine(self, *, after: int, reason: str) -> int:
        """Move records after position ``after`` aside (kept, never replayed); returns how many."""
        ...

    def check(self) -> str | None:
        """A description of structural damage to the store, or ``None`` if it is sound."""
        ...

    def close(self) -> None:
        """Release the store's files or connections.

        :meth:`DurableEngine.close` calls it, and so does an open that fails.
        """
        ...


# ---------------------------------------------------------------------- SQLite store


class SyncPolicy(StrEnum):
    """When records become durable (see the module documentation)."""

    every = "every"
    group = "group"
    none = "none"


_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE records (
    position INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    command TEXT NOT NULL,
    arguments TEXT NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE TABLE snapshots (
    position INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE TABLE quarantine (
    position INTEGER NOT NULL,
    time REAL,
    command TEXT,
    arguments TEXT,
    checksum INTEGER,
    reason TEXT NOT NULL
);
"""


_MARK_TAG = "valueroute-mark"
_MARK_SIZE = 80
_MARK_SYNC_SECONDS = 1.0


def _mark_bytes(position: int, checksum: int) -> bytes:
    body = f"{_MARK_TAG} 1 {position} {checksum}"
    line = f"{body} {zlib.crc32(body.encode()):08x}\n"
    return line.ljust(_MARK_SIZE).encode("ascii")


class SQLiteStore:
    """A :class:`Store` in one SQLite file (WAL mode). Appends are O(records) per call.

    ``synchronous`` is SQLite's setting: ``"full"`` fsyncs every commit,
    ``"off"`` leaves flushing to the operating system. ``notes`` lists what
    was noticed on opening (an empty file, a new journal).

    Beside the file, ``NAME.mark`` holds the position and checksum of the
    last record committed, rewritten after each commit (under ``"full"``
    fsynced at most once a second, see :meth:`set_mark`). SQLite cannot
    tell a ``-wal`` file that lost its tail from one that never had it; the
    mark can: recovery compares the two.
    """

    def __init__(self, path: str | Path, *, synchronous: Literal["full", "off"] = "full") -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidInputError(
                f"path: got {type(path).__name__} {_shown(path)} (expected a file path)"
            )
        self.path = Path(path)
        self.synchronous: Literal["full", "off"] = synchronous
        self.notes: list[str] = []
        if synchronous not in ("full", "off"):
            raise InvalidInputError(f"synchronous: got {synchronous!r} (expected 'full' or 'off')")
        if self.path.is_dir():
            raise JournalFormatError(
                f"journal file {str(self.path)!r}: is a directory (expected a journal "
                "file, or a path where one can be created)"
            )
        if self.path.exists():
            try:
                with self.path.open("rb") as file:
                    head = file.read(len(_SQLITE_MAGIC))
            except OSError as exc:
                raise JournalFormatError(
                    f"journal file {str(self.path)!r}: cannot be read ({exc.strerror}; "
                    "expected a readable journal file)"
                ) from None
            if not head:
                self.notes.append("the file was empty: a new journal was started in it")
            elif head != _SQLITE_MAGIC:
                raise JournalFormatError(
                    f"journal file {str(self.path)!r}: starts with {head[:16]!r} "
                    "(expected a SQLite database written by valueroute)"
                )
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalFormatError(
                f"journal file {str(self.path)!r}: cannot be opened ({exc})"
            ) from None
        self.damage: str | None = None
        self.version = SCHEMA_VERSION
        self.mark_path = Path(f"{self.path}.mark")
        self._mark_fd: int | None = None
        self._mark_sync = synchronous == "full"
        self._mark_synced = -math.inf
        self._mark_dirty = False
        try:
            try:
                self._prepare(synchronous, damaged=False)
            except sqlite3.DatabaseError as exc:
                # SQLite refuses a file shorter than its header says (cut at a
                # page boundary) unless told to trust the file's size: then
                # everything on the pages still there can be read, and
                # recovery salvages it. Nothing is written here.
                self.damage = f"SQLite cannot read it as it is ({exc})"
                try:
                    self._db.execute("PRAGMA writable_schema=ON")
                    self._prepare(synchronous, damaged=True)
                except sqlite3.DatabaseError as again:
                    raise JournalCorruptError(
                        f"journal file {str(self.path)!r}: SQLite cannot read it ({again})"
                    ) from None
                self.notes.append(f"the file is damaged: {self.damage}")
        except JournalError:
            self._db.close()
            raise
        if self.version < 2:
            self.notes.append(
                f"journal written by an earlier valueroute (schema version {self.version}): "
                "its records are not chained, and a lost tail is detected only once a mark "
                "file has been written beside it"
            )

    @property
    def chained(self) -> bool:
        """Whether each record's checksum starts from the previous record's."""
        return self.version >= 2

    @property
    def mark_expected(self) -> bool:
        """Whether a journal with records must have a mark file (schema version 2 on)."""
        return self.version >= 2

    def mark(self) -> tuple[int, int] | None:
        """The last committed ``(position, checksum)`` per the mark file; ``None`` if absent.

        Raises :class:`JournalCorruptError` for a mark file that cannot be read.
        """
        try:
            data = self.mark_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JournalCorruptError(
                f"mark file {self.mark_path.name!r} cannot be read ({exc.strerror})"
            ) from None
        words = data[:_MARK_SIZE].split()
        try:
            tag, version, position, checksum, crc = (w.decode("ascii") for w in words)
            body = f"{tag} {version} {position} {checksum}"
            if tag != _MARK_TAG or version != "1" or int(crc, 16) != zlib.crc32(body.encode()):
                raise ValueError(body)
            return int(position), int(checksum)
        except ValueError:
            raise JournalCorruptError(
                f"mark file {self.mark_path.name!r} holds {data[:_MARK_SIZE]!r} (expected "
                f"'{_MARK_TAG} 1 POSITION CHECKSUM CRC')"
            ) from None

    def copy_wal(self, tag: str) -> Path | None:
        """Copy the ``-wal`` file as it is to ``NAME.TAG-N-wal``; its path, or ``None`` if none."""
        source = Path(f"{self.path}-wal")
        if not source.exists():
            return None
        number = 1
        while (target := self.path.with_name(f"{self.path.name}.{tag}-{number}-wal")).exists():
            number += 1
        shutil.copyfile(source, target)
        return target

    def set_mark(self, position: int, checksum: int, *, sync: bool = True) -> None:
        """Record ``(position, checksum)`` as the last committed record. One write.

        The write reaches the operating system at once (a killed process
        cannot lose it). Under ``"full"`` it is also fsynced when ``sync`` is
        true, or at most once a second for the marks :meth:`append` writes:
        a second fsync per commit would halve the throughput of ``every``,
        and a mark that lags only makes recovery check less, never wrongly.
        """
        if self._mark_fd is None:
            self._mark_fd = os.open(self.mark_path, os.O_RDWR | os.O_CREAT, 0o644)
        os.pwrite(self._mark_fd, _mark_bytes(position, checksum), 0)
        self._mark_dirty = True
        if self._mark_sync:
            now = _time.monotonic()
            if sync or now - self._mark_synced >= _MARK_SYNC_SECONDS:
                os.fsync(self._mark_fd)
                self._mark_synced = now
                self._mark_dirty = False

    def _prepare(self, synchronous: str, *, damaged: bool) -> None:
        db = self._db
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if damaged and not tables:
            raise JournalCorruptError(
                f"journal file {str(self.path)!r}: SQLite cannot read it ({self.damage}; "
                "no table is left to salvage)"
            )
        if application_id == 0 and version == 0 and not tables:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
            # Into the main file now: a -wal file lost before the first
            # checkpoint must not take the schema (and the journal's identity) with it.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.notes.append("a new journal was created")
            if not self.mark_path.exists():
                self.set_mark(0, 0)
        elif application_id != APPLICATION_ID:
            raise JournalFormatError(
                f"journal file {str(self.path)!r}: application id {application_id:#x} with "
                f"tables {sorted(tables)} (expected a valueroute journal, id {APPLICATION_ID:#x})"
            )
        elif version > SCHEMA_VERSION:
            raise JournalFormatError(
                f"journal file {str(self.path)!r}: schema version {version} (expected at most "
                f"{SCHEMA_VERSION}: written by a newer valueroute; upgrade to read it)"
            )
        elif version < 1 or not {"records", "snapshots", "quarantine"} <= tables:
            raise JournalFormatError(
                f"journal file {str(self.path)!r}: schema version {version} with tables "
                f"{sorted(tables)} (expected version 1 to {SCHEMA_VERSION} with records, "
                "snapshots and quarantine)"
            )
        else:
            self.version = version
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise JournalFormatError(
                f"journal file {str(self.path)!r}: journal mode {mode!r} (expected 'wal')"
            )
        db.execute(f"PRAGMA synchronous={synchronous.upper()}")

    def append(self, records: Sequence[Record]) -> None:
        """Insert the records in one transaction, then rewrite the mark file. O(len(records)).

        Committed when this returns (fsynced under ``"full"``; the mark's own
        fsync may lag up to a second, see :meth:`set_mark`). A failing insert is
        rolled back and SQLite's error propagates.
        """
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                [(r.position, r.time, r.command, r.arguments, r.checksum) for r in records],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        if records:
            self.set_mark(records[-1].position, records[-1].checksum, sync=False)

    def read(self, *, after: int) -> Iterator[Record]:
        """Records with position > ``after`` in position order, read 1,024 at a time.

        Checksums are not checked here (recovery does). Past a damaged page it
        reads on one record at a time from the last one yielded, and raises
        :class:`JournalCorruptError` where SQLite can read no further; records
        yielded before stay valid.
        """
        query = (
            "SELECT position, time, command, arguments, checksum FROM records "
            "WHERE position > ? ORDER BY position"
        )
        last = after
        try:
            cursor = self._db.execute(query, (after,))
            while True:
                rows = cursor.fetchmany(1024)
                if not rows:
                    return
                for position, time, command, arguments, checksum in rows:
                    yield Record(position, time, command, arguments, checksum)
                    last = position
        except sqlite3.DatabaseError:
            pass
        # A damaged page ended the batch: read on one record at a time from
        # the last one yielded, so every record before the damage is kept.
        try:
            cursor = self._db.execute(query, (last,))
            while (row := cursor.fetchone()) is not None:
                yield Record(*row)
        except sqlite3.DatabaseError as exc:
            raise JournalCorruptError(f"SQLite cannot read the records ({exc})") from None

    def write_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Store a snapshot, replacing any at the same position; committed when this returns."""
        self._db.execute(
            "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
            (snapshot.position, snapshot.data, snapshot.checksum),
        )

    def snapshots(self) -> Iterator[StoredSnapshot]:
        """Stored snapshots, newest (highest position) first, each read when reached.

        Checksums are not checked here (see :meth:`StoredSnapshot.intact`).
        Raises :class:`JournalCorruptError` where SQLite cannot read one;
        snapshots yielded before stay valid.
        """
        try:
            positions = [
                row[0]
                for row in self._db.execute("SELECT position FROM snapshots ORDER BY position DESC")
            ]
        except sqlite3.DatabaseError as exc:
            raise JournalCorruptError(f"SQLite cannot read the snapshots ({exc})") from None
        for position in positions:
            try:
                row = self._db.execute(
                    "SELECT position, data, checksum FROM snapshots WHERE position = ?",
                    (position,),
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                raise JournalCorruptError(
                    f"SQLite cannot read the snapshot at position {position} ({exc})"
                ) from None
            if row is None:
                # Listed by the index, missing from the table: pages of two
                # moments (a damaged -wal over a half-checkpointed file).
                raise JournalCorruptError(
                    f"the snapshot at position {position} is listed but cannot be read "
                    "(the file's pages disagree)"
                )
            yield StoredSnapshot(*row)

    def truncate(self, *, through: int) -> int:
        """Delete records up to ``through`` and snapshots before it; returns records deleted.

        One transaction. The snapshot at position ``through`` itself is kept.
        """
        db = self._db
        db.execute("BEGIN")
        dropped = db.execute("DELETE FROM records WHERE position <= ?", (through,)).rowcount
        db.execute("DELETE FROM snapshots WHERE position < ?", (through,))
        db.execute("COMMIT")
        return int(dropped)

    def quarantine(self, *, after: int, reason: str) -> int:
        """Move records after position ``after`` to the quarantine table; returns how many.

        One transaction. Each keeps ``reason``; they are never replayed, and
        :meth:`quarantined` lists them.
        """
        db = self._db
        db.execute("BEGIN")
        moved = db.execute(
            "INSERT INTO quarantine SELECT position, time, command, arguments, checksum, ? "
            "FROM records WHERE position > ?",
            (reason, after),
        ).rowcount
        db.execute("DELETE FROM records WHERE position > ?", (after,))
        db.execute("COMMIT")
        return int(moved)

    def check(self) -> str | None:
        """SQLite's ``quick_check``: O(file size)."""
        try:
            rows = [str(row[0]) for row in self._db.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            return str(exc)
        if rows == ["ok"]:
            return None
        text = "; ".join(" ".join(rows).split())
        return text if len(text) <= 200 else text[:197] + "..."

    def quarantined(self) -> list[tuple[int, str]]:
        """Positions and reasons of the records moved aside by recovery."""
        return [
            (int(p), str(r))
            for p, r in self._db.execute("SELECT position, reason FROM quarantine ORDER BY rowid")
        ]

    def close(self, *, checkpoint: bool = True) -> None:
        """Close the file. ``checkpoint=False`` leaves the files as they are.

        SQLite copies the ``-wal`` file into the main file and deletes it when
        its last connection closes; a refused recovery must not do that (the
        ``-wal`` file may be the evidence, or the damage), so it closes with a
        read-only connection still open, which never checkpoints.
        """
        if checkpoint:
            self._db.close()
        else:
            keeper = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True)
            try:
                keeper.execute("PRAGMA writable_schema=ON")
                # A read holds the keeper's lock. If the file cannot be read
                # even so, the keeper holds none and SQLite may checkpoint
                # on close: the refusal then leaves what SQLite leaves.
                with contextlib.suppress(sqlite3.DatabaseError):
                    keeper.execute("PRAGMA user_version").fetchone()
                self._db.close()
            finally:
                keeper.close()
        if self._mark_fd is not None:
            try:
                if self._mark_sync and self._mark_dirty:
                    os.fsync(self._mark_fd)
            finally:
                os.close(self._mark_fd)
                self._mark_fd = None


# ---------------------------------------------------------------------- recovery report


@dataclass(slots=True)
class RecoveryReport:
    """What :meth:`DurableEngine.open` found and did.

    ``snapshot``: position of the snapshot restored (``None``: replay from the
    start). ``snapshots_skipped``: ``(position, reason)`` of newer snapshots
    that could not be used. ``replayed``: records replayed after it.
    ``dropped``: records not replayed (the first damaged one and all after
    it), ``dropped_from`` its position and ``reason`` why. ``lost``:
    records the store's mark says were committed but the store no longer
    holds (a ``-wal`` file that lost its tail or was deleted), the first being
    ``lost_from``. ``mark``: what is wrong with the mark, if anything (lost
    records, a record that differs from the one committed, a missing or
    unreadable mark file). ``repair``: what was changed in the store to
    continue (``None``: nothing).
    """

    snapshot: int | None = None
    snapshots_skipped: list[tuple[int, str]] = field(default_factory=list)
    replayed: int = 0
    dropped: int = 0
    dropped_from: int | None = None
    reason: str | None = None
    repair: str | None = None
    position: int = 0
    notes: list[str] = field(default_factory=list)
    lost: int = 0
    lost_from: int | None = None
    mark: str | None = None

    @property
    def clean(self) -> bool:
        """Whether everything committed was found and used (no damage, nothing lost)."""
        return (
            self.dropped == 0
            and not self.snapshots_skipped
            and self.reason is None
            and self.lost == 0
            and self.mark is None
        )

    def __str__(self) -> str:
        parts = [
            f"snapshot at {self.snapshot}" if self.snapshot is not None else "no snapshot",
            f"{self.replayed} records replayed",
            f"position {self.position}",
        ]
        if self.dropped or self.reason:
            parts.append(
                f"{self.dropped} records dropped from position {self.dropped_from} ({self.reason})"
            )
        parts.extend(f"snapshot {p} skipped ({why})" for p, why in self.snapshots_skipped)
        if self.mark:
            parts.append(self.mark)
        if self.repair:
            parts.append(self.repair)
        return "; ".join(parts + self.notes)


# ---------------------------------------------------------------------- commands


def check_vocabulary(commands: Mapping[str, Command]) -> dict[str, Command]:
    """The commands of ``commands`` that change state, each checked to have a journal form.

    A command that changes state must name the :class:`DurableEngine` method
    that journals it and be applicable to an :class:`~valueroute.engine.Engine`
    (:meth:`~valueroute.commands.Command.apply`); its record holds the
    fields of its argument model. A command missing any of these raises
    :class:`JournalFormatError` naming it: the journal refuses to be imported
    with a vocabulary it could not write or replay. O(commands).
    """
    journaled: dict[str, Command] = {}
    for name, command in commands.items():
        if not command.mutates:
            continue
        method = command.method
        problem = None
        if method is None:
            problem = "names no method"
        elif not callable(getattr(DurableEngine, method, None)):
            problem = f"has no DurableEngine.{method} to journal it"
        elif command.engine_form is None and not callable(getattr(Engine, method, None)):
            problem = f"has no Engine.{method} and no engine_form to replay it"
        if problem is not None:
            raise JournalFormatError(
                f"command {name!r} changes state but {problem} (expected every command of "
                "the vocabulary that changes state to have a journal form)"
            )
        journaled[name] = command
    return journaled


def replay(engine: Engine, records: Sequence[Record], *, clock: list[float]) -> None:
    """Apply records to an engine whose clock reads ``clock[0]``. O(total command cost).

    Each record is applied through its command's
    :meth:`~valueroute.commands.Command.apply`, as recovery and a
    follower's :meth:`DurableEngine.catch_up` do.
    """
    for record in records:
        clock[0] = record.time
        _JOURNALED[record.command].apply(engine, json.loads(record.arguments))


# ---------------------------------------------------------------------- argument checks
#
# A command's arguments are checked for their types before the engine runs
# it, so that a wrong-typed argument is a refusal (InvalidInputError, nothing
# journaled, nothing changed) and never an engine failure that would leave
# the durable engine out of step with its journal. Cheap isinstance checks.


def _shown(value: object) -> str:
    """A bounded repr of a user value, for error messages (bounded work too)."""
    return bounded_repr(value, 60)


def _need_id(name: str, value: object, *, optional: bool = False) -> None:
    if type(value) is str or (optional and value is None):
        return
    raise InvalidInputError(
        f"{name}: got {type(value).__name__} {_shown(value)} "
        f"(expected an id string{' or None' if optional else ''})"
    )


def _need_text(name: str, value: object) -> None:
    if value is None or isinstance(value, str):
        return
    raise InvalidInputError(
        f"{name}: got {type(value).__name__} {_shown(value)} (expected a string or None)"
    )


def _need_number(name: str, value: object, *, optional: bool = True) -> None:
    if (optional and value is None) or (
        isinstance(value, int | float) and not isinstance(value, bool)
    ):
        return
    raise InvalidInputError(
        f"{name}: got {type(value).__name__} {_shown(value)} "
        f"(expected a number{' or None' if optional else ''})"
    )


def _need_integer(name: str, value: object) -> None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return
    raise InvalidInputError(
        f"{name}: got {type(value).__name__} {_shown(value)} (expected an integer or None)"
    )


def _need_flag(name: str, value: object) -> None:
    if isinstance(value, bool):
        return
    raise InvalidInputError(
        f"{name}: got {type(value).__name__} {_shown(value)} (expected True or False)"
    )


def _need_skills(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        for name, level in value.items():
            if not isinstance(name, str):
                raise InvalidInputError(
                    f"skills: got a key {_shown(name)} (expected skill names as strings)"
                )
            _need_number(f"skills[{_shown(name)}]", level, optional=False)
        return dict(value)
    raise InvalidInputError(
        f"skills: got {type(value).__name__} {_shown(value)} "
        "(expected a mapping of skill names to levels, or None)"
    )


# ---------------------------------------------------------------------- durable engine


_NONE_BATCH = 10_000

_CHAIN_START = APPLICATION_ID
"""What the first record of a chained journal chains from. Not 0: a CRC from 0
is what an unchained checksum is, and a forged first record must not pass."""


def _check_options(
    sync: object, group_size: object, group_seconds: object, engine_factory: object
) -> SyncPolicy:
    """The sync policy, once every option of :class:`DurableEngine` is checked."""
    try:
        policy = SyncPolicy(sync)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise InvalidInputError(
            f"sync: got {_shown(sync)} (expected one of {[p.value for p in SyncPolicy]})"
        ) from None
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise InvalidInputError(f"group_size: got {_shown(group_size)} (expected an integer >= 1)")
    if (
        isinstance(group_seconds, bool)
        or not isinstance(group_seconds, int | float)
        or not (math.isfinite(group_seconds) and group_seconds >= 0)
    ):
        raise InvalidInputError(
            f"group_seconds: got {_shown(group_seconds)} (expected finite seconds >= 0)"
        )
    if not callable(engine_factory):
        raise InvalidInputError(
            f"engine_factory: got {type(engine_factory).__name__} "
            "(expected a function of a clock that builds a valueroute.Engine)"
        )
    return policy


def _last_position(records: Iterator[Record], highest: int) -> int:
    """The highest position among the records left to read (as far as they can be read)."""
    try:
        for record in records:
            highest = max(highest, record.position)
    except JournalCorruptError:
        pass
    return highest


class DurableEngine:
    """An engine whose every successful command is journaled before it returns.

    Build it with :meth:`open`. Commands have the engine's names and
    arguments (task and agent ids are the ``task`` / ``agent`` positional
    arguments); queries go to :attr:`engine`. Each command costs the
    engine's work plus O(size of its arguments) to encode and, under
    ``every``, one commit.
    """

    def __init__(
        self,
        store: Store,
        engine_factory: EngineFactory,
        *,
        sync: SyncPolicy | str = SyncPolicy.every,
        group_size: int = 256,
        group_seconds: float = 0.005,
        clock: Callable[[], float] | None = None,
        on_durable: Callable[[int], None] | None = None,
        repair: bool = True,
    ) -> None:
        self.sync = _check_options(sync, group_size, group_seconds, engine_factory)
        self._store = store
        # Stores that take part in leadership say whether they lead; others always write.
        self._fenced_store = hasattr(store, "is_leader")
        self._factory = engine_factory
        self._clock: Callable[[], float] = _time.time if clock is None else clock
        self._on_durable = on_durable
        self._batch = {SyncPolicy.every: 1, SyncPolicy.group: group_size}.get(
            self.sync, _NONE_BATCH
        )
        self._group_seconds = group_seconds if self.sync is SyncPolicy.group else math.inf
        self._pending: list[Record] = []
        # The last position handed out by detach_pending (committed or not).
        self._detached = 0
        self._pending_since = 0.0
        self._broken: str | None = None
        self._closed = False
        self._policy_config: dict[str, Any] | None = None
        self._rules_config: dict[str, Any] | None = None
        self._pinned = [-math.inf]
        self._engine: Engine
        # Checksum of the last record applied (the chain's head), and whether
        # the store's records are chained (see Record).
        self._chained = bool(getattr(store, "chained", False))
        self._chain = _CHAIN_START if self._chained else 0
        # A recovery makes millions of long-lived objects (see collector_paused).
        with _snapshot.collector_paused():
            self.report = self._recover(repair=repair)
        self._position = self.report.position
        self._durable = self._position
        # Queries between commands (statistics, explain) read the pinned clock:
        # keep it at the engine's time, never ahead of what the journal holds.
        now = self._engine.now
        self._pinned[0] = now if math.isfinite(now) else float(self._clock())

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        target: str | Path | Store,
        engine_factory: EngineFactory,
        *,
        sync: SyncPolicy | str = SyncPolicy.every,
        group_size: int = 256,
        group_seconds: float = 0.005,
        clock: Callable[[], float] | None = None,
        on_durable: Callable[[int], None] | None = None,
        repair: bool = True,
    ) -> DurableEngine:
        """Open (or create) a journal and rebuild the engine: latest snapshot plus replay.

        ``target`` is a file path (a :class:`SQLiteStore`), a ``postgresql://``
        URL (a :class:`valueroute.pgstore.PostgresStore` that takes the lead, or
        refuses if another process holds it) or any :class:`Store`.
        ``engine_factory(clock)`` must build the engine with the same
        configuration every time. What was found is in :attr:`report`.
        O(snapshot size + records after it).
        """
        # Checked before a file is created for a journal that would be refused.
        _check_options(sync, group_size, group_seconds, engine_factory)
        store: Store
        if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
            from valueroute.pgstore import PostgresStore

            store = PostgresStore(target)
        elif isinstance(target, str | os.PathLike):
            store = SQLiteStore(target, synchronous="off" if sync == "none" else "full")
        elif isinstance(target, Store):
            store = target
        else:
            raise InvalidInputError(
                f"target: got {type(target).__name__} (expected a file path or a Store)"
            )
        try:
            return cls(
                store,
                engine_factory,
                sync=sync,
                group_size=group_size,
                group_seconds=group_seconds,
                clock=clock,
                on_durable=on_durable,
                repair=repair,
            )
        except BaseException:
            if isinstance(store, SQLiteStore) and store is not target:
                # Refused (or failed): leave the files as they were found.
                store.close(checkpoint=False)
            else:
                store.close()
            raise

    def _fresh_engine(self) -> Engine:
        pinned = self._pinned
        engine = self._factory(lambda: pinned[0])
        if not isinstance(engine, Engine):
            raise InvalidInputError(
                f"engine_factory: returned {type(engine).__name__} (expected a valueroute.Engine)"
            )
        return engine

    def _recover(self, *, repair: bool) -> RecoveryReport:
        report = RecoveryReport(notes=list(getattr(self._store, "notes", [])))
        store = self._store
        engine: Engine | None = None
        start = 0
        damaged: str | None = None
        unreadable: str | None = None
        mark: tuple[int, int] | None = None
        mark_unreadable: str | None = None
        if callable(getattr(store, "mark", None)):
            try:
                mark = store.mark()  # type: ignore[attr-defined]
            except JournalCorruptError as exc:
                mark_unreadable = str(exc)
        try:
            for stored in store.snapshots():
                reason = self._try_snapshot(stored)
                if reason is None:
                    engine = self._engine
                    start = stored.position
                    report.snapshot = stored.position
                    break
                report.snapshots_skipped.append((stored.position, reason))
        except JournalCorruptError as exc:
            # The snapshots cannot be read: the records may still be, from
            # the first (if they were never compacted away).
            unreadable = str(exc)
        if engine is None:
            self._policy_config, self._rules_config = None, None
            self._chain = _CHAIN_START if self._chained else 0
            engine = self._engine = self._fresh_engine()
        position = start
        # The chain value at each position the mark may point to.
        chains = {start: self._chain}
        highest = start
        records = store.read(after=start)
        while damaged is None:
            try:
                record = next(records)
            except StopIteration:
                break
            except JournalCorruptError as exc:
                damaged = str(exc)
                break
            highest = max(highest, record.position)
            if position == 0 and record.position > 1:
                raise JournalCorruptError(
                    f"the journal starts at record {record.position} and no snapshot before it "
                    f"is usable ({report.snapshots_skipped or unreadable or 'none stored'}): "
                    "the engine cannot be rebuilt (expected a readable snapshot)",
                    report,
                )
            problem = self._check_record(record, position)
            if problem is not None:
                report.dropped_from = position + 1
                report.reason = problem
                break
            try:
                self._apply_record(record)
            except ValueRouteError as exc:
                raise JournalCorruptError(
                    f"record {record.position} ({record.command}) fails on replay: {exc} "
                    "(expected the engine factory to build the same engine as when it was "
                    "recorded)",
                    report,
                ) from None
            position = record.position
            self._chain = record.checksum
            report.replayed += 1
            if mark is not None and position == mark[0]:
                chains[position] = record.checksum
        if damaged is None and report.reason is not None:
            # What lies past a damaged record still counts as held, for the mark.
            highest = _last_position(records, highest)
        report.position = position
        if damaged is None:
            damaged = unreadable or getattr(store, "damage", None)
        report.mark = self._compare_mark(store, report, mark, mark_unreadable, chains, highest)
        if report.mark is not None and not repair:
            raise JournalCorruptError(
                f"journal lost committed records or its mark: {report.mark} "
                "(open with repair=True to continue from what is intact)",
                report,
            )
        kept = None
        if report.lost and isinstance(store, SQLiteStore):
            # SQLite drops the -wal file's unreadable frames at its next
            # checkpoint: keep them for whoever wants to look.
            kept = store.copy_wal("lost")
        if damaged is not None:
            report.reason = damaged
            report.dropped_from = position + 1
            if not repair:
                raise JournalCorruptError(
                    f"journal is damaged after position {position}: {damaged} "
                    "(open with repair=True to start a new file from what is intact)",
                    report,
                )
            report.repair = self._salvage(position)
        elif report.reason is not None:
            if not repair:
                raise JournalCorruptError(
                    f"journal record {report.dropped_from} is damaged: {report.reason} "
                    "(open with repair=True to move it and later records aside)",
                    report,
                )
            structural = store.check()
            if structural is not None:
                report.reason = f"{report.reason}; the file is damaged: {structural}"
                report.repair = self._salvage(position)
            else:
                report.dropped = store.quarantine(after=position, reason=report.reason)
                report.repair = (
                    f"{report.dropped} records after position {position} moved to quarantine"
                )
        if report.repair is not None or report.mark is not None:
            set_mark = getattr(self._store, "set_mark", None)
            if callable(set_mark):
                set_mark(position, self._chain)
                if report.mark is not None:
                    fixed = f"mark reset to position {position}"
                    if kept is not None:
                        fixed = f"{fixed}; the -wal file as found was copied to {kept.name}"
                    report.repair = fixed if report.repair is None else f"{report.repair}; {fixed}"
        return report

    def _compare_mark(
        self,
        store: Store,
        report: RecoveryReport,
        mark: tuple[int, int] | None,
        unreadable: str | None,
        chains: Mapping[int, int],
        highest: int,
    ) -> str | None:
        """What the store's mark says is wrong with what recovery found, or ``None``."""
        if unreadable is not None:
            return f"{unreadable}: a lost tail cannot be ruled out"
        if mark is None:
            if getattr(store, "mark_expected", False) and (highest > 0 or report.snapshot):
                name = getattr(getattr(store, "mark_path", None), "name", "the mark file")
                return (
                    f"the mark file {name!r} is missing: whether committed records were "
                    "lost cannot be told"
                )
            return None
        marked, checksum = mark
        held = max(highest, report.position)
        if marked > held:
            report.lost = marked - held
            report.lost_from = held + 1
            return (
                f"records {held + 1} to {marked} were committed (the mark says {marked}) but "
                f"the journal ends at {held}: lost, as when the -wal file loses its tail or is "
                "deleted after a crash"
            )
        if marked > 0 and marked in chains and chains[marked] != checksum and self._chained:
            return (
                f"record {marked} differs from the one committed (chained checksum "
                f"{chains[marked]:#010x}, the mark says {checksum:#010x})"
            )
        return None

    def _check_record(self, record: Record, position: int) -> str | None:
        if record.position != position + 1:
            return f"record {record.position} follows {position} (expected {position + 1})"
        if record.command not in _JOURNALED:
            return f"unknown command {record.command!r}"
        if not record.intact(self._chain if self._chained else 0):
            return f"checksum mismatch in record {record.position}"
        return None

    def _try_snapshot(self, stored: StoredSnapshot) -> str | None:
        if not stored.intact():
            return "checksum mismatch"
        try:
            data = _snapshot.loads(stored.data)
            journal = data["journal"]
            engine = self._fresh_engine()
            policy = journal["policy"]
            rules = journal["rules"]
            chosen = None if policy is None else policy_by_name(policy["name"], **policy["params"])
            _snapshot.configure(
                engine,
                policy=chosen,
                rules=None if rules is None else compile_rules(rules, engine.calendars),
                replace_rules=rules is not None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"unusable: {type(exc).__name__} {_shown(str(exc))}"
        try:
            _snapshot.restore(data, engine)
        except _snapshot.SnapshotContentError as exc:
            # A checksum that matches content that is wrong (written by a bug,
            # or edited): fall back to an older snapshot or to replay.
            return f"unusable: {exc}"
        except InvalidInputError as exc:
            raise JournalFormatError(
                f"snapshot at position {stored.position} does not fit the engine the factory "
                f"builds: {exc}"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            return f"unusable: {type(exc).__name__} {_shown(str(exc))}"
        chain = journal.get("chain", 0)
        if isinstance(chain, bool) or not isinstance(chain, int):
            return f"unusable: chain {_shown(chain)} (expected an integer)"
        self._engine = engine
        self._chain = chain
        self._policy_config, self._rules_config = policy, rules
        return None

    def _apply_record(self, record: Record) -> None:
        self._pinned[0] = record.time
        arguments = json.loads(record.arguments)
        _JOURNALED[record.command].apply(self._engine, arguments)
        self._note_config(record.command, arguments)

    def _note_config(self, command: str, arguments: Mapping[str, Any]) -> None:
        if command == "set_policy":
            self._policy_config = dict(arguments)
        elif command == "set_rules":
            self._rules_config = dict(arguments)

    def _salvage(self, position: int) -> str:
        """Move a damaged SQLite file aside and start a new one from a snapshot."""
        store = self._store
        if not isinstance(store, SQLiteStore):
            raise JournalCorruptError(
                f"store {store!r} is damaged after position {position} and cannot be "
                "repaired here (expected a SQLiteStore, or repair=False)",
                None,
            )
        path = store.path
        # Moved aside as found: no checkpoint into the damaged file first.
        store.close(checkpoint=False)
        number = 1
        while path.with_name(f"{path.name}.damaged-{number}").exists():
            number += 1
        aside = path.with_name(f"{path.name}.damaged-{number}")
        for suffix in ("", "-wal", "-shm", ".mark"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.rename(Path(f"{aside}{suffix}"))
        self._store = SQLiteStore(path, synchronous=store.synchronous)
        self._store.write_snapshot(StoredSnapshot.make(position, self._snapshot_text()))
        return f"damaged file moved to {aside.name}; new file started from a snapshot at {position}"

    # ---------------------------------------------------------------- properties

    @property
    def engine(self) -> Engine:
        """The engine, for queries. Change it only through this object's commands."""
        return self._engine

    @property
    def store(self) -> Store:
        """The store the journal is written to (a :class:`SQLiteStore` for a path).

        Read it for inspection; writing to it directly bypasses the journal.
        """
        return self._store

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def out_of_step(self) -> str | None:
        """Why the engine and its journal may disagree (commands are refused), or ``None``.

        Set when a command failed after taking effect or the store refused a
        write (:class:`JournalFencedError` included); open the journal again.
        """
        return self._broken

    @property
    def position(self) -> int:
        """Position of the last command applied (journaled, perhaps not yet durable)."""
        return self._position

    @property
    def durable_position(self) -> int:
        """Position of the last command committed: it and all before survive a crash."""
        return self._durable

    def digest(self) -> str:
        """The engine's :meth:`Engine.digest`: reads the engine without journaling. O(n log n)."""
        return self._engine.digest()

    def get(self, task: str) -> Task:
        """A task by id, as :meth:`Engine.get`: reads the engine without journaling. O(1).

        A ``task`` that is not a string raises :class:`~valueroute.errors.InvalidInputError`.
        """
        _need_id("task", task)
        return self._engine.get(task)

    def next_wakeup(self) -> float:
        """When something time-based is next due, as :meth:`Engine.next_wakeup`; not journaled."""
        return self._engine.next_wakeup()

    def watch_wakeup(self, watcher: Callable[[float], None]) -> Callable[[], None]:
        """As :meth:`Engine.watch_wakeup` (watching is not journaled)."""
        return self._engine.watch_wakeup(watcher)

    def subscribe(
        self,
        subscriber: Callable[[Event], None],
        *,
        kinds: Iterable[EventKind | str] | None = None,
    ) -> Callable[[], None]:
        """Call ``subscriber`` for later events, as :meth:`Engine.subscribe`; not journaled.

        Returns the function that unsubscribes. Events of commands replayed by
        :meth:`open` are not sent: subscribe again after each open.
        """
        return self._engine.subscribe(subscriber, kinds=kinds)

    # ---------------------------------------------------------------- the write path

    def _run(self, command: str, *values: Any) -> Any:
        """Run ``command`` with its arguments' ``values`` in the order of its argument
        model; journal it in the vocabulary's form once the engine accepts it."""
        journaled = _JOURNALED[command]
        arguments = dict(zip(_FIELDS[command], values, strict=True))
        if self._closed:
            raise JournalStateError("the durable engine is closed (expected an open one)")
        if self._fenced_store and not self._store.is_leader:  # type: ignore[attr-defined]
            raise JournalStateError(
                f"{command}: this process follows the journal and does not lead it "
                "(expected commands at the leader; nothing was changed)"
            )
        if self._broken is not None:
            raise JournalStateError(
                f"the engine and its journal may disagree ({self._broken}); "
                "open the journal again to recover"
            )
        try:
            text = _encode_arguments(arguments)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"{command}: got arguments {_shown(arguments)} that cannot be journaled "
                f"(expected JSON values: {exc})"
            ) from None
        now = float(self._clock())
        engine = self._engine
        before = engine._now
        told = engine._event_seq
        self._pinned[0] = now
        try:
            result = journaled.apply(engine, arguments)
        except ValueRouteError as exc:
            if engine._event_seq != told:
                # It took effect before failing (a policy that could not score
                # a task): replay, which never sees it, would differ.
                self._broken = f"{command} raised {type(exc).__name__} after taking effect"
                raise
            # Some commands read the clock before refusing: a refused command
            # must leave no trace, or replay (which never sees it) would differ.
            engine._now = before
            raise
        except BaseException as exc:
            self._broken = f"{command} raised {type(exc).__name__}"
            raise
        self._position += 1
        self._note_config(command, arguments)
        pending = self._pending
        if not pending:
            self._pending_since = _time.monotonic()
        record = Record.make(
            self._position, now, command, text, self._chain if self._chained else 0
        )
        self._chain = record.checksum
        pending.append(record)
        if (
            len(pending) >= self._batch
            or _time.monotonic() - self._pending_since >= self._group_seconds
        ) and self._detached <= self._durable:
            self.flush()
        return result

    def detach_pending(self) -> DetachedBatch | None:
        """Hand out the records applied but not yet committed (``None`` if there are none).

        The first phase of a two-phase commit: the records leave this
        object's buffer, and :attr:`durable_position` stays where it was
        until :meth:`commit_detached` commits them, which may run in another
        thread while this one goes on running commands (their records form
        the next batch). Commit the batches in the order they were detached;
        until a batch is committed, :meth:`flush`, :meth:`snapshot` and
        :meth:`catch_up` refuse with :class:`JournalStateError`. O(1) (plus an
        occasional pruning of the specs kept for snapshots).
        """
        if self._closed:
            raise JournalStateError("the durable engine is closed (expected an open one)")
        if self._broken is not None:
            raise JournalStateError(
                f"the engine and its journal may disagree ({self._broken}); "
                "open the journal again to recover"
            )
        pending = self._pending
        if not pending:
            return None
        self._pending = []
        self._detached = pending[-1].position
        return DetachedBatch(tuple(pending))

    def commit_detached(self, batch: DetachedBatch) -> int:
        """Commit a batch from :meth:`detach_pending`; returns :attr:`durable_position`.

        The second phase: one transaction of the store (one fsync for
        SQLite, fenced by the term for PostgreSQL). It touches neither the
        engine nor the buffer, so it may run in a worker thread while
        commands go on in the thread that detached it; ``on_durable`` is
        called in the thread that commits. A batch out of order raises
        :class:`JournalStateError`; a store that fails (or fences this
        process) raises its error and leaves this object out of step (see
        :attr:`out_of_step`), as :meth:`flush` does. O(len(batch)).
        """
        if not isinstance(batch, DetachedBatch) or not batch.records:
            raise InvalidInputError(
                f"batch: got {_shown(batch)} (expected a DetachedBatch from detach_pending)"
            )
        if self._closed:
            raise JournalStateError("the durable engine is closed (expected an open one)")
        if batch.first != self._durable + 1 or batch.last > self._detached:
            raise JournalStateError(
                f"commit_detached: records {batch.first} to {batch.last} after durable position "
                f"{self._durable} (expected the next batch detached, committed in order)"
            )
        try:
            self._store.append(batch.records)
        except BaseException as exc:
            self._broken = f"the store failed: {exc}"
            raise
        self._durable = batch.last
        if self._on_durable is not None:
            self._on_durable(batch.last)
        return batch.last

    def _check_nothing_detached(self, what: str) -> None:
        if self._detached > self._durable:
            raise JournalStateError(
                f"{what}: records {self._durable + 1} to {self._detached} are detached and not "
                "committed (expected commit_detached first)"
            )

    def flush(self) -> int:
        """Commit every pending record; returns :attr:`durable_position`. O(pending).

        Raises :class:`JournalStateError` once the durable engine is closed
        with records it could not commit (it was out of step with its journal).
        """
        if self._pending and self._closed:
            raise JournalStateError(
                f"the durable engine is closed with {len(self._pending)} records not committed "
                f"({self._broken or 'closed'}); reopen the journal to recover"
            )
        if self._pending:
            self._check_nothing_detached("flush")
            try:
                self._store.append(self._pending)
            except BaseException as exc:
                self._broken = f"the store failed: {exc}"
                raise
            self._pending = []
            self._durable = self._position
            if self._on_durable is not None:
                self._on_durable(self._durable)
        return self._durable

    def catch_up(self) -> int:
        """Apply the records the store holds past :attr:`position`; returns how many.

        What a follower (:class:`valueroute.standby.Standby`) does between its
        leader's commits, and once more on taking over. O(records applied).
        Records compacted away before they were read, a damaged record or one
        that fails on replay raise :class:`JournalCorruptError` (the engine
        then holds the records before it: open the journal again).
        """
        if self._closed:
            raise JournalStateError("the durable engine is closed (expected an open one)")
        if self._pending:
            raise JournalStateError(
                f"catch_up: {len(self._pending)} records of this process are not committed "
                "(expected a follower, or a leader after flush)"
            )
        self._check_nothing_detached("catch_up")
        applied = 0
        for record in self._store.read(after=self._position):
            if record.position > self._position + 1:
                raise JournalCorruptError(
                    f"catch_up: the journal continues at record {record.position} after "
                    f"{self._position} (compacted past this engine; open the journal again)"
                )
            problem = self._check_record(record, self._position)
            if problem is not None:
                raise JournalCorruptError(f"catch_up: {problem}")
            try:
                self._apply_record(record)
            except ValueRouteError as exc:
                self._broken = f"record {record.position} failed on replay"
                raise JournalCorruptError(
                    f"catch_up: record {record.position} ({record.command}) fails on replay: "
                    f"{exc} (expected the engine factory to build the same engine as the "
                    "leader's)"
                ) from None
            self._chain = record.checksum
            self._position = self._durable = self._detached = record.position
            applied += 1
        return applied

    def _snapshot_text(self) -> str:
        data = _snapshot.snapshot(self._engine)
        data["journal"] = {
            "policy": self._policy_config,
            "rules": self._rules_config,
            "chain": self._chain,
        }
        return json.dumps(data, separators=(",", ":"))

    def snapshot(self) -> int:
        """Write a snapshot at the current position (after a flush); returns the position.

        O(open tasks + agents + timers + remembered closed tasks).
        """
        self.flush()
        self._check_nothing_detached("snapshot")
        self._store.write_snapshot(StoredSnapshot.make(self._position, self._snapshot_text()))
        return self._position

    def compact(self, *, keep: int = 2) -> int:
        """Snapshot, then drop records and snapshots older than the ``keep``-th newest snapshot.

        Keeping two snapshots (the default) lets recovery fall back to the
        older one if the newest is damaged. Returns the number of records dropped.
        """
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise InvalidInputError(f"keep: got {keep!r} (expected an integer >= 1)")
        self.snapshot()
        positions = [s.position for s in self._store.snapshots()][:keep]
        return self._store.truncate(through=positions[-1])

    def close(self) -> None:
        """Flush and close the store. Safe to call twice."""
        if self._closed:
            return
        try:
            if self._broken is None:
                self.flush()
        finally:
            self._closed = True
            self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- commands

    def submit(self, spec: TaskSpec | Mapping[str, Any]) -> Task:
        """Submit a task (see :meth:`Engine.submit`); the spec is journaled as JSON."""
        if not isinstance(spec, TaskSpec):
            if not isinstance(spec, Mapping):
                raise InvalidInputError(
                    f"spec: got {type(spec).__name__} {_shown(spec)} "
                    "(expected a TaskSpec or a mapping of its fields)"
                )
            spec = TaskSpec.model_validate(spec)
        result: Task = self._run("submit", spec_form(spec))
        return result

    def update(
        self,
        task: str,
        *,
        priority: int | None = None,
        value: float | None = None,
        due: float | None = None,
        clear_due: bool = False,
        skills: Mapping[str, float] | None = None,
        expected_version: int | None = None,
    ) -> Task:
        """Change an open task's priority, value, due time or requirements.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.update`.
        """
        _need_id("task", task)
        _need_integer("priority", priority)
        _need_number("value", value)
        _need_number("due", due)
        _need_flag("clear_due", clear_due)
        _need_integer("expected_version", expected_version)
        result: Task = self._run(
            "update",
            task,
            priority,
            value,
            due,
            clear_due,
            _need_skills(skills),
            expected_version,
        )
        return result

    def cancel(self, task: str, *, reason: str | None = None) -> Task:
        """Withdraw a task that no agent is working on.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.cancel`.
        """
        _need_id("task", task)
        _need_text("reason", reason)
        result: Task = self._run("cancel", task, reason)
        return result

    def hold(self, task: str) -> Task:
        """Keep a queued or deferred task out of routing until :meth:`resume`.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.hold`.
        """
        _need_id("task", task)
        result: Task = self._run("hold", task)
        return result

    def resume(self, task: str) -> Task:
        """Return a held or deferred task to the queue, with its original age.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.resume`.
        """
        _need_id("task", task)
        result: Task = self._run("resume", task)
        return result

    def defer(self, task: str, until: float) -> Task:
        """Keep a queued or held task out of routing until ``until`` (seconds).

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.defer`.
        """
        _need_id("task", task)
        _need_number("until", until, optional=False)
        result: Task = self._run("defer", task, until)
        return result

    def transfer(
        self,
        task: str,
        *,
        skills: Mapping[str, float] | None = None,
        channel: str | None = None,
        to_agent: str | None = None,
        keep_age: bool = True,
    ) -> Task:
        """Move a task back to the queue with new requirements, or to an agent's offer.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.transfer`.
        """
        _need_id("task", task)
        _need_text("channel", channel)
        _need_id("to_agent", to_agent, optional=True)
        _need_flag("keep_age", keep_age)
        result: Task = self._run(
            "transfer", task, _need_skills(skills), channel, to_agent, keep_age
        )
        return result

    def complete(self, task: str, *, wrap_up: float | None = None) -> Task:
        """The agent is done with the customer: the assigned task goes to wrap_up or completed.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.complete`.
        """
        _need_id("task", task)
        _need_number("wrap_up", wrap_up)
        result: Task = self._run("complete", task, wrap_up)
        return result

    def end_wrap_up(self, task: str) -> Task:
        """End a task's after-work early: wrap_up to completed.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.end_wrap_up`.
        """
        _need_id("task", task)
        result: Task = self._run("end_wrap_up", task)
        return result

    def accept(self, task: str, agent: str | None = None) -> Task:
        """The agent takes the offered task: offered to assigned.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.accept`.
        """
        _need_id("task", task)
        _need_id("agent", agent, optional=True)
        result: Task = self._run("accept", task, agent)
        return result

    def reject(self, task: str, agent: str | None = None) -> Task:
        """The agent refuses the offer: the task is queued again with its age.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.reject`.
        """
        _need_id("task", task)
        _need_id("agent", agent, optional=True)
        result: Task = self._run("reject", task, agent)
        return result

    def revoke(self, task: str) -> Task:
        """Withdraw an offer: the task is queued again with its age, no cool-down.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.revoke`.
        """
        _need_id("task", task)
        result: Task = self._run("revoke", task)
        return result

    def add_agent(self, spec: AgentSpec | Mapping[str, Any], *, ready: bool = False) -> Agent:
        """Register an agent (offline, or ready with ``ready=True``); the spec is journaled as JSON.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.add_agent`.
        """
        if not isinstance(spec, AgentSpec):
            if not isinstance(spec, Mapping):
                raise InvalidInputError(
                    f"spec: got {type(spec).__name__} {_shown(spec)} "
                    "(expected an AgentSpec or a mapping of its fields)"
                )
            spec = AgentSpec.model_validate(spec)
        result: Agent = self._run("add_agent", spec_form(spec), bool(ready))
        return result

    def remove_agent(self, agent: str) -> Agent:
        """Unregister an agent that holds no task.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.remove_agent`.
        """
        _need_id("agent", agent)
        result: Agent = self._run("remove_agent", agent)
        return result

    def set_agent_state(
        self,
        agent: str,
        state: Presence | str,
        *,
        reason: str | None = None,
        until: float | None = None,
    ) -> Agent:
        """Set an agent offline, ready, not_ready (with ``reason``) or wrap_up (until ``until``).

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.set_agent_state`.
        """
        _need_id("agent", agent)
        if not isinstance(state, str):
            raise InvalidInputError(
                f"state: got {type(state).__name__} {_shown(state)} "
                f"(expected one of {[p.value for p in Presence]})"
            )
        _need_text("reason", reason)
        _need_number("until", until)
        value = state.value if isinstance(state, Presence) else state
        result: Agent = self._run("set_agent_state", agent, value, reason, until)
        return result

    def next_task(self, agent: str) -> Offer | None:
        """Offer the agent the best task it may take now, or return ``None``.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.next_task`.
        """
        _need_id("agent", agent)
        result: Offer | None = self._run("next_task", agent)
        return result

    def advance(self) -> int:
        """Process everything due at the clock's reading; returns the number of timers fired.

        Journaled once the engine accepts it, before this returns; durable as
        :class:`SyncPolicy` says. See :meth:`Engine.advance`.
        """
        result: int = self._run("advance")
        return result

    def set_policy(self, name: str, **params: Any) -> None:
        """Replace the scoring policy by a built-in one, by name and parameters.

        Policy objects are not journaled: only what
        :func:`~valueroute.scoring.policy_by_name` can rebuild.
        """
        _need_id("name", name)
        policy_by_name(name, **params)
        self._run("set_policy", name, params)

    def set_rules(
        self, text: str | None, *, format: Literal["toml", "json", "yaml"] = "toml"
    ) -> None:
        """Replace the rule set by the rules in ``text`` (a rule file's contents), or clear it."""
        if format not in ("toml", "json", "yaml"):
            raise InvalidInputError(
                f"format: got {_shown(format)} (expected 'toml', 'json' or 'yaml')"
            )
        if text is not None:
            if not isinstance(text, str):
                raise InvalidInputError(
                    f"text: got {type(text).__name__} (expected a rule file's text or None)"
                )
            # Compiled as replay will compile them: with the engine's calendars.
            parse_rules(text, format=format).compile(calendars=self.engine.calendars)
        self._run("set_rules", text, format)


_JOURNALED = check_vocabulary(COMMANDS)
"""Every command the journal writes and replays, by name: the vocabulary's."""

_FIELDS = {name: command.fields for name, command in _JOURNALED.items()}
"""The keys of each command's record, in its argument model's order."""


# ---------------------------------------------------------------------- event export


EVENTS_SCHEMA = "valueroute-events"
EVENTS_VERSION = 1


def _refuse_events_path(path: object, reason: str) -> InvalidInputError:
    shown = bounded_repr(str(path) if isinstance(path, Path) else path)
    return InvalidInputError(
        f"export_events: path: cannot write {shown} ({reason}; expected a file path in an "
        "existing folder)",
        [("path", shown, "a writable file path")],
    )


def _events_target(path: object) -> Path:
    """The file ``export_events`` writes: ``path`` checked, symbolic links followed."""
    if not isinstance(path, str | os.PathLike):
        raise _refuse_events_path(path, f"a {type(path).__name__}, not a path")
    try:
        text = os.fspath(path)
        if not isinstance(text, str):
            raise _refuse_events_path(path, "bytes, not text")
        if "\x00" in text:
            raise _refuse_events_path(path, "it holds a NUL character")
        text.encode("utf-8")
        target = Path(os.path.realpath(text))
        folder = target.is_dir()
    except UnicodeEncodeError:
        raise _refuse_events_path(path, "it holds characters that are not valid Unicode") from None
    except OSError as exc:
        raise _refuse_events_path(path, exc.strerror or type(exc).__name__) from None
    if folder:
        raise _refuse_events_path(path, "it is a folder")
    return target


def export_events(events: Iterable[Event], path: str | os.PathLike[str]) -> int:
    """Write events as JSON Lines: a header line, then one :meth:`Event.to_json` per line.

    Header: ``{"schema": "valueroute-events", "version": 1}``. Returns the
    number of events written. O(events); the events are streamed, not held.

    The file is written beside ``path`` under a temporary name and renamed
    over ``path`` once complete, so a reader never sees half a file and a
    refused export leaves any file at ``path`` as it was (an existing file
    keeps its permissions). ``events`` is an iterable of
    :class:`~valueroute.events.Event` and ``path`` a ``str`` or
    :class:`os.PathLike` naming a file in an existing folder; anything else,
    or a file that cannot be written, raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument.
    """
    target = _events_target(path)
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
        raise InvalidInputError(
            f"export_events: events: got {bounded_repr(events)} (expected an iterable of Event)",
            [("events", bounded_repr(events), "an iterable of Event")],
        )
    # Beside the target (a rename within one folder is atomic), its name cut so
    # that a target name near the file system's limit still leaves room.
    temporary = target.with_name(f".{target.name[:100]}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _refuse_events_path(path, exc.strerror or type(exc).__name__) from None
    count = 0
    done = False
    try:
        with open(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps({"schema": EVENTS_SCHEMA, "version": EVENTS_VERSION}) + "\n")
            for index, event in enumerate(events):
                if not isinstance(event, Event):
                    raise InvalidInputError(
                        f"export_events: events[{index}]: got {bounded_repr(event)} of type "
                        f"{type(event).__name__} (expected an Event)",
                        [(f"events[{index}]", bounded_repr(event), "an Event")],
                    )
                try:
                    line = event.to_json()
                except (TypeError, ValueError) as exc:  # data a user put in that is not JSON
                    raise InvalidInputError(
                        f"export_events: events[{index}]: data {bounded_repr(event.data)} cannot "
                        f"be written as JSON ({bounded_repr(str(exc))})",
                        [(f"events[{index}].data", bounded_repr(event.data), "JSON-ready data")],
                    ) from None
                file.write(line + "\n")
                count += 1
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, os.stat(target).st_mode & 0o7777)
        try:
            os.replace(temporary, target)
        except OSError as exc:
            raise _refuse_events_path(path, exc.strerror or type(exc).__name__) from None
        done = True
    finally:
        if not done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    return count


def import_events(path: str | os.PathLike[str]) -> list[Event]:
    """Read a file written by :func:`export_events`. O(events).

    Raises :class:`JournalFormatError` naming the line for a missing or
    newer header, or a line that is not an event, and for a file that cannot
    be read (missing, a folder, a path with a NUL or a lone surrogate).
    ``path`` is a ``str`` or :class:`os.PathLike`; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming it.
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(
            f"import_events: path: got {bounded_repr(path)} of type {type(path).__name__} "
            "(expected a file path)",
            [("path", bounded_repr(path), "a file path")],
        )
    text = os.fspath(path)
    shown = bounded_repr(text)
    if not isinstance(text, str):
        raise InvalidInputError(
            f"import_events: path: got {shown} (expected a file path as text)",
            [("path", shown, "a file path as text")],
        )
    if "\x00" in text or _unencodable(text):
        raise JournalFormatError(
            f"{shown}: cannot be read (the path holds a NUL or a character that is not valid "
            "Unicode; expected an events file)"
        )
    try:
        with Path(text).open(encoding="utf-8") as file:
            return _read_events(file, shown)
    except UnicodeDecodeError as exc:
        raise JournalFormatError(
            f"{shown}: byte {exc.start} is not UTF-8 (expected JSON Lines text)"
        ) from None
    except OSError as exc:
        raise JournalFormatError(
            f"{shown}: cannot be read ({exc.strerror}; expected an events file)"
        ) from None


def _unencodable(text: str) -> bool:
    """Whether ``text`` holds a character no file name can hold (a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_events(file: TextIO, shown: str) -> list[Event]:
    events: list[Event] = []
    header_line = file.readline()
    try:
        header = json.loads(header_line)
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("schema") != EVENTS_SCHEMA:
        raise JournalFormatError(
            f"{shown} line 1: got {header_line[:80]!r} "
            f'(expected a header {{"schema": {EVENTS_SCHEMA!r}, "version": ...}})'
        )
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > EVENTS_VERSION:
        raise JournalFormatError(
            f"{shown} line 1: event schema version {bounded_repr(version)} "
            f"(expected an integer at most {EVENTS_VERSION})"
        )
    for number, line in enumerate(file, start=2):
        if not line.strip():
            continue
        try:
            events.append(Event.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise JournalFormatError(
                f"{shown} line {number}: got {line[:80]!r} (expected one event: {_shown(str(exc))})"
            ) from None
    return events
