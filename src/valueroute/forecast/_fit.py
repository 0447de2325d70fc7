"""Handle-time distributions and patience, fitted on a training period only."""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from valueroute.datasets import CallRecords, KaplanMeier, patience_observations
from valueroute.forecast._log import ArrivalLog, FloatArray, _as_date, _fail, _whole
from valueroute.sim.distributions import Empirical, Gamma, Lognormal

__all__ = ["HandleTimeFit", "fit_handle_times", "fit_patience"]


def _training(value: Any) -> tuple[_dt.date, _dt.date]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise _fail("train", value, "a pair (first day, day after the last), e.g. dates")
    first, stop = _as_date(value[0], "train[0]"), _as_date(value[1], "train[1]")
    if stop <= first:
        raise _fail("train", value, "a first day before the end day (the end is excluded)")
    return first, stop


@dataclass(frozen=True, eq=False)
class HandleTimeFit:
    """Handle-time distributions per task type and band of the day.

    Band ``b`` runs from ``band_hours[b]`` to ``band_hours[b + 1]`` o'clock.
    ``count[t, b]`` handle times of ``task_types[t]`` fell in band ``b``;
    ``mean`` and ``cv`` are their mean (seconds) and coefficient of
    variation. A band with fewer than ``min_count`` of them takes its type's
    whole-day figures, a type with fewer takes all types' (``source[t, b]``
    says which: ``"band"``, ``"type"`` or ``"all"``).
    """

    family: Literal["lognormal", "gamma", "empirical"]
    band_hours: tuple[int, ...]
    task_types: tuple[str, ...]
    count: npt.NDArray[np.int64]
    mean: FloatArray
    cv: FloatArray
    source: tuple[tuple[str, ...], ...]
    samples: tuple[tuple[FloatArray, ...], ...]

    def band_of(self, seconds: float) -> int:
        """The band holding ``seconds`` after midnight. O(log bands)."""
        hour = float(seconds) / 3600.0
        if not 0.0 <= hour < 24.0:
            raise _fail("seconds", seconds, "seconds after midnight, 0 to 86400")
        return int(np.searchsorted(np.array(self.band_hours), hour, side="right")) - 1

    def aht(self, task_type: str, *, seconds: float) -> float:
        """Mean handle time of ``task_type`` arriving ``seconds`` after midnight."""
        return float(self.mean[self._type(task_type), self.band_of(seconds)])

    def _type(self, task_type: str) -> int:
        if task_type not in self.task_types:
            raise _fail("task_type", task_type, f"one of {list(self.task_types)}")
        return self.task_types.index(task_type)

    def distribution(self, task_type: str, *, seconds: float) -> Lognormal | Gamma | Empirical:
        """The fitted distribution for ``task_type`` at ``seconds`` after midnight.

        A lognormal or gamma with the band's mean and cv, or the band's own
        handle times resampled (``family="empirical"``); a simulator
        distribution (:mod:`valueroute.sim.distributions`).
        """
        t, b = self._type(task_type), self.band_of(seconds)
        mean, cv = float(self.mean[t, b]), float(self.cv[t, b])
        if self.family == "empirical":
            return Empirical(samples_seconds=tuple(float(x) for x in self.samples[t][b]))
        if self.family == "gamma":
            return Gamma(mean_seconds=mean, cv=cv)
        return Lognormal(mean_seconds=mean, cv=cv)

    def to_pandas(self) -> Any:
        """One row per task type and band: ``task_type, band_start, band_end, count,
        mean, cv, source``. Needs pandas."""
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]

        rows = []
        for t, task_type in enumerate(self.task_types):
            for b in range(len(self.band_hours) - 1):
                rows.append(
                    {
                        "task_type": task_type,
                        "band_start": f"{self.band_hours[b]:02d}:00",
                        "band_end": f"{self.band_hours[b + 1]:02d}:00",
                        "count": int(self.count[t, b]),
                        "mean": float(self.mean[t, b]),
                        "cv": float(self.cv[t, b]),
                        "source": self.source[t][b],
                    }
                )
        return pd.DataFrame(rows)


def _moments(values: FloatArray) -> tuple[float, float]:
    mean = float(values.mean())
    cv = float(values.std(ddof=1) / mean) if values.size > 1 and mean > 0 else 1.0
    # The simulator's distributions need a positive mean and cv.
    return max(mean, 1e-3), min(max(cv, 1e-3), 1e3)


