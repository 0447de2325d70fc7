"""A journal :class:`~valueroute.journal.Store` in PostgreSQL, with a fenced leadership lease.

Needs psycopg 3: ``pip install "valueroute[postgres]"``. Open a durable
engine on it with ``DurableEngine.open("postgresql://...", factory)``, or
build a :class:`PostgresStore` and pass it; :class:`~valueroute.standby.Standby`
runs a process that follows the journal and takes over when its leader is gone.

Tables (all named ``valueroute_*``, created by the numbered ``.sql`` files
shipped in ``valueroute/data/migrations/postgres`` and applied on open):
``valueroute_records`` (one row per command, with the term that wrote it),
``valueroute_snapshots``, ``valueroute_quarantine``, ``valueroute_lease``
(one row: term, holder, expiry) and ``valueroute_schema`` (one row per
migration applied). A database whose schema is newer than this valueroute
knows is refused with :class:`~valueroute.journal.JournalFormatError`.

Leadership and fencing
----------------------
Any number of processes may open one journal; one leads. Taking the lead
is one transaction that adds one to the lease's ``term`` and sets its
expiry on the database's clock; it is allowed when the lease has expired,
or at once when the session-level advisory lock the leader holds on its
connection is free (its process died and PostgreSQL closed its session).
A leader that is paused or cut off keeps its session but not its lease:
once the lease has expired the next leader ends the old session
(``pg_terminate_backend``) and takes over.

Every write (records, snapshots, compaction, quarantine) runs in a
transaction that first updates the lease row *where the term is still the
writer's*, which also extends the lease. A stale leader's update finds no
row: the transaction is rolled back and the store raises
:class:`~valueroute.journal.JournalFencedError`. Takeover waits for a write
in progress to commit (it holds the lease row), so once a new term is
committed no record of an older term can follow it.

Group commit is the durable engine's (``sync="group"``): each
:meth:`PostgresStore.append` is one transaction (lease check, ``COPY`` of
the records, a ``NOTIFY`` that wakes followers), committed with
PostgreSQL's own durability (``synchronous_commit`` as the server sets it).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.journal import (
    APPLICATION_ID,
    JournalCorruptError,
    JournalFencedError,
    JournalFormatError,
    JournalStateError,
    Record,
    StoredSnapshot,
)

try:
    import psycopg
except ImportError as _missing:  # pragma: no cover - depends on the installation
    raise ImportError(
        'the PostgreSQL store needs psycopg 3: pip install "valueroute[postgres]"'
    ) from _missing

__all__ = [
    "CHANNEL",
    "LOCK_KEY",
    "Lease",
    "PostgresStore",
    "is_postgres_url",
    "migrations",
    "schema_version",
]

CHANNEL = "valueroute_journal"
"""The ``NOTIFY`` channel each append signals, with the last position as payload."""

LOCK_KEY = APPLICATION_ID
"""Key of the session-level advisory lock the leader holds (and of the migration lock + 1)."""

_READ_PAGE = 10_000


def is_postgres_url(target: object) -> bool:
    """Whether ``target`` is a ``postgresql://`` or ``postgres://`` connection URL."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True, slots=True)
class Lease:
    """The leadership lease as the database holds it.

    ``term``: the current term (0 before anyone led). ``holder``: the name of
    the process holding it. ``backend_pid``: its PostgreSQL session.
    ``expired``: whether its expiry is past, on the database's clock.
    ``remaining``: seconds until it expires (negative once expired).
    """

    term: int
    holder: str | None
    backend_pid: int | None
    expired: bool
    remaining: float


