"""Forecasting: synthetic logs with a known profile and trend, interval coverage over many
seeds, holidays and eves, training-only fitting, the bridges to Erlang and the simulator,
and bad input."""

from __future__ import annotations

import datetime as dt
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.calendar import BusinessCalendar
from valueroute.datasets import load_anonymous_bank, patience_observations
from valueroute.erlang import read_forecast, staff_intervals
from valueroute.errors import InvalidInputError
from valueroute.forecast import (
    ArrivalLog,
    IntervalForecast,
    day_kinds,
    fit_handle_times,
    fit_patience,
    forecast_volumes,
    read_arrivals_csv,
)
from valueroute.sim.arrivals import load_profile_csv
from valueroute.sim.distributions import Lognormal
from valueroute.sim.planning import scenario_from_forecast, write_profile_csv

# A day shaped like a contact centre's: quiet at night, two peaks by day.
HOURS = np.arange(24)
SHAPE = np.exp(-(((HOURS - 10.5) / 2.5) ** 2)) + 0.8 * np.exp(-(((HOURS - 15.5) / 3.0) ** 2))
SHARES = (SHAPE + 0.01) / (SHAPE + 0.01).sum()
WEEKDAY_FACTOR = np.array([1.0, 0.95, 0.9, 0.95, 0.5, 0.2, 1.1])  # Monday first
TYPE_SHARES = {"billing": 0.7, "sales": 0.3}
FIRST = dt.date(2025, 1, 5)  # a Sunday


def expected_counts(day: dt.date, *, level: float, trend: float) -> np.ndarray:
    """The generating model's expected arrivals per hour of ``day``."""
    weeks = (day - FIRST).days / 7.0
    total = level * math.exp(trend * weeks) * WEEKDAY_FACTOR[day.weekday()]
    result: np.ndarray = total * SHARES
    return result


def synthetic_log(
    rng: np.random.Generator,
    *,
    days: int,
    level: float = 1500.0,
    trend: float = 0.0,
    day_sigma: float = 0.0,
    factors: dict[dt.date, float] | None = None,
) -> ArrivalLog:
    """Poisson arrivals from the known model, with lognormal day-to-day variation."""
    stamps_day, stamps_seconds, types, handles = [], [], [], []
    names = list(TYPE_SHARES)
    probabilities = list(TYPE_SHARES.values())
    for offset in range(days):
        day = FIRST + dt.timedelta(days=offset)
        mean = expected_counts(day, level=level, trend=trend) * (factors or {}).get(day, 1.0)
        noise = math.exp(day_sigma * rng.standard_normal()) if day_sigma else 1.0
        counts = rng.poisson(mean * noise)
        for hour, count in enumerate(counts.tolist()):
            stamps_day += [day] * count
            stamps_seconds.append(hour * 3600 + rng.uniform(0, 3600, count))
            types += rng.choice(names, size=count, p=probabilities).tolist()
            handles.append(rng.lognormal(math.log(200), 0.5, count))
    return ArrivalLog(
        day=np.array(stamps_day, dtype="datetime64[D]"),
        seconds=np.concatenate(stamps_seconds),
        task_type=np.array(types, dtype=np.str_),
        handle_time=np.concatenate(handles),
        observed_days=tuple(FIRST + dt.timedelta(days=i) for i in range(days)),
    )


# ------------------------------------------------------------------ the log


