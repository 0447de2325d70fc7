"""The forecast: volumes per day, interval and type, and its bridges to staffing and simulation."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from valueroute.erlang import Forecast
from valueroute.forecast._log import FloatArray, _as_date, _fail

if TYPE_CHECKING:
    from valueroute.sim.arrivals import ProfileArrivals

__all__ = ["IntervalForecast"]


@dataclass(frozen=True, eq=False)
class IntervalForecast:
    """Forecast volumes per day, interval and task type, with prediction intervals.

    ``volume[d, i, t]`` is the point forecast for ``days[d]``, interval ``i``
    (starting ``i × interval_minutes`` minutes after midnight) and
    ``task_types[t]``; ``lower`` and ``upper`` bound the central ``level``
    prediction interval of the count; ``total_lower`` and ``total_upper``
    bound the count of all types together (shape ``(days, intervals)``),
    ``day_lower`` and ``day_upper`` the day's count of all types (shape
    ``(days,)``). ``aht[i, t]`` is the mean handle time in seconds fitted on the recent training
    period (NaN where the log gave none). ``kinds`` are the days' kinds.
    """

    model: str
    level: float
    interval_minutes: int
    days: tuple[_dt.date, ...]
    kinds: tuple[str, ...]
    task_types: tuple[str, ...]
    volume: FloatArray
    lower: FloatArray
    upper: FloatArray
    total_lower: FloatArray
    total_upper: FloatArray
    day_lower: FloatArray
    day_upper: FloatArray
    aht: FloatArray

    def __post_init__(self) -> None:
        names = ("volume", "lower", "upper", "total_lower", "total_upper", "day_lower", "day_upper")
        for name in (*names, "aht"):
            values = np.array(getattr(self, name), dtype=np.float64)
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    @property
    def total(self) -> FloatArray:
        """Point forecast of all types together, shape ``(days, intervals)``."""
        result: FloatArray = self.volume.sum(axis=2)
        return result

    @property
    def labels(self) -> tuple[str, ...]:
        """Interval starts as ``HH:MM``."""
        step = self.interval_minutes
        return tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, step))

    def _day_index(self, day: _dt.date | str) -> int:
        wanted = _as_date(day, "day")
        if wanted not in self.days:
            raise _fail(
                "day", wanted.isoformat(), f"a forecast day, {self.days[0]} to {self.days[-1]}"
            )
        return self.days.index(wanted)

    def _type_index(self, task_type: str) -> int:
        if task_type not in self.task_types:
            raise _fail("task_type", task_type, f"one of {list(self.task_types)}")
        return self.task_types.index(task_type)

    def _aht_of(self, day: int, task_type: str | None) -> FloatArray:
        if task_type is not None:
            result: FloatArray = self.aht[:, self._type_index(task_type)]
            return result
        weights = self.volume[day]
        known = ~np.isnan(self.aht)
        total = (weights * known).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mixed: FloatArray = (np.where(known, self.aht, 0.0) * weights).sum(axis=1) / total
        # Where nothing is forecast, the plain mean of the known types' aht.
        plain = np.nanmean(np.where(known, self.aht, np.nan), axis=1) if known.any() else mixed
        return np.where(total > 0, mixed, plain)

    def to_erlang(self, day: _dt.date | str, *, task_type: str | None = None) -> Forecast:
        """One day as a :class:`valueroute.erlang.Forecast` (labels ``HH:MM``).

        ``calls`` is the point forecast of ``task_type`` (all types together
        when ``None``) and ``aht`` its handle time (for all types, the
        forecast-weighted mean of the types' aht). What
        :func:`valueroute.erlang.staff_intervals` and
        :func:`valueroute.sim.planning.scenario_from_forecast` read. O(intervals × types).
        """
        row = self._day_index(day)
        if task_type is None:
            calls = self.total[row]
        else:
            calls = self.volume[row, :, self._type_index(task_type)]
        return Forecast(
            labels=self.labels,
            calls=np.array(calls, dtype=np.float64),
            aht=np.array(self._aht_of(row, task_type), dtype=np.float64),
        )

    def to_profiles(self, day: _dt.date | str) -> list[ProfileArrivals]:
        """One day as simulator arrival profiles, one per task type, from midnight.

        Each carries the point forecast per interval and, where fitted, the
        aht per interval (arrivals then draw exponential handle times with
        it; a type with no aht anywhere gets none, and the scenario's handle
        distribution applies). :func:`valueroute.sim.planning.write_profile_csv`
        writes them as the profile CSV ``load_profile_csv`` reads. O(intervals × types).
        """
        from valueroute.sim.arrivals import ProfileArrivals

        row = self._day_index(day)
        profiles = []
        for column, task_type in enumerate(self.task_types):
            aht = self.aht[:, column]
            known = aht[~np.isnan(aht)]
            filled = None
            if known.size:
                filled = tuple(float(a) for a in np.where(np.isnan(aht), known.mean(), aht))
            profiles.append(
                ProfileArrivals(
                    task_type=task_type,
                    interval_minutes=self.interval_minutes,
                    volumes=tuple(float(v) for v in self.volume[row, :, column]),
                    aht=filled,
                )
            )
        return profiles

    def write_forecast_csv(
        self, path: str | Path, *, day: _dt.date | str, task_type: str | None = None
    ) -> Path:
        """Write one day as the ``interval,calls,aht`` CSV of ``valueroute staff``; the path.

        :func:`valueroute.erlang.read_forecast` reads it back to
        :meth:`to_erlang`'s forecast (numbers written exactly). O(intervals).
        """
        forecast = self.to_erlang(day, task_type=task_type)
        target = Path(path)
        assert forecast.aht is not None
        lines = ["interval,calls,aht"]
        for label, calls, aht in zip(forecast.labels, forecast.calls, forecast.aht, strict=True):
            lines.append(f"{label},{float(calls)!r},{'' if math.isnan(aht) else repr(float(aht))}")
        try:
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as exc:
            raise _fail("path", str(target), f"a writable file ({exc.strerror})") from None
        return target

    def to_pandas(self, *, total: bool = False) -> Any:
        """A long DataFrame: one row per day, interval and task type (or all types).

        Columns ``day``, ``kind``, ``interval_start``, ``task_type``,
        ``volume``, ``lower``, ``upper``, ``aht``. With ``total=True`` one row
        per day and interval, ``task_type`` ``"all"``. Needs pandas.
        """
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]

        days, intervals, types = self.volume.shape
        labels = np.array(self.labels)
        if total:
            aht = np.stack([self._aht_of(d, None) for d in range(days)])
            return pd.DataFrame(
                {
                    "day": np.repeat(np.array(self.days, dtype="datetime64[D]"), intervals),
                    "kind": np.repeat(np.array(self.kinds), intervals),
                    "interval_start": np.tile(labels, days),
                    "task_type": "all",
                    "volume": self.total.ravel(),
                    "lower": self.total_lower.ravel(),
                    "upper": self.total_upper.ravel(),
                    "aht": aht.ravel(),
                }
            )
        return pd.DataFrame(
            {
                "day": np.repeat(np.array(self.days, dtype="datetime64[D]"), intervals * types),
                "kind": np.repeat(np.array(self.kinds), intervals * types),
                "interval_start": np.tile(np.repeat(labels, types), days),
                "task_type": np.tile(np.array(self.task_types), days * intervals),
                "volume": self.volume.ravel(),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
                "aht": np.tile(self.aht.ravel(), days),
            }
        )
