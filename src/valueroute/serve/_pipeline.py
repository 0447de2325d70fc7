"""A journal store whose commits overlap the next commands: group commit on a writer thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from valueroute.journal import JournalStateError, Record, Store, StoredSnapshot

__all__ = ["PipelinedStore"]


class PipelinedStore:
    """A :class:`~valueroute.journal.Store` that commits on a writer thread of its own.

    :meth:`append` queues the records and returns at once; the writer thread
    commits everything queued in one transaction of the wrapped store (one
    fsync), then calls ``on_commit(position, count)`` with the last position
    it made durable. While it writes, the engine runs the next commands,
    whose records form the next group. So :class:`~valueroute.journal.DurableEngine`'s
    own ``durable_position`` runs ahead of the disk here: the host answers a
    command only once ``on_commit`` has reported its position.

    Every other operation (reads, snapshots, truncation, checks) first waits
    for the writer to be idle with nothing queued, and runs under the same
    lock as the writer, so it never sees a transaction in progress. Other
    attributes (the chain flag, the mark file) are the wrapped store's.
    """

    def __init__(
        self,
        inner: Store,
        on_commit: Callable[[int, int], object],
        on_failure: Callable[[BaseException], object],
    ) -> None:
        self._inner = inner
        self._on_commit = on_commit
        self._on_failure = on_failure
        self._queue: list[Record] = []
        self._busy = False
        self._closing = False
        self._failure: BaseException | None = None
        self._state = threading.Condition()
        self._io = threading.Lock()
        self._thread = threading.Thread(
            target=self._write, name="valueroute-journal-writer", daemon=True
        )
        self._thread.start()

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks: the wrapped store's extras.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    # ------------------------------------------------------------ writing

    def append(self, records: Sequence[Record]) -> None:
        """Queue ``records`` for the writer; raises if an earlier commit failed."""
        with self._state:
            if self._failure is not None:
                raise JournalStateError(
                    f"the journal's writer failed ({self._failure}); reopen the journal"
                )
            if self._closing:
                raise JournalStateError("the journal is closing (expected an open one)")
            self._queue.extend(records)
            self._state.notify_all()

    def _write(self) -> None:
        while True:
            with self._state:
                while not self._queue and not self._closing:
                    self._state.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
                self._busy = True
            try:
                with self._io:
                    self._inner.append(batch)
            except BaseException as exc:  # noqa: BLE001 - reported to the host, then the writer ends
                with self._state:
                    self._failure = exc
                    self._busy = False
                    self._state.notify_all()
                self._on_failure(exc)
                return
            with self._state:
                self._busy = False
                self._state.notify_all()
            self._on_commit(batch[-1].position, len(batch))

    def drain(self) -> None:
        """Wait until everything queued is committed (or the writer failed)."""
        with self._state:
            while (self._queue or self._busy) and self._failure is None:
                self._state.wait()
            if self._failure is not None:
                raise JournalStateError(f"the journal's writer failed ({self._failure})")

    # ------------------------------------------------------------ the rest of Store

    def read(self, *, after: int) -> Iterator[Record]:
        """Committed records after ``after`` (read whole, under the writer's lock)."""
        self.drain()
        with self._io:
            return iter(list(self._inner.read(after=after)))

    def write_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Store a snapshot once every queued record is committed."""
        self.drain()
        with self._io:
            self._inner.write_snapshot(snapshot)

    def snapshots(self) -> Iterator[StoredSnapshot]:
        """Stored snapshots, newest first."""
        self.drain()
        with self._io:
            return iter(list(self._inner.snapshots()))

    def truncate(self, *, through: int) -> int:
        """As the wrapped store's, once the writer is idle."""
        self.drain()
        with self._io:
            return self._inner.truncate(through=through)

    def quarantine(self, *, after: int, reason: str) -> int:
        """As the wrapped store's, once the writer is idle."""
        self.drain()
        with self._io:
            return self._inner.quarantine(after=after, reason=reason)

    def check(self) -> str | None:
        """As the wrapped store's, once the writer is idle."""
        self.drain()
        with self._io:
            return self._inner.check()

    def close(self) -> None:
        """Commit what is queued, stop the writer and close the wrapped store."""
        with self._state:
            self._closing = True
            self._state.notify_all()
        self._thread.join()
        self._inner.close()