@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.floats(0, 86_399.999), st.sampled_from(["a", "b", "c"])),
        max_size=60,
    ),
    st.sampled_from([15, 30, 60]),
)
def test_counts_match_a_tally_of_each_arrival(
    arrivals: list[tuple[int, float, str]], minutes: int
) -> None:
    days = [FIRST + dt.timedelta(days=i) for i in range(10)]
    log = ArrivalLog(
        day=np.array([days[d] for d, _, _ in arrivals], dtype="datetime64[D]"),
        seconds=np.array([s for _, s, _ in arrivals], dtype=np.float64),
        task_type=np.array([t for _, _, t in arrivals], dtype=np.str_),
        handle_time=np.full(len(arrivals), np.nan),
        observed_days=tuple(days),
    )
    counts = log.counts(days[2:8], interval_minutes=minutes, task_types=["a", "b"])
    tally = np.zeros_like(counts)
    for d, seconds, task_type in arrivals:
        if 2 <= d < 8 and task_type in ("a", "b"):
            tally[d - 2, int(seconds // (60 * minutes)), ("a", "b").index(task_type)] += 1
    assert np.array_equal(counts, tally)


def test_a_csv_of_timestamps_reads_as_a_log(tmp_path: Path) -> None:
    path = tmp_path / "arrivals.csv"
    path.write_text(
        "timestamp,queue,handle\n"
        "2025-01-05 08:15:00,billing,120\n"
        "2025-01-05T08:45:30,sales,\n"
        "2025-01-07 23:59:59,billing,60.5\n"
    )
    log = read_arrivals_csv(path, type_column="queue", handle_column="handle")
    assert log.observed_days == (
        dt.date(2025, 1, 5),
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 7),
    )
    assert log.seconds.tolist() == [29_700.0, 31_530.0, 86_399.0]
    assert log.task_type.tolist() == ["billing", "sales", "billing"]
    assert np.isnan(log.handle_time[1])
    assert log.handle_time[2] == 60.5
    counts = log.counts(log.observed_days, interval_minutes=60, task_types=log.task_types)
    assert counts.sum() == 3
    assert counts[0, 8].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("timestamp\n2025-01-05 08:15\nyesterday\n", "line 3: timestamp"),
        ("when\n2025-01-05 08:15\n", "columns"),
        ("timestamp,handle\n2025-01-05 08:15,-3\n", "line 2: handle"),
        ("timestamp\n", "path"),
    ],
)
def test_a_bad_csv_names_the_line_or_column(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    handle = "handle" if "handle" in text else None
    with pytest.raises(InvalidInputError, match=field):
        read_arrivals_csv(path, handle_column=handle)


# ------------------------------------------------------ recovering the model


def test_profile_model_recovers_level_weekday_and_intraday_profile(
    rng: np.random.Generator,
) -> None:
    log = synthetic_log(rng, days=16 * 7)
    start = FIRST + dt.timedelta(weeks=16)
    forecast = forecast_volumes(log, start=start, days=7, month_position=False, seed=1)
    for row, day in enumerate(forecast.days):
        truth = expected_counts(day, level=1500.0, trend=0.0)
        predicted = forecast.total[row]
        # The day's total: level and weekday effect pooled over 16 weeks of
        # ~1,400 calls a day have a standard error well under 1 %.
        assert predicted.sum() == pytest.approx(truth.sum(), rel=0.03)
        # Each hour: its share comes from 8 days of that weekday; four
        # standard errors of a Poisson count over those days, plus the total's 3 %.
        busy = truth > 20
        tolerance = 4.0 / np.sqrt(8 * truth[busy]) + 0.03
        assert np.all(np.abs(predicted[busy] / truth[busy] - 1.0) < tolerance)
    # The type split: billing's share of the whole horizon, within 4 standard errors.
    billing = forecast.volume[:, :, forecast.task_types.index("billing")].sum()
    calls = 8 * 7 * 1400
    assert billing / forecast.total.sum() == pytest.approx(0.7, abs=4 * math.sqrt(0.21 / calls))


def test_profile_model_recovers_a_trend(rng: np.random.Generator) -> None:
    trend = 0.03  # 3 % a week
    log = synthetic_log(rng, days=16 * 7, trend=trend)
    start = FIRST + dt.timedelta(weeks=16)
    forecast = forecast_volumes(log, start=start, days=22, month_position=False, seed=1)
    first, last = forecast.total[0].sum(), forecast.total[21].sum()  # both Sundays
    slope = math.log(last / first) / 3.0
    # The ridge penalty shrinks an extrapolated slope by a few per cent on
    # purpose; the recovered slope is within a fifth of the truth.
    assert slope == pytest.approx(trend, rel=0.2)
    truth = expected_counts(forecast.days[0], level=1500.0, trend=trend).sum()
    assert first == pytest.approx(truth, rel=0.03)


def test_seasonal_naive_is_the_mean_of_the_same_weekday_over_the_last_weeks(
    rng: np.random.Generator,
) -> None:
    log = synthetic_log(rng, days=6 * 7, day_sigma=0.1)
    start = FIRST + dt.timedelta(weeks=6)
    forecast = forecast_volumes(log, start=start, days=7, model="seasonal_naive", weeks=3)
    for row, day in enumerate(forecast.days):
        same = [day - dt.timedelta(weeks=k) for k in (1, 2, 3)]
        oracle = log.counts(same, interval_minutes=60, task_types=forecast.task_types)
        assert np.allclose(forecast.volume[row], oracle.mean(axis=0))


@pytest.mark.parametrize("model", ["profile", "holt_winters"])
def test_prediction_intervals_cover_at_their_nominal_rate_over_many_seeds(model: str) -> None:
    level, inside, total, days_inside, days_total = 0.8, 0, 0, 0, 0
    seeds = 24 if model == "profile" else 12  # Holt-Winters fits are slower
    for seed in range(seeds):
        generator = np.random.default_rng(1000 + seed)
        log = synthetic_log(generator, days=14 * 7, level=800.0, day_sigma=0.08)
        start = FIRST + dt.timedelta(weeks=14)
        forecast = forecast_volumes(
            log, start=start, days=7, model=model, draws=1000, seed=seed, level=level
        )
        # The days forecast, drawn from the same process (the log is not extended).
        for row, day in enumerate(forecast.days):
            noise = math.exp(0.08 * generator.standard_normal())
            actual = generator.poisson(expected_counts(day, level=800.0, trend=0.0) * noise)
            busy = slice(7, 21)
            hit = (actual >= forecast.total_lower[row]) & (actual <= forecast.total_upper[row])
            inside += int(hit[busy].sum())
            total += hit[busy].size
            days_inside += int(forecast.day_lower[row] <= actual.sum() <= forecast.day_upper[row])
            days_total += 1
    coverage = inside / total
    # Hours of one day share its level, so the effective sample is nearer
    # the 168 days than the 2,352 hours; 0.75-0.85 is about 3 standard errors.
    assert 0.75 <= coverage <= 0.85, coverage
    # The day's total: one draw per day, 84 to 168 days; about 3 standard errors.
    day_coverage = days_inside / days_total
    assert 0.68 <= day_coverage <= 0.92, day_coverage


def test_same_seed_same_forecast_and_the_point_forecast_needs_no_seed(
    rng: np.random.Generator,
) -> None:
    log = synthetic_log(rng, days=8 * 7)
    start = FIRST + dt.timedelta(weeks=8)
    first = forecast_volumes(log, start=start, days=3, seed=5)
    again = forecast_volumes(log, start=start, days=3, seed=5)
    other = forecast_volumes(log, start=start, days=3, seed=6)
    assert np.array_equal(first.upper, again.upper)
    assert np.array_equal(first.lower, again.lower)
    assert np.array_equal(first.volume, other.volume)
    assert not np.array_equal(first.total_upper, other.total_upper)
    assert np.all(first.total_lower <= first.total_upper)


def test_nothing_on_or_after_the_start_enters_the_forecast(rng: np.random.Generator) -> None:
    log = synthetic_log(rng, days=10 * 7)
    start = FIRST + dt.timedelta(weeks=8)
    cut = log.between(FIRST, start)
    doubled = ArrivalLog(
        day=np.concatenate([log.day, log.day[log.day >= np.datetime64(start)]]),
        seconds=np.concatenate([log.seconds, log.seconds[log.day >= np.datetime64(start)]]),
        task_type=np.concatenate([log.task_type, log.task_type[log.day >= np.datetime64(start)]]),
        handle_time=np.concatenate(
            [log.handle_time, 5 * log.handle_time[log.day >= np.datetime64(start)]]
        ),
        observed_days=log.observed_days,
    )
    for model in ("seasonal_naive", "profile", "holt_winters"):
        reference = forecast_volumes(cut, start=start, days=14, model=model)  # type: ignore[arg-type]
        for source in (log, doubled):
            other = forecast_volumes(source, start=start, days=14, model=model)  # type: ignore[arg-type]
            for name in ("volume", "lower", "upper", "total_upper", "aht"):
                assert np.array_equal(
                    getattr(reference, name), getattr(other, name), equal_nan=True
                ), (model, name)


# ----------------------------------------------------------- holidays, eves


def test_israeli_holidays_and_eves_of_1999() -> None:
    days = [dt.date(1999, 3, 31), dt.date(1999, 4, 1), dt.date(1999, 4, 4), dt.date(1999, 4, 11)]
    assert day_kinds(days, holidays={"country": "IL"}) == ("eve", "holiday", "minor", "regular")
    bank = BusinessCalendar(
        timezone="Asia/Jerusalem",
        hours={d: [("07:00", "24:00")] for d in ("sun", "mon", "tue", "wed", "thu")},
        holidays={"country": "IL"},
    )
    # The calendar closes on public holidays and Fridays; eves and minor days stay open.
    kinds = day_kinds(
        [*days, dt.date(1999, 4, 2)],
        calendar=bank,
        holidays={"country": "IL"},
        special_days={"1999-04-11": "minor"},
    )
    assert kinds == ("eve", "closed", "minor", "minor", "closed")


def test_a_holiday_is_forecast_as_the_mean_of_the_training_holidays(
    rng: np.random.Generator,
) -> None:
    past = [FIRST + dt.timedelta(days=d) for d in (10, 24, 38)]  # Wednesday, Wednesday, Wednesday
    coming = FIRST + dt.timedelta(days=8 * 7 + 2)  # a Tuesday
    log = synthetic_log(rng, days=8 * 7, factors=dict.fromkeys(past, 0.2))
    forecast = forecast_volumes(
        log, start=FIRST + dt.timedelta(weeks=8), days=7, holidays=[*past, coming]
    )
    row = forecast.days.index(coming)
    assert forecast.kinds[row] == "holiday"
    assert forecast.kinds[row - 1] == "eve"
    oracle = log.counts(past, interval_minutes=60, task_types=forecast.task_types).mean(axis=0)
    assert np.allclose(forecast.volume[row], oracle)


def test_a_closed_day_without_precedent_has_no_arrivals_and_an_eve_looks_like_eves_like(
    rng: np.random.Generator,
) -> None:
    log = synthetic_log(rng, days=8 * 7)
    start = FIRST + dt.timedelta(weeks=8)
    holiday = start + dt.timedelta(days=3)  # a Wednesday
    calendar = BusinessCalendar(timezone="UTC", hours="24/7", holidays=[holiday])
    forecast = forecast_volumes(
        log, start=start, days=7, calendar=calendar, holidays=[holiday], eves_like="fri"
    )
    closed, eve = forecast.days.index(holiday), forecast.days.index(holiday) - 1
    assert forecast.kinds[closed] == "closed"
    assert forecast.kinds[eve] == "eve"
    assert forecast.volume[closed].sum() == 0
    assert forecast.total_upper[closed].sum() == 0
    friday = next(i for i, d in enumerate(forecast.days) if d.weekday() == 4)
    shape = forecast.total[eve] / forecast.total[eve].sum()
    assert np.allclose(shape, forecast.total[friday] / forecast.total[friday].sum())


# ------------------------------------------------- handle times and patience


def test_handle_time_means_per_band_are_recovered_from_the_training_period_only(
    rng: np.random.Generator,
) -> None:
    log = synthetic_log(rng, days=4 * 7)
    longer = np.where(log.seconds >= 12 * 3600, 2.0, 1.0)  # afternoons take twice as long
    later = log.day >= np.datetime64(FIRST + dt.timedelta(weeks=3))
    log = ArrivalLog(
        day=log.day,
        seconds=log.seconds,
        task_type=log.task_type,
        handle_time=log.handle_time * longer * np.where(later, 10.0, 1.0),
        observed_days=log.observed_days,
    )
    fit = fit_handle_times(
        log, train=(FIRST, FIRST + dt.timedelta(weeks=3)), band_hours=(0, 12, 24)
    )
    true_mean = 200 * math.exp(0.5**2 / 2)  # the lognormal drawn in synthetic_log
    true_cv = math.sqrt(math.exp(0.25) - 1)
    for t, task_type in enumerate(fit.task_types):
        for band, factor in ((0, 1.0), (1, 2.0)):
            n = int(fit.count[t, band])
            error = 4 * true_cv * factor * true_mean / math.sqrt(n)
            assert fit.mean[t, band] == pytest.approx(factor * true_mean, abs=error)
            assert fit.cv[t, band] == pytest.approx(true_cv, rel=0.15)
            assert fit.source[t][band] == "band"
        model = fit.distribution(task_type, seconds=13 * 3600)
        assert isinstance(model, Lognormal)
        assert model.mean_seconds == fit.aht(task_type, seconds=13 * 3600)


def test_a_thin_band_takes_its_type_figures() -> None:
    log = ArrivalLog(
        day=np.array([FIRST] * 40, dtype="datetime64[D]"),
        seconds=np.array([3600.0] * 35 + [50_000.0] * 5),
        task_type=np.array(["a"] * 40),
        handle_time=np.arange(40, dtype=np.float64) + 1,
        observed_days=(FIRST,),
    )
    fit = fit_handle_times(log, train=(FIRST, FIRST + dt.timedelta(days=1)), band_hours=(0, 12, 24))
    assert fit.source == (("band", "type"),)
    assert fit.mean[0, 1] == pytest.approx(20.5)  # all 40: 1..40
    assert fit.mean[0, 0] == pytest.approx(18.0)  # the first 35


def product_limit(waits: np.ndarray, abandoned: np.ndarray) -> dict[float, float]:
    """Kaplan-Meier by its definition, one event time at a time."""
    survival, result = 1.0, {}
    for time in sorted(set(waits[abandoned].tolist())):
        at_risk = int((waits >= time).sum())
        deaths = int(((waits == time) & abandoned).sum())
        survival *= 1 - deaths / at_risk
        result[time] = survival
    return result


def test_patience_is_kaplan_meier_of_the_training_days_only() -> None:
    calls = load_anonymous_bank()
    fits = fit_patience(calls, train=("1999-05-09", "1999-05-11"))
    training = calls.select(calls.day < np.datetime64("1999-05-11"))
    for task_type in ("all", "PS"):
        seen = patience_observations(training, task_type=None if task_type == "all" else task_type)
        oracle = product_limit(seen.wait, seen.abandoned)
        estimate = fits[task_type]
        assert estimate.times.tolist() == list(oracle)
        assert np.allclose(estimate.survival_probabilities, list(oracle.values()))


# ----------------------------------------------------------- the bridges


@pytest.fixture(scope="module")
def small_forecast() -> IntervalForecast:
    log = synthetic_log(np.random.default_rng(7), days=6 * 7)
    return forecast_volumes(log, start=FIRST + dt.timedelta(weeks=6), days=2, interval_minutes=30)


def test_the_staffing_csv_reads_back_as_the_erlang_forecast(
    small_forecast: IntervalForecast, tmp_path: Path
) -> None:
    day = small_forecast.days[1]
    for task_type in (None, "sales"):
        expected = small_forecast.to_erlang(day, task_type=task_type)
        path = small_forecast.write_forecast_csv(tmp_path / "f.csv", day=day, task_type=task_type)
        read = read_forecast(path)
        assert read.labels == expected.labels
        assert len(read.labels) == 48
        assert np.array_equal(read.calls, expected.calls)
        assert read.aht is not None
        assert expected.aht is not None
        assert np.array_equal(read.aht, expected.aht)
    both = small_forecast.to_erlang(day)
    assert np.allclose(both.calls, small_forecast.volume[1].sum(axis=1))
    # All types' aht is the volume-weighted mean of the types' aht.
    weights = small_forecast.volume[1]
    assert both.aht is not None
    assert np.allclose(both.aht, (weights * small_forecast.aht).sum(axis=1) / weights.sum(axis=1))


def test_one_forecast_feeds_erlang_staffing_and_the_simulator(
    small_forecast: IntervalForecast, tmp_path: Path
) -> None:
    day = small_forecast.days[0]
    erlang = small_forecast.to_erlang(day, task_type="billing")
    assert erlang.aht is not None
    table = staff_intervals(erlang.calls, interval=1800, aht=erlang.aht, service_level=0.8, awt=20)
    scenario = scenario_from_forecast(erlang, staffing=table, task_type="billing")
    assert scenario.horizon_seconds == 86_400
    assert scenario.interval_minutes == 30
    profiles = small_forecast.to_profiles(day)
    assert [p.task_type for p in profiles] == ["billing", "sales"]
    assert sum(sum(p.volumes) for p in profiles) == pytest.approx(small_forecast.total[0].sum())
    path = write_profile_csv(profiles, tmp_path / "profiles.csv")
    assert load_profile_csv(path) == profiles


def test_to_pandas_gives_one_row_per_day_interval_and_type(
    small_forecast: IntervalForecast,
) -> None:
    frame = small_forecast.to_pandas()
    assert len(frame) == 2 * 48 * 2
    assert frame["volume"].sum() == pytest.approx(small_forecast.volume.sum())
    totals = small_forecast.to_pandas(total=True)
    assert len(totals) == 2 * 48
    assert set(totals["task_type"]) == {"all"}
    assert totals["upper"].tolist() == small_forecast.total_upper.ravel().tolist()


def test_the_bundled_excerpt_runs_end_to_end() -> None:
    calls = load_anonymous_bank()
    log = ArrivalLog.from_calls(calls)
    forecast = forecast_volumes(log, start="1999-05-11", days=1, holidays={"country": "IL"})
    actual = log.counts(forecast.days, interval_minutes=60, task_types=forecast.task_types)
    assert forecast.task_types == log.task_types
    # Two days of history predict the third's busy hours' total to within a fifth.
    assert forecast.total[0, 7:22].sum() == pytest.approx(actual[0, 7:22].sum(), rel=0.2)
    day = forecast.to_erlang("1999-05-11")
    assert day.aht is not None
    assert np.all(np.isfinite(day.aht[7:22]))


# ------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def plain_log() -> ArrivalLog:
    return synthetic_log(np.random.default_rng(3), days=3 * 7)


@pytest.mark.parametrize(
    ("options", "field", "shown"),
    [
        ({"model": "arima"}, "model", "'arima'"),
        ({"interval_minutes": 20}, "interval_minutes", "20"),
        ({"level": 1.0}, "level", "1.0"),
        ({"days": 0}, "days", "0"),
        ({"start": "tomorrow"}, "start", "'tomorrow'"),
        ({"train_start": "2025-03-01"}, "train_start", "'2025-03-01'"),
        ({"eves_like": "friday"}, "eves_like", "'friday'"),
        ({"draws": 5}, "draws", "5"),
        ({"holidays": {"country": "IL", "region": "x"}}, "holidays", "['region']"),
        ({"special_days": {"2025-01-27": "feast"}}, "special_days.2025-01-27", "'feast'"),
        ({"weeks": True}, "weeks", "True"),
        ({"start": "2025-01-06"}, "log", "'1 observed days"),
    ],
)
def test_bad_options_are_refused_naming_the_field_and_value(
    plain_log: ArrivalLog, options: dict[str, object], field: str, shown: str
) -> None:
    arguments: dict[str, object] = {"start": FIRST + dt.timedelta(weeks=3), "days": 7}
    arguments.update(options)
    with pytest.raises(InvalidInputError) as raised:
        forecast_volumes(plain_log, **arguments)  # type: ignore[arg-type]
    assert str(raised.value).startswith(f"{field}: got {shown}")
    assert "(expected " in str(raised.value)


def test_a_log_that_is_not_one_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^log: got 'list'"):
        forecast_volumes([], start="2025-01-01", days=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"band_hours": (0, 12, 23)}, "band_hours"),
        ({"band_hours": (0, 12, 12, 24)}, "band_hours"),
        ({"family": "weibull"}, "family"),
        ({"train": ("2025-01-10", "2025-01-05")}, "train"),
        ({"train": ("2030-01-01", "2030-02-01")}, "train"),
    ],
)
def test_bad_fitting_options_are_refused(
    plain_log: ArrivalLog, options: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"train": (FIRST, FIRST + dt.timedelta(weeks=2))}
    arguments.update(options)
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        fit_handle_times(plain_log, **arguments)  # type: ignore[arg-type]


