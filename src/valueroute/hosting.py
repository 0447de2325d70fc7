"""Running the engine inside a live host: threads and asyncio.

The :class:`~valueroute.engine.Engine` itself has no threads, locks or I/O.
Hosts that call it from several threads wrap it in :class:`LockedEngine`;
hosts built on asyncio drive its timers with :class:`TimerLoop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from valueroute.engine import Engine
from valueroute.errors import InvalidInputError, bounded_repr

if TYPE_CHECKING:
    from valueroute.journal import DurableEngine

__all__ = ["LockedEngine", "LockedView", "TimerLoop"]


class LockedView:
    """A read-only object of a locked engine (its task list, its agent pool)
    whose every method call and attribute read holds the engine's lock.

    An iterator a method returns (``ranked``, ``available_agents``) is run to
    its end inside the lock and handed back as an iterator over that list:
    walking a lazy one after the lock is released could meet a list changed
    by another thread. Records returned (tasks, agents) are the engine's own;
    read several of their fields consistently while holding the lock.
    """

    __slots__ = ("_lock", "_target")

    def __init__(self, target: object, lock: threading.RLock) -> None:
        """``target``: the object to wrap; ``lock``: the lock every call holds, a
        reentrant lock such as ``threading.RLock()`` (anything else with
        ``acquire``, ``release`` and the ``with`` protocol is taken as one).
        Something that is not a lock raises
        :class:`~valueroute.errors.InvalidInputError`.
        """
        _check_lock(lock, required=True)
        self._target = target
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = attribute(*args, **kwargs)
                if isinstance(result, Iterator):
                    return iter(list(result))
                return result

        return locked

    def __len__(self) -> int:
        with self._lock:
            return len(self._target)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        with self._lock:
            return iter(list(self._target))  # type: ignore[call-overload]

    def __contains__(self, item: object) -> bool:
        with self._lock:
            return item in self._target  # type: ignore[operator]

    def __repr__(self) -> str:
        return f"LockedView({type(self._target).__name__})"


class LockedEngine:
    """An engine whose every method call and attribute read holds one lock.

    Commands from different threads are serialised in the order they obtain
    the lock, so each sees a consistent engine. Subscribers run inside the
    lock, on the thread that issued the command: keep them short, and do not
    call back into the engine from another thread while inside one (the lock
    is reentrant for the same thread).

    >>> from valueroute import Engine
    >>> locked = LockedEngine(Engine(clock=lambda: 0.0))
    >>> len(locked)
    0
    """

    __slots__ = ("_engine", "_lock")

    def __init__(self, engine: Engine, *, lock: threading.RLock | None = None) -> None:
        """``engine``: an :class:`~valueroute.engine.Engine` (a durable engine's
        ``engine`` too). ``lock``: ``None`` for a new ``threading.RLock()``, or a
        reentrant lock to share with other code (anything with ``acquire``,
        ``release`` and the ``with`` protocol). Anything else raises
        :class:`~valueroute.errors.InvalidInputError`.
        """
        if not isinstance(engine, Engine):
            raise InvalidInputError(f"engine: got {type(engine).__name__} (expected an Engine)")
        _check_lock(lock, required=False)
        self._engine = engine
        self._lock = threading.RLock() if lock is None else lock

    @property
    def lock(self) -> threading.RLock:
        """The lock; hold it to read several things consistently."""
        return self._lock

    @property
    def tasklist(self) -> LockedView:
        """The engine's task list, every call holding the lock (see :class:`LockedView`)."""
        return LockedView(self._engine.tasklist, self._lock)

    @property
    def agents(self) -> LockedView:
        """The engine's agent pool, every call holding the lock (see :class:`LockedView`)."""
        return LockedView(self._engine.agents, self._lock)

    @property
    def engine(self) -> Engine:
        """The wrapped engine (unlocked: use only while holding :attr:`lock`)."""
        return self._engine

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            attribute = getattr(self._engine, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return locked

    def __len__(self) -> int:
        with self._lock:
            return len(self._engine)


def _check_lock(lock: object, *, required: bool) -> None:
    """Refuse what cannot serve as the lock (``None`` only when not ``required``)."""
    if lock is None and not required:
        return
    if not all(
        callable(getattr(lock, name, None))
        for name in ("acquire", "release", "__enter__", "__exit__")
    ):
        raise InvalidInputError(
            f"lock: got {bounded_repr(lock)} of type {type(lock).__name__} "
            "(expected a reentrant lock such as threading.RLock())"
        )


class TimerLoop:
    """Drive an engine's timers from asyncio on the wall clock.

    ``await loop.run()`` sleeps until :meth:`Engine.next_wakeup`, calls
    :meth:`Engine.advance`, and repeats until :meth:`stop`. It watches the
    engine (:meth:`Engine.watch_wakeup`), so a command that brings the next
    wakeup earlier (an offer with a time-out, a deferral), from this event
    loop or from another thread, wakes it at once: no :meth:`poke` needed.
    The engine's clock must be the same wall clock (``time.time``, the
    default).
    """

    def __init__(
        self,
        engine: Engine | LockedEngine | DurableEngine,
        *,
        clock: Callable[[], float] = time.time,
        max_sleep: float = 60.0,
    ) -> None:
        """``engine``: an :class:`~valueroute.engine.Engine`, a
        :class:`LockedEngine` or a :class:`~valueroute.journal.DurableEngine`
        (anything with ``next_wakeup()`` and ``advance()``); ``clock``: a
        callable returning the time in seconds; ``max_sleep``: the longest
        sleep between looks at the engine, finite seconds > 0 (a float or an
        int). Anything else raises
        :class:`~valueroute.errors.InvalidInputError` naming the parameter.
        """
        if not all(callable(getattr(engine, name, None)) for name in ("next_wakeup", "advance")):
            raise InvalidInputError(
                f"engine: got {bounded_repr(engine)} of type {type(engine).__name__} (expected "
                "an Engine, a LockedEngine or a DurableEngine: next_wakeup() and advance())"
            )
        if not callable(clock):
            raise InvalidInputError(
                f"clock: got {bounded_repr(clock)} of type {type(clock).__name__} "
                "(expected a callable returning seconds, such as time.time)"
            )
        if (
            isinstance(max_sleep, bool)
            or not isinstance(max_sleep, int | float)
            # Also refuses nan, infinities and integers no float holds.
            or not 0 < max_sleep <= sys.float_info.max
        ):
            raise InvalidInputError(
                f"max_sleep: got {bounded_repr(max_sleep)} (expected finite seconds > 0)"
            )
        self._engine = engine
        self._clock = clock
        self._max_sleep = float(max_sleep)
        self._wake = asyncio.Event()
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self.fired = 0

    def poke(self) -> None:
        """Make the loop look at the engine again now (it also does so by itself)."""
        self._wake.set()

    def _heard(self, at: float) -> None:
        """The engine set a timer earlier than the loop sleeps: wake it (any thread)."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        """End :meth:`run` at its next iteration."""
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        """Run until :meth:`stop`."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        watch = getattr(self._engine, "watch_wakeup", None)
        unwatch = watch(self._heard) if callable(watch) else None
        try:
            while not self._stopped:
                # Cleared before reading the wakeup: a timer set after the read
                # wakes the loop instead of being lost.
                self._wake.clear()
                delay = min(self._engine.next_wakeup() - self._clock(), self._max_sleep)
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)
                    continue
                self.fired += self._engine.advance()
        finally:
            if unwatch is not None:
                unwatch()
            self._loop = None
