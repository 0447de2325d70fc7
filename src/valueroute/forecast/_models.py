"""The forecasting models and :func:`forecast_volumes`."""

from __future__ import annotations

import datetime as _dt
import inspect
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from valueroute.calendar import WEEKDAYS, BusinessCalendar
from valueroute.forecast._fit import fit_handle_times
from valueroute.forecast._log import (
    _DAY,
    ArrivalLog,
    FloatArray,
    _as_date,
    _fail,
    _minutes,
    _whole,
    day_kinds,
)
from valueroute.forecast._result import IntervalForecast

__all__ = ["MODELS", "Model", "forecast_volumes"]

Model = Literal["seasonal_naive", "profile", "holt_winters"]
MODELS: tuple[Model, ...] = ("seasonal_naive", "profile", "holt_winters")
_MAX_DAYS = 3660
# Position in the month: the days on which a bank's month-start rush and
# month-end lull fall (salaries and statements come at the start).
_MONTH_PARTS = (1, 5, 10, 16, 23)


@dataclass(frozen=True)
class _History:
    """The training days' counts and kinds, ready for the models."""

    days: tuple[_dt.date, ...]
    kinds: tuple[str, ...]
    counts: FloatArray  # (days, intervals, types)
    start: _dt.date  # the first forecast day

    @property
    def totals(self) -> FloatArray:
        result: FloatArray = self.counts.sum(axis=(1, 2))
        return result

    def pick(self, *, kind: str, since: _dt.date | None = None, weekday: int | None = None) -> Any:
        return np.array(
            [
                i
                for i, (d, k) in enumerate(zip(self.days, self.kinds, strict=True))
                if k == kind
                and (since is None or d >= since)
                and (weekday is None or d.weekday() == weekday)
            ],
            dtype=np.int64,
        )


@dataclass(frozen=True)
class _Profile:
    """Intraday shares per weekday, type shares per interval, interval overdispersion."""

    shares: dict[int, FloatArray]  # weekday -> (intervals,)
    pooled: FloatArray  # all regular days of the window
    types: FloatArray  # (intervals, types)
    dispersion: float


def _normalised(counts: FloatArray) -> FloatArray | None:
    total = float(counts.sum())
    return None if total <= 0 else counts / total


def _type_shares(counts: FloatArray) -> FloatArray:
    """Type shares per interval (days, intervals, types) -> (intervals, types)."""
    summed = counts.sum(axis=0)
    overall = summed.sum(axis=0)
    fallback = (
        overall / overall.sum()
        if overall.sum() > 0
        else np.full(summed.shape[1], 1 / summed.shape[1])
    )
    per_interval = summed.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(per_interval > 0, summed / per_interval, fallback[None, :])
    result: FloatArray = shares
    return result


def _profile(history: _History, weeks: int) -> _Profile:
    since = history.start - _dt.timedelta(weeks=weeks)
    recent = history.pick(kind="regular", since=since)
    every = history.pick(kind="regular")
    if every.size == 0:
        raise _fail(
            "log",
            f"no regular day among {len(history.days)} training days",
            "a regular training day (not closed, a holiday, a minor holiday or an eve)",
        )
    used = recent if recent.size else every
    shares: dict[int, FloatArray] = {}
    for weekday in range(7):
        for rows in (
            history.pick(kind="regular", since=since, weekday=weekday),
            history.pick(kind="regular", weekday=weekday),
        ):
            found = _normalised(history.counts[rows].sum(axis=(0, 2))) if rows.size else None
            if found is not None:
                shares[weekday] = found
                break
    # Extra variation of interval counts around "day total × share", beyond
    # Poisson's: Var = m + φ m² (a gamma-mixed Poisson), by moments.
    excess, scale = 0.0, 0.0
    for row in used.tolist():
        day = history.counts[row].sum(axis=1)
        share = shares.get(history.days[row].weekday())
        if share is None:
            continue
        expected = day.sum() * share
        excess += float(((day - expected) ** 2 - expected).sum())
        scale += float((expected**2).sum())
    dispersion = max(0.0, excess / scale) if scale > 0 else 0.0
    pooled = _normalised(history.counts[used].sum(axis=(0, 2)))
    if pooled is None:
        raise _fail("log", "no arrivals on the regular training days", "regular days with arrivals")
    return _Profile(shares, pooled, _type_shares(history.counts[used]), dispersion)


