"""Arrival processes: Poisson, intraday profiles and trace replay.

Every process yields :class:`Arrival` records in time order (seconds, the
simulation's clock): ``Arrival(time, task_type, handle_time, patience,
attributes)``. Generated arrivals leave ``handle_time`` and ``patience`` as
``None`` (the simulator draws them from the task type's distributions, each
from its own random stream); a replayed trace may carry each task's own.

Three kinds, each a frozen pydantic model told apart by ``kind`` (see
:data:`ArrivalProcess` and :func:`arrival_process_from`):

- :class:`PoissonArrivals`: a constant ``rate_per_hour``, from
  ``start_seconds`` to ``end_seconds`` (or forever: the generator is lazy).
- :class:`ProfileArrivals`: a piecewise-constant rate given by the expected
  number of arrivals (``volumes``) in consecutive intervals of 15, 30 or 60
  minutes, optionally with a mean handle time per interval (``aht``);
  :func:`load_profile_csv` reads one from a CSV file.
- :class:`TraceArrivals`: replay of timestamped tasks from a CSV or JSON
  Lines file (:func:`load_trace`).

Generated processes are exact, not approximations: inside an interval of
constant rate λ the gaps are independent exponentials with mean 1/λ, and at
an interval boundary the pending gap is discarded and drawn afresh at the new
rate. By the memorylessness of the exponential this is exactly a
non-homogeneous Poisson process with the piecewise-constant rate (no
thinning needed, no rejected draws). Cost: O(1) amortised per arrival plus
O(1) per interval; draws come in blocks through a
:class:`~valueroute.sim.distributions.Sampler`.

File formats
------------

Profile CSV (header row, one row per interval; ``task_type`` and ``aht``
optional)::

    interval_start,task_type,volume,aht
    08:00,claims,12,300
    08:15,claims,15.5,280

``interval_start`` is a time of day ``HH:MM`` or ``HH:MM:SS``, or a number of
seconds; starts must be consecutive and equally spaced by 15, 30 or 60
minutes per task type. ``volume`` is the expected number of arrivals in the
interval (a real number >= 0). ``aht``, the mean handle time in seconds of
the interval's arrivals (> 0), is given on every row of a task type or on
none (empty cells).

Trace CSV (header row; ``handle_time`` and ``patience`` optional, an empty
cell meaning "not recorded"; any other column becomes a text attribute)::

    time,task_type,handle_time,patience,segment
    12.5,claims,310,,gold
    40.0,sales,95.5,120,silver

Trace JSON Lines: one object per line with the same keys; other keys become
attributes and keep their JSON type (string, number, boolean or null).
``time`` is in seconds on the simulation's clock; rows need not be sorted
(they are replayed in time order, ties in file order).
"""

from __future__ import annotations

import csv
import heapq
import json
import math
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, NamedTuple, Self

import numpy as np
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from valueroute._types import AttributeValue
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.models import MAX_ATTRIBUTES, BoundaryModel, file_row_error, model_by_kind
from valueroute.sim.distributions import Exponential, Sampler

__all__ = [
    "MAX_PROFILE_INTERVALS",
    "Arrival",
    "ArrivalProcess",
    "PoissonArrivals",
    "ProfileArrivals",
    "TraceArrivals",
    "arrival_process_from",
    "load_profile_csv",
    "load_trace",
    "merge_arrivals",
]

MAX_PROFILE_INTERVALS = 1_000_000
MAX_ARRIVALS_PER_SECOND = 1_000_000.0
"""The highest arrival rate a generated process takes. Far above any real
centre; it keeps the gap between arrivals well above the spacing of
floating-point times, where an absurd rate would stop simulated time from
advancing and a run would never end."""
_SECONDS_PER_HOUR = 3600.0
_NO_ATTRIBUTES: Mapping[str, AttributeValue] = MappingProxyType({})
_UNIT_EXPONENTIAL = Exponential(mean_seconds=1.0)

_FiniteSeconds = Annotated[float, Field(allow_inf_nan=False)]
_Volume = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
_MeanSeconds = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
_TaskType = Annotated[str, Field(min_length=1, max_length=128)]


class Arrival(NamedTuple):
    """One task arriving: when, of which type, and what the trace knows of it."""

    time: float
    """Arrival time in seconds."""
    task_type: str
    handle_time: float | None = None
    """Handle (service) time in seconds, when the source records it."""
    patience: float | None = None
    """How long the customer would wait before abandoning, when known."""
    attributes: Mapping[str, AttributeValue] = _NO_ATTRIBUTES