def migrations() -> list[tuple[int, str, str]]:
    """The shipped migrations as ``(version, file name, SQL text)``, in version order."""
    folder = resources.files("valueroute").joinpath("data/migrations/postgres")
    found: list[tuple[int, str, str]] = []
    for entry in folder.iterdir() if folder.is_dir() else ():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number = name.split("_", 1)[0]
        if not number.isdigit():
            raise JournalFormatError(
                f"migration file {name!r}: expected a name NNNN_description.sql"
            )
        found.append((int(number), name, entry.read_text(encoding="utf-8")))
    found.sort()
    if not found:
        raise JournalFormatError(
            "no PostgreSQL schema migrations found in valueroute/data/migrations/postgres "
            "(expected the .sql files shipped with the package: reinstall valueroute)"
        )
    expected = list(range(1, len(found) + 1))
    if [version for version, _, _ in found] != expected:
        raise JournalFormatError(
            f"migration files {[name for _, name, _ in found]}: expected versions numbered "
            f"{expected[:1]} to {expected[-1:]} without gaps"
        )
    return found


def schema_version() -> int:
    """The newest schema version this valueroute knows (its last migration's number)."""
    return migrations()[-1][0]


def _default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PostgresStore:
    """A :class:`~valueroute.journal.Store` in a PostgreSQL database, fenced by a leadership term.

    ``url`` is a libpq connection string or URL. ``lead``: take the lead on
    opening (``True``: raise :class:`~valueroute.journal.JournalStateError`
    if another process holds a live lease) or open as a follower
    (``False``: reads only until :meth:`try_lead` succeeds).
    ``lease_seconds``: how long a lease lasts without renewal (each write
    renews it, :meth:`renew` too). ``name``: how this process appears as
    the lease's holder (default ``host:pid``).

    Records are chained (:attr:`chained`); there is no mark file: a commit
    that PostgreSQL acknowledged is in its write-ahead log.
    """

    chained = True
    """Each record's checksum starts from the previous record's."""

    def __init__(
        self,
        url: str,
        *,
        lead: bool = True,
        lease_seconds: float = 5.0,
        name: str | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        if not isinstance(url, str) or not url:
            raise InvalidInputError(
                f"url: got {bounded_repr(url)} (expected a PostgreSQL connection URL or string)"
            )
        if (
            isinstance(lease_seconds, bool)
            or not isinstance(lease_seconds, int | float)
            or not 0.05 <= lease_seconds <= 3600
        ):
            raise InvalidInputError(
                f"lease_seconds: got {bounded_repr(lease_seconds)} (expected seconds from "
                "0.05 to 3600)"
            )
        if (
            isinstance(connect_timeout, bool)
            or not isinstance(connect_timeout, int | float)
            or not 1 <= connect_timeout <= 3600
        ):
            raise InvalidInputError(
                f"connect_timeout: got {bounded_repr(connect_timeout)} (expected seconds from "
                "1 to 3600)"
            )
        if name is not None and not isinstance(name, str):
            raise InvalidInputError(
                f"name: got {bounded_repr(name)} (expected a string naming this process)"
            )
        self.url = url
        self.name = name or _default_name()
        self.lease_seconds = float(lease_seconds)
        self.connect_timeout = connect_timeout
        self.notes: list[str] = []
        self.damage: str | None = None
        self.version = 0
        self._lock = threading.RLock()
        self._term: int | None = None
        self._lost: str | None = None
        self._closed = False
        self._conn: psycopg.Connection[Any] | None = None
        self._connect()
        try:
            self._migrate()
            if lead and not self.try_lead():
                lease = self.lease()
                raise JournalStateError(
                    f"another process leads this journal (term {lease.term}, holder "
                    f"{lease.holder!r}, lease ends in {lease.remaining:.1f} s; expected no "
                    "live leader, or open with lead=False to follow)"
                )
        except BaseException:
            self.close()
            raise

    # ---------------------------------------------------------------- connection

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            self._conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout)),
                application_name=f"valueroute {self.name}"[:63],
            )
        except psycopg.Error as exc:
            raise JournalStateError(
                f"cannot connect to PostgreSQL at {bounded_repr(_safe_url(self.url))}: "
                f"{_first_line(exc)} (expected a reachable server and database)"
            ) from None
        return self._conn

    def _connection(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise JournalStateError("the PostgreSQL store is closed (expected an open one)")
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._connect()
        return conn

    def _migrate(self) -> None:
        """Apply the migrations newer than the database's schema, or refuse a newer schema."""
        known = migrations()
        latest = known[-1][0]
        conn = self._connection()
        with conn.transaction():
            # One migrator at a time: others wait here, then find nothing to do.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS valueroute_schema ("
                "version integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"
            )
            row = conn.execute("SELECT coalesce(max(version), 0) FROM valueroute_schema").fetchone()
            current = int(row[0]) if row else 0
            if current > latest:
                raise JournalFormatError(
                    f"PostgreSQL journal schema version {current} (expected at most {latest}: "
                    "written by a newer valueroute; upgrade to read it)"
                )
            for version, name, text in known:
                if version > current:
                    conn.execute(text.encode())
                    conn.execute(
                        "INSERT INTO valueroute_schema (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                    self.notes.append(f"schema migration {name} applied")
        self.version = latest

    # ---------------------------------------------------------------- leadership

    @property
    def term(self) -> int | None:
        """The term this store writes under, or ``None`` while it follows."""
        return self._term

    @property
    def is_leader(self) -> bool:
        """Whether this store believes it leads (every write checks it in the database)."""
        return self._term is not None

    @property
    def lost(self) -> str | None:
        """Why this store stopped leading, if it led and stopped."""
        return self._lost

    def lease(self) -> Lease:
        """The lease as the database holds it now."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT term, holder, backend_pid, expires_at < clock_timestamp(), "
                "CASE WHEN isfinite(expires_at) "
                "THEN extract(epoch FROM expires_at - clock_timestamp()) END "
                "FROM valueroute_lease WHERE id = 1"
            ).fetchone()
        if row is None:
            raise JournalCorruptError("the lease row is missing from valueroute_lease")
        remaining = -float("inf") if row[4] is None else float(row[4])
        return Lease(int(row[0]), row[1], row[2], bool(row[3]), remaining)

    def try_lead(self, *, wait_seconds: float = 2.0) -> bool:
        """Take the lead if no live leader holds it; returns whether this store leads.

        Free at once when the leader's session is gone (its advisory lock is
        free); otherwise only once its lease has expired, and then the old
        session is ended first. ``wait_seconds`` bounds the wait for an
        ended session to release its lock. On success the term is one more
        than before and nothing an older term writes can commit any more.
        A database that cannot be reached raises
        :class:`~valueroute.journal.JournalStateError`.
        """
        with self._reading() as conn:
            if self._term is not None:
                return True
            if not self._advisory_lock(conn, wait_seconds):
                return False
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '5s'")
                    row = conn.execute(
                        "UPDATE valueroute_lease SET term = term + 1, holder = %s, "
                        "backend_pid = pg_backend_pid(), "
                        "expires_at = clock_timestamp() + make_interval(secs => %s) "
                        "WHERE id = 1 RETURNING term",
                        (self.name, self.lease_seconds),
                    ).fetchone()
            except psycopg.Error:
                self._release(conn)
                raise
            if row is None:
                self._release(conn)
                raise JournalCorruptError("the lease row is missing from valueroute_lease")
            self._term = int(row[0])
            self._lost = None
            return True

    def _advisory_lock(self, conn: psycopg.Connection[Any], wait_seconds: float) -> bool:
        if _fetch_bool(conn, "SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)):
            return True
        row = conn.execute(
            "SELECT l.backend_pid, l.expires_at < clock_timestamp(), "
            "l.backend_pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND ((classid::bigint << 32) | objid::bigint) = %s) "
            "FROM valueroute_lease l WHERE l.id = 1",
            (LOCK_KEY,),
        ).fetchone()
        if row is None or not row[1] or not row[2]:
            # A live lease, or a lock held by someone other than the lease's
            # holder (another follower half-way through taking over).
            return False
        # The lease ran out while its holder's session lives on (the process is
        # paused or cut off): end that session so the lock and any write of the
        # old term in progress go with it.
        conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        deadline = _time.monotonic() + wait_seconds
        while _time.monotonic() < deadline:
            if _fetch_bool(conn, "SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)):
                return True
            _time.sleep(0.02)
        return False

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        if not conn.broken and not conn.closed:
            try:
                conn.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error:
                conn.close()

    def renew(self) -> bool:
        """Extend the lease by ``lease_seconds``; returns whether this store still leads.

        A term that is no longer current (or a lost connection) ends the
        leadership: :attr:`is_leader` turns false and :attr:`lost` says why.
        """
        if self._term is None:
            return False
        try:
            with self._leading():
                pass
        except JournalFencedError:
            return False
        return True

    def step_down(self) -> None:
        """Stop leading: release the advisory lock and let the lease expire now."""
        with self._lock:
            term, self._term = self._term, None
            self._lost = self._lost or "stepped down"
            conn = self._conn
            if term is None or conn is None or conn.closed or conn.broken:
                return
            try:
                conn.execute(
                    "UPDATE valueroute_lease SET expires_at = '-infinity' "
                    "WHERE id = 1 AND term = %s",
                    (term,),
                )
                conn.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error:
                conn.close()

    @contextlib.contextmanager
    def _leading(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction that commits only while this store's term is current.

        It starts by extending the lease where the term is still ours (which
        also locks the lease row until commit, so a takeover waits for it).
        Any database error ends the leadership: the outcome of a commit that
        failed is unknown, and a session that was lost took the advisory
        lock with it. Raises :class:`~valueroute.journal.JournalFencedError`.
        """
        with self._lock:
            term = self._term
            if term is None:
                raise JournalFencedError(
                    f"this process does not lead the journal ({self._lost or 'it follows'}; "
                    "expected the leader to write)"
                )
            conn = self._conn
            if self._closed or conn is None or conn.closed or conn.broken:
                self._lose("the database connection was lost")
                raise self._fenced()
            try:
                with conn.transaction():
                    count = conn.execute(
                        "UPDATE valueroute_lease SET expires_at = clock_timestamp() + "
                        "make_interval(secs => %s) WHERE id = 1 AND term = %s",
                        (self.lease_seconds, term),
                    ).rowcount
                    if count != 1:
                        raise _StaleTerm
                    yield conn
            except _StaleTerm:
                self._lose(f"term {term} is no longer current: another process took over")
                raise self._fenced() from None
            except psycopg.errors.UniqueViolation as exc:
                # Only a writer out of step with the journal can reuse a position.
                self._lose(f"a position was already written: {_first_line(exc)}")
                raise self._fenced() from None
            except psycopg.Error as exc:
                self._lose(f"the database failed: {_first_line(exc)}")
                raise self._fenced() from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection for reads (reconnecting if needed); database errors become
        :class:`~valueroute.journal.JournalStateError`."""
        with self._lock:
            try:
                yield self._connection()
            except psycopg.Error as exc:
                conn = self._conn
                if conn is not None and conn.broken:
                    conn.close()
                raise JournalStateError(
                    f"the database failed: {_first_line(exc)} (expected a reachable database)"
                ) from None

    def _lose(self, reason: str) -> None:
        self._term = None
        self._lost = reason
        conn = self._conn
        if conn is not None and not conn.closed:
            # A stale session must not keep the advisory lock (nor, after a
            # failed commit, a transaction in an unknown state).
            conn.close()

    def _fenced(self) -> JournalFencedError:
        return JournalFencedError(
            f"this process no longer leads the journal ({self._lost}); nothing was written"
        )

    # ---------------------------------------------------------------- Store protocol

    def append(self, records: Sequence[Record]) -> None:
        """Insert the records in one fenced transaction and wake followers. O(len(records)).

        Committed when this returns. Raises
        :class:`~valueroute.journal.JournalFencedError` if this process no
        longer leads (nothing written) or the database failed (if it failed
        during the commit, the records may or may not be in the journal: they
        were not acknowledged, and a follower's replay decides).
        """
        if not records:
            return
        with self._leading() as conn:
            term = self._term
            with conn.cursor().copy(
                "COPY valueroute_records (position, time, command, arguments, "
                "checksum, term) FROM STDIN"
            ) as copy:
                for r in records:
                    copy.write_row((r.position, r.time, r.command, r.arguments, r.checksum, term))
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(records[-1].position)))

    def read(self, *, after: int) -> Iterator[Record]:
        """Records with position > ``after`` in position order, read 10,000 at a time.

        Checksums are not checked here (the durable engine does). A failing
        connection raises :class:`~valueroute.journal.JournalStateError`.
        """
        last = after
        while True:
            with self._reading() as conn:
                rows = conn.execute(
                    "SELECT position, time, command, arguments, checksum "
                    "FROM valueroute_records WHERE position > %s "
                    "ORDER BY position LIMIT %s",
                    (last, _READ_PAGE),
                ).fetchall()
            for position, time, command, arguments, checksum in rows:
                yield Record(int(position), float(time), command, arguments, int(checksum))
            if len(rows) < _READ_PAGE:
                return
            last = int(rows[-1][0])

    def last_position(self) -> int:
        """The highest position in the journal (0 when empty). One indexed query."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT coalesce(max(position), 0) FROM valueroute_records"
            ).fetchone()
        return int(row[0]) if row else 0

    def write_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Store a snapshot (fenced), replacing any at the same position."""
        with self._leading() as conn:
            conn.execute(
                "INSERT INTO valueroute_snapshots (position, data, checksum, term) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (position) DO UPDATE SET "
                "data = excluded.data, checksum = excluded.checksum, term = excluded.term",
                (snapshot.position, snapshot.data, snapshot.checksum, self._term),
            )

    def snapshots(self) -> Iterator[StoredSnapshot]:
        """Stored snapshots, newest first, each read when reached."""
        with self._reading() as conn:
            positions = [
                int(row[0])
                for row in conn.execute(
                    "SELECT position FROM valueroute_snapshots ORDER BY position DESC"
                )
            ]
        for position in positions:
            with self._reading() as conn:
                row = conn.execute(
                    "SELECT position, data, checksum FROM valueroute_snapshots WHERE position = %s",
                    (position,),
                ).fetchone()
            if row is not None:  # compacted away since listed
                yield StoredSnapshot(int(row[0]), row[1], int(row[2]))

    def truncate(self, *, through: int) -> int:
        """Delete records up to ``through`` and older snapshots (fenced); returns records gone."""
        with self._leading() as conn:
            dropped = conn.execute(
                "DELETE FROM valueroute_records WHERE position <= %s", (through,)
            ).rowcount
            conn.execute("DELETE FROM valueroute_snapshots WHERE position < %s", (through,))
        return int(dropped)

    def quarantine(self, *, after: int, reason: str) -> int:
        """Move records after ``after`` to ``valueroute_quarantine`` (fenced); returns how many."""
        with self._leading() as conn:
            moved = conn.execute(
                "INSERT INTO valueroute_quarantine (position, time, command, arguments, "
                "checksum, term, reason) SELECT position, time, command, arguments, "
                "checksum, term, %s FROM valueroute_records WHERE position > %s",
                (reason, after),
            ).rowcount
            conn.execute("DELETE FROM valueroute_records WHERE position > %s", (after,))
        return int(moved)

    def quarantined(self) -> list[tuple[int, str]]:
        """Positions and reasons of the records moved aside by recovery."""
        with self._reading() as conn:
            return [
                (int(p), str(r))
                for p, r in conn.execute(
                    "SELECT position, reason FROM valueroute_quarantine ORDER BY moved_at, position"
                )
            ]

    def check(self) -> str | None:
        """Structural damage PostgreSQL can see: none it would not report itself (``None``)."""
        return None

    def close(self) -> None:
        """Step down if leading, then close the connection. Safe to call twice.

        Stepping down first hands the lead over at once: the server releases a
        closed session's advisory lock only when its backend has exited, a
        moment after the connection closes.
        """
        with self._lock:
            if self._term is not None:
                self.step_down()
            self._closed = True
            self._term = None
            conn, self._conn = self._conn, None
            if conn is not None and not conn.closed:
                conn.close()


class _StaleTerm(Exception):
    """The lease row no longer holds the writer's term (raised to roll back, then translated)."""


def _fetch_bool(conn: psycopg.Connection[Any], query: str, params: Sequence[Any]) -> bool:
    row = conn.execute(query.encode(), params).fetchone()
    return bool(row and row[0])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