def _design(
    days: Iterable[_dt.date], start: _dt.date, month_position: bool, weekday: int | None = None
) -> FloatArray:
    rows = []
    for day in days:
        own = day.weekday() if weekday is None else weekday
        weekdays = [1.0 if own == w else 0.0 for w in range(7)]
        parts = [0.0] * len(_MONTH_PARTS)
        if month_position:
            parts[int(np.searchsorted(_MONTH_PARTS, day.day, side="right")) - 1] = 1.0
        rows.append([1.0, (day - start).days / 7.0, *weekdays, *parts])
    return np.array(rows, dtype=np.float64).reshape(-1, 2 + 7 + len(_MONTH_PARTS))


# Ridge penalties, in units of days' weight (a day of weight 1 adds 1 to
# the diagonal per unit of its feature squared): the trend's (feature in
# weeks) shrinks a slope fitted on 16 weeks by about a twentieth and one
# fitted on a few weeks by much more; weekday effects are hardly shrunk,
# the month-position effects a little.
_PENALTY = np.array([0.0, 50.0] + [0.01] * 7 + [2.0] * len(_MONTH_PARTS))


def _log_total(totals: FloatArray) -> FloatArray:
    result: FloatArray = np.log(totals + 0.5)
    return result


def _regression(
    days: list[_dt.date], totals: FloatArray, start: _dt.date, half_life: float, month: bool
) -> FloatArray:
    design = _design(days, start, month)
    age = np.array([(start - d).days for d in days], dtype=np.float64)
    weight = np.asarray(np.power(0.5, age / (7.0 * half_life)), dtype=np.float64)
    gram = design.T @ (design * weight[:, None]) + np.diag(_PENALTY)
    solved = np.linalg.solve(gram, design.T @ (weight * _log_total(totals)))
    return np.asarray(solved, dtype=np.float64)


@dataclass(frozen=True)
class _Settings:
    model: Model
    weeks: int
    history_weeks: int
    half_life_weeks: float
    profile_weeks: int
    month_position: bool
    eves_like: int | None
    draws: int


def _regular_days(
    history: _History, settings: _Settings, origin: _dt.date
) -> tuple[list[_dt.date], FloatArray]:
    since = origin - _dt.timedelta(weeks=settings.history_weeks)
    rows = [
        i
        for i, (d, k) in enumerate(zip(history.days, history.kinds, strict=True))
        if k == "regular" and since <= d < origin
    ]
    return [history.days[i] for i in rows], history.totals[rows]


def _daily_spread(history: _History, settings: _Settings) -> float:
    """Spread of log daily totals up to a month ahead, from the training data's own errors.

    The same fit is made at origins 4, 8 and 12 weeks before the forecast
    starts, each predicting the next 4 weeks' regular days (all before the
    start); the spread is the root mean square of those errors together.
    """
    errors: list[FloatArray] = []
    for back in (4, 8, 12):
        origin = history.start - _dt.timedelta(weeks=back)
        stop = origin + _dt.timedelta(weeks=4)
        before_days, before_totals = _regular_days(history, settings, origin)
        after = [
            i
            for i, (d, k) in enumerate(zip(history.days, history.kinds, strict=True))
            if k == "regular" and origin <= d < stop
        ]
        if len(before_days) < 14 or len(after) < 8:
            continue
        beta = _regression(
            before_days, before_totals, origin, settings.half_life_weeks, settings.month_position
        )
        design = _design([history.days[i] for i in after], origin, settings.month_position)
        errors.append(_log_total(history.totals[after]) - design @ beta)
    if errors:
        return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
    days, totals = _regular_days(history, settings, history.start)
    beta = _regression(
        days, totals, history.start, settings.half_life_weeks, settings.month_position
    )
    residual = _log_total(totals) - _design(days, history.start, settings.month_position) @ beta
    # In-sample residuals understate errors a month ahead; too little history
    # for the out-of-sample check, so widen them.
    return 1.5 * float(np.sqrt(np.mean(residual**2))) if residual.size > 1 else 0.5


