"""The engine inside the service: one durable engine, one event loop, group commit, events."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from valueroute.commands import COMMANDS, Command, NoArguments
from valueroute.engine import Engine
from valueroute.errors import ValueRouteError
from valueroute.events import Event
from valueroute.journal import (
    DetachedBatch,
    DurableEngine,
    JournalError,
    JournalStateError,
    Record,
    RecoveryReport,
    Store,
    replay,
)
from valueroute.models import BoundaryModel
from valueroute.serve._settings import ServeSettings
from valueroute.serve._webhooks import deliver

if TYPE_CHECKING:
    from valueroute.standby import Standby

__all__ = ["EngineService", "ServiceUnavailableError"]

_T = TypeVar("_T")

# The service decides when to commit: never the durable engine by itself.
_NEVER_BY_COUNT = 1 << 40
_NEVER_BY_AGE = 1e12
_MAX_TIMER_SLEEP = 60.0

StoredEvent = tuple[int, str, str]
"""An event ready to send: sequence number, kind and JSON text."""


class _Held:
    """A published event in the buffer, encoded to JSON only once a reader (a stream, the
    webhook) first asks for it: with nobody reading, no event is ever encoded."""

    __slots__ = ("_event", "_stored")

    def __init__(self, event: Event | None, stored: StoredEvent | None = None) -> None:
        self._event = event
        self._stored = stored

    def stored(self) -> StoredEvent:
        """The event ready to send. O(size of the event) the first time, then O(1)."""
        stored = self._stored
        if stored is None:
            event = self._event
            assert event is not None
            stored = self._stored = (event.seq, event.kind.value, event.to_json())
            self._event = None
        return stored


class ServiceUnavailableError(ValueRouteError, RuntimeError):
    """The service cannot take the request now: starting, stopping, or its journal failed.

    ``retry_after`` is the number of seconds a client should wait, or ``None``
    when retrying this process will not help (the journal failed: restart it).
    """

    def __init__(
        self,
        message: str,
        retry_after: int | None = 1,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.details: dict[str, Any] = dict(details or {})
        """Extra members of the problem document (a standby's role, the leader's term)."""


class EngineService:
    """A :class:`~valueroute.journal.DurableEngine` driven from one asyncio event loop.

    Commands run one at a time on the loop, each to completion without
    awaiting (the engine is a single-writer state machine). A request is
    answered only after its command's record is committed: acknowledged
    means durable. Commands arriving together share one commit, in two
    phases (:meth:`DurableEngine.detach_pending` on the loop, then
    :meth:`DurableEngine.commit_detached` in a worker thread): while one
    batch is being committed (one transaction, one fsync), the engine runs
    the next commands, whose records form the next batch; each commit
    releases the requests up to its last position and publishes their
    events. The same path serves a SQLite file and a PostgreSQL store.

    With ``settings.standby`` the journal is a PostgreSQL store shared by
    several processes, and a :class:`~valueroute.standby.Standby` decides
    this one's role. A follower applies the leader's commits to its own
    engine (its views and events come from there) and refuses commands with
    ``503``; the leader takes commands as above. A leader counts its lease
    from the start of each write that renewed it, and refuses commands as
    soon as that time has run out, before any write could tell it; a write
    refused by the database (another process took over) fails the commands
    waiting for it with ``503`` and the process follows again.
    """

    def __init__(self, settings: ServeSettings) -> None:
        """A service for ``settings``; :meth:`start` opens the journal."""
        self.settings = settings
        self._durable: DurableEngine | None = None
        self._lock = asyncio.Lock()
        # The store's connection has one user at a time: the committer (a
        # batch in the commit thread) or a holder of _io (a poll, a backfill
        # read, the stop), which waits for the commit in progress and keeps
        # the next one from starting.
        self._io = asyncio.Lock()
        self._io_wanted = False
        self._committing = False
        self._commit_idle = asyncio.Event()
        self._commit_idle.set()
        self._committer: ThreadPoolExecutor | None = None
        self._unpublished: list[Event] = []
        # Newest on the right; a deque, so that dropping the oldest is O(1) each.
        self._events: deque[_Held] = deque()
        self._events_base = 1
        self._news = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closing = False
        self._failed: str | None = None
        self.in_flight = 0
        self.streams = 0
        self.commits = 0
        self.committed_commands = 0
        self.start_error: BaseException | None = None
        self._start_called = False
        self.webhook_delivered: int | None = None
        self.webhook_failures = 0
        self._webhook_task: asyncio.Task[None] | None = None
        # The last position committed, and the requests waiting for theirs
        # (in position order, with the events they publish once durable).
        self._committed_position = 0
        self._waiters: deque[tuple[int, asyncio.Future[int], list[Event]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.report: RecoveryReport | None = None
        # Leader or standby on a shared PostgreSQL journal (settings.standby).
        self._standby: Standby | None = None
        self._lease_until = -math.inf
        self._led_term: int | None = None
        self._poll_now = asyncio.Event()
        self._unwatch: Callable[[], None] | None = None
        self.leader_term: int | None = None
        """The term of the leader as last seen (this process's own while it leads)."""
        self.leader_name: str | None = None
        """The name of the leader as last seen, if any."""
        self.takeovers = 0
        """How many times this process took the lead (standby mode)."""

    # ------------------------------------------------------------ lifecycle

    @property
    def durable(self) -> DurableEngine:
        """The durable engine (once started); a standby's changes when its role does."""
        if self._standby is not None:
            return self._standby.durable
        if self._durable is None:
            raise ServiceUnavailableError("the service is starting (expected it started)")
        return self._durable

    @property
    def role(self) -> str:
        """``leader`` (commands are taken here) or ``standby`` (views and events only).

        A process running alone on its journal is always ``leader``.
        """
        return "leader" if self.leading else "standby"

    @property
    def leading(self) -> bool:
        """Whether this process takes commands: it runs alone, or it leads and its lease
        has certainly not run out."""
        standby = self._standby
        if standby is None:
            return True
        return standby.is_leader and time.monotonic() < self._lease_until

    @property
    def engine(self) -> Engine:
        """The engine, for views."""
        return self.durable.engine

    @property
    def ready(self) -> bool:
        """Whether commands are being taken."""
        return (
            self._durable is not None
            and not self._stopping
            and self._failed is None
            and self.leading
        )

    @property
    def stopping(self) -> bool:
        """Whether a shutdown has begun."""
        return self._stopping

    @property
    def failure(self) -> str | None:
        """Why the service stopped taking commands after a journal failure, if it did."""
        return self._failed

    async def start(self) -> None:
        """Open the journal (recovering the engine), then start the committer and the
        timer task (and, with ``standby``, the task that keeps this process's role).

        Called once: by the server before it listens, or by the app's lifespan;
        a second call does nothing. A failure is kept in :attr:`start_error`.
        """
        if self._start_called:
            return
        self._start_called = True
        try:
            await self._start()
        except BaseException as exc:
            self.start_error = exc
            raise

    async def _start(self) -> None:
        settings = self.settings
        self._loop = asyncio.get_running_loop()
        if settings.standby:
            durable = await asyncio.to_thread(self._open_standby)
        else:
            durable = await asyncio.to_thread(self._open, settings.journal)
            self.report = durable.report
        self._durable = durable
        self._committed_position = durable.durable_position
        self._events_base = durable.engine.event_count + 1
        if self._standby is not None:
            # Follows the engine across the standby's reopenings.
            self._standby.subscribe(self._unpublished.append)
            self._after_poll(None)
        else:
            durable.subscribe(self._unpublished.append)
        self._watch_wakeup()
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="valueroute-commit")
        self._tasks = [asyncio.create_task(self._timers(), name="valueroute-timers")]
        if self._standby is not None:
            self._tasks.append(asyncio.create_task(self._role_keeper(), name="valueroute-standby"))
        if settings.webhook is not None:
            self._webhook_task = asyncio.create_task(
                deliver(self, settings.webhook), name="valueroute-webhook"
            )

    def _open(self, target: Path | str | Store) -> DurableEngine:
        return DurableEngine.open(
            target,
            self.settings.build_engine,
            sync="group",
            group_size=_NEVER_BY_COUNT,
            group_seconds=_NEVER_BY_AGE,
        )

    def _watch_wakeup(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        self._unwatch = self.durable.watch_wakeup(lambda _at: self._wake.set())

    def _open_standby(self) -> DurableEngine:
        """Open the shared journal as a follower, and lead at once if nobody does."""
        try:
            from valueroute.standby import Standby
        except ImportError as exc:
            raise ServiceUnavailableError(
                f'a leader or standby needs psycopg 3: pip install "valueroute[postgres]" ({exc})',
                retry_after=None,
            ) from None
        settings = self.settings
        assert isinstance(settings.journal, str)
        standby = Standby(
            settings.journal,
            settings.build_engine,
            name=settings.node_name,
            lease_seconds=settings.lease_seconds,
            sync="group",
            group_size=_NEVER_BY_COUNT,
            group_seconds=_NEVER_BY_AGE,
        )
        try:
            self._poll_once(standby)
        except BaseException:
            standby.close()
            raise
        self._standby = standby
        self.report = standby.durable.report
        return standby.durable

    def _poll_once(self, standby: Standby) -> None:
        """One step of the role (in a worker thread): apply, renew or take over; then read
        who leads."""
        standby.poll(0.0)
        if standby.is_leader:
            self.leader_term, self.leader_name = standby.term, standby.name
            return
        try:
            lease = standby.store.lease()
        except JournalError:
            return
        self.leader_term = lease.term if lease.term > 0 else None
        self.leader_name = None if lease.expired else lease.holder

    def _after_poll(self, before: DurableEngine | None) -> None:
        """On the loop, after a poll: publish what was applied, or start again after the
        engine was rebuilt (on losing the lead, or a compaction it missed)."""
        standby = self._standby
        assert standby is not None
        durable = standby.durable
        if before is not None and durable is not before:
            # A new engine rebuilt from the journal: what the old one ran and
            # did not commit is gone, and its events with it. Streams resume
            # from the journal (backfill) past what was published.
            self._unpublished.clear()
            self._fail_waiters(
                self._standby_refusal(
                    "this process lost the lead before the command was committed: not "
                    "acknowledged (read the state back from the leader)"
                )
            )
            self._events.clear()
            self._events_base = durable.engine.event_count + 1
            self._watch_wakeup()
            self._announce()
        else:
            # Everything the poll applied is committed: a follower's records
            # come from the journal, a leader's poll commits what waits.
            events = self._unpublished[:]
            self._unpublished.clear()
            self._publish(events)
        # A leader's poll commits what waits (its renewal goes with it).
        self._committed(durable.durable_position, 0)
        if standby.is_leader:
            if standby.term != self._led_term:
                self._led_term = standby.term
                self.takeovers += 1
                self._lease_until = -math.inf
            self._lease_until = max(
                self._lease_until, standby.lease_renewed_at + self.settings.lease_seconds
            )
            # The timer task sleeps while this process cannot take commands.
            self._wake.set()
        else:
            self._lease_until = -math.inf

    def _fail_waiters(self, error: ServiceUnavailableError) -> None:
        """Answer every request waiting for a commit with ``error`` (not acknowledged)."""
        while self._waiters:
            _, future, _ = self._waiters.popleft()
            if not future.done():
                future.set_exception(error)
                # Retrieved here so an unawaited failure is not reported twice.
                future.exception()

    @property
    def started(self) -> bool:
        """Whether the journal is open (the engine recovered)."""
        return self._durable is not None

    def standby_refusal(self, reason: str | None = None) -> ServiceUnavailableError:
        """The error a standby answers commands with (its problem names the role and the
        leader's term)."""
        return self._standby_refusal(reason)

    def _standby_refusal(self, reason: str | None = None) -> ServiceUnavailableError:
        term = self.leader_term
        leader = "no process leads now" if term is None else f"the leader holds term {term}"
        return ServiceUnavailableError(
            reason
            or f"this process is a standby: it follows the journal and takes no commands "
            f"({leader}; expected commands at the leader, whose /readyz answers 200); "
            "nothing was changed",
            details={"role": "standby", "term": term, "leader": self.leader_name},
        )

    async def _role_keeper(self) -> None:
        """Follow the leader's commits, take over when it is gone; while leading, renew."""
        standby = self._standby
        assert standby is not None
        renew_every = self.settings.lease_seconds / 6
        wait = min(0.25, self.settings.lease_seconds / 4)
        while not self._stopping:
            if standby.is_leader:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poll_now.wait(), timeout=renew_every)
                self._poll_now.clear()
            else:
                # Outside the lock: views keep being served while it waits.
                with contextlib.suppress(JournalError):
                    await asyncio.to_thread(standby.wait_for_commit, wait)
            if self._stopping:
                return
            async with self._lock, self._store_exclusively():
                if self._stopping:
                    return
                before = standby.durable
                try:
                    await asyncio.to_thread(self._poll_once, standby)
                except JournalError:
                    # The database is out of reach: the standby tries again.
                    await asyncio.sleep(wait)
                self._after_poll(before)

    def _committed(self, position: int, count: int) -> None:
        """Everything up to ``position`` is durable (``count`` records in this commit):
        answer the requests waiting for it and publish their events."""
        if position <= self._committed_position and count == 0:
            return
        self._committed_position = max(self._committed_position, position)
        if count:
            self.commits += 1
            self.committed_commands += count
        waiters = self._waiters
        published: list[Event] = []
        while waiters and waiters[0][0] <= position:
            _, future, events = waiters.popleft()
            published += events
            if not future.done():
                future.set_result(position)
        self._publish(published)

    def _commit_failed(self, exc: BaseException) -> None:
        """A commit failed: a standby-capable leader was fenced (its commands are not
        acknowledged, it follows again); a process alone stops taking commands."""
        if self._standby is not None and isinstance(exc, JournalError):
            self._fail_waiters(
                self._standby_refusal(
                    f"this process lost the lead ({exc}); the command was not "
                    "acknowledged: read the state back from the leader"
                )
            )
            self._lease_until = -math.inf
            self._poll_now.set()
            return
        self._failed = f"{type(exc).__name__}: {exc}"
        self._fail_waiters(
            ServiceUnavailableError(
                f"the journal failed ({self._failed}); the command may not be durable: "
                "restart the service and read the state back",
                retry_after=None,
            )
        )
        self._announce()

    def _await_position(self, position: int, events: list[Event]) -> asyncio.Future[int]:
        """A future set once ``position`` is durable; ``events`` are published then."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if position <= self._committed_position and not self._waiters:
            self._publish(events)
            future.set_result(position)
        else:
            self._waiters.append((position, future, events))
        return future

    def begin_shutdown(self) -> None:
        """Stop taking commands and end event streams; what is in flight still commits."""
        self._stopping = True
        self._wake.set()
        self._announce()

    async def stop(self) -> None:
        """Commit what waits, snapshot (``snapshot_on_stop``) and close the journal."""
        self.begin_shutdown()
        if self._webhook_task is not None:
            # Delivery resumes from its state file at the next start.
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        self._closing = True
        self._poll_now.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        durable = self._durable
        if durable is None:
            return
        try:
            if self._standby is not None:
                await self._stop_standby(self._standby)
            else:
                await self._stop_alone(durable)
        finally:
            if self._committer is not None:
                self._committer.shutdown(wait=True)

    async def _stop_alone(self, durable: DurableEngine) -> None:
        async with self._lock, self._store_exclusively():
            if self._failed is None:
                await asyncio.to_thread(durable.flush)
                self._committed(durable.durable_position, 0)
                if self.settings.snapshot_on_stop:
                    await asyncio.to_thread(durable.snapshot)
                await asyncio.to_thread(durable.close)
            else:
                # Nothing more can be committed; the next start recovers what was.
                with contextlib.suppress(JournalStateError):
                    await asyncio.to_thread(durable.close)

    async def _stop_standby(self, standby: Standby) -> None:
        """A leader commits and snapshots; then the connections close (a standby takes
        over as soon as the leader's session ends)."""
        async with self._lock, self._store_exclusively():
            if standby.is_leader and self._failed is None:
                with contextlib.suppress(JournalError):
                    await asyncio.to_thread(standby.durable.flush)
                    self._committed(standby.durable.durable_position, 0)
                    if self.settings.snapshot_on_stop:
                        await asyncio.to_thread(standby.durable.snapshot)
            await asyncio.to_thread(standby.close)

    # ------------------------------------------------------------ commands

    def _check_running(self) -> None:
        self.check_serving()
        if not self.leading:
            raise self._standby_refusal()

    def check_serving(self) -> None:
        """Raise :class:`ServiceUnavailableError` unless views and streams can be served
        (started, not stopping, the journal not failed); a standby serves them."""
        if self._failed is not None:
            raise ServiceUnavailableError(
                f"the journal failed ({self._failed}); restart the service to recover",
                retry_after=None,
            )
        if self._stopping:
            raise ServiceUnavailableError("the service is shutting down (expected a running one)")
        if self._durable is None:
            raise ServiceUnavailableError("the service is starting (expected it started)")

    async def execute(
        self,
        command: Command,
        arguments: BoundaryModel,
        render: Callable[[Engine, Any], _T],
        *,
        before: Callable[[Engine], Any] | None = None,
    ) -> tuple[_T, Any]:
        """Run a state-changing command; return ``(render(engine, result), before(engine))``
        once the command is durable.

        ``before`` runs just ahead of the command (authorisation checks that
        read the engine, and what a response needs to know of the state
        before). Refusals raise the engine's errors and change nothing.
        """
        self._check_running()
        if self._lock.locked():
            # A poll or the stop holds the engine across an await: after it.
            async with self._lock:
                view, seen, waiting = self._run_command(command, arguments, render, before)
        else:
            # The command runs to its end without awaiting, so no holder of the
            # lock can come in between: taking it would change nothing.
            view, seen, waiting = self._run_command(command, arguments, render, before)
        # Not shielded: a cancelled request cancels only its own future, which
        # the commit then skips (it sets only futures not done).
        await waiting
        return view, seen

    def _run_command(
        self,
        command: Command,
        arguments: BoundaryModel,
        render: Callable[[Engine, Any], _T],
        before: Callable[[Engine], Any] | None,
    ) -> tuple[_T, Any, asyncio.Future[int]]:
        """Run a command now, on the loop, without awaiting; its view, what ``before``
        saw, and the future set once it is durable."""
        self._check_running()
        durable = self.durable
        engine = durable.engine
        seen = None if before is None else before(engine)
        told = engine.event_count
        try:
            result = command.invoke(durable, arguments)
        except Exception as exc:
            self._refused(command, exc, told)
            raise
        view = render(engine, result)
        events = self._unpublished[:]
        self._unpublished.clear()
        waiting = self._await_position(durable.position, events)
        self._commit_next()
        return view, seen, waiting

    def _refused(self, command: Command, exc: Exception, told: int) -> None:
        """After a command raised: a refusal leaves no trace; anything else stops the service."""
        engine = self.durable.engine
        if self._standby is not None and isinstance(exc, JournalStateError):
            # The durable engine refused before running (it no longer leads):
            # nothing changed; the role keeper takes this process back to following.
            self._poll_now.set()
            raise self._standby_refusal() from exc
        if isinstance(exc, ValueRouteError) and not isinstance(exc, JournalStateError):
            if engine.event_count == told:
                return
            # It took effect before failing: the journal never saw it, so its
            # events must not be published and the engine is out of step.
            self._unpublished[:] = [e for e in self._unpublished if e.seq <= told]
        self._failed = f"{command.name} raised {type(exc).__name__}: {exc}"
        self._announce()

    async def read(self, render: Callable[[Engine], _T]) -> _T:
        """A view of the engine, returned once everything it shows is durable."""
        if self._failed is not None:
            self.check_serving()
        if self._standby is not None and not self._standby.is_leader:
            # The role keeper applies the leader's records in a worker thread
            # under the lock: read between two of its steps.
            async with self._lock:
                return render(self.durable.engine)
        durable = self.durable
        view = render(durable.engine)
        if durable.position > self._committed_position:
            await self._await_position(durable.position, [])
        return view

    def _commit_next(self) -> None:
        """Start committing what the commands left, unless a commit is under way (its end
        starts the next) or the store is held. On the loop; O(1)."""
        if self._committing or self._io_wanted or self._failed is not None:
            return
        committer = self._committer
        durable = self.durable
        if committer is None or durable.closed:
            return
        try:
            batch = durable.detach_pending()
        except JournalStateError as exc:
            self._commit_failed(exc)
            return
        if batch is None:
            return
        self._committing = True
        self._commit_idle.clear()
        loop = asyncio.get_running_loop()
        started = time.monotonic()

        def commit() -> None:
            # In the commit thread; the outcome goes back to the loop in one hop.
            try:
                durable.commit_detached(batch)
            except Exception as exc:  # noqa: BLE001 - reported on the loop
                loop.call_soon_threadsafe(self._commit_done, batch, started, exc)
            else:
                loop.call_soon_threadsafe(self._commit_done, batch, started, None)

        committer.submit(commit)

    def _commit_done(
        self, batch: DetachedBatch, started: float, error: BaseException | None
    ) -> None:
        """On the loop, after a commit: answer its requests, then start the next."""
        self._committing = False
        self._commit_idle.set()
        if error is not None:
            self._commit_failed(error)
            return
        if self._standby is not None:
            # The commit renewed the lease from before it started.
            self._lease_until = max(self._lease_until, started + self.settings.lease_seconds)
        self._committed(batch.last, len(batch))
        # Commands that ran meanwhile form the next batch.
        self._commit_next()

    @contextlib.asynccontextmanager
    async def _store_exclusively(self) -> AsyncIterator[None]:
        """Hold the store: wait for the commit in progress, start none until released."""
        async with self._io:
            self._io_wanted = True
            try:
                await self._commit_idle.wait()
                yield
            finally:
                self._io_wanted = False
                if not self._stopping or self._waiters:
                    self._commit_next()

    async def _timers(self) -> None:
        """Sleep until the engine's next wakeup, then run ``advance`` like any command."""
        advance = COMMANDS["advance"]
        nothing = NoArguments()
        while not self._stopping:
            self._wake.clear()
            if self.leading:
                delay = min(self.durable.next_wakeup() - time.time(), _MAX_TIMER_SLEEP)
            else:
                # A standby's timers are its leader's: it waits to take over.
                delay = _MAX_TIMER_SLEEP
            if delay > 0 or math.isnan(delay):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.0))
                continue
            try:
                await self.execute(advance, nothing, lambda _engine, fired: fired)
            except ServiceUnavailableError:
                if self._standby is None or self._stopping or self._failed is not None:
                    return
            except Exception as exc:  # noqa: BLE001 - a failing timer stops the service, visibly
                if self._failed is None:
                    self._failed = f"advance raised {type(exc).__name__}: {exc}"
                    self._announce()
                return

    # ------------------------------------------------------------ events

    def _publish(self, events: list[Event]) -> None:
        if not events:
            return
        stored = self._events
        stored.extend(map(_Held, events))
        excess = len(stored) - self.settings.limits.event_buffer
        if excess > 0:
            for _ in range(excess):
                stored.popleft()
            self._events_base += excess
        self._announce()

    def _announce(self) -> None:
        news, self._news = self._news, asyncio.Event()
        news.set()

    @property
    def news(self) -> asyncio.Event:
        """Set when events are next published (or the service stops)."""
        return self._news

    @property
    def last_published(self) -> int:
        """Sequence number of the latest event published to streams."""
        return self._events_base + len(self._events) - 1

    @property
    def oldest_buffered(self) -> int:
        """Sequence number of the oldest event still held in memory."""
        return self._events_base

    def events_after(self, after: int) -> list[StoredEvent]:
        """Published events held in memory with sequence numbers above ``after``. O(result)."""
        count = len(self._events) - max(after + 1 - self._events_base, 0)
        if count <= 0:
            return []
        # From the newest end: readers mostly ask for the last few.
        newest = [held.stored() for held in itertools.islice(reversed(self._events), count)]
        newest.reverse()
        return newest

    async def backfill(self, after: int, before: int) -> list[StoredEvent] | None:
        """Events ``after < seq < before`` rebuilt by replaying the journal on a fresh engine.

        ``None`` when the journal no longer holds its first records (the
        events are gone). O(journal): the whole journal is replayed, once:
        the events rebuilt are kept in memory in front of the live ones (as
        many as ``event_buffer`` leaves room for), so the next reader
        resuming from as far back finds them there.
        """
        durable = self.durable
        records: list[Record]
        async with self._store_exclusively():
            records = await asyncio.to_thread(lambda: list(durable.store.read(after=0)))
        if not records or records[0].position != 1:
            return [] if not records and before <= 1 else None

        def rebuild() -> list[StoredEvent]:
            clock = [0.0]
            engine = self.settings.build_engine(lambda: clock[0])
            found: list[StoredEvent] = []

            def keep(event: Event) -> None:
                if after < event.seq < before:
                    found.append((event.seq, event.kind.value, event.to_json()))

            engine.subscribe(keep)
            replay(engine, records, clock=clock)
            return found

        found = await asyncio.to_thread(rebuild)
        self._keep_older(found)
        return found

    def _keep_older(self, older: list[StoredEvent]) -> None:
        """Put rebuilt events just before the oldest held, within the buffer's size."""
        room = self.settings.limits.event_buffer - len(self._events)
        if room <= 0 or not older or older[-1][0] != self._events_base - 1:
            return
        kept = older[-room:]
        self._events.extendleft(_Held(None, stored) for stored in reversed(kept))
        self._events_base -= len(kept)