def _require_rng(rng: np.random.Generator | None) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(
            f"rng: got {type(rng).__name__} (expected a numpy.random.Generator)",
            [("rng", rng, "a numpy.random.Generator")],
        )
    return rng


class PoissonArrivals(BoundaryModel):
    """Arrivals at a constant rate: exponential gaps with mean 3600 / rate_per_hour seconds.

    >>> import numpy as np
    >>> process = PoissonArrivals(task_type="claims", rate_per_hour=120, end_seconds=3600)
    >>> arrivals = list(process.generate(rng=np.random.default_rng(1)))
    >>> all(0 <= a.time < 3600 for a in arrivals)
    True
    """

    kind: Literal["poisson"] = "poisson"
    task_type: _TaskType
    rate_per_hour: Annotated[
        float, Field(ge=0.0, le=MAX_ARRIVALS_PER_SECOND * _SECONDS_PER_HOUR, allow_inf_nan=False)
    ]
    """At most :data:`MAX_ARRIVALS_PER_SECOND` × 3600."""
    start_seconds: _FiniteSeconds = 0.0
    end_seconds: _FiniteSeconds | None = None
    """Arrivals stop before this time; ``None`` generates forever (lazily)."""

    @field_validator("end_seconds")
    @classmethod
    def _after_start(cls, end: float | None, info: Any) -> float | None:
        start = info.data.get("start_seconds")
        if end is not None and start is not None and end < start:
            raise PydanticCustomError(
                "order", "expected a time >= start_seconds ({start})", {"start": start}
            )
        return end

    def expected_count(self) -> float:
        """Mean number of arrivals (``inf`` without an end)."""
        if self.end_seconds is None:
            return math.inf if self.rate_per_hour > 0 else 0.0
        return self.rate_per_hour * (self.end_seconds - self.start_seconds) / _SECONDS_PER_HOUR

    def generate(self, *, rng: np.random.Generator | None = None) -> Iterator[Arrival]:
        """Arrivals in time order, drawn with ``rng``. O(1) amortised per arrival."""
        rng = _require_rng(rng)
        return self._generate(rng)

    def _generate(self, rng: np.random.Generator) -> Iterator[Arrival]:
        if self.rate_per_hour == 0:
            return
        gaps = Sampler(_UNIT_EXPONENTIAL, rng)
        mean_gap = _SECONDS_PER_HOUR / self.rate_per_hour
        end = math.inf if self.end_seconds is None else self.end_seconds
        task_type = self.task_type
        now = self.start_seconds + gaps.draw() * mean_gap
        while now < end:
            yield Arrival(now, task_type)
            now += gaps.draw() * mean_gap


