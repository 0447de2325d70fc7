"""Predictive back-test: forecast, fit and simulate days from their past, then score them.

:func:`run_backtest` takes a call log (:class:`~valueroute.datasets.CallRecords`),
a training window and a prediction window of whole days, and predicts what
the log shows on the prediction days from the training days alone:

1. **Slice.** The log is cut into the training calls (the training window's
   days only) and the observed calls (the prediction window's days only).
   Everything up to step 5 reads the training calls and nothing else: the
   predicted days are not in the object the prediction is made from.
2. **Forecast** the calls that ask for an agent, per day, interval and
   service type, with :func:`valueroute.forecast.forecast_volumes` (the
   ``profile`` model by default), counted at their entry into the voice menu.
3. **Fit** handle times per type and band of the day
   (:func:`~valueroute.forecast.fit_handle_times`, the training days'
   own handle times resampled) and patience per type
   (:func:`~valueroute.forecast.fit_patience`, Kaplan–Meier), on the
   training days. With ``classes="priority"`` also the share of the bank's
   high-priority callers per type and band of the day (among the queued
   calls: the log shows the class of no other) and patience per type and
   class.
4. **Supply.** A :class:`Roster` given by the caller (or read from a CSV by
   :func:`read_roster_csv`), or estimated from the training weeks: for each
   predicted day, the mean over the last ``supply_weeks`` weeks' regular
   days of the same weekday of the agents available for calls per half
   hour (as :func:`valueroute.replay.build_replay` counts them: agents
   serving while callers waited, or the agents seen serving where callers
   hardly waited). With ``supply="calibrated"`` that count is the start of
   a search, per half hour, for the agents at which simulating those same
   training days (the model's own arrivals, handle times and patience)
   reproduces their share queued and share abandoned.
5. **Simulate** each predicted day ``replications`` times with the
   library's simulator (:class:`valueroute.sim.world.World`, first come
   first served, one agent group): arrivals drawn as Poisson counts around
   the forecast, each with a routing delay (the time from entry into the
   voice menu to asking for an agent), a handle time and a patience
   resampled from the fits; with ``classes="priority"`` each also drawn
   ``high`` or ``regular`` and routed by ``aging_priority`` with the bank's
   90 s head start per priority point, as :mod:`valueroute.replay` does.
6. **Compare** per interval with the log: volume (calls that asked for an
   agent), share queued, abandonment (share of queued calls that hung up),
   mean wait of served calls (zero waits included) and service level
   (calls answered within ``awt`` seconds over all calls that asked for an
   agent). The same comparison is made for a **naive baseline**: each
   predicted interval gets the figures the log shows for the same weekday
   and interval over the last ``baseline_weeks`` training weeks (pooled).

Results are :class:`BacktestResult` objects: per-interval tallies of the
prediction, each replication, the baseline and the log; :class:`KpiErrors`
per KPI; ``to_dict()`` and ``to_pandas()``.

Errors are :class:`~valueroute.errors.InvalidInputError` naming the field,
the value and what was expected; nothing is computed before the inputs are
checked.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from valueroute.calendar import WEEKDAYS, BusinessCalendar
from valueroute.datasets import (
    CallRecords,
    KaplanMeier,
    agents_on_duty,
    available_agents,
)
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.events import Event, EventKind
from valueroute.forecast import (
    ArrivalLog,
    IntervalForecast,
    day_kinds,
    fit_handle_times,
    fit_patience,
    forecast_volumes,
)
from valueroute.forecast import Model as ForecastModel
from valueroute.replay import HEAD_START_SECONDS
from valueroute.sim.scenario import Scenario
from valueroute.sim.world import World

__all__ = [
    "CLASSES",
    "KPIS",
    "MIN_CLASS_CALLS",
    "SUPPLIES",
    "BacktestResult",
    "Classes",
    "Kpi",
    "KpiErrors",
    "Roster",
    "Supply",
    "Tally",
    "read_roster_csv",
    "run_backtest",
    "tally_calls",
]

Kpi = Literal["volume", "queued_share", "abandonment", "mean_wait", "service_level"]
"""The name of a compared figure (see :data:`KPIS`)."""
KPIS: tuple[Kpi, ...] = ("volume", "queued_share", "abandonment", "mean_wait", "service_level")
"""The figures compared per interval, in report order."""

Classes = Literal["one", "priority"]
"""How waiting callers are modelled (see :func:`run_backtest`)."""
CLASSES: tuple[Classes, ...] = ("one", "priority")
"""The values of ``classes``."""
MIN_CLASS_CALLS = 30
"""Queued training calls a high-priority share or a patience estimate of one type and class
rests on at least (else the broader estimate is used; see docs/backtest.md)."""
_CLASS_NAMES = ("regular", "high")

Supply = Literal["counted", "calibrated"]
"""How an estimated supply is made (see :func:`run_backtest`)."""
SUPPLIES: tuple[Supply, ...] = ("counted", "calibrated")
"""The values of ``supply``."""

FloatArray = npt.NDArray[np.float64]

_DAY_SECONDS = 86_400.0
# Callers still waiting at midnight get an hour to be answered or to hang up.
_TAIL_SECONDS = 3_600.0
_SUPPLY_MINUTES = 30
# As in valueroute.replay: below this share of an interval with callers
# waiting, the agents serving then say nothing about the agents available.
_MIN_WAITING_SHARE = 0.1
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _fail(field_name: str, value: Any, expected: str) -> InvalidInputError:
    shown = bounded_repr(value)
    return InvalidInputError(
        f"{field_name}: got {shown} (expected {expected})", [(field_name, shown, expected)]
    )


def _as_day(value: Any, field_name: str) -> _dt.date:
    if isinstance(value, _dt.datetime) or not isinstance(value, _dt.date | str):
        raise _fail(field_name, value, "a date or an ISO date text such as '1999-03-01'")
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise _fail(field_name, value, "an ISO date text such as '1999-03-01'") from None
    return value


def _window(value: Any, field_name: str) -> tuple[_dt.date, _dt.date]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise _fail(field_name, value, "a pair (first_day, last_day) of dates, both included")
    first = _as_day(value[0], f"{field_name}[0]")
    last = _as_day(value[1], f"{field_name}[1]")
    if last < first:
        raise _fail(
            field_name,
            (first.isoformat(), last.isoformat()),
            "a last day on or after the first day (both included)",
        )
    return first, last


def _whole(value: Any, field_name: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise _fail(field_name, value, f"a whole number from {low} to {high}")
    return int(value)


# ------------------------------------------------------------------ tallies


@dataclass(frozen=True, eq=False)
class Tally:
    """Counts per day and interval from which every KPI is a ratio.

    Each array has shape ``(days, intervals)``: ``calls`` asked for an
    agent, ``queued`` of them waited (were not answered the moment they
    asked, or hung up in the queue), ``served`` were answered, ``abandoned``
    hung up in the queue, ``wait_sum`` is the summed wait of the served
    calls in seconds and ``in_time`` the calls answered within the target.
    Simulated tallies are means over replications. A KPI pooled over several
    cells is the ratio of the summed counts (:meth:`kpi`).
    """

    calls: FloatArray
    queued: FloatArray
    served: FloatArray
    abandoned: FloatArray
    wait_sum: FloatArray
    in_time: FloatArray

    def __post_init__(self) -> None:
        for name in _TALLY_FIELDS:
            values = np.array(getattr(self, name), dtype=np.float64)
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    def kpi(self, kpi: Kpi, *, axis: int | tuple[int, ...] | None = None) -> FloatArray:
        """The KPI of each cell (``axis=None``), or pooled by summing the counts over ``axis``.

        Volume is the call count (a mean per day when pooled over days is
        wanted, divide by the days); the shares and the mean wait are
        ratios, NaN where their denominator is zero. O(cells).
        """
        if kpi not in KPIS:
            raise _fail("kpi", kpi, f"one of {list(KPIS)}")

        def summed(values: FloatArray) -> FloatArray:
            result: FloatArray = values if axis is None else np.sum(values, axis=axis)
            return np.asarray(result, dtype=np.float64)

        numerator, denominator = {
            "volume": (self.calls, None),
            "queued_share": (self.queued, self.calls),
            "abandonment": (self.abandoned, self.queued),
            "mean_wait": (self.wait_sum, self.served),
            "service_level": (self.in_time, self.calls),
        }[kpi]
        top = summed(numerator)
        if denominator is None:
            return top
        bottom = summed(denominator)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)

    def select(self, days: npt.NDArray[np.bool_], intervals: slice) -> Tally:
        """The tally of some days (a boolean mask) and a slice of intervals. O(cells)."""
        return Tally(*(getattr(self, name)[days][:, intervals] for name in _TALLY_FIELDS))


_TALLY_FIELDS = ("calls", "queued", "served", "abandoned", "wait_sum", "in_time")


def _tally_arrays(
    day_index: npt.NDArray[np.int64],
    slot: npt.NDArray[np.int64],
    outcome: npt.NDArray[np.int8],
    wait: FloatArray,
    *,
    days: int,
    intervals: int,
    awt: float,
) -> Tally:
    """Tally calls by (day, slot); ``outcome`` 1 served, 2 abandoned, 0 still waiting."""
    served = outcome == 1
    abandoned = outcome == 2
    waited = np.nan_to_num(wait, nan=math.inf) > 0
    queued = abandoned | (outcome == 0) | (served & waited)
    in_time = served & (np.nan_to_num(wait, nan=math.inf) <= awt)
    flat = day_index * intervals + slot
    size = days * intervals

    def count(weights: npt.NDArray[Any]) -> FloatArray:
        result = np.bincount(flat, weights=weights.astype(np.float64), minlength=size)
        return np.asarray(result[:size].reshape(days, intervals), dtype=np.float64)

    return Tally(
        calls=count(np.ones(flat.size)),
        queued=count(queued),
        served=count(served),
        abandoned=count(abandoned),
        wait_sum=count(np.where(served, np.nan_to_num(wait), 0.0)),
        in_time=count(in_time),
    )


def tally_calls(
    calls: CallRecords,
    days: Sequence[_dt.date],
    *,
    interval_minutes: int = 60,
    awt: float = 20.0,
) -> Tally:
    """What the log shows on ``days``: the :class:`Tally` of its calls that asked for an agent.

    A call belongs to the day and interval it entered the voice menu (the
    data's own arrival). Calls that hung up in the voice menu never asked for
    an agent and are left out. O(n).
    """
    if not isinstance(calls, CallRecords):
        raise _fail("calls", type(calls).__name__, "CallRecords (valueroute.datasets)")
    width = 60.0 * _minutes(interval_minutes)
    row_of = {np.datetime64(day, "D"): row for row, day in enumerate(days)}
    rows = np.array([row_of.get(d, -1) for d in calls.day.astype("datetime64[D]")], dtype=np.int64)
    keep = (rows >= 0) & (calls.outcome != "other")
    outcome = np.where(calls.outcome[keep] == "served", 1, 2).astype(np.int8)
    slot = np.minimum(calls.arrival_seconds[keep] // width, _DAY_SECONDS // width - 1)
    return _tally_arrays(
        rows[keep],
        slot.astype(np.int64),
        outcome,
        calls.queue_wait[keep].astype(np.float64),
        days=len(days),
        intervals=int(_DAY_SECONDS // width),
        awt=awt,
    )


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or value not in (15, 30, 60):
        raise _fail("interval_minutes", value, "15, 30 or 60")
    return int(value)


# ------------------------------------------------------------------ rosters


@dataclass(frozen=True, eq=False)
class Roster:
    """Agents available for calls per interval of each predicted day.

    ``by_day`` maps a date to its counts, ``by_weekday`` a weekday key
    (``"sun"`` ... ``"sat"``) to counts for every such day, ``default``
    serves every other day; each has one count per ``interval_minutes``
    interval of the day. :meth:`for_day` picks the most specific.
    """

    interval_minutes: int
    default: tuple[int, ...] | None = None
    by_weekday: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    by_day: Mapping[_dt.date, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        minutes = _minutes(self.interval_minutes)
        per_day = int(_DAY_SECONDS // (60 * minutes))

        def counts(values: Any, where: str) -> tuple[int, ...]:
            if isinstance(values, str | bytes) or not isinstance(values, Iterable):
                raise _fail(where, values, f"{per_day} agent counts, one per {minutes} minutes")
            result = tuple(values)
            if len(result) != per_day:
                raise _fail(
                    where, f"{len(result)} counts", f"{per_day} counts, one per {minutes} minutes"
                )
            for index, count in enumerate(result):
                _whole(count, f"{where}[{index}]", 0, 100_000)
            return tuple(int(c) for c in result)

        weekdays: dict[str, tuple[int, ...]] = {}
        for key, values in dict(self.by_weekday).items():
            if key not in WEEKDAYS:
                raise _fail("by_weekday", key, f"weekday keys among {list(WEEKDAYS)}")
            weekdays[key] = counts(values, f"by_weekday[{key!r}]")
        days: dict[_dt.date, tuple[int, ...]] = {}
        for day_key, values in dict(self.by_day).items():
            date = _as_day(day_key, "by_day")
            days[date] = counts(values, f"by_day[{date.isoformat()!r}]")
        object.__setattr__(self, "interval_minutes", minutes)
        object.__setattr__(
            self, "default", None if self.default is None else counts(self.default, "default")
        )
        object.__setattr__(self, "by_weekday", weekdays)
        object.__setattr__(self, "by_day", days)

    def for_day(self, day: _dt.date) -> tuple[int, ...]:
        """The counts for ``day``: its own, else its weekday's, else the default. O(1)."""
        if day in self.by_day:
            return self.by_day[day]
        weekday = _WEEKDAY_NAMES[day.weekday()]
        if weekday in self.by_weekday:
            return self.by_weekday[weekday]
        if self.default is not None:
            return self.default
        raise _fail("roster", day.isoformat(), "counts for this day, its weekday or every day")

    def to_dict(self) -> dict[str, Any]:
        """Plain data: interval minutes and the counts by day, weekday and default."""
        return {
            "interval_minutes": self.interval_minutes,
            "default": None if self.default is None else list(self.default),
            "by_weekday": {k: list(v) for k, v in self.by_weekday.items()},
            "by_day": {k.isoformat(): list(v) for k, v in sorted(self.by_day.items())},
        }


def read_roster_csv(path: str | Path) -> Roster:
    """Read a roster: one row per interval with ``interval`` (HH:MM) and the agents.

    The agents are the ``scheduled`` column if there is one (the interval CSV
    of ``valueroute schedule``), else ``agents``. An optional ``day`` column
    holds an ISO date, a weekday key (``sun`` ... ``sat``) or nothing (every
    day). The interval length is the smallest step between interval starts
    (15, 30 or 60 minutes); an interval not listed has no agents. O(rows).
    """
    source = Path(path)
    try:
        with source.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _fail("roster", str(source), f"a readable roster CSV ({exc})") from None
    column = "scheduled" if "scheduled" in header else "agents"
    if not rows or "interval" not in header or column not in header:
        raise _fail(
            "roster",
            str(source),
            "a CSV with columns 'interval' and 'scheduled' or 'agents', and at least one row",
        )
    parsed: list[tuple[str, int, int]] = []
    for line, row in enumerate(rows, start=2):
        where = f"roster line {line}"
        text = (row.get("interval") or "").strip()
        try:
            hours, minutes = (int(part) for part in text.split(":"))
        except ValueError:
            raise _fail(f"{where} interval", text, "a time of day HH:MM") from None
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise _fail(f"{where} interval", text, "a time of day HH:MM from 00:00 to 23:59")
        agents_text = (row.get(column) or "").strip()
        try:
            agents = int(float(agents_text))
        except (ValueError, OverflowError):
            raise _fail(f"{where} {column}", agents_text, "a whole number of agents") from None
        if agents < 0 or agents != float(agents_text):
            raise _fail(f"{where} {column}", agents_text, "a whole number of agents >= 0")
        parsed.append(((row.get("day") or "").strip(), hours * 60 + minutes, agents))
    starts = sorted({start for _, start, _ in parsed})
    width = next((m for m in (60, 30, 15) if all(s % m == 0 for s in starts)), 0)
    if not width:
        raise _fail("roster", str(source), "interval starts on a grid of 15, 30 or 60 minutes")
    per_day = 1440 // width
    tables: dict[str, list[int]] = {}
    for key, start, agents in parsed:
        table = tables.setdefault(key, [-1] * per_day)
        if table[start // width] >= 0:
            label = f"{key} {start // 60:02d}:{start % 60:02d}".strip()
            raise _fail("roster", label, "each day and interval once")
        table[start // width] = agents
    for table in tables.values():
        table[:] = [max(count, 0) for count in table]
    default = tables.pop("", None)
    by_weekday = {k: v for k, v in tables.items() if k in WEEKDAYS}
    by_day: dict[_dt.date, list[int]] = {}
    for key, values in tables.items():
        if key not in WEEKDAYS:
            by_day[_as_day(key, "roster day")] = values
    return Roster(
        interval_minutes=width,
        default=None if default is None else tuple(default),
        by_weekday={k: tuple(v) for k, v in by_weekday.items()},
        by_day={k: tuple(v) for k, v in by_day.items()},
    )


def _estimated_roster(
    training: CallRecords,
    days: Sequence[_dt.date],
    *,
    weeks: int,
    regular: set[_dt.date],
) -> Roster:
    """The mean available agents per half hour over the last ``weeks`` same weekdays."""
    staff = agents_on_duty(training, interval_minutes=_SUPPLY_MINUTES)
    available = available_agents(training, interval_minutes=_SUPPLY_MINUTES)
    estimate = np.floor(np.nan_to_num(available.serving) + 0.5)
    counts = np.where(available.waiting_share >= _MIN_WAITING_SHARE, estimate, staff.counts)
    row_of = {_dt.date.fromisoformat(d): row for row, d in enumerate(staff.days)}
    by_day: dict[_dt.date, tuple[int, ...]] = {}
    for day in days:
        chosen = _supply_days(list(row_of), day, weeks=weeks, regular=regular)
        mean = np.mean([counts[row_of[d]] for d in chosen], axis=0)
        by_day[day] = tuple(int(v) for v in np.floor(mean + 0.5))
    return Roster(interval_minutes=_SUPPLY_MINUTES, by_day=by_day)


def _supply_days(
    seen: Sequence[_dt.date], day: _dt.date, *, weeks: int, regular: set[_dt.date]
) -> tuple[_dt.date, ...]:
    """The training days a predicted ``day``'s supply is estimated from: the regular days of
    its weekday in the last ``weeks`` weeks (else every such day, else every day of those
    weeks), in date order."""
    last = max(seen)
    recent = sorted(d for d in seen if (last - d).days < 7 * weeks)
    window = [d for d in recent if d.weekday() == day.weekday()]
    return tuple([d for d in window if d in regular] or window or recent)


# ------------------------------------------------------------------ simulation


@dataclass(frozen=True, eq=False)
class _Fits:
    """What the training days say about each call: delays, handle times, patience.

    With ``classes="priority"``, ``high_share[t, b]`` is the probability that
    a call of type ``t`` entering in band ``b`` is of class ``high``,
    ``patience`` holds the regular callers' estimate per type and
    ``patience_high`` the high-priority callers'; with ``"one"`` the shares
    are zero and both patience tuples are the same pooled estimates.
    """

    task_types: tuple[str, ...]
    band_hours: tuple[int, ...]
    handle_samples: tuple[tuple[FloatArray, ...], ...]
    patience: tuple[KaplanMeier, ...]
    routing_delay: FloatArray
    classes: Classes = "one"
    high_share: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    patience_high: tuple[KaplanMeier, ...] = ()
    class_model: Mapping[str, Any] | None = None


def _fit(
    training: CallRecords,
    train: tuple[_dt.date, _dt.date],
    types: tuple[str, ...],
    weeks: int,
    classes: Classes = "one",
) -> _Fits:
    first = max(train[0], train[1] - _dt.timedelta(days=7 * weeks - 1))
    window = (first, train[1] + _dt.timedelta(days=1))
    training = training.select(training.day.astype("datetime64[D]") >= np.datetime64(first, "D"))
    handle = fit_handle_times(training, train=window, family="empirical")
    patience = fit_patience(training, train=window)
    pooled = handle.samples
    samples = []
    for task_type in types:
        if task_type in handle.task_types:
            samples.append(pooled[handle.task_types.index(task_type)])
        else:
            everyone = np.concatenate([np.concatenate(row) for row in pooled])
            samples.append(tuple(everyone for _ in handle.band_hours[1:]))
    routed = training.outcome != "other"
    asked = np.where(training.queued, training.queue_entry_seconds, training.menu_exit_seconds)
    delay = (asked - training.arrival_seconds)[routed]
    delay = delay[np.isfinite(delay) & (delay >= 0)]
    pooled_patience = tuple(patience.get(t, patience["all"]) for t in types)
    fits = _Fits(
        task_types=types,
        band_hours=handle.band_hours,
        handle_samples=tuple(
            tuple(np.asarray(b, dtype=np.float64) for b in row) for row in samples
        ),
        patience=pooled_patience,
        routing_delay=delay if delay.size else np.zeros(1),
        high_share=np.zeros((len(types), len(handle.band_hours) - 1)),
        patience_high=pooled_patience,
    )
    if classes == "one":
        return fits
    return _with_classes(fits, training, (first, train[1]))


def _class_of(priority: npt.NDArray[np.int8]) -> npt.NDArray[np.bool_]:
    """``True`` for the bank's high-priority customers (priority 2), as the replay classes them."""
    return np.asarray(priority == 2)


def _with_classes(fits: _Fits, training: CallRecords, window: tuple[_dt.date, _dt.date]) -> _Fits:
    """``fits`` with the priority classes: the high share per type and band, and patience per
    class, from the queued calls of ``training`` (the fit window's days only).

    The log records a priority only for calls that queued (a call answered at
    once shows priority 0 whatever the customer), so the share is estimated
    among queued calls; whether a call queues does not depend on its class
    (the class only orders callers already waiting), so it is also the share
    among all the calls. A share (type and band) rests on at least
    :data:`MIN_CLASS_CALLS` queued calls, else the type's share over the day,
    else every type's; the same threshold chooses patience per type and class,
    else per class over every type, else the pooled estimate of the type.
    """
    queued = np.asarray(training.queued, dtype=bool)
    high = _class_of(training.priority)
    edges = np.array(fits.band_hours[1:-1], dtype=np.float64) * 3600.0
    band = np.searchsorted(edges, training.arrival_seconds, side="right")
    bands = len(fits.band_hours) - 1
    overall = float(high[queued].mean()) if queued.any() else 0.0
    share = np.zeros((len(fits.task_types), bands))
    share_source: dict[str, str] = {}
    patience_regular: list[KaplanMeier] = []
    patience_high: list[KaplanMeier] = []
    patience_source: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}

    def estimate(mask: npt.NDArray[np.bool_]) -> KaplanMeier | None:
        if int(mask.sum()) < MIN_CLASS_CALLS:
            return None
        return KaplanMeier(
            training.queue_wait[mask].astype(np.float64), training.outcome[mask] == "abandoned"
        )

    by_class = {
        "regular": estimate(queued & ~high),
        "high": estimate(queued & high),
    }
    for t, name in enumerate(fits.task_types):
        of_type = queued & (training.task_type == name)
        type_share = float(high[of_type].mean()) if of_type.sum() >= MIN_CLASS_CALLS else None
        share_source[name] = "type and band"
        for b in range(bands):
            here = of_type & (band == b)
            if here.sum() >= MIN_CLASS_CALLS:
                share[t, b] = float(high[here].mean())
            elif type_share is not None:
                share[t, b] = type_share
                share_source[name] = "type (some bands)"
            else:
                share[t, b] = overall
                share_source[name] = "every type"
        counts[name] = {
            "queued": int(of_type.sum()),
            "regular": int((of_type & ~high).sum()),
            "high": int((of_type & high).sum()),
        }
        patience_source[name] = {}
        for cls, mask, into in (
            ("regular", of_type & ~high, patience_regular),
            ("high", of_type & high, patience_high),
        ):
            own = estimate(mask)
            fallback = by_class[cls]
            if own is not None:
                into.append(own)
                patience_source[name][cls] = "type and class"
            elif fallback is not None:
                into.append(fallback)
                patience_source[name][cls] = "class, every type"
            else:
                into.append(fits.patience[t])
                patience_source[name][cls] = "type, both classes"
    model = {
        "fit_window": [window[0].isoformat(), window[1].isoformat()],
        "min_class_calls": MIN_CLASS_CALLS,
        "band_hours": list(fits.band_hours),
        "high_share": {
            name: [float(v) for v in share[t]] for t, name in enumerate(fits.task_types)
        },
        "high_share_source": share_source,
        "patience_source": patience_source,
        "queued_calls": counts,
    }
    return _Fits(
        task_types=fits.task_types,
        band_hours=fits.band_hours,
        handle_samples=fits.handle_samples,
        patience=tuple(patience_regular),
        routing_delay=fits.routing_delay,
        classes="priority",
        high_share=share,
        patience_high=tuple(patience_high),
        class_model=model,
    )


def _day_arrivals(
    volume: FloatArray, fits: _Fits, *, interval_minutes: int, rng: np.random.Generator
) -> tuple[
    FloatArray, FloatArray, npt.NDArray[np.int64], FloatArray, FloatArray, npt.NDArray[np.bool_]
]:
    """Entry times, routing times, types, handle times, patience and class (``True`` for
    ``high``) of one simulated day. With ``fits.classes == "one"`` every call is regular and
    the draws are those of a model without classes."""
    width = 60.0 * interval_minutes
    counts = rng.poisson(np.maximum(volume, 0.0))
    slot, kind = np.nonzero(counts)
    repeat = counts[slot, kind]
    slots = np.repeat(slot, repeat)
    types = np.repeat(kind, repeat).astype(np.int64)
    entry = (slots + rng.random(slots.size)) * width
    routed = entry + fits.routing_delay[rng.integers(0, fits.routing_delay.size, entry.size)]
    edges = np.array(fits.band_hours[1:-1], dtype=np.float64) * 3600.0
    band = np.searchsorted(edges, entry, side="right")
    if fits.classes == "priority":
        high = rng.random(entry.size) < fits.high_share[types, band]
    else:
        high = np.zeros(entry.size, dtype=bool)
    handle = np.empty(entry.size)
    patience = np.empty(entry.size)
    for t in range(len(fits.task_types)):
        of_type = types == t
        if not of_type.any():
            continue
        if fits.classes == "priority":
            for mask, estimate in (
                (of_type & ~high, fits.patience[t]),
                (of_type & high, fits.patience_high[t]),
            ):
                if mask.any():
                    patience[mask] = estimate.sample_beyond(rng=rng, size=int(mask.sum()))
        else:
            patience[of_type] = fits.patience[t].sample_beyond(rng=rng, size=int(of_type.sum()))
        for b, pool in enumerate(fits.handle_samples[t]):
            here = of_type & (band == b)
            if here.any():
                handle[here] = pool[rng.integers(0, pool.size, int(here.sum()))]
    return entry, routed, types, handle, patience, high


def _simulate_day(
    routed: FloatArray,
    types: npt.NDArray[np.int64],
    handle: FloatArray,
    patience: FloatArray,
    headcount: tuple[int, ...],
    *,
    roster_minutes: int,
    task_types: tuple[str, ...],
    folder: Path,
    high: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """Run one day in the simulator; per call its outcome (1 served, 2 abandoned, 0 waiting)
    and its wait (to the answer or the hang-up).

    Without ``high`` every call is served in order of arrival. With it (one
    flag per call) the calls are the task types ``regular`` and ``high``
    (priority 0 and 1) routed by ``aging_priority`` with
    :data:`~valueroute.replay.HEAD_START_SECONDS` per point, as the replay
    routes the bank's days: a high-priority caller goes before regular
    callers who have waited up to 90 s longer."""
    priorities: tuple[int, ...] | None = None
    if high is not None:
        types, task_types, priorities = high.astype(np.int64), _CLASS_NAMES, (0, 1)
    order = np.argsort(routed, kind="stable")
    trace = folder / "day.csv"
    with trace.open("w", newline="", encoding="utf-8") as handle_file:
        writer = csv.writer(handle_file, lineterminator="\n")
        writer.writerow(["time", "task_type", "handle_time", "patience"])
        for index in order.tolist():
            writer.writerow(
                [
                    repr(float(routed[index])),
                    task_types[types[index]],
                    repr(float(handle[index])),
                    "" if math.isinf(patience[index]) else repr(float(patience[index])),
                ]
            )
    horizon = _DAY_SECONDS + _TAIL_SECONDS
    per_interval = 60 * roster_minutes
    needed = math.ceil(horizon / per_interval)
    counts = list(headcount) + [headcount[-1]] * (needed - len(headcount))
    scenario = Scenario.model_validate(
        {
            "name": "backtest_day",
            "horizon_seconds": horizon,
            "interval_minutes": 60,
            "task_types": [
                {"name": name, "handle": {"kind": "exponential", "mean_seconds": 1.0}}
                | ({} if priorities is None else {"priority": priorities[index]})
                for index, name in enumerate(task_types)
            ],
            "arrivals": [{"kind": "trace", "path": str(trace)}],
            "agent_groups": [
                {"name": "agents", "headcount": counts, "interval_minutes": roster_minutes}
            ],
            "routing": {"policy": "fifo"}
            if priorities is None
            else {
                "policy": "aging_priority",
                "policy_params": {"seconds_per_point": HEAD_START_SECONDS},
            },
        }
    )
    world = World(scenario)
    created: dict[str, float] = {}
    finished: dict[str, tuple[float, int]] = {}

    def record(event: Event) -> None:
        if event.task is None:
            return
        if event.kind is EventKind.task_submitted:
            created[event.task] = event.time
        elif event.kind is EventKind.task_assigned:
            finished[event.task] = (event.time - created[event.task], 1)
        elif event.kind is EventKind.task_canceled:
            finished[event.task] = (event.time - created[event.task], 2)

    world.engine.subscribe(
        record,
        kinds=(EventKind.task_submitted, EventKind.task_assigned, EventKind.task_canceled),
    )
    world.run()
    outcome = np.zeros(routed.size, dtype=np.int8)
    wait = np.full(routed.size, math.nan)
    # The world numbers tasks 1, 2, ... in submission order, the trace's order.
    for position, index in enumerate(order.tolist(), start=1):
        done = finished.get(str(position))
        if done is not None:
            wait[index], outcome[index] = done
    return outcome, wait


# ------------------------------------------------------------------ calibrated supply

# The calibration's budget: at most this many passes of the pattern search,
# each at most four simulations of every training day (the roster as it
# stands, and each third of the half hours moved).
_CALIBRATION_PASSES = 10
# Simulations of each training day per evaluated roster (common random numbers:
# the same calls for every roster tried).
_CALIBRATION_REPLICATIONS = 1
# Keeps the calibration's random streams apart from the prediction's
# ([seed, replication, day]): a different key length is a different stream.
_CALIBRATION_STREAM = 0xCA1B


@dataclass(frozen=True, eq=False)
class _CalibrationDay:
    """One simulated training day: its calls as the model generates them, fixed for every
    roster tried."""

    entry: FloatArray
    routed: FloatArray
    types: npt.NDArray[np.int64]
    handle: FloatArray
    patience: FloatArray
    high: npt.NDArray[np.bool_]


def _routed_volumes(calls: CallRecords, day: _dt.date, task_types: tuple[str, ...]) -> FloatArray:
    """The calls of ``day`` that asked for an agent, per half hour (of their entry into the
    voice menu) and type: shape ``(48, types)``."""
    on_day = (calls.day.astype("datetime64[D]") == np.datetime64(day, "D")) & (
        calls.outcome != "other"
    )
    column = {name: index for index, name in enumerate(task_types)}
    kinds = np.array([column.get(str(t), -1) for t in calls.task_type[on_day]], dtype=np.int64)
    per_day = int(_DAY_SECONDS // (60 * _SUPPLY_MINUTES))
    slot = np.minimum(calls.arrival_seconds[on_day] // (60 * _SUPPLY_MINUTES), per_day - 1)
    known = kinds >= 0
    volume = np.zeros((per_day, max(len(task_types), 1)))
    np.add.at(volume, (slot[known].astype(np.int64), kinds[known]), 1.0)
    return volume


def _calibrated_counts(
    training: CallRecords,
    chosen: tuple[_dt.date, ...],
    start: tuple[int, ...],
    fits: _Fits,
    *,
    seed: int,
    task_types: tuple[str, ...],
    folder: Path,
) -> tuple[int, ...]:
    """Agents per half hour at which simulating the ``chosen`` training days reproduces their
    share queued and share abandoned, searched from ``start`` (the counted supply).

    The loss of half hour ``i`` is ``(q_sim - q_obs)**2 + (a_sim - a_obs)**2``
    with ``q`` the share of the calls entering in ``i`` that were queued and
    ``a`` the share that hung up in the queue, pooled over the chosen days
    (the simulated ones over their replications too); the total loss weighs
    each half hour by its observed calls. The search is a pattern search
    per half hour. Each pass simulates the roster as it stands, then three
    rosters, each moving one third of the half hours with calls (every
    third one, so no two moved half hours are neighbours) by their own step:
    up where the simulated shares (summed) are above the observed ones, too
    few agents, else down. A move is judged by the weighted loss of the half
    hour and its two neighbours (its agents also serve the callers left
    waiting from the half hour before, and its own callers left waiting are
    served by the next), and kept if that is lower, or equal for a move
    down (the least supply that fits; this also walks a count far too high
    down through the region where nobody queues). A half hour whose move is
    refused halves its step (a step of one is done); one beside a move is
    looked at again with a step of at least one; no step exceeds a quarter
    of the count (at least one), which is also the first step. The search
    stops when every step is done or after :data:`_CALIBRATION_PASSES`
    passes and returns the roster of least total loss among those simulated
    as they stood. The calls of every simulated day are drawn once (common
    random numbers), so rosters differ by their agents only, and each
    roster is simulated once. O(passes × 4 × simulated training days).
    """
    per_day = int(_DAY_SECONDS // (60 * _SUPPLY_MINUTES))
    observed = tally_calls(training, list(chosen), interval_minutes=_SUPPLY_MINUTES, awt=0.0)
    calls_obs = observed.calls.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        queued_obs = np.where(calls_obs > 0, observed.queued.sum(axis=0) / calls_obs, 0.0)
        abandoned_obs = np.where(calls_obs > 0, observed.abandoned.sum(axis=0) / calls_obs, 0.0)
    simulated_days = []
    for day in chosen:
        volume = _routed_volumes(training, day, task_types)
        for replication in range(_CALIBRATION_REPLICATIONS):
            rng = np.random.default_rng([seed, _CALIBRATION_STREAM, replication, day.toordinal()])
            simulated_days.append(
                _CalibrationDay(
                    *_day_arrivals(volume, fits, interval_minutes=_SUPPLY_MINUTES, rng=rng)
                )
            )

    known: dict[tuple[int, ...], tuple[FloatArray, FloatArray]] = {}

    def loss(counts: npt.NDArray[np.int64]) -> FloatArray:
        return simulated(counts)[0]

    def shares_gap(counts: npt.NDArray[np.int64]) -> FloatArray:
        return simulated(counts)[1]

    def simulated(counts: npt.NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
        """Per half hour the loss and the summed gap (simulated minus observed) of the two
        shares, simulated once per roster."""
        headcount = tuple(int(c) for c in counts)
        if headcount not in known:
            known[headcount] = simulated_shares(headcount)
        return known[headcount]

    def simulated_shares(headcount: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
        calls = np.zeros(per_day)
        queued = np.zeros(per_day)
        abandoned = np.zeros(per_day)
        for simulated in simulated_days:
            outcome, wait = _simulate_day(
                simulated.routed,
                simulated.types,
                simulated.handle,
                simulated.patience,
                headcount,
                roster_minutes=_SUPPLY_MINUTES,
                task_types=task_types,
                folder=folder,
                high=simulated.high if fits.classes == "priority" else None,
            )
            slot = np.minimum(simulated.entry // (60 * _SUPPLY_MINUTES), per_day - 1)
            tally = _tally_arrays(
                np.zeros(slot.size, dtype=np.int64),
                slot.astype(np.int64),
                outcome,
                wait,
                days=1,
                intervals=per_day,
                awt=0.0,
            )
            calls += tally.calls[0]
            queued += tally.queued[0]
            abandoned += tally.abandoned[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            queued_share = np.where(calls > 0, queued / np.where(calls > 0, calls, 1.0), 0.0)
            abandoned_share = np.where(calls > 0, abandoned / np.where(calls > 0, calls, 1.0), 0.0)
        queued_gap = queued_share - queued_obs
        abandoned_gap = abandoned_share - abandoned_obs
        per_slot: FloatArray = queued_gap**2 + abandoned_gap**2
        return per_slot, queued_gap + abandoned_gap

    def around(per_slot: FloatArray) -> FloatArray:
        # A half hour's agents serve its own callers and those still waiting
        # from the half hour before, and its callers still waiting are served
        # by the next: a move is judged by the loss of all three.
        weighted = calls_obs * per_slot
        result: FloatArray = weighted.copy()
        result[1:] += weighted[:-1]
        result[:-1] += weighted[1:]
        return result

    current = np.array(start, dtype=np.int64)
    active = calls_obs > 0
    step = np.where(active, np.maximum(1, np.ceil(current / 4)), 0).astype(np.int64)
    # Half hours moved together are three apart: the neighbours a move is
    # judged by are never moved with it.
    group = np.arange(per_day) % 3
    best_counts, best_total = current.copy(), math.inf
    for done in range(_CALIBRATION_PASSES + 1):
        base = loss(current)
        total = float(np.sum(calls_obs * base))
        if total < best_total:
            best_counts, best_total = current.copy(), total
        if done == _CALIBRATION_PASSES or not step.any():
            break
        chosen_loss = around(base)
        chosen_counts = current.copy()
        # Too few agents where the simulated shares are above the observed
        # ones: move up; else down (even where they are equal: the least
        # supply that fits).
        sign = np.where(shares_gap(current) > 0, 1, -1)
        for side in (0, 1, 2):
            moving = (step > 0) & (group == side)
            trial = current.copy()
            trial[moving] = np.maximum(0, current[moving] + sign[moving] * step[moving])
            moving &= trial != current
            if not moving.any():
                continue
            trial_loss = around(loss(trial))
            better = moving & (
                (trial_loss < chosen_loss) | ((trial_loss == chosen_loss) & (sign < 0))
            )
            chosen_loss[better] = trial_loss[better]
            chosen_counts[better] = trial[better]
        moved = chosen_counts != current
        step = np.where(moved, step, step // 2)
        beside_a_move = np.zeros(per_day, dtype=bool)
        beside_a_move[1:] |= moved[:-1]
        beside_a_move[:-1] |= moved[1:]
        step = np.where(active & beside_a_move, np.maximum(step, 1), step)
        current = chosen_counts
        step = np.minimum(step, np.maximum(1, np.ceil(current / 4)).astype(np.int64))
    return tuple(int(c) for c in best_counts)


def _calibrated_roster(
    training: CallRecords,
    counted: Roster,
    days: Sequence[_dt.date],
    fits: _Fits,
    *,
    weeks: int,
    regular: set[_dt.date],
    seed: int,
    task_types: tuple[str, ...],
    folder: Path,
) -> Roster:
    """The counted roster calibrated against the model (:func:`_calibrated_counts`), one
    calibration per set of training days (per weekday, as a rule)."""
    seen = [_dt.date.fromisoformat(d) for d in training.days()]
    done: dict[tuple[_dt.date, ...], tuple[int, ...]] = {}
    by_day: dict[_dt.date, tuple[int, ...]] = {}
    for day in days:
        chosen = _supply_days(seen, day, weeks=weeks, regular=regular)
        if chosen not in done:
            done[chosen] = _calibrated_counts(
                training,
                chosen,
                counted.for_day(day),
                fits,
                seed=seed,
                task_types=task_types,
                folder=folder,
            )
        by_day[day] = done[chosen]
    return Roster(interval_minutes=_SUPPLY_MINUTES, by_day=by_day)


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class KpiErrors:
    """How far one prediction (the model's or the baseline's) is from the log, for one KPI.

    ``hour_mae`` is the mean over the evaluated intervals of the day (hour of
    day, each pooled over the evaluated days) of the absolute error; shares
    are fractions (0.047 is 4.7 points), the mean wait in seconds, volume in
    calls per day. ``hour_relative`` is the same mean of absolute errors
    relative to the observed figure, and ``hours_within_15pct`` how many of
    those intervals are within ±15 % of it. ``cell_mae`` is the mean absolute
    error over every evaluated day × interval cell. ``period_predicted`` and
    ``period_observed`` pool every evaluated cell (volume: calls in all).
    Intervals where the log's denominator is zero are left out.
    """

    kpi: str
    hour_mae: float
    hour_relative: float
    hours_within_15pct: int
    hours: int
    cell_mae: float
    period_predicted: float
    period_observed: float

    @property
    def period_error(self) -> float:
        """``period_predicted - period_observed``."""
        return self.period_predicted - self.period_observed

    @property
    def period_relative(self) -> float:
        """The period error relative to the observed figure (NaN if that is zero)."""
        if self.period_observed == 0 or math.isnan(self.period_observed):
            return math.nan
        return self.period_error / self.period_observed

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with the period error and its relative size."""
        return {
            "kpi": self.kpi,
            "hour_mae": self.hour_mae,
            "hour_relative": self.hour_relative,
            "hours_within_15pct": self.hours_within_15pct,
            "hours": self.hours,
            "cell_mae": self.cell_mae,
            "period_predicted": self.period_predicted,
            "period_observed": self.period_observed,
            "period_error": self.period_error,
            "period_relative": self.period_relative,
        }


def _errors(kpi: Kpi, predicted: Tally, observed: Tally) -> KpiErrors:
    days = predicted.calls.shape[0]
    if kpi == "volume":
        hour_p = predicted.kpi(kpi, axis=0) / days
        hour_o = observed.kpi(kpi, axis=0) / days
        cell_p, cell_o = predicted.kpi(kpi), observed.kpi(kpi)
        valid_hour = np.ones(hour_o.shape, dtype=bool)
        valid_cell = np.ones(cell_o.shape, dtype=bool)
    else:
        hour_p, hour_o = predicted.kpi(kpi, axis=0), observed.kpi(kpi, axis=0)
        cell_p, cell_o = predicted.kpi(kpi), observed.kpi(kpi)
        valid_hour = np.isfinite(hour_o) & np.isfinite(hour_p)
        valid_cell = np.isfinite(cell_o) & np.isfinite(cell_p)
    gap = np.abs(hour_p - hour_o)[valid_hour]
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = gap / np.abs(hour_o[valid_hour])
    finite = relative[np.isfinite(relative)]
    return KpiErrors(
        kpi=kpi,
        hour_mae=float(gap.mean()) if gap.size else math.nan,
        hour_relative=float(finite.mean()) if finite.size else math.nan,
        hours_within_15pct=int(np.sum(finite <= 0.15)),
        hours=int(gap.size),
        cell_mae=float(np.abs(cell_p - cell_o)[valid_cell].mean())
        if valid_cell.any()
        else math.nan,
        period_predicted=float(predicted.kpi(kpi, axis=(0, 1))),
        period_observed=float(observed.kpi(kpi, axis=(0, 1))),
    )


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """A back-test: predicted, naive and observed tallies of the evaluated days and intervals.

    ``days`` are the evaluated days (the prediction window's days of the
    chosen weekdays); every :class:`Tally` has one row per evaluated day and
    one column per evaluated interval (``interval_minutes`` long, from
    ``hours[0]`` to ``hours[1]`` o'clock). ``predicted`` is the mean over
    replications, ``replication_tallies`` holds each replication's own,
    ``naive`` is the baseline and ``observed`` the log.
    ``errors`` and ``naive_errors`` map each KPI to its :class:`KpiErrors`.
    ``roster`` is the supply simulated and ``roster_source`` where it came
    from: ``"given"``, ``"estimated"`` (the counted supply) or
    ``"calibrated"``; ``counted_roster`` is the counted supply (the
    calibration's starting point), ``None`` when a roster was given.
    ``classes`` is how waiting callers were modelled; with ``"priority"``,
    ``class_model`` records what was fitted: ``high_share`` per type (one
    share per band of ``band_hours``) and where it came from
    (``high_share_source``), ``patience_source`` per type and class
    (``"type and class"``, ``"class, every type"`` or ``"type, both
    classes"``: the first estimate with at least ``min_class_calls`` queued
    calls) and ``queued_calls`` per type and class; ``None`` with ``"one"``.
    ``predicted_high`` is the part of ``predicted`` made of the simulated
    high-priority calls (the regular ones are the difference), ``None`` with
    ``"one"``.
    ``forecast`` is the volume forecast of the whole prediction window.
    """

    train: tuple[_dt.date, _dt.date]
    predict: tuple[_dt.date, _dt.date]
    days: tuple[_dt.date, ...]
    hours: tuple[int, int]
    interval_minutes: int
    replications: int
    predicted: Tally
    replication_tallies: tuple[Tally, ...]
    naive: Tally
    observed: Tally
    roster: Roster
    roster_source: Literal["given", "estimated", "calibrated"]
    forecast: IntervalForecast
    counted_roster: Roster | None = None
    classes: Classes = "one"
    class_model: Mapping[str, Any] | None = None
    predicted_high: Tally | None = None

    @property
    def errors(self) -> dict[str, KpiErrors]:
        """The model's errors, KPI by KPI."""
        return {kpi: _errors(kpi, self.predicted, self.observed) for kpi in KPIS}

    @property
    def naive_errors(self) -> dict[str, KpiErrors]:
        """The naive baseline's errors, KPI by KPI."""
        return {kpi: _errors(kpi, self.naive, self.observed) for kpi in KPIS}

    def period_interval(self, kpi: Kpi, *, level: float = 0.95) -> tuple[float, float, float]:
        """The predicted period figure of ``kpi`` and a ``level`` confidence interval for it.

        The interval is a normal approximation over the replications' own
        period figures (mean ± z × standard deviation / √replications): the
        simulation's sampling noise, not the forecast's uncertainty. Volume
        is calls over all evaluated cells. O(replications × cells).
        """
        if isinstance(level, bool) or not isinstance(level, int | float) or not 0.5 <= level < 1:
            raise _fail("level", level, "a confidence level from 0.5 to below 1")
        values = np.array([t.kpi(kpi, axis=(0, 1)) for t in self.replication_tallies])
        values = values[np.isfinite(values)]
        centre = float(self.predicted.kpi(kpi, axis=(0, 1)))
        if values.size < 2:
            return centre, math.nan, math.nan
        z = float(_normal_quantile(0.5 + level / 2))
        half = z * float(values.std(ddof=1)) / math.sqrt(values.size)
        return centre, centre - half, centre + half

    def hour_table(self) -> list[dict[str, Any]]:
        """One row per evaluated interval of the day: each KPI observed, predicted and naive,
        pooled over the evaluated days (volume per day)."""
        rows = []
        days = len(self.days)
        first = self.hours[0] * 60 // self.interval_minutes
        for offset in range(self.observed.calls.shape[1]):
            minute = (first + offset) * self.interval_minutes
            row: dict[str, Any] = {"interval": f"{minute // 60:02d}:{minute % 60:02d}"}
            for kpi in KPIS:
                for name, tally in (
                    ("observed", self.observed),
                    ("predicted", self.predicted),
                    ("naive", self.naive),
                ):
                    value = float(tally.kpi(kpi, axis=0)[offset])
                    row[f"{kpi}_{name}"] = value / days if kpi == "volume" else value
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Plain data: windows, settings, the errors of the model and the baseline, the
        interval table and the roster."""
        return {
            "train": [d.isoformat() for d in self.train],
            "predict": [d.isoformat() for d in self.predict],
            "days": [d.isoformat() for d in self.days],
            "hours": list(self.hours),
            "interval_minutes": self.interval_minutes,
            "replications": self.replications,
            "roster_source": self.roster_source,
            "classes": self.classes,
            "class_model": None if self.class_model is None else dict(self.class_model),
            "errors": {k: v.to_dict() for k, v in self.errors.items()},
            "naive_errors": {k: v.to_dict() for k, v in self.naive_errors.items()},
            "intervals": self.hour_table(),
            "roster": self.roster.to_dict(),
            "counted_roster": None
            if self.counted_roster is None
            else self.counted_roster.to_dict(),
        }

    def columns(self) -> dict[str, list[Any]]:
        """One row per evaluated day and interval: each KPI observed, predicted and naive."""
        result: dict[str, list[Any]] = {"day": [], "interval": []}
        for kpi in KPIS:
            for name in ("observed", "predicted", "naive"):
                result[f"{kpi}_{name}"] = []
        first = self.hours[0] * 60 // self.interval_minutes
        tallies = {"observed": self.observed, "predicted": self.predicted, "naive": self.naive}
        cells = {name: {kpi: t.kpi(kpi) for kpi in KPIS} for name, t in tallies.items()}
        for row, day in enumerate(self.days):
            for offset in range(self.observed.calls.shape[1]):
                minute = (first + offset) * self.interval_minutes
                result["day"].append(day.isoformat())
                result["interval"].append(f"{minute // 60:02d}:{minute % 60:02d}")
                for name in tallies:
                    for kpi in KPIS:
                        result[f"{kpi}_{name}"].append(float(cells[name][kpi][row, offset]))
        return result

    def to_pandas(self) -> Any:
        """:meth:`columns` as a pandas DataFrame; needs pandas."""
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "to_pandas: pandas is not installed (expected `pip install pandas`; "
                "columns() gives the same table as a dict of lists)"
            ) from None
        return pd.DataFrame(self.columns())


def _normal_quantile(p: float) -> float:
    # Acklam's rational approximation is more than the few digits a CI needs;
    # bisection on erf keeps this free of scipy.
    low, high = -10.0, 10.0
    for _ in range(80):
        middle = (low + high) / 2
        if 0.5 * (1 + math.erf(middle / math.sqrt(2))) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


# ------------------------------------------------------------------ the back-test


@dataclass(frozen=True, eq=False)
class _Prediction:
    tallies: tuple[Tally, ...]
    roster: Roster
    forecast: IntervalForecast
    counted: Roster | None
    class_model: Mapping[str, Any] | None
    high_tallies: tuple[Tally, ...] | None


def _weekday_set(weekdays: Any) -> frozenset[int]:
    if weekdays is None:
        return frozenset(range(7))
    if isinstance(weekdays, str | bytes) or not isinstance(weekdays, Iterable):
        raise _fail("weekdays", weekdays, f"weekday keys among {list(WEEKDAYS)}")
    chosen = list(weekdays)
    if not chosen or any(w not in WEEKDAYS for w in chosen):
        raise _fail("weekdays", chosen, f"one or more weekday keys among {list(WEEKDAYS)}")
    return frozenset(_WEEKDAY_NAMES.index(w) for w in chosen)


def _predict(
    training: CallRecords,
    *,
    train: tuple[_dt.date, _dt.date],
    days: tuple[_dt.date, ...],
    roster: Roster | None,
    model: ForecastModel,
    interval_minutes: int,
    replications: int,
    seed: int,
    awt: float,
    supply_weeks: int,
    supply: Supply,
    classes: Classes,
    fit_weeks: int,
    calendar: BusinessCalendar | None,
    holidays: Mapping[str, Any] | Iterable[_dt.date | str] | None,
    eves_like: str | None,
) -> _Prediction:
    """Everything predicted about ``days``, from ``training`` (the training days' calls) alone."""
    last_seen = np.max(training.day).astype(object)
    if days[0] <= last_seen:
        raise _fail("training", last_seen.isoformat(), f"calls before {days[0].isoformat()} only")
    arrivals = ArrivalLog.from_calls(training, routed_only=True)
    types = arrivals.task_types
    forecast = forecast_volumes(
        arrivals,
        start=days[0],
        days=(days[-1] - days[0]).days + 1,
        model=model,
        train_start=train[0],
        interval_minutes=interval_minutes,
        calendar=calendar,
        holidays=holidays,
        eves_like=eves_like,
        seed=seed,
    )
    fits = _fit(training, train, forecast.task_types, fit_weeks, classes)
    per_day = int(_DAY_SECONDS // (60 * interval_minutes))
    index_of = {d: i for i, d in enumerate(forecast.days)}
    tallies = []
    counted: Roster | None = None
    with tempfile.TemporaryDirectory(prefix="valueroute-backtest-") as scratch:
        folder = Path(scratch)
        if roster is None:
            training_days = [_dt.date.fromisoformat(d) for d in training.days()]
            kinds = day_kinds(training_days, calendar=calendar, holidays=holidays)
            regular = {d for d, k in zip(training_days, kinds, strict=True) if k == "regular"}
            counted = _estimated_roster(training, days, weeks=supply_weeks, regular=regular)
            source_roster = counted
            if supply == "calibrated":
                source_roster = _calibrated_roster(
                    training,
                    counted,
                    days,
                    fits,
                    weeks=supply_weeks,
                    regular=regular,
                    seed=seed,
                    task_types=types if types else ("all",),
                    folder=folder,
                )
        else:
            source_roster = roster
        high_tallies: list[Tally] = []
        for replication in range(replications):
            rows = []
            high_rows = []
            for day in days:
                rng = np.random.default_rng([seed, replication, day.toordinal()])
                entry, routed, kinds_, handle, patience, high = _day_arrivals(
                    forecast.volume[index_of[day]], fits, interval_minutes=interval_minutes, rng=rng
                )
                outcome, wait = _simulate_day(
                    routed,
                    kinds_,
                    handle,
                    patience,
                    source_roster.for_day(day),
                    roster_minutes=source_roster.interval_minutes,
                    task_types=types if types else ("all",),
                    folder=folder,
                    high=high if classes == "priority" else None,
                )
                slot = np.minimum(entry // (60 * interval_minutes), per_day - 1).astype(np.int64)
                rows.append(
                    _tally_arrays(
                        np.zeros(slot.size, dtype=np.int64),
                        slot,
                        outcome,
                        wait,
                        days=1,
                        intervals=per_day,
                        awt=awt,
                    )
                )
                if classes == "priority":
                    high_rows.append(
                        _tally_arrays(
                            np.zeros(int(high.sum()), dtype=np.int64),
                            slot[high],
                            outcome[high],
                            wait[high],
                            days=1,
                            intervals=per_day,
                            awt=awt,
                        )
                    )
            tallies.append(
                Tally(*(np.vstack([getattr(r, n) for r in rows]) for n in _TALLY_FIELDS))
            )
            if classes == "priority":
                high_tallies.append(
                    Tally(*(np.vstack([getattr(r, n) for r in high_rows]) for n in _TALLY_FIELDS))
                )
    return _Prediction(
        tuple(tallies),
        source_roster,
        forecast,
        counted,
        fits.class_model,
        tuple(high_tallies) if classes == "priority" else None,
    )


def _naive(
    training: CallRecords,
    days: tuple[_dt.date, ...],
    *,
    weeks: int,
    interval_minutes: int,
    awt: float,
) -> Tally:
    """The last ``weeks`` training weeks' figures of the same weekday and interval, per day."""
    seen = [_dt.date.fromisoformat(d) for d in training.days()]
    last = max(seen)
    recent = [d for d in seen if (last - d).days < 7 * weeks]
    tally = tally_calls(training, recent, interval_minutes=interval_minutes, awt=awt)
    rows = []
    for day in days:
        same = np.array([d.weekday() == day.weekday() for d in recent])
        if not same.any():
            same = np.ones(len(recent), dtype=bool)
        share = 1.0 / int(same.sum())
        rows.append([getattr(tally, n)[same].sum(axis=0) * share for n in _TALLY_FIELDS])
    return Tally(*(np.array([row[i] for row in rows]) for i in range(len(_TALLY_FIELDS))))


def run_backtest(
    calls: CallRecords,
    *,
    train: tuple[_dt.date | str, _dt.date | str],
    predict: tuple[_dt.date | str, _dt.date | str],
    roster: Roster | str | Path | None = None,
    replications: int = 5,
    seed: int = 0,
    hours: tuple[int, int] = (0, 24),
    weekdays: Iterable[str] | None = None,
    interval_minutes: int = 60,
    model: ForecastModel = "profile",
    awt: float = 20.0,
    supply_weeks: int = 4,
    supply: Supply = "counted",
    classes: Classes = "one",
    fit_weeks: int = 8,
    baseline_weeks: int = 4,
    calendar: BusinessCalendar | None = None,
    holidays: Mapping[str, Any] | Iterable[_dt.date | str] | None = None,
    eves_like: str | None = None,
) -> BacktestResult:
    """Predict the days of ``predict`` from those of ``train`` only, and score the prediction.

    ``train`` and ``predict`` are ``(first_day, last_day)``, both included;
    the training window must end before the prediction window starts and
    both must hold days of the log. The prediction is made from a copy of the
    log that holds the training days' calls and nothing else (see the module
    doc for the steps). ``roster`` is a :class:`Roster`, the path of a roster
    CSV (:func:`read_roster_csv`) or ``None`` (estimated from the last
    ``supply_weeks`` training weeks). Each predicted day is simulated
    ``replications`` times; replication ``r`` of day ``d`` draws from
    ``numpy.random.default_rng([seed, r, d.toordinal()])``. Scored are the
    prediction days whose weekday is in ``weekdays`` (keys ``"sun"`` ...
    ``"sat"``, default all) and the intervals from ``hours[0]`` to
    ``hours[1]`` o'clock. ``awt`` is the service level's target answer time.
    ``model``, ``calendar``, ``holidays`` and ``eves_like`` go to
    :func:`~valueroute.forecast.forecast_volumes`; ``holidays`` and
    ``calendar`` also keep holidays out of the estimated supply.
    ``supply`` says how the supply is estimated when no roster is given:
    ``"counted"`` (the agents the log shows serving while callers waited,
    averaged over the same weekday's last ``supply_weeks`` weeks) or
    ``"calibrated"`` (that count, adjusted per half hour until simulating
    those same training days reproduces their share queued and share
    abandoned; see docs/backtest.md). ``classes`` says how waiting callers
    are modelled: ``"one"`` (one class served in order of arrival, patience
    per service type) or ``"priority"`` (the bank's two classes: each call is
    ``high`` with the share of high-priority callers among the queued
    training calls of its type and band of the day, served with the
    replay's 90 s head start per priority point, patience per type and
    class; the calibrated supply uses the same model). The result's
    ``class_model`` records the shares and which patience estimate each type
    and class got. O(replications × simulated events ×
    log(open tasks)), plus for ``"calibrated"`` at most 41 simulations of
    each weekday's training days (the same weekday's days are calibrated
    once).
    """
    if not isinstance(calls, CallRecords):
        raise _fail("calls", type(calls).__name__, "CallRecords (valueroute.datasets)")
    train_window = _window(train, "train")
    predict_window = _window(predict, "predict")
    if predict_window[0] <= train_window[1]:
        raise _fail(
            "predict",
            (predict_window[0].isoformat(), predict_window[1].isoformat()),
            f"a window starting after the training window's last day {train_window[1]}",
        )
    replications = _whole(replications, "replications", 1, 1000)
    seed = _whole(seed, "seed", 0, 2**63 - 1)
    minutes = _minutes(interval_minutes)
    if (
        isinstance(hours, str | bytes)
        or not isinstance(hours, Sequence)
        or len(hours) != 2
        or any(isinstance(h, bool) or not isinstance(h, int) for h in hours)
        or not 0 <= hours[0] < hours[1] <= 24
    ):
        raise _fail(
            "hours", hours, "a pair (first_hour, end_hour) of whole hours, 0 <= a < b <= 24"
        )
    chosen_weekdays = _weekday_set(weekdays)
    if isinstance(awt, bool) or not isinstance(awt, int | float) or not 0 <= awt < math.inf:
        raise _fail("awt", awt, "a target answer time in seconds >= 0")
    supply_span = _whole(supply_weeks, "supply_weeks", 1, 520)
    baseline = _whole(baseline_weeks, "baseline_weeks", 1, 520)
    if not isinstance(supply, str) or supply not in SUPPLIES:
        raise _fail("supply", supply, f"one of {list(SUPPLIES)}")
    if not isinstance(classes, str) or classes not in CLASSES:
        raise _fail("classes", classes, f"one of {list(CLASSES)}")
    if isinstance(roster, str | Path):
        roster = read_roster_csv(roster)
    elif roster is not None and not isinstance(roster, Roster):
        raise _fail("roster", type(roster).__name__, "a Roster, the path of a roster CSV, or None")
    if roster is not None and supply != "counted":
        raise _fail(
            "supply",
            supply,
            "'counted' (the default) when a roster is given: a given roster is simulated as it "
            "is, only an estimated supply is calibrated",
        )
    log_day = calls.day.astype("datetime64[D]")

    def inside(window: tuple[_dt.date, _dt.date]) -> npt.NDArray[np.bool_]:
        first, last = np.datetime64(window[0], "D"), np.datetime64(window[1], "D")
        return np.asarray((log_day >= first) & (log_day <= last))

    training = calls.select(inside(train_window))
    observed_calls = calls.select(inside(predict_window))
    if len(training) == 0:
        raise _fail(
            "train", tuple(d.isoformat() for d in train_window), "days with calls in the log"
        )
    if len(observed_calls) == 0:
        raise _fail(
            "predict", tuple(d.isoformat() for d in predict_window), "days with calls in the log"
        )
    span = (predict_window[1] - predict_window[0]).days + 1
    days = tuple(
        day
        for day in (predict_window[0] + _dt.timedelta(days=i) for i in range(span))
        if day.weekday() in chosen_weekdays
    )
    if not days:
        raise _fail(
            "weekdays",
            [_WEEKDAY_NAMES[w] for w in sorted(chosen_weekdays)],
            "weekdays that occur in the predict window",
        )
    if roster is not None:
        for day in days:
            roster.for_day(day)
    prediction = _predict(
        training,
        train=train_window,
        days=days,
        roster=roster,
        model=model,
        interval_minutes=minutes,
        replications=replications,
        seed=seed,
        awt=float(awt),
        supply_weeks=supply_span,
        supply=supply,
        classes=classes,
        fit_weeks=_whole(fit_weeks, "fit_weeks", 1, 520),
        calendar=calendar,
        holidays=holidays,
        eves_like=eves_like,
    )
    naive = _naive(training, days, weeks=baseline, interval_minutes=minutes, awt=float(awt))
    observed = tally_calls(observed_calls, days, interval_minutes=minutes, awt=float(awt))
    every_day = np.ones(len(days), dtype=bool)
    window = slice(hours[0] * 60 // minutes, hours[1] * 60 // minutes)
    replication_tallies = tuple(t.select(every_day, window) for t in prediction.tallies)
    mean = Tally(
        *(np.mean([getattr(t, n) for t in replication_tallies], axis=0) for n in _TALLY_FIELDS)
    )
    predicted_high = None
    if prediction.high_tallies is not None:
        predicted_high = Tally(
            *(
                np.mean(
                    [getattr(t.select(every_day, window), n) for t in prediction.high_tallies],
                    axis=0,
                )
                for n in _TALLY_FIELDS
            )
        )
    return BacktestResult(
        train=train_window,
        predict=predict_window,
        days=days,
        hours=(int(hours[0]), int(hours[1])),
        interval_minutes=minutes,
        replications=replications,
        predicted=mean,
        replication_tallies=replication_tallies,
        naive=naive.select(every_day, window),
        observed=observed.select(every_day, window),
        roster=prediction.roster,
        roster_source="given" if roster is not None else _SOURCE_OF[supply],
        forecast=prediction.forecast,
        counted_roster=prediction.counted,
        classes=classes,
        class_model=prediction.class_model,
        predicted_high=predicted_high,
    )


_SOURCE_OF: dict[str, Literal["estimated", "calibrated"]] = {
    "counted": "estimated",
    "calibrated": "calibrated",
}