def _holt_winters_paths(
    history: _History, settings: _Settings, horizon: int, seed: int
) -> FloatArray:
    """Simulated log daily totals, shape (horizon, draws), by statsmodels' Holt–Winters."""
    try:
        from statsmodels.tools.sm_exceptions import (  # type: ignore[import-untyped]
            ConvergenceWarning,
        )
        from statsmodels.tsa.holtwinters import (  # type: ignore[import-untyped]
            ExponentialSmoothing,
        )
        from statsmodels.tsa.holtwinters.results import (  # type: ignore[import-untyped]
            HoltWintersResults as fitted_type,
        )
    except ImportError:
        raise _fail(
            "model",
            "holt_winters",
            'statsmodels installed for Holt-Winters: pip install "valueroute[planning]"',
        ) from None
    days, totals = _regular_days(history, settings, history.start)
    first = max(days[0], history.start - _dt.timedelta(weeks=settings.history_weeks))
    beta = _regression(
        days, totals, history.start, settings.half_life_weeks, settings.month_position
    )
    span = [first + _dt.timedelta(days=i) for i in range((history.start - first).days)]
    if len(span) < 21:
        raise _fail(
            "log",
            f"{len(span)} training days",
            "at least 3 weeks of training days for Holt-Winters",
        )
    # Days that are missing or not regular are filled with the regression's
    # fitted value, so the weekly season keeps its place.
    series = _design(span, history.start, settings.month_position) @ beta
    seen = dict(zip(days, _log_total(totals).tolist(), strict=True))
    series = np.array([seen.get(d, float(v)) for d, v in zip(span, series, strict=True)])
    # statsmodels 0.15 takes a Generator as ``rng``; 0.14 as ``random_state``.
    generator = np.random.default_rng(seed)
    keyword = (
        "rng" if "rng" in inspect.signature(fitted_type.simulate).parameters else "random_state"
    )
    random = {keyword: generator}
    with warnings.catch_warnings():
        # The optimiser's convergence notes do not invalidate the fit it returns.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = ExponentialSmoothing(
            series,
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=7,
            initialization_method="estimated",
        ).fit()
        paths = fitted.simulate(
            nsimulations=horizon,
            repetitions=settings.draws,
            error="add",
            random_errors="bootstrap",
            **random,
        )
    result: FloatArray = np.asarray(paths, dtype=np.float64).reshape(horizon, settings.draws)
    return result


def _draw_counts(
    log_days: FloatArray,
    shares: FloatArray,
    types: FloatArray,
    dispersion: float,
    rng: np.random.Generator,
) -> FloatArray:
    """Counts per draw, interval and type, given draws of the log daily total."""
    total = np.maximum(np.exp(log_days) - 0.5, 0.0)
    rate = total[:, None] * shares[None, :]
    if dispersion > 0:
        rate = rate * rng.gamma(1.0 / dispersion, dispersion, size=rate.shape)
    result: FloatArray = rng.poisson(rate[:, :, None] * types[None, :, :]).astype(np.float64)
    return result


@dataclass(frozen=True)
class _DayPlan:
    """How one forecast day is drawn: log daily totals, shares and type shares."""

    log_days: FloatArray
    point_total: float
    shares: FloatArray
    types: FloatArray
    dispersion: float


