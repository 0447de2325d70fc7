"""The predictive back-test: it recovers a known centre, leaks nothing, runs on real days,
and refuses bad windows.

The synthetic logs are made by the library's simulator from a known scenario
(arrival profile, handle times, patience, roster), written out in the
Anonymous Bank's layout, and back-tested like the bank's log. The truth the
prediction is checked against is the generating scenario's own expected
KPIs, estimated from independent days of the same scenario.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.backtest import (
    KPIS,
    BacktestResult,
    Kpi,
    Roster,
    Supply,
    Tally,
    read_roster_csv,
    run_backtest,
    tally_calls,
)
from valueroute.datasets import CallRecords, load_anonymous_bank
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.sim.scenario import Scenario
from valueroute.sim.world import World

# The generating centre: one type, calls from 08:00 to 18:00, agents on duty then.
OPEN, CLOSE = 8, 18
VOLUMES = [40, 70, 95, 100, 85, 70, 90, 100, 80, 50]  # expected calls per hour
ROSTER = [3, 5, 6, 6, 5, 4, 5, 6, 5, 3]  # agents per hour
MEAN_HANDLE = 200.0
MEAN_PATIENCE = 240.0
FIRST_DAY = dt.date(2026, 1, 4)  # a Sunday


def hourly(values: list[int]) -> list[int]:
    return [0] * OPEN + values + [0] * (24 - CLOSE)


def synthetic_calls(days: int, *, seed: int, roster: list[int] = ROSTER) -> CallRecords:
    """``days`` consecutive days of the generating centre as a call log, in one simulation."""
    scenario = Scenario.model_validate(
        {
            "name": "synthetic",
            "horizon_seconds": days * 86_400.0 + 3_600.0,
            "interval_minutes": 60,
            "seed": seed,
            "task_types": [
                {
                    "name": "PS",
                    "handle": {"kind": "exponential", "mean_seconds": MEAN_HANDLE},
                    "patience": {"kind": "exponential", "mean_seconds": MEAN_PATIENCE},
                }
            ],
            "arrivals": [
                {
                    "kind": "profile",
                    "task_type": "PS",
                    "interval_minutes": 60,
                    "volumes": hourly(VOLUMES),
                    "repeat": days,
                }
            ],
            "agent_groups": [
                {"name": "agents", "headcount": hourly(roster) * days + [0], "interval_minutes": 60}
            ],
            "routing": {"policy": "fifo"},
        }
    )
    return simulated_calls(scenario)[0]


def simulated_calls(
    scenario: Scenario, *, high_type: str | None = None
) -> tuple[CallRecords, npt.NDArray[np.bool_]]:
    """Run ``scenario``; the calls ended by its horizon as a call log (service type
    ``PS``, one line), and per call whether its task type is ``high_type``. As in
    the bank's log, the class shows (priority 2) only for calls that queued."""
    world = World(scenario)
    submitted: dict[str, tuple[float, str]] = {}
    assigned: dict[str, tuple[float, str]] = {}
    ended: dict[str, tuple[float, str]] = {}

    def record(event: Event) -> None:
        task = event.task
        if task is None:
            return
        if event.kind is EventKind.task_submitted:
            submitted[task] = (event.time, str(event.data["type"]))
        elif event.kind is EventKind.task_assigned:
            assigned[task] = (event.time, event.agent or "")
        elif event.kind is EventKind.task_completed:
            ended[task] = (event.time, "served")
        elif event.kind is EventKind.task_canceled:
            ended[task] = (event.time, "abandoned")

    world.engine.subscribe(
        record,
        kinds=(
            EventKind.task_submitted,
            EventKind.task_assigned,
            EventKind.task_completed,
            EventKind.task_canceled,
        ),
    )
    world.run()
    rows: list[tuple[int, float, float, float, str, str, bool]] = []
    for task, (arrival, task_type) in submitted.items():
        end = ended.get(task)
        if end is None:  # still waiting or in service at the horizon
            continue
        day = int(arrival // 86_400)
        if end[1] == "served":
            start, agent = assigned[task]
            wait, service = start - arrival, end[0] - start
        else:
            agent, wait, service = "", end[0] - arrival, math.nan
        rows.append(
            (day, arrival - day * 86_400, wait, service, end[1], agent, task_type == high_type)
        )
    count = len(rows)
    entries = np.array([r[1] for r in rows])
    waits = np.array([r[2] for r in rows])
    outcome = np.array([r[4] for r in rows])
    high = np.array([r[6] for r in rows], dtype=bool)
    queued = (waits > 0) | (outcome == "abandoned")
    served = outcome == "served"
    calls = CallRecords(
        day=np.datetime64(FIRST_DAY, "D") + np.array([r[0] for r in rows]),
        arrival_seconds=entries,
        menu_exit_seconds=entries,
        queue_entry_seconds=np.where(queued, entries, np.nan),
        service_start_seconds=np.where(served, entries + waits, np.nan),
        task_type=np.full(count, "PS"),
        priority=np.where(high & queued, 2, 0).astype(np.int8),
        queue_wait=np.where(queued, waits, 0.0),
        service_time=np.array([r[3] for r in rows]),
        outcome=outcome,
        queued=queued,
        agent=np.array([r[5] for r in rows]),
        vru_line=np.full(count, "AA0101"),
        call_id=np.arange(count, dtype=np.int64),
    )
    return calls, high


TRAIN_DAYS, PREDICT_DAYS, TRUTH_DAYS = 28, 7, 28
REPLICATIONS = 6
EVALUATED = (OPEN, CLOSE)
RATES: tuple[Kpi, ...] = ("queued_share", "abandonment", "mean_wait", "service_level")


@pytest.fixture(scope="module")
def synthetic() -> CallRecords:
    return synthetic_calls(TRAIN_DAYS + PREDICT_DAYS, seed=11)


@pytest.fixture(scope="module")
def truth() -> dict[Kpi, tuple[float, float]]:
    """The generating centre's expected KPI per day and a day's standard deviation,
    from days simulated independently of the back-tested log."""
    calls = synthetic_calls(TRUTH_DAYS, seed=97)
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(TRUTH_DAYS)]
    tally = tally_calls(calls, days).select(np.ones(TRUTH_DAYS, dtype=bool), slice(OPEN, CLOSE))
    result: dict[Kpi, tuple[float, float]] = {}
    for kpi in ("volume", *RATES):
        per_day = tally.kpi(kpi, axis=1)
        result[kpi] = (float(per_day.mean()), float(per_day.std(ddof=1)))
    return result


