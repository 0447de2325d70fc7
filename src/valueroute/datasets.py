"""Real call-centre data: the "Anonymous Bank" (Israel, 1999) call log.

The Technion SEE Center's Anonymous Bank data records every call to a small
bank call centre in 1999: when it arrived, how long it queued, whether the
caller was served or hung up, who served it and for how long. valueroute
ships a small excerpt (three weekdays, see ``valueroute/data/README.md`` for
the source, its terms and how the excerpt was made); point
:func:`load_anonymous_bank` at the full cleaned file to use all of it.

The loader reads the cleaned CSV layout (one row per call; the columns used
are ``date``, ``vru_entry_ts``, ``vru_exit_ts``, ``q_start_ts``, ``ser_start_ts``, ``type``,
``priority``, ``q_time``, ``ser_time``, ``outcome``, ``queued``, ``server``,
``vru_line`` and ``call_id``) into :class:`CallRecords`: one numpy array per
field, no pandas needed.

Three helpers turn the log into simulation inputs:

- :func:`patience_observations` and :class:`KaplanMeier`: a caller who hung up
  in the queue shows their patience exactly (the wait); a served caller only
  shows that their patience exceeded the wait (right-censored). The
  Kaplan–Meier estimator combines both, and
  :meth:`KaplanMeier.sample_beyond` draws a patience conditional on exceeding
  a given wait: what a replay needs for a served caller whose patience was
  never seen.
- :func:`agents_on_duty`: how many distinct agents were serving in each
  interval, a lower bound on the staff present (an idle agent leaves no trace
  in a call log).
- :func:`available_agents`: how many agents were available for calls, read
  off the moments callers waited (every available agent is serving then);
  agents present but on after-call work, breaks or other work drop out.

Caveats from the data's documentation: calls that did not queue have no
customer id and hence priority 0, so use priority only for queued calls;
about 4,500 calls are marked served with no agent named (aborted pick-ups,
median service 6 s), and are kept as served here with an empty agent; 448
served calls have no service start recorded, which
:meth:`CallRecords.inferred_service_start` supplies (when the call left the
queue or the voice menu) for the staffing helpers.
"""

from __future__ import annotations

import csv
import gzip
import math
import reprlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from valueroute.errors import InvalidInputError
from valueroute.models import file_row_error
from valueroute.sim.arrivals import Arrival

__all__ = [
    "ANONYMOUS_BANK_EXCERPT",
    "ANONYMOUS_BANK_EXCERPT_DAYS",
    "AgentsOnDuty",
    "AvailableAgents",
    "CallRecords",
    "KaplanMeier",
    "PatienceObservations",
    "agents_on_duty",
    "available_agents",
    "excerpt_anonymous_bank",
    "load_anonymous_bank",
    "patience_observations",
]

ANONYMOUS_BANK_EXCERPT = "anonymous_bank_1999_excerpt.csv.gz"
"""File name of the bundled excerpt, inside the package's ``data`` folder."""

ANONYMOUS_BANK_EXCERPT_DAYS = ("1999-05-09", "1999-05-10", "1999-05-11")
"""The days the bundled excerpt holds (a Sunday, Monday and Tuesday: working days there)."""

_DAY_SECONDS = 86_400.0
_COLUMNS = (
    "date",
    "vru_line",
    "call_id",
    "vru_entry_ts",
    "vru_exit_ts",
    "q_start_ts",
    "ser_start_ts",
    "type",
    "priority",
    "q_time",
    "ser_time",
    "outcome",
    "queued",
    "server",
)

FloatArray = npt.NDArray[np.float64]

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxlevel = 2
# What reading a data file can raise besides its content's own errors: the
# bytes are not UTF-8, a gzip stream is broken or cut short, a CSV field is
# longer than the csv module allows, the file cannot be read.
_READ_ERRORS = (UnicodeDecodeError, EOFError, zlib.error, csv.Error, OSError)