def _kind_plan(
    history: _History, kind: str, intervals: int, types: int, draws: int, rng: np.random.Generator
) -> _DayPlan | None:
    rows = history.pick(kind=kind)
    if rows.size == 0:
        if kind == "closed":
            return _DayPlan(
                np.full(draws, math.log(0.5)),
                0.0,
                np.zeros(intervals),
                np.full((intervals, types), 1.0 / types),
                0.0,
            )
        return None
    mean = history.counts[rows].mean(axis=0)
    total = float(mean.sum())
    if total <= 0:
        return _DayPlan(
            np.full(draws, math.log(0.5)),
            0.0,
            np.zeros(intervals),
            np.full((intervals, types), 1.0 / types),
            0.0,
        )
    logs = _log_total(history.totals[rows])
    spread = float(logs.std(ddof=1)) if rows.size > 1 else 0.5
    centre = math.log(total + 0.5)
    return _DayPlan(
        centre + spread * rng.standard_normal(draws),
        total,
        mean.sum(axis=1) / total,
        _type_shares(mean[None]),
        0.0,
    )


def _naive_plan(
    history: _History,
    settings: _Settings,
    weekday: int,
    profile: _Profile,
    rng: np.random.Generator,
) -> _DayPlan:
    since = history.start - _dt.timedelta(weeks=settings.weeks)
    rows = history.pick(kind="regular", since=since, weekday=weekday)
    if rows.size == 0:
        raise _fail(
            "weeks",
            settings.weeks,
            f"weeks enough to hold a regular {WEEKDAYS[weekday]} of the log before start, "
            "for the seasonal naive model",
        )
    totals = history.totals[rows]
    logs = _log_total(totals)
    spread = float(logs.std(ddof=1)) * math.sqrt(1.0 + 1.0 / rows.size) if rows.size > 1 else 0.3
    mean = float(totals.mean())
    shares = _normalised(history.counts[rows].sum(axis=(0, 2)))
    return _DayPlan(
        math.log(mean + 0.5) + spread * rng.standard_normal(settings.draws),
        mean,
        np.zeros(history.counts.shape[1]) if shares is None else shares,
        _type_shares(history.counts[rows]),
        profile.dispersion,
    )


def _share_of(profile: _Profile, weekday: int) -> FloatArray:
    # A weekday the training never saw as a regular day takes all regular days' profile.
    return profile.shares.get(weekday, profile.pooled)