def backtest(
    calls: CallRecords,
    roster: Roster | None,
    *,
    seed: int = 0,
    supply: Supply = "counted",
    train_days: int = TRAIN_DAYS,
    predict_days: int = PREDICT_DAYS,
) -> BacktestResult:
    """The back-test predicting from day TRAIN_DAYS on, trained on the ``train_days``
    days before it."""
    last_train = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS - 1)
    return run_backtest(
        calls,
        train=(last_train - dt.timedelta(days=train_days - 1), last_train),
        predict=(last_train + dt.timedelta(days=1), last_train + dt.timedelta(days=predict_days)),
        roster=roster,
        replications=REPLICATIONS,
        seed=seed,
        hours=EVALUATED,
        supply=supply,
    )


_SOURCE = {"counted": "estimated", "calibrated": "calibrated"}


def roster_of(counts: list[int]) -> Roster:
    return Roster(interval_minutes=60, default=tuple(hourly(counts)))


def tolerance(day_sd: float) -> float:
    """Three standard errors of predicted minus true, per day's figure.

    The prediction's figure is a mean over PREDICT_DAYS × REPLICATIONS
    simulated days; the truth a mean over TRUTH_DAYS days; and the inputs the
    prediction is fitted on carry the sampling noise of TRAIN_DAYS days. The
    three are independent, so their variances add.
    """
    spread = 1 / (PREDICT_DAYS * REPLICATIONS) + 1 / TRUTH_DAYS + 1 / TRAIN_DAYS
    return 3 * day_sd * math.sqrt(spread)


def day_figure(result: BacktestResult, kpi: Kpi) -> float:
    value = float(result.predicted.kpi(kpi, axis=(0, 1)))
    return value / len(result.days) if kpi == "volume" else value


