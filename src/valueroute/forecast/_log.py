"""Arrival logs and the kinds of days (regular, closed, holidays, eves)."""

from __future__ import annotations

import csv
import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from valueroute.calendar import BusinessCalendar
from valueroute.datasets import CallRecords
from valueroute.errors import InvalidInputError, bounded_repr

__all__ = ["DAY_KINDS", "ArrivalLog", "day_kinds", "read_arrivals_csv"]

FloatArray = npt.NDArray[np.float64]
DAY_KINDS = ("regular", "closed", "holiday", "minor", "eve")
"""Kinds of day, in the order a day takes the first that applies (``regular`` last)."""
_DAY = 86_400


def _fail(field: str, value: Any, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: got {bounded_repr(value)} (expected {expected})", [(field, value, expected)]
    )


def _as_date(value: Any, field: str) -> _dt.date:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(field, value, "a date (datetime.date or ISO text such as '1999-05-09')")


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise _fail(field, value, f"an integer from {low} to {high}")
    return int(value)


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or value not in (15, 30, 60):
        raise _fail("interval_minutes", value, "15, 30 or 60")
    return int(value)


# ------------------------------------------------------------------ the log


@dataclass(frozen=True, eq=False)
class ArrivalLog:
    """Arrivals: one entry per arrival, one array per field, plus the days observed.

    ``day`` is the local date of arrival (``datetime64[D]``), ``seconds`` the
    seconds after its midnight, ``task_type`` the type, ``handle_time`` the
    handle time in seconds (NaN where unknown: not served, or not given).
    ``observed_days`` are the days the log covers: a day among them with no
    arrival had none, a day outside them is missing (not zero). The log
    keeps read-only copies of the arrays; bad values raise
    :class:`~valueroute.errors.InvalidInputError` naming the field and index.
    """

    day: npt.NDArray[np.datetime64]
    seconds: FloatArray
    task_type: npt.NDArray[np.str_]
    handle_time: FloatArray
    observed_days: tuple[_dt.date, ...]

    def __post_init__(self) -> None:
        # Own read-only copies: a log handed to a forecast cannot change under it.
        try:
            day = np.array(self.day, dtype="datetime64[D]")
        except (TypeError, ValueError):
            raise _fail(
                "day", type(self.day).__name__, "dates (datetime64[D] or datetime.date)"
            ) from None
        if day.ndim != 1:
            raise _fail("day", day.shape, "a 1-d array of dates")
        columns = {"day": day}
        for name in ("seconds", "handle_time"):
            try:
                values = np.array(getattr(self, name), dtype=np.float64)
            except (TypeError, ValueError):
                raise _fail(name, type(getattr(self, name)).__name__, "numbers") from None
            columns[name] = values
        columns["task_type"] = np.array(self.task_type)
        if columns["task_type"].dtype.kind != "U":
            raise _fail("task_type", columns["task_type"].dtype, "texts (str)")
        for name, values in columns.items():
            if values.shape != day.shape:
                raise _fail(name, values.shape, f"an array of shape {day.shape}, like day")
        seconds, handle = columns["seconds"], columns["handle_time"]
        bad = np.flatnonzero(~((seconds >= 0) & (seconds < _DAY)))
        if bad.size:
            index = int(bad[0])
            raise _fail(
                f"seconds[{index}]", float(seconds[index]), "seconds of day, 0 <= s < 86400"
            )
        bad = np.flatnonzero(~(np.isnan(handle) | (np.isfinite(handle) & (handle >= 0))))
        if bad.size:
            index = int(bad[0])
            raise _fail(f"handle_time[{index}]", float(handle[index]), "seconds >= 0, or NaN")
        if isinstance(self.observed_days, str | bytes) or not isinstance(
            self.observed_days, Iterable
        ):
            raise _fail("observed_days", self.observed_days, "a sequence of dates")
        observed = tuple(sorted({_as_date(d, "observed_days") for d in self.observed_days}))
        for name, values in columns.items():
            values.setflags(write=False)
            object.__setattr__(self, name, values)
        object.__setattr__(self, "observed_days", observed)

    def __len__(self) -> int:
        return int(self.day.size)

    @classmethod
    def from_calls(cls, calls: CallRecords, *, routed_only: bool = False) -> ArrivalLog:
        """The calls of a :class:`~valueroute.datasets.CallRecords` log, at their arrival.

        The arrival is the entry into the voice-response unit (the data's own
        arrival). ``routed_only=True`` keeps only the calls that asked for an
        agent (not those that hung up in the voice menu). ``handle_time`` is
        the service time of served calls. The observed days are the days with
        calls (the bank's log has calls every day it covers). O(n).
        """
        if not isinstance(calls, CallRecords):
            raise _fail("calls", type(calls).__name__, "CallRecords (valueroute.datasets)")
        keep = calls.outcome != "other" if routed_only else np.ones(len(calls), dtype=bool)
        served = calls.outcome == "served"
        seconds = calls.arrival_seconds[keep]
        days = tuple(_dt.date.fromisoformat(d) for d in calls.days())
        return cls(
            day=calls.day[keep].astype("datetime64[D]"),
            seconds=seconds.astype(np.float64),
            task_type=calls.task_type[keep].astype(np.str_),
            handle_time=np.where(served, calls.service_time, np.nan)[keep].astype(np.float64),
            observed_days=days,
        )

    @property
    def task_types(self) -> tuple[str, ...]:
        """The distinct task types, sorted."""
        return tuple(str(t) for t in np.unique(self.task_type))

    def between(self, start: _dt.date | str, end: _dt.date | str) -> ArrivalLog:
        """The arrivals and observed days from ``start`` up to but not including ``end``. O(n)."""
        first, stop = _as_date(start, "start"), _as_date(end, "end")
        if stop < first:
            raise _fail("end", stop.isoformat(), f"a date on or after start {first.isoformat()}")
        mask = (self.day >= np.datetime64(first, "D")) & (self.day < np.datetime64(stop, "D"))
        return ArrivalLog(
            day=self.day[mask],
            seconds=self.seconds[mask],
            task_type=self.task_type[mask],
            handle_time=self.handle_time[mask],
            observed_days=tuple(d for d in self.observed_days if first <= d < stop),
        )

    def counts(
        self, days: Iterable[_dt.date], *, interval_minutes: int, task_types: Iterable[str]
    ) -> FloatArray:
        """Arrivals per day, interval and task type: shape ``(days, intervals, types)``. O(n)."""
        wanted = list(days)
        types = list(task_types)
        per_day = _DAY // (60 * _minutes(interval_minutes))
        result = np.zeros((len(wanted), per_day, len(types)))
        if not wanted or not types or len(self) == 0:
            return result
        row_of = {d: i for i, d in enumerate(wanted)}
        type_of = {t: i for i, t in enumerate(types)}
        rows = np.array([row_of.get(d, -1) for d in self.day.tolist()], dtype=np.int64)
        columns = np.array([type_of.get(t, -1) for t in self.task_type.tolist()], dtype=np.int64)
        slots = (self.seconds // (60 * interval_minutes)).astype(np.int64)
        pick = (rows >= 0) & (columns >= 0)
        np.add.at(result, (rows[pick], slots[pick], columns[pick]), 1.0)
        return result


def read_arrivals_csv(
    path: str | Path,
    *,
    time_column: str = "timestamp",
    type_column: str | None = None,
    handle_column: str | None = None,
    default_type: str = "all",
) -> ArrivalLog:
    """A log from a CSV with one arrival per row: a local timestamp, optionally a type.

    ``time_column`` holds ISO date-times (``1999-05-09 07:31:02`` or with a
    ``T``), local time, no zone. ``type_column`` names the task type (every
    row is ``default_type`` without one); ``handle_column`` a handle time in
    seconds (empty: unknown). The observed days are every day from the first
    arrival's to the last's: a CSV of timestamps cannot tell a day without
    arrivals from a day without data, so drop missing days with
    :meth:`ArrivalLog.between` or give a complete log. Bad rows raise
    :class:`~valueroute.errors.InvalidInputError` naming the line. O(n).
    """
    if not isinstance(path, str | Path):
        raise _fail("path", path, "a file path")
    source = Path(path)
    try:
        with source.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            for column in (time_column, type_column, handle_column):
                if column is not None and column not in header:
                    raise _fail("columns", header, f"a column named {column!r}")
            stamps: list[_dt.datetime] = []
            types: list[str] = []
            handles: list[float] = []
            for line, raw in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
                try:
                    stamps.append(_dt.datetime.fromisoformat(row[time_column]))
                except ValueError:
                    raise _fail(
                        f"line {line}: {time_column}", row[time_column], "an ISO date-time"
                    ) from None
                types.append(row[type_column] if type_column else default_type)
                if handle_column:
                    cell = row[handle_column]
                    try:
                        value = math.nan if cell == "" else float(cell)
                    except ValueError:
                        value = -1.0
                    if not (math.isnan(value) or (math.isfinite(value) and value >= 0)):
                        raise _fail(f"line {line}: {handle_column}", cell, "seconds >= 0 or empty")
                    handles.append(value)
                else:
                    handles.append(math.nan)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _fail("path", str(source), f"a readable UTF-8 CSV file ({exc})") from None
    if not stamps:
        raise _fail("path", str(source), "a CSV with at least one arrival row")
    first, last = min(stamps).date(), max(stamps).date()
    return ArrivalLog(
        day=np.array([s.date() for s in stamps], dtype="datetime64[D]"),
        seconds=np.array(
            [s.hour * 3600 + s.minute * 60 + s.second + s.microsecond / 1e6 for s in stamps]
        ),
        task_type=np.array(types, dtype=np.str_),
        handle_time=np.array(handles, dtype=np.float64),
        observed_days=tuple(first + _dt.timedelta(days=i) for i in range((last - first).days + 1)),
    )


# ---------------------------------------------------------------- day kinds


class _Dates:
    """Dates given by hand and those of a ``holidays`` package table (filled per year)."""

    def __init__(self, dates: set[_dt.date], table: Any = None) -> None:
        self.dates = dates
        self.table = table

    def __contains__(self, day: _dt.date) -> bool:
        return day in self.dates or (self.table is not None and day in self.table)


def _country(holidays: Mapping[str, Any]) -> tuple[_Dates, _Dates]:
    """Public and minor (optional-category) holidays of the ``holidays`` package."""
    unknown = sorted(set(holidays) - {"country", "subdiv", "dates", "minor_dates"})
    if unknown:
        raise _fail("holidays", unknown, "keys among country, subdiv, dates, minor_dates")
    public = {_as_date(d, "holidays.dates") for d in holidays.get("dates", ())}
    minor = {_as_date(d, "holidays.minor_dates") for d in holidays.get("minor_dates", ())}
    country = holidays.get("country")
    if country is None:
        return _Dates(public), _Dates(minor)
    try:
        import holidays as package  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise _fail(
            "holidays.country",
            country,
            "the 'holidays' package for country holidays: pip install \"valueroute[calendars]\"",
        ) from None
    subdiv = holidays.get("subdiv")
    try:
        table = package.country_holidays(country, subdiv=subdiv, years=())
        optional = None
        if "optional" in getattr(table, "supported_categories", ()):
            optional = package.country_holidays(
                country, subdiv=subdiv, years=(), categories=("optional",)
            )
    except NotImplementedError:
        raise _fail(
            "holidays.country", country, "a country code the holidays package knows"
        ) from None
    except (KeyError, ValueError) as exc:
        raise _fail("holidays.subdiv", subdiv, f"a subdivision of {country} ({exc})") from None
    return _Dates(public, table), _Dates(minor, optional)


def day_kinds(
    days: Iterable[_dt.date | str],
    *,
    calendar: BusinessCalendar | None = None,
    holidays: Mapping[str, Any] | Iterable[_dt.date | str] | None = None,
    special_days: Mapping[_dt.date | str, str] | None = None,
) -> tuple[str, ...]:
    """The kind of each day, one of :data:`DAY_KINDS`.

    - ``"closed"``: ``calendar`` has no open time that day (local midnight
      to midnight), e.g. a holiday of the calendar's own list;
    - ``"holiday"``: a public holiday from ``holidays`` (a list of dates, or
      ``{"country": "IL"}`` for the ``holidays`` package, with optional
      ``"subdiv"``, extra ``"dates"`` and ``"minor_dates"``);
    - ``"minor"``: a holiday of the package's optional category (days many
      take off: the intermediate days of a festival, memorial days), or of
      ``"minor_dates"``;
    - ``"eve"``: the day before a public holiday;
    - ``"regular"``: everything else.

    ``special_days`` maps dates to a kind and wins over all of the above.
    O(days).
    """
    wanted = [_as_date(d, "days") for d in days]
    public, minor = _Dates(set()), _Dates(set())
    if isinstance(holidays, Mapping):
        public, minor = _country(holidays)
    elif holidays is not None:
        if isinstance(holidays, str | bytes) or not isinstance(holidays, Iterable):
            raise _fail("holidays", holidays, "a list of dates or {'country': 'IL'}")
        public = _Dates({_as_date(d, "holidays") for d in holidays})
    if calendar is not None and not isinstance(calendar, BusinessCalendar):
        raise _fail("calendar", type(calendar).__name__, "a BusinessCalendar")
    override: dict[_dt.date, str] = {}
    for key, kind in (special_days or {}).items():
        if kind not in DAY_KINDS:
            raise _fail(f"special_days.{key}", kind, f"one of {list(DAY_KINDS)}")
        override[_as_date(key, "special_days")] = kind
    kinds = []
    for day in wanted:
        if day in override:
            kinds.append(override[day])
        elif calendar is not None and _closed(calendar, day):
            kinds.append("closed")
        elif day in public:
            kinds.append("holiday")
        elif day in minor:
            kinds.append("minor")
        elif day + _dt.timedelta(days=1) in public:
            kinds.append("eve")
        else:
            kinds.append("regular")
    return tuple(kinds)


def _closed(calendar: BusinessCalendar, day: _dt.date) -> bool:
    start = _dt.datetime.combine(day, _dt.time(), tzinfo=calendar.zone).timestamp()
    end = _dt.datetime.combine(
        day + _dt.timedelta(days=1), _dt.time(), tzinfo=calendar.zone
    ).timestamp()
    return calendar.elapsed(start, end) == 0.0