class ProfileArrivals(BoundaryModel):
    """A non-homogeneous Poisson process with a piecewise-constant rate.

    ``volumes[i]`` is the expected number of arrivals in interval ``i``,
    which runs from ``start_seconds + i × interval_minutes × 60`` for
    ``interval_minutes`` minutes. The profile is played ``repeat`` times back
    to back (a 24-hour profile with ``repeat=5`` covers five days).

    ``aht[i]``, when given, is the mean handle time in seconds of the tasks
    arriving in interval ``i``: each arrival then carries an exponential
    handle time with that mean, which the simulator uses instead of its task
    type's ``handle`` (and ``handle_by_group``), as it does a trace's. The
    handle times come from a generator spawned from ``rng``, so the arrival
    times are the same as without ``aht``.

    >>> import numpy as np
    >>> p = ProfileArrivals(task_type="claims", interval_minutes=30, volumes=[4, 0, 10])
    >>> p.end_seconds, p.expected_count()
    (5400.0, 14.0)
    >>> all(1800 > a.time or a.time >= 3600 for a in p.generate(rng=np.random.default_rng(2)))
    True
    """

    kind: Literal["profile"] = "profile"
    task_type: _TaskType
    interval_minutes: Literal[15, 30, 60]
    volumes: Annotated[tuple[_Volume, ...], Field(min_length=1, max_length=MAX_PROFILE_INTERVALS)]
    start_seconds: _FiniteSeconds = 0.0
    repeat: Annotated[int, Field(ge=1, le=MAX_PROFILE_INTERVALS)] = 1
    aht: Annotated[tuple[_MeanSeconds, ...], Field(max_length=MAX_PROFILE_INTERVALS)] | None = None
    """Mean handle time in seconds per interval (exponential); ``None``: the task type's."""

    @field_validator("volumes")
    @classmethod
    def _volume_rates(cls, volumes: tuple[float, ...], info: Any) -> tuple[float, ...]:
        minutes = info.data.get("interval_minutes")
        if minutes is None:
            return volumes  # interval_minutes itself was refused
        most = MAX_ARRIVALS_PER_SECOND * 60.0 * minutes
        for index, volume in enumerate(volumes):
            if volume > most:
                raise PydanticCustomError(
                    "rate",
                    "volume {index} is {volume} (expected at most {most} in a {minutes}-minute "
                    "interval: a million arrivals a second)",
                    {"index": index, "volume": volume, "most": f"{most:g}", "minutes": minutes},
                )
        return volumes

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if len(self.volumes) * self.repeat > MAX_PROFILE_INTERVALS:
            raise PydanticCustomError(
                "too_long",
                "repeat={repeat} × {n} volumes exceeds {limit} intervals",
                {"repeat": self.repeat, "n": len(self.volumes), "limit": MAX_PROFILE_INTERVALS},
            )
        if self.aht is not None and len(self.aht) != len(self.volumes):
            raise PydanticCustomError(
                "aht_length",
                "aht has {got} values (expected {n}, one per volume)",
                {"got": len(self.aht), "n": len(self.volumes)},
            )
        return self

    @property
    def interval_seconds(self) -> float:
        """Length of one profile interval in seconds."""
        return 60.0 * self.interval_minutes

    @property
    def end_seconds(self) -> float:
        """When the last interval ends."""
        return self.start_seconds + self.interval_seconds * len(self.volumes) * self.repeat

    def expected_count(self) -> float:
        """Mean number of arrivals over the whole profile."""
        return math.fsum(self.volumes) * self.repeat

    def rate_per_second(self, seconds: float) -> float:
        """The arrival rate at time ``seconds`` (zero outside the profile). O(1)."""
        if not self.start_seconds <= seconds < self.end_seconds:
            return 0.0
        index = int((seconds - self.start_seconds) // self.interval_seconds) % len(self.volumes)
        return self.volumes[index] / self.interval_seconds

    def generate(self, *, rng: np.random.Generator | None = None) -> Iterator[Arrival]:
        """Arrivals in time order. O(1) amortised per arrival, O(1) per interval."""
        rng = _require_rng(rng)
        return self._generate(rng)

    def _generate(self, rng: np.random.Generator) -> Iterator[Arrival]:
        if self.aht is not None:
            return self._generate_with_handle(rng, self.aht)
        return self._generate_times(rng)

    def _generate_times(self, rng: np.random.Generator) -> Iterator[Arrival]:
        gaps = Sampler(_UNIT_EXPONENTIAL, rng)
        width = self.interval_seconds
        task_type = self.task_type
        count = len(self.volumes)
        for index in range(count * self.repeat):
            volume = self.volumes[index % count]
            if volume == 0:
                continue
            # Boundaries computed from the index, not accumulated, so that no
            # rounding drift moves them over many repeats.
            begin = self.start_seconds + index * width
            end = self.start_seconds + (index + 1) * width
            mean_gap = width / volume
            now = begin + gaps.draw() * mean_gap
            while now < end:
                yield Arrival(now, task_type)
                now += gaps.draw() * mean_gap

    def _generate_with_handle(
        self, rng: np.random.Generator, aht: tuple[float, ...]
    ) -> Iterator[Arrival]:
        # The same loop as _generate_times (the same gaps from rng), each
        # arrival with a handle time from a spawned generator.
        try:
            (handle_rng,) = rng.spawn(1)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"rng: a generator that cannot spawn ({exc}); expected one seeded from a "
                "SeedSequence (numpy.random.default_rng(seed), RandomStreams)",
                [("rng", rng, "a numpy.random.Generator that can spawn")],
            ) from None
        gaps = Sampler(_UNIT_EXPONENTIAL, rng)
        handles = Sampler(_UNIT_EXPONENTIAL, handle_rng)
        width = self.interval_seconds
        task_type = self.task_type
        count = len(self.volumes)
        for index in range(count * self.repeat):
            volume = self.volumes[index % count]
            if volume == 0:
                continue
            mean_handle = aht[index % count]
            begin = self.start_seconds + index * width
            end = self.start_seconds + (index + 1) * width
            mean_gap = width / volume
            now = begin + gaps.draw() * mean_gap
            while now < end:
                yield Arrival(now, task_type, handles.draw() * mean_handle)
                now += gaps.draw() * mean_gap