def test_the_true_roster_recovers_the_generating_kpis(
    synthetic: CallRecords, truth: dict[Kpi, tuple[float, float]]
) -> None:
    result = backtest(synthetic, roster_of(ROSTER))
    for kpi, (mean, sd) in truth.items():
        assert abs(day_figure(result, kpi) - mean) <= tolerance(sd), (kpi, mean, sd)
    # The back-test's own error (predicted minus what the log shows on the
    # predicted days) is sampling noise: the predicted week is 7 days of it.
    for kpi, (_, sd) in truth.items():
        observed = float(result.observed.kpi(kpi, axis=(0, 1)))
        observed = observed / PREDICT_DAYS if kpi == "volume" else observed
        noise = sd * math.sqrt(
            1 / PREDICT_DAYS + 1 / (PREDICT_DAYS * REPLICATIONS) + 1 / TRAIN_DAYS
        )
        assert abs(day_figure(result, kpi) - observed) <= 3 * noise, (kpi, observed)
    # The truth itself is what the profile was built to give: the expected calls per day.
    assert truth["volume"][0] == pytest.approx(sum(VOLUMES), rel=0.03)


def test_a_roster_one_agent_short_is_detected(
    synthetic: CallRecords, truth: dict[Kpi, tuple[float, float]]
) -> None:
    result = backtest(synthetic, roster_of([n - 1 for n in ROSTER]))
    for kpi in RATES:
        mean, sd = truth[kpi]
        assert abs(day_figure(result, kpi) - mean) > tolerance(sd), kpi


def test_the_estimated_supply_is_the_generating_roster_where_callers_waited(
    synthetic: CallRecords,
) -> None:
    result = backtest(synthetic, None)
    assert result.roster_source == "estimated"
    assert result.roster.interval_minutes == 30
    for day in result.days:
        counts = result.roster.for_day(day)
        half_hours = [counts[2 * hour : 2 * hour + 2] for hour in range(OPEN, CLOSE)]
        # Every half hour of the day has callers waiting in this centre, so the
        # agents serving then are the agents on duty, up to one agent of
        # rounding where a shift change falls mid-interval.
        for agents, pair in zip(ROSTER, half_hours, strict=True):
            assert all(abs(n - agents) <= 1 for n in pair), (day, agents, pair)
        exact = sum(
            n == agents for agents, pair in zip(ROSTER, half_hours, strict=True) for n in pair
        )
        assert exact >= 0.8 * 2 * len(ROSTER)


def test_the_backtest_of_a_known_centre_beats_the_naive_baseline_on_average(
    synthetic: CallRecords,
) -> None:
    # The baseline is four weeks of the same weekday: four days per predicted
    # day, where the model pools every day. Its hourly errors carry more noise.
    result = backtest(synthetic, roster_of(ROSTER))
    better = [result.errors[kpi].hour_mae < result.naive_errors[kpi].hour_mae for kpi in KPIS]
    assert sum(better) >= 4, {
        k: (result.errors[k].hour_mae, result.naive_errors[k].hour_mae) for k in KPIS
    }


# ------------------------------------------------------------------ leakage

# Two weeks of training (two of each weekday for the calibration) and two
# predicted days show a leak as the full windows would, at a fraction of the
# calibration's cost.
LEAK_WINDOWS = {"train_days": 14, "predict_days": 2}


def altered(calls: CallRecords, first_predicted: dt.date) -> CallRecords:
    """The log with every record of the predicted days changed: half the calls dropped,
    every remaining caller hanging up after a minute in the queue."""
    predicted = calls.day >= np.datetime64(first_predicted, "D")
    keep = ~predicted | (np.arange(len(calls)) % 2 == 0)
    kept = calls.select(keep)
    late = kept.day >= np.datetime64(first_predicted, "D")
    fields = kept.columns()
    fields["outcome"] = np.where(late, "abandoned", kept.outcome)
    fields["queued"] = np.where(late, True, kept.queued)
    fields["queue_wait"] = np.where(late, 60.0, kept.queue_wait)
    fields["queue_entry_seconds"] = np.where(late, kept.arrival_seconds, kept.queue_entry_seconds)
    fields["service_time"] = np.where(late, np.nan, kept.service_time)
    fields["service_start_seconds"] = np.where(late, np.nan, kept.service_start_seconds)
    fields["agent"] = np.where(late, "", kept.agent)
    return CallRecords(**fields)