def test_holt_winters_without_statsmodels_names_the_extra(
    plain_log: ArrivalLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "statsmodels.tsa.holtwinters", None)
    with pytest.raises(InvalidInputError, match=r"valueroute\[planning\]"):
        forecast_volumes(
            plain_log, start=FIRST + dt.timedelta(weeks=3), days=1, model="holt_winters"
        )


def test_the_guide_python_blocks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = Path(__file__).resolve().parents[1] / "docs" / "forecasting.md"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), re.S)
    assert len(blocks) >= 5
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"docs/forecasting.md#block{number}", "exec"), namespace)
    assert read_forecast(tmp_path / "forecast.csv").labels[0] == "00:00"
    assert "('eve', 'holiday', 'minor', 'regular')" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seconds": [86_400.0]}, "seconds[0]"),
        ({"seconds": [-1.0]}, "seconds[0]"),
        ({"handle_time": [-5.0]}, "handle_time[0]"),
        ({"handle_time": [np.inf]}, "handle_time[0]"),
        ({"task_type": [3]}, "task_type"),
        ({"seconds": [1.0, 2.0]}, "seconds"),
        ({"day": ["yesterday"]}, "day"),
        ({"observed_days": "2025-01-05"}, "observed_days"),
    ],
)
def test_a_log_with_bad_arrays_is_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    columns: dict[str, object] = {
        "day": np.array([FIRST], dtype="datetime64[D]"),
        "seconds": [3600.0],
        "task_type": ["a"],
        "handle_time": [np.nan],
        "observed_days": (FIRST,),
    }
    columns.update(change)
    with pytest.raises(InvalidInputError) as raised:
        ArrivalLog(**columns)  # type: ignore[arg-type]
    assert str(raised.value).startswith(f"{field}: got ")