def _shown(value: object) -> str:
    """A value handed in, for an error message: its repr, cut short whatever its size."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"<integer of {value.bit_length()} bits>"
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _unreadable(path: Path, exc: BaseException) -> InvalidInputError:
    reason = (
        "it is not UTF-8 text"
        if isinstance(exc, UnicodeDecodeError)
        else f"cannot be read ({type(exc).__name__}: {_shown(str(exc))})"
    )
    return InvalidInputError(
        f"path: {_shown(path.name)} {reason} (expected the cleaned Anonymous Bank CSV, "
        "UTF-8, plain or gzip)",
        [("path", _shown(str(path)), "a readable UTF-8 CSV file")],
    )


def _source_path(path: object) -> Path:
    if not isinstance(path, str | Path):
        raise InvalidInputError(
            f"path: got {type(path).__name__} {_shown(path)} (expected a file path)",
            [("path", _shown(path), "a file path")],
        )
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(
            f"path: got {_shown(str(source))} (expected an existing file)",
            [("path", _shown(str(source)), "an existing file")],
        )
    return source


def _wanted_days(days: object) -> set[str]:
    if isinstance(days, str | bytes) or not isinstance(days, Iterable):
        raise InvalidInputError(
            f"days: got {_shown(days)} (expected a list of ISO dates such as ['1999-05-09'])",
            [("days", _shown(days), "a list of ISO dates")],
        )
    return {_iso_day(d) for d in days}


def _calls(calls: object) -> CallRecords:
    if not isinstance(calls, CallRecords):
        raise InvalidInputError(
            f"calls: got {type(calls).__name__} (expected CallRecords from load_anonymous_bank)",
            [("calls", type(calls).__name__, "CallRecords")],
        )
    return calls


@dataclass(frozen=True, slots=True, eq=False)
class CallRecords:
    """One call per index, one numpy array per field (all the same length).

    Times of day are seconds since midnight of the call's ``day`` and may
    exceed 86,400 for calls that cross midnight. ``NaN`` marks a time or
    duration that does not apply (no queue, no service).
    """

    day: npt.NDArray[np.datetime64]
    """Calendar day of arrival (``datetime64[D]``)."""
    arrival_seconds: FloatArray
    """Arrival (entry into the voice-response unit), seconds after midnight of ``day``."""
    menu_exit_seconds: FloatArray
    """When the call left the voice-response unit (to an agent, the queue, or a hang-up)."""
    queue_entry_seconds: FloatArray
    """When the call joined the agent queue; NaN if it never queued."""
    service_start_seconds: FloatArray
    """When an agent picked it up; NaN if not served."""
    task_type: npt.NDArray[np.str_]
    """Service type: PS, PE, IN, NE, NW, TT (and AA for five junk rows)."""
    priority: npt.NDArray[np.int8]
    """0 or 1 regular, 2 high; meaningful for queued calls only."""
    queue_wait: FloatArray
    """Seconds spent in the agent queue (0 for calls that did not queue)."""
    service_time: FloatArray
    """Seconds of service; NaN if not served."""
    outcome: npt.NDArray[np.str_]
    """``served``, ``abandoned`` (hung up in the queue) or ``other`` (hung up before queueing)."""
    queued: npt.NDArray[np.bool_]
    agent: npt.NDArray[np.str_]
    """Name of the serving agent; empty if none is recorded."""
    vru_line: npt.NDArray[np.str_]
    call_id: npt.NDArray[np.int64]
    """Call id, unique per VRU (``vru_line[:4]``), not over the whole log."""

    def __len__(self) -> int:
        return int(self.day.size)

    def select(self, mask: npt.NDArray[np.bool_]) -> CallRecords:
        """The calls where ``mask`` is true (a boolean array of the same length). O(n)."""
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != self.day.shape:
            raise InvalidInputError(
                f"mask: got {mask.dtype} array of shape {mask.shape} "
                f"(expected a boolean array of shape {self.day.shape})",
                [("mask", mask.shape, f"boolean array of shape {self.day.shape}")],
            )
        return CallRecords(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def days(self) -> list[str]:
        """The distinct days, ascending, as ISO dates."""
        return [str(d) for d in np.unique(self.day)]

    def arrival_time(self, *, origin: str | date | None = None) -> FloatArray:
        """Arrival times in seconds since midnight of ``origin`` (default: the first day)."""
        if origin is None:
            if len(self) == 0:
                return np.zeros(0)
            start = np.min(self.day)
        else:
            start = np.datetime64(_iso_day(origin), "D")
        offset = (self.day - start).astype(np.int64) * _DAY_SECONDS
        result: FloatArray = offset + self.arrival_seconds
        return result

    def to_arrivals(self, *, origin: str | date | None = None) -> list[Arrival]:
        """The calls that asked for an agent, as arrival records for trace replay.

        A call reaches the router when it joins the queue or, if it went
        straight to an agent, when it leaves the voice-response unit; calls
        that hung up in the voice menu never asked for an agent and are left
        out. ``time`` counts seconds from midnight of ``origin`` (default: the
        first day). ``handle_time`` is the service time of served calls;
        ``patience`` is the wait of abandoned calls, which is exactly their
        patience; served calls carry ``None`` (their patience exceeded their
        wait, see :meth:`KaplanMeier.sample_beyond`). Attributes:
        ``priority``, ``outcome``, ``queue_wait``, ``agent``, ``vru_line``,
        ``call_id`` and ``vru_entry`` (when the call entered the
        voice-response unit, the data's own arrival, in seconds from midnight
        of ``origin`` like ``time``). Sorted by time, ties in file order.
        O(n log n).
        """
        wanted = self.outcome != "other"
        entry = self.arrival_time(origin=origin)
        start = entry - self.arrival_seconds
        routed = np.where(self.queued, self.queue_entry_seconds, self.menu_exit_seconds)
        times = (start + routed)[wanted]
        order = np.argsort(times, kind="stable")
        served = self.outcome[wanted] == "served"
        columns = (
            times,
            self.task_type[wanted].tolist(),
            np.where(served, self.service_time[wanted], np.nan),
            np.where(served, np.nan, self.queue_wait[wanted]),
            self.priority[wanted].tolist(),
            self.outcome[wanted].tolist(),
            self.queue_wait[wanted].tolist(),
            self.agent[wanted].tolist(),
            self.vru_line[wanted].tolist(),
            self.call_id[wanted].tolist(),
            entry[wanted].tolist(),
        )
        arrivals = []
        for i in order.tolist():
            handle = float(columns[2][i])
            patience = float(columns[3][i])
            arrivals.append(
                Arrival(
                    float(columns[0][i]),
                    columns[1][i],
                    None if math.isnan(handle) else handle,
                    None if math.isnan(patience) else patience,
                    {
                        "priority": columns[4][i],
                        "outcome": columns[5][i],
                        "queue_wait": columns[6][i],
                        "agent": columns[7][i],
                        "vru_line": columns[8][i],
                        "call_id": columns[9][i],
                        "vru_entry": columns[10][i],
                    },
                )
            )
        return arrivals

    def inferred_service_start(self) -> FloatArray:
        """When each served call began service, recorded or inferred; NaN if not served.

        The log leaves the service start out of a few served calls (448 in
        the full file, all of them with a service time of 0 s). Such a call
        was answered when it left the queue (queue entry + wait) or, if it
        never queued, when it left the voice-response unit: that is where
        the log puts the service start of the other calls (within 2 s for
        99 % of them). Seconds after midnight of ``day``, like
        :attr:`service_start_seconds`. O(n).
        """
        left = np.where(
            self.queued, self.queue_entry_seconds + self.queue_wait, self.menu_exit_seconds
        )
        missing = (self.outcome == "served") & np.isnan(self.service_start_seconds)
        result: FloatArray = np.where(missing, left, self.service_start_seconds)
        return result

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The fields as a dict of arrays, e.g. for ``pandas.DataFrame(calls.columns())``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _iso_day(value: str | date) -> str:
    text = value.isoformat() if isinstance(value, date) else value
    try:
        return date.fromisoformat(text).isoformat()
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"days: got {_shown(value)} (expected an ISO date such as '1999-05-09')",
            [("days", _shown(value), "ISO dates such as '1999-05-09'")],
        ) from None


def _excerpt_path() -> Path:
    return Path(str(resources.files("valueroute").joinpath("data", ANONYMOUS_BANK_EXCERPT)))


def _open(path: Path) -> Any:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def load_anonymous_bank(
    path: str | Path | None = None, *, days: Iterable[str | date] | None = None
) -> CallRecords:
    """Read the Anonymous Bank calls: the bundled excerpt, or the file at ``path``.

    ``path`` is the cleaned CSV (gzip or plain) with the columns listed in the
    module doc; ``days`` keeps only those calendar days (ISO dates). Rows keep
    the file's order. O(n) for n rows; the full file (357,396 calls) loads in
    a few seconds.

    >>> calls = load_anonymous_bank()
    >>> calls.days()
    ['1999-05-09', '1999-05-10', '1999-05-11']
    """
    source = _source_path(_excerpt_path() if path is None else path)
    wanted = None if days is None else _wanted_days(days)
    try:
        raw, lines = _read_columns(source, wanted)
    except _READ_ERRORS as exc:
        raise _unreadable(source, exc) from None
    return _to_records(source, raw, lines)


def _read_columns(source: Path, wanted: set[str] | None) -> tuple[dict[str, list[str]], list[int]]:
    raw: dict[str, list[str]] = {name: [] for name in _COLUMNS}
    with _open(source) as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [name for name in _COLUMNS if name not in header]
        if missing:
            raise InvalidInputError(
                f"{source.name}: header lacks columns {missing} (expected the cleaned "
                "Anonymous Bank layout)",
                [("header", header, f"columns {list(_COLUMNS)}")],
            )
        positions = [(raw[name].append, header.index(name)) for name in _COLUMNS]
        date_index = header.index("date")
        width = len(header)
        lines: list[int] = []
        for row in reader:
            if len(row) != width:
                raise file_row_error(source, reader.line_num, "row", row, f"{width} cells")
            if wanted is not None and row[date_index] not in wanted:
                continue
            lines.append(reader.line_num)
            for append, index in positions:
                append(row[index])
    return raw, lines


def _column_error(
    path: Path, lines: list[int], name: str, values: list[str], expected: str
) -> InvalidInputError:
    # Find the first offending cell only now, so the fast path stays vectorised.
    for line, text in zip(lines, values, strict=True):
        try:
            np.array([text]).astype(_expected_dtype(expected))
        except ValueError:
            return file_row_error(path, line, name, text, expected)
    return file_row_error(path, lines[0], name, values[:3], expected)


def _expected_dtype(expected: str) -> str:
    return {"a number": "float64", "an integer": "int64", "a timestamp": "datetime64[s]"}[expected]


def _parse(
    path: Path, lines: list[int], name: str, values: list[str], expected: str
) -> npt.NDArray[Any]:
    try:
        return np.array(values).astype(_expected_dtype(expected))
    except ValueError:
        raise _column_error(path, lines, name, values, expected) from None


def _to_records(path: Path, raw: dict[str, list[str]], lines: list[int]) -> CallRecords:
    if raw["date"]:
        day = _parse(path, lines, "date", raw["date"], "a timestamp").astype("datetime64[D]")
    else:
        day = np.zeros(0, dtype="datetime64[D]")
    midnight = day.astype("datetime64[s]")

    def clock(name: str) -> FloatArray:
        stamps = _parse(path, lines, name, raw[name], "a timestamp") if raw[name] else midnight
        seconds: FloatArray = (stamps - midnight).astype("timedelta64[s]").astype(np.float64)
        seconds[np.isnat(stamps)] = np.nan
        return seconds

    outcome_text = np.array(raw["outcome"], dtype="U7")
    bad = ~np.isin(outcome_text, ["AGENT", "HANG"])
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise file_row_error(path, lines[index], "outcome", raw["outcome"][index], "AGENT or HANG")
    queued_text = np.array(raw["queued"], dtype="U1")
    bad = ~np.isin(queued_text, ["0", "1"])
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise file_row_error(path, lines[index], "queued", raw["queued"][index], "0 or 1")
    queued = queued_text == "1"
    served = outcome_text == "AGENT"
    outcome = np.where(served, "served", np.where(queued, "abandoned", "other")).astype("U9")
    service_time = _parse(path, lines, "ser_time", raw["ser_time"], "a number")
    service_time[~served] = np.nan
    agent = np.array(raw["server"], dtype=np.str_)
    agent[agent == "NO_SERVER"] = ""
    arrival = clock("vru_entry_ts")
    if np.isnan(arrival).any():
        index = int(np.flatnonzero(np.isnan(arrival))[0])
        raise file_row_error(path, lines[index], "vru_entry_ts", "", "a timestamp")
    return CallRecords(
        day=day,
        arrival_seconds=arrival,
        menu_exit_seconds=clock("vru_exit_ts"),
        queue_entry_seconds=clock("q_start_ts"),
        service_start_seconds=clock("ser_start_ts"),
        task_type=np.array(raw["type"], dtype=np.str_),
        priority=_parse(path, lines, "priority", raw["priority"], "an integer").astype(np.int8),
        queue_wait=_parse(path, lines, "q_time", raw["q_time"], "a number"),
        service_time=service_time,
        outcome=outcome,
        queued=queued,
        agent=agent,
        vru_line=np.array(raw["vru_line"], dtype=np.str_),
        call_id=_parse(path, lines, "call_id", raw["call_id"], "an integer"),
    )


def excerpt_anonymous_bank(
    source: str | Path, destination: str | Path, *, days: Iterable[str | date]
) -> int:
    """Copy the rows of ``days`` from the full file to a gzip CSV, verbatim. O(n).

    The header and each kept line are written byte for byte as in
    ``source``, in the same order, so the excerpt is a faithful subset; the
    gzip header carries no timestamp, so the same input gives the same bytes.
    Returns the number of calls written. This is how the bundled excerpt was
    made.
    """
    wanted = _wanted_days(days)
    path = _source_path(source)
    try:
        return _copy_days(path, Path(destination), wanted)
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None


def _copy_days(source: Path, destination: Path, wanted: set[str]) -> int:
    written = 0
    with _open(source) as handle:
        header = handle.readline()
        columns = next(csv.reader([header]), [])
        if "date" not in columns:
            raise InvalidInputError(
                f"{_shown(source.name)}: header lacks the 'date' column",
                [("header", _shown(columns), "a 'date' column")],
            )
        date_index = columns.index("date")
        with (
            destination.open("wb") as raw_out,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw_out, mtime=0) as zipped,
        ):
            zipped.write(header.encode("utf-8"))
            for line in handle:
                # The date sits before any quoted text in this layout, so a
                # plain split finds it; csv parsing every line would be slower.
                if line.split(",", date_index + 1)[date_index] in wanted:
                    zipped.write(line.encode("utf-8"))
                    written += 1
    return written


# ---------------------------------------------------------------- patience


class PatienceObservations(NamedTuple):
    """Queue waits of queued calls and whether each ended in abandonment.

    ``abandoned[i]`` true: the caller's patience was exactly ``wait[i]``;
    false: the caller was served after ``wait[i]``, so patience > wait
    (right-censored).
    """

    wait: FloatArray
    abandoned: npt.NDArray[np.bool_]


def patience_observations(
    calls: CallRecords,
    *,
    task_type: str | Iterable[str] | None = None,
    priority: int | Iterable[int] | None = None,
) -> PatienceObservations:
    """Patience observations from the queued calls, optionally of some types/priorities.

    Calls that never queued say nothing about patience and are left out. O(n).
    """
    mask = _calls(calls).queued.copy()
    if task_type is not None:
        types = _labels(task_type, "task_type", str, "service types such as 'PS'")
        mask &= np.isin(calls.task_type, types)
    if priority is not None:
        levels = _labels(priority, "priority", (int, np.integer), "priorities 0, 1 or 2")
        mask &= np.isin(calls.priority, levels)
    return PatienceObservations(
        calls.queue_wait[mask].astype(np.float64), calls.outcome[mask] == "abandoned"
    )


def _labels(value: Any, field: str, kind: type | tuple[type, ...], expected: str) -> list[Any]:
    """One label or several, each of ``kind``, as a list; else an error naming ``field``."""
    if isinstance(value, kind) and not isinstance(value, bool):
        return [value]
    values = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else None
    if values is None or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
        raise InvalidInputError(
            f"{field}: got {_shown(value)} (expected one or a list of {expected})",
            [(field, _shown(value), f"one or a list of {expected}")],
        )
    return values


def _as_array(values: Any, field: str, dtype: Any = None) -> npt.NDArray[Any]:
    """``values`` (an array or an iterable) as a numpy array; else an error naming ``field``."""
    expected = "a sequence of seconds" if field == "durations" else "a sequence of booleans"
    if isinstance(values, str | bytes) or not isinstance(values, np.ndarray | Iterable):
        raise InvalidInputError(
            f"{field}: got {_shown(values)} (expected {expected})",
            [(field, _shown(values), expected)],
        )
    try:
        return np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{field}: got {_shown(values)} (expected {expected})",
            [(field, _shown(values), expected)],
        ) from None


class KaplanMeier:
    """Kaplan–Meier estimate of a survival function from right-censored durations.

    ``S(t) = Π_{tⱼ ≤ t} (1 − dⱼ / nⱼ)`` over the distinct event times ``tⱼ``,
    with ``dⱼ`` events at ``tⱼ`` and ``nⱼ`` durations ``≥ tⱼ`` at risk (a
    duration censored at ``tⱼ`` counts as at risk there, the usual
    convention). Building costs O(n log n); :meth:`survival` and each draw of
    :meth:`sample_beyond` cost O(log m) for m distinct event times.

    >>> km = KaplanMeier([2, 3, 3, 5], [True, True, False, True])
    >>> km.times.tolist(), km.survival_probabilities.tolist()
    ([2.0, 3.0, 5.0], [0.75, 0.5, 0.0])
    """

    __slots__ = ("survival_probabilities", "times")

    def __init__(self, durations: Iterable[float], observed: Iterable[bool]) -> None:
        duration = _as_array(durations, "durations", np.float64)
        event = _as_array(observed, "observed")
        if duration.ndim != 1 or duration.size == 0:
            raise InvalidInputError(
                f"durations: got shape {duration.shape} (expected a non-empty 1-d sequence)",
                [("durations", duration.shape, "a non-empty 1-d sequence")],
            )
        if event.shape != duration.shape or event.dtype != np.bool_:
            raise InvalidInputError(
                f"observed: got {event.dtype} of shape {event.shape} "
                f"(expected booleans, one per duration: shape {duration.shape})",
                [("observed", event.shape, f"booleans of shape {duration.shape}")],
            )
        if not np.all(np.isfinite(duration)) or np.any(duration < 0):
            index = int(np.flatnonzero(~(np.isfinite(duration) & (duration >= 0)))[0])
            raise InvalidInputError(
                f"durations[{index}]: got {duration[index]!r} (expected finite seconds >= 0)",
                [(f"durations[{index}]", float(duration[index]), "finite seconds >= 0")],
            )
        order = np.sort(duration)
        event_times, deaths = np.unique(duration[event], return_counts=True)
        at_risk = order.size - np.searchsorted(order, event_times, side="left")
        self.times: FloatArray = event_times
        """Distinct times at which an event (abandonment) was observed, ascending."""
        self.survival_probabilities: FloatArray = np.cumprod(1.0 - deaths / at_risk).astype(
            np.float64
        )
        """``S(t)`` just after each of :attr:`times`."""

    @property
    def tail_probability(self) -> float:
        """``S`` beyond the last event time: the mass the data cannot place."""
        return float(self.survival_probabilities[-1]) if self.times.size else 1.0

    def survival(self, seconds: Any) -> Any:
        """``S(seconds) = P(patience > seconds)``, for a number or an array."""
        index = np.searchsorted(self.times, np.asarray(seconds, dtype=np.float64), side="right")
        padded = np.concatenate([[1.0], self.survival_probabilities])
        result = padded[index]
        return float(result) if np.ndim(result) == 0 else result

    def sample_beyond(
        self, *, rng: np.random.Generator, seconds: float = 0.0, size: int | None = None
    ) -> Any:
        """Draw patience from the estimate, conditional on patience > ``seconds``.

        Inverse transform on the step function: with ``U`` uniform on [0, 1),
        the draw is the first event time ``tⱼ`` with ``S(tⱼ) ≤ U·S(seconds)``.
        When no event time qualifies (the estimate keeps mass
        :attr:`tail_probability` beyond its last event time, where the data say
        nothing) the draw is ``math.inf``: the caller never abandons. When the
        estimate has no mass beyond ``seconds`` at all, the draw is
        ``seconds`` itself (abandon at once). Returns a float, or an array of
        ``size`` floats.
        """
        if not isinstance(rng, np.random.Generator):
            raise InvalidInputError(
                f"rng: got {type(rng).__name__} (expected a numpy.random.Generator)",
                [("rng", rng, "a numpy.random.Generator")],
            )
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidInputError(
                f"seconds: got {seconds!r} (expected finite seconds >= 0)",
                [("seconds", seconds, "finite seconds >= 0")],
            )
        count = 1 if size is None else size
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(
                f"size: got {size!r} (expected None or an integer >= 0)",
                [("size", size, "None or an integer >= 0")],
            )
        base = float(self.survival(seconds))
        uniform = rng.random(count)
        if base == 0.0:
            draws = np.full(count, float(seconds))
        else:
            target = uniform * base
            # survival_probabilities is non-increasing; search its negation.
            index = np.searchsorted(-self.survival_probabilities, -target, side="left")
            padded = np.concatenate([self.times, [math.inf]])
            draws = padded[index]
        return float(draws[0]) if size is None else draws


# ---------------------------------------------------------------- staffing


def _intervals(interval_minutes: int) -> tuple[float, int]:
    """Seconds per interval and intervals per day, for 15, 30 or 60 minutes."""
    if isinstance(interval_minutes, bool) or interval_minutes not in (15, 30, 60):
        raise InvalidInputError(
            f"interval_minutes: got {interval_minutes!r} (expected 15, 30 or 60)",
            [("interval_minutes", interval_minutes, "15, 30 or 60")],
        )
    width = 60.0 * interval_minutes
    return width, int(_DAY_SECONDS // width)


class AgentsOnDuty(NamedTuple):
    """Distinct agents serving per interval: ``counts[d, i]`` for ``days[d]``, interval ``i``."""

    days: list[str]
    interval_minutes: int
    counts: npt.NDArray[np.int64]


def agents_on_duty(
    calls: CallRecords,
    *,
    interval_minutes: int = 60,
    basis: Literal["service", "arrival"] = "service",
) -> AgentsOnDuty:
    """How many distinct named agents served in each interval of each day.

    ``basis="service"`` counts an agent in every interval that one of their
    services overlaps (a service of zero length counts where it starts);
    ``basis="arrival"`` counts an agent in the interval when a call they
    served arrived (the convention of the data's own hourly table). Either
    way it is a **lower bound** on the agents present: an agent who was idle,
    on a break between calls or doing other work leaves no trace. Services
    that run past midnight count on the next day only if that day is among
    the calls' days. Days with no calls do not appear. On the service basis,
    a served call without a recorded service start (448 in the full file)
    counts from when it left the queue or the voice menu
    (:meth:`CallRecords.inferred_service_start`). O(n + d × k) for n
    calls, d days and k intervals per day (plus the intervals each service
    spans).
    """
    _calls(calls)
    width, per_day = _intervals(interval_minutes)
    if basis not in ("service", "arrival"):
        raise InvalidInputError(
            f"basis: got {basis!r} (expected 'service' or 'arrival')",
            [("basis", basis, "'service' or 'arrival'")],
        )
    days = calls.days()
    counts = np.zeros((len(days), per_day), dtype=np.int64)
    if not days:
        return AgentsOnDuty(days, interval_minutes, counts)
    first = np.datetime64(days[0], "D")
    day_row = {int((np.datetime64(d, "D") - first).astype(np.int64)): i for i, d in enumerate(days)}
    served = (calls.outcome == "served") & (calls.agent != "")
    service_start = calls.inferred_service_start()
    if basis == "service":
        served &= np.isfinite(service_start) & np.isfinite(calls.service_time)
    offset = (calls.day[served] - first).astype(np.int64) * _DAY_SECONDS
    agents = calls.agent[served].tolist()
    if basis == "arrival":
        starts = offset + calls.arrival_seconds[served]
        ends = starts
    else:
        starts = offset + service_start[served]
        ends = starts + calls.service_time[served]
    first_slot = np.floor(starts / width).astype(np.int64)
    # A service ending exactly on a boundary does not reach the next interval.
    last_slot = np.maximum(first_slot, np.ceil(ends / width).astype(np.int64) - 1)
    seen: dict[int, set[str]] = {}
    for agent, low, high in zip(agents, first_slot.tolist(), last_slot.tolist(), strict=True):
        for slot in range(low, high + 1):
            seen.setdefault(slot, set()).add(agent)
    for slot, names in seen.items():
        row = day_row.get(slot // per_day)
        if row is not None:
            counts[row, slot % per_day] = len(names)
    return AgentsOnDuty(days, interval_minutes, counts)


class AvailableAgents(NamedTuple):
    """Agents serving while callers waited, per interval of each day.

    ``serving[d, i]`` is the time-average number of calls in service over the
    part of interval ``i`` of ``days[d]`` during which at least one caller
    waited in the queue (NaN if nobody waited); ``waiting_share[d, i]`` is
    that part's share of the interval.
    """

    days: list[str]
    interval_minutes: int
    serving: FloatArray
    waiting_share: FloatArray


def available_agents(calls: CallRecords, *, interval_minutes: int = 30) -> AvailableAgents:
    """How many agents were available to answer calls, from the moments callers waited.

    While a caller waits, a centre that serves in order has every available
    agent busy: the number of calls in service then *is* the number of agents
    available for calls. Agents present but on after-call work, a break or
    other work are not counted, which is what the log cannot show and what
    :func:`agents_on_duty` (distinct agents seen serving) cannot subtract.
    The estimate holds only where callers waited for a fair share of the
    interval (see ``waiting_share``); elsewhere agents were partly idle and
    it says nothing. It stays within :func:`agents_on_duty`'s count on the
    service basis except where the log slips (a call served by no named
    agent, an agent recorded on two calls at once: 9 of the full file's
    7,717 half-hours with callers waiting, by at most 0.6). A served call
    without a recorded service start counts from when it left the queue or
    the voice menu (:meth:`CallRecords.inferred_service_start`). A call's time counts
    from the day it arrived, into the next day if it runs past midnight and
    that day is among the calls' days. O((n + d × k) log(n + d × k)) for n
    calls, d days and k intervals per day.
    """
    _calls(calls)
    width, per_day = _intervals(interval_minutes)
    days = calls.days()
    serving = np.full((len(days), per_day), np.nan)
    waiting_share = np.zeros((len(days), per_day))
    if not days:
        return AvailableAgents(days, interval_minutes, serving, waiting_share)
    first = np.datetime64(days[0], "D")
    day_offset = (calls.day - first).astype(np.int64) * _DAY_SECONDS
    starts = calls.inferred_service_start()
    served = (calls.outcome == "served") & np.isfinite(starts) & np.isfinite(calls.service_time)
    service_start = day_offset[served] + starts[served]
    service_end = service_start + calls.service_time[served]
    waited = np.isfinite(calls.queue_entry_seconds) & (calls.queue_wait > 0)
    wait_start = day_offset[waited] + calls.queue_entry_seconds[waited]
    wait_end = wait_start + calls.queue_wait[waited]
    span_days = int((np.datetime64(days[-1], "D") - first).astype(np.int64)) + 2
    # Interval boundaries enter as events that change nothing, so no piece
    # of the step functions below crosses one.
    boundaries = np.arange(span_days * per_day + 1) * width
    ones, zeros = np.ones, np.zeros
    times = np.concatenate([service_start, service_end, wait_start, wait_end, boundaries])
    in_service = np.concatenate(
        [
            ones(service_start.size),
            -ones(service_end.size),
            zeros(wait_start.size * 2 + boundaries.size),
        ]
    )
    in_queue = np.concatenate(
        [
            zeros(service_start.size * 2),
            ones(wait_start.size),
            -ones(wait_end.size),
            zeros(boundaries.size),
        ]
    )
    order = np.argsort(times, kind="stable")
    times = times[order]
    # Piece k runs from times[k] to times[k + 1] with the counts after event k
    # (events at the same instant make pieces of length zero, which weigh nothing).
    serving_now = np.cumsum(in_service[order])[:-1]
    someone_waits = np.cumsum(in_queue[order])[:-1] > 0
    length = np.diff(times)
    slot = np.floor(times[:-1] / width).astype(np.int64)
    pick = someone_waits & (length > 0) & (slot >= 0)
    slots = span_days * per_day
    waited_seconds = np.bincount(slot[pick], weights=length[pick], minlength=slots)[:slots]
    served_seconds = np.bincount(slot[pick], weights=(serving_now * length)[pick], minlength=slots)[
        :slots
    ]
    for row, day in enumerate(days):
        offset = int((np.datetime64(day, "D") - first).astype(np.int64)) * per_day
        total = waited_seconds[offset : offset + per_day]
        waiting_share[row] = total / width
        with np.errstate(invalid="ignore", divide="ignore"):
            serving[row] = np.where(
                total > 0, served_seconds[offset : offset + per_day] / total, np.nan
            )
    return AvailableAgents(days, interval_minutes, serving, waiting_share)