@pytest.mark.parametrize("supply", ["counted", "calibrated"])
def test_nothing_of_a_predicted_day_reaches_its_prediction(
    synthetic: CallRecords, supply: Supply
) -> None:
    first_predicted = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS)
    original = backtest(synthetic, None, seed=3, supply=supply, **LEAK_WINDOWS)
    changed = backtest(
        altered(synthetic, first_predicted), None, seed=3, supply=supply, **LEAK_WINDOWS
    )
    assert original.roster_source == changed.roster_source == _SOURCE[supply]
    assert changed.observed.calls.sum() < original.observed.calls.sum()  # the log did change
    for name in ("calls", "queued", "served", "abandoned", "wait_sum", "in_time"):
        assert np.array_equal(getattr(original.predicted, name), getattr(changed.predicted, name))
        assert np.array_equal(getattr(original.naive, name), getattr(changed.naive, name))
    assert original.roster.to_dict() == changed.roster.to_dict()
    assert np.array_equal(original.forecast.volume, changed.forecast.volume)


# ------------------------------------------------------------------ the bundled excerpt


def test_the_bundled_excerpt_runs_end_to_end() -> None:
    calls = load_anonymous_bank()
    result = run_backtest(
        calls,
        train=("1999-05-09", "1999-05-10"),
        predict=("1999-05-11", "1999-05-11"),
        hours=(7, 22),
        replications=2,
    )
    assert result.days == (dt.date(1999, 5, 11),)
    # The observed tally is the log's own count of calls that asked for an agent.
    tuesday = calls.select(calls.day == np.datetime64("1999-05-11"))
    asked = (tuesday.outcome != "other") & (tuesday.arrival_seconds >= 7 * 3600)
    asked &= tuesday.arrival_seconds < 22 * 3600
    assert result.observed.calls.sum() == int(asked.sum())
    abandoned = asked & (tuesday.outcome == "abandoned")
    assert result.observed.abandoned.sum() == int(abandoned.sum())
    # Predictions are of the size of the day: a busy day of a centre that lost calls.
    assert 0.7 < result.predicted.calls.sum() / result.observed.calls.sum() < 1.3
    assert 0.0 < result.errors["abandonment"].period_predicted < 1.0
    frame = result.to_pandas()
    assert len(frame) == 15
    assert set(result.to_dict()["errors"]) == set(KPIS)
    with pytest.raises(InvalidInputError, match="level"):
        result.period_interval("abandonment", level=2)
    centre, low, high = result.period_interval("abandonment")
    assert low <= centre <= high
    assert centre == pytest.approx(result.errors["abandonment"].period_predicted)


# ------------------------------------------------------------------ the naive baseline


def test_the_naive_baseline_pools_the_same_weekday_of_the_last_weeks(
    synthetic: CallRecords,
) -> None:
    result = backtest(synthetic, roster_of(ROSTER))
    last_train = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS - 1)
    day = result.days[2]
    same = [day - dt.timedelta(days=7 * k) for k in range(1, 5)]
    assert all(FIRST_DAY <= d <= last_train for d in same)
    pooled = tally_calls(synthetic, same).select(np.ones(4, dtype=bool), slice(OPEN, CLOSE))
    assert result.naive.calls[2] == pytest.approx(pooled.calls.sum(axis=0) / 4)
    assert np.allclose(
        result.naive.kpi("abandonment")[2], pooled.kpi("abandonment", axis=0), equal_nan=True
    )


def test_a_tally_pools_ratios_of_sums() -> None:
    tally = Tally(
        calls=np.array([[10.0, 0.0]]),
        queued=np.array([[4.0, 0.0]]),
        served=np.array([[8.0, 0.0]]),
        abandoned=np.array([[2.0, 0.0]]),
        wait_sum=np.array([[80.0, 0.0]]),
        in_time=np.array([[5.0, 0.0]]),
    )
    assert tally.kpi("abandonment")[0, 0] == 0.5
    assert math.isnan(tally.kpi("abandonment")[0, 1])
    assert tally.kpi("mean_wait", axis=(0, 1)) == 10.0
    assert tally.kpi("service_level", axis=(0, 1)) == 0.5
    with pytest.raises(InvalidInputError, match="kpi"):
        tally.kpi("speed")  # type: ignore[arg-type]