def test_a_log_and_a_forecast_keep_their_own_read_only_arrays(
    small_forecast: IntervalForecast,
) -> None:
    seconds = np.array([3600.0, 7200.0])
    log = ArrivalLog(
        day=np.array([FIRST, FIRST], dtype="datetime64[D]"),
        seconds=seconds,
        task_type=np.array(["a", "b"]),
        handle_time=np.array([1.0, np.nan]),
        observed_days=[FIRST],
    )
    seconds[0] = 0.0
    assert log.seconds.tolist() == [3600.0, 7200.0]
    with pytest.raises(ValueError, match="read-only"):
        log.seconds[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        small_forecast.volume[0, 0, 0] = 1.0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.integers(0, 23),
            st.floats(0, 1000, allow_nan=False),
        ),
        min_size=3,
        max_size=40,
    ),
    st.integers(1, 6),
)
def test_handle_time_fit_matches_grouping_by_hand(
    rows: list[tuple[str, int, float]], min_count: int
) -> None:
    log = ArrivalLog(
        day=np.array([FIRST] * len(rows), dtype="datetime64[D]"),
        seconds=np.array([hour * 3600.0 + 1 for _, hour, _ in rows]),
        task_type=np.array([t for t, _, _ in rows]),
        handle_time=np.array([h for _, _, h in rows]),
        observed_days=(FIRST,),
    )
    edges = (0, 8, 17, 24)
    if len(rows) < min_count:
        with pytest.raises(InvalidInputError, match=r"^train"):
            fit_handle_times(log, train=(FIRST, FIRST + dt.timedelta(days=1)), min_count=min_count)
        return
    fit = fit_handle_times(
        log, train=(FIRST, FIRST + dt.timedelta(days=1)), band_hours=edges, min_count=min_count
    )
    everyone = [h for _, _, h in rows]
    for t, task_type in enumerate(fit.task_types):
        own = [h for k, _, h in rows if k == task_type]
        for b in range(3):
            here = [h for k, hour, h in rows if k == task_type and edges[b] <= hour < edges[b + 1]]
            chosen = here if len(here) >= min_count else own if len(own) >= min_count else everyone
            assert fit.count[t, b] == len(here)
            assert fit.mean[t, b] == pytest.approx(max(float(np.mean(chosen)), 1e-3))