def forecast_volumes(
    log: ArrivalLog,
    *,
    start: _dt.date | str,
    days: int,
    model: Model = "profile",
    train_start: _dt.date | str | None = None,
    interval_minutes: int = 60,
    weeks: int = 4,
    history_weeks: int = 26,
    half_life_weeks: float = 8.0,
    profile_weeks: int = 8,
    month_position: bool = True,
    calendar: BusinessCalendar | None = None,
    holidays: Mapping[str, Any] | Iterable[_dt.date | str] | None = None,
    special_days: Mapping[_dt.date | str, str] | None = None,
    eves_like: str | None = None,
    level: float = 0.8,
    draws: int = 2000,
    seed: int = 0,
) -> IntervalForecast:
    """Forecast ``days`` days from ``start``, interval by interval and type by type.

    Training uses the log's days from ``train_start`` (default: its first)
    up to the day before ``start``: nothing on or after ``start`` is read.

    Regular days (see :func:`day_kinds` for ``calendar``, ``holidays`` and
    ``special_days``):

    - ``"seasonal_naive"``: the mean of the same weekday's regular days over
      the last ``weeks`` weeks, interval by interval;
    - ``"profile"``: the day's total from a weighted ridge regression of log
      daily totals on level, trend (in weeks), weekday and, with
      ``month_position``, the part of the month (days 1-4, 5-9, 10-15,
      16-22, 23-31), over the regular days of the last ``history_weeks``
      weeks weighted by a half-life of ``half_life_weeks``; times the
      weekday's intraday shares over the last ``profile_weeks`` weeks (a
      weekday never seen as a regular day takes all regular days' shares);
    - ``"holt_winters"``: the day's total by damped additive Holt–Winters on
      log daily totals with a weekly season (statsmodels; days missing or
      not regular are filled with the regression's fit), times the same
      shares.

    Task types split each interval by their shares over the last
    ``profile_weeks`` weeks. A day of another kind is the mean of the
    training days of that kind; with none, a ``"closed"`` day has no
    arrivals, an ``"eve"`` is forecast as a regular ``eves_like`` weekday
    (``"fri"``: where the week ends on Friday, eves look like Fridays) or,
    without it, as a regular day, and other kinds as regular days.

    ``lower`` and ``upper`` bound the central ``level`` prediction interval,
    from ``draws`` draws (see the module doc); ``seed`` fixes them. ``aht``
    is fitted by :func:`fit_handle_times` on the training days of the last
    ``profile_weeks`` weeks (NaN when they hold fewer than 30 handle times).
    Runtime: O(n) to count the log plus O(days × draws × intervals × types)
    for the intervals.
    """
    if not isinstance(log, ArrivalLog):
        raise _fail(
            "log", type(log).__name__, "an ArrivalLog (ArrivalLog.from_calls, read_arrivals_csv)"
        )
    first_day = _as_date(start, "start")
    horizon = _whole(days, "days", 1, _MAX_DAYS)
    if model not in MODELS:
        raise _fail("model", model, f"one of {list(MODELS)}")
    minutes = _minutes(interval_minutes)
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise _fail("level", level, "a probability strictly between 0 and 1, e.g. 0.8")
    if (
        isinstance(half_life_weeks, bool)
        or not isinstance(half_life_weeks, int | float)
        or not 0.0 < half_life_weeks <= 520.0
    ):
        raise _fail("half_life_weeks", half_life_weeks, "weeks > 0 and at most 520")
    if eves_like is not None and eves_like not in WEEKDAYS:
        raise _fail("eves_like", eves_like, f"None or a weekday among {list(WEEKDAYS)}")
    settings = _Settings(
        model=model,
        weeks=_whole(weeks, "weeks", 1, 520),
        history_weeks=_whole(history_weeks, "history_weeks", 1, 520),
        half_life_weeks=float(half_life_weeks),
        profile_weeks=_whole(profile_weeks, "profile_weeks", 1, 520),
        month_position=bool(month_position),
        eves_like=None if eves_like is None else WEEKDAYS.index(eves_like),
        draws=_whole(draws, "draws", 100, 1_000_000),
    )
    seed = _whole(seed, "seed", 0, 2**63 - 1)
    origin = (
        (log.observed_days[0] if log.observed_days else first_day)
        if train_start is None
        else _as_date(train_start, "train_start")
    )
    if origin >= first_day:
        raise _fail("train_start", origin.isoformat(), f"a day before start {first_day}")
    training = log.between(origin, first_day)
    if len(training.observed_days) < 2:
        raise _fail(
            "log",
            f"{len(training.observed_days)} observed days before {first_day}",
            "at least 2 observed days of training",
        )
    task_types = training.task_types or log.task_types
    if not task_types:
        raise _fail("log", "no arrivals", "a log with at least one arrival before start")
    history = _History(
        days=training.observed_days,
        kinds=day_kinds(
            training.observed_days, calendar=calendar, holidays=holidays, special_days=special_days
        ),
        counts=training.counts(
            training.observed_days, interval_minutes=minutes, task_types=task_types
        ),
        start=first_day,
    )
    targets = tuple(first_day + _dt.timedelta(days=i) for i in range(horizon))
    kinds = day_kinds(targets, calendar=calendar, holidays=holidays, special_days=special_days)
    profile = _profile(history, settings.profile_weeks)
    rng = np.random.default_rng(seed)
    intervals, types = history.counts.shape[1], history.counts.shape[2]

    beta: FloatArray | None = None
    spread = 0.0
    if model != "seasonal_naive":
        days_used, totals_used = _regular_days(history, settings, first_day)
        if len(days_used) < 2:
            raise _fail("log", f"{len(days_used)} regular training days", "at least 2")
        beta = _regression(
            days_used, totals_used, first_day, settings.half_life_weeks, settings.month_position
        )
        spread = _daily_spread(history, settings)
    paths = (
        _holt_winters_paths(history, settings, horizon, seed) if model == "holt_winters" else None
    )

    def regular(day: _dt.date, weekday: int, step: int | None) -> _DayPlan:
        if model == "seasonal_naive":
            return _naive_plan(history, settings, weekday, profile, rng)
        assert beta is not None
        if paths is not None and step is not None:
            logs = paths[step]
            centre = float(np.median(logs))
        else:
            centre = float((_design([day], first_day, settings.month_position, weekday) @ beta)[0])
            logs = centre + spread * rng.standard_normal(settings.draws)
        return _DayPlan(
            logs,
            max(math.exp(centre) - 0.5, 0.0),
            _share_of(profile, weekday),
            profile.types,
            profile.dispersion,
        )

    volume = np.zeros((horizon, intervals, types))
    lower, upper = np.zeros_like(volume), np.zeros_like(volume)
    total_lower, total_upper = np.zeros((horizon, intervals)), np.zeros((horizon, intervals))
    day_lower, day_upper = np.zeros(horizon), np.zeros(horizon)
    low_q, high_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    for step, (day, kind) in enumerate(zip(targets, kinds, strict=True)):
        plan = None
        if kind != "regular":
            plan = _kind_plan(history, kind, intervals, types, settings.draws, rng)
            if plan is None and kind == "eve" and settings.eves_like is not None:
                plan = regular(day, settings.eves_like, None)
        if plan is None:
            plan = regular(day, day.weekday(), step)
        drawn = _draw_counts(plan.log_days, plan.shares, plan.types, plan.dispersion, rng)
        volume[step] = plan.point_total * plan.shares[:, None] * plan.types
        lower[step], upper[step] = np.quantile(drawn, [low_q, high_q], axis=0)
        total_lower[step], total_upper[step] = np.quantile(
            drawn.sum(axis=2), [low_q, high_q], axis=0
        )
        day_lower[step], day_upper[step] = np.quantile(drawn.sum(axis=(1, 2)), [low_q, high_q])
    return IntervalForecast(
        model=model,
        level=float(level),
        interval_minutes=minutes,
        days=targets,
        kinds=kinds,
        task_types=task_types,
        volume=volume,
        lower=lower,
        upper=upper,
        total_lower=total_lower,
        total_upper=total_upper,
        day_lower=day_lower,
        day_upper=day_upper,
        aht=_interval_aht(
            training.between(first_day - _dt.timedelta(weeks=settings.profile_weeks), first_day),
            task_types,
            minutes,
        ),
    )


def _interval_aht(recent: ArrivalLog, task_types: tuple[str, ...], minutes: int) -> FloatArray:
    """Mean handle time per interval and type, from the recent training weeks."""
    per_day = _DAY // (60 * minutes)
    result = np.full((per_day, len(task_types)), np.nan)
    if not recent.observed_days or int((~np.isnan(recent.handle_time)).sum()) < 30:
        return result
    first, last = recent.observed_days[0], recent.observed_days[-1]
    fit = fit_handle_times(recent, train=(first, last + _dt.timedelta(days=1)))
    for t, task_type in enumerate(task_types):
        if task_type in fit.task_types:
            for i in range(per_day):
                result[i, t] = fit.aht(task_type, seconds=i * 60.0 * minutes)
    return result