# ------------------------------------------------------------------ rosters


def test_a_roster_csv_from_the_scheduler_reads_its_scheduled_column(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("interval,calls,agents,scheduled\n08:00,40,4,5\n08:15,50,5,6\n08:30,60,6,6\n")
    roster = read_roster_csv(path)
    assert roster.interval_minutes == 15
    counts = roster.for_day(dt.date(2026, 1, 5))
    assert counts[32:35] == (5, 6, 6)
    assert sum(counts) == 17


def test_a_roster_csv_by_weekday_and_date(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("day,interval,agents\nsun,08:00,3\n2026-01-05,09:00,7\n,10:00,2\n")
    roster = read_roster_csv(path)
    assert roster.interval_minutes == 60
    assert roster.for_day(dt.date(2026, 1, 4))[8] == 3  # a Sunday
    assert roster.for_day(dt.date(2026, 1, 5))[9] == 7
    assert roster.for_day(dt.date(2026, 1, 6))[10] == 2  # the default


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("interval,agents\n08:00,-1\n", "agents"),
        ("interval,agents\n8h,3\n", "interval"),
        ("interval,agents\n08:00,2.5\n", "agents"),
        ("interval,agents\n08:00,inf\n", "agents"),
        ("interval,agents\n08:00,2\n08:00,3\n", "once"),
        ("interval,agents\n08:10,2\n", "grid"),
        ("time,agents\n08:00,2\n", "columns"),
        ("day,interval,agents\nfunday,08:00,2\n", "roster day"),
    ],
)
def test_a_bad_roster_csv_is_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=match):
        read_roster_csv(path)


def test_a_roster_without_the_predicted_days_is_refused_before_simulating(
    synthetic: CallRecords,
) -> None:
    roster = Roster(interval_minutes=60, by_weekday={"mon": tuple(hourly(ROSTER))})
    with pytest.raises(InvalidInputError, match="roster"):
        backtest(synthetic, roster)


# ------------------------------------------------------------------ hostile windows


@pytest.mark.parametrize(
    ("train", "predict", "match"),
    [
        (("1999-05-09", "1999-05-11"), ("1999-05-11", "1999-05-11"), "predict"),
        (("1999-05-10", "1999-05-11"), ("1999-05-09", "1999-05-09"), "predict"),
        (("1999-05-10", "1999-05-09"), ("1999-05-11", "1999-05-11"), "train"),
        (("1999-04-01", "1999-04-30"), ("1999-05-11", "1999-05-11"), "train"),
        (("1999-05-09", "1999-05-10"), ("1999-06-01", "1999-06-02"), "predict"),
        (("1999-05-09",), ("1999-05-11", "1999-05-11"), "train"),
        (("1999-05-09", "10 May"), ("1999-05-11", "1999-05-11"), r"train\[1\]"),
        ("1999-05-09", ("1999-05-11", "1999-05-11"), "train"),
    ],
)
def test_bad_windows_are_refused(train: object, predict: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        run_backtest(load_anonymous_bank(), train=train, predict=predict)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"replications": 0}, "replications"),
        ({"replications": True}, "replications"),
        ({"seed": -1}, "seed"),
        ({"hours": (22, 7)}, "hours"),
        ({"hours": (7, 25)}, "hours"),
        ({"weekdays": ["funday"]}, "weekdays"),
        ({"weekdays": ["fri"]}, "weekdays"),
        ({"interval_minutes": 45}, "interval_minutes"),
        ({"awt": -1}, "awt"),
        ({"roster": 5}, "roster"),
        ({"supply": "guess"}, "supply"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match) as caught:
        run_backtest(
            load_anonymous_bank(),
            train=("1999-05-09", "1999-05-10"),
            predict=("1999-05-11", "1999-05-11"),
            **options,  # type: ignore[arg-type]
        )
    assert "expected" in str(caught.value)


def test_calls_that_are_not_a_call_log_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="calls"):
        run_backtest([], train=("1999-05-09", "1999-05-10"), predict=("1999-05-11", "1999-05-11"))  # type: ignore[arg-type]


# ------------------------------------------------------------------ tallies against an oracle

