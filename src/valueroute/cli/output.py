"""What the command line prints: tables that fit the terminal, CSV, and progress lines.

Tables are plain text with at least two spaces between columns, so figures
never run together; a table wider than the terminal (``COLUMNS``, else the
terminal's width, else 100 columns) is cut into blocks of columns, each
repeating the name columns. Progress lines (drawn by tqdm, imported only
then) go to stderr, and only when stderr is a terminal: a redirected or
piped run prints nothing but its result.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor, Future
from typing import IO, Any

__all__ = [
    "DEFAULT_WIDTH",
    "CountingExecutor",
    "ProgressLine",
    "csv_text",
    "figure",
    "table",
    "terminal_width",
]

DEFAULT_WIDTH = 100
"""The width tables fit when neither ``COLUMNS`` nor a terminal says otherwise."""

_GAP = "  "
_NAME_CHARACTERS = 28
"""Name cells (types, policies, groups) are cut to this many characters."""


def terminal_width() -> int:
    """``COLUMNS`` when set to a positive number, else the terminal's width, else 100."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isascii() and columns.isdigit() and 0 < int(columns) < 100_000:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def name_cell(text: str) -> str:
    """A name cut to a bounded length, so one long name cannot widen a table unboundedly.

    The middle is cut, keeping the start and the end: names that differ only
    at their end (``aging_priority:seconds_per_point=30`` and ``=60``) stay
    told apart.
    """
    if len(text) > _NAME_CHARACTERS:
        head = (_NAME_CHARACTERS - 3) // 2
        tail = _NAME_CHARACTERS - 3 - head
        return text[:head] + "..." + text[-tail:]
    return text


def figure(value: float, pattern: str, half_width: float | None = None) -> str:
    """``value`` formatted by ``pattern`` (``-`` when not a number), with ``±half_width``."""
    if not isinstance(value, int | float) or math.isnan(value):
        return "-"
    text = pattern.format(value)
    if half_width is not None and not math.isnan(half_width):
        text += " ±" + pattern.format(half_width).lstrip("+")
    return text


def table(
    titles: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    names: int = 1,
    text: Collection[int] = (),
    width: int | None = None,
) -> str:
    """Rows under their titles, columns two spaces apart, cut into blocks that fit ``width``.

    The first ``names`` columns are left-aligned names (cut to 28 characters)
    repeated in every block; the others are right-aligned figures, except the
    columns whose indexes are in ``text`` (left-aligned, cut as names). Every line
    fits ``width`` unless the names and one figure column alone are wider.
    """
    limit = terminal_width() if width is None else width
    cut = set(range(names)) | set(text)
    cells = [[name_cell(c) if i in cut else c for i, c in enumerate(row)] for row in rows]
    widths = [len(title) for title in titles]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    fixed = sum(widths[:names]) + len(_GAP) * names
    blocks: list[list[int]] = []
    current: list[int] = []
    used = fixed
    for index in range(names, len(titles)):
        needed = widths[index] + len(_GAP)
        if current and used + needed - len(_GAP) > limit:
            blocks.append(current)
            current, used = [], fixed
        current.append(index)
        used += needed
    if current or not blocks:
        blocks.append(current)

    def line(values: Sequence[str], columns: Sequence[int]) -> str:
        parts = [values[i].ljust(widths[i]) for i in range(names)]
        parts += [
            values[i].ljust(widths[i]) if i in cut else values[i].rjust(widths[i]) for i in columns
        ]
        return _GAP.join(parts).rstrip()

    out: list[str] = []
    for block in blocks:
        if out:
            out.append("")
        out.append(line(titles, block))
        out.extend(line(row, block) for row in cells)
    return "\n".join(out)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A CSV document (header line first); NaN and None are written as empty fields."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row]
        )
    return buffer.getvalue()


_FRACTION_FORMAT = "{l_bar}{bar}| {elapsed} elapsed, ETA {remaining}"
_COUNT_FORMAT = "{desc}: {n_fmt} {unit}, {elapsed} elapsed"
_FRACTION_ROOM = 42
"""Columns a fraction line needs besides its label: share, a short bar, elapsed and ETA."""
_COUNT_ROOM = 27
"""Columns a count line needs besides its label and unit: the count and elapsed."""
_SMALLEST_SHARE = 1e-9
"""A share done below this is shown as none done (ETA ``?``): the rate so far rounds to nothing."""