def fit_handle_times(
    source: ArrivalLog | CallRecords,
    *,
    train: tuple[_dt.date | str, _dt.date | str],
    band_hours: Iterable[int] = (0, 7, 10, 13, 16, 19, 22, 24),
    family: Literal["lognormal", "gamma", "empirical"] = "lognormal",
    min_count: int = 30,
) -> HandleTimeFit:
    """Handle-time distributions per task type and band of the day, from ``train`` only.

    ``train=(first, end)`` keeps the arrivals of days ``first`` up to but not
    including ``end``; handle times of other days are never read. A band
    is counted by the hour of the arrival. ``band_hours`` are the band edges
    in whole hours, rising from 0 to 24. O(n).
    """
    log = ArrivalLog.from_calls(source) if isinstance(source, CallRecords) else source
    if not isinstance(log, ArrivalLog):
        raise _fail("source", type(source).__name__, "an ArrivalLog or CallRecords")
    first, stop = _training(train)
    edges = tuple(band_hours) if isinstance(band_hours, Iterable) else ()
    if (
        len(edges) < 2
        or edges[0] != 0
        or edges[-1] != 24
        or any(isinstance(e, bool) or not isinstance(e, int) for e in edges)
        or any(b <= a for a, b in itertools.pairwise(edges))
    ):
        raise _fail("band_hours", band_hours, "whole hours rising from 0 to 24, e.g. (0, 12, 24)")
    if family not in ("lognormal", "gamma", "empirical"):
        raise _fail("family", family, "'lognormal', 'gamma' or 'empirical'")
    minimum = _whole(min_count, "min_count", 1, 10**9)
    part = log.between(first, stop)
    known = ~np.isnan(part.handle_time)
    if int(known.sum()) < minimum:
        raise _fail(
            "train",
            (first.isoformat(), stop.isoformat()),
            f"a period with at least {minimum} handle times (it has {int(known.sum())})",
        )
    times = part.handle_time[known]
    types_all = part.task_type[known]
    bands_all = np.searchsorted(np.array(edges), part.seconds[known] / 3600.0, side="right") - 1
    task_types = part.task_types
    width = len(edges) - 1
    count = np.zeros((len(task_types), width), dtype=np.int64)
    mean = np.zeros((len(task_types), width))
    cv = np.zeros((len(task_types), width))
    sources: list[tuple[str, ...]] = []
    samples: list[tuple[FloatArray, ...]] = []
    pooled = _moments(times)
    for t, task_type in enumerate(task_types):
        of_type = types_all == task_type
        whole = (pooled, "all", times)
        if int(of_type.sum()) >= minimum:
            whole = (_moments(times[of_type]), "type", times[of_type])
        row_sources, row_samples = [], []
        for b in range(width):
            here = of_type & (bands_all == b)
            count[t, b] = int(here.sum())
            if count[t, b] >= minimum:
                (mean[t, b], cv[t, b]), label, values = _moments(times[here]), "band", times[here]
            else:
                (mean[t, b], cv[t, b]), label, values = whole
            row_sources.append(label)
            row_samples.append(values)
        sources.append(tuple(row_sources))
        samples.append(tuple(row_samples))
    return HandleTimeFit(
        family=family,
        band_hours=tuple(int(e) for e in edges),
        task_types=task_types,
        count=count,
        mean=mean,
        cv=cv,
        source=tuple(sources),
        samples=tuple(samples),
    )


def fit_patience(
    calls: CallRecords, *, train: tuple[_dt.date | str, _dt.date | str], min_count: int = 30
) -> dict[str, KaplanMeier]:
    """Kaplan–Meier patience per task type, and ``"all"``, from the queued calls of ``train``.

    A caller who hung up in the queue shows their patience; a served caller
    only that it exceeded the wait (right-censored): see
    :class:`valueroute.datasets.KaplanMeier`. A type with fewer than
    ``min_count`` queued calls in the period is left out (use ``"all"``).
    O(n log n).
    """
    if not isinstance(calls, CallRecords):
        raise _fail("calls", type(calls).__name__, "CallRecords (valueroute.datasets)")
    first, stop = _training(train)
    minimum = _whole(min_count, "min_count", 1, 10**9)
    inside = (calls.day >= np.datetime64(first, "D")) & (calls.day < np.datetime64(stop, "D"))
    part = calls.select(inside)
    everyone = patience_observations(part)
    if everyone.wait.size < minimum:
        raise _fail(
            "train",
            (first.isoformat(), stop.isoformat()),
            f"a period with at least {minimum} queued calls (it has {everyone.wait.size})",
        )
    result = {"all": KaplanMeier(everyone.wait, everyone.abandoned)}
    for task_type in sorted({str(t) for t in part.task_type[part.queued]}):
        seen = patience_observations(part, task_type=task_type)
        if seen.wait.size >= minimum:
            result[task_type] = KaplanMeier(seen.wait, seen.abandoned)
    return result