class TraceArrivals(BoundaryModel):
    """Replay of the tasks recorded in a CSV or JSON Lines file (see the module doc).

    ``format`` defaults to the file's suffix: ``.csv`` (optionally ``.csv.gz``)
    or ``.jsonl``/``.ndjson``. The file is read when :meth:`generate` is called.
    """

    kind: Literal["trace"] = "trace"
    path: Annotated[str, Field(min_length=1)]
    format: Literal["csv", "jsonl"] | None = None

    def generate(self, *, rng: np.random.Generator | None = None) -> Iterator[Arrival]:
        """The recorded arrivals in time order; ``rng`` is not used. O(n log n)."""
        return iter(load_trace(self.path, format=self.format))


ArrivalProcess = Annotated[
    PoissonArrivals | ProfileArrivals | TraceArrivals, Field(discriminator="kind")
]
"""Any arrival process, told apart by its ``kind`` field (for scenario models)."""

_KINDS: dict[str, type[BoundaryModel]] = {
    "poisson": PoissonArrivals,
    "profile": ProfileArrivals,
    "trace": TraceArrivals,
}


def arrival_process_from(data: Any) -> PoissonArrivals | ProfileArrivals | TraceArrivals:
    """Validate a mapping into the arrival process its ``kind`` names.

    >>> arrival_process_from({"kind": "poisson", "task_type": "a", "rate_per_hour": 6}).kind
    'poisson'
    """
    if isinstance(data, PoissonArrivals | ProfileArrivals | TraceArrivals):
        return data
    arrivals: PoissonArrivals | ProfileArrivals | TraceArrivals = model_by_kind(
        "ArrivalProcess", data, _KINDS
    )
    return arrivals


def merge_arrivals(*sources: Iterable[Arrival]) -> Iterator[Arrival]:
    """Merge time-ordered arrival streams into one, lazily.

    Ties keep the order of ``sources`` (then each source's own order), so the
    merged stream is deterministic. O(log k) per arrival for k sources.
    Raises :class:`~valueroute.errors.InvalidInputError` naming the source
    when one is not iterable (at once) or yields something that is not an
    :class:`Arrival` (when it is reached).
    """
    iterators = []
    for index, source in enumerate(sources):
        try:
            iterators.append(iter(source))
        except TypeError:
            raise InvalidInputError(
                f"sources.{index}: got {bounded_repr(source)} (expected an iterable of Arrival)",
                [(f"sources.{index}", bounded_repr(source), "an iterable of Arrival")],
            ) from None
    return heapq.merge(*iterators, key=_arrival_time)


def _arrival_time(arrival: Arrival) -> float:
    if not isinstance(arrival, Arrival):
        raise InvalidInputError(
            f"sources: an item is {bounded_repr(arrival)} (expected an Arrival)",
            [("sources", bounded_repr(arrival), "an Arrival")],
        )
    return arrival.time


# ---------------------------------------------------------------- file loaders