def _progress_width(stream: IO[str]) -> int:
    """``COLUMNS`` when set to a positive number, else the stream's terminal width, else 100."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isascii() and columns.isdigit() and 0 < int(columns) < 100_000:
        return int(columns)
    try:
        width = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):  # no file descriptor, or not a terminal's
        return DEFAULT_WIDTH
    return width if width > 0 else DEFAULT_WIDTH  # some pseudo-terminals report no size


def _fit(label: str, room: int) -> str:
    """``label`` cut in the middle to at most ``room`` characters (at least 10 are kept)."""
    room = max(room, 10)
    if len(label) <= room:
        return label
    head = (room - 3) // 2
    return label[:head] + "..." + label[len(label) - (room - 3 - head) :]


@functools.cache
def _bar_class() -> Any:
    """tqdm's progress bar without its monitor thread (imported on a terminal's first line only).

    The monitor adjusts bars that skip updates by count (``miniters``); these
    bars redraw by time alone, so the thread would have nothing to do.
    """
    from tqdm.std import tqdm  # type: ignore[import-untyped]

    class Bar(tqdm):  # type: ignore[misc]
        monitor_interval = 0

    return Bar


class ProgressLine:
    """A progress line on stderr with the share done, elapsed time and an ETA, drawn by tqdm.

    Call it with the fraction done (0 to 1); :meth:`count` instead shows a
    count of finished steps and the elapsed time, for runs whose total is not
    known in advance (a line shows one or the other). Elapsed time counts from
    the line's creation. It writes only when its stream is a terminal, at most
    once every ``every`` seconds (the last figure is always shown by
    :meth:`close`), on one line that fits the terminal (``COLUMNS``, else the
    stream's width, else 100 columns; a long label is cut in the middle);
    :meth:`close` ends the line, and nothing is written after it. Reports may
    come from several threads.
    """

    def __init__(
        self,
        label: str,
        *,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = 0.1,
    ) -> None:
        self.label = label
        self.stream: IO[str] = sys.stderr if stream is None else stream
        self.active = self.stream.isatty()
        self.clock = clock
        self.every = every
        self.start = clock()
        self.closed = False
        self._bar: Any = None
        self._lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        if not self.active:
            return
        share = float(fraction)
        share = min(share, 1.0) if share >= _SMALLEST_SHARE else 0.0  # NaN too
        with self._lock:
            if self.closed:
                return
            if self._bar is None:
                self._bar = self._open(1.0, "", _FRACTION_FORMAT, _FRACTION_ROOM)
            self._report(share)
            if share >= 1.0:
                self._close()

    def count(self, done: int, unit: str) -> None:
        """Show ``done`` finished ``unit`` and the elapsed time (no total known)."""
        if not self.active:
            return
        with self._lock:
            if self.closed:
                return  # a step reported after the run ended (a pool's late callback)
            if self._bar is None:
                self._bar = self._open(None, unit, _COUNT_FORMAT, _COUNT_ROOM + len(unit))
            self._report(done)

    def _open(self, total: float | None, unit: str, layout: str, room: int) -> Any:
        # Only called on a terminal: a piped run neither imports tqdm nor builds a bar.
        width = _progress_width(self.stream)
        bar = _bar_class()(
            total=total,
            desc=_fit(self.label, width - room),
            unit=unit,
            file=self.stream,
            ncols=max(width - 1, 20),  # the last column would wrap on some terminals
            mininterval=self.every,
            miniters=0,  # redraw by time alone, however irregular the steps
            smoothing=0,  # the ETA is the remaining share at the average rate so far
            bar_format=layout,
            leave=True,
            delay=math.inf,  # nothing until the first figure: drawn by _report
        )
        bar._time = self.clock  # the clock tqdm reads (how its own tests inject one)
        bar.start_t = self.start
        bar.delay = 0
        bar.last_print_t = -math.inf  # the first figure is drawn at once
        return bar

    def _report(self, value: float) -> None:
        self._bar.n = value
        self._bar.update(0)  # redraws when ``every`` seconds passed since the last drawing

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()  # draws the last figure, then ends the line
        self.closed = True

    def close(self) -> None:
        """End the progress line (a newline), if one was shown, with the last figure reported."""
        with self._lock:
            self._close()


class CountingExecutor(Executor):
    """An executor that runs calls on another and counts the finished ones into a progress line."""

    def __init__(self, inner: Executor, progress: ProgressLine, unit: str) -> None:
        self.inner = inner
        self.progress = progress
        self.unit = unit
        self.done = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self.inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: Future[Any]) -> None:
        # Reported under the lock: two calls finishing together report their counts in
        # order, so a late, lower count never replaces a higher one on the line.
        with self._lock:
            self.done += 1
            self.progress.count(self.done, self.unit)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)
