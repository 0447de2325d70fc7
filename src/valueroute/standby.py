"""A process that follows a PostgreSQL journal and takes over when its leader is gone.

:class:`Standby` opens the journal as a follower: its own
:class:`~valueroute.journal.DurableEngine` replays the leader's records as
they are committed (woken by ``LISTEN``/``NOTIFY``, polling as the
fallback), so its engine holds the same state and serves read-only views.
When the leader's session ends (its advisory lock is freed) or its lease
runs out, :meth:`Standby.poll` takes the lead with the next term, applies
the last records, fires what fell due in the gap (one journaled
``advance``) and from then on the same object takes commands. A leader
that finds itself fenced (a command raised
:class:`~valueroute.journal.JournalFencedError`, or renewing the lease
failed) goes back to following at its next :meth:`Standby.poll`.

The object owns no thread: the host calls :meth:`Standby.poll` in its
loop (at least every third of the lease while it leads) and sends commands
to :attr:`Standby.durable` only while :attr:`Standby.is_leader` is true,
all from one thread or under one lock::

    node = Standby(url, factory, name="router-2")
    while running:
        node.poll(timeout=0.2)
        if node.is_leader:
            serve(node.durable)          # commands, acknowledged once durable
        else:
            serve_read_only(node.engine)  # views and events, no commands

Needs psycopg 3: ``pip install "valueroute[postgres]"``.
"""

from __future__ import annotations

import contextlib
import math
import time as _time
from collections.abc import Callable, Iterable
from typing import Any

from valueroute.engine import Engine
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.events import Event, EventKind
from valueroute.journal import (
    DurableEngine,
    EngineFactory,
    JournalCorruptError,
    JournalError,
    JournalStateError,
    SyncPolicy,
)
from valueroute.pgstore import CHANNEL, PostgresStore

try:
    import psycopg
except ImportError as _missing:  # pragma: no cover - depends on the installation
    raise ImportError(
        'the standby needs psycopg 3: pip install "valueroute[postgres]"'
    ) from _missing

__all__ = ["Standby"]