def _path_arg(path: Any) -> Path:
    """``path`` as a Path, or InvalidInputError naming it when it is not a str or path."""
    if not isinstance(path, str | os.PathLike) or not isinstance(os.fspath(path), str):
        raise InvalidInputError(
            f"path: got {bounded_repr(path)} (expected a file path, str or os.PathLike of str)",
            [("path", bounded_repr(path), "a str or os.PathLike")],
        )
    if "\x00" in os.fspath(path):
        raise InvalidInputError(
            f"path: got {bounded_repr(path)} (expected a file path without NUL characters)",
            [("path", bounded_repr(path), "a path without NUL")],
        )
    return Path(path)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn a file that cannot be read, or is not UTF-8 text, into InvalidInputError."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"path: {bounded_repr(path.name)} is not UTF-8 text (byte {exc.start} cannot be "
            "decoded; expected a UTF-8 file)",
            [("path", bounded_repr(str(path)), "a UTF-8 text file")],
        ) from None
    except (OSError, EOFError, csv.Error, zlib.error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInputError(
            f"path: got {bounded_repr(str(path))} (cannot be read: {bounded_repr(reason)})",
            [("path", bounded_repr(str(path)), "a readable file")],
        ) from None


def _open_text(path: Path) -> Any:
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _number(path: Path, line: int, field: str, text: Any, *, minimum: float | None = None) -> float:
    if isinstance(text, bool):
        raise file_row_error(path, line, field, text, "a finite number of seconds")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise file_row_error(path, line, field, text, "a finite number of seconds") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        expected = "a finite number of seconds" + ("" if minimum is None else f" >= {minimum:g}")
        raise file_row_error(path, line, field, text, expected)
    return value


def _optional_number(path: Path, line: int, field: str, text: Any) -> float | None:
    if text is None or text == "":
        return None
    return _number(path, line, field, text, minimum=0.0)


def _task_type(path: Path, line: int, text: Any) -> str:
    if not isinstance(text, str) or not text or len(text) > 128:
        raise file_row_error(
            path, line, "task_type", text, "a non-empty text of at most 128 characters"
        )
    return text


def _trace_format(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in ("csv", "jsonl"):
            raise InvalidInputError(
                f"format: got {format!r} (expected 'csv' or 'jsonl')",
                [("format", format, "'csv' or 'jsonl'")],
            )
        return format
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] == ".csv":
        return "csv"
    if suffixes and suffixes[-1] in (".jsonl", ".ndjson"):
        return "jsonl"
    raise InvalidInputError(
        f"path: got {path.name!r} (expected a .csv or .jsonl file, or an explicit format)",
        [("path", str(path), "a .csv or .jsonl file, or an explicit format")],
    )


def load_trace(path: str | Path, *, format: Literal["csv", "jsonl"] | None = None) -> list[Arrival]:
    """Read a trace file into arrivals sorted by time (ties in file order).

    Raises :class:`~valueroute.errors.InvalidInputError` naming the line and
    column of the first bad value. O(n log n) for n rows.
    """
    path = _path_arg(path)
    kind = _trace_format(path, format)
    with _reading(path):
        rows = _read_trace_csv(path) if kind == "csv" else _read_trace_jsonl(path)
    rows.sort(key=_arrival_time)
    return rows


_TRACE_FIELDS = ("time", "task_type", "handle_time", "patience")


def _trace_row(path: Path, line: int, record: Mapping[str, Any]) -> Arrival:
    for required in ("time", "task_type"):
        if required not in record:
            raise file_row_error(path, line, required, None, f"a {required!r} value on every row")
    attributes = {k: v for k, v in record.items() if k not in _TRACE_FIELDS}
    if len(attributes) > MAX_ATTRIBUTES:
        raise file_row_error(
            path, line, "attributes", len(attributes), f"at most {MAX_ATTRIBUTES} attributes"
        )
    for name, value in attributes.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise file_row_error(
                path, line, name, value, "a text, number, boolean or null attribute"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise file_row_error(path, line, name, value, "a finite number")
    return Arrival(
        _number(path, line, "time", record["time"]),
        _task_type(path, line, record["task_type"]),
        _optional_number(path, line, "handle_time", record.get("handle_time")),
        _optional_number(path, line, "patience", record.get("patience")),
        MappingProxyType(attributes) if attributes else _NO_ATTRIBUTES,
    )


def _read_trace_csv(path: Path) -> list[Arrival]:
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for required in ("time", "task_type"):
            if required not in header:
                raise file_row_error(path, 1, "header", header, f"a column named {required!r}")
        arrivals = []
        for row in reader:
            if None in row:
                raise file_row_error(
                    path, reader.line_num, "row", row[None], "no more cells than the header"
                )
            arrivals.append(_trace_row(path, reader.line_num, row))
    return arrivals


def _read_trace_jsonl(path: Path) -> list[Arrival]:
    arrivals = []
    with _open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                raise file_row_error(
                    path, line_number, "line", line.strip(), "a JSON object"
                ) from None
            if not isinstance(record, dict):
                raise file_row_error(path, line_number, "line", record, "a JSON object")
            arrivals.append(_trace_row(path, line_number, record))
    return arrivals


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _interval_start(path: Path, line: int, text: str) -> float:
    match = _CLOCK.match(text.strip())
    if match:
        hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
        if hours < 24 and minutes < 60 and seconds < 60:
            return float(hours * 3600 + minutes * 60 + seconds)
        raise file_row_error(
            path, line, "interval_start", text, "a time of day HH:MM[:SS] before 24:00"
        )
    return _number(path, line, "interval_start", text)


def load_profile_csv(
    path: str | Path,
    *,
    task_type: str | None = None,
    interval_minutes: Literal[15, 30, 60] | None = None,
    repeat: int = 1,
) -> list[ProfileArrivals]:
    """Read interval volumes (see the module doc) into one profile per task type.

    Without a ``task_type`` column, ``task_type`` names the single profile.
    The interval length is inferred from consecutive starts unless
    ``interval_minutes`` is given (needed when a type has a single row).
    An ``aht`` column gives the profiles' ``aht``. Profiles come in the order
    their type first appears. O(n) for n rows.
    """
    path = _path_arg(path)
    if interval_minutes is not None and (
        type(interval_minutes) is not int or interval_minutes not in (15, 30, 60)
    ):
        raise InvalidInputError(
            f"interval_minutes: got {bounded_repr(interval_minutes)} (expected 15, 30, 60 or None)",
            [("interval_minutes", bounded_repr(interval_minutes), "15, 30, 60 or None")],
        )
    with _reading(path):
        return _read_profiles(path, task_type, interval_minutes, repeat)


def _read_profiles(
    path: Path, task_type: str | None, interval_minutes: int | None, repeat: int
) -> list[ProfileArrivals]:
    starts: dict[str, list[tuple[int, float]]] = {}
    volumes: dict[str, list[float]] = {}
    handles: dict[str, list[tuple[int, float | None]]] = {}
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for required in ("interval_start", "volume"):
            if required not in header:
                raise file_row_error(path, 1, "header", header, f"a column named {required!r}")
        has_type = "task_type" in header
        has_aht = "aht" in header
        if has_type == (task_type is not None):
            raise InvalidInputError(
                f"task_type: got {task_type!r} (expected a task_type keyword exactly when "
                f"{path.name} has no task_type column)",
                [("task_type", task_type, "given exactly when the file has no task_type column")],
            )
        for row in reader:
            line = reader.line_num
            name = _task_type(path, line, row["task_type"]) if has_type else str(task_type)
            start = _interval_start(path, line, row["interval_start"] or "")
            volume = _number(path, line, "volume", row["volume"], minimum=0.0)
            starts.setdefault(name, []).append((line, start))
            volumes.setdefault(name, []).append(volume)
            if has_aht:
                handles.setdefault(name, []).append((line, _aht(path, line, row["aht"])))
    if not starts:
        raise file_row_error(path, 2, "rows", 0, "at least one interval")
    profiles = []
    for name, rows in starts.items():
        minutes: int
        if interval_minutes is not None:
            minutes = interval_minutes
        else:
            if len(rows) < 2:
                raise file_row_error(
                    path,
                    rows[0][0],
                    "interval_minutes",
                    None,
                    f"two or more rows for {name!r}, or an interval_minutes keyword",
                )
            width = rows[1][1] - rows[0][1]
            # Starts written as start + i × step differ by step up to the
            # rounding of the subtraction (7477.173 + 900 − 7477.173 is
            # 899.9999999999991); the exact check below uses the exact step.
            slack = 4.0 * math.ulp(max(abs(rows[0][1]), abs(rows[1][1])))
            found = [m for m in (15, 30, 60) if abs(width - 60.0 * m) <= slack]
            if not found:
                raise file_row_error(
                    path, rows[1][0], "interval_start", width, "steps of 15, 30 or 60 minutes"
                )
            minutes = found[0]
        step = 60.0 * minutes
        first = rows[0][1]
        for index, (line, start) in enumerate(rows):
            if start != first + index * step:
                raise file_row_error(
                    path,
                    line,
                    "interval_start",
                    start,
                    f"{first + index * step:g} seconds (consecutive {minutes}-minute intervals "
                    f"for {name!r})",
                )
        profiles.append(
            ProfileArrivals(
                task_type=name,
                interval_minutes=minutes,
                volumes=volumes[name],
                start_seconds=first,
                repeat=repeat,
                aht=_type_aht(path, name, handles.get(name, [])),
            )
        )
    return profiles


def _aht(path: Path, line: int, text: Any) -> float | None:
    if text is None or text == "":
        return None
    value = _number(path, line, "aht", text)
    if value <= 0:
        raise file_row_error(path, line, "aht", text, "a finite number of seconds > 0")
    return value


def _type_aht(
    path: Path, name: str, rows: list[tuple[int, float | None]]
) -> tuple[float, ...] | None:
    """A type's mean handle times: one on every row, or none (empty cells)."""
    given = [value for _, value in rows if value is not None]
    if not given:
        return None
    if len(given) == len(rows):
        return tuple(given)
    line = next(line for line, value in rows if value is None)
    raise file_row_error(
        path, line, "aht", "", f"an aht on every row of {name!r} or on none (some rows have one)"
    )
