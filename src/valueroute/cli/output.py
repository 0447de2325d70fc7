"""What the command line prints: tables that fit the terminal, CSV, and progress lines.

Tables are plain text with at least two spaces between columns, so figures
never run together; a table wider than the terminal (``COLUMNS``, else the
terminal's width, else 100 columns) is cut into blocks of columns, each
repeating the name columns. Progress goes to stderr, and only when stderr is
a terminal: a redirected or piped run prints nothing but its result.
"""

from __future__ import annotations

import csv
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


_LONGEST_ETA = 100 * 3600.0
"""An ETA this long or longer (an early, tiny share done) is shown as ``?``."""


def _clock_text(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressLine:
    """A progress line on stderr with the share done, elapsed time and an ETA.

    Call it with the fraction done (0 to 1); :meth:`count` instead shows a
    count of finished steps and the elapsed time, for runs whose total is not
    known in advance. It writes only when its stream is a terminal, at most
    ten times a second, rewriting one line; :meth:`close` ends the line, and
    nothing is written after it.
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
        self.last_shown = -math.inf
        self.width = 0
        self.open = False
        self.held: tuple[int, str] | None = None
        self.closed = False
        self._lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        if not self.active:
            return
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = self.clock()
        if fraction < 1.0 and now - self.last_shown < self.every:
            return
        elapsed = now - self.start
        remaining = math.inf if fraction <= 0.0 else elapsed * (1.0 - fraction) / fraction
        eta = _clock_text(remaining) if remaining < _LONGEST_ETA else "?"
        self._show(f"{self.label}: {fraction:4.0%}  elapsed {_clock_text(elapsed)}  ETA {eta}", now)
        if fraction >= 1.0:
            self.close()

    def count(self, done: int, unit: str) -> None:
        """Show ``done`` finished ``unit`` and the elapsed time (no total known)."""
        if not self.active:
            return
        now = self.clock()
        if now - self.last_shown < self.every:
            self.held = (done, unit)  # shown by close() if nothing comes after it
            return
        self.held = None
        self._show(f"{self.label}: {done} {unit}  elapsed {_clock_text(now - self.start)}", now)

    def _show(self, text: str, now: float) -> None:
        with self._lock:
            if self.closed:
                return  # a step reported after the run ended (a pool's late callback)
            self.last_shown = now
            padding = " " * max(self.width - len(text), 0)
            self.width = len(text)
            self.open = True
            self.stream.write("\r" + text + padding)
            self.stream.flush()

    def close(self) -> None:
        """End the progress line (a newline), if one was shown, with any count held back."""
        if self.held is not None:
            done, unit = self.held
            self.held = None
            now = self.clock()
            self._show(f"{self.label}: {done} {unit}  elapsed {_clock_text(now - self.start)}", now)
        with self._lock:
            if self.open:
                self.stream.write("\n")
                self.stream.flush()
                self.open = False
                self.width = 0
            self.closed = True


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