class Standby:
    """One process of a leader-and-standbys group on one PostgreSQL journal.

    ``url``: the database. ``engine_factory``: builds the same engine in
    every process (as for :meth:`DurableEngine.open`). ``name``: this
    process in the lease (default ``host:pid``). ``lease_seconds``: how long
    a silent leader keeps the lead (each commit and each :meth:`poll` while
    leading renew it). ``sync``, ``group_size``, ``group_seconds``,
    ``clock``, ``on_durable``: the durable engine's options while leading.
    ``on_lead(term)`` is called after taking the lead, ``on_follow(reason)``
    after losing it. ``lead=False`` only follows, never takes over.
    """

    def __init__(
        self,
        url: str,
        engine_factory: EngineFactory,
        *,
        name: str | None = None,
        lease_seconds: float = 5.0,
        sync: SyncPolicy | str = SyncPolicy.group,
        group_size: int = 256,
        group_seconds: float = 0.005,
        clock: Callable[[], float] | None = None,
        on_durable: Callable[[int], None] | None = None,
        on_lead: Callable[[int], None] | None = None,
        on_follow: Callable[[str], None] | None = None,
        lead: bool = True,
    ) -> None:
        if not isinstance(lead, bool):
            raise InvalidInputError(f"lead: got {bounded_repr(lead)} (expected True or False)")
        self.url = url
        self._factory = engine_factory
        self._options: dict[str, Any] = {
            "sync": sync,
            "group_size": group_size,
            "group_seconds": group_seconds,
            "clock": clock,
            "on_durable": on_durable,
        }
        self._lease_seconds = lease_seconds
        self._name = name
        self._on_lead = on_lead
        self._on_follow = on_follow
        self._may_lead = lead
        self._listener: psycopg.Connection[Any] | None = None
        self._renewed = -math.inf
        self._leading = False
        self._subscribers: list[
            tuple[Callable[[Event], None], tuple[EventKind | str, ...] | None]
        ] = []
        self._closed = False
        self.takeovers = 0
        """How many times this process took the lead."""
        self._store = self._new_store()
        try:
            # Listening before the first read: no commit can fall between the two.
            self._listen()
            self._durable = DurableEngine.open(
                self._store, engine_factory, repair=False, **self._options
            )
        except BaseException:
            self._store.close()
            if self._listener is not None:
                self._listener.close()
            raise

    def _new_store(self) -> PostgresStore:
        return PostgresStore(
            self.url, lead=False, lease_seconds=self._lease_seconds, name=self._name
        )

    # ---------------------------------------------------------------- views

    @property
    def is_leader(self) -> bool:
        """Whether this process leads (commands go to :attr:`durable`)."""
        return self._store.is_leader

    @property
    def term(self) -> int | None:
        """The term this process leads in, or ``None`` while it follows."""
        return self._store.term

    @property
    def name(self) -> str:
        """This process as the lease names it."""
        return self._store.name

    @property
    def engine(self) -> Engine:
        """The engine, for read-only views (it follows the journal while standing by)."""
        return self._durable.engine

    @property
    def durable(self) -> DurableEngine:
        """The durable engine. Its commands are refused while this process follows."""
        return self._durable

    @property
    def position(self) -> int:
        """Position of the last record applied to :attr:`engine`."""
        return self._durable.position

    def subscribe(
        self,
        subscriber: Callable[[Event], None],
        *,
        kinds: Iterable[EventKind | str] | None = None,
    ) -> Callable[[], None]:
        """Call ``subscriber`` for each later event, following or leading; returns the unsubscriber.

        A follower's engine emits the events of the leader's commands as it
        applies them (same sequence numbers, kinds and data). When the engine
        is rebuilt from the journal (after a compaction it missed, or on losing
        the lead) the subscription moves to the new engine; the events of that
        rebuild are not sent, so sequence numbers jump over them.
        """
        active = [True]

        def forward(event: Event) -> None:
            if active[0]:
                subscriber(event)

        entry = (forward, None if kinds is None else tuple(kinds))
        self._subscribers.append(entry)
        self._durable.subscribe(forward, kinds=entry[1])

        def unsubscribe() -> None:
            # Registrations on engines already dropped go with them.
            active[0] = False
            if entry in self._subscribers:
                self._subscribers.remove(entry)

        return unsubscribe

    @property
    def store(self) -> PostgresStore:
        """The store this process reads (and, leading, writes)."""
        return self._store

    # ---------------------------------------------------------------- the loop

    def poll(self, timeout: float = 0.0) -> bool:
        """Do what is due; returns :attr:`is_leader`. Waits at most ``timeout`` seconds.

        Leading: commits pending records, renews the lease when a third of
        it has passed, and goes back to following if the lead was lost.
        Following: waits for the leader's next commit (or ``timeout``),
        applies the new records, and takes the lead if the leader is gone.
        A database that cannot be reached is waited out: this returns
        ``False`` and the next call tries again.
        """
        if self._closed:
            raise JournalStateError("the standby is closed (expected an open one)")
        if self._leading:
            self._lead_step()
            if self._leading:
                return True
        if not self._durable_usable():
            return False
        try:
            if self._follow_step() or timeout <= 0:
                return self._leading
            self._wait(timeout)
            self._follow_step()
        except psycopg.OperationalError:
            return False
        except JournalCorruptError:
            # Compacted past this engine (or damaged): start again from the store.
            self._reopen()
        except JournalStateError:
            return False
        return self._leading

    def _follow_step(self) -> bool:
        """Apply what the leader committed; take the lead if it is free. Whether this leads."""
        self._durable.catch_up()
        started = _time.monotonic()
        if self._may_lead and self._store.try_lead():
            self._take_over(started)
        return self._leading

    def _lead_step(self) -> None:
        if self._durable.out_of_step is not None or not self._store.is_leader:
            self._follow(self._store.lost or self._durable.out_of_step or "the lead was lost")
            return
        try:
            self._durable.flush()
            started = _time.monotonic()
            due = started - self._renewed >= self._lease_seconds / 3
            # The database extends the lease after ``started``: counting from
            # it never overstates how long the lease is held.
            if due and self._store.renew():
                self._renewed = started
        except JournalError:
            pass
        if not self._store.is_leader:
            self._follow(self._store.lost or "the lead was lost")

    def _take_over(self, started: float) -> None:
        # Records the last leader committed before the term changed.
        self._durable.catch_up()
        self._renewed = started
        self._leading = True
        self.takeovers += 1
        # Timers, offers and deferrals that fell due in the gap.
        self._durable.advance()
        self._durable.flush()
        if self._on_lead is not None and self._store.term is not None:
            self._on_lead(self._store.term)

    def _follow(self, reason: str) -> None:
        self._leading = False
        self._reopen()
        if self._on_follow is not None:
            self._on_follow(reason)

    def _durable_usable(self) -> bool:
        if self._durable.out_of_step is None and not self._durable.closed:
            return True
        return self._reopen()

    def _reopen(self) -> bool:
        """Drop the engine and the store, open both again as a follower from the journal."""
        # Whatever this process ran and did not commit is dropped with the
        # engine (a fenced store refuses it): the journal is the truth.
        with contextlib.suppress(JournalError):
            self._durable.close()
        self._store.close()
        try:
            self._store = self._new_store()
        except JournalStateError:
            return False
        try:
            self._durable = DurableEngine.open(
                self._store, self._factory, repair=False, **self._options
            )
        except JournalStateError:
            self._store.close()
            return False
        for subscriber, kinds in self._subscribers:
            self._durable.subscribe(subscriber, kinds=kinds)
        return True

    @property
    def lease_renewed_at(self) -> float:
        """When (:func:`time.monotonic`) the lease was last renewed by :meth:`poll` or taken.

        Taken just before the renewing statement, so the lease is held at
        least until this plus the lease's length (commits renew it too; a
        host that times its own commits may count those).
        """
        return self._renewed

    def wait_for_commit(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for the leader's next commit; touches no engine.

        Uses only the listening connection, so a host may call it in one
        thread while another reads :attr:`engine`; then :meth:`poll` (with
        ``timeout=0``) applies what arrived. A database out of reach is
        waited out quietly (the next :meth:`poll` reconnects).
        """
        if self._closed:
            raise JournalStateError("the standby is closed (expected an open one)")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 <= timeout <= 3600
        ):
            raise InvalidInputError(
                f"timeout: got {bounded_repr(timeout)} (expected seconds from 0 to 3600)"
            )
        self._wait(float(timeout))

    def _wait(self, timeout: float) -> None:
        """Wait for a NOTIFY on the journal's channel (any commit), at most ``timeout`` s."""
        try:
            listener = self._listen()
            for _ in listener.notifies(timeout=timeout, stop_after=1):
                break
            # Every commit sends one: drop the ones queued behind it.
            for _ in listener.notifies(timeout=0.0):
                pass
        except psycopg.OperationalError:
            # The database is away: the next poll reconnects; meanwhile poll slowly.
            if self._listener is not None:
                self._listener.close()
            self._listener = None
            _time.sleep(min(timeout, 0.1))

    def _listen(self) -> psycopg.Connection[Any]:
        listener = self._listener
        if listener is None or listener.closed or listener.broken:
            listener = self._listener = psycopg.connect(self.url, autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}".encode())
        return listener

    def step_down(self) -> None:
        """Stop leading now (commit what is pending first) and follow."""
        if self._store.is_leader:
            with contextlib.suppress(JournalError):
                self._durable.flush()
            self._store.step_down()
            self._follow("stepped down")

    def close(self) -> None:
        """Commit what is pending (if leading) and close the connections. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(JournalError):
                self._durable.close()
        finally:
            self._store.close()
            if self._listener is not None:
                self._listener.close()

    def __enter__(self) -> Standby:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