def test_importing_the_forecast_module_loads_no_optional_package() -> None:
    code = (
        "import sys, valueroute.forecast; "
        "print([m for m in ('pandas', 'statsmodels', 'scipy', 'holidays') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


@given(
    st.sets(st.integers(0, 20), max_size=6),
    st.sets(st.integers(0, 20), max_size=6),
    st.dictionaries(st.integers(0, 20), st.sampled_from(["regular", "closed", "eve"]), max_size=3),
    st.sets(st.integers(0, 20), max_size=4),
)
def test_day_kinds_follow_their_order_of_precedence(
    public: set[int], minor: set[int], special: dict[int, str], closed: set[int]
) -> None:
    def day(offset: int) -> dt.date:
        return FIRST + dt.timedelta(days=offset)

    calendar = BusinessCalendar(timezone="UTC", hours="24/7", holidays=[day(c) for c in closed])
    kinds = day_kinds(
        [day(i) for i in range(20)],
        calendar=calendar,
        holidays={"dates": [day(p) for p in public], "minor_dates": [day(m) for m in minor]},
        special_days={day(k).isoformat(): v for k, v in special.items()},
    )
    for i, kind in enumerate(kinds):
        expected = (
            special[i]
            if i in special
            else "closed"
            if i in closed
            else "holiday"
            if i in public
            else "minor"
            if i in minor
            else "eve"
            if i + 1 in public
            else "regular"
        )
        assert kind == expected, i


def test_routed_only_keeps_the_calls_that_asked_for_an_agent() -> None:
    calls = load_anonymous_bank()
    everyone = ArrivalLog.from_calls(calls)
    routed = ArrivalLog.from_calls(calls, routed_only=True)
    assert len(everyone) == len(calls)
    assert len(routed) == int((calls.outcome != "other").sum())
    served = calls.outcome == "served"
    assert np.array_equal(np.isnan(everyone.handle_time), ~served)


def test_quarter_hours_split_each_hour_of_the_same_forecast(rng: np.random.Generator) -> None:
    log = synthetic_log(rng, days=6 * 7)
    start = FIRST + dt.timedelta(weeks=6)
    hourly = forecast_volumes(log, start=start, days=2, model="seasonal_naive")
    quarters = forecast_volumes(
        log, start=start, days=2, model="seasonal_naive", interval_minutes=15
    )
    assert quarters.volume.shape == (2, 96, 2)
    summed = quarters.volume.reshape(2, 24, 4, 2).sum(axis=2)
    assert np.allclose(summed, hourly.volume)


def test_too_little_history_for_a_model_is_refused_naming_what_to_change(
    rng: np.random.Generator,
) -> None:
    log = synthetic_log(rng, days=10)
    with pytest.raises(InvalidInputError, match=r"^log: got '10 training days'.*Holt-Winters"):
        forecast_volumes(log, start=FIRST + dt.timedelta(days=10), days=1, model="holt_winters")
    # A log without its Mondays: the seasonal naive model has no Monday to average.
    no_monday = log.between(FIRST, FIRST + dt.timedelta(days=10))
    mondays = np.array([d.weekday() == 0 for d in no_monday.day.tolist()])
    trimmed = ArrivalLog(
        day=no_monday.day[~mondays],
        seconds=no_monday.seconds[~mondays],
        task_type=no_monday.task_type[~mondays],
        handle_time=no_monday.handle_time[~mondays],
        observed_days=[d for d in no_monday.observed_days if d.weekday() != 0],
    )
    with pytest.raises(InvalidInputError, match=r"^weeks: got 2 .*regular mon"):
        forecast_volumes(
            trimmed, start=FIRST + dt.timedelta(days=15), days=1, model="seasonal_naive", weeks=2
        )


@pytest.mark.parametrize("argument", ["missing.csv.gz", "excerpt"])
def test_the_example_refuses_a_log_it_cannot_use_in_one_line(tmp_path: Path, argument: str) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    if argument == "excerpt":
        # The bundled excerpt given as the full file: no October in it.
        argument = str(Path(load_anonymous_bank.__code__.co_filename).parent / "data")
        argument += "/anonymous_bank_1999_excerpt.csv.gz"
    done = subprocess.run(
        [sys.executable, str(examples / "forecast_bank.py"), argument],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: path: ")