_CALL = st.tuples(
    st.integers(min_value=0, max_value=2),  # day
    st.floats(min_value=0, max_value=86_399.9),  # entry into the voice menu
    st.sampled_from(["served", "abandoned", "other"]),
    st.sampled_from([0.0, 5.0, 20.0, 20.5, 300.0]),  # queue wait
)


@given(calls=st.lists(_CALL, max_size=40), minutes=st.sampled_from([15, 30, 60]))
def test_a_tally_counts_what_a_call_by_call_reading_counts(
    calls: list[tuple[int, float, str, float]], minutes: int
) -> None:
    count = len(calls)
    log = CallRecords(
        day=np.datetime64("1999-05-09", "D") + np.array([c[0] for c in calls], dtype=np.int64),
        arrival_seconds=np.array([c[1] for c in calls], dtype=np.float64),
        menu_exit_seconds=np.array([c[1] for c in calls], dtype=np.float64),
        queue_entry_seconds=np.array([c[1] for c in calls], dtype=np.float64),
        service_start_seconds=np.full(count, np.nan),
        task_type=np.full(count, "PS"),
        priority=np.zeros(count, dtype=np.int8),
        queue_wait=np.array([c[3] for c in calls], dtype=np.float64),
        service_time=np.full(count, 60.0),
        outcome=np.array([c[2] for c in calls], dtype=np.str_),
        queued=np.ones(count, dtype=bool),
        agent=np.full(count, "x"),
        vru_line=np.full(count, "AA0101"),
        call_id=np.arange(count, dtype=np.int64),
    )
    days = [dt.date(1999, 5, 9), dt.date(1999, 5, 11)]  # the 10th is not tallied
    tally = tally_calls(log, days, interval_minutes=minutes, awt=20.0)
    expected = {name: np.zeros_like(tally.calls) for name in ("calls", "queued", "served")}
    expected |= {name: np.zeros_like(tally.calls) for name in ("abandoned", "wait_sum", "in_time")}
    for day, seconds, outcome, wait in calls:
        if day == 1 or outcome == "other":
            continue
        cell = (0 if day == 0 else 1, int(seconds // (60 * minutes)))
        expected["calls"][cell] += 1
        if outcome == "abandoned":
            expected["abandoned"][cell] += 1
            expected["queued"][cell] += 1
        else:
            expected["served"][cell] += 1
            expected["wait_sum"][cell] += wait
            expected["queued"][cell] += wait > 0
            expected["in_time"][cell] += wait <= 20.0
    for name, values in expected.items():
        assert np.array_equal(getattr(tally, name), values), name


def test_days_between_the_windows_are_read_neither(synthetic: CallRecords) -> None:
    last_train = FIRST_DAY + dt.timedelta(days=20)
    first_predicted = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS)

    def run(calls: CallRecords) -> BacktestResult:
        return run_backtest(
            calls,
            train=(FIRST_DAY, last_train),
            predict=(first_predicted, first_predicted + dt.timedelta(days=6)),
            replications=1,
            hours=EVALUATED,
        )

    gap = (synthetic.day > np.datetime64(last_train, "D")) & (
        synthetic.day < np.datetime64(first_predicted, "D")
    )
    original, without_gap = run(synthetic), run(synthetic.select(~gap))
    assert gap.any()
    assert len(original.days) == 7
    assert np.array_equal(original.predicted.calls, without_gap.predicted.calls)
    assert np.array_equal(original.predicted.wait_sum, without_gap.predicted.wait_sum)
    assert np.array_equal(original.naive.calls, without_gap.naive.calls)


def test_the_schedulers_interval_table_is_a_roster() -> None:
    plan = Path(__file__).resolve().parents[1] / "examples" / "schedule_plan.csv"
    rows = list(csv.DictReader(io.StringIO(plan.read_text())))
    roster = read_roster_csv(plan)
    assert roster.interval_minutes == 15
    counts = roster.for_day(dt.date(2026, 1, 5))
    for row in rows:
        hours, minutes = (int(part) for part in row["interval"].split(":"))
        assert counts[(hours * 60 + minutes) // 15] == int(row["scheduled"])
    assert sum(counts) == sum(int(row["scheduled"]) for row in rows)
